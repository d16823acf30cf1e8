//! A test-only model of Loki's query semantics for the LogQL subset that
//! `src/backends/loki/logql/` emits (parsed by `logql_syntax.rs`), evaluated
//! over stored entries (stream labels, structured metadata, ns timestamp,
//! line). Written from Loki's documentation
//! (<https://grafana.com/docs/loki/latest/query/>, the HTTP API at
//! <https://grafana.com/docs/loki/latest/reference/loki-http-api/>) and,
//! where the docs are silent, the source file named at each rule; never from
//! the dialect's code. Answers are the dialect's [`Answer`] (so
//! `dialect::logql::merge` can consume them) or Loki's JSON.//!
//! This file: the store and the evaluation of log and metric queries.
//! `pipeline.rs`: an entry through the stages after the selector (line
//! filters, parsers, label filters). `http.rs`: Loki's HTTP API, requests
//! read from their parameters and answers written as Loki's JSON.
#![allow(dead_code)] // each test crate uses a different part

mod http;
mod pipeline;

use std::collections::{BTreeMap, BTreeSet};

use flowlens::backends::loki::logql::{Answer, LogStream};

use super::logql_syntax::{parse, LogExpr, Matcher, MetricExpr, Query, RangeAgg, RangeFn};

#[allow(unused_imports)] // each test crate uses a different part
pub use http::{answer_json, parse_time, selector_text, series_answer, Request};
use pipeline::{filter, pipeline, State};
#[allow(unused_imports)]
pub use pipeline::{logfmt_pairs, pattern_captures, IpMatcher};

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
