//! Golden tests: a query in, the exact LogsQL out, for every panel of the
//! NAT-gateway dashboard, every filter kind, both record modes and each plan
//! step. The cases are the table both dialects render
//! (`common/golden_cases.rs`). Run with `UPDATE_GOLDEN=1` to rewrite the
//! files, then read the diff.

#[path = "common/golden_cases.rs"]
mod golden_cases;

use flowlens::backends::victorialogs::logsql::LogsQl;
use flowlens::dialect::{Dialect, Target};
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::{first_step, Step};
use flowlens::settings::{InstanceSettings, Settings};

const MISSION_FORMAT: &str = "${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}";

fn settings(mode: &str) -> Settings {
    settings_with(mode, serde_json::json!({}))
}

/// The mission's settings with some jsonData replaced.
fn settings_with(mode: &str, extra: serde_json::Value) -> Settings {
    let mut json = serde_json::json!({
        "streamSelector": "{logtype=\"flow\", environment=\"ops\"}",
        "recordMode": mode,
        "recordFormat": MISSION_FORMAT,
        "fieldMapping": {"pkt_srcaddr": "pkt_src_addr", "pkt_dstaddr": "pkt_dst_addr", "interface_id": "interface id"},
        "insideCidrs": ["10.0.32.0/20"],
        "interfaceId": "eni-0352f8c82da6aa229",
    });
    json.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let json = serde_json::to_vec(&json).unwrap();
    Settings::from_instance(&InstanceSettings { url: "http://127.0.0.1:9428", json_data: &json, ..Default::default() })
        .unwrap()
}

fn request() -> Request {
    // 2026-11-20T00:00:00Z .. +24 h, Grafana's $__interval of 5 minutes.
    Request {
        range: TimeRange { from_ms: 1_795_132_800_000, to_ms: 1_795_219_200_000 },
        interval_ms: 300_000,
        max_data_points: 300,
    }
}

fn render(mode: &str, query: serde_json::Value, step: Option<Step>) -> String {
    render_with(&settings(mode), query, step)
}

fn render_with(s: &Settings, query: serde_json::Value, step: Option<Step>) -> String {
    let q = FlowQuery::parse(&serde_json::to_vec(&query).unwrap(), &request(), s).unwrap();
    let step = step.unwrap_or_else(|| first_step(&q));
    LogsQl.render(&Target { stream: &s.stream, schema: &s.schema }, &q, &step)
}

fn check(name: &str, actual: &str) {
    let path = format!("{}/tests/golden/logsql/{name}.logsql", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        refuse_update_in_ci();
        std::fs::write(&path, format!("{actual}\n")).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden file {path}; run with UPDATE_GOLDEN=1"));
    pretty_assertions::assert_eq!(expected.trim_end(), actual, "golden file {name}");
}

#[test]
fn raw_records_golden() {
    for (name, query, step) in golden_cases::logsql() {
        check(&format!("raw-{name}"), &render("raw", query, step));
    }
}

#[test]
fn parsed_fields_golden() {
    for (name, query, step) in golden_cases::logsql() {
        check(&format!("fields-{name}"), &render("fields", query, step));
    }
}

/// Inside CIDRs that hold the NAT gateway's own address (the whole VPC):
/// the address is excluded from the inside side of every direction.
#[test]
fn nat_address_excluded_golden() {
    use serde_json::json;
    for mode in ["raw", "fields"] {
        let s = settings_with(mode, json!({"insideCidrs": ["10.0.0.0/16"], "natAddresses": ["10.0.0.57"]}));
        for direction in ["any", "in"] {
            let text = render_with(&s, json!({"format": "stat", "direction": direction}), None);
            check(&format!("{mode}-vpc-cidr-nat-excluded-{direction}"), &text);
        }
    }
}

/// The example queries the frontend's test suite parses too: every one is a
/// valid query for the mission's datasource, in both record modes, and renders.
#[test]
fn shared_examples_are_valid_queries() {
    let text = std::fs::read_to_string(format!("{}/examples/queries.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let examples: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(examples.len() >= 10);
    for mode in ["raw", "fields"] {
        let s = settings(mode);
        for example in &examples {
            let name = example["name"].as_str().unwrap();
            let q = FlowQuery::parse(&serde_json::to_vec(&example["query"]).unwrap(), &request(), &s)
                .unwrap_or_else(|e| panic!("example {name} ({mode}): {e}"));
            let text = LogsQl.render(&Target { stream: &s.stream, schema: &s.schema }, &q, &first_step(&q));
            assert!(!text.is_empty(), "example {name}");
        }
    }
}

/// Coalescing: the totals of the NAT dashboard (any, in, out) and a series
/// as one query each, an aggregate per question; which questions may share
/// a scan (`coalesce_key`).
#[test]
fn coalesced_queries_match_golden_files() {
    use serde_json::json;
    let parse = |s: &Settings, query: serde_json::Value| {
        FlowQuery::parse(&serde_json::to_vec(&query).unwrap(), &request(), s).unwrap()
    };
    for mode in ["raw", "fields"] {
        let s = settings(mode);
        let target = Target { stream: &s.stream, schema: &s.schema };
        let qs: Vec<FlowQuery> = ["any", "in", "out"]
            .iter()
            .map(|d| parse(&s, json!({"format": "stat", "direction": d})))
            .chain([parse(&s, json!({"format": "stat", "direction": "in", "metric": "records"}))])
            .collect();
        let keys: Vec<_> = qs.iter().map(|q| LogsQl::coalesce_key(&target, q, &Step::Total)).collect();
        assert!(keys[0].is_some() && keys.iter().all(|k| k == &keys[0]), "{mode}: one scan for all: {keys:?}");
        check(&format!("{mode}-coalesced-totals"), &LogsQl::render_coalesced(&target, &qs, &Step::Total));
        let series = Step::Buckets { grouped: false, keys: None };
        check(&format!("{mode}-coalesced-series"), &LogsQl::render_coalesced(&target, &qs[1..3], &series));
        // Rankings asked as buckets with the same records and metric: one
        // scan, each question's group fields unrolled into its own keys.
        let grouped = Step::Buckets { grouped: true, keys: None };
        let rank = |by: &[&str], direction: &str, metric: &str| {
            let q = json!({"format": "table", "direction": direction, "groupBy": by, "limit": 10, "metric": metric});
            FlowQuery { step_ms: 3_600_000, ..parse(&s, q) }
        };
        let ranks = [
            rank(&["pkt_srcaddr"], "in", "bytes"),
            rank(&["pkt_dstaddr"], "in", "bytes"),
            rank(&["pkt_srcaddr", "dstport"], "in", "bytes"),
        ];
        let keys: Vec<_> = ranks.iter().map(|q| LogsQl::coalesce_key(&target, q, &grouped)).collect();
        assert!(keys[0].is_some() && keys.iter().all(|k| k == &keys[0]), "{mode}: one scan for all: {keys:?}");
        check(&format!("{mode}-coalesced-rankings"), &LogsQl::render_coalesced(&target, &ranks, &grouped));
        // Other records or another metric: another scan.
        for other in [rank(&["pkt_srcaddr"], "out", "bytes"), rank(&["pkt_srcaddr"], "in", "packets")] {
            assert_ne!(LogsQl::coalesce_key(&target, &other, &grouped), keys[0], "{mode}");
        }
        // Not coalesced: whole-range rankings, grouped buckets of given keys,
        // hand-written queries, and (fields parsed at ingest: VictoriaLogs'
        // regex inside a pipe) a total or series with filters.
        let ranked = parse(&s, json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10}));
        assert_eq!(LogsQl::coalesce_key(&target, &ranked, &Step::Rank { limit: 10 }), None);
        let keyed = Step::Buckets { grouped: true, keys: Some(vec![vec!["1.2.3.4".into()]]) };
        assert_eq!(LogsQl::coalesce_key(&target, &ranked, &keyed), None);
        let raw = parse(&s, json!({"format": "stat", "rawQuery": "* | stats count()"}));
        assert_eq!(LogsQl::coalesce_key(&target, &raw, &Step::Raw), None);
        let filtered = parse(
            &s,
            json!({"format": "stat", "direction": "in", "filters": [{"field": "srcport", "op": "=", "value": "443"}]}),
        );
        let key = LogsQl::coalesce_key(&target, &filtered, &Step::Total);
        assert_eq!(key.is_some(), mode == "raw", "{mode}: a filtered question: {key:?}");
    }
}

/// `UPDATE_GOLDEN` rewrites the expected files and so cannot fail: refused in CI
/// (`CI` set, as every CI service sets it), where it would pass whatever
/// the code produces.
fn refuse_update_in_ci() {
    if let Some(ci) = std::env::var_os("CI").filter(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!(
            "UPDATE_GOLDEN is set in CI (CI={}): it rewrites the expected files and passes whatever the code produces; \
             run it locally, read the diff and commit it",
            ci.to_string_lossy()
        );
    }
}
