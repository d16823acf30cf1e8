//! Loki's HTTP API: a query request read from its path and parameters,
//! answered from the store, and answers written as Loki's JSON.

use flowlens::backends::loki::logql::{Answer, Sample};
use serde_json::{json, Value};

use super::super::logql_syntax::{parse, Query};
use super::{bad, Labels, Refusal, Series, Store};

/// A query request as Loki's HTTP API takes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `/loki/api/v1/query`: a metric query at `time`.
    Instant { query: String, time_ns: i64 },
    /// `/loki/api/v1/query_range` with a metric query.
    Range { query: String, start_ns: i64, end_ns: i64, step_ns: i64 },
    /// `/loki/api/v1/query_range` with a log query.
    Logs { query: String, start_ns: i64, end_ns: i64, limit: usize, backward: bool },
}

impl Request {
    /// Reads a query request's parameters (`pkg/loghttp/params.go`): times
    /// as Unix seconds (up to 10 digits, or a float) or nanoseconds (more
    /// digits); `step` as float seconds or a duration (default: the range
    /// over 250 points, at least 1 s); `limit` 100 and `direction` backward
    /// by default; `end` defaults to `now_ns`, `start` to an hour before.
    pub fn parse(path: &str, params: &[(String, String)], now_ns: i64) -> Result<Request, Refusal> {
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let query = get("query").ok_or_else(|| bad("query parameter is required"))?.to_string();
        let time = |name: &str, default: i64| get(name).map_or(Ok(default), parse_time);
        let is_log = parse(&query).map_err(bad)?;
        match (path, is_log) {
            ("/loki/api/v1/query", Query::Metric(_)) => Ok(Request::Instant { time_ns: time("time", now_ns)?, query }),
            ("/loki/api/v1/query", Query::Log(_)) => Err(bad("log queries are not supported as an instant query type, please change your query to a range query type")),
            ("/loki/api/v1/query_range", kind) => {
                let end_ns = time("end", now_ns)?;
                let start_ns = time("start", end_ns - 3_600_000_000_000)?;
                if end_ns < start_ns {
                    return Err(bad("end timestamp must not be before or equal to start time"));
                }
                match kind {
                    Query::Metric(_) => {
                        let default = ((end_ns - start_ns) / 250).max(1_000_000_000) / 1_000_000_000 * 1_000_000_000;
                        let step_ns = get("step").map_or(Ok(default), parse_step)?;
                        if step_ns <= 0 {
                            return Err(bad("zero or negative query resolution step widths are not accepted. Try a positive integer"));
                        }
                        Ok(Request::Range { query, start_ns, end_ns, step_ns })
                    }
                    Query::Log(_) => {
                        let limit = get("limit").map_or(Ok(100), |l| l.parse().map_err(|_| bad(format!("invalid limit {l:?}"))))?;
                        let backward = match get("direction").unwrap_or("backward") {
                            "backward" | "BACKWARD" => true,
                            "forward" | "FORWARD" => false,
                            other => return Err(bad(format!("invalid direction {other:?}"))),
                        };
                        Ok(Request::Logs { query, start_ns, end_ns, limit, backward })
                    }
                }
            }
            (other, _) => Err(Refusal { status: 404, message: format!("404 page not found: {other}") }),
        }
    }

    pub fn query(&self) -> &str {
        match self {
            Request::Instant { query, .. } | Request::Range { query, .. } | Request::Logs { query, .. } => query,
        }
    }
}

/// A time parameter: Unix seconds (up to 10 digits, or a float) or ns.
pub fn parse_time(text: &str) -> Result<i64, Refusal> {
    if let Ok(n) = text.parse::<i64>() {
        return Ok(if text.trim_start_matches('-').len() <= 10 { n * 1_000_000_000 } else { n });
    }
    text.parse::<f64>()
        .map(|s| (s * 1e9).round() as i64)
        .map_err(|_| bad(format!("cannot parse {text:?} to a valid timestamp")))
}

fn parse_step(text: &str) -> Result<i64, Refusal> {
    if let Ok(s) = text.parse::<f64>() {
        return Ok((s * 1e9).round() as i64);
    }
    super::super::logql_syntax::prometheus_duration(text)
        .map_err(|_| bad(format!("cannot parse {text:?} to a valid duration")))
}

impl Store {
    /// Answers a query request; for an instant query, the answer is a
    /// `vector` (one point per series).
    pub fn answer(&self, request: &Request) -> Result<Answer, Refusal> {
        match request {
            Request::Instant { query, time_ns } => Ok(series_answer(&self.metric(query, *time_ns, *time_ns, 0)?)),
            Request::Range { query, start_ns, end_ns, step_ns } => {
                Ok(series_answer(&self.metric(query, *start_ns, *end_ns, *step_ns)?))
            }
            Request::Logs { query, start_ns, end_ns, limit, backward } => {
                self.logs(query, *start_ns, *end_ns, *limit, *backward)
            }
        }
    }

    /// Answers one of the dialect's requests (its path and form, as sent).
    pub fn answer_request(&self, request: &flowlens::backends::loki::logql::LokiRequest) -> Result<Answer, Refusal> {
        let form: Vec<(String, String)> = request.form().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        self.answer(&Request::parse(request.path(), &form, 0)?)
    }
}

/// Labels as Loki prints a series: `{a="b", c="d"}`.
pub fn selector_text(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap())).collect();
    format!("{{{}}}", parts.join(", "))
}

/// A metric answer as the dialect's [`Answer`].
pub fn series_answer(series: &Series) -> Answer {
    Answer::Series(
        series.iter().map(|(labels, points)| Sample { labels: labels.clone(), points: points.clone() }).collect(),
    )
}

/// An answer as Loki's JSON (`status`, `data.resultType`, `data.result`,
/// `data.stats`): a `vector` (`instant`: one `value` per series), a
/// `matrix` (`values`) or `streams`. Times are Unix seconds as floats,
/// values strings (Prometheus' format); entries are `["<ns>", "<line>"]`.
pub fn answer_json(answer: &Answer, instant: bool) -> Value {
    let point = |(ms, v): &(i64, f64)| json!([*ms as f64 / 1000.0, format_value(*v)]);
    let (kind, result): (&str, Vec<Value>) = match answer {
        Answer::Series(samples) if instant => (
            "vector",
            samples
                .iter()
                .filter_map(|s| Some(json!({"metric": s.labels, "value": point(s.points.last()?)})))
                .collect(),
        ),
        Answer::Series(samples) => (
            "matrix",
            samples
                .iter()
                .map(|s| json!({"metric": s.labels, "values": s.points.iter().map(point).collect::<Vec<_>>()}))
                .collect(),
        ),
        Answer::Streams(streams) => (
            "streams",
            streams
                .iter()
                .map(|s| {
                    let values: Vec<Value> = s.entries.iter().map(|(ns, line)| json!([ns.to_string(), line])).collect();
                    json!({"stream": s.labels, "values": values})
                })
                .collect(),
        ),
    };
    json!({"status": "success", "data": {"resultType": kind, "result": result, "stats": {}}})
}

/// A sample value as Prometheus writes it (`strconv.FormatFloat(v, 'f', -1, 64)`).
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}
