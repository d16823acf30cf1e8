//! The questions beyond the NAT panels and alerting, through the plugin
//! binary over gRPC, each equal to the independent reference
//! (`tests/common/reference.rs`), on real VictoriaLogs (raw records and
//! fields parsed at ingest) and on a real LogQL engine (`backend: loki`):
//! distinct counts (fan-out), shares of the total, costs priced per GB, and
//! every panel kind as Grafana's alerting reads it (header `FromAlert`,
//! frames read by `tests/grafana-go/alert.go` with Grafana's data-plane
//! readers): one alert instance per number, row or series, labelled by the
//! group values.

mod common;

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use common::data::{self, NAT_ENI, POD_CIDR};
use common::harness::{AlertInstance, DecodedFrame, Instance, Plugin};
use common::panels::Window;
use common::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::gen::FlowRecord;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};

/// Not aligned to the hour-long buckets at either end.
const W: Window =
    Window { from_ms: data::FROM_MS + 7 * 60_000, to_ms: data::TO_MS - 13 * 60_000, interval_ms: 3_600_000 };

fn reference(direction: Dir) -> RefQuery {
    RefQuery::new(direction, POD_CIDR, Some(NAT_ENI), W.from_ms, W.to_ms)
}

/// The datasources' prices: the NAT default, and internet egress set.
fn priced(mut ds: Instance) -> Instance {
    ds.json_data["egressPricePerGb"] = json!(0.09);
    ds
}

async fn frames(plugin: &Plugin, ds: &Instance, target: Value) -> Vec<DecodedFrame> {
    plugin.query_one(ds, (W.from_ms, W.to_ms), W.interval_ms, target).await
}

fn u64s(values: &[Value]) -> Vec<u64> {
    values.iter().map(|v| v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))).collect()
}

fn f64s(values: &[Value]) -> Vec<f64> {
    values.iter().map(|v| v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))).collect()
}

fn strings(values: &[Value]) -> Vec<String> {
    values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), String::from)).collect()
}

/// The share the plugin must give: the same operations, so equal to the bit.
fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

fn cost(bytes: u64, price: f64) -> f64 {
    bytes as f64 / 1e9 * price
}

/// Per bucket of the window, the reference's value (0 where none).
fn per_bucket(values: &BTreeMap<i64, u64>) -> Vec<u64> {
    W.buckets().iter().map(|(start, _, _)| values.get(start).copied().unwrap_or(0)).collect()
}

/// Distinct counts: fan-out (sources by distinct destination ports), the
/// distinct remote addresses over the range, distinct ports per bucket.
async fn distinct_counts(plugin: &Plugin, ds: &Instance, records: &[FlowRecord]) {
    let what = &ds.uid;
    let target = json!({"refId": "F", "format": "table", "metric": "distinct", "distinctField": "dstport",
        "direction": "all", "groupBy": ["srcaddr"], "limit": 10});
    let f = &frames(plugin, ds, target).await[0];
    let want: Vec<(Vec<String>, u64)> =
        r::distinct(records, &reference(Dir::All), &["srcaddr"], "dstport").into_iter().take(10).collect();
    assert_eq!(want.len(), 10, "{what}: the fixture has more than 10 sources");
    assert!(want[0].1 > want[9].1, "{what}: the fixture's fan-out differs by source");
    assert_eq!(strings(&f.field("srcaddr").values), want.iter().map(|(k, _)| k[0].clone()).collect::<Vec<_>>());
    let counts = f.field("distinct");
    assert_eq!(counts.data_type, DataType::UInt64, "{what}");
    assert_eq!(counts.config["displayNameFromDS"], "Distinct destination port", "{what}");
    assert_eq!(u64s(&counts.values), want.iter().map(|(_, n)| *n).collect::<Vec<_>>(), "{what}: fan-out");

    let target = json!({"refId": "D", "format": "stat", "metric": "distinct", "distinctField": "outside_addr",
        "direction": "out"});
    let f = &frames(plugin, ds, target).await[0];
    let want = r::distinct(records, &reference(Dir::Out), &[], "pkt_dstaddr")[0].1;
    assert_eq!(u64s(&f.field("distinct").values), vec![want], "{what}: distinct remote addresses");

    let target = json!({"refId": "S", "format": "series", "metric": "distinct", "distinctField": "dstport",
        "direction": "in"});
    let f = &frames(plugin, ds, target).await[0];
    let want = r::distinct_buckets(records, &reference(Dir::In), "dstport", W.interval_ms);
    assert_eq!(u64s(&f.fields[1].values), per_bucket(&want), "{what}: distinct ports per bucket");
}

/// Shares: of every group (all groups shown, no total asked), of the top
/// groups (the total asked), per bucket.
async fn shares(plugin: &Plugin, ds: &Instance, records: &[FlowRecord]) {
    let what = &ds.uid;
    let all = reference(Dir::All);
    let total = r::total(records, &all);
    let by_action = r::groups(records, &all, &["action"]);
    assert!(by_action.iter().any(|(k, v)| k[0] == "REJECT" && *v > 0), "{what}: the fixture has rejected bytes");
    let target = json!({"refId": "A", "format": "table", "groupBy": ["action"], "share": true, "direction": "all"});
    let f = &frames(plugin, ds, target).await[0];
    assert_eq!(strings(&f.field("action").values), by_action.iter().map(|(k, _)| k[0].clone()).collect::<Vec<_>>());
    assert_eq!(u64s(&f.field("bytes").values), by_action.iter().map(|(_, v)| *v).collect::<Vec<_>>());
    let shares = f.field("share");
    assert_eq!((shares.data_type.clone(), &shares.config["unit"]), (DataType::Float64, &json!("percent")));
    assert_eq!(f64s(&shares.values), by_action.iter().map(|(_, v)| share(*v, total)).collect::<Vec<_>>(), "{what}");

    let inbound = reference(Dir::In);
    let in_total = r::total(records, &inbound);
    let top: Vec<(Vec<String>, u64)> = r::groups(records, &inbound, &["pkt_dstaddr"]).into_iter().take(3).collect();
    let target = json!({"refId": "P", "format": "table", "groupBy": ["pkt_dstaddr"], "share": true, "direction": "in",
        "limit": 3, "other": true});
    let f = &frames(plugin, ds, target).await[0];
    let shown: u64 = top.iter().map(|(_, v)| v).sum();
    let mut want: Vec<f64> = top.iter().map(|(_, v)| share(*v, in_total)).collect();
    want.push(share(in_total - shown, in_total));
    assert_eq!(f64s(&f.field("share").values), want, "{what}: top pods' shares and other's");

    // Rejected traffic's share per bucket: the top action (of 1) and the total asked.
    for limit in [1, 10] {
        let target = json!({"refId": "R", "format": "series", "groupBy": ["action"], "share": true,
            "direction": "all", "limit": limit});
        let got = frames(plugin, ds, target).await;
        let per_action = r::buckets(records, &all, &["action"], W.interval_ms);
        let totals = per_bucket(&r::buckets(records, &all, &[], W.interval_ms).remove(&Vec::new()).unwrap());
        assert_eq!(got.len(), limit.min(by_action.len()), "{what}");
        for (f, (key, _)) in got.iter().zip(&by_action) {
            assert_eq!(f.fields[1].labels["action"], key[0], "{what}");
            assert_eq!(f.fields[1].config["unit"], "percent", "{what}");
            let want: Vec<f64> = per_bucket(&per_action[key]).iter().zip(&totals).map(|(v, t)| share(*v, *t)).collect();
            assert_eq!(f64s(&f.fields[1].values), want, "{what}: {} share per bucket, limit {limit}", key[0]);
        }
    }
}

/// Costs: NAT processing at the default price, internet egress as set,
/// per pod.
async fn costs(plugin: &Plugin, ds: &Instance, records: &[FlowRecord]) {
    let what = &ds.uid;
    let f = &frames(plugin, ds, json!({"refId": "C", "format": "stat", "metric": "cost", "direction": "any"})).await[0];
    let field = f.field("cost");
    assert_eq!((field.data_type.clone(), &field.config["unit"]), (DataType::Float64, &json!("currencyUSD")));
    assert_eq!(f64s(&field.values), vec![cost(r::total(records, &reference(Dir::Any)), 0.045)], "{what}: NAT cost");

    let target = json!({"refId": "E", "format": "stat", "metric": "cost", "price": "egress", "direction": "out"});
    let f = &frames(plugin, ds, target).await[0];
    let want = cost(r::total(records, &reference(Dir::Out)), 0.09);
    assert_eq!(f64s(&f.field("cost").values), vec![want], "{what}: egress cost");

    let target = json!({"refId": "T", "format": "table", "metric": "cost", "groupBy": ["pkt_dstaddr"],
        "direction": "in", "limit": 5});
    let f = &frames(plugin, ds, target).await[0];
    let top: Vec<(Vec<String>, u64)> =
        r::groups(records, &reference(Dir::In), &["pkt_dstaddr"]).into_iter().take(5).collect();
    assert_eq!(strings(&f.field("pkt_dstaddr").values), top.iter().map(|(k, _)| k[0].clone()).collect::<Vec<_>>());
    assert_eq!(f64s(&f.field("cost").values), top.iter().map(|(_, b)| cost(*b, 0.045)).collect::<Vec<_>>(), "{what}");

    // Cost per day: one bucket of the window's day(s), priced.
    let day = Window { interval_ms: 86_400_000, ..W };
    let got = plugin
        .query_one(
            ds,
            (day.from_ms, day.to_ms),
            day.interval_ms,
            json!({"refId": "Y", "format": "series",
            "metric": "cost", "direction": "in"}),
        )
        .await;
    assert_eq!(f64s(&got[0].fields[1].values), vec![cost(r::total(records, &reference(Dir::In)), 0.045)], "{what}");
}

/// Every panel kind as an alert rule: what Grafana's alerting reads.
async fn alerting(plugin: &Plugin, ds: &Instance, records: &[FlowRecord]) {
    let what = &ds.uid;
    let targets = [
        json!({"refId": "stat", "format": "stat", "direction": "in"}),
        json!({"refId": "table", "format": "table", "direction": "in", "groupBy": ["pkt_srcaddr", "dstport"],
            "limit": 5, "other": true}),
        json!({"refId": "share", "format": "table", "direction": "all", "groupBy": ["action"], "share": true}),
        json!({"refId": "fanout", "format": "table", "metric": "distinct", "distinctField": "dstport",
            "direction": "all", "groupBy": ["srcaddr"], "limit": 3}),
        json!({"refId": "series", "format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 3}),
        json!({"refId": "cost", "format": "stat", "metric": "cost", "direction": "any"}),
        json!({"refId": "logs", "format": "logs"}),
        json!({"refId": "var", "format": "stat", "direction": "in",
            "filters": [{"field": "pkt_dstaddr", "op": "=~", "value": "$kubernetes_pod_ip"}]}),
    ];
    let answers = plugin.query_alerting(ds, (W.from_ms, W.to_ms), W.interval_ms, &targets).await;
    let instances = |ref_id: &str| -> &Vec<AlertInstance> {
        let a = &answers[ref_id];
        assert!(a.error.is_empty(), "{what} {ref_id}: {}", a.error);
        &a.alert
    };
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let number = |labels: BTreeMap<String, String>, v: f64| AlertInstance { labels, values: vec![Some(v)] };
    let sorted = |mut v: Vec<AlertInstance>| {
        v.sort_by_key(|i| format!("{:?}", i.labels));
        v
    };

    let inbound = reference(Dir::In);
    assert_eq!(instances("stat"), &vec![number(labels(&[]), r::total(records, &inbound) as f64)], "{what}");
    assert_eq!(answers["stat"].frames[0].meta["type"], "numeric-wide");

    let top = r::groups(records, &inbound, &["pkt_srcaddr", "dstport"]);
    let shown: u64 = top.iter().take(5).map(|(_, v)| v).sum();
    let mut want: Vec<AlertInstance> = top
        .iter()
        .take(5)
        .map(|(k, v)| number(labels(&[("pkt_srcaddr", &k[0]), ("dstport", &k[1])]), *v as f64))
        .collect();
    let other = labels(&[("pkt_srcaddr", "other"), ("dstport", "other")]);
    want.push(number(other, (r::total(records, &inbound) - shown) as f64));
    assert_eq!(instances("table"), &sorted(want), "{what}: one instance per row, ports as labels");
    let table = &answers["table"].frames[0];
    assert_eq!(table.meta["type"], "numeric-long", "{what}");
    assert_eq!(table.field("dstport").data_type, DataType::Utf8, "{what}: group values are labels");

    let all = reference(Dir::All);
    let total = r::total(records, &all);
    let want = r::groups(records, &all, &["action"])
        .into_iter()
        .map(|(k, v)| number(labels(&[("action", &k[0])]), share(v, total)))
        .collect();
    assert_eq!(instances("share"), &sorted(want), "{what}: the share alone");

    let want = r::distinct(records, &all, &["srcaddr"], "dstport")
        .into_iter()
        .take(3)
        .map(|(k, n)| number(labels(&[("srcaddr", &k[0])]), n as f64))
        .collect();
    assert_eq!(instances("fanout"), &sorted(want), "{what}");

    let per_key = r::buckets(records, &inbound, &["pkt_srcaddr"], W.interval_ms);
    let want = r::groups(records, &inbound, &["pkt_srcaddr"])
        .into_iter()
        .take(3)
        .map(|(k, _)| AlertInstance {
            labels: labels(&[("pkt_srcaddr", &k[0])]),
            values: per_bucket(&per_key[&k]).into_iter().map(|v| Some(v as f64)).collect(),
        })
        .collect();
    assert_eq!(instances("series"), &sorted(want), "{what}: one instance per series");

    let bytes = r::total(records, &reference(Dir::Any));
    assert_eq!(instances("cost"), &vec![number(labels(&[]), cost(bytes, 0.045))], "{what}");

    let logs = &answers["logs"];
    assert!(logs.error.contains("logs cannot be an alert condition") && logs.status == 400, "{what}: {}", logs.error);
    let var = &answers["var"];
    assert!(
        var.error.contains("`$kubernetes_pod_ip` is a dashboard variable that was not replaced")
            && var.error_source == "plugin",
        "{what}: {}",
        var.error
    );

    // The same table for a dashboard: typed columns, no alerting type.
    let f = &frames(plugin, ds, targets[1].clone()).await[0];
    assert_eq!(f.meta.get("type"), None, "{what}");
    assert_eq!(f.field("dstport").data_type, DataType::UInt64, "{what}: ports stay numbers on dashboards");
}

/// What Explore asks besides a panel's question: the log volume (records per
/// action over time, as the frontend builds it), the context after a row
/// (the oldest records of the same interface after it: `order: asc`), and log
/// frames with a stable `id` per line and the data links on fields of their own.
async fn explore(plugin: &Plugin, ds: &Instance, records: &[FlowRecord]) {
    let what = &ds.uid;
    let check = common::panels::Checker { plugin, ds, records, w: W };
    let volume = json!({"refId": "log-volume-A", "format": "series", "metric": "records", "groupBy": ["action"],
        "limit": 10, "direction": "all", "filters": [{"field": "dstport", "op": ">", "value": "0"}]});
    let rows = check.check_target(&volume, &common::panels::reference_for(&volume, ds, &W)).await;
    assert!(rows.len() >= 2, "{what}: a volume per action: {:?}", rows.iter().map(|r| &r.0).collect::<Vec<_>>());

    // The context after a row: from just after it, oldest first.
    let row_ms = W.from_ms + 5 * 3_600_000 + 123;
    let after = (row_ms + 1, row_ms + 2 * 3_600_000);
    let target = json!({"refId": "log-context-forward", "format": "logs", "order": "asc", "limit": 20,
        "direction": "all", "interfaceId": NAT_ENI});
    let f = &plugin.query_one(ds, after, 60_000, target).await[0];
    let q = RefQuery { from_ms: after.0, to_ms: after.1, ..reference(Dir::All) };
    let mut want: Vec<&FlowRecord> = r::matching(records, &q).collect();
    want.sort_by_key(|r| r.time_ms);
    let times: Vec<i64> = f.field("timestamp").values.iter().map(|v| v.as_i64().unwrap() / 1_000_000).collect();
    assert_eq!(
        times,
        want.iter().take(20).map(|r| r.time_ms).collect::<Vec<_>>(),
        "{what}: the 20 oldest after the row"
    );
    let lines: std::collections::HashSet<String> = want
        .iter()
        .take_while(|r| r.time_ms <= times[19])
        .map(|r| r.render(flowlens_devtools::gen::MISSION_FORMAT))
        .collect();
    for body in f.field("body").values.iter().filter(|_| ds.json_data["recordMode"] != "fields") {
        assert!(lines.contains(body.as_str().unwrap()), "{what}: not a record after the row: {body}");
    }
    let ids: std::collections::HashSet<&str> = f.field("id").values.iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(ids.len(), 20, "{what}: an id per line");
    if ds.json_data["dataLinks"].is_array() {
        let linked = f.field("pkt_srcaddr");
        assert!(
            linked.config["links"][0]["url"].as_str().unwrap().contains("${__value.raw}"),
            "{what}: {:?}",
            linked.config
        );
        for (value, labels) in linked.values.iter().zip(&f.field("labels").values) {
            assert_eq!(value, &labels["pkt_srcaddr"], "{what}: the link field holds the label's value");
        }
    }
}

async fn every_question(plugin: &Plugin, ds: &Instance, records: &[FlowRecord]) {
    let ds = &priced(ds.clone());
    explore(plugin, ds, records).await;
    distinct_counts(plugin, ds, records).await;
    shares(plugin, ds, records).await;
    costs(plugin, ds, records).await;
    alerting(plugin, ds, records).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_and_alerting_on_victorialogs_equal_the_reference() {
    let server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    for ds in [data::raw_instance(&server.url, "raw"), data::fields_instance(&server.url)] {
        every_question(&plugin, &ds, loaded.records).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_and_alerting_on_loki_equal_the_reference() {
    let Some(engine) = common::loki::Engine::start().await else { return };
    let records = data::records();
    engine.push(&data::RAW_STREAM, common::loki::raw_lines(records)).await;
    let plugin = Plugin::start().await;
    let mut ds = data::raw_instance(&engine.url, "loki");
    ds.json_data["backend"] = json!("loki");
    every_question(&plugin, &ds, records).await;
}
