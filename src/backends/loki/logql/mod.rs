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

use std::collections::BTreeMap;

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

/// Which Loki endpoint a request goes to, and what its answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `/loki/api/v1/query` with `time`: a `vector`.
    Instant,
    /// `/loki/api/v1/query_range` with `start`, `end`, `step`: a `matrix`.
    Range,
    /// `/loki/api/v1/query_range` with `start`, `end`, `limit`,
    /// `direction`: `streams`.
    Logs,
    /// `/loki/api/v1/series` with `match[]`, `start`, `end`: the label sets
    /// of the streams that match, read from the index alone (no chunk is
    /// read), as [`Answer::Streams`] without entries.
    Series,
}

impl RequestKind {
    /// The endpoint's path below the datasource URL.
    pub fn path(self) -> &'static str {
        match self {
            Self::Instant => "/loki/api/v1/query",
            Self::Range | Self::Logs => "/loki/api/v1/query_range",
            Self::Series => "/loki/api/v1/series",
        }
    }
}

/// What part of a step's answer a request holds, so answers merge exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    /// One value per series for the whole of this range.
    Range(TimeRange),
    /// One value per series for one bucket (an edge bucket): its aligned
    /// start, and the part of it that is read.
    Bucket {
        /// The bucket's aligned start, its key in [`StepOutput::Buckets`].
        start_ms: i64,
        /// `[max(start, from), min(start + step, to))`.
        read: TimeRange,
    },
    /// A range query over whole buckets: the point evaluated at `t` is the
    /// bucket `[t - step, t)`, for bucket starts `first_ms..=last_ms`.
    Buckets {
        /// The step and bucket width.
        step_ms: i64,
        /// The first bucket's start.
        first_ms: i64,
        /// The last bucket's start.
        last_ms: i64,
    },
    /// Raw records of this range, newest first (or oldest first), at most `limit`.
    Records {
        /// `[from, to)`.
        range: TimeRange,
        /// How many the step asked for (a page may hold fewer).
        limit: usize,
        /// When above 0, pages read the range's sub-ranges at multiples of
        /// this many ms, newest first (see [`LokiRequest::next_page`]).
        split_ms: i64,
        /// Oldest first: Loki's `direction=forward`, pages from the range's start.
        oldest_first: bool,
    },
}

impl Covers {
    /// The bucket start a point stamped `point_ms` answers, or `None` when
    /// the request does not cover it. A range point evaluated at `t` may be
    /// stamped `t` or `t - 1 ms` (module docs), so any stamp in `(t - S, t]`
    /// is the bucket that ends at `t`.
    pub fn bucket_of(&self, point_ms: i64) -> Option<i64> {
        match *self {
            Self::Bucket { start_ms, .. } => Some(start_ms),
            Self::Buckets { step_ms, first_ms, last_ms } => {
                let end = point_ms.div_euclid(step_ms) * step_ms
                    + if point_ms.rem_euclid(step_ms) == 0 { 0 } else { step_ms };
                let start = end - step_ms;
                (first_ms..=last_ms).contains(&start).then_some(start)
            }
            Self::Range(_) | Self::Records { .. } => None,
        }
    }
}

/// One Loki HTTP request, as data: a client sends `form()` to `path()` (GET
/// query string or POST form) and hands the answer to [`merge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LokiRequest {
    /// Endpoint and answer type.
    pub kind: RequestKind,
    /// The LogQL text.
    pub query: String,
    /// Every other parameter: `time` | `start`, `end`, `step` | `start`,
    /// `end`, `limit`, `direction`. Times are Unix nanoseconds.
    pub params: Vec<(&'static str, String)>,
    /// What the answer holds.
    pub covers: Covers,
    /// The labels that hold the group key, in `groupBy` order (empty when
    /// not grouped).
    pub key_labels: Vec<String>,
}

impl LokiRequest {
    /// The endpoint's path below the datasource URL.
    pub fn path(&self) -> &'static str {
        self.kind.path()
    }

    /// `query` (`match[]` for [`RequestKind::Series`]) and the parameters,
    /// as sent.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let name = if self.kind == RequestKind::Series { "match[]" } else { "query" };
        let mut form = vec![(name, self.query.clone())];
        form.extend(self.params.iter().cloned());
        form
    }

    /// The next page of a log query after its `answer` (`held`: the lines of
    /// the step's pages so far, this one's included); `None` when the step has all it asked for or
    /// Loki had no more. A full page is followed by one that ends just after
    /// its oldest line (Loki's `end` is exclusive), so lines of that same
    /// nanosecond that did not fit come too; [`merge`] drops the ones already
    /// held (Loki's own identity of a line: stream, time and text). A page
    /// that was not full has read its sub-range: the next one reads the
    /// sub-range before it, until the range's start.
    pub fn next_page(&self, answer: &Answer, held: usize) -> Option<LokiRequest> {
        let (Covers::Records { range, limit, split_ms, oldest_first }, Answer::Streams(streams)) =
            (self.covers, answer)
        else {
            return None;
        };
        let received: usize = streams.iter().map(|s| s.entries.len()).sum();
        let asked: usize = self.param("limit")?.parse().ok()?;
        if held >= limit {
            return None;
        }
        let mut next = self.clone();
        if oldest_first {
            // The mirror image: forward from the page's end, or from its newest entry.
            if received < asked {
                let end_ms = i64::try_from(self.param("end")?.parse::<i128>().ok()? / 1_000_000).ok()?;
                if end_ms >= range.to_ms {
                    return None;
                }
                let page = first_page(TimeRange { from_ms: end_ms, to_ms: range.to_ms }, split_ms);
                next.set("start", ns(page.from_ms));
                next.set("end", ns(page.to_ms));
                next.set("limit", (limit - held).min(MAX_ENTRIES).to_string());
            } else {
                let newest_ns = streams.iter().flat_map(|s| s.entries.iter().map(|e| e.0)).max()?;
                next.set("start", newest_ns.to_string());
                next.set("limit", (limit - held + 1).min(MAX_ENTRIES).to_string());
            }
            return Some(next);
        }
        if received < asked {
            let start_ms = i64::try_from(self.param("start")?.parse::<i128>().ok()? / 1_000_000).ok()?;
            if start_ms <= range.from_ms {
                return None;
            }
            let page = page_range(TimeRange { from_ms: range.from_ms, to_ms: start_ms }, split_ms);
            next.set("start", ns(page.from_ms));
            next.set("end", ns(page.to_ms));
            next.set("limit", (limit - held).min(MAX_ENTRIES).to_string());
        } else {
            let oldest_ns = streams.iter().flat_map(|s| s.entries.iter().map(|e| e.0)).min()?;
            next.set("end", (i128::from(oldest_ns) + 1).to_string());
            next.set("limit", (limit - held + 1).min(MAX_ENTRIES).to_string());
        }
        Some(next)
    }

    /// The same page, asking for [`MAX_ENTRIES`] lines (after a page that
    /// held nothing new: its last nanosecond holds more lines than it asked).
    pub fn wider_page(&self) -> Option<LokiRequest> {
        let mut next = self.clone();
        next.set("limit", MAX_ENTRIES.to_string());
        Some(next)
    }

    /// After a full page that held no line not seen before (more lines
    /// than a page share its oldest nanosecond, or newest when oldest
    /// first): the page that goes on past that nanosecond, whose lines
    /// beyond the page are skipped (Loki pages by timestamp only; the
    /// records step says so in a notice). `None` when nothing is left.
    pub fn past_nanosecond(&self, answer: &Answer, held: usize) -> Option<LokiRequest> {
        let (Covers::Records { limit, oldest_first, .. }, Answer::Streams(streams)) = (self.covers, answer) else {
            return None;
        };
        let times = || streams.iter().flat_map(|s| s.entries.iter().map(|e| e.0));
        let mut next = self.clone();
        if oldest_first {
            next.set("start", (i128::from(times().max()?) + 1).to_string());
        } else {
            next.set("end", times().min()?.to_string());
        }
        next.set("limit", limit.saturating_sub(held).clamp(1, MAX_ENTRIES).to_string());
        Some(next)
    }

    fn set(&mut self, name: &str, value: String) {
        if let Some((_, v)) = self.params.iter_mut().find(|(n, _)| *n == name) {
            *v = value;
        }
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// A parsed Loki answer (`data.result`).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `vector` (one point per series) or `matrix`.
    Series(Vec<Sample>),
    /// `streams`.
    Streams(Vec<LogStream>),
}

/// One series of a `vector` or `matrix` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels (`metric`).
    pub labels: BTreeMap<String, String>,
    /// `(time ms, value)` points.
    pub points: Vec<(i64, f64)>,
}

/// One stream of a `streams` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStream {
    /// Stream labels, structured metadata and parsed labels.
    pub labels: BTreeMap<String, String>,
    /// `(time ns, line)` entries.
    pub entries: Vec<(i64, String)>,
}

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
        let names = Names { fields: self.fields, schema: target.schema };
        let keys = match step {
            Step::Buckets { grouped: true, keys: Some(keys) } => Some(keys.as_slice()),
            _ => None,
        };
        // Distinct counts of sub-ranges do not add up: asked whole.
        let split_ms = if q.metric.additive() { self.split_ms } else { 0 };
        let query = Query {
            distinct: q.metric.distinct_field().map(|f| names.label(f)).transpose()?,
            selector: selector(target.stream)?,
            pipeline: pipeline(&names, q, grouped, keys, matches!(step, Step::Records { .. }))?,
            key_labels: if grouped {
                q.group_by.iter().map(|f| names.label(f)).collect::<Result<Vec<_>, _>>()?
            } else {
                Vec::new()
            },
        };
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
mod tests {
    use super::*;
    use crate::plan::StepOutput;
    use crate::schema::{RecordFormat, RecordSchema};

    fn stream() -> StreamSelector {
        StreamSelector::parse("{logtype=\"flow\"}").unwrap()
    }

    fn series(from_ms: i64, to_ms: i64, step_ms: i64) -> FlowQuery {
        FlowQuery { format: Format::Series, step_ms, ..FlowQuery::probe(TimeRange { from_ms, to_ms }) }
    }

    fn requests(q: &FlowQuery, step: &Step) -> Vec<LokiRequest> {
        let schema = RecordSchema::Raw(RecordFormat::default());
        LogQl::default().requests(&Target { stream: &stream(), schema: &schema }, q, step).unwrap()
    }

    #[test]
    fn durations_are_prometheus_durations() {
        assert_eq!(duration(86_400_000), "24h");
        assert_eq!(duration(300_000), "5m");
        assert_eq!(duration(433_000), "433s");
        assert_eq!(duration(1_499), "1499ms");
    }

    /// Over many ranges and steps, the requests of a series step cover every
    /// bucket of the range once, and read exactly `[from, to)`.
    #[test]
    fn series_requests_cover_each_bucket_once_and_the_range_exactly() {
        let day = 1_795_132_800_000;
        for step_ms in [1_000, 60_000, 300_000, 3_600_000] {
            for from_off in [0, 1, 999, 59_000, 433_000] {
                for len in [1, 1_000, 299_999, 300_000, 3_600_000, 86_400_000 + 17] {
                    let q = series(day + from_off, day + from_off + len, step_ms);
                    if crate::model::bucket_count(q.range, step_ms) > crate::model::MAX_BUCKETS {
                        continue;
                    }
                    let mut covered: Vec<(i64, TimeRange)> = Vec::new();
                    for r in requests(&q, &Step::Buckets { grouped: false, keys: None }) {
                        match r.covers {
                            Covers::Bucket { start_ms, read } => {
                                assert_eq!(r.kind, RequestKind::Instant);
                                assert_eq!(r.param("time"), Some(instant_time(read.to_ms).as_str()));
                                assert!(r
                                    .query
                                    .contains(&format!("[{}] offset 1ms", duration(read.to_ms - read.from_ms))));
                                covered.push((start_ms, read));
                            }
                            Covers::Buckets { step_ms: s, first_ms, last_ms } => {
                                assert_eq!((r.kind, s), (RequestKind::Range, step_ms));
                                let (start, end): (i64, i64) = (
                                    r.param("start").unwrap().parse().unwrap(),
                                    r.param("end").unwrap().parse().unwrap(),
                                );
                                assert_eq!((start, end), ((first_ms + s) * 1_000_000, (last_ms + s) * 1_000_000));
                                assert_eq!(start % (s * 1_000_000), 0, "start on a multiple of the step");
                                let mut b = first_ms;
                                while b <= last_ms {
                                    assert_eq!(r.covers.bucket_of(b + s), Some(b));
                                    assert_eq!(r.covers.bucket_of(b + s - 1), Some(b), "stamped 1 ms early");
                                    covered.push((b, TimeRange { from_ms: b, to_ms: b + s }));
                                    b += s;
                                }
                                assert_eq!(r.covers.bucket_of(last_ms + 2 * s), None, "a point past the end");
                                assert_eq!(r.covers.bucket_of(first_ms), None, "a point before the start");
                            }
                            other => panic!("{other:?}"),
                        }
                    }
                    covered.sort_by_key(|(b, _)| *b);
                    let want: Vec<i64> = buckets(&q).iter().map(|b| b.start_ms).collect();
                    assert_eq!(covered.iter().map(|(b, _)| *b).collect::<Vec<_>>(), want, "{q:?}");
                    assert_eq!(covered[0].1.from_ms, q.range.from_ms);
                    assert_eq!(covered.last().unwrap().1.to_ms, q.range.to_ms);
                    assert!(covered.windows(2).all(|w| w[0].1.to_ms == w[1].1.from_ms), "contiguous reads");
                }
            }
        }
    }

    /// With nanosecond timestamps every bucket is one instant query reading
    /// exactly its part of the range; past the cap, an error naming the setting.
    #[test]
    fn nanosecond_timestamps_ask_each_bucket_alone() {
        let schema = RecordSchema::Raw(RecordFormat::default());
        let dialect = LogQl { timestamps: LokiTimestamps::Nanoseconds, split_ms: 3_600_000, ..Default::default() };
        let target = Target { stream: &stream(), schema: &schema };
        let q = series(500, 3_600_000 + 1_500, 60_000);
        let r = dialect.requests(&target, &q, &Step::Buckets { grouped: false, keys: None }).unwrap();
        let want = buckets(&q);
        assert_eq!(r.len(), want.len());
        for (r, b) in r.iter().zip(&want) {
            let read = TimeRange { from_ms: b.time_ms, to_ms: b.time_ms + b.width_ms };
            assert_eq!(r.covers, Covers::Bucket { start_ms: b.start_ms, read });
            assert_eq!(r.param("time"), Some(instant_time(read.to_ms).as_str()));
        }
        let long = series(0, 86_400_000, 1_000);
        let e = dialect.requests(&target, &long, &Step::Buckets { grouped: false, keys: None }).unwrap_err();
        assert!(e.message.contains("loki.timestamps") && e.message.contains("86400 buckets"), "{e}");
    }

    #[test]
    fn totals_read_the_range() {
        let q = FlowQuery::probe(TimeRange { from_ms: 1_000, to_ms: 86_401_000 });
        let r = requests(&q, &Step::Total);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].params, vec![("time", "86401000999999".to_string())], "1 ms - 1 ns after the end");
        assert_eq!(r[0].covers, Covers::Range(q.range));
        assert!(r[0].query.starts_with("sum(count_over_time({logtype=\"flow\"} [24h] offset 1ms"), "{}", r[0].query);
    }

    #[test]
    fn selectors_loki_rejects_are_errors() {
        let schema = RecordSchema::Raw(RecordFormat::default());
        let q = FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1_000 });
        for (text, ok) in [
            ("", false),
            ("{a=\"\"}", false),
            ("{a=~\".*\"}", false),
            ("{a!~\"x\"}", false),
            ("{a!=\"\"}", true),
            ("{a=~\".+\"}", true),
            ("{a=~\".*\", b=\"flow\"}", true),
        ] {
            let stream = StreamSelector::parse(text).unwrap();
            let result = LogQl::default().requests(&Target { stream: &stream, schema: &schema }, &q, &Step::Total);
            assert_eq!(result.is_ok(), ok, "{text}: {result:?}");
            if let Err(e) = result {
                assert!(e.message.contains("streamSelector") && e.message.contains("at least one matcher"), "{e}");
            }
        }
    }

    #[test]
    fn field_names_loki_cannot_say_are_errors() {
        let q = FlowQuery {
            interface_ids: vec!["eni-1".into()],
            ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1_000 })
        };
        for (fields, name, ok, want) in [
            (LokiFields::StructuredMetadata, "interface id", false, "which LogQL cannot name"),
            (LokiFields::StructuredMetadata, "offset", false, "no LogQL keyword"),
            (LokiFields::StructuredMetadata, "eni_id", true, ""),
            (LokiFields::Json, "a\"b", false, "json parser cannot select"),
            (LokiFields::Json, "a]b", false, "json parser cannot select"),
            (LokiFields::Json, "interface id", true, "[\\\"interface id\\\"]"),
            (LokiFields::Json, "meta.eni", true, "flow_interface_id=\"meta.eni\""),
            (LokiFields::Logfmt, "a.b", false, "logfmt parser cannot select"),
            (LokiFields::Logfmt, "eni", true, "logfmt flow_interface_id=\"eni\""),
        ] {
            let schema = RecordSchema::Fields(BTreeMap::from([("interface_id".to_string(), name.to_string())]));
            let result = LogQl { fields, ..Default::default() }.requests(
                &Target { stream: &stream(), schema: &schema },
                &q,
                &Step::Total,
            );
            match result {
                Ok(r) => {
                    assert!(ok, "{name}: {:?}", r[0].query);
                    assert!(r[0].query.contains(want), "{name}: {}", r[0].query);
                }
                Err(e) => {
                    assert!(!ok, "{name}: {e}");
                    assert!(e.message.contains(want) && e.message.contains(name), "{name}: {e}");
                }
            }
        }
    }

    fn sample(labels: &[(&str, &str)], points: &[(i64, f64)]) -> Sample {
        Sample { labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), points: points.to_vec() }
    }

    #[test]
    fn rankings_sort_client_side_with_the_reference_tie_break() {
        let q =
            FlowQuery { group_by: vec!["srcaddr".into()], ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1_000 }) };
        let request = requests(&q, &Step::Rank { limit: 3 }).remove(0);
        assert_eq!(request.key_labels, vec!["flow_srcaddr"]);
        let answer = Answer::Series(vec![
            sample(&[("flow_srcaddr", "10.0.0.10")], &[(999, 5.0)]),
            sample(&[("flow_srcaddr", "10.0.0.9")], &[(999, 5.0)]),
            sample(&[("flow_srcaddr", "-")], &[(999, 2.0)]),
            sample(&[], &[(999, 4.0)]),
            sample(&[("flow_srcaddr", "10.0.0.1")], &[(999, 1.0)]),
        ]);
        let out = merge(&q, &Step::Rank { limit: 3 }, &[(request, answer)]);
        let key = |s: &str| vec![s.to_string()];
        // `-` and an absent label are both no value, read as "" and added;
        // equal values sort by address, numerically.
        assert_eq!(out, StepOutput::Ranked(vec![(key(""), 6), (key("10.0.0.9"), 5), (key("10.0.0.10"), 5)]));
    }

    #[test]
    fn buckets_merge_each_once_and_drop_what_a_request_does_not_cover() {
        let q = FlowQuery { group_by: vec!["srcaddr".into()], ..series(500, 3_500, 1_000) };
        let step = Step::Buckets { grouped: true, keys: Some(vec![vec!["a".into()]]) };
        let r = requests(&q, &step);
        assert_eq!(r.len(), 3, "a range query for [1000, 3000) and the edges [500, 1000), [3000, 3500)");
        assert!(r[0].query.contains(r#"flow_srcaddr="a""#), "{}", r[0].query);
        let answers = vec![
            // Points stamped 1 ms early, as Loki stamps `offset` queries, and one past `end`.
            (
                r[0].clone(),
                Answer::Series(vec![sample(&[("flow_srcaddr", "a")], &[(1_999, 3.0), (2_999, 4.0), (3_999, 9.0)])]),
            ),
            (r[1].clone(), Answer::Series(vec![sample(&[("flow_srcaddr", "a")], &[(999, 1.0)])])),
            (r[2].clone(), Answer::Series(vec![sample(&[("flow_srcaddr", "a")], &[(3_499, 2.0)])])),
        ];
        let out = merge(&q, &step, &answers);
        let want =
            BTreeMap::from([(vec!["a".to_string()], BTreeMap::from([(0, 1), (1_000, 3), (2_000, 4), (3_000, 2)]))]);
        assert_eq!(out, StepOutput::Buckets(want));
    }

    /// A page of `n` lines (none when 0), the oldest at `oldest_ns`.
    fn page(n: usize, oldest_ns: i64) -> Answer {
        let entries = (0..n as i64).map(|i| (oldest_ns + i, "line".to_string())).collect();
        Answer::Streams(vec![LogStream { labels: BTreeMap::new(), entries }])
    }

    #[test]
    fn records_page_backwards_newest_first_each_once() {
        let q = FlowQuery { format: Format::Logs, ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 10_000 }) };
        let step = Step::Records { limit: 7_000 };
        let first = requests(&q, &step).remove(0);
        assert_eq!(first.param("limit"), Some("5000"));
        assert_eq!(first.param("direction"), Some("backward"));
        assert_eq!(first.next_page(&page(4_999, 5), 4_999), None, "Loki had no more");
        let next = first.next_page(&page(5_000, 1_234_000_000), 5_000).unwrap();
        assert_eq!(next.param("end"), Some("1234000001"), "the oldest nanosecond again");
        assert_eq!(next.param("limit"), Some("2001"));
        assert_eq!(next.param("start"), first.param("start"));
        let stream = |entries: &[(i64, &str)]| LogStream {
            labels: BTreeMap::from([("logtype".to_string(), "flow".to_string())]),
            entries: entries.iter().map(|(t, l)| (*t, l.to_string())).collect(),
        };
        let answers = vec![
            (first.clone(), Answer::Streams(vec![stream(&[(3, "c"), (5, "e")])])),
            (next, Answer::Streams(vec![stream(&[(1, "a"), (3, "c"), (3, "b")])])),
        ];
        let StepOutput::Records(records) = merge(&q, &Step::Records { limit: 3 }, &answers) else { panic!() };
        let got: Vec<(i64, &str)> = records.iter().map(|r| (r.time_ns, r.body.as_str())).collect();
        assert_eq!(got, vec![(5, "e"), (3, "b"), (3, "c")]);
    }

    #[test]
    fn split_records_page_newest_sub_range_first() {
        let q = FlowQuery { format: Format::Logs, ..FlowQuery::probe(TimeRange { from_ms: 500, to_ms: 3_500 }) };
        let step = Step::Records { limit: 7_000 };
        let dialect = LogQl { split_ms: 1_000, ..Default::default() };
        let schema = RecordSchema::Raw(RecordFormat::default());
        let target = Target { stream: &stream(), schema: &schema };
        let first = dialect.requests(&target, &q, &step).unwrap().remove(0);
        let range = |r: &LokiRequest| (r.param("start").unwrap().to_string(), r.param("end").unwrap().to_string());
        assert_eq!(range(&first), ("3000000000".into(), "3500000000".into()), "the newest sub-range first");
        // A full page stays in its sub-range; one that was not full moves to the one before.
        let full = first.next_page(&page(5_000, 3_100_000_000), 5_000).unwrap();
        assert_eq!(range(&full), ("3000000000".into(), "3100000001".into()));
        assert_eq!(full.param("limit"), Some("2001"));
        let before = full.next_page(&page(10, 3_000_000_000), 5_010).unwrap();
        assert_eq!(range(&before), ("2000000000".into(), "3000000000".into()));
        assert_eq!(before.param("limit"), Some("1990"), "no line is asked for twice across sub-ranges");
        let none = page(0, 0);
        let last = before.next_page(&none, 5_010).unwrap().next_page(&none, 5_010).unwrap();
        assert_eq!(range(&last), ("500000000".into(), "1000000000".into()), "clipped to the range's start");
        assert_eq!(last.next_page(&none, 5_010), None, "the range is read");
        assert_eq!(before.next_page(&page(1_990, 2_500_000_000), 7_000), None, "the step has what it asked for");
    }

    #[test]
    fn records_oldest_first_page_forward_from_the_range_start() {
        let q = FlowQuery {
            format: Format::Logs,
            oldest_first: true,
            ..FlowQuery::probe(TimeRange { from_ms: 500, to_ms: 3_500 })
        };
        let step = Step::Records { limit: 7_000 };
        let dialect = LogQl { split_ms: 1_000, ..Default::default() };
        let schema = RecordSchema::Raw(RecordFormat::default());
        let target = Target { stream: &stream(), schema: &schema };
        let first = dialect.requests(&target, &q, &step).unwrap().remove(0);
        let range = |r: &LokiRequest| (r.param("start").unwrap().to_string(), r.param("end").unwrap().to_string());
        assert_eq!(first.param("direction"), Some("forward"));
        assert_eq!(range(&first), ("500000000".into(), "1000000000".into()), "the oldest sub-range first");
        // A full page goes on from its newest line; one that was not full moves to the next sub-range.
        let full = first.next_page(&page(5_000, 600_000_000), 5_000).unwrap();
        assert_eq!(range(&full), ("600004999".into(), "1000000000".into()), "the newest nanosecond again");
        assert_eq!(full.param("limit"), Some("2001"));
        let after = full.next_page(&page(10, 900_000_000), 5_010).unwrap();
        assert_eq!(range(&after), ("1000000000".into(), "2000000000".into()));
        let none = page(0, 0);
        let last = after.next_page(&none, 5_010).unwrap().next_page(&none, 5_010).unwrap();
        assert_eq!(range(&last), ("3000000000".into(), "3500000000".into()), "clipped to the range's end");
        assert_eq!(last.next_page(&none, 5_010), None, "the range is read");
        let answers = vec![(first, page(3, 700)), (full, page(2, 701))];
        let StepOutput::Records(records) = merge(&q, &Step::Records { limit: 3 }, &answers) else { panic!() };
        assert_eq!(records.iter().map(|r| r.time_ns).collect::<Vec<_>>(), vec![700, 701, 702], "oldest first, once");
    }

    #[test]
    fn answers_fold_in_any_order_and_lines_are_cut_oldest_first() {
        let q = FlowQuery { format: Format::Logs, ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 10_000 }) };
        let request = requests(&q, &Step::Records { limit: 7_000 }).remove(0);
        let stream = |labels: &str, entries: &[(i64, &str)]| LogStream {
            labels: BTreeMap::from([("logtype".to_string(), labels.to_string())]),
            entries: entries.iter().map(|(t, l)| (*t, l.to_string())).collect(),
        };
        let answers = vec![
            (request.clone(), Answer::Streams(vec![stream("a", &[(3, "c"), (5, "e")]), stream("b", &[(5, "e")])])),
            (request.clone(), Answer::Streams(vec![stream("a", &[(1, "a"), (3, "c"), (3, "b"), (9, "z")])])),
            (request.clone(), Answer::Streams(vec![stream("b", &[(2, "x"), (5, "e")])])),
        ];
        for limit in [1, 3, 5, 100] {
            let step = Step::Records { limit };
            let forward = merge(&q, &step, &answers);
            let mut reversed = answers.clone();
            reversed.reverse();
            assert_eq!(forward, merge(&q, &step, &reversed), "limit {limit}");
            // Folded in two halves and absorbed: the same.
            let mut one = Merger::new(&q, &step);
            let mut two = Merger::new(&q, &step);
            one.add(&answers[0].0, answers[0].1.clone());
            two.add(&answers[1].0, answers[1].1.clone());
            two.add(&answers[2].0, answers[2].1.clone());
            one.absorb(two);
            assert_eq!(forward, one.finish(), "limit {limit}");
        }
        let mut merger = Merger::new(&q, &Step::Records { limit: 100 });
        for (request, answer) in &answers {
            merger.add(request, answer.clone());
        }
        assert_eq!(merger.lines(), 7, "each (time, line, labels) once");
        let per_line = merger.line_bytes() / 7;
        assert_eq!(merger.cut_lines_to(per_line * 2), 5);
        let StepOutput::Records(kept) = merger.finish() else { panic!() };
        assert_eq!(kept.iter().map(|r| (r.time_ns, r.body.as_str())).collect::<Vec<_>>(), vec![(9, "z"), (5, "e")]);
    }
}
