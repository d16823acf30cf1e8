//! Every timed answer compared with the reference ([`super::reference`]):
//! flowlens's frames exactly as the test suite checks them (one frame per
//! stat and table, a point per bucket, exactly N series), the official
//! datasource's frames as it shapes them (one frame per group or series,
//! labelled; buckets without records absent). An `Err` says what is wrong.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::grpc::{Frame, Window};
use super::panels::canonical_field;
use super::reference::{ranked, totals, Expect, Key, Kind};

/// Which mode's records a logs answer shows: raw lines can be compared
/// with the records' own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Raw,
    Fields,
}

fn f64s(values: &[Value]) -> Vec<f64> {
    values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()
}

fn i64s(values: &[Value]) -> Vec<i64> {
    values.iter().map(|v| v.as_i64().unwrap_or(i64::MIN)).collect()
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The window's bucket starts.
fn bucket_starts(w: Window) -> Vec<i64> {
    let first = w.from_ms - w.from_ms.rem_euclid(w.interval_ms);
    (0..).map(|i| first + i * w.interval_ms).take_while(|t| *t < w.to_ms).collect()
}

/// Bytes/sec of a bucket: its bytes over the part of it inside the window.
fn rate(w: Window, start: i64, bytes: u64) -> f64 {
    let width = (start + w.interval_ms).min(w.to_ms) - start.max(w.from_ms);
    bytes as f64 / (width as f64 / 1000.0)
}

/// A flowlens series frame: a point at every bucket, stamped at its start
/// (the window's start for a clipped first bucket), rates from the width.
fn our_series(f: &Frame, w: Window, expected: Option<&BTreeMap<i64, u64>>, what: &str) -> Result<(), String> {
    let starts = bucket_starts(w);
    let times = i64s(&f.fields.first().ok_or("no time field")?.values);
    let want_times: Vec<i64> = starts.iter().map(|s| (*s).max(w.from_ms)).collect();
    if times != want_times {
        return Err(format!("{what}: {} points, not one per bucket ({})", times.len(), want_times.len()));
    }
    let got = f64s(&f.fields.get(1).ok_or("no value field")?.values);
    let empty = BTreeMap::new();
    let expected = expected.unwrap_or(&empty);
    let want: Vec<f64> = starts.iter().map(|s| rate(w, *s, expected.get(s).copied().unwrap_or(0))).collect();
    match got.iter().zip(&want).position(|(g, w)| g != w) {
        Some(i) => Err(format!("{what}: bucket {i}: {} B/s, reference {}", got[i], want[i])),
        None => Ok(()),
    }
}

/// Checks flowlens's frames for one target.
pub fn ours(kind: &Kind, expect: &Expect, frames: &[Frame], w: Window, lines: Lines) -> Result<(), String> {
    match (kind, expect) {
        (Kind::Stat(_), Expect::Total(total)) => {
            let [f] = frames else { return Err(format!("{} frames, not 1", frames.len())) };
            let got = &f.field("bytes")?.values;
            if got.len() != 1 || got[0].as_u64() != Some(*total) {
                return Err(format!("total {got:?}, reference {total}"));
            }
            Ok(())
        }
        (Kind::Rate(_), Expect::Buckets(buckets)) => {
            let [f] = frames else { return Err(format!("{} frames, not 1", frames.len())) };
            our_series(f, w, Some(buckets), "series")
        }
        (Kind::Table { group_by, limit, .. }, Expect::Groups(groups)) => {
            let [f] = frames else { return Err(format!("{} frames, not 1", frames.len())) };
            let want: Vec<(Key, u64)> = ranked(groups).into_iter().take(*limit).collect();
            let rows = f.field("bytes")?.values.len();
            let got: Vec<(Key, u64)> = (0..rows)
                .map(|row| {
                    let key: Result<Key, String> =
                        group_by.iter().map(|g| f.field(g).map(|c| text(&c.values[row]))).collect();
                    Ok((key?, f.field("bytes")?.values[row].as_u64().unwrap_or(u64::MAX)))
                })
                .collect::<Result<_, String>>()?;
            if got != want {
                return Err(format!("rows {got:?}, reference {want:?}"));
            }
            Ok(())
        }
        (Kind::TopSeries { group_by, limit, .. }, Expect::GroupBuckets(series)) => {
            let top: Vec<Key> = ranked(&totals(series)).into_iter().take(*limit).map(|(k, _)| k).collect();
            if frames.len() != top.len() {
                return Err(format!("{} series, reference {}", frames.len(), top.len()));
            }
            for (f, key) in frames.iter().zip(&top) {
                let label = f.fields.get(1).and_then(|v| v.labels.get(&group_by[0])).cloned().unwrap_or_default();
                if label != key[0] {
                    return Err(format!("series {label:?}, reference {:?}", key[0]));
                }
                our_series(f, w, series.get(key), &label)?;
            }
            Ok(())
        }
        (Kind::Logs { limit, .. }, Expect::Newest(newest)) => {
            let [f] = frames else { return Err(format!("{} frames, not 1", frames.len())) };
            let times = i64s(&f.field("timestamp")?.values);
            if !times.windows(2).all(|p| p[0] >= p[1]) {
                return Err("records not newest first".into());
            }
            let bodies: Vec<String> = f.field("body")?.values.iter().map(text).collect();
            newest_records(&times, &bodies, newest, *limit, lines)
        }
        _ => Err("no reference for this kind".into()),
    }
}

/// The newest `limit` matching records, in any order.
fn newest_records(
    times: &[i64],
    lines: &[String],
    newest: &[(i64, String)],
    limit: usize,
    mode: Lines,
) -> Result<(), String> {
    let want = limit.min(newest.len());
    if times.len() != want {
        return Err(format!("{} records, reference {want}", times.len()));
    }
    let cut = newest.get(want.saturating_sub(1)).map_or(i64::MIN, |r| r.0);
    if times.iter().max() != newest.first().map(|r| &r.0) || times.iter().any(|t| *t < cut) {
        return Err(format!("records not the newest {want}"));
    }
    if mode == Lines::Raw {
        let known: HashSet<&str> = newest.iter().map(|(_, l)| l.as_str()).collect();
        if let Some(line) = lines.iter().find(|l| !known.contains(l.as_str())) {
            return Err(format!("not one of the newest matching records: {line}"));
        }
    }
    Ok(())
}

/// The official datasource's stats frames as (key in canonical field
/// order, value); `group_by` in canonical names.
fn peer_groups(frames: &[Frame], group_by: &[String]) -> Result<Vec<(Key, f64)>, String> {
    frames
        .iter()
        .map(|f| {
            let value = f.fields.get(1).ok_or("a stats frame without a value field")?;
            let by_canonical: BTreeMap<&str, &String> =
                value.labels.iter().map(|(k, v)| (canonical_field(k), v)).collect();
            let key = group_by.iter().map(|g| by_canonical.get(g.as_str()).map_or(String::new(), |v| v.to_string()));
            Ok((key.collect(), value.values.first().and_then(Value::as_f64).unwrap_or(f64::NAN)))
        })
        .collect()
}

/// One series of the official datasource against reference buckets: a
/// point per bucket with records (none for empty buckets, or 0).
fn peer_series(f: &Frame, w: Window, expected: Option<&BTreeMap<i64, u64>>, what: &str) -> Result<(), String> {
    let times = i64s(&f.fields.first().ok_or("no time field")?.values);
    let values = f64s(&f.fields.get(1).ok_or("no value field")?.values);
    let got: BTreeMap<i64, f64> = times.into_iter().zip(values).filter(|(_, v)| *v != 0.0).collect();
    let empty = BTreeMap::new();
    let want: BTreeMap<i64, f64> =
        expected.unwrap_or(&empty).iter().filter(|(_, b)| **b > 0).map(|(s, b)| (*s, rate(w, *s, *b))).collect();
    if got != want {
        let diff = want.iter().find(|(t, v)| got.get(t) != Some(v)).map(|(t, v)| (*t, *v, got.get(t).copied()));
        return Err(format!("{what}: {} points, reference {}; first difference {diff:?}", got.len(), want.len()));
    }
    Ok(())
}

/// The ranked keys of the official datasource's table answer, checked:
/// N groups, each with its reference total, and the N totals the
/// reference's N largest (ties may pick other keys of the same total).
pub fn peer_ranking(
    groups: &BTreeMap<Key, u64>,
    limit: usize,
    frames: &[Frame],
    group_by: &[String],
) -> Result<Vec<Key>, String> {
    let got = peer_groups(frames, group_by)?;
    let want: Vec<u64> = ranked(groups).into_iter().take(limit).map(|(_, v)| v).collect();
    if got.len() != want.len() {
        return Err(format!("{} groups, reference {}", got.len(), want.len()));
    }
    for (key, value) in &got {
        if groups.get(key).map(|v| *v as f64) != Some(*value) {
            return Err(format!("group {key:?}: {value}, reference {:?}", groups.get(key)));
        }
    }
    let mut values: Vec<u64> = got.iter().map(|(_, v)| *v as u64).collect();
    values.sort_unstable_by(|a, b| b.cmp(a));
    if values != want {
        return Err(format!("totals {values:?}, reference's largest {want:?}"));
    }
    Ok(got.into_iter().map(|(k, _)| k).collect())
}

/// Checks the official datasource's frames for one target; for a top-N
/// series target these are the frames of its second query (the series of
/// the ranked keys).
pub fn peer(kind: &Kind, expect: &Expect, frames: &[Frame], w: Window, lines: Lines) -> Result<(), String> {
    match (kind, expect) {
        (Kind::Stat(_), Expect::Total(total)) => {
            let got = peer_groups(frames, &[])?;
            if got.len() != 1 || got[0].1 != *total as f64 {
                return Err(format!("total {got:?}, reference {total}"));
            }
            Ok(())
        }
        (Kind::Rate(_), Expect::Buckets(buckets)) => {
            let [f] = frames else { return Err(format!("{} series, not 1", frames.len())) };
            peer_series(f, w, Some(buckets), "series")
        }
        (Kind::Table { group_by, limit, .. }, Expect::Groups(groups)) => {
            peer_ranking(groups, *limit, frames, group_by).map(|_| ())
        }
        (Kind::TopSeries { group_by, limit, .. }, Expect::GroupBuckets(series)) => {
            let top = ranked(&totals(series));
            let want = top.len().min(*limit);
            if frames.len() != want {
                return Err(format!("{} series, reference {want}", frames.len()));
            }
            for (f, (key, _)) in frames.iter().zip(peer_groups(frames, group_by)?) {
                peer_series(f, w, series.get(&key), &key.join(" "))?;
            }
            Ok(())
        }
        (Kind::Logs { limit, .. }, Expect::Newest(newest)) => {
            let [f] = frames else { return Err(format!("{} frames, not 1", frames.len())) };
            let times = i64s(&f.field("Time")?.values);
            let bodies: Vec<String> = f.field("Line")?.values.iter().map(text).collect();
            newest_records(&times, &bodies, newest, *limit, lines)
        }
        _ => Err("no reference for this kind".into()),
    }
}
