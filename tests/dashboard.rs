//! The shipped provisioning is the fixture: the datasource from
//! `provisioning/datasources/flowlens.yaml` and every target of
//! `provisioning/dashboards/nat-gateway.json`, interpolated by the shipped
//! frontend code under Node (`common::frontend`, the datasource's
//! `applyTemplateVariables`) with the dashboard's own variables, sent to the
//! plugin binary over gRPC against real VictoriaLogs, and again with the
//! datasource switched to `backend: loki` on a real LogQL engine, and checked
//! against the independent reference. The dashboard cannot rot without this
//! test failing.
//! Needs `frontend/node_modules` (`npm ci` in `frontend/`).

mod common;

use common::dashboards::{every_cost_panel, every_panel, provisioned_datasource, round_interval};
use common::data;
use common::harness::Plugin;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::json;

/// The fixture's last 24 h: a 1,000-point panel gets Grafana's 1m interval.
const DAY: (i64, i64) = (data::FROM_MS, data::TO_MS);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_panel_equals_the_reference() {
    let server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    let ds = provisioned_datasource(&server.url);
    assert_eq!(round_interval((DAY.1 - DAY.0) / 1000), 60_000);
    every_panel(&plugin, &ds, loaded.records, DAY).await;
    every_cost_panel(&plugin, &ds, loaded.records, DAY).await;
}

/// The same dashboard, unchanged, with the provisioned datasource switched
/// to `backend: loki` and pointed at a real LogQL engine (oteldb's, not
/// Loki; `tests/common/loki.rs`) holding the same records pushed the Loki
/// way: every panel equal to the reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_panel_equals_the_reference_on_loki() {
    let Some(engine) = common::loki::Engine::start().await else { return };
    let records = data::records();
    engine.push(&data::RAW_STREAM, common::loki::raw_lines(records)).await;
    let plugin = Plugin::start().await;
    let mut ds = provisioned_datasource(&engine.url);
    ds.json_data["backend"] = json!("loki");
    every_panel(&plugin, &ds, records, DAY).await;
    every_cost_panel(&plugin, &ds, records, DAY).await;
}
