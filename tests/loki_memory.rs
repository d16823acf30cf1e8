//! Memory per query, against hostile Loki answers (issue 19, finding 3): a
//! loopback fake serves answers as large as the client reads (up to its 64
//! MiB per answer) to the plugin binary over gRPC, and each test asserts a
//! clear per-query error naming `maxQueryMemoryMiB` or a correct answer
//! within it, that the plugin keeps serving other queries, and that the
//! plugin process's peak RSS (`VmHWM`) stays under a bound. Each test starts
//! its own plugin, so each peak is its own. `FLOWLENS_PLUGIN_BIN` runs the
//! same tests against another build. Peaks of the debug build (2 cores),
//! before and after answers were parsed typed, folded as they arrive and
//! counted against `maxQueryMemoryMiB`: the ranking 1,037 -> 267 MiB (132
//! MiB and the error under a 64 MiB budget), the array 1,905 -> 74 MiB, the
//! log pages 379 -> 141 MiB. The bounds below leave room for noise.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::{Instance, Plugin};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const FROM_MS: i64 = 1_795_132_800_000;
const HOUR_MS: i64 = 3_600_000;
const BOUND: Duration = Duration::from_secs(60);
const MIB: u64 = 1024;

/// A fake Loki: each request's head (request line and headers) to a body
/// (status 200, JSON).
async fn fake(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let answer = answer.clone();
            tokio::spawn(async move {
                let Some(head) = common::loki::read_request_head(&mut socket).await else { return };
                let body = tokio::task::spawn_blocking(move || answer(&head)).await.unwrap();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

/// A request parameter from a GET request's head.
fn param(head: &str, name: &str) -> Option<String> {
    let target = head.split_whitespace().nth(1)?;
    let url = url::Url::parse(&format!("http://x{target}")).ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A Loki datasource on `url`, split by the hour, no bucket cache.
fn instance(url: &str, extra: serde_json::Value) -> Instance {
    let mut json_data = json!({"backend": "loki", "streamSelector": "{logtype=\"flow\"}",
        "recordFormat": "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${bytes} ${packets}",
        "insideCidrs": ["10.0.32.0/20"], "timeoutSeconds": 50, "lokiSplitInterval": "1h", "cacheMaxMiB": 0});
    json_data.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    Instance {
        url: url.into(),
        uid: format!("loki-memory-{}", url.len() + extra.to_string().len()),
        json_data,
        ..Default::default()
    }
}

/// The plugin still answers an ordinary query (a stat of 42 from a fake
/// that answers nothing else).
async fn still_serves(plugin: &Plugin) {
    let url = fake(|_| {
        br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795136400,"42"]}]}}"#
            .to_vec()
    })
    .await;
    let stat = json!({"refId": "B", "format": "stat", "direction": "in"});
    let answers = plugin.query(&instance(&url, json!({})), (FROM_MS, FROM_MS + HOUR_MS), 300_000, &[stat]).await;
    assert!(answers["B"].error.is_empty(), "{:?}", answers["B"]);
    assert_eq!(answers["B"].frames[0].field("bytes").values, vec![json!(42)]);
}

/// Series per hourly instant query in [`ranking_fake`].
const KEYS: usize = 100_000;

/// A ranking's hourly instant queries each answered with [`KEYS`] series
/// whose keys differ from hour to hour (`<hour>.x.y.z`, the sub-range
/// ending at the hour's end, value `i + 1`);
/// the total (no `by`) with their sum.
fn ranking_fake(head: &str) -> Vec<u8> {
    let query = param(head, "query").unwrap_or_default();
    let time: i128 = param(head, "time").and_then(|t| t.parse().ok()).unwrap_or_default();
    let hour = ((time / 1_000_000 - i128::from(FROM_MS)) / i128::from(HOUR_MS)) as usize;
    let at = time / 1_000_000_000;
    vector_answer(at, &query, KEYS, |i| format!("{hour}.{}", address(i)))
}

/// `i` as the last three octets of an address: `x.y.z`.
fn address(i: usize) -> String {
    format!("{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256)
}

/// A vector answer at `at`: for a ranking (`by`), `keys` series of
/// `flow_srcaddr` `key(i)` with value `i + 1`; for a total, their sum.
fn vector_answer(at: i128, query: &str, keys: usize, key: impl Fn(usize) -> String) -> Vec<u8> {
    use std::fmt::Write;
    let mut body = String::from(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    if query.contains(" by (") {
        for i in 0..keys {
            if i > 0 {
                body.push(',');
            }
            let _ = write!(body, r#"{{"metric":{{"flow_srcaddr":"{}"}},"value":[{at},"{}"]}}"#, key(i), i + 1);
        }
    } else {
        let _ = write!(body, r#"{{"metric":{{}},"value":[{at},"{}"]}}"#, keys * (keys + 1) / 2);
    }
    body.push_str("]}}");
    body.into_bytes()
}

/// Twelve hourly answers of 100,000 series each (7 MB of JSON each, 1.2
/// million distinct keys in all): ranked exactly within the default budget,
/// and refused with an error naming the setting under a smaller one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_range_answers_with_many_series_are_folded_as_they_arrive() {
    let url = fake(ranking_fake).await;
    let table = json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["srcaddr"], "limit": 5});
    let range = (FROM_MS, FROM_MS + 12 * HOUR_MS);

    let plugin = Plugin::start().await;
    let started = Instant::now();
    let answers = plugin.query(&instance(&url, json!({})), range, 300_000, std::slice::from_ref(&table)).await;
    let took = started.elapsed();
    let peak = plugin.peak_rss_kib();
    eprintln!("12 h ranking, 1.2 M keys, default budget: {took:?}, peak RSS {} MiB", peak / MIB);
    let a = &answers["A"];
    assert!(a.error.is_empty(), "{a:?}");
    let keys = &a.frames[0].field("srcaddr").values;
    let bytes = &a.frames[0].field("bytes").values;
    // Every hour's largest value is KEYS; ties in natural key order: hours 1..=5.
    let last = KEYS - 1;
    let expected: Vec<_> = (1..=5).map(|h| json!(format!("{h}.{}", address(last)))).collect();
    assert_eq!(keys[..5], expected);
    assert!(bytes[..5].iter().all(|b| *b == json!(KEYS)), "{bytes:?}");
    assert!(took < BOUND, "{took:?}");
    assert!(peak < 360 * MIB, "peak RSS {} MiB", peak / MIB);
    still_serves(&plugin).await;

    let plugin = Plugin::start().await;
    let started = Instant::now();
    let answers = plugin.query(&instance(&url, json!({"maxQueryMemoryMiB": 64})), range, 300_000, &[table]).await;
    let took = started.elapsed();
    let peak = plugin.peak_rss_kib();
    eprintln!("12 h ranking, 1.2 M keys, 64 MiB budget: {took:?}, peak RSS {} MiB", peak / MIB);
    let a = &answers["A"];
    assert_eq!((a.status, a.error_source.as_str()), (422, "downstream"), "{a:?}");
    assert!(
        a.error.contains("this query's answers exceed maxQueryMemoryMiB (64 MiB): narrow the time range, add filters or raise the setting"),
        "{}",
        a.error
    );
    assert!(took < BOUND, "{took:?}");
    assert!(peak < 200 * MIB, "peak RSS {} MiB", peak / MIB);
    still_serves(&plugin).await;
}

/// Series per hourly instant query in [`week_fake`].
const WEEK_KEYS: usize = 5_000;

/// Hours in a week: the sub-ranges of a 7 d query split by the hour.
const WEEK_HOURS: usize = 7 * 24;

/// A ranking's hourly instant queries each answered with the same
/// [`WEEK_KEYS`] series (`10.x.y.z`, value `i + 1`, 350 KB of JSON), the
/// total with their sum.
fn week_fake(head: &str) -> Vec<u8> {
    let query = param(head, "query").unwrap_or_default();
    let time: i128 = param(head, "time").and_then(|t| t.parse().ok()).unwrap_or_default();
    vector_answer(time / 1_000_000_000, &query, WEEK_KEYS, |i| format!("10.{}", address(i)))
}

/// A top-5 table over 7 days split by the hour: 168 answers of 5,000
/// series each (59 MB of JSON in all), each added into the sums as it
/// arrives: exact, and the peak is that of one week's sums, not of 168
/// answers held at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_of_hourly_answers_is_folded_as_they_arrive() {
    let url = fake(week_fake).await;
    let table = json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["srcaddr"], "limit": 5});
    let plugin = Plugin::start().await;
    let started = Instant::now();
    let range = (FROM_MS, FROM_MS + WEEK_HOURS as i64 * HOUR_MS);
    let answers = plugin.query(&instance(&url, json!({})), range, 3_600_000, &[table]).await;
    let took = started.elapsed();
    let peak = plugin.peak_rss_kib();
    eprintln!("7 d ranking, 168 answers of 5,000 series: {took:?}, peak RSS {} MiB", peak / MIB);
    let a = &answers["A"];
    assert!(a.error.is_empty(), "{a:?}");
    let top: Vec<usize> = (WEEK_KEYS - 5..WEEK_KEYS).rev().collect();
    let expected: Vec<_> = top.iter().map(|i| json!(format!("10.{}", address(*i)))).collect();
    assert_eq!(a.frames[0].field("srcaddr").values, expected);
    let sums: Vec<_> = top.iter().map(|i| json!(WEEK_HOURS * (i + 1))).collect();
    assert_eq!(a.frames[0].field("bytes").values, sums);
    assert!(took < BOUND, "{took:?}");
    // 168 answers held at once as JSON trees (before issue 19) were about 470 MiB.
    assert!(peak < 80 * MIB, "peak RSS {} MiB", peak / MIB);
    still_serves(&plugin).await;
}

/// A 60 MB answer whose result is an array of small numbers: an error that
/// says Loki's answer is not its query JSON, read without a JSON tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_array_of_small_numbers_is_refused_without_a_json_tree() {
    let body = {
        let mut b = String::from(r#"{"status":"success","data":{"resultType":"vector","result":["#);
        b.push_str(&"1,".repeat(30_000_000));
        b.push_str("1]}}");
        Arc::new(b.into_bytes())
    };
    let url = fake(move |_| body.to_vec()).await;
    let plugin = Plugin::start().await;
    let stat = json!({"refId": "A", "format": "stat", "direction": "in"});
    let started = Instant::now();
    let answers = plugin.query(&instance(&url, json!({})), (FROM_MS, FROM_MS + HOUR_MS), 300_000, &[stat]).await;
    let took = started.elapsed();
    let peak = plugin.peak_rss_kib();
    eprintln!("60 MB array of numbers: {took:?}, peak RSS {} MiB", peak / MIB);
    let a = &answers["A"];
    assert_eq!((a.status, a.error_source.as_str()), (502, "downstream"), "{a:?}");
    assert!(
        a.error.contains("Loki answered /loki/api/v1/query with something other than its query JSON"),
        "{}",
        a.error
    );
    assert!(took < BOUND, "{took:?}");
    assert!(peak < 150 * MIB, "peak RSS {} MiB", peak / MIB);
    still_serves(&plugin).await;
}

/// Bytes of each log line in [`logs_fake`].
const LINE: usize = 12_500;

/// Log queries answered with as many lines as asked (5,000 a page), each
/// [`LINE`] bytes (62 MB a page), newest first from the page's end.
fn logs_fake(head: &str) -> Vec<u8> {
    let limit: usize = param(head, "limit").and_then(|l| l.parse().ok()).unwrap_or(0);
    let end: i128 = param(head, "end").and_then(|t| t.parse().ok()).unwrap_or_default();
    let mut body = String::from(
        r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"logtype":"flow"},"values":["#,
    );
    let text = "x".repeat(LINE - 21);
    for i in 0..limit as i128 {
        if i > 0 {
            body.push(',');
        }
        let t = end - 1 - i * 1000;
        body.push_str(&format!(r#"["{t}","{t:020} {text}"]"#));
    }
    body.push_str("]}]}}");
    body.into_bytes()
}

/// 10,000 log lines of 12.5 KB asked over 7 days (two full pages of
/// 62 MB): paging stops once the lines held pass an eighth of the budget,
/// the newest lines come back with a notice that says they were cut and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_pages_are_bounded_in_bytes() {
    let url = fake(logs_fake).await;
    let plugin = Plugin::start().await;
    let logs = json!({"refId": "A", "format": "logs", "limit": 10_000});
    let started = Instant::now();
    let to = FROM_MS + WEEK_HOURS as i64 * HOUR_MS;
    let answers = plugin.query(&instance(&url, json!({})), (FROM_MS, to), 3_600_000, &[logs]).await;
    let took = started.elapsed();
    let peak = plugin.peak_rss_kib();
    let a = &answers["A"];
    let lines = a.frames.first().map_or(0, |f| f.field("body").values.len());
    eprintln!("10,000 lines of 12.5 KB over 7 d: {took:?}, {lines} lines back, peak RSS {} MiB", peak / MIB);
    assert!(a.error.is_empty(), "{a:?}");
    let lines = &a.frames[0].field("body").values;
    let held: usize = lines.iter().map(|l| l.as_str().unwrap().len()).sum();
    assert!(held <= 32 << 20 && lines.len() > 2_000, "{} lines, {held} bytes", lines.len());
    let newest = to as i128 * 1_000_000 - 1;
    assert!(lines[0].as_str().unwrap().starts_with(&format!("{newest:020} ")), "the newest line first");
    let notices = a.frames[0].meta["notices"].to_string();
    assert!(
        notices.contains("The log lines were cut at") && notices.contains("maxQueryMemoryMiB (256 MiB)"),
        "{notices}"
    );
    assert!(took < BOUND, "{took:?}");
    assert!(peak < 220 * MIB, "peak RSS {} MiB", peak / MIB);
    still_serves(&plugin).await;
}
