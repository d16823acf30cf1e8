//! The shipped dashboards as tests run them: the provisioned datasource,
//! every target of `nat-gateway.json` and `vpc-traffic-cost.json`
//! interpolated by the shipped frontend code under Node with the
//! dashboard's own variables, each checked against the reference over a
//! window. Used by `tests/dashboard.rs` (VictoriaLogs, a LogQL engine) and
//! `tests/loki_frontend.rs` (Loki's query frontend).
//! Needs `frontend/node_modules` (`npm ci` in `frontend/`).
#![allow(dead_code)] // each test crate uses a different part

use super::data;
use super::frontend;
use super::harness::{Instance, Plugin};
use super::panels::{reference_for, Checker, Window};
use super::reference::{self as r, Dir, RefQuery};
use serde_json::{json, Value};

pub fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The provisioned datasource, pointed at the test's VictoriaLogs. Grafana
/// expands `$NAME` in provisioning files and turns `$$` into `$`.
pub fn provisioned_datasource(url: &str) -> Instance {
    let yaml: serde_norway::Value =
        serde_norway::from_str(&repo_file("provisioning/datasources/flowlens.yaml")).unwrap();
    let ds = &yaml["datasources"][0];
    assert_eq!(ds["type"].as_str(), Some("flowlens-flowlogs-datasource"));
    let json_data = serde_json::to_string(&ds["jsonData"]).unwrap().replace("$$", "$");
    Instance {
        url: url.into(),
        uid: ds["uid"].as_str().unwrap().into(),
        json_data: serde_json::from_str(&json_data).unwrap(),
        ..Default::default()
    }
}

/// Grafana's `rangeutil.roundInterval`: the nice interval at or below a raw one.
pub fn round_interval(ms: i64) -> i64 {
    const STEPS: [(i64, i64); 24] = [
        (1_500, 1_000),
        (3_500, 2_000),
        (7_500, 5_000),
        (12_500, 10_000),
        (17_500, 15_000),
        (25_000, 20_000),
        (45_000, 30_000),
        (90_000, 60_000),
        (210_000, 120_000),
        (450_000, 300_000),
        (750_000, 600_000),
        (1_050_000, 900_000),
        (1_500_000, 1_200_000),
        (2_700_000, 1_800_000),
        (5_400_000, 3_600_000),
        (9_000_000, 7_200_000),
        (16_200_000, 10_800_000),
        (27_000_000, 21_600_000),
        (86_400_000, 43_200_000),
        (604_800_000, 86_400_000),
        (1_814_400_000, 604_800_000),
        (3_628_800_000, 2_592_000_000),
        (i64::MAX, 31_536_000_000),
        (i64::MAX, 31_536_000_000),
    ];
    STEPS.iter().find(|(below, _)| ms < *below).map_or(1_000, |(_, step)| *step)
}

/// The dashboard's own variables with their current values set, in Grafana's
/// dashboard model, as the frontend's interpolation takes them.
pub fn with_values(dashboard: &Value, values: &[(&str, &str)]) -> Value {
    let mut list = dashboard["templating"]["list"].clone();
    for v in list.as_array_mut().unwrap() {
        let name = v["name"].as_str().unwrap().to_string();
        let (_, value) = values.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no value for ${name}"));
        v["current"] = json!({"selected": true, "text": value, "value": value});
    }
    list
}

/// Every target of the NAT gateway dashboard over `[from_ms, to_ms)` at
/// Grafana's interval for a 1,000-point panel, equal to the reference.
pub async fn every_panel(
    plugin: &Plugin,
    ds: &Instance,
    records: &[flowlens_devtools::gen::FlowRecord],
    (from_ms, to_ms): (i64, i64),
) {
    let dashboard: Value = serde_json::from_str(&repo_file("provisioning/dashboards/nat-gateway.json")).unwrap();
    assert_eq!(
        ds.json_data["recordFormat"],
        flowlens_devtools::gen::MISSION_FORMAT,
        "the provisioned format is the mission's"
    );

    let w = Window { from_ms, to_ms, interval_ms: round_interval((to_ms - from_ms) / 1000) };
    let parsed_lines = ds.json_data["recordMode"] == "fields"
        && matches!(ds.json_data["lokiFields"].as_str(), Some("json" | "logfmt"));

    // The busiest pod, to narrow every panel as a user picking it would.
    let busiest_re = busiest_pod_regex(records);
    let variable_sets: [Vec<(&str, &str)>; 2] = [
        vec![("kubernetes_pod_ip", ".*"), ("remote_svc_ip", ".*")],
        vec![("kubernetes_pod_ip", &busiest_re), ("remote_svc_ip", ".*")],
    ];

    let panels_json = dashboard["panels"].as_array().unwrap();
    let mut targets = Vec::new();
    for panel in panels_json {
        let title = panel["title"].as_str().unwrap_or_default();
        assert!(
            panel.get("transformations").is_none_or(|t| t.as_array().is_some_and(Vec::is_empty)),
            "{title}: transformations"
        );
        for target in panel["targets"].as_array().cloned().unwrap_or_default() {
            targets.push((title.to_string(), target));
        }
    }
    let check = Checker { plugin, ds, records, w };
    let mut checked = 0;
    for vars in &variable_sets {
        let sent: Vec<Value> = targets.iter().map(|(_, t)| t.clone()).collect();
        let interpolated = frontend::interpolate(&with_values(&dashboard, vars), &sent, None);
        for ((title, saved), target) in targets.iter().zip(interpolated) {
            let target = target.target();
            // What the frontend sends: the saved target, migrated, its variables as the values.
            assert_eq!(target["refId"], saved["refId"], "{title}");
            assert!(!target.to_string().contains('$'), "{title}: a variable left in {target}");
            let reference = reference_for(&target, ds, &w);
            let group_by = target["groupBy"].as_array().map_or(0, Vec::len);
            match (target["format"].as_str().unwrap(), group_by) {
                ("stat", _) => check.check_stat(target, &reference).await,
                ("series", 0) => check.check_rate_series(target, &reference).await,
                ("series", _) => check.check_top_series(target, &reference).await,
                ("table", _) => check.check_top_table(target, &reference).await,
                // JSON or logfmt lines (fields parsed at ingest) are not the
                // mission format's text: their number is checked.
                ("logs", _) if parsed_lines => {
                    let frames = check.frames(&target).await;
                    let limit = target["limit"].as_u64().map_or(1_000, |n| n as usize);
                    let matching = r::matching(records, &reference).count();
                    assert_eq!(frames[0].field("body").values.len(), limit.min(matching), "{title}: log lines");
                }
                ("logs", _) => check.check_logs(target, &reference, flowlens_devtools::gen::MISSION_FORMAT).await,
                (other, _) => panic!("{title}: format {other} has no check"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "every panel's targets, twice: {checked}");
}

/// The pod receiving the most bytes over the fixture's day, as a regex for
/// the `kubernetes_pod_ip` variable.
pub fn busiest_pod_regex(records: &[flowlens_devtools::gen::FlowRecord]) -> String {
    let inbound = RefQuery::new(Dir::In, data::POD_CIDR, Some(data::NAT_ENI), data::FROM_MS, data::TO_MS);
    r::groups(records, &inbound, &["pkt_dstaddr"])[0].0[0].replace('.', "\\.")
}

/// The cost and security dashboard (`vpc-traffic-cost.json`): every target,
/// interpolated by the frontend with the dashboard's variables, equal to the
/// reference (costs at the provisioned prices, shares, distinct counts,
/// rejected flows, every interface), each panel at its own interval.
pub async fn every_cost_panel(
    plugin: &Plugin,
    ds: &Instance,
    records: &[flowlens_devtools::gen::FlowRecord],
    (from_ms, to_ms): (i64, i64),
) {
    let dashboard: Value = serde_json::from_str(&repo_file("provisioning/dashboards/vpc-traffic-cost.json")).unwrap();
    let auto = round_interval((to_ms - from_ms) / 1000);
    let busiest = busiest_pod_regex(records);
    let mut checked = 0;
    for vars in [
        vec![("kubernetes_pod_ip", ".*"), ("remote_svc_ip", ".*")],
        vec![("kubernetes_pod_ip", &busiest), ("remote_svc_ip", ".*")],
    ] {
        for panel in dashboard["panels"].as_array().unwrap() {
            let title = panel["title"].as_str().unwrap();
            assert!(panel.get("transformations").is_none(), "{title}: transformations");
            // A panel's minimum interval (Grafana's `interval`) raises $__interval.
            let min = match panel["interval"].as_str() {
                None => 0,
                Some("1d") => 86_400_000,
                Some(other) => panic!("{title}: interval {other}: teach this test"),
            };
            let w = Window { from_ms, to_ms, interval_ms: auto.max(min) };
            let check = Checker { plugin, ds, records, w };
            let saved: Vec<Value> = panel["targets"].as_array().unwrap().clone();
            for target in frontend::interpolate(&with_values(&dashboard, &vars), &saved, None) {
                let target = target.target();
                assert!(!target.to_string().contains('$'), "{title}: a variable left in {target}");
                let rows = check.check_target(&target, &reference_for(&target, ds, &w)).await;
                if vars[0].1 == ".*" && to_ms - from_ms >= 86_400_000 {
                    let traffic = rows.iter().any(|(_, values)| values.iter().any(|v| *v > 0.0));
                    assert!(traffic, "{title}: the fixture must give this panel something to show");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 15, "every panel of the cost dashboard, twice");
}
