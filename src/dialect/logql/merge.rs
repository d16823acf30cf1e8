//! Loki's answers to a step's requests merged into the step's output:
//! sums added over disjoint covers, rankings sorted in natural key order,
//! records newest first without duplicates.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::{Answer, LokiRequest};
use crate::model::NO_VALUE;
use crate::model::{FlowQuery, Format};
use crate::plan::{Key, Record, Step, StepOutput};
use crate::selector::quote;

/// Merges the answers to a step's requests into the step's output: sums
/// add (the requests cover disjoint buckets or disjoint series), rankings
/// are sorted client-side (value descending, then keys in natural order)
/// and cut to the limit, records sorted newest first, without duplicates.
pub fn merge(q: &FlowQuery, step: &Step, answers: &[(LokiRequest, Answer)]) -> StepOutput {
    let samples = || {
        answers.iter().flat_map(|(request, answer)| match answer {
            Answer::Series(series) => series.iter().map(move |s| (request, s)).collect::<Vec<_>>(),
            Answer::Streams(_) => Vec::new(),
        })
    };
    match step {
        Step::Total => StepOutput::Total(samples().flat_map(|(_, s)| s.points.iter().map(|p| count(p.1))).sum()),
        Step::Streams { limit } => {
            let mut streams: Vec<Key> = answers
                .iter()
                .flat_map(|(_, answer)| match answer {
                    Answer::Streams(streams) => streams.iter().map(|s| vec![stream_text(&s.labels)]).collect(),
                    Answer::Series(_) => Vec::new(),
                })
                .collect();
            streams.sort_by(|a, b| natural_keys(a, b));
            streams.dedup();
            streams.truncate(*limit);
            StepOutput::Ranked(streams.into_iter().map(|k| (k, 0)).collect())
        }
        Step::Rank { limit } => {
            let mut sums: BTreeMap<Key, u64> = BTreeMap::new();
            for (request, s) in samples() {
                let key = key_of(&request.key_labels, &s.labels);
                *sums.entry(key).or_default() += s.points.iter().map(|p| count(p.1)).sum::<u64>();
            }
            let mut ranked: Vec<(Key, u64)> = sums.into_iter().collect();
            ranked.sort_by(|(ka, va), (kb, vb)| vb.cmp(va).then_with(|| natural_keys(ka, kb)));
            ranked.truncate(*limit);
            StepOutput::Ranked(ranked)
        }
        Step::Buckets { .. } => {
            let mut out: BTreeMap<Key, BTreeMap<i64, u64>> = BTreeMap::new();
            for (request, s) in samples() {
                let key = key_of(&request.key_labels, &s.labels);
                for (t, v) in &s.points {
                    if let Some(start) = request.covers.bucket_of(*t) {
                        *out.entry(key.clone()).or_default().entry(start).or_default() += count(*v);
                    }
                }
            }
            StepOutput::Buckets(out)
        }
        Step::Records { limit } => StepOutput::Records(records(answers, *limit, q.oldest_first)),
        Step::Raw => {
            if answers.iter().any(|(_, a)| matches!(a, Answer::Streams(_))) {
                let limit = q.limit.unwrap_or(crate::model::LOGS_LIMIT.0);
                let mut rows = crate::plan::Columns::default();
                for (time_ns, body, labels) in entries(answers, limit, false) {
                    let mut row = serde_json::Map::new();
                    row.insert("_time".into(), rfc3339_ns(time_ns).into());
                    row.insert("_msg".into(), body.into());
                    row.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone().into())));
                    rows.push_row(row);
                }
                StepOutput::Rows(rows)
            } else if q.format == Format::Series {
                StepOutput::Series(samples().map(|(_, s)| (s.labels.clone(), s.points.clone())).collect())
            } else {
                let mut rows = crate::plan::Columns::default();
                for (_, s) in samples() {
                    let mut row: serde_json::Map<String, serde_json::Value> =
                        s.labels.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
                    let value = s.points.last().map_or(0.0, |p| p.1);
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

/// The entries of `streams` answers as records, newest first (or oldest
/// first; ties by line, then labels), each line once, at most `limit`.
fn records(answers: &[(LokiRequest, Answer)], limit: usize, oldest_first: bool) -> Vec<Record> {
    entries(answers, limit, oldest_first)
        .into_iter()
        .map(|(time_ns, body, labels)| Record { time_ns, body: body.to_string(), labels: (&fields(labels)).into() })
        .collect()
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

/// [`records`] as (time ns, line, stream labels), borrowed from the answers.
fn entries(
    answers: &[(LokiRequest, Answer)],
    limit: usize,
    oldest_first: bool,
) -> Vec<(i64, &str, &BTreeMap<String, String>)> {
    let mut seen: BTreeSet<(i64, &str, &BTreeMap<String, String>)> = BTreeSet::new();
    let mut entries: Vec<(i64, &str, &BTreeMap<String, String>)> = Vec::new();
    for (_, answer) in answers {
        let Answer::Streams(streams) = answer else { continue };
        for stream in streams {
            for (t, line) in &stream.entries {
                if seen.insert((*t, line.as_str(), &stream.labels)) {
                    entries.push((*t, line.as_str(), &stream.labels));
                }
            }
        }
    }
    entries.sort_by(|a, b| {
        let time = if oldest_first { a.0.cmp(&b.0) } else { b.0.cmp(&a.0) };
        time.then_with(|| a.1.cmp(b.1)).then_with(|| a.2.cmp(b.2))
    });
    entries.truncate(limit);
    entries
}

/// Keys compared value by value with [`natural`].
pub fn natural_keys(a: &[String], b: &[String]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| natural(x, y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Two numbers compare numerically, two IPv4 addresses numerically,
/// anything else byte-wise.
pub fn natural(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<u64>(), b.parse::<u64>()) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
        return x.cmp(&y);
    }
    a.as_bytes().cmp(b.as_bytes())
}
