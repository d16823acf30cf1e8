//! The plugin binary over gRPC against a real VictoriaLogs loaded with the
//! generated fixture: every panel of the NAT-gateway dashboard, in both
//! record modes, on a single node and on a cluster, equal to the
//! independent reference.

mod common;

use common::data::{self, NAT_ENI, POD_CIDR};
use common::harness::{Instance, Plugin};
use common::panels::{Checker, Window};
use common::reference::{self as r, Dir, RefFilter, RefQuery};
use flowlens_devtools::gen::{FlowRecord, DEFAULT_V2_FORMAT, MISSION_FORMAT};
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};

fn raw_instance(url: &str) -> Instance {
    data::raw_instance(url, "raw")
}

fn fields_instance(url: &str) -> Instance {
    data::fields_instance(url)
}

const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };
/// Not aligned to buckets at either end; the first and last buckets are partial.
const ODD: Window =
    Window { from_ms: data::FROM_MS + 433_000, to_ms: data::TO_MS - 3 * 3_600_000 - 17_000, interval_ms: 600_000 };

async fn dashboard(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], with_logs: bool) {
    for w in [DAY, ODD] {
        let check = Checker { plugin, ds, records, w };
        for direction in ["any", "in", "out"] {
            check.stat(direction).await;
        }
        check.rate_series("in").await;
        check.rate_series("out").await;
        check.top_table(&["pkt_srcaddr"], 10).await;
        check.top_table(&["pkt_dstaddr"], 10).await;
        check.top_table(&["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], 10).await;
        check.top_series(10).await;
    }
    if with_logs {
        let check = Checker { plugin, ds, records, w: DAY };
        check.logs(MISSION_FORMAT).await;
        // The check's own proof: the same answer with its newest record
        // repeated in place of the next one, or a body changed, fails it.
        let target = json!({"refId": "L", "format": "logs", "limit": 25});
        let reference = DAY.reference(Dir::Any);
        let frames = check.frames(&target).await;
        check.verify_logs(&target, &reference, MISSION_FORMAT, &frames);
        let doctored = |change: &dyn Fn(&mut Vec<common::harness::DecodedField>)| {
            let mut frames = frames.clone();
            change(&mut frames[0].fields);
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check.verify_logs(&target, &reference, MISSION_FORMAT, &frames)
            }));
            assert!(caught.is_err(), "a doctored logs answer must fail the check");
        };
        doctored(&|fields| {
            for f in fields.iter_mut() {
                f.values[1] = f.values[0].clone();
            }
        });
        doctored(&|fields| {
            let body = fields.iter_mut().find(|f| f.name == "body").unwrap();
            body.values[3] = json!(format!("{} ", body.values[3].as_str().unwrap()));
        });
        if ds.json_data["recordMode"] == "fields" {
            doctored(&|fields| {
                let labels = fields.iter_mut().find(|f| f.name == "labels").unwrap();
                labels.values[2]["dst_port"] = json!("1");
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_panels_equal_the_reference_on_a_single_node() {
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    let records = loaded.records;

    dashboard(&plugin, &raw_instance(&server.url), records, true).await;
    dashboard(&plugin, &fields_instance(&server.url), records, true).await;

    // Data links from the settings ride on the address column.
    let frames = plugin
        .query_one(
            &raw_instance(&server.url),
            (DAY.from_ms, DAY.to_ms),
            DAY.interval_ms,
            json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 3}),
        )
        .await;
    assert_eq!(frames[0].field("pkt_srcaddr").config["links"][0]["url"], "https://ipinfo.io/${__value.raw}");

    // The default version-2 format: no pkt_* fields, so filters on srcaddr/dstaddr.
    let v2 = Instance {
        url: server.url.clone(),
        uid: "v2".into(),
        json_data: json!({"streamSelector": "{environment=\"v2\"}", "recordFormat": DEFAULT_V2_FORMAT}),
        ..Default::default()
    };
    let target = json!({"refId": "A", "format": "table", "metric": "packets", "groupBy": ["dstport"], "limit": 5,
        "filters": [{"field": "dstaddr", "op": "cidr", "value": POD_CIDR}, {"field": "action", "op": "=", "value": "ACCEPT"}]});
    let frames = plugin.query_one(&v2, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, target).await;
    let mut q = RefQuery::new(Dir::All, POD_CIDR, None, DAY.from_ms, DAY.to_ms);
    q.metric = r::Metric::Packets;
    q.filters = vec![RefFilter::cidr("dstaddr", POD_CIDR), RefFilter::eq("action", "ACCEPT")];
    let expected: Vec<(Vec<String>, u64)> = r::groups(records, &q, &["dstport"]).into_iter().take(5).collect();
    let got_ports: Vec<u64> = frames[0].field("dstport").values.iter().map(|v| v.as_u64().unwrap()).collect();
    let got_packets: Vec<u64> = frames[0].field("packets").values.iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(got_ports, expected.iter().map(|(k, _)| k[0].parse::<u64>().unwrap()).collect::<Vec<_>>());
    assert_eq!(got_packets, expected.iter().map(|(_, v)| *v).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_are_anchored_and_values_are_data() {
    let server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    let ds = raw_instance(&server.url);
    let records = loaded.records;
    let cases: Vec<(Value, Vec<RefFilter>)> = vec![
        // The mission's trap: an unanchored `10.0.32.1` also matched 10.0.32.1x and 110.0.32.1.
        (
            json!([{"field": "pkt_srcaddr", "op": "=~", "value": "10\\.0\\.32\\.1"}]),
            vec![RefFilter::regex("pkt_srcaddr", "10\\.0\\.32\\.1")],
        ),
        (
            json!([{"field": "pkt_dstaddr", "op": "=~", "value": "10\\.0\\.3[23]\\..*|10\\.0\\.40\\.7"}]),
            vec![RefFilter::regex("pkt_dstaddr", "10\\.0\\.3[23]\\..*|10\\.0\\.40\\.7")],
        ),
        (
            json!([{"field": "pkt_srcaddr", "op": "=~", "value": ".*"}, {"field": "dstport", "op": "range", "value": "1024-65535"}]),
            vec![RefFilter::range("dstport", 1024, 65535)],
        ),
        (
            json!([{"field": "pkt_dstaddr", "op": "cidr", "value": "10.0.40.0/22"}, {"field": "srcport", "op": "=", "value": "443"}]),
            vec![RefFilter::cidr("pkt_dstaddr", "10.0.40.0/22"), RefFilter::eq("srcport", "443")],
        ),
        (
            json!([{"field": "action", "op": "=", "value": "x\" or action:=\"ACCEPT"}]),
            vec![RefFilter::eq("action", "x\" or action:=\"ACCEPT")],
        ),
        (
            json!([{"field": "pkt_src_aws_service", "op": "!=", "value": "S3"}]),
            vec![RefFilter::Ne("pkt_src_aws_service".into(), "S3".into())],
        ),
    ];
    let sided: Vec<(Value, Vec<RefFilter>)> = vec![
        // Direction-relative addresses: one pod both ways, to and from remotes in 52.0.0.0/8.
        (
            json!([{"field": "inside_addr", "op": "=~", "value": "10\\.0\\.3[2-5]\\..*"}, {"field": "outside_addr", "op": "cidr", "value": "52.0.0.0/8"}]),
            vec![
                RefFilter::regex("inside_addr", "10\\.0\\.3[2-5]\\..*"),
                RefFilter::cidr("outside_addr", "52.0.0.0/8"),
            ],
        ),
        (
            json!([{"field": "outside_addr", "op": "=", "value": "110.0.32.1"}]),
            vec![RefFilter::eq("outside_addr", "110.0.32.1")],
        ),
    ];
    for (filters, ref_filters) in &sided {
        for (direction, dir) in [("in", Dir::In), ("out", Dir::Out), ("any", Dir::Any)] {
            let target = json!({"refId": "F", "format": "stat", "direction": direction, "filters": filters});
            let frames = plugin.query_one(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, target.clone()).await;
            let mut q = RefQuery::new(dir, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
            q.filters = ref_filters.clone();
            let expected = r::total(records, &q);
            assert!(expected > 0, "{target}: the fixture must have such traffic");
            assert_eq!(frames[0].field("bytes").values, vec![json!(expected)], "{target}");
        }
    }
    for (filters, ref_filters) in cases {
        for direction in ["in", "out"] {
            let target = json!({"refId": "F", "format": "stat", "direction": direction, "filters": filters});
            let frames = plugin.query_one(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, target.clone()).await;
            let mut q = RefQuery::new(
                if direction == "in" { Dir::In } else { Dir::Out },
                POD_CIDR,
                Some(NAT_ENI),
                DAY.from_ms,
                DAY.to_ms,
            );
            q.filters = ref_filters.clone();
            assert_eq!(frames[0].field("bytes").values, vec![json!(r::total(records, &q))], "{target}");
        }
    }

    // One bad target does not take the others down; errors name the field.
    let answers = plugin
        .query(
            &ds,
            (DAY.from_ms, DAY.to_ms),
            DAY.interval_ms,
            &[
                json!({"refId": "good", "format": "stat", "direction": "in"}),
                json!({"refId": "bad-op", "filters": [{"field": "pkt_srcaddr", "op": "like", "value": "x"}]}),
                json!({"refId": "bad-regex", "filters": [{"field": "pkt_srcaddr", "op": "=~", "value": "a)|(b"}]}),
                json!({"refId": "bad-type", "limit": "ten"}),
                json!({"refId": "bad-raw", "rawQuery": "| nonsense ("}),
            ],
        )
        .await;
    assert!(answers["good"].error.is_empty(), "{:?}", answers["good"]);
    assert!(answers["bad-op"].error.contains("op `like`"), "{:?}", answers["bad-op"]);
    assert_eq!(answers["bad-op"].status, 400);
    assert_eq!(answers["bad-op"].error_source, "plugin");
    assert!(answers["bad-regex"].error.contains("regex for `pkt_srcaddr` is invalid"), "{:?}", answers["bad-regex"]);
    assert!(answers["bad-type"].error.contains("`limit`"), "{:?}", answers["bad-type"]);
    assert!(answers["bad-raw"].error.contains("VictoriaLogs rejected the query"), "{:?}", answers["bad-raw"]);
    // The error source as Grafana's server reads it (tests/grafana-go): the
    // query's fault or the backend's.
    for bad_query in ["bad-op", "bad-regex", "bad-type"] {
        assert_eq!(answers[bad_query].error_source, "plugin", "{bad_query}: {:?}", answers[bad_query]);
    }
    assert_eq!(answers["bad-raw"].error_source, "downstream");
    assert_eq!(answers["good"].error_source, "", "no error, no error source");
    let mut plugin = plugin;
    assert!(plugin.alive(), "the plugin keeps serving");

    // Resource calls: the editor's preview, variable values, fields.
    let (code, body) = plugin
        .resource(
            &ds,
            "POST",
            "render",
            json!({"query": {"format": "stat", "direction": "in"}, "range": {"from": DAY.from_ms, "to": DAY.to_ms}}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body["queries"][0].as_str().unwrap().contains("pkt_dstaddr:ipv4_range(\"10.0.32.0/20\")"), "{body}");
    let (code, body) = plugin.resource(&ds, "POST", "render", json!({"query": {"format": "pie"}})).await;
    assert_eq!(code, 400);
    assert!(body["error"].as_str().unwrap().contains("`format`"), "{body}");
    let (code, body) = plugin
        .resource(&ds, "POST", "values", json!({"field": "pkt_dstaddr", "query": {"direction": "in"}, "range": {"from": DAY.from_ms, "to": DAY.to_ms}, "limit": 5}))
        .await;
    assert_eq!(code, 200, "{body}");
    let top_pods: Vec<String> =
        r::groups(records, &RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms), &["pkt_dstaddr"])
            .into_iter()
            .take(5)
            .map(|(k, _)| k[0].clone())
            .collect();
    assert_eq!(body["values"], json!(top_pods));
    let (code, body) = plugin.resource(&ds, "GET", "fields", Value::Null).await;
    assert_eq!(code, 200);
    assert_eq!(body["fields"].as_array().unwrap().len(), 21, "19 record fields and inside_addr, outside_addr");
    let (code, _) = plugin.resource(&ds, "GET", "nope", Value::Null).await;
    assert_eq!(code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_gives_the_same_numbers() {
    let cluster = VlServer::start_cluster(VlOptions::default()).await.expect("VictoriaLogs cluster must start");
    let loaded = data::load_into(&cluster.insert_url, &cluster.flush_urls()).await;
    let plugin = Plugin::start().await;
    let records = loaded.records;
    for ds in [raw_instance(&cluster.select_url), fields_instance(&cluster.select_url)] {
        let day = Checker { plugin: &plugin, ds: &ds, records, w: DAY };
        for direction in ["any", "in", "out"] {
            day.stat(direction).await;
        }
        day.top_table(&["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], 10).await;
        Checker { w: ODD, ..day }.top_series(10).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_queries_and_table_other() {
    let server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    let ds = raw_instance(&server.url);
    let records = loaded.records;
    let range = (DAY.from_ms, DAY.to_ms);

    // A table with `other`: the top 5 plus everything else, adding up to the total.
    let frames = plugin
        .query_one(&ds, range, DAY.interval_ms, json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "other": true}))
        .await;
    let reference = RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms);
    let top: Vec<(Vec<String>, u64)> = r::groups(records, &reference, &["pkt_srcaddr"]).into_iter().take(5).collect();
    let total = r::total(records, &reference);
    let mut want: Vec<u64> = top.iter().map(|(_, v)| *v).collect();
    want.push(total - want.iter().sum::<u64>());
    let got: Vec<u64> = frames[0].field("bytes").values.iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(got, want);
    assert_eq!(frames[0].field("pkt_srcaddr").values.last().unwrap(), "other");

    // A hand-written query: the plugin applies the time range.
    let frames = plugin
        .query_one(&ds, (DAY.from_ms, DAY.from_ms + 3_600_000), DAY.interval_ms,
            json!({"refId": "R", "rawQuery": "{logtype=\"flow\", environment=\"ops\"} \"eni-0352f8c82da6aa229\" | stats count() as n"}))
        .await;
    let hour = RefQuery::new(Dir::All, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.from_ms + 3_600_000);
    let expected = r::matching(records, &hour).count() as f64;
    assert_eq!(frames[0].field("n").values, vec![json!(expected)]);
    assert!(frames[0].meta["executedQueryString"].as_str().unwrap().contains("stats count() as n"));

    // A hand-written stats query as series: stepped by the plugin with stats_query_range.
    let frames = plugin
        .query_one(&ds, (DAY.from_ms, DAY.from_ms + 3_600_000), 600_000,
            json!({"refId": "R", "format": "series", "rawQuery": "{logtype=\"flow\", environment=\"ops\"} \"eni-0352f8c82da6aa229\" | stats count() as n"}))
        .await;
    assert_eq!(frames.len(), 1);
    let mut counts = hour.clone();
    counts.metric = r::Metric::Records;
    let want = r::buckets(records, &counts, &[], 600_000).remove(&Vec::new()).unwrap_or_default();
    assert_eq!(want.len(), 6, "the hour's six steps have records");
    assert_eq!(stepped(&frames[0]), want, "each step's count equal to the reference's");
}

/// A stepped raw series as its values by step start, ms.
fn stepped(f: &common::harness::DecodedFrame) -> std::collections::BTreeMap<i64, u64> {
    let times = f.fields[0].values.iter().map(|t| t.as_i64().unwrap() / 1_000_000);
    times.zip(f.fields[1].values.iter().map(|v| v.as_f64().unwrap() as u64)).filter(|(_, v)| *v > 0).collect()
}
