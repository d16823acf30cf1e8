//! Faults and request details a real VictoriaLogs cannot be made to show: a
//! server that never answers, bearer tokens and custom headers on the wire,
//! a response cut off mid-line. A minimal HTTP server on loopback plays the
//! backend; everything else is the real plugin binary over gRPC.

mod common;

use std::sync::{Arc, Mutex};

use common::harness::{Instance, Plugin};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves every connection with `reply` (None: read the request, never answer)
/// and records the requests' head text.
async fn fake_backend(reply: Option<&'static str>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                log.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).to_string());
                match reply {
                    Some(body) => {
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/stream+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                        let _ = socket.write_all(head.as_bytes()).await;
                        let _ = socket.write_all(body.as_bytes()).await;
                    }
                    None => {
                        // Never answer; note when the plugin hangs up.
                        let mut rest = [0u8; 1024];
                        let closed =
                            tokio::time::timeout(std::time::Duration::from_secs(30), socket.read(&mut rest)).await;
                        if matches!(closed, Ok(Ok(0))) {
                            log.lock().unwrap().push("CLOSED".into());
                        }
                    }
                }
            });
        }
    });
    (url, seen)
}

fn instance(url: &str, json_data: serde_json::Value, secure: &[(&str, &str)]) -> Instance {
    Instance {
        url: url.into(),
        uid: "fake".into(),
        json_data,
        secure: secure.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_backend_times_out_with_a_clear_error() {
    let (url, _) = fake_backend(None).await;
    let plugin = Plugin::start().await;
    let ds = instance(&url, json!({"timeoutSeconds": 1}), &[]);
    let started = std::time::Instant::now();
    let answers = plugin.query(&ds, (0, 3_600_000), 60_000, &[json!({"refId": "A", "format": "stat"})]).await;
    assert!(started.elapsed().as_secs() < 10, "the query must not hang");
    assert_eq!(answers["A"].status, 504, "{:?}", answers["A"]);
    assert!(answers["A"].error.contains("did not answer within 1s"), "{:?}", answers["A"]);
    assert_eq!(answers["A"].error_source, "downstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_and_headers_are_sent_and_never_shown() {
    let (url, seen) = fake_backend(Some("{\"value\":\"42\"}\n")).await;
    let plugin = Plugin::start().await;
    let ds = instance(
        &url,
        json!({"bearerAuth": true, "httpHeaderName1": "AccountID", "httpHeaderName2": "ProjectID"}),
        &[("bearerToken", "tok-123"), ("httpHeaderValue1", "7"), ("httpHeaderValue2", "3")],
    );
    let frames = plugin.query_one(&ds, (0, 3_600_000), 60_000, json!({"refId": "A", "format": "stat"})).await;
    assert_eq!(frames[0].field("bytes").values, vec![json!(42)]);
    let request = seen.lock().unwrap().join("\n").to_ascii_lowercase();
    assert!(request.contains("authorization: bearer tok-123"), "{request}");
    assert!(request.contains("accountid: 7") && request.contains("projectid: 3"), "{request}");
    assert!(request.starts_with("post /select/logsql/query"), "{request}");
    let frame_text = format!("{frames:?}");
    assert!(!frame_text.contains("tok-123"), "the token leaked into a frame");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbled_answer_is_a_downstream_error() {
    let (url, _) = fake_backend(Some("{\"value\":\"1\"}\n<html>proxy error</html>\n")).await;
    let plugin = Plugin::start().await;
    let answers = plugin
        .query(&instance(&url, json!({}), &[]), (0, 3_600_000), 60_000, &[json!({"refId": "A", "format": "stat"})])
        .await;
    assert!(answers["A"].error.contains("not a JSON object: <html>proxy error</html>"), "{:?}", answers["A"]);
    assert_eq!(answers["A"].status, 502);
    assert_eq!(answers["A"].error_source, "downstream", "as Grafana's SDK reads it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_stops_its_backend_queries() {
    let (url, seen) = fake_backend(None).await;
    let plugin = Plugin::start().await;
    let ds = instance(&url, json!({"timeoutSeconds": 60}), &[]);
    // Grafana gives up (dashboard closed, query cancelled): the call is dropped.
    let targets = [json!({"refId": "A", "format": "stat"})];
    let call = plugin.query(&ds, (0, 3_600_000), 60_000, &targets);
    assert!(tokio::time::timeout(std::time::Duration::from_secs(1), call).await.is_err(), "the fake never answers");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.lock().unwrap().iter().any(|r| r == "CLOSED") {
        assert!(
            std::time::Instant::now() < deadline,
            "the plugin kept waiting on the backend after the request was cancelled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
