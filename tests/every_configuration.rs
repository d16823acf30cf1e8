//! Right numbers in every configuration, through the plugin binary over gRPC
//! against a real VictoriaLogs, each equal to the independent reference:
//! inside CIDRs that hold the NAT gateway's own address (the whole VPC),
//! set and comparison filters, several interfaces, fields without a value
//! (`-`), IPv6 addresses and networks, and `other` rows on numeric columns.
//! Every check runs on raw records and on fields parsed at ingest.

mod common;

use common::data::{self, NAT_ENI, POD_CIDR};
use common::harness::{Instance, Plugin};
use common::panels::{Checker, Window};
use common::reference::{self as r, Cidr, Dir, RefFilter, RefQuery};
use flowlens_devtools::gen::{FlowRecord, LB_ENI, NAT_PRIVATE_IP};
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};

const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };
const VPC_CIDR: &str = "10.0.0.0/16";

/// Both record modes of the fixture, with some jsonData replaced.
fn instances(url: &str, extra: Value) -> Vec<Instance> {
    [data::raw_instance(url, "raw"), data::fields_instance(url)]
        .into_iter()
        .map(|mut ds| {
            ds.json_data.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            ds.uid = format!("{}-{}", ds.uid, extra);
            ds
        })
        .collect()
}

async fn stat(plugin: &Plugin, ds: &Instance, target: Value) -> u64 {
    let frames = plugin.query_one(ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, target.clone()).await;
    assert_eq!(frames.len(), 1, "{target}");
    let field = frames[0].fields.iter().find(|f| f.data_type == arrow::datatypes::DataType::UInt64).unwrap();
    field.values[0].as_u64().unwrap_or_else(|| panic!("{target}: {:?}", field.values))
}

fn vpc_reference(direction: Dir) -> RefQuery {
    let mut q = RefQuery::new(direction, VPC_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
    q.own = vec![NAT_PRIVATE_IP.to_string()];
    q
}

/// The VPC CIDR holds the NAT gateway's own address, which its
/// NAT<->remote legs carry in `pkt_srcaddr`/`pkt_dstaddr`: counted as
/// inside, every NAT byte would count twice. Detected from the records, or
/// set as `natAddresses`, the address is neither inside nor outside.
async fn nat_address_is_neither_inside_nor_outside(plugin: &Plugin, url: &str, records: &[FlowRecord]) {
    let pods = instances(url, json!({}));
    for extra in
        [json!({"insideCidrs": [VPC_CIDR]}), json!({"insideCidrs": [VPC_CIDR], "natAddresses": [NAT_PRIVATE_IP]})]
    {
        for (ds, pod_ds) in instances(url, extra.clone()).iter().zip(&pods) {
            for (direction, dir) in [("any", Dir::Any), ("in", Dir::In), ("out", Dir::Out)] {
                let what = format!("{extra} {} {direction}", ds.uid);
                let got = stat(plugin, ds, json!({"refId": "A", "format": "stat", "direction": direction})).await;
                let want = r::total(records, &vpc_reference(dir));
                assert_eq!(got, want, "{what}");
                // What the fault gave: the NAT's own legs counted as inside.
                let mut doubled = vpc_reference(dir);
                doubled.own.clear();
                assert!(r::total(records, &doubled) > want, "{what}: the fixture must show the fault");
                // The pods' share is the same bytes as with the pod subnet as inside.
                let pods_only = json!({"refId": "A", "format": "stat", "direction": direction,
                    "filters": [{"field": "inside_addr", "op": "cidr", "value": POD_CIDR}]});
                let pod_subnet = json!({"refId": "A", "format": "stat", "direction": direction});
                assert_eq!(stat(plugin, ds, pods_only).await, stat(plugin, pod_ds, pod_subnet).await, "{what}");
            }
            let frames = plugin
                .query_one(ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, json!({"refId": "A", "format": "stat"}))
                .await;
            let notices = frames[0].meta["notices"].to_string();
            assert!(notices.contains("hold 10.0.0.57, the interface's own address"), "{notices}");
            let check = Checker { plugin, ds, records, w: DAY };
            check.check_top_table(
                json!({"refId": "T", "format": "table", "direction": "out", "groupBy": ["pkt_srcaddr"], "limit": 10}),
                &vpc_reference(Dir::Out),
            )
            .await;
            check
                .check_rate_series(
                    json!({"refId": "S", "format": "series", "direction": "in", "rate": true}),
                    &vpc_reference(Dir::In),
                )
                .await;
        }
    }
}

/// Grafana's ad-hoc operators and multi-value variables: set matches,
/// comparisons, several interfaces.
async fn set_and_comparison_filters(plugin: &Plugin, url: &str, records: &[FlowRecord]) {
    let cases: Vec<(Value, Vec<RefFilter>)> = vec![
        (
            json!([{"field": "dstport", "op": "=|", "value": ["443", "53", "123"]}]),
            vec![RefFilter::In("dstport".into(), vec!["443".into(), "53".into(), "123".into()])],
        ),
        (
            json!([{"field": "pkt_srcaddr", "op": "!=|", "value": ["10.0.32.7", "10.0.32.8"]}, {"field": "action", "op": "=|", "value": ["REJECT"]}]),
            vec![
                RefFilter::NotIn("pkt_srcaddr".into(), vec!["10.0.32.7".into(), "10.0.32.8".into()]),
                RefFilter::In("action".into(), vec!["REJECT".into()]),
            ],
        ),
        (
            json!([{"field": "srcport", "op": "<", "value": "1024"}, {"field": "bytes", "op": ">", "value": 1500}]),
            vec![RefFilter::range("srcport", 0, 1023), RefFilter::range("bytes", 1501, u64::MAX)],
        ),
        (
            json!([{"field": "dstport", "op": "<=", "value": "443"}, {"field": "packets", "op": ">=", "value": "3"}]),
            vec![RefFilter::range("dstport", 0, 443), RefFilter::range("packets", 3, u64::MAX)],
        ),
    ];
    for ds in instances(url, json!({})) {
        for (filters, ref_filters) in &cases {
            for (direction, dir) in [("in", Dir::In), ("out", Dir::Out)] {
                let target = json!({"refId": "F", "format": "stat", "direction": direction, "filters": filters});
                let mut q = RefQuery::new(dir, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
                q.filters = ref_filters.clone();
                let want = r::total(records, &q);
                assert_eq!(stat(plugin, &ds, target.clone()).await, want, "{} {target}", ds.uid);
            }
        }
        // Several interfaces (a multi-value variable): the bytes of either.
        let target = json!({"refId": "I", "format": "stat", "direction": "all", "interfaceId": [NAT_ENI, LB_ENI]});
        let on = |eni: &str| r::total(records, &RefQuery::new(Dir::All, POD_CIDR, Some(eni), DAY.from_ms, DAY.to_ms));
        assert_eq!(stat(plugin, &ds, target).await, on(NAT_ENI) + on(LB_ENI), "{}", ds.uid);
    }
}

/// A field AWS writes as `-` (NODATA and SKIPDATA records) has no value,
/// the same in both record modes: `= "-"` finds it, a regex that matches
/// the empty string matches it, group keys show it as "".
async fn fields_without_a_value(plugin: &Plugin, url: &str, records: &[FlowRecord]) {
    let no_value = |field: &str| records.iter().filter(|r| r.get(field).is_none()).count();
    assert!(no_value("srcport") > 0 && no_value("pkt_srcaddr") > 0, "the fixture must have `-` fields");
    let cases: Vec<(Value, Vec<RefFilter>)> = vec![
        (json!([{"field": "srcport", "op": "=", "value": "-"}]), vec![RefFilter::eq("srcport", "-")]),
        (json!([{"field": "srcport", "op": "=", "value": ""}]), vec![RefFilter::eq("srcport", "")]),
        (json!([{"field": "srcaddr", "op": "!=", "value": "-"}]), vec![RefFilter::Ne("srcaddr".into(), "-".into())]),
        (json!([{"field": "srcport", "op": "=~", "value": "(443)?"}]), vec![RefFilter::regex("srcport", "(443)?")]),
        (
            json!([{"field": "pkt_srcaddr", "op": "!~", "value": ".+"}]),
            vec![RefFilter::NotRegex("pkt_srcaddr".into(), r::anchored(".+"))],
        ),
        (
            json!([{"field": "action", "op": "=|", "value": ["-", "REJECT"]}]),
            vec![RefFilter::In("action".into(), vec!["-".into(), "REJECT".into()])],
        ),
    ];
    for ds in instances(url, json!({})) {
        for (filters, ref_filters) in &cases {
            let target =
                json!({"refId": "N", "format": "stat", "metric": "records", "direction": "all", "filters": filters});
            let mut q = RefQuery::new(Dir::All, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
            q.metric = r::Metric::Records;
            q.filters = ref_filters.clone();
            let want = r::total(records, &q);
            assert!(want > 0, "{target}: the fixture must have such records");
            assert_eq!(stat(plugin, &ds, target.clone()).await, want, "{} {target}", ds.uid);
        }
        // Group keys of records without a value read "" in both modes.
        let target = json!({"refId": "G", "format": "table", "metric": "records", "direction": "all",
            "groupBy": ["action"], "limit": 5});
        let mut q = RefQuery::new(Dir::All, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
        q.metric = r::Metric::Records;
        let want = r::groups(records, &q, &["action"]);
        assert!(want.iter().any(|(k, _)| k[0].is_empty()), "the fixture must have records without an action");
        let frames = plugin.query_one(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, target).await;
        let keys: Vec<&str> = frames[0].field("action").values.iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(keys, want.iter().map(|(k, _)| k[0].as_str()).collect::<Vec<_>>(), "{}", ds.uid);
        let counts: Vec<u64> = frames[0].field("records").values.iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(counts, want.iter().map(|(_, n)| *n).collect::<Vec<_>>(), "{}", ds.uid);
    }
}

/// IPv6 clients of the dual-stack load balancer: CIDR filters, IPv6 inside
/// networks and IPv6 group keys give exact numbers.
async fn ipv6(plugin: &Plugin, url: &str, records: &[FlowRecord]) {
    let v6_clients = "2600::/12";
    for ds in instances(url, json!({"interfaceId": LB_ENI, "insideCidrs": [v6_clients, "2001:db8::/32"]})) {
        let mut q = RefQuery::new(Dir::Out, v6_clients, Some(LB_ENI), DAY.from_ms, DAY.to_ms);
        q.inside.push(Cidr::parse("2001:db8::/32"));
        let check = Checker { plugin, ds: &ds, records, w: DAY };
        check.check_stat(json!({"refId": "A", "format": "stat", "direction": "out"}), &q).await;
        let expected = r::groups(records, &q, &["pkt_srcaddr"]);
        assert!(expected.len() >= 3 && expected.iter().all(|(k, _)| k[0].contains(':')), "IPv6 sources: {expected:?}");
        check
            .check_top_table(
                json!({"refId": "T", "format": "table", "direction": "out", "groupBy": ["pkt_srcaddr"], "limit": 3}),
                &q,
            )
            .await;
        // An IPv6 CIDR filter and its negation split the total exactly.
        let mut all = RefQuery::new(Dir::All, v6_clients, Some(LB_ENI), DAY.from_ms, DAY.to_ms);
        let total = r::total(records, &all);
        all.filters = vec![RefFilter::cidr("srcaddr", "2606:4700::/32")];
        let inside = r::total(records, &all);
        assert!(inside > 0 && inside < total, "the fixture must have traffic both sides of 2606:4700::/32");
        for (op, want) in [("cidr", inside), ("!cidr", total - inside)] {
            let target = json!({"refId": "C", "format": "stat", "direction": "all",
                "filters": [{"field": "srcaddr", "op": op, "value": "2606:4700::/32"}]});
            assert_eq!(stat(plugin, &ds, target).await, want, "{} {op}", ds.uid);
        }
    }
}

/// `other` on a numeric group-by column: the column holds the label, so
/// every row of the table reads.
async fn other_row_on_a_numeric_column(plugin: &Plugin, url: &str, records: &[FlowRecord]) {
    for ds in instances(url, json!({})) {
        let target = json!({"refId": "P", "format": "table", "direction": "in", "groupBy": ["srcport", "pkt_srcaddr"],
            "limit": 4, "other": true});
        let frames = plugin.query_one(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, target).await;
        let q = RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
        let top: Vec<(Vec<String>, u64)> =
            r::groups(records, &q, &["srcport", "pkt_srcaddr"]).into_iter().take(4).collect();
        let mut ports: Vec<Value> = top.iter().map(|(k, _)| json!(k[0])).collect();
        ports.push(json!("other"));
        assert_eq!(frames[0].field("srcport").values, ports, "{}", ds.uid);
        let mut bytes: Vec<u64> = top.iter().map(|(_, v)| *v).collect();
        bytes.push(r::total(records, &q) - bytes.iter().sum::<u64>());
        assert_eq!(frames[0].field("bytes").values, bytes.iter().map(|b| json!(b)).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_right_in_every_configuration() {
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    let records = loaded.records;
    nat_address_is_neither_inside_nor_outside(&plugin, &server.url, records).await;
    set_and_comparison_filters(&plugin, &server.url, records).await;
    fields_without_a_value(&plugin, &server.url, records).await;
    ipv6(&plugin, &server.url, records).await;
    other_row_on_a_numeric_column(&plugin, &server.url, records).await;
}
