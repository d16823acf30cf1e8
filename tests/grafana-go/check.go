package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

// Report is what Grafana's server sees of one QueryData exchange.
type Report struct {
	// Responses by refId, as /api/ds/query sends them to the browser.
	Responses map[string]ResponseView `json:"responses"`
	// Violations of the protocol or the data-plane contract; empty when
	// Grafana reads every answer as the plugin meant it.
	Violations []string `json:"violations"`
}

// ResponseView is one refId's answer after Grafana's SDK decoded it.
type ResponseView struct {
	Status      int         `json:"status"`
	Error       string      `json:"error"`
	ErrorSource string      `json:"errorSource"`
	Frames      []FrameView `json:"frames"`
	// For a request from alerting (header FromAlert): the instances
	// Grafana's alerting reads from the frames.
	Alert []AlertInstance `json:"alert,omitempty"`
}

// FrameView summarises one decoded frame.
type FrameView struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	TypeVersion string `json:"typeVersion"`
	Fields      int    `json:"fields"`
	Rows        int    `json:"rows"`
}

// target is what the checker reads of a query's JSON: whether it is a
// hand-written query (whose columns the plugin cannot give units to) and the
// builder's group-by fields (the key columns of tables and series labels).
type target struct {
	RawQuery any      `json:"rawQuery"`
	GroupBy  []string `json:"groupBy"`
}

// isGroupField says whether a frame's field or label name is the group-by
// field g. The direction-relative inside_addr / outside_addr stand for the
// address field the direction resolves them to.
func isGroupField(g, name string) bool {
	if g == "inside_addr" || g == "outside_addr" {
		switch name {
		case "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr":
			return true
		}
	}
	return g == name
}

// isGroupByField says whether name is one of the target's group-by fields.
func (t target) isGroupByField(name string) bool {
	for _, g := range t.GroupBy {
		if isGroupField(g, name) {
			return true
		}
	}
	return false
}

func (t target) builder() bool {
	s, isString := t.RawQuery.(string)
	return t.RawQuery == nil || (isString && strings.TrimSpace(s) == "")
}

// contractVersions are the data-plane type versions this checker knows;
// a frame of another version needs its rules reviewed here.
var contractVersions = map[data.FrameType]data.FrameTypeVersion{
	data.FrameTypeTimeSeriesMulti: {0, 1},
	data.FrameTypeNumericWide:     {0, 1},
	data.FrameTypeNumericLong:     {0, 1},
	data.FrameTypeLogLines:        {0, 0},
}

// Check decodes the exchange with Grafana's plugin SDK, exactly as Grafana's
// server does (backend.FromProto, data.UnmarshalArrowFrames, then the JSON
// of /api/ds/query), and checks every answer.
func Check(protoReq *pluginv2.QueryDataRequest, protoRes *pluginv2.QueryDataResponse) Report {
	report := Report{Responses: map[string]ResponseView{}, Violations: []string{}}
	req := backend.FromProto().QueryDataRequest(protoReq)
	res, err := backend.FromProto().QueryDataResponse(protoRes)
	if err != nil {
		report.Violations = append(report.Violations, fmt.Sprintf("Grafana's SDK cannot decode the response: %v", err))
		return report
	}
	targets := map[string]target{}
	for _, q := range req.Queries {
		var t target
		_ = json.Unmarshal(q.JSON, &t) // an unreadable target must be answered by an error, checked below
		targets[q.RefID] = t
		if _, ok := res.Responses[q.RefID]; !ok {
			report.Violations = append(report.Violations, fmt.Sprintf("refId %q: the request has this query but the response has no answer for it", q.RefID))
		}
	}
	refIDs := make([]string, 0, len(res.Responses))
	for refID := range res.Responses {
		refIDs = append(refIDs, refID)
	}
	sort.Strings(refIDs)
	for _, refID := range refIDs {
		t, asked := targets[refID]
		if !asked {
			report.Violations = append(report.Violations, fmt.Sprintf("refId %q: answered, but the request has no query with this refId", refID))
		}
		view, problems := checkResponse(refID, t, res.Responses[refID])
		if dr := res.Responses[refID]; req.Headers["FromAlert"] == "true" && dr.Error == nil {
			instances, alertProblems := readAlerting(dr.Frames)
			view.Alert = instances
			for _, p := range alertProblems {
				problems = append(problems, fmt.Sprintf("refId %q: alerting: %s", refID, p))
			}
		}
		report.Responses[refID] = view
		report.Violations = append(report.Violations, problems...)
	}
	return report
}

// browserJSON is a DataResponse as /api/ds/query writes it.
type browserJSON struct {
	Status      int    `json:"status"`
	Error       string `json:"error"`
	ErrorSource string `json:"errorSource"`
}

func checkResponse(refID string, t target, dr backend.DataResponse) (ResponseView, []string) {
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("refId %q: ", refID)+fmt.Sprintf(format, args...))
	}
	body, err := json.Marshal(dr)
	var seen browserJSON
	if err == nil {
		err = json.Unmarshal(body, &seen)
	}
	if err != nil {
		fail("Grafana cannot write this answer as /api/ds/query JSON: %v", err)
	}
	view := ResponseView{Status: seen.Status, Error: seen.Error, ErrorSource: seen.ErrorSource, Frames: []FrameView{}}
	if dr.Error != nil {
		if seen.ErrorSource != string(backend.ErrorSourcePlugin) && seen.ErrorSource != string(backend.ErrorSourceDownstream) {
			fail("the error %q reaches Grafana with errorSource %q; it must be %q or %q", dr.Error.Error(), seen.ErrorSource, backend.ErrorSourcePlugin, backend.ErrorSourceDownstream)
		}
		if seen.Status < 400 || seen.Status > 599 {
			fail("the error %q reaches Grafana with status %d; an error needs a 4xx or 5xx status", dr.Error.Error(), seen.Status)
		}
	} else if seen.Status < 200 || seen.Status > 299 {
		fail("an answer without error reaches Grafana with status %d (the plugin sent %d); it must be 2xx", seen.Status, dr.Status)
	}
	numericWide := 0
	series := map[string]int{}
	for i, frame := range dr.Frames {
		ft, version := frame.TypeInfo("")
		rows, rowErr := frame.RowLen()
		view.Frames = append(view.Frames, FrameView{Name: frame.Name, Type: string(ft), TypeVersion: version.String(), Fields: len(frame.Fields), Rows: rows})
		where := fmt.Sprintf("frame %d %q (%s)", i, frame.Name, typeName(ft))
		frameFail := func(format string, args ...any) { fail(where+": "+format, args...) }
		if rowErr != nil {
			frameFail("fields of different lengths: %v", rowErr)
			continue
		}
		if frame.RefID != refID {
			frameFail("carries refId %q; Grafana matches frames to queries by refId, so it must be %q", frame.RefID, refID)
		}
		if want, known := contractVersions[ft]; known && version != want {
			frameFail("typeVersion %s; the data-plane contract checked here is version %s", version, want)
		}
		if len(frame.Fields) == 0 {
			if len(dr.Frames) > 1 {
				frameFail("a frame without fields (\"no data\") must be the only frame of its answer, not one of %d", len(dr.Frames))
			}
			continue
		}
		switch ft {
		case data.FrameTypeTimeSeriesMulti:
			for _, p := range checkTimeSeriesMulti(frame, t) {
				frameFail("%s", p)
			}
			if key, ok := seriesKey(frame); ok {
				if j, dup := series[key]; dup {
					frameFail("the same series (name and labels %s) as frame %d; each series of a set must be unique", key, j)
				}
				series[key] = i
			}
		case data.FrameTypeNumericWide:
			numericWide++
			if numericWide == 2 {
				frameFail("a second numeric-wide frame; the contract allows one per answer")
			}
			for _, p := range checkNumericWide(frame, t) {
				frameFail("%s", p)
			}
		case data.FrameTypeNumericLong:
			for _, p := range checkTable(frame, t) {
				frameFail("%s", p)
			}
		case data.FrameTypeLogLines:
			for _, p := range checkLogLines(frame) {
				frameFail("%s", p)
			}
		case data.FrameTypeUnknown:
			check := checkTable
			if frame.Meta != nil && frame.Meta.PreferredVisualization == data.VisTypeNodeGraph {
				check = func(frame *data.Frame, _ target) []string { return checkNodeGraph(frame, dr.Frames) }
			}
			for _, p := range check(frame, t) {
				frameFail("%s", p)
			}
		default:
			frameFail("type %q has no rules in tests/grafana-go; add them before the plugin sends it", ft)
		}
	}
	return view, problems
}

func typeName(ft data.FrameType) string {
	if ft == data.FrameTypeUnknown {
		return "table, no type"
	}
	return string(ft)
}

// checkTimeSeriesMulti: one time field, non-null and ascending, without
// labels; one numeric value field with a display name; for builder queries
// a unit and exactly the group-by fields as labels.
func checkTimeSeriesMulti(frame *data.Frame, t target) []string {
	var problems []string
	var times, values []*data.Field
	for _, f := range frame.Fields {
		switch {
		case f.Type().Time():
			times = append(times, f)
		case f.Type().Numeric():
			values = append(values, f)
		default:
			problems = append(problems, fmt.Sprintf("field %q is %s; a series frame has only its time and its value field", f.Name, f.Type()))
		}
	}
	if len(times) != 1 {
		problems = append(problems, fmt.Sprintf("%d time fields; the contract needs exactly one", len(times)))
	} else {
		problems = append(problems, checkTimeField(times[0], true)...)
		if len(times[0].Labels) > 0 {
			problems = append(problems, fmt.Sprintf("time field %q has labels %s; labels belong on the value field", times[0].Name, times[0].Labels))
		}
	}
	if len(values) != 1 {
		problems = append(problems, fmt.Sprintf("%d numeric value fields; the contract needs exactly one per frame", len(values)))
		return problems
	}
	v := values[0]
	problems = append(problems, checkValueConfig(v, t.builder())...)
	if t.builder() {
		want := append([]string(nil), t.GroupBy...)
		sort.Strings(want)
		got := make([]string, 0, len(v.Labels))
		matched := len(v.Labels) == len(t.GroupBy)
		for k := range v.Labels {
			got = append(got, k)
			matched = matched && t.isGroupByField(k)
		}
		sort.Strings(got)
		if !matched {
			problems = append(problems, fmt.Sprintf("value field %q has labels %v; a builder series is labelled by its group-by fields %v", v.Name, got, want))
		}
	}
	return problems
}

// checkTimeField: no nulls, and with ascending, times never go back.
func checkTimeField(f *data.Field, ascending bool) []string {
	var problems []string
	var prev time.Time
	for i := 0; i < f.Len(); i++ {
		v, ok := f.ConcreteAt(i)
		if !ok {
			problems = append(problems, fmt.Sprintf("time field %q is null at row %d; time values must be non-null", f.Name, i))
			break
		}
		ts := v.(time.Time)
		if ascending && i > 0 && ts.Before(prev) {
			problems = append(problems, fmt.Sprintf("time field %q goes back at row %d (%s after %s); it must ascend", f.Name, i, ts.UTC().Format(time.RFC3339Nano), prev.UTC().Format(time.RFC3339Nano)))
			break
		}
		prev = ts
	}
	return problems
}

// checkValueConfig: a value field has a display name; a builder's also a unit.
func checkValueConfig(f *data.Field, builder bool) []string {
	var problems []string
	if f.Config == nil || f.Config.DisplayNameFromDS == "" {
		problems = append(problems, fmt.Sprintf("value field %q has no config.displayNameFromDS", f.Name))
	}
	if builder && (f.Config == nil || f.Config.Unit == "") {
		problems = append(problems, fmt.Sprintf("value field %q has no config.unit", f.Name))
	}
	return problems
}

// seriesKey identifies a series by its value field's name and labels.
func seriesKey(frame *data.Frame) (string, bool) {
	for _, f := range frame.Fields {
		if f.Type().Numeric() {
			return f.Name + f.Labels.String(), true
		}
	}
	return "", false
}

// checkNumericWide: no rows or one row, numeric fields only, each with a
// display name (and a unit for builder queries).
func checkNumericWide(frame *data.Frame, t target) []string {
	var problems []string
	if rows := frame.Rows(); rows > 1 {
		problems = append(problems, fmt.Sprintf("%d rows; numeric-wide has no rows or one row", rows))
	}
	for _, f := range frame.Fields {
		if !f.Type().Numeric() {
			problems = append(problems, fmt.Sprintf("field %q is %s; numeric-wide fields are numbers", f.Name, f.Type()))
			continue
		}
		problems = append(problems, checkValueConfig(f, t.builder())...)
	}
	return problems
}

// checkLogLines: the first time field named timestamp and the first string
// field named body exist and are non-nullable; labels, when present, is a
// JSON field of objects.
func checkLogLines(frame *data.Frame) []string {
	var problems []string
	timestamp := firstField(frame, "timestamp", func(ft data.FieldType) bool { return ft.Time() })
	switch {
	case timestamp == nil:
		problems = append(problems, "no time field named \"timestamp\"")
	case timestamp.Type() != data.FieldTypeTime:
		problems = append(problems, fmt.Sprintf("timestamp is %s; it must be non-nullable time", timestamp.Type()))
	default:
		problems = append(problems, checkTimeField(timestamp, false)...)
	}
	body := firstField(frame, "body", func(ft data.FieldType) bool { return ft.NonNullableType() == data.FieldTypeString })
	switch {
	case body == nil:
		problems = append(problems, "no string field named \"body\"")
	case body.Type() != data.FieldTypeString:
		problems = append(problems, fmt.Sprintf("body is %s; it must be a non-nullable string", body.Type()))
	}
	for _, name := range []string{"severity", "id"} {
		if f, _ := frame.FieldByName(name); f != nil && f.Type().NonNullableType() != data.FieldTypeString {
			problems = append(problems, fmt.Sprintf("%s is %s; it must be a string", name, f.Type()))
		}
	}
	labels, _ := frame.FieldByName("labels")
	if labels == nil {
		return problems
	}
	if !labels.Type().JSON() {
		return append(problems, fmt.Sprintf("labels is %s; it must be JSON (json.RawMessage)", labels.Type()))
	}
	for i := 0; i < labels.Len(); i++ {
		v, ok := labels.ConcreteAt(i)
		var object map[string]any
		if !ok || json.Unmarshal(v.(json.RawMessage), &object) != nil || object == nil {
			problems = append(problems, fmt.Sprintf("labels at row %d is not a JSON object", i))
			break
		}
	}
	return problems
}

func firstField(frame *data.Frame, name string, kind func(data.FieldType) bool) *data.Field {
	for _, f := range frame.Fields {
		if f.Name == name && kind(f.Type()) {
			return f
		}
	}
	return nil
}

// checkTable (a frame without type): typed columns, no time column needed.
// A builder table's group-by columns have display names and every row a
// value in at least one of them (the `other` row included), so each row can
// be read; its other columns are numbers with a display name and a unit.
func checkTable(frame *data.Frame, t target) []string {
	var problems []string
	if !t.builder() {
		return problems
	}
	var keyFields []*data.Field
	for _, f := range frame.Fields {
		if t.isGroupByField(f.Name) {
			keyFields = append(keyFields, f)
			if f.Config == nil || f.Config.DisplayNameFromDS == "" {
				problems = append(problems, fmt.Sprintf("group-by column %q has no config.displayNameFromDS", f.Name))
			}
			continue
		}
		if !f.Type().Numeric() {
			problems = append(problems, fmt.Sprintf("column %q is %s but is no group-by field; value columns are numbers", f.Name, f.Type()))
			continue
		}
		problems = append(problems, checkValueConfig(f, true)...)
	}
	if len(keyFields) == 0 {
		return problems
	}
	for row := 0; row < frame.Rows(); row++ {
		readable := false
		for _, f := range keyFields {
			// A null cell is shown as the field's noValue text, when it has one.
			if _, ok := f.ConcreteAt(row); ok || (f.Config != nil && f.Config.NoValue != "") {
				readable = true
			}
		}
		if !readable {
			problems = append(problems, fmt.Sprintf("row %d has no value in any group-by column %v; nobody can tell what it counts", row, t.GroupBy))
			break
		}
	}
	return problems
}

// checkNodeGraph: Grafana's node graph panel reads a frame named "nodes" (a
// unique string id per node; title and subtitle text; mainstat and
// secondarystat numbers) and one named "edges" (string id, source and
// target, each end the id of a node of the nodes frame).
func checkNodeGraph(frame *data.Frame, all []*data.Frame) []string {
	var problems []string
	isString := func(t data.FieldType) bool { return t == data.FieldTypeString }
	need := map[string][]string{"nodes": {"id"}, "edges": {"id", "source", "target"}}[frame.Name]
	if need == nil {
		return []string{fmt.Sprintf("a node graph frame is named nodes or edges, not %q", frame.Name)}
	}
	for _, name := range need {
		if firstField(frame, name, isString) == nil {
			problems = append(problems, fmt.Sprintf("no string field %q", name))
		}
	}
	for _, f := range frame.Fields {
		if (f.Name == "mainstat" || f.Name == "secondarystat") && !f.Type().Numeric() {
			problems = append(problems, fmt.Sprintf("%s is %s; the node graph shows numbers with their unit", f.Name, f.Type()))
		}
	}
	ids := func(f *data.Field) map[string]bool {
		seen := map[string]bool{}
		for i := 0; f != nil && i < f.Len(); i++ {
			seen[f.At(i).(string)] = true
		}
		return seen
	}
	if id := firstField(frame, "id", isString); id != nil && len(ids(id)) != id.Len() {
		problems = append(problems, "ids are not unique")
	}
	if frame.Name != "edges" {
		return problems
	}
	var nodes map[string]bool
	for _, other := range all {
		if other.Name == "nodes" {
			nodes = ids(firstField(other, "id", isString))
		}
	}
	if nodes == nil {
		return append(problems, "edges without a nodes frame")
	}
	for _, end := range []string{"source", "target"} {
		f := firstField(frame, end, isString)
		for i := 0; f != nil && i < f.Len(); i++ {
			if v := f.At(i).(string); !nodes[v] {
				problems = append(problems, fmt.Sprintf("edge %d's %s %q is no node's id", i, end, v))
			}
		}
	}
	return problems
}
