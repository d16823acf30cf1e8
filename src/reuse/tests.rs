//! The split of a range between rollups and the log store, on a store that
//! answers from a table.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::plan::BucketMap;

const M: i64 = 60_000;

/// Evaluations per minute start (minutes not listed: none), or an error.
#[derive(Debug)]
struct Table(Result<Vec<i64>, String>);

#[async_trait::async_trait]
impl RollupStore for Table {
    fn product(&self) -> &'static str {
        "the table"
    }

    fn resolutions_ms(&self) -> &[i64] {
        &[M]
    }

    async fn evaluations(
        &self,
        _rule: &Rule,
        part: TimeRange,
        grain: i64,
        _deadline: Deadline,
    ) -> Result<BTreeMap<i64, u64>, QueryError> {
        let minutes = self.0.clone().map_err(|e| QueryError::downstream(502, e))?;
        let mut out = BTreeMap::new();
        for m in minutes.into_iter().filter(|m| (part.from_ms..part.to_ms).contains(m)) {
            *out.entry(m - m.rem_euclid(grain)).or_default() += 1;
        }
        Ok(out)
    }

    async fn buckets(
        &self,
        _rule: &Rule,
        _grouped: bool,
        _keys: Option<&[Key]>,
        _part: TimeRange,
        _grain: i64,
        _deadline: Deadline,
    ) -> Result<(String, BucketMap), QueryError> {
        unreachable!("the split does not read sums")
    }

    async fn totals(
        &self,
        _rule: &Rule,
        _run: TimeRange,
        _select: crate::rollups::Totals,
        _deadline: Deadline,
    ) -> Result<(String, Vec<(Key, Value)>), QueryError> {
        unreachable!("the split does not read sums")
    }
}

fn rule() -> Rule {
    Rule {
        expr: String::new(),
        evaluated: String::new(),
        fingerprint: "f".into(),
        labels: Vec::new(),
        no_value: &[],
        resolution_ms: M,
    }
}

async fn split(store: Table, part: TimeRange, now_ms: i64) -> (Vec<String>, Vec<String>) {
    let store: Arc<dyn RollupStore> = Arc::new(store);
    let rolled = [(&store, rule())];
    let deadline = Deadline::after(Duration::from_secs(5));
    let (sources, notices) = split_for_rollups(&rolled, vec![part], 10 * M, now_ms, deadline, "the logs").await;
    let described = sources
        .iter()
        .map(|s| match s {
            Part::Log(r) => format!("log {}..{}", r.from_ms / M, r.to_ms / M),
            Part::Rollup(r, _) => format!("rollup {}..{}", r.from_ms / M, r.to_ms / M),
        })
        .collect();
    (described, notices)
}

#[tokio::test]
async fn the_evaluated_whole_buckets_come_from_rollups_and_the_rest_from_the_log_store() {
    let part = TimeRange { from_ms: 5 * M, to_ms: 95 * M };
    let now = 1_000 * M;
    // Every minute evaluated but minute 42: buckets 10..40 and 50..90 are
    // whole; the longer run is read from rollups, the rest from the logs.
    let minutes: Vec<i64> = (0..100).filter(|m| *m != 42).map(|m| m * M).collect();
    let (got, notices) = split(Table(Ok(minutes.clone())), part, now).await;
    assert_eq!(got, vec!["log 5..50", "log 90..95", "rollup 50..90"]);
    assert!(notices.is_empty());
    // The last minute before now is never read from rollups: at 81 min the
    // run after the gap ends at 80 and is no longer the longer one (the
    // first of equal runs wins).
    let (got, _) = split(Table(Ok(minutes.clone())), part, 81 * M).await;
    assert_eq!(got, vec!["log 5..10", "log 40..95", "rollup 10..40"]);
    // Nothing evaluated: the log store; a store that fails: the log store
    // and a notice naming the failure.
    assert_eq!(split(Table(Ok(Vec::new())), part, now).await.0, vec!["log 5..95"]);
    let (got, notices) = split(Table(Err("connection refused".into())), part, now).await;
    assert_eq!(got, vec!["log 5..95"]);
    assert_eq!(notices, vec!["Rollups not read (connection refused); these numbers come from the logs."]);
}
