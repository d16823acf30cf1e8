package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func request(targets map[string]string) *pluginv2.QueryDataRequest {
	req := &pluginv2.QueryDataRequest{PluginContext: &pluginv2.PluginContext{}}
	for refID, target := range targets {
		req.Queries = append(req.Queries, &pluginv2.DataQuery{RefId: refID, Json: []byte(target), TimeRange: &pluginv2.TimeRange{}})
	}
	return req
}

func answer(t *testing.T, frames ...*data.Frame) *pluginv2.DataResponse {
	t.Helper()
	dr := &pluginv2.DataResponse{Status: 200}
	for _, f := range frames {
		b, err := f.MarshalArrow()
		if err != nil {
			t.Fatal(err)
		}
		dr.Frames = append(dr.Frames, b)
	}
	return dr
}

func typed(f *data.Frame, ft data.FrameType, v data.FrameTypeVersion) *data.Frame {
	f.RefID = "A"
	return f.SetMeta(&data.FrameMeta{Type: ft, TypeVersion: v})
}

func withConfig(f *data.Field, display, unit string) *data.Field {
	return f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display, Unit: unit})
}

func series(times []time.Time, labels data.Labels) *data.Frame {
	return typed(data.NewFrame("bytes in",
		data.NewField("time", nil, times),
		withConfig(data.NewField("bytes", labels, make([]uint64, len(times))), "10.0.32.1", "decbytes"),
	), data.FrameTypeTimeSeriesMulti, data.FrameTypeVersion{0, 1})
}

func check(t *testing.T, target string, dr *pluginv2.DataResponse) Report {
	t.Helper()
	return Check(request(map[string]string{"A": target}), &pluginv2.QueryDataResponse{Responses: map[string]*pluginv2.DataResponse{"A": dr}})
}

func wantViolation(t *testing.T, r Report, part string) {
	t.Helper()
	for _, v := range r.Violations {
		if strings.Contains(v, part) {
			return
		}
	}
	t.Fatalf("no violation containing %q in %q", part, r.Violations)
}

func wantClean(t *testing.T, r Report) {
	t.Helper()
	if len(r.Violations) > 0 {
		t.Fatalf("unexpected violations: %q", r.Violations)
	}
}

const grouped = `{"format": "series", "groupBy": ["pkt_srcaddr"]}`

func TestValidFramesOfEveryKindPass(t *testing.T) {
	ok := series([]time.Time{t0, t0.Add(time.Minute)}, data.Labels{"pkt_srcaddr": "10.0.32.1"})
	other := series([]time.Time{t0, t0.Add(time.Minute)}, data.Labels{"pkt_srcaddr": "other"})
	wantClean(t, check(t, grouped, answer(t, ok, other)))

	total := typed(data.NewFrame("bytes in", withConfig(data.NewField("bytes", nil, []uint64{42}), "bytes in", "decbytes")),
		data.FrameTypeNumericWide, data.FrameTypeVersion{0, 1})
	wantClean(t, check(t, `{"format": "stat"}`, answer(t, total)))

	logs := typed(data.NewFrame("flow records",
		data.NewField("labels", nil, []json.RawMessage{json.RawMessage(`{"action": "ACCEPT"}`)}),
		data.NewField("timestamp", nil, []time.Time{t0}),
		data.NewField("body", nil, []string{"2 123 eni-1 ..."}),
	), data.FrameTypeLogLines, data.FrameTypeVersion{0, 0})
	wantClean(t, check(t, `{"format": "logs"}`, answer(t, logs)))

	table := data.NewFrame("bytes",
		withConfig(data.NewField("dstport", nil, []*uint64{ptr(uint64(443)), nil}), "Destination port", ""),
		withConfig(data.NewField("srcaddr", nil, []*string{ptr("10.0.32.1"), ptr("other")}), "Source address", ""),
		withConfig(data.NewField("bytes", nil, []uint64{10, 5}), "Bytes", "decbytes"),
	)
	table.RefID = "A"
	wantClean(t, check(t, `{"format": "table", "groupBy": ["dstport", "srcaddr"]}`, answer(t, table)))

	raw := data.NewFrame("result", data.NewField("_msg", nil, []string{"x"}))
	raw.RefID = "A"
	wantClean(t, check(t, `{"rawQuery": "* | limit 1"}`, answer(t, raw)))
}

func ptr[T any](v T) *T { return &v }

func TestSeriesRules(t *testing.T) {
	labels := data.Labels{"pkt_srcaddr": "10.0.32.1"}
	wantViolation(t, check(t, grouped, answer(t, series([]time.Time{t0.Add(time.Minute), t0}, labels))), `time field "time" goes back at row 1`)

	nullTime := series([]time.Time{t0}, labels)
	nullTime.Fields[0] = data.NewField("time", nil, []*time.Time{nil})
	wantViolation(t, check(t, grouped, answer(t, nullTime)), `time field "time" is null at row 0`)

	twoValues := series([]time.Time{t0}, labels)
	twoValues.Fields = append(twoValues.Fields, data.NewField("packets", labels, []uint64{1}))
	wantViolation(t, check(t, grouped, answer(t, twoValues)), "2 numeric value fields")

	noUnit := series([]time.Time{t0}, labels)
	noUnit.Fields[1].Config.Unit = ""
	wantViolation(t, check(t, grouped, answer(t, noUnit)), `value field "bytes" has no config.unit`)
	wantClean(t, check(t, `{"rawQuery": "* | stats by (_time:1m) count()"}`, answer(t, noUnit)))

	noDisplay := series([]time.Time{t0}, labels)
	noDisplay.Fields[1].Config.DisplayNameFromDS = ""
	wantViolation(t, check(t, grouped, answer(t, noDisplay)), "no config.displayNameFromDS")

	wantViolation(t, check(t, grouped, answer(t, series([]time.Time{t0}, nil))), "labelled by its group-by fields [pkt_srcaddr]")
	wantViolation(t, check(t, grouped, answer(t, series([]time.Time{t0}, labels), series([]time.Time{t0}, labels))), "the same series")

	oldVersion := series([]time.Time{t0}, labels)
	oldVersion.Meta.TypeVersion = data.FrameTypeVersion{0, 0}
	wantViolation(t, check(t, grouped, answer(t, oldVersion)), "typeVersion 0.0")
}

func TestNumericWideRules(t *testing.T) {
	twoRows := typed(data.NewFrame("bytes", withConfig(data.NewField("bytes", nil, []uint64{1, 2}), "bytes", "decbytes")),
		data.FrameTypeNumericWide, data.FrameTypeVersion{0, 1})
	wantViolation(t, check(t, `{}`, answer(t, twoRows)), "2 rows")

	text := typed(data.NewFrame("bytes", data.NewField("bytes", nil, []string{"1"})), data.FrameTypeNumericWide, data.FrameTypeVersion{0, 1})
	wantViolation(t, check(t, `{}`, answer(t, text)), `field "bytes" is []string`)

	one := typed(data.NewFrame("bytes", withConfig(data.NewField("bytes", nil, []uint64{1}), "bytes", "decbytes")),
		data.FrameTypeNumericWide, data.FrameTypeVersion{0, 1})
	wantViolation(t, check(t, `{}`, answer(t, one, one)), "a second numeric-wide frame")
}

func TestLogLinesRules(t *testing.T) {
	logs := func(fields ...*data.Field) *data.Frame {
		return typed(data.NewFrame("flow records", fields...), data.FrameTypeLogLines, data.FrameTypeVersion{0, 0})
	}
	ts := data.NewField("timestamp", nil, []time.Time{t0})
	body := data.NewField("body", nil, []string{"line"})
	wantViolation(t, check(t, `{}`, answer(t, logs(ts))), `no string field named "body"`)
	wantViolation(t, check(t, `{}`, answer(t, logs(body))), `no time field named "timestamp"`)
	wantViolation(t, check(t, `{}`, answer(t, logs(ts, data.NewField("body", nil, []*string{ptr("line")})))), "non-nullable string")
	notObject := data.NewField("labels", nil, []json.RawMessage{json.RawMessage(`["a"]`)})
	wantViolation(t, check(t, `{}`, answer(t, logs(ts, body, notObject))), "labels at row 0 is not a JSON object")
	textLabels := data.NewField("labels", nil, []string{`{}`})
	wantViolation(t, check(t, `{}`, answer(t, logs(ts, body, textLabels))), "it must be JSON")
}

func TestTableRules(t *testing.T) {
	table := data.NewFrame("bytes",
		data.NewField("srcaddr", nil, []string{"10.0.32.1"}),
		data.NewField("bytes", nil, []uint64{10}),
		withConfig(data.NewField("note", nil, []string{"x"}), "Note", ""),
	)
	table.RefID = "A"
	r := check(t, `{"format": "table", "groupBy": ["srcaddr"]}`, answer(t, table))
	wantViolation(t, r, `group-by column "srcaddr" has no config.displayNameFromDS`)
	wantViolation(t, r, `value field "bytes" has no config.unit`)
	wantViolation(t, r, `column "note" is []string but is no group-by field`)

	// The `other` row of a numeric group-by column must still say what it is.
	unreadable := data.NewFrame("bytes",
		withConfig(data.NewField("dstport", nil, []*uint64{ptr(uint64(443)), nil}), "Destination port", ""),
		withConfig(data.NewField("bytes", nil, []uint64{10, 5}), "Bytes", "decbytes"),
	)
	unreadable.RefID = "A"
	wantViolation(t, check(t, `{"format": "table", "groupBy": ["dstport"]}`, answer(t, unreadable)), "row 1 has no value in any group-by column [dstport]")
}

func TestErrorsNeedASourceAndAStatus(t *testing.T) {
	noSource := &pluginv2.DataResponse{Error: "bad op", Status: 400}
	r := check(t, `{}`, noSource)
	wantViolation(t, r, `the error "bad op" reaches Grafana with errorSource ""`)
	if got := r.Responses["A"]; got.ErrorSource != "" || got.Status != 400 || got.Error != "bad op" {
		t.Fatalf("view %+v", got)
	}

	wantViolation(t, check(t, `{}`, &pluginv2.DataResponse{Error: "x", ErrorSource: "backend", Status: 502}), `errorSource "backend"`)
	wantViolation(t, check(t, `{}`, &pluginv2.DataResponse{Error: "x", ErrorSource: "plugin", Status: 200}), "status 200")

	r = check(t, `{}`, &pluginv2.DataResponse{Error: "VictoriaLogs said no", ErrorSource: "downstream", Status: 502})
	wantClean(t, r)
	if got := r.Responses["A"]; got.ErrorSource != "downstream" || got.Status != 502 {
		t.Fatalf("view %+v", got)
	}
}

func TestResponsesMatchTheRequest(t *testing.T) {
	wantViolation(t, check(t, `{}`, &pluginv2.DataResponse{}), "status 500")
	frame := series([]time.Time{t0}, data.Labels{"pkt_srcaddr": "a"})
	frame.RefID = "B"
	wantViolation(t, check(t, grouped, answer(t, frame)), `carries refId "B"`)

	req := request(map[string]string{"A": `{}`, "B": `{}`})
	res := &pluginv2.QueryDataResponse{Responses: map[string]*pluginv2.DataResponse{"A": {Status: 200}, "C": {Status: 200}}}
	r := Check(req, res)
	wantViolation(t, r, `refId "B": the request has this query but the response has no answer`)
	wantViolation(t, r, `refId "C": answered, but the request has no query`)

	garbled := &pluginv2.DataResponse{Status: 200, Frames: [][]byte{[]byte("not arrow")}}
	wantViolation(t, check(t, `{}`, garbled), "Grafana's SDK cannot decode the response")
}

func TestReadsLengthPrefixedMessages(t *testing.T) {
	var in bytes.Buffer
	for _, m := range []proto.Message{request(map[string]string{"A": `{}`}), &pluginv2.QueryDataResponse{Responses: map[string]*pluginv2.DataResponse{"A": {Error: "e", Status: 400}}}} {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		_ = binary.Write(&in, binary.BigEndian, uint32(len(b)))
		in.Write(b)
	}
	r, err := run(&in)
	if err != nil {
		t.Fatal(err)
	}
	wantViolation(t, r, "errorSource")
	if _, err := run(bytes.NewReader([]byte{0, 0, 0, 9, 1})); err == nil || !strings.Contains(err.Error(), "QueryDataRequest") {
		t.Fatalf("a cut message must be an error naming it, got %v", err)
	}
}

func TestNodeGraphRules(t *testing.T) {
	graph := func(name string, fields ...*data.Field) *data.Frame {
		f := data.NewFrame(name, fields...)
		f.RefID = "A"
		f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeNodeGraph}
		return f
	}
	nodes := graph("nodes", data.NewField("id", nil, []string{"a", "b"}), data.NewField("mainstat", nil, []uint64{1, 2}))
	edges := graph("edges", data.NewField("id", nil, []string{"e"}), data.NewField("source", nil, []string{"a"}),
		data.NewField("target", nil, []string{"c"}))
	target := `{"format": "nodegraph", "groupBy": ["workload", "remote_service"]}`
	wantViolation(t, check(t, target, answer(t, nodes, edges)), `edge 0's target "c" is no node's id`)
	wantViolation(t, check(t, target, answer(t, edges)), "edges without a nodes frame")
	twice := graph("nodes", data.NewField("id", nil, []string{"a", "a"}), data.NewField("mainstat", nil, []string{"x", "y"}))
	r := check(t, target, answer(t, twice))
	wantViolation(t, r, "ids are not unique")
	wantViolation(t, r, "mainstat is []string")
	wantViolation(t, check(t, target, answer(t, graph("graph", data.NewField("id", nil, []string{"a"})))), "named nodes or edges")
}
