//! The panels the benchmark times: every target of the shipped dashboard
//! (`provisioning/dashboards/nat-gateway.json`, compiled in, its variables at
//! their default `.*`), and for the official VictoriaLogs datasource the
//! LogsQL the user wrote by hand for the same panel (MISSION.md), as its
//! query JSON (`expr`, `queryType`).

use serde_json::{json, Value};

use super::grpc::{Target, Window};
use super::reference::{Dir, Kind};

/// The NAT gateway's interface (MISSION.md).
pub const NAT_ENI: &str = "eni-0352f8c82da6aa229";
/// The pods' subnet (MISSION.md).
pub const POD_CIDR: &str = "10.0.32.0/20";

/// The user's hand-written extract pattern (MISSION.md): all 19 fields.
const USER_PATTERN: &str = "<region> <vpc_id> <az_id> <subnet_id> <instance_id> <interface_id> <flow_direction> <src_addr> <dst_addr> <src_port> <dst_port> <pkt_src_addr> <pkt_dst_addr> <pkt_src_aws_service> <pkt_dst_aws_service> <traffic_path> <packets> <bytes> <action>";

const DASHBOARD: &str = include_str!("../../../provisioning/dashboards/nat-gateway.json");

/// One dashboard panel: its title and its targets with what they ask.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub targets: Vec<(Target, Kind)>,
}

/// The shipped dashboard's panels, each target as Grafana sends it after
/// interpolating the dashboard variables at their defaults (`.*`), with
/// `intervalMs` and `maxDataPoints` in its JSON as Grafana puts them.
pub fn dashboard(window: Window) -> Result<Vec<Panel>, String> {
    let text = DASHBOARD.replace("${kubernetes_pod_ip}", ".*").replace("${remote_svc_ip}", ".*");
    let dashboard: Value = serde_json::from_str(&text).map_err(|e| format!("the dashboard: {e}"))?;
    let panels = dashboard["panels"].as_array().ok_or("the dashboard has no panels")?;
    panels
        .iter()
        .filter(|p| p["targets"].is_array())
        .map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_string();
            let targets = p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    let mut json = t.clone();
                    json["intervalMs"] = json!(window.interval_ms);
                    json["maxDataPoints"] = json!(window.max_data_points);
                    let ref_id = t["refId"].as_str().unwrap_or("A").to_string();
                    let kind = kind_of(t).map_err(|e| format!("{title}: {e}"))?;
                    Ok((Target { ref_id, json }, kind))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Panel { title, targets })
        })
        .collect()
}

/// What a flowlens target asks.
fn kind_of(t: &Value) -> Result<Kind, String> {
    let dir = Dir::parse(t["direction"].as_str().unwrap_or("any"))?;
    let group_by: Vec<String> = serde_json::from_value(t["groupBy"].clone()).unwrap_or_default();
    let limit = t["limit"].as_u64().unwrap_or(0) as usize;
    let rate = t["rate"].as_bool().unwrap_or(false);
    match (t["format"].as_str().unwrap_or_default(), group_by.is_empty()) {
        ("stat", true) => Ok(Kind::Stat(dir)),
        ("series", true) if rate => Ok(Kind::Rate(dir)),
        ("table", false) if limit > 0 => Ok(Kind::Table { dir, group_by, limit }),
        ("series", false) if rate && limit > 0 && group_by.len() == 1 => Ok(Kind::TopSeries { dir, group_by, limit }),
        ("logs", _) => Ok(Kind::Logs { dir, limit: if limit > 0 { limit } else { 100 } }),
        _ => Err(format!("a target the benchmark has no reference for: {t}")),
    }
}

/// The name the user's extract pattern gives a canonical field.
pub fn user_field(canonical: &str) -> &str {
    match canonical {
        "pkt_srcaddr" => "pkt_src_addr",
        "pkt_dstaddr" => "pkt_dst_addr",
        "srcport" => "src_port",
        "dstport" => "dst_port",
        other => other,
    }
}

/// The canonical name of a field of the user's extract pattern.
pub fn canonical_field(user: &str) -> &str {
    match user {
        "pkt_src_addr" => "pkt_srcaddr",
        "pkt_dst_addr" => "pkt_dstaddr",
        "src_port" => "srcport",
        "dst_port" => "dstport",
        other => other,
    }
}

/// The user's query up to its `stats` pipe: the stream, a word filter on
/// the interface, every field extracted, and the direction's condition next
/// to the dashboard variables' regex filters (at `.*`). MISSION.md's
/// `seq(…, "ACCEPT")` keeps accepted records only; the dashboard counts
/// every record, so the word is left out: both answer the same question.
fn user_filter(dir: Dir, extra: &str) -> String {
    let inside = |f: &str| format!("{f}:ipv4_range(\"{POD_CIDR}\")");
    let condition = match dir {
        Dir::In => inside("pkt_dst_addr"),
        Dir::Out => inside("pkt_src_addr"),
        Dir::Any => format!("({} OR {})", inside("pkt_src_addr"), inside("pkt_dst_addr")),
    };
    format!(
        "_time:$__range {{logtype=\"flow\", environment=\"ops\"}} seq(\"{NAT_ENI}\")\n| extract \"{USER_PATTERN}\"\n| filter interface_id:=\"{NAT_ENI}\" {condition} pkt_src_addr:~\".*\" pkt_dst_addr:~\".*\"{extra}"
    )
}

/// The fields of a `by (…)` clause, in the user's names.
fn by(group_by: &[String]) -> String {
    group_by.iter().map(|f| user_field(f)).collect::<Vec<_>>().join(", ")
}

/// A query of the official datasource: its JSON as its query editor saves it.
fn peer_target(ref_id: &str, expr: String, query_type: &str, window: Window, max_lines: usize) -> Target {
    Target {
        ref_id: ref_id.to_string(),
        json: json!({
            "refId": ref_id, "expr": expr, "queryType": query_type, "legendFormat": "", "maxLines": max_lines,
            "intervalMs": window.interval_ms, "maxDataPoints": window.max_data_points,
        }),
    }
}

/// The bytes/sec the user computed by hand (no `rate()` in LogsQL).
const USER_RATE: &str = "| math sum_bytes/($__interval/1s) as bytes_per_sec | delete sum_bytes";

/// The user's query for a target; for top-N series, the first of the two
/// queries the correct answer needs (the ranking, as a table).
pub fn peer_query(ref_id: &str, kind: &Kind, window: Window) -> Target {
    match kind {
        Kind::Stat(dir) => peer_target(
            ref_id,
            format!("{}\n| stats sum(bytes) bytes_total", user_filter(*dir, "")),
            "stats",
            window,
            0,
        ),
        Kind::Rate(dir) => peer_target(
            ref_id,
            format!("{}\n| stats sum(bytes) sum_bytes {USER_RATE}", user_filter(*dir, "")),
            "statsRange",
            window,
            0,
        ),
        Kind::Table { dir, group_by, limit } | Kind::TopSeries { dir, group_by, limit } => peer_target(
            ref_id,
            format!(
                "{}\n| stats by ({}) sum(bytes) bytes_total | sort by (bytes_total desc) limit {limit}",
                user_filter(*dir, ""),
                by(group_by)
            ),
            "stats",
            window,
            0,
        ),
        Kind::Logs { dir, limit } => peer_target(ref_id, user_filter(*dir, ""), "instant", window, *limit),
    }
}

/// The second query of a correct top-N series panel: the series of exactly
/// the ranked keys (what a user does with a dashboard variable holding the
/// ranking's answer).
pub fn peer_series_of(ref_id: &str, kind: &Kind, keys: &[String], window: Window) -> Target {
    let (Kind::TopSeries { dir, group_by, .. } | Kind::Table { dir, group_by, .. }) = kind else {
        unreachable!("only rankings have a second query")
    };
    let values: Vec<String> = keys.iter().map(|k| serde_json::to_string(k).expect("json")).collect();
    let only = format!(" {}:in({})", user_field(&group_by[0]), values.join(", "));
    peer_target(
        ref_id,
        format!("{}\n| stats by ({}) sum(bytes) sum_bytes {USER_RATE}", user_filter(*dir, &only), by(group_by)),
        "statsRange",
        window,
        0,
    )
}

/// The top-N series query as the user wrote it (MISSION.md: `sort … limit`
/// in a time-series query ranks every step, so it returns more than N
/// series): timed and its series counted, not checked.
pub fn peer_wrong_top_series(ref_id: &str, kind: &Kind, window: Window) -> Option<Target> {
    let Kind::TopSeries { dir, group_by, limit } = kind else { return None };
    Some(peer_target(
        ref_id,
        format!(
            "{}\n| stats by ({}) sum(bytes) sum_bytes | sort by (sum_bytes desc) limit {limit} {USER_RATE}",
            user_filter(*dir, ""),
            by(group_by)
        ),
        "statsRange",
        window,
        0,
    ))
}
