//! What the Loki path sends for each dashboard panel, computed without a
//! Loki: every plan step of a target ([`first_step`], then [`follow_up`]
//! after a ranking of N made-up keys) as the requests
//! [`LogQl::requests`] makes of it with the datasource's
//! `lokiSplitInterval` (default 1 h), counted and described by the
//! sub-ranges they read.

use std::collections::BTreeMap;

use serde_json::json;

use super::panels::{Panel, NAT_ENI, POD_CIDR};
use crate::gen::MISSION_FORMAT;
use flowlens::backends::loki::logql::{Covers, LogQl, RequestKind};
use flowlens::dialect::Target;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::{first_step, follow_up, Step, StepOutput};
use flowlens::settings::{InstanceSettings, Settings};
use flowlens::time::duration;

/// The ranges planned, with the `$__interval` Grafana would send for each.
pub const RANGES: [(&str, i64, i64); 3] =
    [("1 h", 3_600_000, 60_000), ("24 h", 86_400_000, 600_000), ("7 d", 604_800_000, 3_600_000)];

/// The demo datasource on Loki: the raw stream, the mission's format.
fn loki_settings() -> Result<Settings, String> {
    let json = json!({
        "backend": "loki",
        "streamSelector": "{logtype=\"flow\", environment=\"ops\"}",
        "recordFormat": MISSION_FORMAT,
        "insideCidrs": [POD_CIDR],
        "interfaceId": NAT_ENI,
    });
    let json = serde_json::to_vec(&json).expect("json");
    Settings::from_instance(&InstanceSettings { url: "http://127.0.0.1:3100", json_data: &json, ..Default::default() })
        .map_err(|e| e.to_string())
}

/// The plan of one panel over one range: requests per step, described.
fn panel_plan(
    settings: &Settings,
    panel: &Panel,
    to_ms: i64,
    range_ms: i64,
    interval_ms: i64,
) -> Result<(usize, String), String> {
    let dialect = LogQl::of(settings).map_err(|e| e.to_string())?;
    let target = Target { stream: &settings.stream, schema: &settings.schema };
    let req = Request {
        range: TimeRange { from_ms: to_ms - range_ms, to_ms },
        interval_ms,
        max_data_points: range_ms / interval_ms,
    };
    let mut count = 0;
    let mut parts = Vec::new();
    for (t, _) in &panel.targets {
        let q = FlowQuery::parse(&serde_json::to_vec(&t.json).expect("json"), &req, settings).map_err(|e| e.message)?;
        let first = first_step(&q);
        let ranking = match first {
            Step::Rank { limit } => {
                let n = limit.min(q.limit.unwrap_or(limit));
                StepOutput::Ranked((0..n).map(|i| (q.group_by.iter().map(|_| format!("k{i}")).collect(), 1)).collect())
            }
            _ => StepOutput::Total(0),
        };
        let steps: Vec<Step> = std::iter::once(first.clone()).chain(follow_up(&q, &ranking)).collect();
        for step in &steps {
            let requests = dialect.requests(&target, &q, step).map_err(|e| e.message)?;
            count += requests.len();
            parts.push(format!("{}: {}", step_name(step), describe(&requests)));
        }
    }
    Ok((count, parts.join("; ")))
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Total => "total",
        Step::Rank { .. } => "rank",
        Step::Buckets { keys: Some(_), .. } => "series of the top keys",
        Step::Buckets { .. } => "series",
        Step::Records { .. } => "records",
        Step::Raw => "raw",
        Step::Streams { .. } => "streams",
    }
}

/// The requests as counts of like ones: `24 × instant [1h]`, `24 × range
/// [1h] step 10m`, `1 × log query [24h] (paged)`.
fn describe(requests: &[flowlens::backends::loki::logql::LokiRequest]) -> String {
    let mut like: BTreeMap<String, usize> = BTreeMap::new();
    for r in requests {
        let what = match (r.kind, r.covers) {
            (_, Covers::Range(part)) => format!("instant [{}]", duration(part.to_ms - part.from_ms)),
            (_, Covers::Bucket { read, .. }) => format!("edge instant [{}]", duration(read.to_ms - read.from_ms)),
            (_, Covers::Buckets { step_ms, first_ms, last_ms }) => {
                format!("range [{}] step {}", duration(last_ms + step_ms - first_ms), duration(step_ms))
            }
            (RequestKind::Logs, Covers::Records { range, split_ms, .. }) => format!(
                "log query [{}], pages newest first{}",
                duration(range.to_ms - range.from_ms),
                if split_ms > 0 { format!(" by {} sub-range", duration(split_ms)) } else { String::new() }
            ),
            (kind, _) => format!("{kind:?}"),
        };
        *like.entry(what).or_default() += 1;
    }
    like.into_iter().map(|(what, n)| format!("{n} × {what}")).collect::<Vec<_>>().join(" + ")
}

/// The table: one row per panel, requests per range, and the sub-ranges.
pub fn table(panels: &[Panel], to_ms: i64) -> Result<Vec<String>, String> {
    let settings = loki_settings()?;
    let mut lines = vec![
        format!(
            "`lokiSplitInterval` {} (the default); top-N follow-ups planned after a ranking of N keys. \
             Not counted: the interface-address detection every datasource runs once per 10 minutes \
             (a total and two rankings over the last 10 minutes, or the last hour when they hold fewer than 500 records).",
            duration(LogQl::of(&settings).map_err(|e| e.to_string())?.split_ms)
        ),
        String::new(),
        "| panel | 1 h | 24 h | 7 d | requests at 24 h (interval 10m; 1 h: 1m; 7 d: 1h) |".into(),
        "|---|---:|---:|---:|---|".into(),
    ];
    for panel in panels {
        let mut counts = Vec::new();
        let mut day = String::new();
        for (name, range_ms, interval_ms) in RANGES {
            let (count, text) = panel_plan(&settings, panel, to_ms, range_ms, interval_ms)?;
            counts.push(count.to_string());
            if name == "24 h" {
                day = text;
            }
        }
        lines.push(format!("| {} | {} | {} |", panel.title, counts.join(" | "), day));
    }
    Ok(lines)
}
