//! Faults of the real VictoriaLogs, as an operator causes them: stopped and
//! restarted between queries, frozen and then killed while queries wait for
//! their answers. The plugin binary over gRPC answers each with a downstream
//! error that names the cause, never hangs, and answers exactly again once
//! the server is back. Every test bounds its waits and asserts on them.

mod common;

use std::time::Duration;

use common::data;
use common::harness::Answer;
use common::harness::Plugin;
use common::panels::{Checker, Window};
use common::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};

/// Longest any call here may take; far below a hang.
const BOUND: Duration = Duration::from_secs(60);

/// The fixture's day in hourly buckets.
const WINDOW: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 3_600_000 };

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.unwrap_or_else(|_| panic!("{what}: no answer within {BOUND:?}"))
}

fn assert_downstream_502(ref_id: &str, a: &Answer) {
    assert_eq!(a.status, 502, "{ref_id}: {a:?}");
    assert_eq!(a.error_source, "downstream", "{ref_id}: {a:?}");
    assert!(a.frames.is_empty(), "{ref_id}: {a:?}");
}

/// Panels of the dashboard's kinds, each its own refId.
fn panels() -> Vec<Value> {
    vec![
        json!({"refId": "any", "format": "stat", "direction": "any"}),
        json!({"refId": "in", "format": "stat", "direction": "in"}),
        json!({"refId": "out", "format": "stat", "direction": "out"}),
        json!({"refId": "rate", "format": "series", "direction": "in", "rate": true}),
        json!({"refId": "top", "format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10}),
        json!({"refId": "pods", "format": "table", "direction": "in", "groupBy": ["pkt_dstaddr"], "limit": 10}),
        json!({"refId": "series", "format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "rate": true}),
        json!({"refId": "logs", "format": "logs", "limit": 100}),
    ]
}

/// Whether some TCP connection to `port` on loopback has request bytes the
/// server has not read yet (`/proc/net/tcp`: established, rx_queue > 0).
fn request_waiting_at(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let local_port = cols.get(1).and_then(|a| a.rsplit(':').next()).and_then(|p| u16::from_str_radix(p, 16).ok());
        let rx_queue = cols.get(4).and_then(|q| q.split(':').nth(1)).and_then(|q| u64::from_str_radix(q, 16).ok());
        local_port == Some(port) && cols.get(3) == Some(&"01") && rx_queue.is_some_and(|q| q > 0)
    })
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).expect("a port in the URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_backend_is_a_clear_error_and_answers_again_after_a_restart() {
    let mut server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&server.url).await;
    let plugin = Plugin::start().await;
    // Without the cache: a stat of settled buckets would be answered from
    // it, backend or not (tests/reuse.rs covers the cache).
    let mut ds = data::raw_instance(&server.url, "live");
    ds.json_data["cacheMaxMiB"] = json!(0);
    let check = Checker { plugin: &plugin, ds: &ds, records: loaded.records, w: WINDOW };
    check.stat("in").await;

    server.stop().await.expect("stop VictoriaLogs");
    let answers =
        within("stopped", plugin.query(&ds, (WINDOW.from_ms, WINDOW.to_ms), WINDOW.interval_ms, &panels())).await;
    assert_eq!(answers.len(), panels().len());
    for (ref_id, a) in &answers {
        assert_downstream_502(ref_id, a);
        let want = format!("cannot connect to VictoriaLogs at {}/: ", server.url);
        assert!(a.error.starts_with(&want) && a.error.contains("Connection refused"), "{ref_id}: {a:?}");
    }

    server.restart().await.expect("restart VictoriaLogs");
    // The very next query works, with exact numbers: the data was kept.
    within("restarted", check.stat("in")).await;
    within("restarted", check.top_table(&["pkt_srcaddr"], 10)).await;
    within("restarted", check.top_series(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_killed_mid_query_fails_each_panel_and_nothing_hangs() {
    // In-memory data is saved to disk within a second, and the kill waits
    // for it: a kill loses only what was not yet saved, and here nothing.
    let opts = VlOptions { extra_args: vec!["-inmemoryDataFlushInterval=1s".into()], ..Default::default() };
    let mut server = VlServer::start(opts).await.expect("VictoriaLogs must start");
    let loaded = data::load(&server.url).await;
    within("saved to disk", saved_to_disk(&server.url)).await;
    let plugin = Plugin::start().await;
    let ds = data::raw_instance(&server.url, "live");
    let port = port_of(&server.url);

    // Frozen, the server's kernel still takes the connections and requests;
    // once a request is seen waiting in its socket, the server is killed.
    server.freeze().expect("SIGSTOP VictoriaLogs");
    let targets = panels();
    let query = plugin.query(&ds, (WINDOW.from_ms, WINDOW.to_ms), WINDOW.interval_ms, &targets);
    let kill = async {
        let give_up = std::time::Instant::now() + Duration::from_secs(20);
        while !request_waiting_at(port) {
            assert!(std::time::Instant::now() < give_up, "no request reached the frozen server");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill();
    };
    let (answers, ()) = within("killed", async { tokio::join!(query, kill) }).await;
    assert_eq!(answers.len(), targets.len());
    let mut mid_query = 0;
    for (ref_id, a) in &answers {
        assert_downstream_502(ref_id, a);
        let cause = a.error.rsplit(": ").next().unwrap_or_default();
        assert!(a.error.starts_with("VictoriaLogs") || a.error.starts_with("cannot connect"), "{ref_id}: {a:?}");
        assert!(!cause.trim().is_empty(), "{ref_id}: the error names the cause: {a:?}");
        if !a.error.starts_with("cannot connect") {
            assert!(
                a.error.contains("reset") || a.error.contains("closed"),
                "{ref_id}: a request in flight ends with the connection's fate: {a:?}"
            );
            mid_query += 1;
        }
    }
    assert!(mid_query >= 1, "at least one request was in flight when the server died: {answers:?}");

    // Restarted, it answers again, exactly: everything was on disk before
    // the kill.
    server.restart().await.expect("restart VictoriaLogs");
    let target = json!({"refId": "A", "format": "stat", "direction": "any"});
    let frames = within("after the kill", plugin.query_one(&ds, (WINDOW.from_ms, WINDOW.to_ms), 60_000, target)).await;
    let total = frames[0].field("bytes").values[0].as_u64().expect("a byte total");
    let reference = r::total(
        loaded.records,
        &RefQuery::new(Dir::Any, data::POD_CIDR, Some(data::NAT_ENI), WINDOW.from_ms, WINDOW.to_ms),
    );
    assert_eq!(total, reference, "after the kill and a restart: {total} of {reference} bytes");
    within(
        "after the kill",
        Checker { plugin: &plugin, ds: &ds, records: loaded.records, w: WINDOW }.top_table(&["pkt_srcaddr"], 10),
    )
    .await;
}

/// Waits until VictoriaLogs holds no rows only in memory (its
/// `vl_storage_rows{type="storage/inmemory"}` is 0, and some rows are in
/// parts on disk): a kill then loses nothing.
async fn saved_to_disk(url: &str) {
    loop {
        let text = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
        let rows = |kind: &str| -> u64 {
            let key = format!("vl_storage_rows{{type=\"storage/{kind}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(key.as_str()))
                .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
        };
        if rows("inmemory") == 0 && rows("small") + rows("big") > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
