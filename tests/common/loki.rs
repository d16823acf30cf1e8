//! A real LogQL engine for tests: oteldb's (`../shared/tools/oteldb-mem`,
//! Apache-2.0; not Loki, see `../shared/tools/README.md` for where it
//! differs), started on a free loopback port, loaded the Loki way (`POST
//! /loki/api/v1/push`, as Lambda Promtail pushes S3 files), and asked the
//! dialect's requests over plain HTTP with the answers parsed as Loki
//! documents them (`vector`, `matrix`, `streams`).
#![allow(dead_code)] // each test crate uses a different part

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use flowlens::backends::loki::logql::{Answer, LogStream, LokiRequest, Sample};
use flowlens_devtools::gen::{FlowRecord, Template, Value as FieldValue, MISSION_FORMAT};
use serde_json::{json, Value};

/// Where the engine binary is: `OTELDB_MEM`, else `../shared/tools`.
fn engine_path() -> PathBuf {
    if let Some(path) = std::env::var_os("OTELDB_MEM") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/oteldb-mem/oteldb-mem")
}

/// A running engine; killed on drop.
pub struct Engine {
    child: Child,
    pub url: String,
    client: reqwest::Client,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine {
    /// Starts the engine on a free loopback port and waits until it is ready.
    /// Fails when the binary is missing: in CI it must be there; elsewhere
    /// the message says where to point `OTELDB_MEM`. `None` (the test says
    /// so and checks nothing) only when the README's test command, outside
    /// CI, found the engine missing and said so (`FLOWLENS_WITHOUT_SHARED_TOOLS`).
    pub async fn start() -> Option<Engine> {
        let path = engine_path();
        if !path.is_file() {
            if std::env::var("CI").as_deref() != Ok("true")
                && std::env::var_os("FLOWLENS_WITHOUT_SHARED_TOOLS").is_some()
            {
                eprintln!(
                    "NOT RUN: this check needs the LogQL engine (oteldb-mem, OTELDB_MEM), missing at {}",
                    path.display()
                );
                return None;
            }
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "CI: the LogQL engine {} is missing; CI runs with ../shared/tools beside the repository",
                    path.display()
                );
            }
            panic!(
                "the LogQL engine is missing at {}: set OTELDB_MEM to an oteldb-mem binary (../shared/tools/oteldb-mem/oteldb-mem in this workplace)",
                path.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&path)
            .args(["-addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        let engine = Engine { child, url: format!("http://127.0.0.1:{port}"), client };
        for _ in 0..200 {
            if engine.client.get(format!("{}/ready", engine.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Some(engine);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the LogQL engine at {} did not become ready in 10 s", engine.url);
    }

    /// Pushes one stream's `(ns, line)` entries in Loki's JSON push format.
    pub async fn push(&self, labels: &[(&str, &str)], entries: Vec<(i64, String)>) {
        let stream: serde_json::Map<String, Value> = labels.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        for batch in entries.chunks(5_000) {
            let values: Vec<Value> = batch.iter().map(|(t, line)| json!([t.to_string(), line])).collect();
            let body = json!({"streams": [{"stream": stream, "values": values}]});
            let response =
                self.client.post(format!("{}/loki/api/v1/push", self.url)).json(&body).send().await.expect("push");
            assert!(response.status().is_success(), "push answered {}", response.status());
        }
    }

    /// Pushes entries that each carry their own labels, 5000 streams a request.
    pub async fn push_labelled(&self, entries: Vec<(BTreeMap<String, String>, i64, String)>) {
        for batch in entries.chunks(5_000) {
            let streams: Vec<Value> = batch
                .iter()
                .map(|(labels, t, line)| json!({"stream": labels, "values": [[t.to_string(), line]]}))
                .collect();
            let response = self
                .client
                .post(format!("{}/loki/api/v1/push", self.url))
                .json(&json!({"streams": streams}))
                .send()
                .await
                .expect("push");
            assert!(response.status().is_success(), "push answered {}", response.status());
        }
    }

    /// Runs one request (GET with its form) and parses the answer.
    pub async fn run(&self, request: &LokiRequest) -> Answer {
        let response = self
            .client
            .get(format!("{}{}", self.url, request.path()))
            .query(&request.form())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", request.query));
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{} answered {status}: {text}", request.query);
        parse_answer(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", request.query))
    }
}

/// A Loki query answer as [`Answer`]: `vector` and `matrix` points as (ms,
/// value), `streams` entries as (ns, line).
pub fn parse_answer(text: &str) -> Result<Answer, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if v["status"] != "success" {
        return Err("status is not success".into());
    }
    let labels = |m: &Value| -> BTreeMap<String, String> {
        m.as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default()
    };
    let point = |p: &Value| -> Result<(i64, f64), String> {
        let t = p[0].as_f64().ok_or("a point without a time")?;
        let v: f64 = p[1].as_str().ok_or("a point without a value")?.parse().map_err(|_| "a non-numeric value")?;
        Ok(((t * 1000.0).round() as i64, v))
    };
    let result = v["data"]["result"].as_array().ok_or("no data.result")?;
    match v["data"]["resultType"].as_str() {
        Some("vector") => Ok(Answer::Series(
            result
                .iter()
                .map(|s| Ok(Sample { labels: labels(&s["metric"]), points: vec![point(&s["value"])?] }))
                .collect::<Result<_, String>>()?,
        )),
        Some("matrix") => Ok(Answer::Series(
            result
                .iter()
                .map(|s| {
                    let points =
                        s["values"].as_array().ok_or("no values")?.iter().map(point).collect::<Result<_, _>>()?;
                    Ok(Sample { labels: labels(&s["metric"]), points })
                })
                .collect::<Result<_, String>>()?,
        )),
        Some("streams") => Ok(Answer::Streams(
            result
                .iter()
                .map(|s| {
                    let entries = s["values"]
                        .as_array()
                        .ok_or("no values")?
                        .iter()
                        .map(|e| {
                            let t: i64 = e[0].as_str().ok_or("no time")?.parse().map_err(|_| "a bad time")?;
                            Ok((t, e[1].as_str().ok_or("no line")?.to_string()))
                        })
                        .collect::<Result<_, String>>()?;
                    Ok(LogStream { labels: labels(&s["stream"]), entries })
                })
                .collect::<Result<_, String>>()?,
        )),
        other => Err(format!("unknown resultType {other:?}")),
    }
}

/// Each line stamped on its record's millisecond, in ns: lines of one
/// millisecond share a timestamp, as Loki keeps them (it drops a line only
/// when both its timestamp and its text repeat one of its stream's), and as
/// Lambda Promtail stamps VPC flow logs (their `start` second).
fn stamps(times_ms: impl Iterator<Item = i64>) -> Vec<i64> {
    times_ms.map(|t| t * 1_000_000).collect()
}

/// `lines` restamped inside their millisecond (a shipper that stamps with
/// its own nanosecond clock); the millisecond, which the reference reads,
/// is unchanged. A line in the last millisecond before a 10-minute boundary
/// (a bucket edge at every grain up to 10 minutes) is stamped 1 ns before
/// the boundary, one on a boundary exactly on it; of the others one in five
/// at its millisecond's last nanosecond, the rest spread over it.
pub fn nanosecond_stamps(lines: Vec<(i64, String)>) -> Vec<(i64, String)> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, (ns, line))| {
            let ms = ns.div_euclid(1_000_000);
            let inside = match ms.rem_euclid(600_000) {
                0 => 0,
                599_999 => 999_999,
                _ if i % 5 == 0 => 999_999,
                _ => (i as i64 * 7_919) % 1_000_000,
            };
            (ms * 1_000_000 + inside, line)
        })
        .collect()
}

/// Raw mission-format lines in batches of 5000, each preceded by the
/// format's header line (as every S3 file starts), as Lambda Promtail pushes.
pub fn raw_lines(records: &[FlowRecord]) -> Vec<(i64, String)> {
    let template = Template::parse(MISSION_FORMAT);
    let mut times = Vec::new();
    let mut lines = Vec::new();
    for batch in records.chunks(5_000) {
        times.push(batch[0].time_ms);
        lines.push(template.header());
        for r in batch {
            times.push(r.time_ms);
            lines.push(template.render(r));
        }
    }
    stamps(times.into_iter()).into_iter().zip(lines).collect()
}

/// One JSON object per record, as an ingest pipeline writes parsed fields:
/// every field of the mission format that has a value, under
/// `field_name(canonical)`, numbers as numbers; a field without a value is
/// left out.
pub fn json_lines(records: &[FlowRecord], field_name: &dyn Fn(&str) -> String) -> Vec<(i64, String)> {
    let fields: Vec<String> = Template::parse(MISSION_FORMAT).fields().map(flowlens_devtools::gen::canonical).collect();
    let lines = records.iter().map(|r| {
        let object: serde_json::Map<String, Value> = fields
            .iter()
            .filter_map(|f| {
                let value = match r.value(f)? {
                    FieldValue::Text(t) => json!(t),
                    FieldValue::Number(n) => json!(n),
                };
                Some((field_name(f), value))
            })
            .collect();
        Value::Object(object).to_string()
    });
    stamps(records.iter().map(|r| r.time_ms)).into_iter().zip(lines).collect()
}

/// One logfmt line per record, as an ingest pipeline writes parsed fields:
/// `key=value` for every field of the mission format that has a value,
/// under `field_name(canonical)`, values quoted (Go-style escapes) when
/// they hold a space, a quote, `=` or a backslash.
pub fn logfmt_lines(records: &[FlowRecord], field_name: &dyn Fn(&str) -> String) -> Vec<(i64, String)> {
    let fields: Vec<String> = Template::parse(MISSION_FORMAT).fields().map(flowlens_devtools::gen::canonical).collect();
    let lines = records.iter().map(|r| {
        let pairs: Vec<String> = fields
            .iter()
            .filter_map(|f| {
                let value = r.get(f)?;
                let plain = !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || "\"=\\".contains(c));
                Some(if plain {
                    format!("{}={value}", field_name(f))
                } else {
                    format!("{}={}", field_name(f), json!(value))
                })
            })
            .collect();
        pairs.join(" ")
    });
    stamps(records.iter().map(|r| r.time_ms)).into_iter().zip(lines).collect()
}

/// Records whose fields were parsed at ingest into labels, as structured
/// metadata would hold them (oteldb's push takes no structured metadata;
/// label filters and `unwrap` read stream labels and structured metadata
/// alike): `base` plus every field that has a value, under
/// `field_name(canonical)`; the line is the raw mission-format line.
pub fn labelled_records(
    records: &[FlowRecord],
    base: &[(&str, &str)],
    field_name: &dyn Fn(&str) -> String,
) -> Vec<(BTreeMap<String, String>, i64, String)> {
    let template = Template::parse(MISSION_FORMAT);
    let fields: Vec<String> = template.fields().map(flowlens_devtools::gen::canonical).collect();
    let times = stamps(records.iter().map(|r| r.time_ms));
    records
        .iter()
        .zip(times)
        .map(|(r, t)| {
            let mut labels: BTreeMap<String, String> =
                base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            labels.extend(fields.iter().filter_map(|f| Some((field_name(f), r.get(f)?))));
            (labels, t, template.render(r))
        })
        .collect()
}

/// Reads an HTTP request's head (up to the blank line) from a test fake's
/// socket; `None` when the client hangs up first.
pub async fn read_request_head(socket: &mut tokio::net::TcpStream) -> Option<String> {
    read_request(socket).await.map(|(head, _)| head)
}

/// An HTTP/1.1 request read whole: its head and its body (`Content-Length`
/// bytes after the head).
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while data.len() < end + length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    Some((head, data[end..end + length].to_vec()))
}

/// Loki's query API as vmalert asks it, in front of oteldb's engine, where
/// the engine differs from Loki in what vmalert relies on:
///
/// - vmalert sends every query as a POST with its parameters in the URL
///   (`app/vmalert/datasource/client.go`, `Client.newRequest`:
///   `http.MethodPost`), which Loki reads as it reads a GET (its HTTP API:
///   `/query` and `/query_range` also take a POST form); the engine answers
///   GET only (405): forwarded as a GET with the URL's and the form's
///   parameters;
/// - Loki stamps a metric point at the time it is evaluated at, also with
///   `offset` (`pkg/logql/range_vector.go`, `At`: `(t - offset) / 1e6 +
///   offset / 1e6` ms); the engine stamps it `t - offset`, 1 ms early for
///   the rules' `offset 1ms`, which vmalert would then cut to the whole
///   second before (`datasource/client_prom.go`, `promRange.metrics`:
///   `int64(tv[0].(float64))`): each point of a query with `offset 1ms`
///   is stamped 1 ms later, as Loki stamps it. Values are the engine's.
///
/// Returns its URL; it serves until the test ends.
pub async fn as_get(upstream: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.to_string();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (upstream, client) = (upstream.clone(), client.clone());
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let Some((head, body)) = read_request(&mut socket).await else { return };
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                let form = String::from_utf8_lossy(&body);
                let params: Vec<&str> = [query, form.trim()].into_iter().filter(|p| !p.is_empty()).collect();
                let answer = client.get(format!("{upstream}{path}?{}", params.join("&"))).send().await;
                let (status, mut bytes) = match answer {
                    Ok(r) => (r.status().as_u16(), r.bytes().await.map(|b| b.to_vec()).unwrap_or_default()),
                    Err(e) => (502, e.to_string().into_bytes()),
                };
                if status == 200 && params.iter().any(|p| p.contains("offset+1ms") || p.contains("offset%201ms")) {
                    bytes = stamped_as_loki(&bytes);
                }
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&bytes).await;
            });
        }
    });
    url
}

/// A metric answer with every point stamped 1 ms later (see [`as_get`]).
fn stamped_as_loki(body: &[u8]) -> Vec<u8> {
    let Ok(mut answer) = serde_json::from_slice::<Value>(body) else { return body.to_vec() };
    let later = |point: &mut Value| {
        if let Some(t) = point.get(0).and_then(Value::as_f64) {
            point[0] = json!(((t * 1000.0).round() as i64 + 1) as f64 / 1000.0);
        }
    };
    for series in answer["data"]["result"].as_array_mut().into_iter().flatten() {
        if let Some(values) = series.get_mut("values").and_then(Value::as_array_mut) {
            values.iter_mut().for_each(later);
        }
        if let Some(value) = series.get_mut("value") {
            later(value);
        }
    }
    serde_json::to_vec(&answer).unwrap()
}
