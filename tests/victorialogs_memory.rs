//! Memory per query against a hostile VictoriaLogs (issue 19, finding 3):
//! a loopback fake answers every LogsQL query over 7 days with 60 MB of
//! distinct small rows (a million groups, far past the `limit` the query asks for). A
//! ranking is read up to its limit; bucket rows are counted against
//! `maxQueryMemoryMiB` as they stream. The plugin binary answers exactly or
//! with an error naming the setting, keeps serving other queries, and its
//! peak RSS (`VmHWM`) stays under a bound.
//! Peaks of the debug build before and after: see the test's bounds and
//! README's "Guarantees and limits".

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::{Instance, Plugin};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const BOUND: Duration = Duration::from_secs(60);
const MIB: u64 = 1024;
/// The range of every hostile query: 7 days.
const WEEK_MS: i64 = 7 * 24 * 3_600_000;

/// A fake VictoriaLogs answering every request with `body` (JSON lines).
async fn fake(body: Arc<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let body = body.clone();
            tokio::spawn(async move {
                if common::loki::read_request(&mut socket).await.is_none() {
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/stream+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

fn instance(url: &str, json_data: serde_json::Value) -> Instance {
    Instance { url: url.into(), uid: format!("vl-memory-{}", json_data), json_data, ..Default::default() }
}

/// 60 MB of rows `{"_time":…,"srcaddr":"10.x.y.z","value":"n"}`, each
/// group once, values descending (as VictoriaLogs sorts a ranking).
fn rows() -> Arc<Vec<u8>> {
    use std::fmt::Write;
    let mut body = String::with_capacity(61 << 20);
    let mut i: u32 = 0;
    while body.len() < 60_000_000 {
        let _ = writeln!(
            body,
            r#"{{"_time":"1970-01-01T00:00:00Z","srcaddr":"10.{}.{}.{}","value":"{}"}}"#,
            i >> 16,
            (i >> 8) & 255,
            i & 255,
            4_000_000 - i
        );
        i += 1;
    }
    Arc::new(body.into_bytes())
}

/// The plugin still answers: a stat from a fake with one row.
async fn still_serves(plugin: &Plugin) {
    let one = fake(Arc::new(br#"{"value":"42"}"#.to_vec())).await;
    let stat = json!({"refId": "B", "format": "stat", "cache": false});
    let answers = plugin.query(&instance(&one, json!({"cacheMaxMiB": 0})), (0, WEEK_MS), 600_000, &[stat]).await;
    assert!(answers["B"].error.is_empty(), "{:?}", answers["B"]);
    assert_eq!(answers["B"].frames[0].field("bytes").values, vec![json!(42)]);
}

/// A top-5 table: the ranking's query asks for 5 rows, so reading stops
/// after 5 of the 1.6 million: the top 5, exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ranking_is_read_up_to_the_rows_it_asked_for() {
    let url = fake(rows()).await;
    let table = json!({"refId": "A", "format": "table", "groupBy": ["srcaddr"], "limit": 5, "cache": false});
    let plugin = Plugin::start().await;
    let started = Instant::now();
    let answers = plugin
        .query(&instance(&url, json!({"timeoutSeconds": 50, "cacheMaxMiB": 0})), (0, WEEK_MS), 600_000, &[table])
        .await;
    let took = started.elapsed();
    let peak = plugin.peak_rss_kib();
    let a = &answers["A"];
    let rows = a.frames.first().map_or(0, |f| f.field("srcaddr").values.len());
    eprintln!("60 MB of ranking rows, top 5: {took:?}, {rows} rows, peak RSS {} MiB", peak / MIB);
    assert!(a.error.is_empty(), "{:?}", a.error);
    assert_eq!(a.frames[0].field("srcaddr").values, (0..5).map(|i| json!(format!("10.0.0.{i}"))).collect::<Vec<_>>());
    assert_eq!(a.frames[0].field("bytes").values, (0..5).map(|i| json!(4_000_000 - i)).collect::<Vec<_>>());
    assert!(took < BOUND, "{took:?}");
    assert!(peak < 100 * MIB, "peak RSS {} MiB", peak / MIB);
    still_serves(&plugin).await;
}

/// A top-5 series: the ranking stops at 5 rows, then the buckets of those
/// 5 keys are answered with 1.6 million groups' rows, counted as they
/// stream: past the budget, an error naming the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_rows_are_counted_against_the_budget_as_they_stream() {
    let url = fake(rows()).await;
    let series = json!({"refId": "A", "format": "series", "groupBy": ["srcaddr"], "limit": 5, "cache": false});
    for (budget, bound) in [(None, 330), (Some(64), 200)] {
        let mut json_data = json!({"timeoutSeconds": 50, "cacheMaxMiB": 0});
        if let Some(mib) = budget {
            json_data["maxQueryMemoryMiB"] = json!(mib);
        }
        let plugin = Plugin::start().await;
        let started = Instant::now();
        let answers =
            plugin.query(&instance(&url, json_data), (0, WEEK_MS), 600_000, std::slice::from_ref(&series)).await;
        let took = started.elapsed();
        let peak = plugin.peak_rss_kib();
        let a = &answers["A"];
        eprintln!(
            "60 MB of bucket rows, budget {budget:?} MiB: {took:?}, peak RSS {} MiB, error {:?}",
            peak / MIB,
            a.error
        );
        let mib = budget.unwrap_or(256);
        assert_eq!((a.status, a.error_source.as_str()), (422, "downstream"), "{:?}", a.error);
        assert!(
            a.error.contains(&format!(
                "this query's answers exceed maxQueryMemoryMiB ({mib} MiB): narrow the time range, add filters or raise the setting"
            )),
            "{}",
            a.error
        );
        assert!(took < BOUND, "{took:?}");
        assert!(peak < bound * MIB, "peak RSS {} MiB", peak / MIB);
        still_serves(&plugin).await;
    }
}
