//! Fields parsed at ingest: hostile values in filters, group keys and
//! interface ids, under hostile log field names, in process and over gRPC;
//! a value too long for the backend.

use flowlens::model::FlowQuery;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::json;

use crate::checks::{check_grpc, check_in_process, Tally};
use crate::common::harness::Plugin;
use crate::fixtures::fields_fixture;
use crate::strategies::run_cases;
use crate::{datasource, multi_thread, request};

#[test]
fn fields_parsed_at_ingest_hostile_values_and_names_match_exactly() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let fx = rt.block_on(fields_fixture(&server.url));
    let tally = Tally::default();
    run_cases(&fx, 300, "fields mode, in process", |case| rt.block_on(check_in_process(&case, &fx, &tally)));
    let (counted, with, without) = tally.report("fields mode");
    assert!(counted >= 300, "the cases ran: {counted}");
    assert!(with >= 100 && without >= 30, "both matching and non-matching cases: {with} / {without}");

    // The same kind of cases through the plugin binary, as Grafana sends them.
    let plugin = rt.block_on(Plugin::start());
    run_cases(&fx, 40, "fields mode, over gRPC", |case| rt.block_on(check_grpc(&case, &fx, &plugin, &server.url)));
}

#[test]
fn an_overlong_value_is_the_backends_clear_rejection() {
    // Shown once here with the real numbers; the properties above accept it
    // only where the text really exceeds the limit.
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let ds = datasource(&server.url, &json!({"recordMode": "fields"}));
    let value = "\0\"".repeat(3_000);
    let target = json!({"refId": "L", "format": "stat", "direction": "all", "filters": [{"field": "action", "op": "=", "value": value}]});
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
    let e = rt.block_on(ds.query(&q)).unwrap_err();
    assert_eq!(e.status, 400, "{e:?}");
    assert!(
        e.message.contains("VictoriaLogs rejected the query") && e.message.contains("maxQueryLen"),
        "{}",
        e.message
    );
}
