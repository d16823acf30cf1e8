//! The backend checked against itself. flowlens cannot run every version
//! and configuration of the stores users run (a Loki query frontend that
//! shards, splits and caches; a proxy in front of VictoriaLogs), so it asks
//! the one it talks to the same question two independent ways and compares:
//! a total over a settled window (one instant query, or one stats query)
//! against the sum of its buckets (range queries, or `stats by (_time)`);
//! a ranking's top group against the sum of that group's series; each asked
//! twice, so the second answer may come from the backend's results cache;
//! and, when the datasource splits long queries, a split total against an
//! unsplit one. Save & test runs [`quick`]; `flowlens check` runs [`suite`]
//! and prints a verdict per question. Each check is an ordinary plan step
//! with a time filter, the bucket cache bypassed.

use crate::datasource::Datasource;
use crate::error::QueryError;
use crate::model::{FlowQuery, Metric, TimeRange};
use crate::plan::{Step, StepOutput};

/// One question asked two ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What was compared, e.g. "records, last settled hour: total vs 5-minute buckets".
    pub question: String,
    /// The first way's figure.
    pub expected: u64,
    /// The second way's figure.
    pub got: u64,
    /// What the second way was.
    pub got_how: String,
}

impl Verdict {
    /// Whether the two ways agree.
    pub fn ok(&self) -> bool {
        self.expected == self.got
    }

    /// The verdict in one line: agreement, or which figure differs and by how much.
    pub fn describe(&self) -> String {
        if self.ok() {
            format!("ok: {}: {} both ways", self.question, self.expected)
        } else {
            let diff = self.got as i128 - self.expected as i128;
            let percent = if self.expected == 0 { 100.0 } else { diff.abs() as f64 * 100.0 / self.expected as f64 };
            format!(
                "DIFFERS: {}: {} {} but {} (off by {diff:+}, {percent:.2}%)",
                self.question, self.got_how, self.got, self.expected
            )
        }
    }
}

/// The window the checks read: the last whole hour that ended at least
/// `settle_ms` before `now_ms` (late records have arrived in it).
pub fn settled_hour(now_ms: i64, settle_ms: i64) -> TimeRange {
    let end = (now_ms - settle_ms).div_euclid(3_600_000) * 3_600_000;
    TimeRange { from_ms: end - 3_600_000, to_ms: end }
}

/// The bucket width the checks use: 5 minutes.
const STEP_MS: i64 = 300_000;

/// Save & test's check: over `window`, the records total against the sum
/// of its buckets, each asked twice (the second may come from a results
/// cache), and the top source address's bytes in a ranking against its
/// series.
pub async fn quick(ds: &Datasource, window: TimeRange) -> Result<Vec<Verdict>, QueryError> {
    let q = question(window, Metric::Records);
    let mut verdicts = Vec::new();
    for pass in ["", ", asked again"] {
        verdicts.push(total_vs_buckets(ds, &q, &format!("records{pass}")).await?);
    }
    if ds.settings.schema.has("srcaddr") {
        let q = FlowQuery { group_by: vec!["srcaddr".into()], ..question(window, Metric::Bytes) };
        verdicts.extend(top_vs_series(ds, &q, "bytes of the top srcaddr").await?);
    }
    Ok(verdicts)
}

/// The datasource's own gate before it keeps settled buckets: one total
/// against its buckets over `window`.
pub async fn quick_once(ds: &Datasource, window: TimeRange) -> Result<Verdict, QueryError> {
    total_vs_buckets(ds, &question(window, Metric::Records), "records").await
}

/// `flowlens check`'s suite over `window`: records and bytes, total against
/// buckets; the top source address against its series; with
/// `split_ms > 0`, over the `hours` settled hours before the window's end,
/// the split total against the unsplit one; each asked twice.
pub async fn suite(
    ds: &Datasource,
    unsplit: &Datasource,
    window: TimeRange,
    hours: i64,
) -> Result<Vec<Verdict>, QueryError> {
    let mut verdicts = Vec::new();
    for pass in ["", ", asked again"] {
        for (metric, name) in [(Metric::Records, "records"), (Metric::Bytes, "bytes")] {
            let q = question(window, metric);
            verdicts.push(total_vs_buckets(ds, &q, &format!("{name}{pass}")).await?);
        }
        if ds.settings.schema.has("srcaddr") {
            let q = FlowQuery { group_by: vec!["srcaddr".into()], ..question(window, Metric::Bytes) };
            if let Some(v) = top_vs_series(ds, &q, &format!("bytes of the top srcaddr{pass}")).await? {
                verdicts.push(v);
            }
        }
        if hours > 1 {
            let long = TimeRange { from_ms: window.to_ms - hours * 3_600_000, to_ms: window.to_ms };
            let q = question(long, Metric::Records);
            let split = total(ds, &q).await?;
            let whole = total(unsplit, &q).await?;
            verdicts.push(Verdict {
                question: format!("records over the last {hours} settled hours{pass}: split vs whole"),
                expected: whole,
                got: split,
                got_how: "asked in sub-ranges".into(),
            });
        }
    }
    Ok(verdicts)
}

/// A records or bytes question over every record of the stream, at 5-minute
/// buckets, the bucket cache bypassed.
fn question(window: TimeRange, metric: Metric) -> FlowQuery {
    FlowQuery { metric, step_ms: STEP_MS, ..FlowQuery::probe(window) }
}

async fn total(ds: &Datasource, q: &FlowQuery) -> Result<u64, QueryError> {
    match ds.run_step(q, &Step::Total).await?.1 {
        StepOutput::Total(n) => Ok(n),
        other => Err(QueryError::downstream(502, format!("a total came back as {other:?}"))),
    }
}

fn bucket_sum(output: &StepOutput) -> u64 {
    match output {
        StepOutput::Buckets(groups) => groups.values().flat_map(|b| b.values()).sum(),
        _ => 0,
    }
}

fn window_text(q: &FlowQuery) -> String {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms).map_or(ms.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    format!("{} .. {} UTC", at(q.range.from_ms), at(q.range.to_ms))
}

async fn total_vs_buckets(ds: &Datasource, q: &FlowQuery, what: &str) -> Result<Verdict, QueryError> {
    let expected = total(ds, q).await?;
    let (_, buckets) = ds.run_step(q, &Step::Buckets { grouped: false, keys: None }).await?;
    Ok(Verdict {
        question: format!("{what}, {}: the total vs the sum of its 5-minute buckets", window_text(q)),
        expected,
        got: bucket_sum(&buckets),
        got_how: "the buckets add up to".into(),
    })
}

/// The top group's value in the ranking against the sum of its series;
/// `None` when the window has no group.
async fn top_vs_series(ds: &Datasource, q: &FlowQuery, what: &str) -> Result<Option<Verdict>, QueryError> {
    let (_, ranked) = ds.run_step(q, &Step::Rank { limit: 1 }).await?;
    let StepOutput::Ranked(ranked) = ranked else { return Ok(None) };
    let Some((key, expected)) = ranked.into_iter().next() else { return Ok(None) };
    let step = Step::Buckets { grouped: true, keys: Some(vec![key.clone()]) };
    let (_, series) = ds.run_step(q, &step).await?;
    Ok(Some(Verdict {
        question: format!("{what} ({}), {}: the ranking vs its series", key.join(", "), window_text(q)),
        expected,
        got: bucket_sum(&series),
        got_how: "the series adds up to".into(),
    }))
}

/// What a failed check most likely means, for the message.
pub fn likely_cause(ds: &Datasource, verdicts: &[Verdict]) -> String {
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.ok()).collect();
    if failed.is_empty() {
        return String::new();
    }
    let empty = failed.iter().any(|v| v.got == 0 && v.expected > 0);
    let cause = ds.backend().likely_cause(empty);
    format!("{cause}. flowlens keeps no buckets of this datasource in its cache until the check passes")
}
