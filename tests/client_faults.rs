//! Faults and request details a real VictoriaLogs cannot be made to show: a
//! server that never answers, drips, cuts its answer off, resets the
//! connection, sends an endless or over-long answer, is overloaded (503, 429)
//! for a while or for good; bearer tokens and custom headers on the wire;
//! the per-datasource cap on concurrent requests and cancellation of queued
//! requests. A minimal HTTP server on loopback plays the backend, scripted per
//! request; everything else is the real plugin binary over gRPC. Every test
//! bounds its own running time and asserts on it.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::harness::{Answer, Instance, Plugin};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// VictoriaLogs' own overload answer (app/vlselect/main.go), as a user saw it.
const OVERLOADED: &str =
    "couldn't start executing the request in 10.000 seconds, since -search.maxConcurrentRequests=4 \
    concurrent requests are executed. Possible solutions: to reduce query load; to add more compute resources to the \
    server; to increase -search.maxQueueDuration=10s; to increase -search.maxQueryDuration=30s; to increase \
    -search.maxConcurrentRequests; to pass bigger value to 'timeout' query arg";

/// Longest any test here may take to get its answers; generous for a loaded
/// machine, far below what a hang would take (the fakes hang forever).
const BOUND: Duration = Duration::from_secs(30);

/// How a body ends.
#[derive(Clone, Copy, Debug)]
enum End {
    /// The last chunk, as a complete answer ends.
    Finish,
    /// A TCP reset (SO_LINGER 0), as a crashed server or a proxy's cut looks.
    Reset,
}

/// What the fake backend does with its n-th request.
#[derive(Clone, Debug)]
enum Reply {
    /// Read the request, never answer; count the plugin hanging up.
    Silent,
    /// A whole answer with Content-Length.
    Full { status: u16, headers: &'static str, body: Vec<u8> },
    /// A chunked answer: `parts` with `gap` between them (repeated forever
    /// when `repeat`), then `end`.
    Stream { status: u16, parts: Vec<Vec<u8>>, gap: Duration, repeat: bool, end: End },
    /// Content-Length promises `declared` bytes, `body` is sent, then the
    /// connection closes.
    Short { declared: usize, body: Vec<u8> },
    /// Waits until `until` requests are in flight at once (at most 10 s),
    /// holds them 200 ms more (time for any request beyond the plugin's cap
    /// to arrive and be counted), then answers `body`.
    Barrier { until: usize, body: &'static str },
}

fn ok(body: &str) -> Reply {
    Reply::Full { status: 200, headers: "Content-Type: application/stream+json\r\n", body: body.as_bytes().to_vec() }
}

fn status(status: u16, headers: &'static str, body: &str) -> Reply {
    Reply::Full { status, headers, body: body.as_bytes().to_vec() }
}

/// A scripted loopback backend: what it was asked, and how many requests it
/// held at once.
#[derive(Clone)]
struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    hung_up: Arc<AtomicUsize>,
}

impl Fake {
    /// Serves request n (counted from 0) with `script(n)`, one request per connection.
    async fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            url: format!("http://{}", listener.local_addr().unwrap()),
            requests: Arc::default(),
            in_flight: Arc::default(),
            peak: Arc::default(),
            hung_up: Arc::default(),
        };
        let script = Arc::new(script);
        let server = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                let (server, script) = (server.clone(), script.clone());
                tokio::spawn(async move { server.serve(socket, &*script).await });
            }
        });
        fake
    }

    async fn serve(&self, mut socket: TcpStream, script: &(dyn Fn(usize) -> Reply + Send + Sync)) {
        let Some(request) = read_request(&mut socket).await else { return };
        let n = {
            let mut requests = self.requests.lock().unwrap();
            requests.push(request);
            requests.len() - 1
        };
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let reply = script(n);
        if let Reply::Barrier { until, .. } = reply {
            let give_up = Instant::now() + Duration::from_secs(10);
            while self.in_flight.load(Ordering::SeqCst) < until && Instant::now() < give_up {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Leaves the count before answering: the plugin cannot start its
        // next request before this one is answered.
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let _ = write_reply(&mut socket, reply, &self.hung_up).await;
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// One HTTP/1.1 request: head and Content-Length body, as text.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let Some(head_end) = data.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if data.len() >= head_end + 4 + length {
            return Some(String::from_utf8_lossy(&data).to_string());
        }
    }
}

async fn write_reply(socket: &mut TcpStream, reply: Reply, hung_up: &AtomicUsize) -> std::io::Result<()> {
    match reply {
        Reply::Silent => {
            let mut rest = [0u8; 1024];
            if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_secs(60), socket.read(&mut rest)).await {
                hung_up.fetch_add(1, Ordering::SeqCst);
            }
        }
        Reply::Full { status, headers, body } => {
            let head =
                format!("HTTP/1.1 {status} X\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&body).await?;
        }
        Reply::Barrier { body, .. } => Box::pin(write_reply(socket, ok(body), hung_up)).await?,
        Reply::Short { declared, body } => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&body).await?;
        }
        Reply::Stream { status, parts, gap, repeat, end } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/stream+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await?;
            loop {
                for part in &parts {
                    socket.write_all(format!("{:x}\r\n", part.len()).as_bytes()).await?;
                    socket.write_all(part).await?;
                    socket.write_all(b"\r\n").await?;
                    if !gap.is_zero() {
                        tokio::time::sleep(gap).await;
                    }
                }
                if !repeat {
                    break;
                }
            }
            match end {
                End::Finish => socket.write_all(b"0\r\n\r\n").await?,
                End::Reset => {
                    socket.flush().await?;
                    socket.set_zero_linger()?;
                }
            }
        }
    }
    Ok(())
}

fn instance(url: &str, json_data: Value, secure: &[(&str, &str)]) -> Instance {
    Instance {
        url: url.into(),
        uid: "fake".into(),
        json_data,
        secure: secure.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    }
}

/// A stat target read whole from the backend (`cache: false`: one plain
/// `stats` request, the answer the fake server's rows are shaped for).
fn stat(ref_id: &str) -> Value {
    json!({"refId": ref_id, "format": "stat", "cache": false})
}

/// One stat query against `fake` with `json_data`; its answer and how long it took.
async fn ask(fake: &Fake, json_data: Value) -> (Answer, Duration) {
    let plugin = Plugin::start().await;
    let started = Instant::now();
    let mut answers =
        within(plugin.query(&instance(&fake.url, json_data, &[]), (0, 3_600_000), 60_000, &[stat("A")])).await;
    (answers.remove("A").unwrap(), started.elapsed())
}

/// The future's output, or a failed test once [`BOUND`] passed.
async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.unwrap_or_else(|_| panic!("no answer within {BOUND:?}: the plugin hangs"))
}

fn assert_downstream(a: &Answer, status: i32, text: &str) {
    assert_eq!(a.status, status, "{a:?}");
    assert!(a.error.contains(text), "the error should contain {text:?}: {a:?}");
    assert_eq!(a.error_source, "downstream", "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_backend_times_out_with_a_clear_error() {
    let fake = Fake::start(|_| Reply::Silent).await;
    let (a, took) = ask(&fake, json!({"timeoutSeconds": 1})).await;
    assert_downstream(&a, 504, "did not answer within 1s");
    assert!(took < Duration::from_secs(10), "the timeout must end the query: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_and_headers_are_sent_and_never_shown() {
    let fake = Fake::start(|_| ok("{\"value\":\"42\"}\n")).await;
    let plugin = Plugin::start().await;
    let ds = instance(
        &fake.url,
        json!({"bearerAuth": true, "httpHeaderName1": "AccountID", "httpHeaderName2": "ProjectID"}),
        &[("bearerToken", "tok-123"), ("httpHeaderValue1", "7"), ("httpHeaderValue2", "3")],
    );
    let frames = within(plugin.query_one(&ds, (0, 3_600_000), 60_000, stat("A"))).await;
    assert_eq!(frames[0].field("bytes").values, vec![json!(42)]);
    let request = fake.requests().join("\n").to_ascii_lowercase();
    assert!(request.contains("authorization: bearer tok-123"), "{request}");
    assert!(request.contains("accountid: 7") && request.contains("projectid: 3"), "{request}");
    assert!(request.starts_with("post /select/logsql/query"), "{request}");
    let frame_text = format!("{frames:?}");
    assert!(!frame_text.contains("tok-123"), "the token leaked into a frame");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbled_answer_is_a_downstream_error() {
    let fake = Fake::start(|_| ok("{\"value\":\"1\"}\n<html>proxy error</html>\n")).await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(&a, 502, "not a JSON object: <html>proxy error</html>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_stops_its_backend_queries() {
    let fake = Fake::start(|_| Reply::Silent).await;
    let plugin = Plugin::start().await;
    let ds = instance(&fake.url, json!({"timeoutSeconds": 60}), &[]);
    // Grafana gives up (dashboard closed, query cancelled): the call is dropped.
    let targets = [stat("A")];
    let call = plugin.query(&ds, (0, 3_600_000), 60_000, &targets);
    assert!(tokio::time::timeout(Duration::from_secs(1), call).await.is_err(), "the fake never answers");
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.hung_up.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the plugin kept waiting on the backend after the request was cancelled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_line_is_refused_at_the_limit() {
    // 2 MiB without a newline: a proxy's blob, or a record nobody can draw.
    let mut line = b"{\"value\":\"".to_vec();
    line.extend(std::iter::repeat_n(b'7', 2 << 20));
    let parts: Vec<Vec<u8>> = line.chunks(64 << 10).map(<[u8]>::to_vec).collect();
    let fake = Fake::start(move |_| Reply::Stream {
        status: 200,
        parts: parts.clone(),
        gap: Duration::ZERO,
        repeat: false,
        end: End::Finish,
    })
    .await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(&a, 502, "a line longer than 1 MiB, the plugin's limit per line");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_stops_at_the_size_limit() {
    // Valid rows, forever: only the plugin's limit can end this.
    let mut row = b"{\"value\":\"1\",\"pad\":\"".to_vec();
    row.extend(std::iter::repeat_n(b'x', 256 << 10));
    row.extend_from_slice(b"\"}\n");
    let fake = Fake::start(move |_| Reply::Stream {
        status: 200,
        parts: vec![row.clone()],
        gap: Duration::ZERO,
        repeat: true,
        end: End::Finish,
    })
    .await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(
        &a,
        422,
        "the answer from VictoriaLogs is larger than 64 MiB, the plugin's limit for one query: narrow the time range",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_drip_ends_at_the_deadline() {
    // A valid row every 100 ms, never finishing: each read makes progress,
    // so only the query's deadline can end it.
    let fake = Fake::start(|_| Reply::Stream {
        status: 200,
        parts: vec![b"{\"value\":\"1\"}\n".to_vec()],
        gap: Duration::from_millis(100),
        repeat: true,
        end: End::Finish,
    })
    .await;
    let (a, took) = ask(&fake, json!({"timeoutSeconds": 1})).await;
    assert_downstream(&a, 504, "did not answer within 1s");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_asked_again_until_it_passes() {
    let fake = Fake::start(|n| if n < 2 { status(503, "", OVERLOADED) } else { ok("{\"value\":\"42\"}\n") }).await;
    let (a, _) = ask(&fake, json!({})).await;
    assert!(a.error.is_empty(), "{a:?}");
    assert_eq!(a.frames[0].field("bytes").values, vec![json!(42)]);
    assert_eq!(fake.requests().len(), 3, "two refusals, then the answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_waits_as_long_as_retry_after_says() {
    let fake =
        Fake::start(
            |n| if n == 0 { status(429, "Retry-After: 1\r\n", "slow down") } else { ok("{\"value\":\"5\"}\n") },
        )
        .await;
    let (a, took) = ask(&fake, json!({})).await;
    assert!(a.error.is_empty(), "{a:?}");
    assert_eq!(a.frames[0].field("bytes").values, vec![json!(5)]);
    assert_eq!(fake.requests().len(), 2);
    assert!(took >= Duration::from_secs(1), "Retry-After: 1 is honoured: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_overload_fails_by_the_deadline_with_the_backends_text() {
    let fake = Fake::start(|_| status(503, "", OVERLOADED)).await;
    let (a, took) = ask(&fake, json!({"timeoutSeconds": 3})).await;
    assert_downstream(&a, 503, "VictoriaLogs is overloaded (HTTP 503): couldn't start executing the request");
    assert!(a.error.contains("-search.maxConcurrentRequests=4"), "the backend's own text: {a:?}");
    assert!(a.error.contains("the query's timeout is 3s"), "{a:?}");
    assert!(a.error.contains("lower this datasource's maxConcurrentRequests (now 4)"), "what to change: {a:?}");
    let asked = fake.requests().len();
    assert!(asked >= 3, "asked again with backoff: {asked}");
    assert!(a.error.contains(&format!("asked {asked} times")), "{a:?}");
    assert!(took < Duration::from_secs(10), "ends by the deadline: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backends_own_query_timeout_is_not_asked_again() {
    let text =
        "the request couldn't be executed in 30.000 seconds; possible solutions: to increase -search.maxQueryDuration=30s";
    let fake = Fake::start(move |_| status(503, "", text)).await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(&a, 503, "gave up on the query (HTTP 503): narrow the time range");
    assert!(a.error.contains(text), "{a:?}");
    assert_eq!(fake.requests().len(), 1, "repeating a query that timed out would only repeat the work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_error_body_is_read_only_up_to_its_limit() {
    let fake = Fake::start(|_| Reply::Stream {
        status: 500,
        parts: vec![b"boom ".repeat(1000)],
        gap: Duration::ZERO,
        repeat: true,
        end: End::Finish,
    })
    .await;
    let (a, took) = ask(&fake, json!({"timeoutSeconds": 20})).await;
    assert_downstream(&a, 500, "VictoriaLogs failed (HTTP 500): boom boom");
    assert!(a.error.ends_with(" …") && a.error.len() < 2_100, "cut to 2,000 bytes: {} bytes", a.error.len());
    assert!(took < Duration::from_secs(15), "not read to the deadline: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_answer_is_a_downstream_error() {
    // Fewer bytes than Content-Length promised, then the connection closes.
    let fake = Fake::start(|_| Reply::Short { declared: 1000, body: b"{\"value\":\"1\"}\n{\"val".to_vec() }).await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(&a, 502, "VictoriaLogs broke off while sending its answer: end of file before message length");

    // A complete answer whose last line is cut mid-JSON.
    let fake = Fake::start(|_| ok("{\"value\":\"1\"}\n{\"value\":\"2")).await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(&a, 502, "not a JSON object: {\"value\":\"2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_answer_is_a_downstream_error() {
    let fake = Fake::start(|_| Reply::Stream {
        status: 200,
        parts: vec![b"{\"value\":\"1\"}\n".to_vec(); 50],
        gap: Duration::ZERO,
        repeat: false,
        end: End::Reset,
    })
    .await;
    let (a, _) = ask(&fake, json!({})).await;
    assert_downstream(&a, 502, "VictoriaLogs broke off while sending its answer: Connection reset by peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_written_stats_range_answer_is_parsed_or_refused() {
    let plugin = Plugin::start().await;
    let target = json!({"refId": "R", "format": "series", "rawQuery": "* | stats count() hits"});
    let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"host":"a"},"values":[[0,"5"],[60,"7"]]}]}}"#;
    let fake = Fake::start(move |_| ok(matrix)).await;
    let ds = instance(&fake.url, json!({}), &[]);
    let frames = within(plugin.query_one(&ds, (0, 120_000), 60_000, target.clone())).await;
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].fields[1].values, vec![json!(5.0), json!(7.0)]);
    assert!(fake.requests()[0].starts_with("POST /select/logsql/stats_query_range"), "{:?}", fake.requests());

    let fake = Fake::start(|_| ok(r#"{"status":"success","data":{"result":[{"metric":{},"values":[[0,"5"],"#)).await;
    let answers =
        within(plugin.query(&instance(&fake.url, json!({}), &[]), (0, 120_000), 60_000, std::slice::from_ref(&target)))
            .await;
    assert_downstream(&answers["R"], 502, "answered stats_query_range with something other than its JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_of_40_panels_holds_at_most_max_concurrent_requests() {
    for (json_data, cap) in [(json!({}), 4), (json!({"maxConcurrentRequests": 2}), 2)] {
        let fake = Fake::start(move |_| Reply::Barrier { until: cap, body: "{\"value\":\"42\"}\n" }).await;
        let plugin = Plugin::start().await;
        let targets: Vec<Value> = (0..40).map(distinct_stat).collect();
        let answers =
            within(plugin.query(&instance(&fake.url, json_data.clone(), &[]), (0, 3_600_000), 60_000, &targets)).await;
        assert_eq!(answers.len(), 40);
        for (ref_id, a) in &answers {
            assert!(a.error.is_empty(), "{ref_id}: {a:?}");
            assert_eq!(a.frames[0].field("bytes").values, vec![json!(42)], "{ref_id}");
        }
        assert_eq!(fake.requests().len(), 40);
        assert_eq!(fake.peak.load(Ordering::SeqCst), cap, "{json_data}: requests held at once");
    }
}

/// Stat panel `P{i}`, a question of its own (a filter on `srcport` = i).
fn distinct_stat(i: usize) -> Value {
    json!({"refId": format!("P{i}"), "format": "stat", "cache": false,
           "filters": [{"field": "srcport", "op": "=", "value": i.to_string()}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_panels_in_flight_share_one_request() {
    let fake = Fake::start(move |_| Reply::Barrier { until: 1, body: "{\"value\":\"42\"}\n" }).await;
    let plugin = Plugin::start().await;
    let targets: Vec<Value> = (0..40).map(|i| stat(&format!("P{i}"))).collect();
    let answers = within(plugin.query(&instance(&fake.url, json!({}), &[]), (0, 3_600_000), 60_000, &targets)).await;
    assert_eq!(answers.len(), 40);
    for (ref_id, a) in &answers {
        assert!(a.error.is_empty(), "{ref_id}: {a:?}");
        assert_eq!(a.frames[0].field("bytes").values, vec![json!(42)], "{ref_id}");
    }
    assert_eq!(fake.requests().len(), 1, "40 identical questions at once are one request: {:?}", fake.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_request_slot_counts_against_the_timeout() {
    let fake = Fake::start(|_| Reply::Silent).await;
    let plugin = Plugin::start().await;
    let ds = instance(&fake.url, json!({"timeoutSeconds": 1, "maxConcurrentRequests": 1}), &[]);
    let answers = within(plugin.query(&ds, (0, 3_600_000), 60_000, &[distinct_stat(0), distinct_stat(1)])).await;
    // One query held the only slot and timed out; the other spent its time
    // waiting for that slot, and says so (whether the slot came free just
    // before its deadline or not at all).
    let mut errors: Vec<&str> = answers.values().map(|a| a.error.as_str()).collect();
    errors.sort_by_key(|e| e.contains("maxConcurrentRequests"));
    assert!(errors[0].starts_with("VictoriaLogs did not answer within 1s; narrow the time range"), "{errors:?}");
    assert!(
        errors[1].contains("within 1s")
            && errors[1].contains("at most 1 requests")
            && errors[1].contains("maxConcurrentRequests"),
        "{errors:?}"
    );
    assert!(answers.values().all(|a| a.status == 504), "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_leaves_the_queue_and_frees_its_slot() {
    // The first request hangs; later ones are answered.
    let fake = Fake::start(|n| if n == 0 { Reply::Silent } else { ok("{\"value\":\"9\"}\n") }).await;
    let plugin = Plugin::start().await;
    let ds = instance(&fake.url, json!({"maxConcurrentRequests": 1}), &[]);
    // A holds the only slot, B waits for it; Grafana cancels the request.
    let targets = [stat("A"), stat("B")];
    let call = plugin.query(&ds, (0, 3_600_000), 60_000, &targets);
    assert!(tokio::time::timeout(Duration::from_secs(1), call).await.is_err(), "A hangs, B waits");
    // The next request gets the slot at once: A let it go and B left the queue
    // (had B stayed, it would have reached the backend before C).
    let frames = within(plugin.query_one(&ds, (0, 3_600_000), 60_000, stat("C"))).await;
    assert_eq!(frames[0].field("bytes").values, vec![json!(9)]);
    assert_eq!(fake.requests().len(), 2, "A and C reached the backend, never the cancelled B");
    assert_eq!(fake.hung_up.load(Ordering::SeqCst), 1, "the plugin hung up on A");
}
