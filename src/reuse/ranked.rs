//! A ranking over a range that rollups cover in part, without reading every
//! group of the covered run: the store ranks its run itself, the log store
//! answers the rest whole, and the threshold ([`crate::rollups::threshold`])
//! says which of the store's groups can still reach the top N. Exact for
//! any number of group fields (the top 10 of address x port x address x
//! port over a week reads tens of groups, not every one of the week).

use std::collections::BTreeMap;

use super::{dividing, not_read, parts, rollup_notice, rollup_text, split_for_rollups, Answer, Part, Reuse, Rolled};
use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::FlowQuery;
use crate::plan::{Key, Step, StepOutput, Value};
use crate::rollups::{threshold, whole_sums, Totals};
use crate::source::{Backend, Deadline};

/// Rankings longer than this are read as buckets (the store's top N would
/// be most of its groups).
pub(super) const MAX_TOP: usize = 1_000;

impl Reuse {
    /// A `Rank` of at most [`MAX_TOP`] groups with a covered run of whole
    /// buckets: the run from the store (its top N, then every group at or
    /// above the threshold), the rest of the range from the log store as
    /// whole rankings. `Err`: nothing read from rollups (no covered run, or
    /// the store refused), with the notices to give; the caller answers the
    /// step as it would without rollups.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn rank_from_rollups(
        &self,
        backend: &Backend,
        target: &Target<'_>,
        q: &FlowQuery,
        limit: usize,
        rolled: &[Rolled<'_>],
        now_ms: i64,
        deadline: Deadline,
    ) -> Result<Result<Answer, Vec<String>>, QueryError> {
        let Some((grain, _)) = parts::bucketed(q, &Step::Rank { limit }, true, true) else {
            return Ok(Err(Vec::new()));
        };
        let rolled = dividing(rolled.to_vec(), grain);
        let (sources, notices) =
            split_for_rollups(&rolled, vec![q.range], grain, now_ms, deadline, backend.product()).await;
        let Some((run, i)) =
            sources.iter().find_map(|s| if let Part::Rollup(r, i) = s { Some((*r, *i)) } else { None })
        else {
            return Ok(Err(notices));
        };
        let (store, rule) = &rolled[i];
        // The rest, whole: every group's sum over each edge.
        let mut rest: BTreeMap<Key, Value> = BTreeMap::new();
        let mut texts = Vec::new();
        let all = Step::Rank { limit: usize::MAX };
        for part in sources.iter().filter_map(|s| if let Part::Log(p) = s { Some(*p) } else { None }) {
            let pq = FlowQuery { range: part, ..q.clone() };
            let (text, output, _) = self.shared(backend, target, &pq, &all, deadline).await?;
            let StepOutput::Ranked(groups) = output else {
                return Err(QueryError::plugin("internal error: a ranking answered without a ranking"));
            };
            for (key, v) in groups {
                *rest.entry(key).or_default() += v;
            }
            texts.push(text);
        }
        let read = |select| async move {
            let (text, got) = store.totals(rule, run, select, deadline).await?;
            Ok::<_, QueryError>((rollup_text(store.as_ref(), rule, run, &text), got))
        };
        let answered = async {
            let (text, top) = read(Totals::Top(limit)).await?;
            let bound = threshold(&top, limit, &rest);
            let (more, candidates) = match bound {
                Some(at_least) if at_least > 0 => read(Totals::AtLeast(at_least)).await?,
                _ if top.len() < limit => (String::new(), top),
                _ => read(Totals::AtLeast(0)).await?,
            };
            Ok::<_, QueryError>(([text, more], whole_sums(candidates, rest, bound)))
        };
        Ok(match answered.await {
            Ok((sent, sums)) => {
                texts.extend(sent.into_iter().filter(|t| !t.is_empty()));
                let buckets = sums.into_iter().map(|(k, v)| (k, BTreeMap::from([(run.from_ms, v)]))).collect();
                let notices = notices.into_iter().chain(rollup_notice(&[run], backend.product())).collect();
                Ok((texts.join("\n\n"), parts::finish(&Step::Rank { limit }, buckets), notices))
            }
            // Evaluated, but not readable now: the log store, with a notice.
            Err(e) => Err(notices.into_iter().chain([not_read(&e, backend.product())]).collect()),
        })
    }
}
