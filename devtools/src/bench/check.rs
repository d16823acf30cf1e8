//! Every timed answer compared with the reference ([`super::reference`]):
//! flowlens's frames exactly as the test suite checks them (one frame per
//! stat and table, a point per bucket, exactly N series), the official
//! datasource's frames as it shapes them (one frame per group or series,
//! labelled; buckets without records absent). An `Err` says what is wrong.

use std::collections::BTreeMap;

use serde_json::Value;

use super::grpc::{Frame, Window};
use super::panels::canonical_field;
use super::reference::{ranked, totals, Expect, Key, Kind, LogRecord};

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
            // In fields mode the labels are the record's fields: compared too.
            let labels = match lines {
                Lines::Raw => None,
                Lines::Fields => Some(f.field("labels")?.values.iter().map(label_map).collect::<Result<Vec<_>, _>>()?),
            };
            newest_records(&times, &bodies, labels.as_deref(), newest, *limit, lines)
        }
        _ => Err("no reference for this kind".into()),
    }
}

/// A logs frame's labels value (a JSON object, or its text) as a map.
fn label_map(v: &Value) -> Result<BTreeMap<String, String>, String> {
    let object = match v {
        Value::String(s) => serde_json::from_str(s).map_err(|e| format!("labels {s}: {e}"))?,
        other => other.clone(),
    };
    let Value::Object(map) = object else { return Err(format!("labels not an object: {v}")) };
    Ok(map.into_iter().map(|(k, v)| (k, text(&v))).collect())
}

/// Exactly the newest `limit` matching records, in any order, each as often
/// as it was loaded: every record newer than the oldest time shown (the
/// cut), and at the cut any of the records sharing it, none twice. Bodies
/// are the raw lines or, in fields mode, the summary lines; `labels`
/// (fields mode) are compared too when given.
pub fn newest_records(
    times: &[i64],
    lines: &[String],
    labels: Option<&[BTreeMap<String, String>]>,
    newest: &[LogRecord],
    limit: usize,
    mode: Lines,
) -> Result<(), String> {
    let want = limit.min(newest.len());
    if times.len() != want || lines.len() != want || labels.is_some_and(|l| l.len() != want) {
        return Err(format!("{} records, reference {want}", times.len()));
    }
    let Some(cut) = want.checked_sub(1).map(|i| newest[i].time_ms) else { return Ok(()) };
    type Key = (i64, String, Option<BTreeMap<String, String>>);
    let key = |r: &LogRecord| -> Key {
        let body = if mode == Lines::Raw { r.line.clone() } else { r.summary.clone() };
        (r.time_ms, body, labels.map(|_| r.labels.clone()))
    };
    let mut loaded: BTreeMap<Key, usize> = BTreeMap::new();
    for r in newest.iter().filter(|r| r.time_ms >= cut) {
        *loaded.entry(key(r)).or_default() += 1;
    }
    let mut shown: BTreeMap<Key, usize> = BTreeMap::new();
    for (i, (t, line)) in times.iter().zip(lines).enumerate() {
        if *t < cut {
            return Err(format!("records not the newest {want}: {line} at {t} is older than {cut}"));
        }
        *shown.entry((*t, line.clone(), labels.map(|l| l[i].clone()))).or_default() += 1;
    }
    for (k, n) in &shown {
        let w = loaded.get(k).copied().unwrap_or(0);
        if *n > w {
            return Err(format!("record shown {n} times, loaded {w} times: {k:?}"));
        }
    }
    for (k, n) in loaded.iter().filter(|(k, _)| k.0 > cut) {
        let s = shown.get(k).copied().unwrap_or(0);
        if s != *n {
            return Err(format!("record shown {s} times, loaded {n} times: {k:?}"));
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
            newest_records(&times, &bodies, None, newest, *limit, lines)
        }
        _ => Err("no reference for this kind".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time_ms: i64, line: &str) -> LogRecord {
        let labels = BTreeMap::from([("action".to_string(), line.to_string())]);
        LogRecord { time_ms, line: line.into(), summary: format!("s {line}"), labels }
    }

    /// Newest first: c and d share the cut's time (30).
    fn newest() -> Vec<LogRecord> {
        vec![record(50, "a"), record(40, "b"), record(30, "c"), record(30, "d")]
    }

    fn check(shown: &[(i64, &str)], mode: Lines) -> Result<(), String> {
        let times: Vec<i64> = shown.iter().map(|s| s.0).collect();
        let bodies: Vec<String> =
            shown.iter().map(|s| if mode == Lines::Raw { s.1.to_string() } else { format!("s {}", s.1) }).collect();
        let labels: Vec<BTreeMap<String, String>> =
            shown.iter().map(|s| BTreeMap::from([("action".to_string(), s.1.to_string())])).collect();
        let labels = (mode == Lines::Fields).then_some(labels.as_slice());
        newest_records(&times, &bodies, labels, &newest(), 3, mode)
    }

    #[test]
    fn the_newest_records_exactly_any_at_the_cut() {
        for mode in [Lines::Raw, Lines::Fields] {
            assert_eq!(check(&[(50, "a"), (40, "b"), (30, "c")], mode), Ok(()));
            assert_eq!(check(&[(50, "a"), (40, "b"), (30, "d")], mode), Ok(()));
            // A record dropped and one repeated in its place.
            assert!(check(&[(50, "a"), (50, "a"), (30, "c")], mode).is_err(), "{mode:?}");
            // A record of the cut repeated.
            assert!(check(&[(50, "a"), (40, "b"), (30, "c"), (30, "c")], mode).is_err());
            assert!(check(&[(50, "a"), (30, "c"), (30, "c")], mode).is_err());
            // A wrong body.
            assert!(check(&[(50, "a"), (40, "x"), (30, "c")], mode).is_err());
            // Too few.
            assert!(check(&[(50, "a"), (40, "b")], mode).is_err());
        }
        // Fields mode: a wrong label.
        let labels = vec![BTreeMap::new(); 3];
        let bodies = vec!["s a".to_string(), "s b".to_string(), "s c".to_string()];
        assert!(newest_records(&[50, 40, 30], &bodies, Some(&labels), &newest(), 3, Lines::Fields).is_err());
    }
}
