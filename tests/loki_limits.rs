//! Loki's limit errors, which no engine here can be configured to send: a
//! loopback fake answers `/loki/api/v1/*` with Loki's exact plain-text
//! messages and statuses (`pkg/util/validation`, `pkg/logqlmodel`,
//! `pkg/querier/http.go`; the documented wording of each limit), and the
//! plugin binary over gRPC must turn each into a clear per-refId downstream
//! error that names the limit, the value and what to change. Overload (429
//! `too many outstanding requests`) is asked again. The tenant header goes
//! on the wire. Every test bounds its own running time.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::harness::{Answer, Instance, Plugin};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const BOUND: Duration = Duration::from_secs(30);
const FROM_MS: i64 = 1_795_132_800_000;
const TO_MS: i64 = FROM_MS + 86_400_000;

/// A vector answer with one series of value 42 at the range's end.
const VECTOR_42: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795219200,"42"]}],"stats":{}}}"#;

/// Answers request n (from 0) with `script(n)`: (status, plain-text body).
/// Records each request's head.
#[derive(Clone)]
struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    async fn start(script: impl Fn(usize) -> (u16, &'static str) + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake { url: format!("http://{}", listener.local_addr().unwrap()), requests: Arc::default() };
        let requests = fake.requests.clone();
        let script = Arc::new(script);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (requests, script) = (requests.clone(), script.clone());
                tokio::spawn(async move {
                    let Some(head) = common::loki::read_request_head(&mut socket).await else { return };
                    let n = {
                        let mut requests = requests.lock().unwrap();
                        requests.push(head);
                        requests.len() - 1
                    };
                    let (status, body) = script(n);
                    let kind = if body.starts_with('{') { "application/json" } else { "text/plain; charset=utf-8" };
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        fake
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A Loki datasource on the fake, with a tenant header; one request per
/// query step (no sub-ranges, no bucket cache and so no self-check before
/// it), as the scripts count them.
fn instance(url: &str, timeout_seconds: u64) -> Instance {
    Instance {
        url: url.into(),
        uid: "loki-fake".into(),
        json_data: json!({"backend": "loki", "streamSelector": "{logtype=\"flow\"}",
            "recordFormat": "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${bytes} ${packets}",
            "insideCidrs": ["10.0.32.0/20"], "timeoutSeconds": timeout_seconds, "lokiSplitInterval": "0",
            "cacheMaxMiB": 0, "httpHeaderName1": "X-Scope-OrgID"}),
        secure: [("httpHeaderValue1".to_string(), "tenant-7".to_string())].into(),
        ..Default::default()
    }
}

/// One target against a fake that answers every request with `reply`.
async fn ask(plugin: &Plugin, reply: (u16, &'static str), target: serde_json::Value) -> (Answer, Fake) {
    let fake = Fake::start(move |_| reply).await;
    let started = Instant::now();
    let mut answers = plugin.query(&instance(&fake.url, 10), (FROM_MS, TO_MS), 300_000, &[target]).await;
    assert!(started.elapsed() < BOUND, "answered in {:?}", started.elapsed());
    (answers.remove("A").expect("an answer for A"), fake)
}

fn assert_limit(a: &Answer, status: i32, parts: &[&str]) {
    assert_eq!((a.status, a.error_source.as_str()), (status, "downstream"), "{a:?}");
    assert!(a.frames.is_empty(), "{a:?}");
    for part in parts {
        assert!(a.error.contains(part), "{part:?} missing in: {}", a.error);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_limit_errors_name_the_limit_the_value_and_what_to_change() {
    let plugin = Plugin::start().await;
    let table = json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["srcaddr"], "limit": 5});
    let logs = json!({"refId": "A", "format": "logs", "limit": 3000});
    let stat = json!({"refId": "A", "format": "stat", "direction": "in"});

    // max_query_series, in both wordings Loki has used.
    for text in [
        "maximum of series (500) reached for a single query",
        "maximum number of series (500) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()",
    ] {
        let (a, fake) = ask(&plugin, (400, text), table.clone()).await;
        assert_limit(
            &a,
            422,
            &["series limit, max_query_series = 500", "Group by fewer", "raise max_query_series", text],
        );
        assert_eq!(fake.requests().len(), 4, "the whole ranking, then IPv4, IPv6 and no value as parts; no value cannot be split");
        assert!(fake.requests()[0].starts_with("GET /loki/api/v1/query?"), "{}", fake.requests()[0]);
    }

    // max_entries_limit_per_query lower than the plugin's page of 5000.
    let text = "max entries limit per query exceeded, limit > max_entries_limit_per_query (3000 > 1000)";
    let (a, fake) = ask(&plugin, (400, text), logs.clone()).await;
    assert_limit(&a, 422, &["asks for 3000 lines", "max_entries_limit_per_query (1000)", "at most 1000", text]);
    assert!(fake.requests()[0].starts_with("GET /loki/api/v1/query_range?"), "{}", fake.requests()[0]);
    // The querier's older wording.
    let text = "max entries limit per query exceeded, limit > max_entries_limit (3000 > 1000)";
    let (a, _) = ask(&plugin, (400, text), logs).await;
    assert_limit(&a, 422, &["max_entries_limit_per_query (1000)", "lower the panel's limit to at most 1000"]);

    // max_query_length.
    let text = "the query time range exceeds the limit (query length: 24h0m0s, limit: 12h0m0s)";
    let (a, _) = ask(&plugin, (400, text), stat.clone()).await;
    assert_limit(&a, 422, &["time range (24h0m0s)", "max_query_length (12h0m0s)", "at most 12h0m0s", text]);

    // max_query_bytes_read.
    let text = "the query would read too many bytes (query: 12 GB, limit: 10 GB); consider adding more specific stream selectors or reduce the time range of the query";
    let (a, _) = ask(&plugin, (400, text), stat.clone()).await;
    assert_limit(&a, 422, &["max_query_bytes_read (10 GB)", "Narrow the time range"]);

    // Loki's query timeout: 504 from the frontend, 499 when a querier gave up.
    for (status, text) in [(504, "context deadline exceeded"), (499, "context canceled")] {
        let (a, _) = ask(&plugin, (status, text), stat.clone()).await;
        assert_limit(&a, 504, &["query timeout", "query_timeout", "timeoutSeconds", text]);
    }

    // A parse error is Loki rejecting the query, quoted.
    let text = "parse error at line 1, col 7: syntax error: unexpected IDENTIFIER";
    let (a, _) = ask(&plugin, (400, text), json!({"refId": "A", "rawQuery": "{a=\"b\"} nonsense"})).await;
    assert_limit(&a, 400, &["Loki rejected the query (HTTP 400): parse error at line 1, col 7"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_outstanding_requests_is_asked_again_and_the_tenant_header_is_sent() {
    let plugin = Plugin::start().await;
    let stat = json!({"refId": "A", "format": "stat", "direction": "in"});
    // Two refusals, then the answer.
    let fake = Fake::start(|n| if n < 2 { (429, "too many outstanding requests") } else { (200, VECTOR_42) }).await;
    let started = Instant::now();
    let answers = plugin.query(&instance(&fake.url, 10), (FROM_MS, TO_MS), 300_000, std::slice::from_ref(&stat)).await;
    assert!(started.elapsed() < BOUND);
    assert!(answers["A"].error.is_empty(), "{:?}", answers["A"]);
    assert_eq!(answers["A"].frames[0].field("bytes").values, vec![json!(42)]);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert!(r.to_ascii_lowercase().contains("\r\nx-scope-orgid: tenant-7\r\n"), "{r}");
    }

    // Lasting overload: the error says what was asked and which Loki settings queue more.
    let fake = Fake::start(|_| (429, "too many outstanding requests")).await;
    let started = Instant::now();
    let answers = plugin.query(&instance(&fake.url, 2), (FROM_MS, TO_MS), 300_000, &[stat]).await;
    assert!(started.elapsed() < BOUND);
    let a = &answers["A"];
    assert_limit(
        a,
        429,
        &["Loki is overloaded (HTTP 429): too many outstanding requests", "max_outstanding_requests_per_tenant"],
    );
    assert!(!a.error.contains("-search."), "no VictoriaLogs flags in a Loki error: {}", a.error);
    assert!(fake.requests().len() >= 2, "asked again while the timeout allowed");
}

/// Save & test asks `/ready` first: a Loki that is still starting (503 with
/// its reason) is said to be not ready, within a few seconds; a URL without
/// `/ready` (a gateway that routes only the API, 404) goes on to the queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_test_asks_ready_first() {
    let plugin = Plugin::start().await;
    let fake = Fake::start(|_| (503, "Ingester not ready: waiting for 15s after being ready")).await;
    let started = Instant::now();
    let (ok, message) = plugin.check_health(&instance(&fake.url, 30)).await;
    assert!(started.elapsed() < Duration::from_secs(10), "answered in {:?}", started.elapsed());
    assert!(!ok, "{message}");
    assert!(
        message.contains(&format!("Loki at {}/ is not ready yet (GET /ready)", fake.url))
            && message.contains("Ingester not ready: waiting for 15s after being ready"),
        "{message}"
    );
    assert!(fake.requests().iter().all(|r| r.starts_with("GET /ready ")), "{:?}", fake.requests());

    // No /ready: the queries follow (here every one answers 42 records).
    let fake = Fake::start(|n| if n == 0 { (404, "404 page not found") } else { (200, VECTOR_42) }).await;
    let (_, message) = plugin.check_health(&instance(&fake.url, 30)).await;
    assert!(fake.requests()[0].starts_with("GET /ready "), "{:?}", fake.requests());
    assert!(fake.requests()[1].starts_with("GET /loki/api/v1/query?"), "{:?}", fake.requests());
    assert!(!message.contains("not ready"), "{message}");
}
