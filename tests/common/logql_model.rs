//! A test-only model of Loki's query semantics for the LogQL subset that
//! `src/backends/loki/logql/` emits (parsed by `logql_syntax.rs`), evaluated
//! over stored entries (stream labels, structured metadata, ns timestamp,
//! line). Written from Loki's documentation
//! (<https://grafana.com/docs/loki/latest/query/>, the HTTP API at
//! <https://grafana.com/docs/loki/latest/reference/loki-http-api/>) and,
//! where the docs are silent, the source file named at each rule; never from
//! the dialect's code. Answers are the dialect's [`Answer`] (so
//! `dialect::logql::merge` can consume them) or Loki's JSON.
#![allow(dead_code)] // each test crate uses a different part

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use flowlens::backends::loki::logql::{Answer, LogStream, Sample};
use serde_json::{json, Value};

use super::logql_syntax::{
    parse, LabelFilter, LogExpr, Matcher, MetricExpr, Needle, NumOp, PatternPart, Query, RangeAgg, RangeFn, Stage,
    StrOp,
};

pub type Labels = BTreeMap<String, String>;

/// One stored entry of a stream.
#[derive(Debug, Clone)]
pub struct Entry {
    pub ns: i64,
    pub line: String,
    /// Structured metadata (label filters read it like stream labels).
    pub metadata: Labels,
}

/// One stream: its labels and its entries, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    pub labels: Labels,
    pub entries: Vec<Entry>,
}

/// The stored log data.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub streams: Vec<Stream>,
}

/// A refusal, as Loki answers it: an HTTP status and its plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal { status: 400, message: message.into() }
}

/// An evaluated metric query: the series and their points (ms, value).
pub type Series = BTreeMap<Labels, Vec<(i64, f64)>>;

impl Store {
    /// Adds entries to the stream with these labels.
    pub fn push(&mut self, labels: &[(&str, &str)], entries: Vec<(i64, String)>) {
        let labels: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let entries = entries.into_iter().map(|(ns, line)| Entry { ns, line, metadata: Labels::new() });
        self.stream(labels).extend(entries);
    }

    /// Adds entries whose labels beyond `stream` (e.g. the output of
    /// `loki::labelled_records`) are structured metadata.
    pub fn push_with_metadata(&mut self, stream: &[(&str, &str)], entries: Vec<(Labels, i64, String)>) {
        let labels: Labels = stream.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let entries = entries.into_iter().map(|(all, ns, line)| {
            let metadata = all.into_iter().filter(|(k, _)| !labels.contains_key(k)).collect();
            Entry { ns, line, metadata }
        });
        let target = self.stream(labels.clone());
        target.extend(entries);
    }

    fn stream(&mut self, labels: Labels) -> &mut Vec<Entry> {
        let index = match self.streams.iter().position(|s| s.labels == labels) {
            Some(i) => i,
            None => {
                self.streams.push(Stream { labels, entries: Vec::new() });
                self.streams.len() - 1
            }
        };
        &mut self.streams[index].entries
    }

    /// Sorts every stream's entries by time (call after pushing).
    pub fn seal(&mut self) {
        for s in &mut self.streams {
            s.entries.sort_by_key(|e| e.ns);
        }
    }

    /// The streams a selector picks. Loki refuses a selector whose matchers
    /// all match the empty value (`syntax`: "queries require at least one
    /// regexp or equality matcher that does not have an empty-compatible
    /// value").
    fn select<'a>(&'a self, matchers: &'a [Matcher]) -> Result<impl Iterator<Item = &'a Stream> + 'a, Refusal> {
        if matchers.iter().all(|m| m.matches("")) {
            return Err(bad(
                "parse error : queries require at least one regexp or equality matcher that does not have an \
                 empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
            ));
        }
        // A matcher on a label the stream lacks reads "" (Prometheus matchers).
        Ok(self
            .streams
            .iter()
            .filter(move |s| matchers.iter().all(|m| m.matches(s.labels.get(&m.name).map_or("", String::as_str)))))
    }

    /// The entries of `log` with time in `(from_ns, to_ns]`, each with its
    /// labels after the pipeline (stream labels, structured metadata,
    /// parsed labels, and `__error__` when a stage set one); dropped
    /// entries are left out.
    fn run<'a>(&'a self, log: &'a LogExpr, from_ns: i64, to_ns: i64) -> Result<Vec<(State<'a>, &'a Entry)>, Refusal> {
        let mut out = Vec::new();
        for stream in self.select(&log.matchers)? {
            let first = stream.entries.partition_point(|e| e.ns <= from_ns);
            for entry in stream.entries[first..].iter().take_while(|e| e.ns <= to_ns) {
                if let Some(state) = pipeline(&stream.labels, entry, &log.stages) {
                    out.push((state, entry));
                }
            }
        }
        Ok(out)
    }

    /// A log query (`/query_range` without a metric): entries in `[start,
    /// end)` (the HTTP API: `end` is exclusive for log queries, `pkg/loghttp`
    /// `ParseRangeQuery`), `backward` newest first or `forward` oldest first,
    /// at most `limit` in all, grouped into streams by their labels after the
    /// pipeline.
    pub fn logs(
        &self,
        query: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
        backward: bool,
    ) -> Result<Answer, Refusal> {
        let Query::Log(log) = parse(query).map_err(bad)? else { return Err(bad("not a log query")) };
        let mut entries: Vec<(Labels, &Entry)> =
            self.run(&log, start_ns - 1, end_ns - 1)?.into_iter().map(|(s, e)| (s.into_labels(None), e)).collect();
        entries.sort_by(|a, b| a.1.ns.cmp(&b.1.ns).then_with(|| a.0.cmp(&b.0)).then_with(|| a.1.line.cmp(&b.1.line)));
        if backward {
            entries.reverse();
        }
        entries.truncate(limit);
        let mut streams: BTreeMap<Labels, Vec<(i64, String)>> = BTreeMap::new();
        for (labels, entry) in entries {
            streams.entry(labels).or_default().push((entry.ns, entry.line.clone()));
        }
        Ok(Answer::Streams(streams.into_iter().map(|(labels, entries)| LogStream { labels, entries }).collect()))
    }

    /// A metric query evaluated at `start, start + step, …, ≤ end` (Loki's
    /// range query; an instant query is `start = end = time`): each point
    /// reads the window `(t - offset - range, t - offset]` ("the lower bound
    /// of the range is not inclusive", `pkg/logql/range_vector.go`, `load`)
    /// and is stamped `(t - offset) / 1e6 + offset / 1e6` ms, integer
    /// division (`range_vector.go`, `At`). A series without samples in a
    /// window has no point there.
    pub fn metric(&self, query: &str, start_ns: i64, end_ns: i64, step_ns: i64) -> Result<Series, Refusal> {
        let Query::Metric(expr) = parse(query).map_err(bad)? else { return Err(bad("not a metric query")) };
        let agg = expr.range();
        let steps = if step_ns > 0 && end_ns >= start_ns { (end_ns - start_ns) / step_ns } else { 0 };
        let last = start_ns + steps * step_ns;
        let (off, range) = (agg.offset_ns, agg.range_ns);
        let mut per_step: BTreeMap<i64, BTreeMap<Labels, f64>> = BTreeMap::new();
        // A `sum` right above the range aggregation adds the samples of each
        // group, so grouping every sample first gives the same sums.
        let projection = grouping_above_range(&expr);
        for (labels, ns, value) in self.samples(agg, start_ns - off - range, last - off, projection.as_deref())? {
            // Steps k with t_k - off - range < ns <= t_k - off.
            let lo = ceil_div(ns + off - start_ns, step_ns.max(1)).max(0);
            let hi = (ns + off + range - 1 - start_ns).div_euclid(step_ns.max(1)).min(steps);
            for k in lo..=hi {
                let at = per_step.entry(k).or_default().entry(labels.clone()).or_insert(0.0);
                *at += if agg.func == RangeFn::Count { 1.0 } else { value };
            }
        }
        let mut out = Series::new();
        for (k, vector) in per_step {
            let t = start_ns + k * step_ns;
            let stamp = (t - off) / 1_000_000 + off / 1_000_000;
            for (labels, v) in aggregate(&expr, vector) {
                out.entry(labels).or_default().push((stamp, v));
            }
        }
        Ok(out)
    }

    /// How many series one piece of `query` holds when it is evaluated on
    /// its own over `(from_ns, to_ns]` (a sub-query of Loki's frontend, or
    /// a shard): the groups of a `sum [by]` right above the range
    /// aggregation, which is pushed down into each piece
    /// (`pkg/logql/rangemapper.go`, `shardmapper.go`), or else every label
    /// set of the range aggregation itself (a `count` is not pushed down).
    pub fn piece_series(&self, query: &str, from_ns: i64, to_ns: i64) -> Result<usize, Refusal> {
        let Query::Metric(expr) = parse(query).map_err(bad)? else { return Err(bad("not a metric query")) };
        let pushed = above_range(&expr).and_then(|(by, count)| (!count).then(|| by.clone().unwrap_or_default()));
        let agg = expr.range();
        let labels: BTreeSet<Labels> =
            self.samples(agg, from_ns, to_ns, pushed.as_deref())?.into_iter().map(|(labels, _, _)| labels).collect();
        Ok(labels.len())
    }

    /// The samples of a range aggregation in `(from_ns, to_ns]`: labels
    /// after the pipeline (without the unwrapped label, which is no series
    /// label) and the value; a sample still flagged with `__error__` after
    /// the post-unwrap filters fails the query, as Loki fails it.
    /// `keep`: only these labels are wanted (the grouping above).
    fn samples(
        &self,
        agg: &RangeAgg,
        from_ns: i64,
        to_ns: i64,
        keep: Option<&[String]>,
    ) -> Result<Vec<(Labels, i64, f64)>, Refusal> {
        let mut out = Vec::new();
        for (mut state, entry) in self.run(&agg.log, from_ns, to_ns)? {
            let mut value = 1.0;
            if let Some(name) = &agg.unwrap {
                // `| unwrap l`: the value parsed as a float (strconv.ParseFloat);
                // absent or no number sets SampleExtractionErr (metrics_extraction.go).
                let raw = state.labels.get(name.as_str()).map(|v| v.to_string()).unwrap_or_default();
                match raw.parse::<f64>() {
                    Ok(v) => value = v,
                    Err(_) => state.set_error("SampleExtractionErr"),
                }
            }
            // The post-unwrap filters are one conjunction (`ReduceAndLabelFilter`).
            let mut passes = true;
            for f in &agg.post {
                passes &= filter(f, &mut state);
            }
            if !passes {
                continue;
            }
            if let Some(name) = &agg.unwrap {
                state.labels.remove(name.as_str());
            }
            if let Some(error) = state.error.clone() {
                return Err(bad(format!(
                    "pipeline error: '{error}' for series: '{}'.\nUse a label filter to intercept this error, or pass the label filter \
                     __error__=\"\" to remove lines with errors",
                    selector_text(&state.into_labels(None))
                )));
            }
            out.push((state.into_labels(keep), entry.ns, value));
        }
        Ok(out)
    }

    /// The stream label names of streams with entries in `[start, end]`
    /// (`/labels`: index labels only, not structured metadata).
    pub fn label_names(&self, start_ns: i64, end_ns: i64) -> Vec<String> {
        let names: BTreeSet<&String> = self.streams_in(start_ns, end_ns).flat_map(|s| s.labels.keys()).collect();
        names.into_iter().cloned().collect()
    }

    /// The values of one stream label over streams with entries in range.
    pub fn label_values(&self, name: &str, start_ns: i64, end_ns: i64) -> Vec<String> {
        let values: BTreeSet<&String> = self.streams_in(start_ns, end_ns).filter_map(|s| s.labels.get(name)).collect();
        values.into_iter().cloned().collect()
    }

    /// The label sets of streams with entries in range that any of the
    /// selectors picks (`/series` with `match[]`).
    pub fn series(&self, selectors: &[String], start_ns: i64, end_ns: i64) -> Result<Vec<Labels>, Refusal> {
        let mut out: BTreeSet<Labels> = BTreeSet::new();
        for text in selectors {
            let Query::Log(log) = parse(text).map_err(bad)? else { return Err(bad("match[] is not a selector")) };
            if !log.stages.is_empty() {
                return Err(bad("match[] must be a stream selector"));
            }
            for s in self.select(&log.matchers)? {
                if s.entries.iter().any(|e| (start_ns..=end_ns).contains(&e.ns)) {
                    out.insert(s.labels.clone());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    fn streams_in(&self, start_ns: i64, end_ns: i64) -> impl Iterator<Item = &Stream> {
        self.streams.iter().filter(move |s| s.entries.iter().any(|e| (start_ns..=end_ns).contains(&e.ns)))
    }
}

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
    super::logql_syntax::prometheus_duration(text)
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

/// The labels of the `sum` applied right above the range aggregation, if
/// that is a `sum` (none: `sum` without `by`).
fn grouping_above_range(expr: &MetricExpr) -> Option<Vec<String>> {
    match expr {
        MetricExpr::Range(_) => None,
        MetricExpr::Sum { by, inner, .. } if matches!(**inner, MetricExpr::Range(_)) => {
            Some(by.clone().unwrap_or_default())
        }
        MetricExpr::Sum { inner, .. } | MetricExpr::TopK { inner, .. } => grouping_above_range(inner),
    }
}

/// The vector aggregation right above the range aggregation: its grouping
/// and whether it is a `count`.
fn above_range(expr: &MetricExpr) -> Option<(&Option<Vec<String>>, bool)> {
    match expr {
        MetricExpr::Range(_) => None,
        MetricExpr::Sum { by, inner, count } if matches!(**inner, MetricExpr::Range(_)) => Some((by, *count)),
        MetricExpr::Sum { inner, .. } | MetricExpr::TopK { inner, .. } => above_range(inner),
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// The vector aggregations above the range aggregation, at one step:
/// `sum by (k)` keeps the named labels a series has (absent ones are not
/// output labels), `count by (k)` counts the series of each; `sum` one
/// series without labels; `topk(k, …)` the k
/// largest (ties by labels, an order Loki does not promise).
fn aggregate(expr: &MetricExpr, vector: BTreeMap<Labels, f64>) -> BTreeMap<Labels, f64> {
    match expr {
        MetricExpr::Range(_) => vector,
        MetricExpr::Sum { by, inner, count } => {
            let mut out: BTreeMap<Labels, f64> = BTreeMap::new();
            for (labels, v) in aggregate(inner, vector) {
                let key: Labels = match by {
                    Some(names) => labels.into_iter().filter(|(k, _)| names.contains(k)).collect(),
                    None => Labels::new(),
                };
                *out.entry(key).or_default() += if *count { 1.0 } else { v };
            }
            out
        }
        MetricExpr::TopK { k, inner } => {
            let mut all: Vec<(Labels, f64)> = aggregate(inner, vector).into_iter().collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            all.into_iter().take(*k).collect()
        }
    }
}

/// An entry's labels while it goes through the pipeline.
struct State<'a> {
    labels: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    /// `__error__` (Loki's `LabelsBuilder.SetErr`).
    error: Option<String>,
}

impl<'a> State<'a> {
    /// The labels (only `keep` when given), `__error__` among them if set.
    fn into_labels(self, keep: Option<&[String]>) -> Labels {
        let wanted = |k: &str| keep.is_none_or(|names| names.iter().any(|n| n == k));
        let mut labels: Labels =
            self.labels.into_iter().filter(|(k, _)| wanted(k)).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if let Some(e) = self.error.filter(|_| wanted("__error__")) {
            labels.insert("__error__".into(), e);
        }
        labels
    }

    /// A parsed label: named `<name>_extracted` when a stream label already
    /// has the name (`log/parser.go`, `BaseHas` → `duplicateSuffix`).
    fn set_parsed(&mut self, stream: &Labels, name: &'a str, value: Cow<'a, str>) {
        let name =
            if stream.contains_key(name) { Cow::Owned(format!("{name}_extracted")) } else { Cow::Borrowed(name) };
        self.labels.insert(name, value);
    }

    fn set_error(&mut self, error: &str) {
        if self.error.is_none() {
            self.error = Some(error.to_string());
        }
    }
}

/// Runs the stages left to right (Loki's pipeline order); `None` when a
/// stage drops the entry.
fn pipeline<'a>(stream: &'a Labels, entry: &'a Entry, stages: &'a [Stage]) -> Option<State<'a>> {
    // Line filters (docs: "Line filter expression"): `|=` contains, `|~`
    // matches anywhere (RE2, unanchored); `!=`/`!~` negate. Leading ones
    // first, before any label is built (they read only the line).
    let line_holds = |negated: bool, needle: &Needle| {
        let found = match needle {
            Needle::Text(s) => entry.line.contains(s.as_str()),
            Needle::Re(re) => re.is_match(&entry.line),
        };
        found != negated
    };
    let leading = stages.iter().take_while(|s| matches!(s, Stage::Line { .. })).count();
    for stage in &stages[..leading] {
        if let Stage::Line { negated, needle } = stage {
            if !line_holds(*negated, needle) {
                return None;
            }
        }
    }
    let labels = stream.iter().chain(&entry.metadata).map(|(k, v)| (Cow::from(k.as_str()), Cow::from(v.as_str())));
    let mut state = State { labels: labels.collect(), error: None };
    for stage in &stages[leading..] {
        match stage {
            Stage::Line { negated, needle } => {
                if !line_holds(*negated, needle) {
                    return None;
                }
            }
            Stage::Pattern(parts) => {
                for (name, value) in pattern_captures(parts, &entry.line) {
                    state.set_parsed(stream, name, Cow::Borrowed(value));
                }
            }
            // `json l="path"` (docs: "JSON", with parameters): a line that is
            // no JSON object sets JSONParserErr; a path not in the line reads
            // "", strings unescaped, other values as their JSON text.
            Stage::Json(params) => match serde_json::from_str::<Value>(&entry.line) {
                Ok(v @ Value::Object(_)) => {
                    for (label, path) in params {
                        let found = path.iter().try_fold(&v, |v, key| v.get(key));
                        let text = match found {
                            None | Some(Value::Null) => String::new(),
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                        };
                        state.set_parsed(stream, label, Cow::Owned(text));
                    }
                }
                _ => state.set_error("JSONParserErr"),
            },
            // `logfmt l="key"`: every label is first set to "" (a key not in
            // the line reads ""), then from the line's pairs
            // (`log/parser.go`, `LogfmtExpressionParser.Process`).
            Stage::Logfmt(params) => {
                let pairs = logfmt_pairs(&entry.line);
                for (label, key) in params {
                    let value = pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
                    state.set_parsed(stream, label, Cow::Owned(value));
                }
            }
            Stage::Filter(f) => {
                if !filter(f, &mut state) {
                    return None;
                }
            }
        }
    }
    Some(state)
}

/// Loki's pattern matching (docs: "Pattern"; `log/pattern/pattern.go`,
/// `Matches`): a leading literal must start the line; each capture runs to
/// the next occurrence of the literal after it; a trailing capture takes
/// the rest of the line; when a literal is not found the capture before it
/// takes the rest and the later captures are not set.
pub fn pattern_captures<'a>(parts: &'a [PatternPart], line: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut rest = line;
    let mut parts = parts;
    if line.is_empty() {
        return out;
    }
    if let Some(PatternPart::Literal(l)) = parts.first() {
        match rest.strip_prefix(l.as_str()) {
            Some(after) => rest = after,
            None => return out,
        }
        parts = &parts[1..];
    }
    while let Some(PatternPart::Capture(name)) = parts.first() {
        let literal = match parts.get(1) {
            Some(PatternPart::Literal(l)) => l,
            _ => {
                out.extend(name.as_deref().map(|n| (n, rest)));
                return out;
            }
        };
        parts = &parts[2..];
        let Some(i) = rest.find(literal.as_str()) else {
            out.extend(name.as_deref().map(|n| (n, rest)));
            return out;
        };
        out.extend(name.as_deref().map(|n| (n, &rest[..i])));
        rest = &rest[i + literal.len()..];
    }
    out
}

/// A logfmt line's `key=value` pairs (go-logfmt: values bare up to a space,
/// or double-quoted with Go escapes; a key without `=` has an empty value).
pub fn logfmt_pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let key_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let key = rest[..key_end].to_string();
        rest = &rest[key_end..];
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            if after.starts_with('"') {
                match super::logql_syntax::unquote(after) {
                    Ok((v, len)) => {
                        value = v;
                        rest = &after[len..];
                    }
                    Err(_) => return out,
                }
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                value = after[..end].to_string();
                rest = &after[end..];
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
        rest = rest.trim_start();
    }
    out
}

/// One label filter (`log/label_filter.go`, `log/ip.go`).
fn filter(f: &LabelFilter, state: &mut State<'_>) -> bool {
    match f {
        // `and` evaluates both sides, `or` stops at a true left side
        // (`BinaryLabelFilter.Process`).
        LabelFilter::And(a, b) => {
            let left = filter(a, state);
            let right = filter(b, state);
            left && right
        }
        LabelFilter::Or(a, b) => filter(a, state) || filter(b, state),
        // String filters compare an absent label as "" (`NewStringLabelFilter`);
        // `__error__` reads the error.
        LabelFilter::Str { name, op, value, re } => {
            let v = if name == "__error__" {
                state.error.clone().unwrap_or_default()
            } else {
                state.labels.get(name.as_str()).map(|v| v.to_string()).unwrap_or_default()
            };
            match op {
                StrOp::Eq => v == *value,
                StrOp::Ne => v != *value,
                StrOp::Re => re.as_ref().is_some_and(|r| r.is_match(&v)),
                StrOp::NotRe => !re.as_ref().is_some_and(|r| r.is_match(&v)),
            }
        }
        // Numeric filters: an absent label is false; a value that is no
        // float sets LabelFilterErr (if no error yet) and passes
        // (`NumericLabelFilter.Process`).
        LabelFilter::Num { name, op, value } => {
            let Some(raw) = state.labels.get(name.as_str()) else { return false };
            let Ok(v) = raw.parse::<f64>() else {
                state.set_error("LabelFilterErr");
                return true;
            };
            match op {
                NumOp::Eq => v == *value,
                NumOp::Ne => v != *value,
                NumOp::Gt => v > *value,
                NumOp::Ge => v >= *value,
                NumOp::Lt => v < *value,
                NumOp::Le => v <= *value,
            }
        }
        // `ip()`: true while an error is set; an absent label is false for
        // both `=` and `!=`; otherwise whether an address found in the value
        // is in the pattern (an address, a CIDR or `a-b`), negated for `!=`
        // (`IPLabelFilter.filterTy`). An invalid pattern matches nothing.
        LabelFilter::Ip { name, negated, pattern } => {
            if state.error.is_some() {
                return true;
            }
            let Some(v) = state.labels.get(name.as_str()) else { return false };
            let Some(matcher) = IpMatcher::parse(pattern) else { return false };
            matcher.found_in(v) != *negated
        }
    }
}

/// The pattern of `ip("…")`: one address, a network or a range.
#[derive(Debug, Clone, Copy)]
pub enum IpMatcher {
    Net(ipnet::IpNet),
    Range(IpAddr, IpAddr),
}

impl IpMatcher {
    pub fn parse(pattern: &str) -> Option<IpMatcher> {
        if let Ok(a) = pattern.parse::<IpAddr>() {
            return Some(IpMatcher::Range(a, a));
        }
        if let Ok(net) = pattern.parse::<ipnet::IpNet>() {
            return Some(IpMatcher::Net(net));
        }
        let (a, b) = pattern.split_once('-')?;
        let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (a.is_ipv4() == b.is_ipv4() && a <= b).then_some(IpMatcher::Range(a, b))
    }

    fn contains(&self, a: IpAddr) -> bool {
        match self {
            IpMatcher::Net(net) => net.contains(&a),
            IpMatcher::Range(lo, hi) => lo.is_ipv4() == a.is_ipv4() && *lo <= a && a <= *hi,
        }
    }

    /// Whether some address in `text` (a maximal run of address characters)
    /// is matched: Loki scans the value as it scans a line (`ipFilter.filter`).
    pub fn found_in(&self, text: &str) -> bool {
        let is_addr_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        text.split(|c: char| !is_addr_char(c)).filter_map(|run| run.parse::<IpAddr>().ok()).any(|a| self.contains(a))
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
