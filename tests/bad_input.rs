//! Bad input through the plugin binary over gRPC, as Grafana would send it:
//! malformed or non-object query JSON, unknown formats, negative,
//! fractional or huge limits, invalid CIDRs and regexes, unknown fields,
//! empty, inverted and absurd time ranges, extreme intervals and data-point
//! counts. Each bad query is an error on its own refId that names the field
//! and says what would be valid; the good queries of the same request still
//! answer with the reference's numbers; the process never panics and keeps
//! serving.

mod common;

use std::collections::BTreeMap;

use common::data::{self, NAT_ENI, POD_CIDR, RAW_STREAM};
use common::harness::{pb, Answer, Instance, Plugin};
use common::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::gen::{generate, FlowRecord, GenConfig, MISSION_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};

const FROM_MS: i64 = data::FROM_MS;
const TO_MS: i64 = FROM_MS + 3_600_000;
const YEAR_MS: i64 = 31_556_952_000;

fn query(ref_id: &str, json: &[u8], range: (i64, i64), interval_ms: i64, max_data_points: i64) -> pb::DataQuery {
    pb::DataQuery {
        ref_id: ref_id.into(),
        max_data_points,
        interval_ms,
        time_range: Some(pb::TimeRange { from_epoch_ms: range.0, to_epoch_ms: range.1 }),
        json: json.to_vec(),
        query_type: String::new(),
    }
}

fn target(ref_id: &str, json: Value) -> pb::DataQuery {
    query(ref_id, &serde_json::to_vec(&json).unwrap(), (FROM_MS, TO_MS), 60_000, 1_000)
}

/// Bad queries, each with the parts its error must contain (the field, and
/// what would be valid).
fn bad_queries() -> Vec<(pb::DataQuery, Vec<&'static str>)> {
    let raw = |id: &str, bytes: &[u8]| query(id, bytes, (FROM_MS, TO_MS), 60_000, 1_000);
    let at = |id: &str, range: (i64, i64)| query(id, br#"{"format":"stat"}"#, range, 60_000, 1_000);
    let f = |field: &str, op: &str, value: Value| json!({"filters": [{"field": field, "op": op, "value": value}]});
    vec![
        (raw("malformed", br#"{"format": "stat","#), vec!["not valid JSON"]),
        (raw("empty-body", b""), vec!["not valid JSON"]),
        (raw("not-utf8", b"{\"format\": \"\xff\"}"), vec!["not valid JSON"]),
        (raw("array", b"[1, 2]"), vec!["not a JSON object"]),
        (raw("string", br#""stat""#), vec!["not a JSON object"]),
        (raw("null", b"null"), vec!["not a JSON object"]),
        (
            target("format", json!({"format": "graph"})),
            vec!["`format`", "\"graph\"", "expected stat, series, table, logs or nodegraph"],
        ),
        (
            target("format-type", json!({"format": 3})),
            vec!["`format`", "expected stat, series, table, logs or nodegraph"],
        ),
        (
            target("limit-negative", json!({"format": "table", "groupBy": ["pkt_srcaddr"], "limit": -1})),
            vec!["`limit`", "-1", "a whole number"],
        ),
        (
            target("limit-fraction", json!({"format": "table", "groupBy": ["pkt_srcaddr"], "limit": 2.5})),
            vec!["`limit`", "2.5", "a whole number"],
        ),
        (
            target("limit-huge", json!({"format": "table", "groupBy": ["pkt_srcaddr"], "limit": 1e30})),
            vec!["`limit`", "a whole number"],
        ),
        (
            target("limit-over", json!({"format": "table", "groupBy": ["pkt_srcaddr"], "limit": 100_000})),
            vec!["`limit`", "maximum of 10000"],
        ),
        (target("limit-text", json!({"format": "table", "limit": "ten"})), vec!["`limit`", "a whole number"]),
        (
            target("cidr-host-bits", f("pkt_dstaddr", "cidr", json!("10.0.32.1/20"))),
            vec!["`filters`", "`10.0.32.1/20`", "did you mean 10.0.32.0/20"],
        ),
        (
            target("cidr-prefix", f("pkt_dstaddr", "cidr", json!("10.0.0.0/33"))),
            vec!["`filters`", "`10.0.0.0/33`", "a CIDR such as"],
        ),
        (target("cidr-text", f("pkt_dstaddr", "!cidr", json!("pods"))), vec!["`filters`", "`pods`", "a CIDR such as"]),
        (
            target("cidr-field", f("dstport", "cidr", json!("10.0.0.0/8"))),
            vec!["`filters`", "`dstport` is not an address field"],
        ),
        (
            target("regex", f("pkt_srcaddr", "=~", json!("(10"))),
            vec!["`filters`", "regex for `pkt_srcaddr` is invalid"],
        ),
        (target("regex-escape", f("pkt_srcaddr", "=~", json!("a)|(b"))), vec!["regex for `pkt_srcaddr` is invalid"]),
        (
            target("range", f("dstport", "range", json!("9-1"))),
            vec!["`filters`", "`9-1`", "a range such as 1024-65535"],
        ),
        (target("range-field", f("action", "range", json!("1-2"))), vec!["`action` is not numeric"]),
        (target("op", f("action", "like", json!("A%"))), vec!["op `like`", "use =, !=, =~, !~"]),
        (target("value-object", f("action", "=", json!({"a": 1}))), vec!["value for `action` must be a string"]),
        (
            target("field-filter", f("pod_name", "=", json!("x"))),
            vec!["`filters`", "`pod_name` is not a field of the records", "available: region"],
        ),
        (
            target("field-group", json!({"format": "table", "groupBy": ["pod\"|x"]})),
            vec!["`groupBy`", "is not a field of the records", "available:"],
        ),
        (
            target("group-type", json!({"format": "table", "groupBy": "pkt_srcaddr"})),
            vec!["`groupBy`", "a list of field names"],
        ),
        (
            target("group-twice", json!({"format": "table", "groupBy": ["srcport", "srcport"]})),
            vec!["`groupBy`", "listed twice"],
        ),
        (
            target("filters-type", json!({"filters": {"field": "action"}})),
            vec!["`filters`", "a list of {field, op, value}"],
        ),
        (target("direction", json!({"direction": "sideways"})), vec!["`direction`", "in, out, any or all"]),
        (target("metric", json!({"metric": "bits"})), vec!["`metric`", "bytes, packets, records, distinct or cost"]),
        (target("rate-table", json!({"format": "table", "rate": true})), vec!["`rate`", "use format `series`"]),
        (target("distinct-field", json!({"metric": "distinct"})), vec!["`distinctField`", "e.g. dstport"]),
        (target("share-stat", json!({"format": "stat", "share": true})), vec!["`share`", "with groupBy"]),
        (target("price", json!({"metric": "cost", "price": "crossAz"})), vec!["`price`", "crossAzPricePerGb"]),
        (
            target("sided-all", json!({"direction": "all", "groupBy": ["outside_addr"]})),
            vec!["`groupBy`", "use direction in or out"],
        ),
        (target("version", json!({"version": 2})), vec!["`version`", "version 1"]),
        (
            target("interface-type", json!({"interfaceId": {"eni": 1}})),
            vec!["`interfaceId`", "a string or a list of strings"],
        ),
        (
            at("range-empty", (FROM_MS, FROM_MS)),
            vec!["time range is empty or inverted", "2026-11-20T00:00:00Z", "start is before its end"],
        ),
        (
            at("range-inverted", (TO_MS, FROM_MS)),
            vec!["empty or inverted", "from 2026-11-20T01:00:00Z is not before to 2026-11-20T00:00:00Z"],
        ),
        (
            at("range-year-1", (-62_135_596_800_000, TO_MS)),
            vec!["reaches outside 1700-01-01T00:00:00Z .. 2250-01-01T00:00:00Z", "choose a range within them"],
        ),
        (
            at("range-year-9999", (FROM_MS, 253_402_300_799_000)),
            vec!["reaches outside", "253402300799000 ms since 1970"],
        ),
        (
            at("range-10000-years", (TO_MS - 10_000 * YEAR_MS, TO_MS)),
            vec!["reaches outside", "choose a range within them"],
        ),
        (at("range-extreme", (i64::MIN, i64::MAX)), vec!["reaches outside"]),
    ]
}

fn stderr_file(name: &str) -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!("flowlens-{name}-{}.log", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}

fn bytes_of(answer: &Answer) -> u64 {
    answer.frames[0].field("bytes").values[0].as_u64().unwrap()
}

/// The one series frame of an ungrouped answer (rate off) as its
/// non-zero values by bucket start (a first point stamped at `from` inside
/// its bucket: that bucket's start), with its step; panics on two points in
/// one bucket.
fn series_buckets(answer: &Answer) -> (i64, BTreeMap<i64, u64>) {
    assert_eq!(answer.frames.len(), 1, "one series: {answer:?}");
    let f = &answer.frames[0];
    let step = f.meta["custom"]["stepMs"].as_i64().unwrap();
    let mut buckets = BTreeMap::new();
    for (t, v) in f.fields[0].values.iter().zip(&f.fields[1].values) {
        let t = t.as_i64().unwrap() / 1_000_000;
        let start = t - t.rem_euclid(step);
        assert!(buckets.insert(start, v.as_u64().unwrap()).is_none(), "two points in the bucket at {start}");
    }
    buckets.retain(|_, v| *v > 0);
    (step, buckets)
}

/// Checks every bucket of an ungrouped series answer against the
/// reference's buckets at the answer's step.
fn assert_buckets(what: &str, answer: &Answer, records: &[FlowRecord], reference: &RefQuery) {
    let (step, got) = series_buckets(answer);
    let want = r::buckets(records, reference, &[], step).remove(&Vec::new()).unwrap_or_default();
    assert!(!want.is_empty(), "{what}: the fixture has traffic");
    if let Some((t, v)) = want.iter().find(|(t, v)| got.get(t) != Some(v)) {
        panic!("{what}: bucket {t} (step {step} ms): {:?}, reference {v}", got.get(t));
    }
    assert_eq!(got, want, "{what}: buckets (step {step} ms)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_errors_on_their_own_refid_and_never_panic() {
    let server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let cfg = GenConfig { connections: 400, from_ms: FROM_MS, to_ms: TO_MS, ..data::config() };
    let records: Vec<FlowRecord> = generate(&cfg);
    let loader = Loader::new(&server.url);
    loader.push_raw(&records, MISSION_FORMAT, &RAW_STREAM).await.expect("push");
    loader.force_flush().await.expect("flush");
    let (log_path, log) = stderr_file("bad-input");
    let mut plugin = Plugin::start_with(&[("FLOWLENS_LOG", "debug")], log, None).await;
    let ds: Instance = data::raw_instance(&server.url, "bad");
    let reference = RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), FROM_MS, TO_MS);
    let total_in = r::total(&records, &reference);
    assert!(total_in > 0, "the fixture has traffic in");

    // Every bad query in one request, between good ones.
    let bad = bad_queries();
    let mut queries: Vec<pb::DataQuery> = bad.iter().map(|(q, _)| q.clone()).collect();
    queries.insert(0, target("good-stat", json!({"format": "stat", "direction": "in"})));
    queries.push(target(
        "good-table",
        json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 3}),
    ));
    let answers = plugin.query_data(&ds, queries.clone()).await;
    assert_eq!(answers.len(), queries.len(), "one answer per refId");
    for (q, wants) in &bad {
        let a = &answers[&q.ref_id];
        assert!(a.frames.is_empty(), "{}: no frames with an error", q.ref_id);
        assert_eq!((a.status, a.error_source.as_str()), (400, "plugin"), "{}: {a:?}", q.ref_id);
        for want in wants {
            assert!(a.error.contains(want), "{}: the error should contain {want:?}: {}", q.ref_id, a.error);
        }
    }
    assert_eq!(bytes_of(&answers["good-stat"]), total_in, "a good query beside bad ones answers exactly");
    let top: Vec<(Vec<String>, u64)> = r::groups(&records, &reference, &["pkt_srcaddr"]).into_iter().take(3).collect();
    let table = &answers["good-table"].frames[0];
    assert_eq!(table.field("bytes").values, top.iter().map(|(_, v)| json!(v)).collect::<Vec<_>>());
    assert_eq!(table.field("pkt_srcaddr").values, top.iter().map(|(k, _)| json!(k[0])).collect::<Vec<_>>());

    // Intervals and data points Grafana may send: 0 means unknown and the
    // plugin picks a step; extreme ones are capped. Answers stay exact.
    let series = br#"{"format":"series","direction":"in"}"#;
    for (id, interval, points) in [
        ("interval-0", 0, 1_000),
        ("interval-0-points-0", 0, 0),
        ("interval-0-points-huge", 0, i64::MAX),
        ("interval-negative", -5, -5),
        ("interval-1ms", 1, 1_000),
        ("interval-huge", i64::MAX, 1_000),
    ] {
        let answers = plugin.query_data(&ds, vec![query(id, series, (FROM_MS, TO_MS), interval, points)]).await;
        let a = &answers[id];
        assert!(a.error.is_empty(), "{id}: {}", a.error);
        let step = a.frames[0].meta["custom"]["stepMs"].as_i64().unwrap();
        let points = a.frames[0].fields[0].values.len() as i64;
        assert!(step >= 1_000 && step % 1_000 == 0 && points <= 11_001, "{id}: step {step}, {points} points");
        let from_to = RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), FROM_MS, TO_MS);
        assert_buckets(id, a, &records, &from_to);
        if id == "interval-0" {
            // The check's own proof: a value moved to the next bucket (the
            // total unchanged) fails it.
            let mut moved = a.clone();
            let values = &mut moved.frames[0].fields[1].values;
            let i = values.iter().position(|v| v.as_u64() > Some(0)).unwrap();
            let next = values[i + 1].as_u64().unwrap() + values[i].as_u64().unwrap();
            (values[i], values[i + 1]) = (json!(0), json!(next));
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                assert_buckets("moved", &moved, &records, &from_to)
            }));
            assert!(caught.is_err(), "a value moved to the next bucket must fail the check");
        }
    }

    // The widest range the plugin accepts: exact, and its buckets are capped.
    let (lo, hi) = flowlens::model::TIME_LIMITS_MS;
    let answers = plugin.query_data(&ds, vec![query("widest", series, (lo, hi), 60_000, 1_000)]).await;
    assert!(answers["widest"].error.is_empty(), "{}", answers["widest"].error);
    assert_buckets("widest", &answers["widest"], &records, &RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), lo, hi));
    assert!(answers["widest"].frames[0].fields[0].values.len() <= 11_001);

    // Bad settings: every refId says which setting, nothing else breaks.
    let mut broken = ds.clone();
    broken.json_data["insideCidrs"] = json!(["10.0.32.0/33"]);
    broken.uid = "broken".into();
    let answers =
        plugin.query_data(&broken, vec![target("A", json!({})), target("B", json!({"format": "stat"}))]).await;
    for id in ["A", "B"] {
        assert!(answers[id].error.contains("insideCidrs"), "{id}: {}", answers[id].error);
    }
    for (rollups, says) in [
        (json!({"url": "victoriametrics:8428"}), "rollups.url `victoriametrics:8428` must be an http(s) URL"),
        (json!({"url": "http://vm:8428", "resolution": "1.5m"}), "rollups.resolution `1.5m`"),
        (json!({"url": "http://vm:8428", "stamps": "middle"}), "rollups.stamps `middle` must be `end`"),
    ] {
        let mut broken = ds.clone();
        broken.json_data["rollups"] = rollups;
        broken.uid = "broken-rollups".into();
        let answers = plugin.query_data(&broken, vec![target("A", json!({}))]).await;
        assert!(answers["A"].error.contains(says), "{says}: {}", answers["A"].error);
        let (ok, message) = plugin.check_health(&broken).await;
        assert!(!ok && message.contains(says), "{says}: {message}");
    }

    // Resource calls with bad bodies are errors too.
    for (body, want) in [
        (json!("render"), "the request body is not valid"),
        (json!({"query": "stat"}), "`query` must be a query object"),
        (json!({"query": {"format": "pie"}}), "`format`"),
        (json!({"query": {}, "range": {"from": 5, "to": 5}}), "empty or inverted"),
    ] {
        let (code, answer) = plugin.resource(&ds, "POST", "render", body.clone()).await;
        assert_eq!(code, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(want), "{body}: {answer}");
    }
    let (code, answer) = plugin.resource(&ds, "POST", "values", json!({"field": "pod\"|x"})).await;
    assert_eq!(code, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("`pod\"|x` is not a field"), "{answer}");

    // Still serving, and nothing panicked.
    assert!(plugin.alive(), "the plugin must keep running");
    let again = plugin.query_data(&ds, vec![target("after", json!({"format": "stat", "direction": "in"}))]).await;
    assert_eq!(bytes_of(&again["after"]), total_in);
    let stderr = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(!stderr.contains("panicked"), "the plugin panicked:\n{stderr}");
    assert!(stderr.contains("query failed"), "the plugin logs failed queries at debug level: {stderr}");
}

/// Resource calls take the method the frontend uses (POST render and
/// values, GET fields), else 405 with `Allow`; an unknown path is a 404
/// that quotes at most 100 characters of it; a header value with a line
/// break is a settings error naming the header, on every call. No backend
/// is asked: none listens at the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_methods_paths_and_header_values() {
    let plugin = Plugin::start().await;
    let ds = data::raw_instance("http://127.0.0.1:9", "routes");
    for (method, path) in [
        ("GET", "render"),
        ("PUT", "render"),
        ("GET", "values"),
        ("DELETE", "values"),
        ("POST", "fields"),
        ("PATCH", "fields"),
    ] {
        let (code, answer) = plugin.resource(&ds, method, path, Value::Null).await;
        assert_eq!(code, 405, "{method} {path}: {answer}");
        let want = if path == "fields" { "is called with GET" } else { "is called with POST" };
        assert!(answer["error"].as_str().unwrap().contains(want), "{method} {path}: {answer}");
    }
    let (code, answer) = plugin.resource(&ds, "GET", "fields", Value::Null).await;
    assert_eq!(code, 200, "{answer}");
    let (code, answer) = plugin.resource(&ds, "POST", "render", json!({"query": {"format": "stat"}})).await;
    assert_eq!(code, 200, "{answer}");
    // A body past the 4 MiB a resource call may send: 413, and the plugin serves on.
    let huge = json!({"query": {"format": "stat", "rawQuery": "x".repeat(5 << 20)}});
    let (code, answer) = plugin.resource(&ds, "POST", "render", huge).await;
    assert_eq!(code, 413, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("more than the 4 MiB a resource call may send"), "{answer}");
    let long = format!("nope{}", "/x".repeat(5_000));
    let (code, answer) = plugin.resource(&ds, "GET", &long, Value::Null).await;
    assert_eq!(code, 404, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.starts_with("no resource `nope/x/x") && error.contains("…`") && error.len() < 200, "{error}");

    let mut bad = ds.clone();
    bad.uid = "header-newline".into();
    bad.json_data["httpHeaderName1"] = json!("X-Scope-OrgID");
    bad.secure.insert("httpHeaderValue1".into(), "tenant\r\nX-Injected: 1".into());
    let want = "httpHeaderValue1, the value of header `X-Scope-OrgID`, contains a line break";
    let answers = plugin.query_data(&bad, vec![target("A", json!({"format": "stat"}))]).await;
    assert_eq!(answers["A"].status, 400);
    assert!(answers["A"].error.contains(want), "{}", answers["A"].error);
    let (healthy, message) = plugin.check_health(&bad).await;
    assert!(!healthy && message.contains(want), "{message}");
    let (code, answer) = plugin.resource(&bad, "GET", "fields", Value::Null).await;
    assert_eq!(code, 400, "{answer}");
    assert!(!format!("{answers:?} {message} {answer}").contains("X-Injected"));
}
