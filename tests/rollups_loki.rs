//! Rollups on Loki, end to end with real engines: the fixture's day in a
//! real LogQL engine (oteldb's, `../shared/tools/oteldb-mem`; not Loki, see
//! `tests/common/loki.rs`), the LogQL rules `flowlens rules` prints for the
//! provisioned datasource on `backend: loki` evaluated step by step by a
//! real vmalert (`type: prometheus` groups asking the engine's Loki query
//! API, replayed over the day) into a real VictoriaMetrics, and every panel
//! of both shipped dashboards through the plugin binary with the rollup
//! store set, equal to the independent reference over the day and an
//! unaligned window; the frames say which part came from rollups. The
//! rules' expressions parse with Grafana's LogQL grammar
//! (`tests/logql_grammar.rs`, every record mode).

mod common;

use common::dashboards::{every_cost_panel, every_panel, provisioned_datasource};
use common::data;
use common::harness::{flowlens_cli, notices, Instance, Plugin};
use common::loki::{as_get, raw_lines, Engine};
use common::panels::{reference_for, Checker, Window};
use flowlens_devtools::vmserver::{self, VmServer, LOGQL_RULES};
use serde_json::{json, Value};

const DAY: (i64, i64) = (data::FROM_MS, data::TO_MS);
const H: i64 = 3_600_000;
/// The stream the provisioned datasource selects.
const STREAM: [(&str, &str); 2] = [("logtype", "flow"), ("environment", "ops")];

/// The provisioned datasource on Loki at `url`, reading 1-minute rollups
/// stamped at their end (vmalert asking Loki stamps each point at its
/// evaluation time) from `vm`, without the bucket cache.
fn with_rollups(url: &str, vm: &str) -> Instance {
    let mut ds = provisioned_datasource(url);
    ds.uid = "loki-rollups".into();
    ds.json_data["backend"] = json!("loki");
    ds.json_data["rollups"] = json!({"url": vm, "resolution": "1m"});
    ds.json_data["cacheMaxMiB"] = json!(0);
    ds
}

fn total_in() -> Value {
    json!({"refId": "A", "format": "stat", "metric": "bytes", "direction": "in", "groupBy": [], "filters": []})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_on_loki_is_exact_with_rollups_from_logql_rules() {
    let Some(engine) = Engine::start().await else { return };
    let records = data::records();
    engine.push(&STREAM, raw_lines(records)).await;
    // vmalert POSTs its queries; Loki takes them, this engine wants GET.
    let loki = as_get(&engine.url).await;
    let vm = VmServer::start().await.expect("VictoriaMetrics must start");
    let ds = with_rollups(&loki, vm.url());

    let settings = ds.json_data.to_string();
    let (ok, out, err) =
        flowlens_cli(&["rules", "--url", &ds.url, "--settings", &settings, "--resolution", "1m", "--ports"]);
    assert!(ok, "flowlens rules failed: {err}");
    assert!(out.contains("type: prometheus") && out.contains("sum_over_time({"), "{out}");
    let dir = std::env::temp_dir().join(format!("flowlens-rollups-loki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, &out).unwrap();

    // Evaluated step by step over the day but for two hours.
    let gap = (DAY.0 + 10 * H, DAY.0 + 12 * H);
    let loki_api = format!("{loki}/loki");
    let args = [LOGQL_RULES.to_string()];
    vmserver::replay_with_args(&rules, &loki_api, vm.url(), DAY.0, gap.0, &args).await.expect("replay before the gap");
    vmserver::replay_with_args(&rules, &loki_api, vm.url(), gap.1, DAY.1, &args).await.expect("replay after the gap");
    vm.flush().await.expect("flush");

    let plugin = Plugin::start().await;
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 60_000 };
    let check = Checker { plugin: &plugin, ds: &ds, records, w };
    let said = notices(&check.frames(&total_in()).await);
    assert!(said.contains("From rollups: 2026-11-20T12:00:00Z to 2026-11-21T00:00:00Z"), "{said}");
    assert!(said.contains("the rest of the range from Loki"), "{said}");
    check.check_stat(total_in(), &reference_for(&total_in(), &ds, &w)).await;
    // Rankings and records by a field whose value can be `-` read rollups too.
    for target in [
        json!({"refId": "A", "format": "table", "metric": "bytes", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10, "other": true, "filters": []}),
        json!({"refId": "A", "format": "table", "metric": "bytes", "direction": "in", "groupBy": ["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], "limit": 10, "filters": []}),
        json!({"refId": "A", "format": "series", "metric": "records", "direction": "all", "groupBy": ["action"], "limit": 10, "share": true, "filters": []}),
    ] {
        let said = notices(&check.frames(&target).await);
        assert!(said.contains("From rollups: 2026-11-20T12:00:00Z"), "{target}: {said}");
    }

    every_panel(&plugin, &ds, records, DAY).await;
    every_cost_panel(&plugin, &ds, records, DAY).await;
    let unaligned = (DAY.0 + 7 * 60_000 + 13_000, DAY.1 - 3 * 60_000 - 500);
    every_panel(&plugin, &ds, records, unaligned).await;
    every_cost_panel(&plugin, &ds, records, unaligned).await;
}
