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

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/protobuf/proto"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: grafana-check < (length-prefixed QueryDataRequest, length-prefixed QueryDataResponse)")
		os.Exit(2)
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
