//! The golden cases both dialects render: every panel of the NAT-gateway
//! dashboard, every filter kind, hostile values and each plan step, as a
//! target (and a step other than the first where a case needs one). One
//! table; `golden_logsql.rs` renders [`logsql`] into `tests/golden/logsql/`,
//! `golden_logql.rs` (and the grammar and model tests, through
//! `common::logql::cases`) render [`logql`] into `tests/golden/logql/`. A
//! case only one dialect has is marked so in its row. A new panel query is
//! a new row here, then `UPDATE_GOLDEN=1` and a read of the new files.
//!
//! Loaded by `mod common` (as `common::golden_cases`) and by
//! `golden_logsql.rs` on its own (`#[path]`), which needs nothing else of
//! `common`.
#![allow(dead_code)] // each dialect's test reads its own half

use flowlens::plan::Step;
use serde_json::{json, Value};

/// Which dialects render a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialects {
    Both,
    /// VictoriaLogs' LogsQL only.
    LogsQlOnly,
    /// Loki's LogQL only.
    LogQlOnly,
}

use Dialects::{Both, LogQlOnly, LogsQlOnly};

/// A case: its name (the golden file's, after the mode), the target, and
/// the step to render (`None`: the query's first step).
pub type Case = (&'static str, Value, Option<Step>);

/// The cases VictoriaLogs' dialect renders, in the table's order.
pub fn logsql() -> Vec<Case> {
    rendered_by(LogsQlOnly)
}

/// The cases Loki's dialect renders, in the table's order.
pub fn logql() -> Vec<Case> {
    rendered_by(LogQlOnly)
}

fn rendered_by(only: Dialects) -> Vec<Case> {
    table()
        .into_iter()
        .filter(|(by, ..)| *by == Both || *by == only)
        .map(|(_, name, query, step)| (name, query, step))
        .collect()
}

/// Every case with the dialects that render it.
pub fn table() -> Vec<(Dialects, &'static str, Value, Option<Step>)> {
    let keys = Some(vec![vec!["203.0.113.9".to_string()], vec!["198.51.100.7".to_string()]]);
    vec![
        (Both, "nat-total", json!({"format": "stat", "direction": "any"}), None),
        (Both, "total-in", json!({"format": "stat", "direction": "in"}), None),
        (Both, "total-out", json!({"format": "stat", "direction": "out"}), None),
        (Both, "in-bytes-per-sec", json!({"format": "series", "direction": "in", "rate": true}), None),
        (
            Both,
            "top-remote-in-table",
            json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10}),
            None,
        ),
        (
            Both,
            "top-pods-in-table",
            json!({"format": "table", "direction": "in", "groupBy": ["pkt_dstaddr"], "limit": 10}),
            None,
        ),
        (
            Both,
            "top-remote-series-rank",
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10, "rate": true}),
            None,
        ),
        (
            Both,
            "top-remote-series-buckets",
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 2, "rate": true}),
            Some(Step::Buckets { grouped: true, keys: keys.clone() }),
        ),
        (
            Both,
            "top-remote-series-other",
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 2, "other": true}),
            Some(Step::Buckets { grouped: false, keys: None }),
        ),
        (
            Both,
            "fanout-distinct-ports",
            json!({"format": "table", "metric": "distinct", "distinctField": "dstport", "direction": "all", "groupBy": ["srcaddr"], "limit": 10}),
            None,
        ),
        (
            Both,
            "distinct-remotes-series",
            json!({"format": "series", "metric": "distinct", "distinctField": "outside_addr", "direction": "in"}),
            None,
        ),
        (
            Both,
            "in-by-ip-port",
            json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], "limit": 10}),
            None,
        ),
        (
            Both,
            "in-by-ip-port-buckets",
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr", "srcport"], "limit": 2}),
            Some(Step::Buckets {
                grouped: true,
                keys: Some(vec![vec!["203.0.113.9".into(), "443".into()], vec!["198.51.100.7".into(), "53".into()]]),
            }),
        ),
        (
            Both,
            "filters-every-kind",
            json!({"format": "stat", "metric": "packets", "direction": "all", "interfaceId": "", "filters": [
            {"field": "pkt_srcaddr", "op": "=~", "value": "10\\.0\\.32\\.1|10\\.0\\.32\\.2"},
            {"field": "pkt_dstaddr", "op": "!~", "value": "192\\.168\\..*"},
            {"field": "action", "op": "=", "value": "ACCEPT"},
            {"field": "flow_direction", "op": "!=", "value": "egress"},
            {"field": "srcaddr", "op": "cidr", "value": "10.0.0.0/16"},
            {"field": "dstaddr", "op": "!cidr", "value": "2001:db8::/32"},
            {"field": "dstport", "op": "range", "value": "1024-65535"},
            {"field": "srcport", "op": "range", "value": "443"},
            {"field": "pkt_srcaddr", "op": "=~", "value": ".*"}]}),
            None,
        ),
        (
            Both,
            "hostile-values",
            json!({"format": "stat", "metric": "records", "direction": "all", "filters": [
            {"field": "action", "op": "=", "value": "x\" | delete | \"y"},
            {"field": "region", "op": "!=", "value": "back\\slash\nnewline`tick"},
            {"field": "pkt_srcaddr", "op": "=~", "value": "a\"|b\\)|\\(c"}]}),
            None,
        ),
        (
            Both,
            "nat-total-narrowed",
            json!({"format": "stat", "direction": "any", "filters": [
            {"field": "inside_addr", "op": "=~", "value": "10\\.0\\.32\\.7"},
            {"field": "outside_addr", "op": "=~", "value": "52\\..*"}]}),
            None,
        ),
        (
            Both,
            "top-pods-in-narrowed",
            json!({"format": "table", "direction": "in", "groupBy": ["inside_addr"], "limit": 10, "filters": [
            {"field": "outside_addr", "op": "cidr", "value": "52.0.0.0/8"}]}),
            None,
        ),
        (
            Both,
            "filters-sets-and-comparisons",
            json!({"format": "stat", "direction": "in", "interfaceId": ["eni-0352f8c82da6aa229", "eni-0b7e4d1c9a2f63580"],
            "filters": [
            {"field": "action", "op": "=|", "value": ["ACCEPT", "REJECT"]},
            {"field": "dstport", "op": "!=|", "value": ["22", "3389"]},
            {"field": "srcport", "op": "<", "value": "1024"},
            {"field": "bytes", "op": ">=", "value": "1500"},
            {"field": "pkt_dst_aws_service", "op": "=|", "value": ["S3", "x\"y"]}]}),
            None,
        ),
        (Both, "logs", json!({"format": "logs", "limit": 50, "direction": "all", "interfaceId": ""}), None),
        (
            Both,
            "logs-context-after",
            json!({"format": "logs", "limit": 50, "direction": "all", "interfaceId": "eni-0352f8c82da6aa229", "order": "asc"}),
            None,
        ),
        // A hand-written query: the same case, in each dialect's language.
        (LogsQlOnly, "raw", json!({"rawQuery": "* | stats count() records"}), None),
        (LogQlOnly, "raw", json!({"rawQuery": "sum by (action) (count_over_time({logtype=\"flow\"} [1h]))"}), None),
        // Loki only from here on.
        (
            LogQlOnly,
            "no-value-filters",
            json!({"format": "stat", "metric": "records", "direction": "all", "filters": [
            {"field": "pkt_src_aws_service", "op": "=", "value": "-"},
            {"field": "pkt_dst_aws_service", "op": "!=", "value": ""},
            {"field": "traffic_path", "op": "=|", "value": ["2", "-"]},
            {"field": "srcaddr", "op": "=~", "value": "10\\..*|"},
            {"field": "dstaddr", "op": "!~", "value": "-|10\\..*"}]}),
            None,
        ),
        (
            LogQlOnly,
            "hostile-keys-buckets",
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_src_aws_service"], "limit": 3}),
            Some(Step::Buckets {
                grouped: true,
                keys: Some(vec![vec!["a.b|c".into()], vec!["x\"y\\z".into()], vec!["".into()]]),
            }),
        ),
        (
            LogQlOnly,
            "logs-filtered",
            json!({"format": "logs", "limit": 8000, "direction": "in", "filters": [
            {"field": "dstport", "op": ">", "value": "1023"}]}),
            None,
        ),
        (LogQlOnly, "streams", json!({"format": "table", "direction": "all"}), Some(Step::Streams { limit: 5 })),
        (LogQlOnly, "raw-logs", json!({"format": "logs", "rawQuery": "{logtype=\"flow\"} |= \"REJECT\""}), None),
        (
            LogQlOnly,
            "raw-series",
            json!({"format": "series", "rawQuery": "sum(count_over_time({logtype=\"flow\"} [5m]))"}),
            None,
        ),
    ]
}
