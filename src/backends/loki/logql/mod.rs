//! Grafana Loki LogQL: every plan [`Step`] as the Loki HTTP requests that
//! answer it exactly ([`LokiRequest`], pure data a client runs), and
//! [`merge`], which turns their answers into the same [`StepOutput`] the
//! VictoriaLogs path produces. Pure.
//!
//! # Shape
//!
//! ```text
//! sum by (<groupBy>) (sum_over_time({stream} [R] offset 1ms
//!   |= "eni-…" != "<header line>"              line filters: Loki's fast path, before any parsing
//!   | pattern "<_> … <flow_interface_id> … <flow_bytes> <_>"   raw records: only the needed fields
//!   | flow_interface_id="eni-…" | flow_pkt_dstaddr=ip("10.0.32.0/20") | …   label filters
//!   | unwrap flow_bytes | __error__=""))
//! ```
//!
//! `records` counts with `count_over_time`. Fields parsed at ingest
//! (`recordMode: fields`) are read as `lokiFields` says: structured metadata
//! (label filters on them directly, no parser), or `| json` / `| logfmt` with
//! one parameter per needed field, which names the label after the canonical
//! field after `flow_` (`| json flow_pkt_srcaddr="pkt_src_addr"`: never a stream
//! label's name, which Loki would make the capture `<name>_extracted` for,
//! `pkg/logql/log/parser.go`). Loki evaluates stages left to
//! right, so every line filter comes before the parser and every label
//! filter before `unwrap`. Always the unparenthesised form: Grafana's
//! grammar rejects `sum_over_time(({…} | …)[1h])`.
//!
//! # Exact windows
//!
//! A bucket is `[b, b + S)` with `b` a multiple of the step `S` since the
//! epoch (VictoriaLogs' `_time:S`, Grafana's `$__interval`); the edge
//! buckets are clipped to `[from, to)` exactly as [`crate::frames::buckets`]
//! says. Loki's windows are `(t - offset - R, t - offset]`: a sample at the
//! window's start is not in it, one at its end is
//! (`pkg/logql/range_vector.go`, `load`: "the lower bound of the range is
//! not inclusive"). Every point is stamped `(t - offset) / 1e6 + offset /
//! 1e6` ms, with Go's integer division (`range_vector.go`, `At`), and Loki's
//! query frontend, which every deployment runs, only keeps points stamped
//! where it expects them:
//!
//! - the sharded merge (`pkg/logql/matrix.go`, `MatrixStepEvaluator.Next`;
//!   query sharding is on by default with the TSDB index, and even at shard
//!   factor 0 a `sum by` runs through the frontend's `DownstreamEngine`)
//!   emits a series' next point only when its stamp equals the step time,
//!   and never advances past one that does not: a range query whose points
//!   are stamped off the step grid comes back empty;
//! - the results cache (`queryrangebase/results_cache.go`, `Extract`) keeps
//!   points stamped in `[start, end]` of a request, in ms: a point stamped
//!   before its request's start is dropped on every cache hit;
//! - the split middleware (`pkg/querier/queryrange/split_by_interval.go`,
//!   `splitMetricByTime`) aligns a range query's `start` down and `end` up
//!   to multiples of the step, in ns.
//!
//! So a point must be stamped on the millisecond it is evaluated at, which
//! happens exactly when `offset` is a whole number of ms; every metric
//! query reads `[R] offset 1ms`:
//!
//! - totals, rankings and (with `lokiTimestamps: nanoseconds`) each bucket:
//!   one instant query at `time = to + 1ms - 1ns`, which reads `(to - 1ns -
//!   R, to - 1ns]`, exactly `[from, to)` with `R = to - from` at any
//!   timestamp precision, stamped `to` ms, the request's own millisecond;
//! - series (`lokiTimestamps: milliseconds`, the default): one range query
//!   over the whole buckets at step `S`, `start` = the first whole bucket's
//!   end, `end` = the last one's, both multiples of `S` (left alone by the
//!   frontend's alignment); the point evaluated at `t` reads `(t - S - 1ms,
//!   t - 1ms]`, which for entries stamped on whole milliseconds is exactly
//!   the bucket `[t - S, t)`, and is stamped `t`. An entry stamped inside a
//!   millisecond's last part would be read one bucket late: no window of a
//!   range query can start or end between two milliseconds, since its
//!   stamps must be whole ms (hence the setting; Save & test samples the
//!   newest entries' timestamps and says which one fits);
//! - edge buckets (the range does not start or end on a multiple of `S`):
//!   one instant query each, with the part's width as the window.
//!
//! [`Covers::bucket_of`] reads a point stamped anywhere in `(t - S, t]` as
//! the bucket that ends at `t` (engines that stamp `t - offset` included),
//! and drops points of buckets the request does not cover (an engine that
//! answers past `end`), so no bucket is counted twice and the requests of a
//! step add up.
//!
//! Units (read at the source, `pkg/logql/syntax/lex.go`): a `[range]` is
//! parsed with Prometheus' `model.ParseDuration` only (`y w d h m s ms`, no
//! `ns`); an `offset` duration tries `model.ParseDuration`, then Go's
//! `time.ParseDuration` (`ns us µs ms s m h`).
//! Windows are written in the largest whole unit of `h m s ms`. Grafana's
//! grammar (`@grafana/lezer-logql` 0.4.2) accepts all of these, but not
//! `{…} | pipeline | unwrap x [R] offset 1ms` (Loki's `syntax.y` has that
//! production, the lezer grammar does not), while both accept the range
//! written right after the selector, `{…} [R] offset 1ms | pipeline | unwrap
//! x` (`syntax.y`: `selector RANGE offsetExpr pipelineExpr unwrapExpr`):
//! that is the form used. The HTTP API takes times as integer Unix
//! nanoseconds (`pkg/loghttp/params.go`, `parseTimestamp`: an integer of
//! more than 10 digits is nanoseconds) and the step as a duration or float
//! seconds (`parseSecondsOrDuration`).
//!
//! Rankings are `sum by (k)` over the whole range, never `topk` (in a range
//! query it ranks per step, loki#7932; in an instant query its ties are
//! arbitrary): [`merge`] sorts the groups client-side, value descending,
//! then keys in natural order (numbers and IPv4 addresses numerically, as
//! VictoriaLogs sorts), and keeps N. Series then fetch exactly those keys
//! (`k=~"^(?:a|b)$"`, or an `or` of conjunctions for several fields).
//!
//! # Values are data
//!
//! LogQL strings are Go string literals (`lex.go`: `strutil.Unquote`); the
//! JSON escaping of [`quote`] is a subset of Go's, so every user value is
//! written `"…"` with it. A regex is validated by the model, anchored as
//! `^(?:re)$` (Loki anchors label regexes too, `log/filter.go`,
//! `parseRegexpFilter`; the explicit anchors keep that true on any engine),
//! and then quoted, so its backslashes are doubled: regex escaping (of
//! values in `=~` alternations: a backslash before each RE2 metacharacter) comes first, string
//! escaping second. Label names are canonical field names (identifiers) in
//! raw and json/logfmt modes; structured-metadata names come from the field
//! mapping and must be LogQL identifiers that are not keywords, and json and
//! logfmt keys must be expressible in Loki's parameter syntax
//! (`log/jsonexpr/lexer.go`: `["key"]` ends at `"` or `]`;
//! `log/logfmt/lexer.go`: keys are identifiers): anything else is an error
//! that names the field.
//!
//! # No value
//!
//! As in the LogsQL dialect: AWS writes `-`, a field parsed at ingest may be
//! absent (Loki reads an absent label as `""` in string filters,
//! `log/label_filter.go`, `NewStringLabelFilter`). `=`/`!=` against `""` or
//! `-` test for both spellings, a regex matches them exactly when it matches
//! the empty string, and no value is in no range (a numeric filter on `-`
//! sets `__error__` and `| __error__=""` drops the line; `unwrap` of `-` is
//! dropped the same way, which adds 0 to a sum) and in no network:
//! `(f!="-" and f=ip("…"))`, `(f="-" or f!=ip("…"))` (fields parsed at
//! ingest test `""` too). Loki's `= ip()` is false for no value on its own,
//! but its `!= ip()` is false for an absent label (`log/ip.go`,
//! `filterTy`), and oteldb flags a value that is no address with
//! `__error__` and lets the line pass; asking `ip()` only about values is
//! exact on both (oteldb's `and`/`or` stop early, and so do pipeline stages;
//! Loki's `and` evaluates both sides, `log/label_filter.go`,
//! `BinaryLabelFilter`, but its `ip()` flags nothing).
//! [`merge`] reads a key of `-` or an absent label as `""`.

use super::settings::{LokiFields, LokiSettings, LokiTimestamps};
use crate::dialect::{Dialect, Target};
use crate::error::QueryError;
use crate::frames::{buckets, Bucket};
use crate::model::{FlowQuery, Format, TimeRange};
use crate::plan::Step;
use crate::selector::{MatchOp, StreamSelector};
pub use crate::time::duration;

mod merge;
mod parts;
mod pipeline;

pub use merge::{answer_bytes, merge, Merger, ENTRY_BYTES};
pub use parts::{answered_sum, KeyPart, MAX_PARTS};
pub use pipeline::EXTRACTED;
use pipeline::{pipeline, Names, Pipeline};

/// The LogQL dialect; `fields` says where a `recordMode: fields`
/// datasource's fields live.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogQl {
    /// Structured metadata, JSON lines or logfmt lines.
    pub fields: LokiFields,
    /// When above 0: metric queries are split into sub-ranges at multiples
    /// of this many ms (Unix-epoch aligned, like Loki's
    /// `split_queries_by_interval`; series at whole buckets), each its own
    /// request, merged exactly ([`merge`] adds disjoint covers).
    pub split_ms: i64,
    /// How precise the entries' timestamps are: whole milliseconds (a
    /// series is range queries) or any nanosecond (one instant query per
    /// bucket).
    pub timestamps: LokiTimestamps,
}

/// Loki's default `max_entries_limit_per_query`: a log query asks for at
/// most this many lines; [`LokiRequest::next_page`] asks for the rest.
pub const MAX_ENTRIES: usize = 5000;

/// With `lokiTimestamps: nanoseconds`, the most buckets a series may have
/// (each is its own instant query).
pub const MAX_INSTANT_BUCKETS: usize = 1_500;

use crate::model::NO_VALUE;

mod request;
pub use request::{Answer, Covers, LogStream, LokiRequest, RequestKind, Sample};

impl Dialect for LogQl {
    /// The query of the step's first request over the whole range, as one
    /// would run it in Explore (the requests sent split it into sub-ranges
    /// of [`LogQl::split_ms`]): the range query of a series (edge buckets
    /// follow it as instant queries), the instant query of a total or
    /// ranking, the log query of records.
    fn render(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String {
        match (LogQl { split_ms: 0, ..*self }).requests(target, q, step) {
            Ok(requests) => requests.into_iter().next().map(|r| r.query).unwrap_or_default(),
            Err(e) => format!("# {}", e.message.replace('\n', " ")),
        }
    }
}

impl LogQl {
    /// The dialect a datasource's Loki settings ask for.
    pub fn of(settings: &crate::settings::Settings) -> Result<Self, crate::settings::SettingsError> {
        let LokiSettings { fields, split_ms, timestamps } = LokiSettings::of(settings)?;
        Ok(LogQl { fields, split_ms, timestamps })
    }

    /// The requests that answer one step exactly, in the order they are
    /// best shown (the main request first). Errors name the setting or
    /// field that LogQL cannot express.
    pub fn requests(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> Result<Vec<LokiRequest>, QueryError> {
        let grouped = match step {
            Step::Raw => {
                let raw = q.raw_query.as_deref().ok_or_else(|| QueryError::plugin("`rawQuery` is empty"))?;
                return Ok(vec![raw_request(raw, q)]);
            }
            Step::Streams { .. } => return Ok(vec![streams_request(target.stream, q.range)?]),
            Step::Rank { .. } | Step::Buckets { grouped: true, .. } => true,
            Step::Buckets { grouped: false, .. } | Step::Total | Step::Records { .. } => false,
        };
        let query = self.query(target, q, step, grouped)?;
        // Distinct counts of sub-ranges do not add up: asked whole.
        let split_ms = if q.metric.additive() { self.split_ms } else { 0 };
        Ok(match step {
            Step::Records { limit } => vec![query.logs(q.range, *limit, self.split_ms, q.oldest_first)],
            Step::Total | Step::Rank { .. } => split_range(q.range, split_ms)
                .into_iter()
                .map(|part| query.instant(part, Covers::Range(part)))
                .collect(),
            _ => query.series(q, split_ms, self.timestamps)?,
        })
    }
}

impl LogQl {
    /// A step's query before it is given its windows.
    fn query(&self, target: &Target<'_>, q: &FlowQuery, step: &Step, grouped: bool) -> Result<Query, QueryError> {
        let names = Names { fields: self.fields, schema: target.schema };
        let keys = match step {
            Step::Buckets { grouped: true, keys: Some(keys) } => Some(keys.as_slice()),
            _ => None,
        };
        Ok(Query {
            distinct: q.metric.distinct_field().map(|f| names.label(f)).transpose()?,
            selector: selector(target.stream)?,
            pipeline: pipeline(&names, q, grouped, keys, matches!(step, Step::Records { .. }))?,
            key_labels: if grouped {
                q.group_by.iter().map(|f| names.label(f)).collect::<Result<Vec<_>, _>>()?
            } else {
                Vec::new()
            },
        })
    }

    /// A rollup rule ([`crate::rollups`]): the question's metric query over
    /// windows of `resolution_ms`, `offset 1ms` like every query here, so a
    /// rule evaluated at `T` sums exactly `[T - resolution, T)` (module
    /// docs) and is stamped `T`; with its group labels. `None` when LogQL
    /// cannot ask it or a label is no Prometheus label name.
    pub fn render_rule(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        resolution_ms: i64,
    ) -> Option<crate::rollups::RuleExpr> {
        let grouped = !q.group_by.is_empty();
        let query = self.query(target, q, &Step::Buckets { grouped, keys: None }, grouped).ok()?;
        if query.distinct.is_some() || !query.key_labels.iter().all(|l| crate::rollups::label_name_ok(l)) {
            return None;
        }
        // [`merge`] reads a key of `-` as no value: so must the rollups.
        Some(crate::rollups::RuleExpr {
            expr: query.metric(resolution_ms),
            labels: query.key_labels,
            no_value: &[NO_VALUE],
        })
    }

    /// The rule counting the stream's records per interval.
    pub fn render_evaluated(target: &Target<'_>, resolution_ms: i64) -> Option<String> {
        let stream = selector(target.stream).ok()?;
        Some(format!("sum(count_over_time({stream} [{}] offset 1ms))", duration(resolution_ms)))
    }
}

/// A step's query before it is given its windows.
struct Query {
    selector: String,
    pipeline: Pipeline,
    /// The grouping labels, in `groupBy` order.
    key_labels: Vec<String>,
    /// For a distinct count: the label whose values are counted.
    distinct: Option<String>,
}

impl Query {
    /// The metric query over windows of `window_ms`, read `offset 1ms`
    /// (module docs: every point stamped on the ms it is evaluated at).
    /// A distinct count is the number of series of `count by (<keys>,
    /// <label>)` per key.
    fn metric(&self, window_ms: i64) -> String {
        let by = |op: &str, labels: &[String]| {
            if labels.is_empty() {
                op.to_string()
            } else {
                format!("{op} by ({}) ", labels.join(", "))
            }
        };
        let function = if self.pipeline.unwrap.is_some() { "sum_over_time" } else { "count_over_time" };
        let samples = format!(
            "{function}({} [{}] offset 1ms{})",
            self.selector,
            duration(window_ms),
            self.pipeline.metric_stages()
        );
        match &self.distinct {
            None => format!("{}({samples})", by("sum", &self.key_labels)),
            Some(label) => {
                let mut values = self.key_labels.clone();
                if !values.contains(label) {
                    values.push(label.clone());
                }
                // The inner `sum by`, not `count by`: Loki's frontend pushes
                // a `sum` down into each sub-query it splits an instant
                // query into (`pkg/logql/rangemapper.go`), but not a
                // `count`, whose pieces would hold a series per label set.
                format!("{}({}({samples}))", by("count", &self.key_labels), by("sum", &values))
            }
        }
    }

    /// One instant query that reads exactly `read`, at any timestamp
    /// precision: evaluated 1 ms - 1 ns after its end, `offset 1ms`.
    fn instant(&self, read: TimeRange, covers: Covers) -> LokiRequest {
        LokiRequest {
            kind: RequestKind::Instant,
            query: self.metric(read.to_ms - read.from_ms),
            params: vec![("time", instant_time(read.to_ms))],
            covers,
            key_labels: self.key_labels.clone(),
        }
    }

    /// A range query for the whole buckets, then an instant query per edge
    /// bucket (one that the range starts or ends inside); with
    /// nanosecond timestamps an instant query per bucket.
    fn series(&self, q: &FlowQuery, split_ms: i64, timestamps: LokiTimestamps) -> Result<Vec<LokiRequest>, QueryError> {
        let all = buckets(q);
        if timestamps == LokiTimestamps::Nanoseconds && all.len() > MAX_INSTANT_BUCKETS {
            return Err(QueryError::plugin(format!(
                "this series has {} buckets; with loki.timestamps \"nanoseconds\" each bucket is its own Loki \
                 request, at most {MAX_INSTANT_BUCKETS}: raise the panel's Min interval or narrow the time range",
                all.len()
            )));
        }
        let ranged = timestamps == LokiTimestamps::Milliseconds;
        let whole = |b: &&Bucket| ranged && b.time_ms == b.start_ms && b.width_ms == q.step_ms;
        let mut requests = Vec::new();
        let whole_buckets: Vec<&Bucket> = all.iter().filter(whole).collect();
        // Whole buckets in runs that each end at a split boundary (at least
        // one bucket a run); the runs are disjoint, so their points add.
        let mut runs: Vec<Vec<&Bucket>> = Vec::new();
        for b in whole_buckets {
            let chunk = |t: i64| if split_ms > 0 { t.div_euclid(split_ms) } else { 0 };
            match runs.last_mut() {
                Some(run) if chunk(run[0].start_ms) == chunk(b.start_ms) => run.push(b),
                _ => runs.push(vec![b]),
            }
        }
        for run in runs {
            let (Some(first), Some(last)) = (run.first(), run.last()) else { continue };
            requests.push(LokiRequest {
                kind: RequestKind::Range,
                query: self.metric(q.step_ms),
                params: vec![
                    ("start", ns(first.start_ms + q.step_ms)),
                    ("end", ns(last.start_ms + q.step_ms)),
                    ("step", duration(q.step_ms)),
                ],
                covers: Covers::Buckets { step_ms: q.step_ms, first_ms: first.start_ms, last_ms: last.start_ms },
                key_labels: self.key_labels.clone(),
            });
        }
        for edge in all.iter().filter(|b| !whole(b)) {
            let read = TimeRange { from_ms: edge.time_ms, to_ms: edge.time_ms + edge.width_ms };
            requests.push(self.instant(read, Covers::Bucket { start_ms: edge.start_ms, read }));
        }
        Ok(requests)
    }

    /// The log query for the newest `limit` records of `range`: its first
    /// page reads the newest sub-range.
    fn logs(&self, range: TimeRange, limit: usize, split_ms: i64, oldest_first: bool) -> LokiRequest {
        let page = if oldest_first { first_page(range, split_ms) } else { page_range(range, split_ms) };
        LokiRequest {
            kind: RequestKind::Logs,
            query: format!("{}{}", self.selector, self.pipeline.log_stages()),
            params: log_params(page, limit, oldest_first),
            covers: Covers::Records { range, limit, split_ms, oldest_first },
            key_labels: Vec::new(),
        }
    }
}

/// `range` cut at every multiple of `split_ms` inside it (the whole range
/// when `split_ms` is 0): disjoint, in order, covering it exactly.
pub fn split_range(range: TimeRange, split_ms: i64) -> Vec<TimeRange> {
    if split_ms <= 0 {
        return vec![range];
    }
    let mut parts = Vec::new();
    let mut from = range.from_ms;
    while from < range.to_ms {
        let to = ((from.div_euclid(split_ms) + 1) * split_ms).min(range.to_ms);
        parts.push(TimeRange { from_ms: from, to_ms: to });
        from = to;
    }
    if parts.is_empty() {
        parts.push(range);
    }
    parts
}

/// The oldest sub-range of `range` at multiples of `split_ms` (the whole
/// range when `split_ms` is 0).
fn first_page(range: TimeRange, split_ms: i64) -> TimeRange {
    split_range(range, split_ms).first().copied().unwrap_or(range)
}

/// The newest sub-range of `range` at multiples of `split_ms` (the whole
/// range when `split_ms` is 0).
fn page_range(range: TimeRange, split_ms: i64) -> TimeRange {
    match split_range(range, split_ms).last() {
        Some(last) => *last,
        None => range,
    }
}

/// A log query's parameters: `[from, to)` (Loki's `end` is exclusive),
/// newest first (or oldest first), at most a page.
fn log_params(range: TimeRange, limit: usize, oldest_first: bool) -> Vec<(&'static str, String)> {
    vec![
        ("start", ns(range.from_ms)),
        ("end", ns(range.to_ms)),
        ("limit", limit.min(MAX_ENTRIES).to_string()),
        ("direction", if oldest_first { "forward" } else { "backward" }.into()),
    ]
}

/// Unix ms as the API's integer Unix nanoseconds.
/// The `time` of an instant query that reads up to `to_ms` (exclusive)
/// `offset 1ms`: `to + 1ms - 1ns`, in Unix ns.
fn instant_time(to_ms: i64) -> String {
    (i128::from(to_ms) * 1_000_000 + 999_999).to_string()
}

fn ns(ms: i64) -> String {
    (i128::from(ms) * 1_000_000).to_string()
}

/// The stream selector; Loki needs at least one matcher that does not
/// match the empty string.
fn selector(stream: &StreamSelector) -> Result<String, QueryError> {
    let anchored_matches_empty = |re: &str| regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(""));
    let selective = stream.matchers.iter().any(|m| match m.op {
        MatchOp::Eq => !m.value.is_empty(),
        MatchOp::Ne => m.value.is_empty(),
        MatchOp::Re => !anchored_matches_empty(&m.value),
        MatchOp::NotRe => anchored_matches_empty(&m.value),
    });
    if !selective {
        return Err(QueryError::plugin(format!(
            "streamSelector `{stream}`: Loki needs at least one matcher that does not match an empty value, e.g. {{logtype=\"flow\"}}"
        )));
    }
    Ok(stream.to_string())
}

/// A hand-written query with the request's time range (and step for series).
fn raw_request(raw: &str, q: &FlowQuery) -> LokiRequest {
    let range = q.range;
    let (kind, params, covers) = if raw.trim_start().starts_with('{') {
        let limit = q.limit.unwrap_or(crate::model::LOGS_LIMIT.0);
        (
            RequestKind::Logs,
            log_params(range, limit, false),
            Covers::Records { range, limit, split_ms: 0, oldest_first: false },
        )
    } else if q.format == Format::Series {
        let covers = Covers::Buckets {
            step_ms: q.step_ms,
            first_ms: range.from_ms.div_euclid(q.step_ms) * q.step_ms,
            last_ms: (range.to_ms - 1).div_euclid(q.step_ms) * q.step_ms,
        };
        let params = vec![("start", ns(range.from_ms)), ("end", ns(range.to_ms)), ("step", duration(q.step_ms))];
        (RequestKind::Range, params, covers)
    } else {
        (RequestKind::Instant, vec![("time", ns(range.to_ms))], Covers::Range(range))
    };
    LokiRequest { kind, query: raw.to_string(), params, covers, key_labels: Vec::new() }
}

/// The streams that hold any label of the selector within `range` (to
/// say which exist when the selector matches none): `/series` with one
/// `match[]` per label, answered from the index.
fn streams_request(stream: &StreamSelector, range: TimeRange) -> Result<LokiRequest, QueryError> {
    let mut labels: Vec<&str> = Vec::new();
    for m in &stream.matchers {
        if !labels.contains(&m.label.as_str()) {
            labels.push(&m.label);
        }
    }
    let matcher = |label: &str| format!("{{{label}=~\".+\"}}");
    let Some((first, rest)) = labels.split_first() else {
        return Err(QueryError::plugin(
            "streamSelector is empty: Loki needs at least one label matcher, e.g. {logtype=\"flow\"}",
        ));
    };
    let mut params: Vec<(&'static str, String)> = rest.iter().map(|l| ("match[]", matcher(l))).collect();
    params.extend([("start", ns(range.from_ms)), ("end", ns(range.to_ms))]);
    Ok(LokiRequest {
        kind: RequestKind::Series,
        query: matcher(first),
        params,
        covers: Covers::Range(range),
        key_labels: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
