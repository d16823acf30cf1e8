//! Loki's answers to a step's requests merged into the step's output:
//! sums added over disjoint covers, rankings sorted in natural key order,
//! records newest first without duplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{Answer, LokiRequest};
use crate::model::NO_VALUE;
use crate::model::{FlowQuery, Format};
use crate::plan::{natural_keys, Key, LabelledSeries, Record, Step, StepOutput};
use crate::selector::quote;

/// Merges the answers to a step's requests into the step's output: sums
/// add (the requests cover disjoint buckets or disjoint series), rankings
/// are sorted client-side (value descending, then keys in natural order)
/// and cut to the limit, records sorted newest first, without duplicates.
/// The same as folding each answer into a [`Merger`] in turn.
pub fn merge(q: &FlowQuery, step: &Step, answers: &[(LokiRequest, Answer)]) -> StepOutput {
    let mut merger = Merger::new(q, step);
    for (request, answer) in answers {
        merger.add(request, answer.clone());
    }
    merger.finish()
}

/// Fixed overhead counted per held entry (a line, a point, a map node) in
/// [`Merger::bytes`].
pub const ENTRY_BYTES: usize = 48;

/// A step's output built answer by answer, so that a client holds only
/// what the output needs, never every answer at once. Sums add as they
/// arrive (they are over disjoint covers, and whole-number sums of `u64`
/// do not depend on their order); rankings keep one sum per key and are
/// sorted at [`Merger::finish`]; records keep at most the step's limit of
/// the newest (or oldest) distinct lines, which is what sorting every line
/// and cutting would keep, as the order is total. A hand-written query's
/// series and rows keep the order the answers were added in. The output
/// does not depend on the order of the answers otherwise.
#[derive(Debug, Clone)]
pub struct Merger {
    state: State,
    /// The sum of every point of every series answer (before any ranking
    /// cut): see [`super::answered_sum`].
    answered: u64,
    /// Estimated heap bytes held.
    bytes: usize,
    /// Of which log lines (with their overhead).
    line_bytes: usize,
}

/// An entry's place in the output's order: the time (negated when newest
/// comes first), the line, the labels; the set of these keeps each line once.
type EntryKey = (i128, String, Arc<BTreeMap<String, String>>);

#[derive(Debug, Clone)]
enum State {
    Total(u64),
    Streams { keys: Vec<Key>, limit: usize },
    Rank { sums: BTreeMap<Key, u64>, limit: usize },
    Buckets(BTreeMap<Key, BTreeMap<i64, u64>>),
    Records { entries: Entries },
    Raw { entries: Entries, any_streams: bool, samples: Vec<LabelledSeries>, format: Format },
}

/// Distinct log lines in output order, at most `limit`, labels shared.
#[derive(Debug, Clone, Default)]
struct Entries {
    kept: BTreeSet<EntryKey>,
    labels: BTreeSet<Arc<BTreeMap<String, String>>>,
    limit: usize,
    oldest_first: bool,
}

impl Entries {
    fn new(limit: usize, oldest_first: bool) -> Self {
        Self { limit, oldest_first, ..Default::default() }
    }

    /// Adds a stream's entries; returns the change in held bytes (lines and
    /// their overhead, new label sets).
    fn add(&mut self, labels: BTreeMap<String, String>, entries: Vec<(i64, String)>) -> (isize, isize) {
        let (mut lines, mut other) = (0isize, 0isize);
        let labels = match self.labels.get(&labels) {
            Some(held) => held.clone(),
            None => {
                other += labels_bytes(&labels) as isize + ENTRY_BYTES as isize;
                let held = Arc::new(labels);
                self.labels.insert(held.clone());
                held
            }
        };
        for (t, line) in entries {
            let order = if self.oldest_first { i128::from(t) } else { -i128::from(t) };
            let size = (line.len() + ENTRY_BYTES) as isize;
            if self.kept.insert((order, line, labels.clone())) {
                lines += size;
                if self.kept.len() > self.limit {
                    if let Some((_, line, _)) = self.kept.pop_last() {
                        lines -= (line.len() + ENTRY_BYTES) as isize;
                    }
                }
            }
        }
        (lines, other)
    }

    /// Drops the last lines in order until the lines hold at most `max`
    /// bytes; returns how many were dropped and the bytes freed.
    fn cut_to(&mut self, held: usize, max: usize) -> (usize, usize) {
        let (mut dropped, mut freed) = (0, 0);
        while held - freed > max {
            let Some((_, line, _)) = self.kept.pop_last() else { break };
            dropped += 1;
            freed += line.len() + ENTRY_BYTES;
        }
        (dropped, freed)
    }

    fn absorb(&mut self, other: Entries) -> (isize, isize) {
        let mut change = (0, 0);
        for (order, line, labels) in other.kept {
            let t = if self.oldest_first { order } else { -order } as i64;
            let (l, o) = self.add((*labels).clone(), vec![(t, line)]);
            change = (change.0 + l, change.1 + o);
        }
        change
    }

    /// (time ns, line, labels) in output order.
    fn into_entries(self) -> impl Iterator<Item = (i64, String, Arc<BTreeMap<String, String>>)> {
        let oldest_first = self.oldest_first;
        self.kept
            .into_iter()
            .map(move |(order, line, labels)| (if oldest_first { order } else { -order } as i64, line, labels))
    }
}

/// A key's own bucket map when it is made: one B-tree leaf node (eleven
/// slots of 16 bytes, a header) with malloc's rounding.
const NEW_MAP: usize = 4 * ENTRY_BYTES;

/// Estimated heap bytes of a label set.
fn labels_bytes(labels: &BTreeMap<String, String>) -> usize {
    labels.iter().map(|(k, v)| k.len() + v.len() + ENTRY_BYTES).sum()
}

/// Estimated heap bytes of a group key held in a map: each value's text
/// and `String` (allocations rounded up, with malloc's header), the key's
/// `Vec` and its map slot (B-tree nodes are not full).
fn key_bytes(key: &Key) -> usize {
    key.iter().map(|v| v.len().next_multiple_of(16) + 48).sum::<usize>() + 2 * ENTRY_BYTES
}

/// Estimated heap bytes of a parsed answer.
pub fn answer_bytes(answer: &Answer) -> usize {
    match answer {
        Answer::Series(series) => {
            series.iter().map(|s| labels_bytes(&s.labels) + 16 * s.points.capacity() + ENTRY_BYTES).sum()
        }
        Answer::Streams(streams) => streams
            .iter()
            .map(|s| {
                labels_bytes(&s.labels)
                    + s.entries.iter().map(|(_, line)| line.capacity() + ENTRY_BYTES).sum::<usize>()
                    + ENTRY_BYTES
            })
            .sum(),
    }
}

impl Merger {
    /// An empty output for the step.
    pub fn new(q: &FlowQuery, step: &Step) -> Self {
        let state = match step {
            Step::Total => State::Total(0),
            Step::Streams { limit } => State::Streams { keys: Vec::new(), limit: *limit },
            Step::Rank { limit } => State::Rank { sums: BTreeMap::new(), limit: *limit },
            Step::Buckets { .. } => State::Buckets(BTreeMap::new()),
            Step::Records { limit } => State::Records { entries: Entries::new(*limit, q.oldest_first) },
            Step::Raw => State::Raw {
                entries: Entries::new(q.limit.unwrap_or(crate::model::LOGS_LIMIT.0), false),
                any_streams: false,
                samples: Vec::new(),
                format: q.format,
            },
        };
        Self { state, answered: 0, bytes: 0, line_bytes: 0 }
    }

    /// Estimated heap bytes the output holds now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Of [`Merger::bytes`], the log lines'.
    pub fn line_bytes(&self) -> usize {
        self.line_bytes
    }

    /// The sum of every point of every series answer added (before any
    /// ranking cut).
    pub fn answered(&self) -> u64 {
        self.answered
    }

    fn grow(&mut self, lines: isize, other: isize) {
        self.line_bytes = self.line_bytes.saturating_add_signed(lines);
        self.bytes = self.bytes.saturating_add_signed(lines + other);
    }

    /// Folds one answer (to `request`) into the output.
    pub fn add(&mut self, request: &LokiRequest, answer: Answer) {
        let (mut lines, mut other) = (0isize, 0isize);
        if let Answer::Series(series) = &answer {
            self.answered += series.iter().flat_map(|s| s.points.iter().map(|p| count(p.1))).sum::<u64>();
        }
        match (&mut self.state, answer) {
            (State::Total(sum), Answer::Series(series)) => {
                *sum += series.iter().flat_map(|s| s.points.iter().map(|p| count(p.1))).sum::<u64>();
            }
            (State::Streams { keys, .. }, Answer::Streams(streams)) => {
                for s in streams {
                    let key = vec![stream_text(&s.labels)];
                    other += key_bytes(&key) as isize;
                    keys.push(key);
                }
            }
            (State::Rank { sums, .. }, Answer::Series(series)) => {
                for s in series {
                    let key = key_of(&request.key_labels, &s.labels);
                    let size = key_bytes(&key);
                    let sum = sums.entry(key).or_insert_with(|| {
                        other += size as isize;
                        0
                    });
                    *sum += s.points.iter().map(|p| count(p.1)).sum::<u64>();
                }
            }
            (State::Buckets(out), Answer::Series(series)) => {
                for s in series {
                    let key = key_of(&request.key_labels, &s.labels);
                    for (t, v) in &s.points {
                        if let Some(start) = request.covers.bucket_of(*t) {
                            let buckets = match out.get_mut(&key) {
                                Some(buckets) => buckets,
                                None => {
                                    other += (key_bytes(&key) + NEW_MAP) as isize;
                                    out.entry(key.clone()).or_default()
                                }
                            };
                            let bucket = buckets.entry(start).or_insert_with(|| {
                                other += ENTRY_BYTES as isize;
                                0
                            });
                            *bucket += count(*v);
                        }
                    }
                }
            }
            (State::Records { entries, .. }, Answer::Streams(streams)) => {
                for s in streams {
                    let (l, o) = entries.add(s.labels, s.entries);
                    (lines, other) = (lines + l, other + o);
                }
            }
            (State::Raw { entries, any_streams, .. }, Answer::Streams(streams)) => {
                *any_streams = true;
                for s in streams {
                    let (l, o) = entries.add(s.labels, s.entries);
                    (lines, other) = (lines + l, other + o);
                }
            }
            (State::Raw { samples, .. }, Answer::Series(series)) => {
                for s in series {
                    other += (labels_bytes(&s.labels) + 16 * s.points.len() + ENTRY_BYTES) as isize;
                    samples.push((s.labels, s.points));
                }
            }
            _ => {}
        }
        self.grow(lines, other);
    }

    /// Folds another output of the same step (over disjoint requests: a
    /// ranking's other part) into this one.
    pub fn absorb(&mut self, other: Merger) {
        self.answered += other.answered;
        let (mut lines, mut grown) = (0isize, 0isize);
        match (&mut self.state, other.state) {
            (State::Total(a), State::Total(b)) => *a += b,
            (State::Streams { keys, .. }, State::Streams { keys: more, .. }) => {
                grown += more.iter().map(|k| key_bytes(k) as isize).sum::<isize>();
                keys.extend(more);
            }
            (State::Rank { sums, .. }, State::Rank { sums: more, .. }) => {
                for (key, v) in more {
                    let size = key_bytes(&key) as isize;
                    *sums.entry(key).or_insert_with(|| {
                        grown += size;
                        0
                    }) += v;
                }
            }
            (State::Buckets(out), State::Buckets(more)) => {
                for (key, buckets) in more {
                    let size = (key_bytes(&key) + NEW_MAP) as isize;
                    let mine = out.entry(key).or_insert_with(|| {
                        grown += size;
                        BTreeMap::new()
                    });
                    for (start, v) in buckets {
                        *mine.entry(start).or_insert_with(|| {
                            grown += ENTRY_BYTES as isize;
                            0
                        }) += v;
                    }
                }
            }
            (State::Records { entries, .. }, State::Records { entries: more, .. })
            | (State::Raw { entries, .. }, State::Raw { entries: more, .. }) => {
                (lines, grown) = entries.absorb(more);
            }
            _ => {}
        }
        self.grow(lines, grown);
    }

    /// Drops the last log lines in the output's order (the oldest, or the
    /// newest when oldest first) until the lines hold at most `max` bytes;
    /// returns how many were dropped.
    pub fn cut_lines_to(&mut self, max: usize) -> usize {
        let held = self.line_bytes;
        let (dropped, freed) = match &mut self.state {
            State::Records { entries, .. } | State::Raw { entries, .. } => entries.cut_to(held, max),
            _ => (0, 0),
        };
        self.grow(-(freed as isize), 0);
        dropped
    }

    /// How many log lines the output holds.
    pub fn lines(&self) -> usize {
        match &self.state {
            State::Records { entries, .. } | State::Raw { entries, .. } => entries.kept.len(),
            _ => 0,
        }
    }

    /// The step's output.
    pub fn finish(self) -> StepOutput {
        match self.state {
            State::Total(sum) => StepOutput::Total(sum),
            State::Streams { mut keys, limit } => {
                keys.sort_by(|a, b| natural_keys(a, b));
                keys.dedup();
                keys.truncate(limit);
                StepOutput::Ranked(keys.into_iter().map(|k| (k, 0)).collect())
            }
            State::Rank { sums, limit } => {
                let mut ranked: Vec<(Key, u64)> = sums.into_iter().collect();
                ranked.sort_by(|(ka, va), (kb, vb)| vb.cmp(va).then_with(|| natural_keys(ka, kb)));
                ranked.truncate(limit);
                StepOutput::Ranked(ranked)
            }
            State::Buckets(out) => StepOutput::Buckets(out),
            State::Records { entries, .. } => StepOutput::Records(
                entries
                    .into_entries()
                    .map(|(time_ns, body, labels)| Record { time_ns, body, labels: (&fields(&labels)).into() })
                    .collect(),
            ),
            State::Raw { entries, any_streams, samples, format } => {
                if any_streams {
                    let mut rows = crate::plan::Columns::default();
                    for (time_ns, body, labels) in entries.into_entries() {
                        let mut row = serde_json::Map::new();
                        row.insert("_time".into(), rfc3339_ns(time_ns).into());
                        row.insert("_msg".into(), body.into());
                        row.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone().into())));
                        rows.push_row(row);
                    }
                    StepOutput::Rows(rows)
                } else if format == Format::Series {
                    StepOutput::Series(samples)
                } else {
                    let mut rows = crate::plan::Columns::default();
                    for (labels, points) in samples {
                        let mut row: serde_json::Map<String, serde_json::Value> =
                            labels.into_iter().map(|(k, v)| (k, v.into())).collect();
                        let value = points.last().map_or(0.0, |p| p.1);
                        row.insert(
                            "value".into(),
                            serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into),
                        );
                        rows.push_row(row);
                    }
                    StepOutput::Rows(rows)
                }
            }
        }
    }
}

/// Unix ns as RFC 3339 with as many fraction digits as needed.
fn rfc3339_ns(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// An aggregate as a whole count (sums of whole numbers are whole).
pub(super) fn count(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

/// The group key of a series: its key labels in order, `""` for an absent
/// label or `-` (no value).
fn key_of(key_labels: &[String], labels: &BTreeMap<String, String>) -> Key {
    key_labels.iter().map(|l| labels.get(l).filter(|v| v.as_str() != NO_VALUE).cloned().unwrap_or_default()).collect()
}

/// Labels as a stream selector: `{a="b", c="d"}`.
fn stream_text(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect();
    format!("{{{}}}", parts.join(", "))
}

/// A log line's labels with the extracted fields under their own names
/// (`flow_srcaddr` as `srcaddr`; an extracted field wins over a stream
/// label of the same name).
fn fields(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> =
        labels.iter().filter(|(k, _)| !k.starts_with(super::EXTRACTED)).map(|(k, v)| (k.clone(), v.clone())).collect();
    for (k, v) in labels {
        if let Some(field) = k.strip_prefix(super::EXTRACTED) {
            out.insert(field.to_string(), v.clone());
        }
    }
    out
}
