//! The reuse layer (`src/reuse/`) against a real VictoriaLogs, through the
//! plugin binary over gRPC: records of the last six hours, so that the last
//! `cacheSettleMinutes` (30) are unsettled. Every panel kind, on raw records
//! and fields parsed at ingest, on a datasource with the cache and one
//! without (`cacheMaxMiB: 0`), each equal to the independent reference:
//! first load, the refresh a minute later (answered in part from the cache:
//! the executed query says so), records that arrive late inside the settle
//! window (seen), records that arrive later than that (not seen by settled
//! buckets, as documented, and seen with `cache: false`), and the same
//! dashboard sent twice at once (single flight: equal answers).

mod common;

use common::data::{self, NAT_ENI, POD_CIDR};
use common::harness::{Instance, Plugin};
use common::panels::{reference_for, Checker, Window};
use common::reference::{self as r, Dir};
use flowlens_devtools::gen::{generate, FlowRecord, GenConfig, MISSION_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::json;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn records(seed: u64, from_ms: i64, to_ms: i64, connections: usize) -> Vec<FlowRecord> {
    generate(&GenConfig {
        seed,
        from_ms,
        to_ms,
        connections,
        nat_eni: NAT_ENI.into(),
        pod_cidr: POD_CIDR.into(),
        pods: 300,
        remotes: 3000,
    })
}

async fn push(url: &str, records: &[FlowRecord]) {
    let loader = Loader::new(url);
    loader.push_raw(records, MISSION_FORMAT, &data::RAW_STREAM).await.expect("push raw lines");
    loader.push_fields(records, &data::FIELDS_STREAM, &data::field_name).await.expect("push fields");
    loader.force_flush().await.expect("flush");
}

/// Raw and fields datasources, each with the cache (the default) and without.
fn instances(url: &str) -> Vec<(Instance, bool)> {
    let mut out = Vec::new();
    for ds in [data::raw_instance(url, "raw"), data::fields_instance(url)] {
        let mut off = ds.clone();
        off.uid = format!("{}-nocache", ds.uid);
        off.json_data["cacheMaxMiB"] = json!(0);
        out.push((ds, true));
        out.push((off, false));
    }
    out
}

/// Every panel kind of the dashboard, checked against the reference.
async fn every_panel(check: &Checker<'_>) {
    check.stat("in").await;
    check.stat("out").await;
    check.rate_series("in").await;
    check.top_table(&["pkt_srcaddr"], 10).await;
    check.top_table(&["pkt_dstaddr", "pkt_srcaddr"], 10).await;
    check.top_series(5).await;
}

/// The executed query of a stat target, and its value.
async fn stat(plugin: &Plugin, ds: &Instance, w: Window, target: serde_json::Value) -> (String, u64) {
    let frames = plugin.query_one(ds, (w.from_ms, w.to_ms), w.interval_ms, target).await;
    let executed = frames[0].meta["executedQueryString"].as_str().unwrap_or_default().to_string();
    (executed, frames[0].fields[0].values[0].as_u64().expect("a u64 stat"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_equal_the_reference_and_late_records_count() {
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let now = chrono::Utc::now().timestamp_millis();
    let mut all = records(7, now - 6 * HOUR, now - 2 * MIN, 3000);
    push(&server.url, &all).await;
    let plugin = Plugin::start().await;
    let instances = instances(&server.url);
    // Five hours and a bit, unaligned, ending now; then a minute later.
    let first = Window { from_ms: now - 5 * HOUR - 7 * MIN - 3_456, to_ms: now, interval_ms: 5 * MIN };
    let later = Window { from_ms: first.from_ms + MIN, to_ms: first.to_ms + MIN, ..first };

    for (ds, _) in &instances {
        every_panel(&Checker { plugin: &plugin, ds, records: &all, w: first }).await;
        every_panel(&Checker { plugin: &plugin, ds, records: &all, w: later }).await;
    }
    let stat_in = json!({"refId": "A", "format": "stat", "direction": "in"});
    for (ds, cached) in &instances {
        let (executed, _) = stat(&plugin, ds, later, stat_in.clone()).await;
        assert_eq!(executed.contains("from the datasource's cache"), *cached, "{}: {executed}", ds.uid);
    }

    // Late inside the settle window: the unsettled tail is always read.
    let late = records(8, now - 25 * MIN, now - 5 * MIN, 300);
    push(&server.url, &late).await;
    all.extend(late);
    for (ds, _) in &instances {
        every_panel(&Checker { plugin: &plugin, ds, records: &all, w: later }).await;
    }

    // Later than the settle time: settled buckets already kept do not see
    // them; `cache: false` does, and so does a datasource without the cache.
    let very_late = records(9, now - 4 * HOUR, now - 3 * HOUR, 300);
    push(&server.url, &very_late).await;
    let before = r::total(&all, &later.reference(Dir::In));
    all.extend(very_late);
    let after = r::total(&all, &later.reference(Dir::In));
    assert!(after > before, "the very late records add bytes in");
    let bypass = json!({"refId": "A", "format": "stat", "direction": "in", "cache": false});
    for (ds, cached) in &instances {
        let (_, value) = stat(&plugin, ds, later, stat_in.clone()).await;
        assert_eq!(value, if *cached { before } else { after }, "{}: settled buckets are kept", ds.uid);
        let (executed, value) = stat(&plugin, ds, later, bypass.clone()).await;
        assert_eq!(value, after, "{}: cache false reads everything", ds.uid);
        assert!(!executed.contains("cache"), "{executed}");
    }
    for (ds, cached) in &instances {
        if !cached {
            every_panel(&Checker { plugin: &plugin, ds, records: &all, w: later }).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_sent_twice_at_once_gets_equal_answers() {
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let now = chrono::Utc::now().timestamp_millis();
    let recs = records(11, now - 3 * HOUR, now, 2000);
    push(&server.url, &recs).await;
    let plugin = Plugin::start().await;
    let ds = data::raw_instance(&server.url, "raw");
    let w = Window { from_ms: now - 3 * HOUR, to_ms: now, interval_ms: 5 * MIN };
    let check = Checker { plugin: &plugin, ds: &ds, records: &recs, w };
    // The same panels twice, concurrently, on a cold datasource: both equal
    // to the reference.
    tokio::join!(every_panel(&check), every_panel(&check));
}

/// The executed query of a frame.
fn executed(frame: &common::harness::DecodedFrame) -> &str {
    frame.meta["executedQueryString"].as_str().unwrap_or_default()
}

/// Coalescing: a refresh's totals and ungrouped series over the same
/// records (other directions, filters) are answered by one scan per shape,
/// each question its own exact answer; questions too long to send together
/// are asked alone, each still exact. On every datasource kind, with and
/// without the cache. With fields parsed at ingest a question with filters
/// is asked alone: VictoriaLogs matches a regex on a numeric field inside
/// `stats ... if (...)` on fewer records than before the first pipe (this
/// test found it: D's port filter). The window is widened so the test does
/// not depend on scheduling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_of_one_refresh_share_one_scan_and_keep_their_own_answers() {
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let now = chrono::Utc::now().timestamp_millis();
    let recs = records(13, now - 3 * HOUR, now, 2000);
    push(&server.url, &recs).await;
    let plugin = Plugin::start().await;
    let w = Window { from_ms: now - 3 * HOUR + 17 * MIN + 123, to_ms: now, interval_ms: 5 * MIN };
    let ports = |from: u32, to: u32| {
        let mut ports: Vec<String> = (from..to).map(|p| p.to_string()).collect();
        ports.push("443".into());
        ports.join("|")
    };
    // The remote end's port: the source's into the pods, else the destination's.
    let port_field = |dir: Dir| if dir == Dir::In { "srcport" } else { "dstport" };
    let with_ports = |dir: Dir, re: &str| {
        let mut reference = w.reference(dir);
        reference.filters.push(r::RefFilter::Regex(port_field(dir).into(), r::anchored(re)));
        reference
    };
    let stat = |ref_id: &str, dir: Dir, ports: Option<&str>| {
        let filters: Vec<_> =
            ports.iter().map(|re| json!({"field": port_field(dir), "op": "=~", "value": re})).collect();
        let direction = match dir {
            Dir::In => "in",
            Dir::Out => "out",
            _ => "any",
        };
        json!({"refId": ref_id, "format": "stat", "direction": direction, "filters": filters})
    };
    for (mut ds, _) in instances(&server.url) {
        ds.json_data["coalesceWindowMs"] = json!(300);
        let check = Checker { plugin: &plugin, ds: &ds, records: &recs, w };
        let few = "443|80|8080";
        let stats = [
            (stat("A", Dir::In, None), w.reference(Dir::In)),
            (stat("B", Dir::Out, None), w.reference(Dir::Out)),
            (stat("C", Dir::Any, None), w.reference(Dir::Any)),
            (stat("D", Dir::In, Some(few)), with_ports(Dir::In, few)),
        ];
        let rates = [
            (json!({"refId": "E", "format": "series", "direction": "in", "rate": true}), w.reference(Dir::In)),
            (json!({"refId": "F", "format": "series", "direction": "out", "rate": true}), w.reference(Dir::Out)),
        ];
        let targets: Vec<_> = stats.iter().chain(&rates).map(|(t, _)| t.clone()).collect();
        let answers = plugin.query(&ds, (w.from_ms, w.to_ms), w.interval_ms, &targets).await;
        let fields = ds.json_data["recordMode"] == "fields";
        for (target, reference) in &stats {
            let frames = &answers[target["refId"].as_str().unwrap()].frames;
            check.verify_stat(target, reference, frames);
            let (filtered, text) = (!target["filters"].as_array().unwrap().is_empty(), executed(&frames[0]));
            match (fields, filtered) {
                (false, _) => assert!(text.contains("one scan for 4 questions"), "{}: {text}", ds.uid),
                (true, false) => assert!(text.contains("one scan for 3 questions"), "{}: {text}", ds.uid),
                (true, true) => assert!(!text.contains("one scan for"), "{}: asked alone: {text}", ds.uid),
            }
        }
        for (target, reference) in &rates {
            let frames = &answers[target["refId"].as_str().unwrap()].frames;
            check.verify_rate_series(target, reference, frames);
            assert!(executed(&frames[0]).contains("one scan for 2 questions"), "{}: {}", ds.uid, executed(&frames[0]));
        }

        // Together longer than VictoriaLogs' -search.maxQueryLen (16 KiB),
        // each alone shorter: asked alone, each exact.
        let (long_in, long_out) = (ports(1000, 3000), ports(3000, 5000));
        let long = [
            (stat("G", Dir::In, Some(&long_in)), with_ports(Dir::In, &long_in)),
            (stat("H", Dir::Out, Some(&long_out)), with_ports(Dir::Out, &long_out)),
        ];
        let targets: Vec<_> = long.iter().map(|(t, _)| t.clone()).collect();
        let answers = plugin.query(&ds, (w.from_ms, w.to_ms), w.interval_ms, &targets).await;
        for (target, reference) in &long {
            let frames = &answers[target["refId"].as_str().unwrap()].frames;
            check.verify_stat(target, reference, frames);
            assert!(!executed(&frames[0]).contains("one scan for"), "{}: asked alone", ds.uid);
        }
    }
}

/// Rankings of one refresh that read the same records with the same metric
/// (the top remote IPs and the top pods into the pods) are asked as hourly
/// buckets per key in one scan, each question's group field unrolled into
/// its own keys: every table exact, cold and warm (the warm refresh asks the
/// unsettled tail of both in one scan too). A ranking of other records is
/// its own scan; so is a ranking by two fields (not bucketed), and every
/// ranking without the cache (asked whole, not as buckets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rankings_of_one_refresh_share_one_scan() {
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let now = chrono::Utc::now().timestamp_millis();
    let recs = records(17, now - 4 * HOUR, now, 2000);
    push(&server.url, &recs).await;
    let plugin = Plugin::start().await;
    let w = Window { from_ms: now - 4 * HOUR + 17 * MIN + 123, to_ms: now, interval_ms: 5 * MIN };
    let table = |ref_id: &str, direction: &str, by: &[&str]| json!({"refId": ref_id, "format": "table", "direction": direction, "groupBy": by, "limit": 10});
    let targets = [
        table("A", "in", &["pkt_srcaddr"]),
        table("B", "in", &["pkt_dstaddr"]),
        table("C", "out", &["pkt_srcaddr"]),
        table("D", "in", &["pkt_dstaddr", "pkt_srcaddr"]),
    ];
    for (mut ds, cached) in instances(&server.url) {
        ds.json_data["coalesceWindowMs"] = json!(300);
        let check = Checker { plugin: &plugin, ds: &ds, records: &recs, w };
        for refresh in ["cold", "warm"] {
            let answers = plugin.query(&ds, (w.from_ms, w.to_ms), w.interval_ms, &targets).await;
            for target in &targets {
                let ref_id = target["refId"].as_str().unwrap();
                let frames = &answers[ref_id].frames;
                check.verify_top_table(target, &reference_for(target, &ds, &w), frames);
                let text = executed(&frames[0]);
                let what = format!("{} {refresh} {ref_id}: {text}", ds.uid);
                match ref_id {
                    "A" | "B" if cached => {
                        assert!(text.contains("one scan for 2 questions"), "{what}");
                        assert!(text.contains("unroll by (flowlens_key)"), "{what}");
                        if refresh == "warm" {
                            assert!(text.contains("settled buckets"), "{what}: the warm refresh reads the cache");
                        }
                    }
                    _ => assert!(!text.contains("one scan for"), "{what}: asked alone"),
                }
            }
        }
    }
}
