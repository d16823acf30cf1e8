//! The arithmetic of answering a step from per-bucket parts. Pure.
//!
//! A `Total`, `Rank` or `Buckets` step over `[from, to)` is a sum over
//! epoch-aligned buckets of a grain: the step asked as `Buckets` at that
//! grain (grouped for `Rank`) gives the same numbers bucket by bucket, and
//! the step's own answer is rebuilt from them ([`finish`]). Buckets that lie
//! wholly inside the range and ended before the settle time can be kept and
//! reused; the rest of the range is asked in at most a few parts ([`parts`]),
//! each split only at bucket boundaries, so every bucket comes from exactly
//! one source.

use crate::model::{FlowQuery, TimeRange};
use crate::plan::natural_keys;
use crate::plan::{Key, Step, StepOutput, Value};

/// Grain of a `Total` asked as buckets.
pub const TOTAL_GRAIN_MS: i64 = 600_000;
/// Grain of a `Rank` asked as per-key buckets.
pub const RANK_GRAIN_MS: i64 = 3_600_000;
/// A grain is made coarser (x6, then x24) until the range holds at most this
/// many buckets of it.
const MAX_TOTAL_BUCKETS: i64 = 2_000;
const MAX_RANK_BUCKETS: i64 = 200;
/// More parts than this and the whole range is asked at once.
pub const MAX_PARTS: usize = 3;

/// Per group key, per bucket start (ms): the metric.
pub type Buckets = crate::plan::BucketMap;

/// How a step is asked as buckets: the grain and the `Buckets` step, or
/// `None` when it is not a sum over time (records, hand-written queries) or
/// the range is too short to hold a whole bucket of the grain besides its
/// edges. `ranks`: the backend ranks cheaply from buckets; `rolled`: the
/// question has rollups, whose buckets are cheap by any number of fields.
pub fn bucketed(q: &FlowQuery, step: &Step, ranks: bool, rolled: bool) -> Option<(i64, Step)> {
    let span = q.range.to_ms - q.range.from_ms;
    let coarsen = |mut grain: i64, max: i64| {
        for factor in [6, 24, 7] {
            if span / grain <= max {
                break;
            }
            grain *= factor;
        }
        grain
    };
    let (grain, as_buckets) = match step {
        // Distinct counts of parts do not add up to the whole's.
        _ if !q.metric.additive() => return None,
        Step::Total => (coarsen(TOTAL_GRAIN_MS, MAX_TOTAL_BUCKETS), Step::Buckets { grouped: false, keys: None }),
        // One group field only: the rows of several (address x port x ...)
        // per hour outweigh the scan they save (flowlens bench).
        Step::Rank { .. } if ranks && (q.group_by.len() == 1 || rolled) => {
            (coarsen(RANK_GRAIN_MS, MAX_RANK_BUCKETS), Step::Buckets { grouped: true, keys: None })
        }
        Step::Buckets { .. } => (q.step_ms, step.clone()),
        _ => return None,
    };
    (grain > 0 && span >= 2 * grain).then_some((grain, as_buckets))
}

/// The first bucket start at or after `t`.
pub(crate) fn ceil(t: i64, grain: i64) -> i64 {
    t + (grain - t.rem_euclid(grain)) % grain
}

/// The starts of the buckets wholly inside `part` that ended at or before
/// `settled_before`: the ones whose answer can be kept.
pub fn settled(part: TimeRange, grain: i64, settled_before: i64) -> impl Iterator<Item = i64> {
    let end = part.to_ms.min(settled_before);
    (ceil(part.from_ms, grain)..).step_by(grain as usize).take_while(move |s| s + grain <= end)
}

/// The parts of `range` not covered by the `cached` bucket starts (each a
/// whole bucket inside the range), in order; `None` when that takes more
/// than [`MAX_PARTS`] (the range is then asked whole, without the cache).
pub fn parts(range: TimeRange, grain: i64, cached: impl IntoIterator<Item = i64>) -> Option<Vec<TimeRange>> {
    let mut out = Vec::new();
    let mut cursor = range.from_ms;
    for start in cached {
        if start < cursor || start + grain > range.to_ms {
            continue;
        }
        if start > cursor {
            out.push(TimeRange { from_ms: cursor, to_ms: start });
        }
        cursor = start + grain;
    }
    if cursor < range.to_ms {
        out.push(TimeRange { from_ms: cursor, to_ms: range.to_ms });
    }
    (out.len() <= MAX_PARTS).then_some(out)
}

/// Adds one part's buckets into `into`.
pub fn add(into: &mut Buckets, part: Buckets) {
    for (key, buckets) in part {
        let row = into.entry(key).or_default();
        for (start, v) in buckets {
            *row.entry(start).or_default() += v;
        }
    }
}

/// The step's own answer from the buckets of its whole range: the sum of
/// every bucket, the groups' sums ranked as the backend ranks them (value
/// descending, then keys in natural order), or the buckets as they are.
pub fn finish(step: &Step, buckets: Buckets) -> StepOutput {
    match step {
        Step::Total => StepOutput::Total(buckets.values().flat_map(|b| b.values()).sum()),
        Step::Rank { limit } => {
            let mut ranked: Vec<(Key, Value)> = buckets.into_iter().map(|(key, b)| (key, b.values().sum())).collect();
            ranked.sort_by(|(ka, va), (kb, vb)| vb.cmp(va).then_with(|| natural_keys(ka, kb)));
            ranked.truncate(*limit);
            StepOutput::Ranked(ranked)
        }
        _ => StepOutput::Buckets(buckets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const H: i64 = 3_600_000;

    fn range(from_ms: i64, to_ms: i64) -> TimeRange {
        TimeRange { from_ms, to_ms }
    }

    #[test]
    fn grains_follow_the_step_and_coarsen_for_long_ranges() {
        let q = |hours: i64| FlowQuery { step_ms: 300_000, ..FlowQuery::probe(range(0, hours * H)) };
        assert_eq!(
            bucketed(&q(24), &Step::Total, true, false),
            Some((600_000, Step::Buckets { grouped: false, keys: None }))
        );
        let by = |fields: &[&str]| FlowQuery { group_by: fields.iter().map(|f| f.to_string()).collect(), ..q(24) };
        assert_eq!(bucketed(&by(&["srcaddr"]), &Step::Rank { limit: 10 }, true, false).map(|b| b.0), Some(H));
        assert_eq!(bucketed(&by(&["srcaddr", "dstport"]), &Step::Rank { limit: 10 }, true, false), None);
        // With rollups, rankings by several fields are buckets too.
        assert_eq!(bucketed(&by(&["srcaddr", "dstport"]), &Step::Rank { limit: 10 }, true, true).map(|b| b.0), Some(H));
        assert_eq!(bucketed(&q(24), &Step::Rank { limit: 10 }, false, false), None);
        let month = FlowQuery { group_by: vec!["srcaddr".into()], ..q(24 * 30) };
        assert_eq!(bucketed(&month, &Step::Rank { limit: 10 }, true, false).map(|b| b.0), Some(6 * H));
        assert_eq!(bucketed(&q(24 * 30), &Step::Total, true, false).map(|b| b.0), Some(H));
        let keyed = Step::Buckets { grouped: true, keys: Some(vec![vec!["a".into()]]) };
        assert_eq!(bucketed(&q(1), &keyed, true, false), Some((300_000, keyed.clone())));
        // Too short to hold a whole bucket besides the edges; not sums.
        assert_eq!(
            bucketed(&FlowQuery { group_by: vec!["srcaddr".into()], ..q(1) }, &Step::Rank { limit: 10 }, true, false),
            None
        );
        assert_eq!(bucketed(&q(24), &Step::Records { limit: 10 }, true, false), None);
        assert_eq!(bucketed(&q(24), &Step::Raw, true, false), None);
    }

    #[test]
    fn settled_buckets_lie_wholly_inside_and_ended_before_the_settle_time() {
        let part = range(H / 2, 5 * H + 10);
        assert_eq!(settled(part, H, i64::MAX).collect::<Vec<_>>(), vec![H, 2 * H, 3 * H, 4 * H]);
        assert_eq!(settled(part, H, 3 * H + 1).collect::<Vec<_>>(), vec![H, 2 * H]);
        assert_eq!(settled(part, H, H).count(), 0);
        assert_eq!(settled(range(-H, H), H, i64::MAX).collect::<Vec<_>>(), vec![-H, 0]);
    }

    #[test]
    fn parts_are_the_gaps_between_cached_buckets() {
        let r = range(H / 2, 10 * H + H / 2);
        // Nothing cached: the whole range.
        assert_eq!(parts(r, H, []), Some(vec![r]));
        // A settled prefix cached: the leading edge and the unsettled tail.
        assert_eq!(parts(r, H, (1..=7).map(|i| i * H)), Some(vec![range(H / 2, H), range(8 * H, 10 * H + H / 2)]));
        // Everything but the edges cached.
        assert_eq!(parts(r, H, (1..=9).map(|i| i * H)), Some(vec![range(H / 2, H), range(10 * H, 10 * H + H / 2)]));
        // An aligned range wholly cached: nothing to ask.
        assert_eq!(parts(range(H, 3 * H), H, [H, 2 * H]), Some(vec![]));
        // Buckets outside the range are ignored.
        assert_eq!(parts(range(H, 3 * H), H, [0, 3 * H]), Some(vec![range(H, 3 * H)]));
        // Holes everywhere: too many parts.
        assert_eq!(parts(r, H, [2 * H, 4 * H, 6 * H, 8 * H]), None);
    }

    #[test]
    fn answers_rebuilt_from_buckets() {
        let key = |s: &str| vec![s.to_string()];
        let mut b = Buckets::new();
        add(&mut b, BTreeMap::from([(key("10.0.0.9"), BTreeMap::from([(0, 5), (H, 1)]))]));
        add(&mut b, BTreeMap::from([(key("10.0.0.10"), BTreeMap::from([(2 * H, 6)]))]));
        add(&mut b, BTreeMap::from([(key("10.0.0.9"), BTreeMap::from([(2 * H, 0)]))]));
        add(&mut b, BTreeMap::from([(key("-"), BTreeMap::from([(2 * H, 0)]))]));
        assert_eq!(finish(&Step::Total, b.clone()), StepOutput::Total(12));
        // Ties by key in natural order: 10.0.0.9 before 10.0.0.10.
        assert_eq!(
            finish(&Step::Rank { limit: 2 }, b.clone()),
            StepOutput::Ranked(vec![(key("10.0.0.9"), 6), (key("10.0.0.10"), 6)])
        );
        assert_eq!(
            finish(&Step::Rank { limit: 9 }, b.clone()),
            StepOutput::Ranked(vec![(key("10.0.0.9"), 6), (key("10.0.0.10"), 6), (key("-"), 0)])
        );
        let StepOutput::Buckets(out) = finish(&Step::Buckets { grouped: true, keys: None }, b) else { panic!() };
        assert_eq!(out[&key("10.0.0.9")], BTreeMap::from([(0, 5), (H, 1), (2 * H, 0)]));
    }
}
