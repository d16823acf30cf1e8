//! What the LogQL dialect asks Loki: a request (endpoint, LogQL,
//! parameters, what its answer covers) and the answer's parsed shape.

use std::collections::BTreeMap;

use super::{first_page, ns, page_range, MAX_ENTRIES};
use crate::model::TimeRange;

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
