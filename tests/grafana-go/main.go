// Command grafana-check reads one QueryData exchange as the plugin protocol
// carries it and prints, as JSON, what Grafana's server makes of it: each
// refId's status, error and errorSource as Grafana's /api/ds/query answers
// them, the frames as the Go plugin SDK decodes them, and every violation of
// the data-plane contract (check.go).
//
// Input on stdin: a 4-byte big-endian length and the QueryDataRequest
// protobuf, then a 4-byte big-endian length and the QueryDataResponse
// protobuf. Output on stdout: a Report. Exit status 0 whenever a report is
// printed (violations included); 2 when the input itself is unreadable.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/protobuf/proto"
)

func main() {
	dsQuery := len(os.Args) == 2 && os.Args[1] == "--ds-query"
	if len(os.Args) > 1 && !dsQuery {
		fmt.Fprintln(os.Stderr, "usage: grafana-check [--ds-query] < (length-prefixed QueryDataRequest, length-prefixed QueryDataResponse)")
		os.Exit(2)
	}
	if dsQuery {
		// The body of Grafana's /api/ds/query for this answer, as its server writes it.
		body, err := dsQueryBody(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "grafana-check:", err)
			os.Exit(2)
		}
		os.Stdout.Write(body)
		return
	}
	report, err := run(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grafana-check:", err)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(report); err != nil {
		fmt.Fprintln(os.Stderr, "grafana-check: writing the report:", err)
		os.Exit(2)
	}
}

func run(in io.Reader) (Report, error) {
	var req pluginv2.QueryDataRequest
	if err := readMessage(in, "QueryDataRequest", &req); err != nil {
		return Report{}, err
	}
	var res pluginv2.QueryDataResponse
	if err := readMessage(in, "QueryDataResponse", &res); err != nil {
		return Report{}, err
	}
	return Check(&req, &res), nil
}

// dsQueryBody decodes the response with Grafana's SDK and writes it as
// Grafana's /api/ds/query answers the browser: {"results": {refId: ...}}.
func dsQueryBody(in io.Reader) ([]byte, error) {
	var req pluginv2.QueryDataRequest
	if err := readMessage(in, "QueryDataRequest", &req); err != nil {
		return nil, err
	}
	var res pluginv2.QueryDataResponse
	if err := readMessage(in, "QueryDataResponse", &res); err != nil {
		return nil, err
	}
	decoded, err := backend.FromProto().QueryDataResponse(&res)
	if err != nil {
		return nil, err
	}
	return json.Marshal(decoded)
}

// readMessage reads one length-prefixed protobuf message into m.
func readMessage(in io.Reader, name string, m proto.Message) error {
	var size uint32
	if err := binary.Read(in, binary.BigEndian, &size); err != nil {
		return fmt.Errorf("reading the length of the %s: %w", name, err)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(in, buf); err != nil {
		return fmt.Errorf("reading the %s (%d bytes): %w", name, size, err)
	}
	if err := proto.Unmarshal(buf, m); err != nil {
		return fmt.Errorf("the %s is not valid protobuf: %w", name, err)
	}
	return nil
}
