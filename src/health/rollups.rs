//! What Save & test says about the rollup store: whether it holds rollups
//! computed under these settings (the fingerprints of the dashboard's
//! total-bytes questions), from when, how far behind now, at what
//! resolution; and when it holds only other fingerprints, that the rules
//! need regenerating.

use crate::datasource::Datasource;
use crate::error::QueryError;
use crate::model::{FlowQuery, Request, TimeRange};
use crate::source::Deadline;

/// How far back Save & test looks for evaluations.
const LOOKBACK_MS: i64 = 7 * 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The probe questions: the NAT dashboard's totals (bytes any, in, out
/// with its default interface), or all bytes without inside CIDRs.
fn probes(ds: &Datasource, range: TimeRange) -> Vec<(&'static str, FlowQuery)> {
    let directions: &[&'static str] = if ds.settings.inside.is_empty() { &["all"] } else { &["any", "in", "out"] };
    let req = Request { range, interval_ms: 60_000, max_data_points: 0 };
    directions
        .iter()
        .filter_map(|d| {
            let target = format!(r#"{{"format":"stat","metric":"bytes","direction":"{d}","groupBy":[],"filters":[]}}"#);
            FlowQuery::parse(target.as_bytes(), &req, &ds.settings).ok().map(|q| (*d, q))
        })
        .collect()
}

/// The note on the rollup store (a sentence per resolution), `None` without
/// one; an error when the store cannot be asked.
pub async fn coverage(ds: &Datasource, now: i64) -> Result<Option<String>, QueryError> {
    let Some(store) = ds.reuse.rollups().cloned() else { return Ok(None) };
    let mut notes = Vec::new();
    for resolution in store.resolutions_ms().to_vec() {
        notes.push(coverage_at(ds, &store, resolution, now).await?);
    }
    Ok(Some(notes.join(". ")))
}

/// The note on the rollups of one resolution.
async fn coverage_at(
    ds: &Datasource,
    store: &std::sync::Arc<dyn crate::rollups::RollupStore>,
    resolution: i64,
    now: i64,
) -> Result<String, QueryError> {
    let deadline = Deadline::after(ds.settings.timeout);
    let week = TimeRange { from_ms: (now - LOOKBACK_MS) / HOUR_MS * HOUR_MS, to_ms: (now / HOUR_MS + 1) * HOUR_MS };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (direction, q) in probes(ds, week) {
        let q = ds.resolve(&q, deadline).await?;
        let canonical = crate::reuse::canonical(&q);
        let Some(rule) = crate::rollups::rule(ds.backend(), &ds.target(), &canonical, resolution) else {
            return Ok(format!("Rollups: {} has no rule engine flowlens writes rules for", ds.backend().product()));
        };
        let hours = store.evaluations(&rule, week, HOUR_MS, deadline).await?;
        let evaluated: Vec<i64> = hours.iter().filter(|(_, n)| **n > 0).map(|(t, _)| *t).collect();
        match (evaluated.first(), evaluated.last()) {
            (Some(first), Some(last)) => {
                // The first and the newest evaluated interval, to the resolution.
                let within = |hour: i64| {
                    let rule = &rule;
                    async move {
                        let tail = TimeRange { from_ms: hour, to_ms: hour + HOUR_MS };
                        let got = store.evaluations(rule, tail, resolution, deadline).await?;
                        Ok::<Vec<i64>, QueryError>(got.into_iter().filter(|(_, n)| *n > 0).map(|(t, _)| t).collect())
                    }
                };
                let from = within(*first).await?.into_iter().min().unwrap_or(*first);
                let newest = within(*last).await?.into_iter().max().map_or(last + HOUR_MS, |t| t + resolution);
                found.push((direction, rule.fingerprint, from, newest));
            }
            _ => missing.push((direction, rule.fingerprint)),
        }
    }
    let step = crate::time::duration(resolution);
    if found.is_empty() {
        let names: Vec<String> = missing.iter().map(|(d, f)| format!("{d} {f}")).collect();
        return Ok(format!(
            "Rollups: the store holds no {step} rollups of these settings' total-bytes questions \
             (fingerprints {}) in the last 7 days; generate the rules with `flowlens rules` for these settings \
             and deploy them (rules computed under other settings or resolutions are never read); \
             until then panels read raw records",
            names.join(", ")
        ));
    }
    let first = found.iter().map(|f| f.2).min().unwrap_or(now);
    let newest = found.iter().map(|f| f.3).max().unwrap_or(now);
    let behind = crate::time::duration(((now - newest).max(0) / 60_000) * 60_000);
    let mut note = format!(
        "Rollups: {} of {} total-bytes questions ({}) have {step} rollups of these settings, evaluated from {} to {} \
         ({behind} behind now)",
        found.len(),
        found.len() + missing.len(),
        found.iter().map(|f| f.0).collect::<Vec<_>>().join(", "),
        crate::time::rfc3339(first),
        crate::time::rfc3339(newest),
    );
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|m| m.0).collect();
        note.push_str(&format!("; none for {}: regenerate the rules with `flowlens rules`", names.join(", ")));
    }
    Ok(note)
}
