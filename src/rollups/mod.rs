//! Rollups: a question's per-interval sums, computed by the user's own rule
//! engine (vmalert `type: vlogs` groups, the Loki ruler) and written to a
//! Prometheus-compatible store, read instead of raw records for the
//! settled, evaluated part of a range. The core of it is pure:
//!
//! - **A rule is a question.** The rule's expression is the log store's own
//!   text for the question asked as buckets ([`crate::source::Source::rule_expr`]:
//!   the same conditions, extraction and aggregate as a raw query, without
//!   the time filter the rule engine adds), so a rollup holds exactly what
//!   a raw query over the same interval would sum.
//! - **A fingerprint decides what is used.** Every series a rule writes
//!   carries `flowlens_rule="<fingerprint>"`: a hash of the expression and
//!   the resolution ([`fingerprint`]). The expression holds every setting
//!   that changes an answer (stream, record format or mapping, interface,
//!   inside CIDRs, the NAT's addresses, filters), so rollups computed under
//!   other settings, or for another question, never match: that part is
//!   read from raw records.
//! - **Evaluated means present.** Beside each value rule, a second rule
//!   ([`EVALUATED`]) counts the stream's records in the same interval: it
//!   writes a point for every evaluation that saw records, so a bucket is
//!   read from rollups only when every interval in it has that point
//!   ([`covered_run`]); a bucket with a missing evaluation, or not yet
//!   evaluated, is read raw.
//! - **Stamps.** vmalert's live evaluation (and the Loki ruler) stamps the
//!   sum of `[T - resolution, T)` at `T`; vmalert's replay stamps the sum of
//!   `[T, T + resolution)` at `T` ([`Stamps`]). The reader shifts its windows
//!   accordingly; one store must hold one kind.
//!
//! `reuse/` asks the store ([`RollupStore`]) for whole buckets of the
//! question's grain; what it cannot answer goes to the log store, each
//! bucket from exactly one source.

pub mod settings;

use sha2::{Digest, Sha256};

use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{FlowQuery, TimeRange};
use crate::plan::{BucketMap, Key, Value};
use crate::source::{Backend, Deadline};

pub use settings::{RollupSettings, Stamps};

/// The series name of a rule's sums.
pub const VALUES: &str = "flowlens_rollup";
/// The series name of a rule's evaluations (records of the stream seen).
pub const EVALUATED: &str = "flowlens_rollup_evaluated";
/// Rollups are read only for buckets that ended this long before now: a
/// store may still be writing or adjusting its newest points
/// (VictoriaMetrics replaces the points of its last `-search.latencyOffset`,
/// 30 s by default, with the point before them unless asked not to:
/// `app/vmselect/prometheus/prometheus.go` `adjustLastPoints`).
pub const LATENCY_MS: i64 = 60_000;

/// The label holding a rule's fingerprint.
pub const RULE_LABEL: &str = "flowlens_rule";

/// A question's rule: its expression in the log store's language and its
/// fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The value rule's expression (no time filter).
    pub expr: String,
    /// The evaluation rule's expression: the stream's records counted.
    pub evaluated: String,
    /// `flowlens_rule`'s value.
    pub fingerprint: String,
    /// The label names of the question's group-by fields, in its order.
    pub labels: Vec<String>,
    /// Label values the log store's own answers read as no value (`""`):
    /// a key is the same group from either source.
    pub no_value: &'static [&'static str],
    /// The evaluation interval in ms (in the fingerprint).
    pub resolution_ms: i64,
}

/// A question's rule as the log store's dialect writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleExpr {
    /// The value rule's expression.
    pub expr: String,
    /// The label names its series carry for the group-by fields, in order.
    pub labels: Vec<String>,
    /// See [`Rule::no_value`].
    pub no_value: &'static [&'static str],
}

/// The fingerprint of a rule: the first 16 hex digits of the SHA-256 of
/// its expression and resolution.
pub fn fingerprint(expr: &str, resolution_ms: i64) -> String {
    let digest = Sha256::digest(format!("flowlens rollup v1\n{resolution_ms}\n{expr}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The rule of a question as [`crate::reuse::canonical`] gives it, for a
/// store whose rule engine can sum it ([`crate::source::Source::rule_expr`]).
pub fn rule(backend: &Backend, target: &Target<'_>, canonical: &FlowQuery, resolution_ms: i64) -> Option<Rule> {
    if !eligible(canonical) {
        return None;
    }
    let RuleExpr { expr, labels, no_value } = backend.rule_expr(target, canonical, resolution_ms)?;
    let evaluated = backend.evaluated_expr(target, resolution_ms)?;
    Some(Rule { fingerprint: fingerprint(&expr, resolution_ms), expr, evaluated, labels, no_value, resolution_ms })
}

/// Whether a question can be answered from rollups at all: additive sums
/// over the record fields, not a hand-written query. (Distinct counts of
/// parts do not add up to the whole's.)
pub fn eligible(q: &FlowQuery) -> bool {
    q.raw_query.is_none() && q.metric.additive()
}

/// A label name Prometheus-compatible stores accept (and vmalert writes
/// from a result field unchanged).
pub fn label_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// The longest run of consecutive buckets of `grain` whose every rollup
/// interval was evaluated: `evaluations` per bucket start, `grain /
/// resolution` of them needed. `None` when no bucket is whole.
pub fn covered_run(
    evaluations: &std::collections::BTreeMap<i64, u64>,
    part: TimeRange,
    grain: i64,
    resolution_ms: i64,
) -> Option<TimeRange> {
    let needed = (grain / resolution_ms) as u64;
    let first = part.from_ms + (grain - part.from_ms.rem_euclid(grain)) % grain;
    let mut best: Option<TimeRange> = None;
    let mut run: Option<i64> = None;
    let mut start = first;
    while start + grain <= part.to_ms {
        if evaluations.get(&start).copied().unwrap_or(0) >= needed {
            let from = *run.get_or_insert(start);
            let candidate = TimeRange { from_ms: from, to_ms: start + grain };
            if best.is_none_or(|b| b.to_ms - b.from_ms < candidate.to_ms - candidate.from_ms) {
                best = Some(candidate);
            }
        } else {
            run = None;
        }
        start += grain;
    }
    best
}

/// Which groups' sums over a run [`RollupStore::totals`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Totals {
    /// The `n` largest (ties broken any way).
    Top(usize),
    /// Every group whose sum is at least this.
    AtLeast(Value),
}

/// Exact top-N over a range read from rollups for one run and from the log
/// store for the rest, without reading every group of the run: the
/// threshold of Fagin's algorithm. `top` is the store's `n` largest sums
/// over the run (any tie order), `rest` every group's sum over the rest of
/// the range. Of those `n` groups, the `n`-th largest whole-range sum `t0`
/// bounds the answer's `n`-th from below, and no group can reach `t0`
/// unless its run sum is at least `t0 - max(rest)`: the store is asked for
/// every group at or above that ([`Totals::AtLeast`]). `None`: the store
/// holds fewer than `n` groups, which `top` already are.
pub fn threshold(top: &[(Key, Value)], n: usize, rest: &std::collections::BTreeMap<Key, Value>) -> Option<Value> {
    if top.len() < n || n == 0 {
        return None;
    }
    let t0 = top.iter().map(|(k, v)| v + rest.get(k).copied().unwrap_or(0)).min()?;
    let most = rest.values().copied().max().unwrap_or(0);
    Some(t0.saturating_sub(most))
}

/// The whole-range sums of the groups that can be in the top N: the run's
/// `candidates` (every group at or above the [`threshold`], or every group
/// when there was none) plus `rest`. A group only in `rest` has a run sum
/// of 0: kept when that is not below the threshold (otherwise it cannot be
/// in the top N).
pub fn whole_sums(
    candidates: Vec<(Key, Value)>,
    rest: std::collections::BTreeMap<Key, Value>,
    threshold: Option<Value>,
) -> std::collections::BTreeMap<Key, Value> {
    let mut out: std::collections::BTreeMap<Key, Value> = candidates.into_iter().collect();
    for (key, v) in rest {
        match out.get_mut(&key) {
            Some(sum) => *sum += v,
            None if threshold.unwrap_or(0) == 0 => {
                out.insert(key, v);
            }
            None => {}
        }
    }
    out
}

/// A Prometheus-compatible store holding rollups.
#[async_trait::async_trait]
pub trait RollupStore: Send + Sync + std::fmt::Debug {
    /// The product's name, for messages.
    fn product(&self) -> &'static str;

    /// The rollups' resolutions in ms (the rules' evaluation intervals),
    /// finest first.
    fn resolutions_ms(&self) -> &[i64];

    /// How many evaluations of `rule` each bucket of `grain` in `part`
    /// holds (bucket start -> count); `part` is aligned to `grain`.
    async fn evaluations(
        &self,
        rule: &Rule,
        part: TimeRange,
        grain: i64,
        deadline: Deadline,
    ) -> Result<std::collections::BTreeMap<i64, u64>, QueryError>;

    /// The rule's sums per group per bucket of `grain` over `part` (aligned
    /// to `grain`), only of `keys` when given, all groups' as one (key `[]`)
    /// unless `grouped`; and the query text sent.
    async fn buckets(
        &self,
        rule: &Rule,
        grouped: bool,
        keys: Option<&[Key]>,
        part: TimeRange,
        grain: i64,
        deadline: Deadline,
    ) -> Result<(String, BucketMap), QueryError>;

    /// The rule's sum per group over `run` (whole intervals), of the groups
    /// `select` picks; and the query text sent.
    async fn totals(
        &self,
        rule: &Rule,
        run: TimeRange,
        select: Totals,
        deadline: Deadline,
    ) -> Result<(String, Vec<(Key, Value)>), QueryError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const M: i64 = 60_000;

    #[test]
    fn fingerprints_change_with_the_expression_and_the_resolution() {
        let a = fingerprint("x | stats sum(bytes) as value", M);
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint("x | stats sum(bytes) as value", M));
        assert_ne!(a, fingerprint("x | stats sum(packets) as value", M));
        assert_ne!(a, fingerprint("x | stats sum(bytes) as value", 5 * M));
    }

    #[test]
    fn the_covered_run_is_the_longest_of_whole_evaluated_buckets() {
        let part = TimeRange { from_ms: 0, to_ms: 60 * M };
        // 10-minute buckets of 1-minute rollups: 10 evaluations each.
        let mut evals: BTreeMap<i64, u64> = (0..6).map(|i| (i * 10 * M, 10)).collect();
        assert_eq!(covered_run(&evals, part, 10 * M, M), Some(part));
        // One evaluation missing in the third bucket: the longer side wins.
        evals.insert(20 * M, 9);
        assert_eq!(covered_run(&evals, part, 10 * M, M), Some(TimeRange { from_ms: 30 * M, to_ms: 60 * M }));
        // Unaligned edges are never covered.
        let unaligned = TimeRange { from_ms: 5 * M, to_ms: 55 * M };
        assert_eq!(covered_run(&evals, unaligned, 10 * M, M), Some(TimeRange { from_ms: 30 * M, to_ms: 50 * M }));
        assert_eq!(covered_run(&BTreeMap::new(), part, 10 * M, M), None);
    }

    #[test]
    fn the_threshold_keeps_every_group_that_can_reach_the_top() {
        let key = |s: &str| vec![s.to_string()];
        let rest: BTreeMap<Key, Value> = [(key("a"), 5), (key("z"), 40)].into();
        // The store's top 2 over the run: b 100, a 90 (a: 95 over the range).
        let top = vec![(key("b"), 100), (key("a"), 90)];
        // t0 = min(100, 95) = 95; a group needs 95 - 40 = 55 in the run.
        assert_eq!(threshold(&top, 2, &rest), Some(55));
        // Fewer groups than asked: the top are every group.
        assert_eq!(threshold(&top, 3, &rest), None);
        // The candidates at or above 55: c (60) reaches 100 with z? No: z is
        // not in the run above 55, so z's 40 is all it can be known to have;
        // z is dropped, c kept; every sum over the whole range.
        let candidates = vec![(key("b"), 100), (key("a"), 90), (key("c"), 60)];
        let sums = whole_sums(candidates.clone(), rest.clone(), Some(55));
        assert_eq!(sums, [(key("a"), 95), (key("b"), 100), (key("c"), 60)].into());
        // No threshold, or one of 0: groups only in the rest count too.
        assert_eq!(whole_sums(candidates.clone(), rest.clone(), None)[&key("z")], 40);
        assert_eq!(whole_sums(candidates, rest, Some(0))[&key("z")], 40);
    }

    #[test]
    fn label_names_are_prometheus_names() {
        assert!(label_name_ok("pkt_srcaddr"));
        assert!(!label_name_ok("pkt-srcaddr"));
        assert!(!label_name_ok("1a"));
        assert!(!label_name_ok("__name__"));
        assert!(!label_name_ok(""));
    }
}
