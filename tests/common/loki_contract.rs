//! A loopback server that answers Loki's documented HTTP API
//! (<https://grafana.com/docs/loki/latest/reference/loki-http-api/>) from
//! the LogQL model (`logql_model.rs`) over a fixed [`Store`]: `/query`
//! (`vector`), `/query_range` (`matrix`, or `streams` for a log query),
//! `/labels`, `/label/<name>/values`, `/series`, `/ready`, with Loki's
//! limits and their exact plain-text refusals ([`Limits`]). It records every
//! request, so tests can count them and check their ranges. Hand-rolled
//! HTTP/1.1, one request per connection (`Connection: close`).
#![allow(dead_code)] // each test crate uses a different part

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::logql_model::{answer_json, parse_time, series_answer, Refusal, Request, Store};
use super::logql_syntax::{parse, Query};
use super::loki_frontend::Frontend;

/// Loki's `limits_config` as the server enforces it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `max_query_series`: a metric query whose answer has more series is
    /// refused (Loki counts the series it builds; the answer's are a lower
    /// bound of them, so the server is no stricter than Loki).
    pub max_query_series: Option<usize>,
    /// `max_entries_limit_per_query` (Loki's default 5000): a log query
    /// asking for more lines is refused.
    pub max_entries_limit_per_query: usize,
    /// `max_query_length` in ms: a request reading a longer span (`end -
    /// start`, or an instant query's `[range]`) is refused.
    pub max_query_length_ms: Option<i64>,
    /// A request reading a span longer than this many ms runs past the
    /// query timeout: answered 504, as Loki's frontend does.
    pub timeout_over_ms: Option<i64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_query_series: None,
            max_entries_limit_per_query: 5000,
            max_query_length_ms: None,
            timeout_over_ms: None,
        }
    }
}

/// One request the server received: its path and decoded parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET` or `POST`.
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
    /// The status it was answered with.
    pub status: u16,
}

impl Seen {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A time parameter in Unix ms.
    pub fn time_ms(&self, name: &str) -> Option<i64> {
        self.param(name)?.parse::<i64>().ok().map(|ns| ns / 1_000_000)
    }
}

/// A running contract server; stops with the test's runtime.
pub struct ContractServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ContractServer {
    /// Serves `store` with `limits` on a free loopback port, answering as a
    /// querier asked directly.
    pub async fn start(store: Store, limits: Limits) -> ContractServer {
        Self::behind(store, limits, Frontend::NONE).await
    }

    /// Serves `store` with `limits` through the query frontend `frontend`.
    pub async fn behind(store: Store, limits: Limits, frontend: Frontend) -> ContractServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let store = Arc::new(store);
        let recorder = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (store, seen) = (store.clone(), recorder.clone());
                tokio::spawn(async move {
                    let Some((head, form)) = super::loki::read_request(&mut socket).await else { return };
                    let mut words = head.split(' ');
                    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or("/").to_string());
                    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                    // Query string parameters, then a POST form's (Loki reads both).
                    let mut params: Vec<(String, String)> =
                        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
                    let post_form = method == "POST"
                        && head.to_ascii_lowercase().contains("content-type: application/x-www-form-urlencoded");
                    if post_form {
                        params.extend(url::form_urlencoded::parse(&form).into_owned());
                    }
                    let (path, served) = (path.to_string(), method == "GET" || post_form);
                    let answer_params = params.clone();
                    let (status, kind, body) = tokio::task::spawn_blocking(move || {
                        if !served {
                            return (
                                405,
                                "text/plain; charset=utf-8",
                                "only GET and form POSTs are served".to_string(),
                            );
                        }
                        match respond(&store, &limits, &frontend, &path, &answer_params) {
                            Ok(Reply::Json(v)) => (200, "application/json; charset=utf-8", v.to_string()),
                            Ok(Reply::Text(t)) => (200, "text/plain; charset=utf-8", t),
                            Err(e) => (e.status, "text/plain; charset=utf-8", e.message),
                        }
                    })
                    .await
                    .expect("the model answers");
                    let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p).to_string();
                    seen.lock().unwrap().push(Seen { method: method.to_string(), path, params, status });
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        ContractServer { url, seen }
    }

    /// Every request so far, in the order they were answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

enum Reply {
    Json(Value),
    Text(String),
}

/// Now, in Unix ns (the API's default `end`).
fn now_ns() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

fn respond(
    store: &Store,
    limits: &Limits,
    frontend: &Frontend,
    path: &str,
    params: &[(String, String)],
) -> Result<Reply, Refusal> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    // `/labels`, `/label/…/values` and `/series` default to the last 6 h.
    let span = || -> Result<(i64, i64), Refusal> {
        let end = get("end").map_or(Ok(now_ns()), parse_time)?;
        let start = get("start").map_or(Ok(end - 6 * 3_600_000_000_000), parse_time)?;
        Ok((start, end))
    };
    let success = |data: Value| Reply::Json(json!({"status": "success", "data": data}));
    match path {
        "/ready" => Ok(Reply::Text("ready".into())),
        "/loki/api/v1/labels" => {
            let (start, end) = span()?;
            Ok(success(json!(store.label_names(start, end))))
        }
        "/loki/api/v1/series" => {
            let (start, end) = span()?;
            let selectors: Vec<String> =
                params.iter().filter(|(k, _)| k == "match[]" || k == "match").map(|(_, v)| v.clone()).collect();
            if selectors.is_empty() {
                return Err(Refusal { status: 400, message: "at least one match[] argument is required".into() });
            }
            Ok(success(json!(store.series(&selectors, start, end)?)))
        }
        _ if path.starts_with("/loki/api/v1/label/") && path.ends_with("/values") => {
            let name = &path["/loki/api/v1/label/".len()..path.len() - "/values".len()];
            let (start, end) = span()?;
            Ok(success(json!(store.label_values(name, start, end))))
        }
        "/loki/api/v1/query" | "/loki/api/v1/query_range" => {
            let request = Request::parse(path, params, now_ns())?;
            check_limits(limits, &request)?;
            let answer = match &request {
                Request::Instant { query, time_ns } => series_answer(&frontend.instant(store, query, *time_ns)?),
                Request::Range { query, start_ns, end_ns, step_ns } => {
                    series_answer(&frontend.range(store, query, *start_ns, *end_ns, *step_ns)?)
                }
                Request::Logs { .. } => store.answer(&request)?,
            };
            if let (Some(max), flowlens::backends::loki::logql::Answer::Series(series)) =
                (limits.max_query_series, &answer)
            {
                if series.len() > max {
                    return Err(Refusal {
                        status: 400,
                        message: format!(
                            "maximum number of series ({max}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()"
                        ),
                    });
                }
            }
            Ok(Reply::Json(answer_json(&answer, matches!(request, Request::Instant { .. }))))
        }
        _ => Err(Refusal { status: 404, message: "404 page not found".into() }),
    }
}

/// The limits checked before a query runs, worded as Loki words them:
/// `max_entries_limit_per_query` (`pkg/querier/http.go`,
/// `validateMaxEntriesLimits`), `max_query_length` (`pkg/util/validation`,
/// `ErrQueryTooLong`: the length as Go prints a `time.Duration`, the limit
/// as Prometheus prints a `model.Duration`), the query timeout (504).
fn check_limits(limits: &Limits, request: &Request) -> Result<(), Refusal> {
    let refuse = |message: String| Err(Refusal { status: 400, message });
    let length_ns = match request {
        Request::Instant { query, .. } => match parse(query) {
            Ok(Query::Metric(m)) => m.range().range_ns,
            _ => 0,
        },
        Request::Range { start_ns, end_ns, .. } | Request::Logs { start_ns, end_ns, .. } => end_ns - start_ns,
    };
    if let Request::Logs { limit, .. } = request {
        let max = limits.max_entries_limit_per_query;
        if *limit > max && max != 0 {
            return refuse(format!(
                "max entries limit per query exceeded, limit > max_entries_limit ({limit} > {max})"
            ));
        }
    }
    if let Some(max_ms) = limits.max_query_length_ms {
        if length_ns > max_ms * 1_000_000 {
            return refuse(format!(
                "the query time range exceeds the limit (query length: {}, limit: {})",
                go_duration_text(length_ns),
                prometheus_duration_text(max_ms)
            ));
        }
    }
    if limits.timeout_over_ms.is_some_and(|max_ms| length_ns > max_ms * 1_000_000) {
        return Err(Refusal { status: 504, message: "context deadline exceeded".into() });
    }
    Ok(())
}

/// A duration as Go's `time.Duration.String` prints it: `168h0m0s`,
/// `1m30s`, `1.5s`, `500ms`.
pub fn go_duration_text(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit, size) = if ns < 1_000 {
            ("ns", 1)
        } else if ns < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", trimmed(ns, size));
    }
    let (h, m) = (ns / 3_600_000_000_000, ns / 60_000_000_000 % 60);
    let s = trimmed(ns % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// `n / size` with its fraction, trailing zeros trimmed.
fn trimmed(n: i64, size: i64) -> String {
    let (whole, fraction) = (n / size, n % size);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = size.to_string().len() - 1;
    let text = format!("{whole}.{fraction:0digits$}");
    text.trim_end_matches('0').to_string()
}

/// A duration as Prometheus' `model.Duration.String` prints it: years and
/// weeks only when they divide it exactly, then `d h m s ms` (`721h` is
/// `30d1h`, `168h` is `1w`).
pub fn prometheus_duration_text(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut rest = ms;
    let mut out = String::new();
    for (unit, size, exact) in [
        ("y", 365 * 86_400_000, true),
        ("w", 7 * 86_400_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1_000, false),
        ("ms", 1, false),
    ] {
        if exact && rest % size != 0 {
            continue;
        }
        if rest / size > 0 {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}
