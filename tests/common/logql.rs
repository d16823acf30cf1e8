//! The LogQL dialect's settings and cases, shared by the golden, grammar,
//! model and engine tests: the golden cases (`golden_cases.rs`, the table
//! both dialects render) and the filter cases, in raw mode and in the three
//! ways Loki can hold fields parsed at ingest.
#![allow(dead_code)] // each test crate uses a different part

use flowlens::backends::loki::logql::{Covers, LogQl, LokiRequest};
use flowlens::dialect::Target;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::{first_step, Step};
use flowlens::settings::{InstanceSettings, Settings};
use serde_json::{json, Value};

use super::reference::{self as r, Dir, RefFilter};

pub const MISSION_FORMAT: &str = "${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}";

/// Raw records, and fields parsed at ingest as structured metadata, JSON
/// lines and logfmt lines.
pub const MODES: [&str; 4] = ["raw", "structured-metadata", "json", "logfmt"];

/// The mission's Loki settings in a mode, with some jsonData replaced.
pub fn settings_with(mode: &str, extra: Value) -> Settings {
    let mut json = json!({
        "backend": "loki",
        "streamSelector": "{logtype=\"flow\", environment=\"ops\"}",
        "recordMode": if mode == "raw" { "raw" } else { "fields" },
        "recordFormat": MISSION_FORMAT,
        "insideCidrs": ["10.0.32.0/20"],
        "interfaceId": "eni-0352f8c82da6aa229",
    });
    let mapping = match mode {
        // A JSON key with a space: selected as ["interface id"].
        "json" => json!({"pkt_srcaddr": "pkt_src_addr", "pkt_dstaddr": "pkt_dst_addr", "interface_id": "interface id"}),
        _ => json!({"pkt_srcaddr": "pkt_src_addr", "pkt_dstaddr": "pkt_dst_addr", "interface_id": "eni_id"}),
    };
    let object = json.as_object_mut().unwrap();
    if mode != "raw" {
        object.insert("lokiFields".into(), json!(mode));
        object.insert("fieldMapping".into(), mapping);
    }
    object.extend(extra.as_object().unwrap().clone());
    let json = serde_json::to_vec(&json).unwrap();
    Settings::from_instance(&InstanceSettings { url: "http://127.0.0.1:3100", json_data: &json, ..Default::default() })
        .unwrap()
}

pub fn settings(mode: &str) -> Settings {
    settings_with(mode, json!({}))
}

/// 2026-11-20T00:00:00Z .. +24 h, Grafana's $__interval of 5 minutes.
pub fn request() -> Request {
    Request {
        range: TimeRange { from_ms: 1_795_132_800_000, to_ms: 1_795_219_200_000 },
        interval_ms: 300_000,
        max_data_points: 300,
    }
}

/// The requests for a query (its first step unless another is given).
pub fn render_requests(s: &Settings, query: Value, step: Option<Step>) -> Vec<LokiRequest> {
    render_requests_at(s, query, step, &request())
}

pub fn render_requests_at(s: &Settings, query: Value, step: Option<Step>, req: &Request) -> Vec<LokiRequest> {
    let q = FlowQuery::parse(&serde_json::to_vec(&query).unwrap(), req, s).unwrap();
    let step = step.unwrap_or_else(|| first_step(&q));
    LogQl { split_ms: 0, ..LogQl::of(s).unwrap() }
        .requests(&Target { stream: &s.stream, schema: &s.schema }, &q, &step)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// Requests as a golden file shows them: per request a comment line with
/// the endpoint, the parameters and what the answer covers, then the LogQL.
pub fn describe(requests: &[LokiRequest]) -> String {
    requests
        .iter()
        .map(|r| {
            let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let covers = match r.covers {
                Covers::Range(t) => format!("range [{}, {})", t.from_ms, t.to_ms),
                Covers::Bucket { start_ms, read } => {
                    format!("bucket {start_ms} read [{}, {})", read.from_ms, read.to_ms)
                }
                Covers::Buckets { step_ms, first_ms, last_ms } => {
                    format!("buckets {first_ms}..={last_ms} step {step_ms}")
                }
                Covers::Records { range, limit, split_ms, oldest_first } => {
                    let order = if oldest_first { " oldest first" } else { "" };
                    let pages = match (split_ms, oldest_first) {
                        (0, _) => String::new(),
                        (_, false) => format!(" newest first by {split_ms}"),
                        (_, true) => format!(" by {split_ms}"),
                    };
                    format!("records [{}, {}) limit {limit}{order}{pages}", range.from_ms, range.to_ms)
                }
            };
            let keys =
                if r.key_labels.is_empty() { String::new() } else { format!(" keys {}", r.key_labels.join(",")) };
            format!("# GET {} {} covers {covers}{keys}\n{}", r.path(), params.join(" "), r.query)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The golden cases Loki's dialect renders (`golden_cases.rs`: the cases
/// of `golden_logsql.rs` and a few only Loki has).
pub fn cases() -> Vec<(&'static str, Value, Option<Step>)> {
    super::golden_cases::logql()
}

/// Filters of every kind (set, range, comparison, CIDR, regex, no value,
/// hostile values) with their reference filters and the direction each is
/// asked in: the filter cases the engine and the model tests share.
pub fn filter_cases() -> Vec<(Value, Vec<RefFilter>, Dir)> {
    vec![
        (
            json!([{"field": "dstport", "op": "range", "value": "30000-50000"}, {"field": "action", "op": "=", "value": "ACCEPT"}]),
            vec![RefFilter::range("dstport", 30000, 50000), RefFilter::eq("action", "ACCEPT")],
            Dir::In,
        ),
        (
            json!([{"field": "pkt_srcaddr", "op": "!cidr", "value": "52.0.0.0/8"}, {"field": "srcport", "op": "<", "value": "1024"}]),
            vec![
                RefFilter::NotCidr("pkt_srcaddr".into(), r::Cidr::parse("52.0.0.0/8")),
                RefFilter::range("srcport", 0, 1023),
            ],
            Dir::In,
        ),
        (
            json!([{"field": "pkt_dst_aws_service", "op": "=", "value": "-"}]),
            vec![RefFilter::eq("pkt_dst_aws_service", "-")],
            Dir::Out,
        ),
        (
            json!([{"field": "pkt_dst_aws_service", "op": "!=", "value": ""}]),
            vec![RefFilter::Ne("pkt_dst_aws_service".into(), "".into())],
            Dir::Out,
        ),
        (
            json!([{"field": "pkt_dst_aws_service", "op": "=|", "value": ["S3", "-"]}]),
            vec![RefFilter::In("pkt_dst_aws_service".into(), vec!["S3".into(), "-".into()])],
            Dir::Out,
        ),
        (
            json!([{"field": "srcport", "op": "!=|", "value": ["443", "53"]}]),
            vec![RefFilter::NotIn("srcport".into(), vec!["443".into(), "53".into()])],
            Dir::In,
        ),
        (
            json!([{"field": "pkt_dst_aws_service", "op": "=~", "value": "S3|"}]),
            vec![RefFilter::regex("pkt_dst_aws_service", "S3|")],
            Dir::Out,
        ),
        (
            json!([{"field": "pkt_dstaddr", "op": "!~", "value": "10\\.0\\.3[2-5]\\..*"}]),
            vec![RefFilter::NotRegex("pkt_dstaddr".into(), r::anchored("10\\.0\\.3[2-5]\\..*"))],
            Dir::In,
        ),
        (
            json!([{"field": "action", "op": "=", "value": "x\" | delete | \"y"}, {"field": "pkt_srcaddr", "op": "=~", "value": "a\"|b\\)|\\(c"}]),
            vec![RefFilter::eq("action", "x\" | delete | \"y"), RefFilter::regex("pkt_srcaddr", "a\"|b\\)|\\(c")],
            Dir::In,
        ),
    ]
}
