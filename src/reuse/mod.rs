//! The layer between the plan and the backend clients, the same for every
//! backend: what a datasource has already asked is not asked again.
//!
//! - **Single flight.** A request identical to one in flight (same step,
//!   same query, same range) waits for that one's answer instead of sending
//!   its own: a dashboard open twice, or two panels with one question, cost
//!   one backend request. Each caller keeps its own deadline; if the request
//!   it waits for is cancelled, it sends its own.
//! - **Settled buckets.** A `Total`, `Rank` (where the backend ranks cheaply
//!   from buckets: VictoriaLogs) or `Buckets` step is asked as per-bucket sums
//!   at a grain ([`parts::bucketed`]): 10 min for totals, 1 h per group for
//!   rankings, the panel's step for series. Buckets wholly inside the range
//!   that ended more than `cacheSettleMinutes` ago are kept ([`BucketCache`],
//!   at most `cacheMaxMiB` per datasource, least recently used dropped
//!   first); a later query asks only what is not kept: the range's leading
//!   edge and the unsettled tail. The answer is rebuilt from the buckets
//!   exactly as the backend would have computed it ([`parts::finish`]).
//! - **Rollups.** With a rollup store ([`crate::rollups`]) and a rule for
//!   the question, each part the cache lacks is split: its longest run of
//!   whole buckets whose every interval was evaluated is read from the
//!   store, the rest from the backend; a ranking by any number of fields is
//!   asked as buckets. A store that fails leaves its part to the backend,
//!   with a notice; the frames say which part came from rollups.
//!
//! What is stale, and for how long: a record stored more than the settle
//! time after its own timestamp is missed by a bucket already kept, until
//! that bucket is dropped (memory cap, the datasource saved, the plugin
//! restarted). A query with `cache: false` reads everything from the backend.

mod cache;
mod gather;
pub mod parts;
mod ranked;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

pub use cache::{Bucket, BucketCache};

use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{FlowQuery, Format, TimeRange};
use crate::plan::{Key, Step, StepOutput, Value};
use crate::rollups::{RollupStore, Rule};
use crate::settings::Settings;
use crate::source::{Backend, Deadline};

/// A step's answer: the query text executed, the output, notices.
pub type Answer = (String, StepOutput, Vec<String>);

type InFlight = watch::Receiver<Option<Result<Answer, QueryError>>>;

/// One datasource's reuse of answers.
#[derive(Debug)]
pub struct Reuse {
    cache: Option<BucketCache>,
    settle_ms: i64,
    in_flight: Mutex<HashMap<String, InFlight>>,
    gather: gather::Gather,
    /// The rollup store, if the settings name one.
    rollups: Option<Arc<dyn RollupStore>>,
}

/// Removes a request from the in-flight map when its sender finishes or is
/// cancelled.
struct Leading<'a> {
    map: &'a Mutex<HashMap<String, InFlight>>,
    key: &'a str,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.map.lock().expect("in-flight lock").remove(self.key);
    }
}

impl Reuse {
    /// Reuse as the settings ask: the cache's cap and settle time, and the
    /// rollup store.
    pub fn new(settings: &Settings, rollups: Option<Arc<dyn RollupStore>>) -> Self {
        Self {
            rollups,
            cache: (settings.cache_max_bytes > 0).then(|| BucketCache::new(settings.cache_max_bytes)),
            settle_ms: settings.cache_settle_ms,
            in_flight: Mutex::default(),
            gather: gather::Gather::new(settings.coalesce_window),
        }
    }

    /// Whether settled buckets are kept at all (`cacheMaxMiB` above 0).
    pub fn caches(&self) -> bool {
        self.cache.is_some()
    }

    /// The rollup store, if the settings name one.
    pub fn rollups(&self) -> Option<&Arc<dyn RollupStore>> {
        self.rollups.as_ref()
    }

    /// Bytes the cache holds, about.
    pub fn cached_bytes(&self) -> usize {
        self.cache.as_ref().map_or(0, BucketCache::bytes)
    }

    /// Answers one step: from settled buckets where it can, from rollups
    /// for the evaluated part of what is left, else (or for the rest) from
    /// the backend.
    pub async fn run(
        &self,
        backend: &Backend,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<Answer, QueryError> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let question = canonical(q);
        // The question's rule at each resolution, coarsest first.
        let rolled: Vec<Rolled> = self
            .rollups
            .iter()
            .filter(|_| q.cache)
            .flat_map(|store| {
                let rules = store.resolutions_ms().iter().rev();
                rules
                    .filter_map(|r| crate::rollups::rule(backend, target, &question, *r))
                    .map(move |rule| (store, rule))
            })
            .collect();
        // A ranking the store cannot rank is answered as without rollups
        // (not as buckets of every group), with what was said about it.
        let (rolled, said) = match step {
            Step::Rank { limit } if !rolled.is_empty() && *limit <= ranked::MAX_TOP => {
                match self.rank_from_rollups(backend, target, q, *limit, &rolled, now_ms, deadline).await? {
                    Ok(answer) => return Ok(answer),
                    Err(said) => (Vec::new(), said),
                }
            }
            _ => (rolled, Vec::new()),
        };
        let (text, output, notices) =
            self.answer(backend, target, q, step, &question, rolled, now_ms, deadline).await?;
        Ok((text, output, said.into_iter().chain(notices).collect()))
    }

    /// Answers one step from settled buckets, the rules' rollups and the
    /// backend: [`Reuse::run`] once it has chosen the rules.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        backend: &Backend,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        question: &FlowQuery,
        rolled: Vec<Rolled<'_>>,
        now_ms: i64,
        deadline: Deadline,
    ) -> Result<Answer, QueryError> {
        let settled_before = now_ms - self.settle_ms;
        let ranks = backend.capabilities().ranks_from_buckets || !rolled.is_empty();
        let Some((grain, as_buckets)) = parts::bucketed(q, step, ranks, !rolled.is_empty()) else {
            return self.shared(backend, target, q, step, deadline).await;
        };
        let cache = self.cache.as_ref().filter(|_| q.cache && q.range.from_ms + grain <= settled_before);
        let rolled = dividing(rolled, grain);
        if cache.is_none() && rolled.is_empty() {
            return self.shared(backend, target, q, step, deadline).await;
        }
        let id = format!("{}|{grain}|{as_buckets:?}|{question:?}", backend.product());
        let range = q.range;
        let mut cached = cache.map(|c| c.get(&id, range.from_ms, range.to_ms)).unwrap_or_default();
        cached.retain(|start, _| start + grain <= range.to_ms);
        let todo = parts::parts(range, grain, cached.keys().copied()).unwrap_or_else(|| {
            cached.clear();
            vec![range]
        });
        let (sources, mut notices) = split_for_rollups(&rolled, todo, grain, now_ms, deadline, backend.product()).await;
        if !sources.iter().any(|s| matches!(s, Part::Rollup(..)))
            && (cache.is_none() || parts::bucketed(q, step, backend.capabilities().ranks_from_buckets, false).is_none())
        {
            // Nothing from rollups, and the step is not one to ask as buckets.
            let (text, output, more) = self.shared(backend, target, q, step, deadline).await?;
            return Ok((text, output, notices.into_iter().chain(more).collect()));
        }
        let asks = sources.iter().map(|source| {
            let (as_buckets, rolled) = (&as_buckets, &rolled);
            async move {
                let from_log = |part: TimeRange| {
                    let pq = FlowQuery { range: part, step_ms: grain, ..q.clone() };
                    async move { self.shared(backend, target, &pq, as_buckets, deadline).await }
                };
                match *source {
                    Part::Log(part) => from_log(part).await.map(|a| (part, a, false)),
                    Part::Rollup(part, i) => {
                        let (store, rule) = &rolled[i];
                        let (grouped, keys) = match as_buckets {
                            Step::Buckets { grouped, keys } => (*grouped, keys.as_deref()),
                            _ => (false, None),
                        };
                        match store.buckets(rule, grouped, keys, part, grain, deadline).await {
                            Ok((text, got)) => Ok((
                                part,
                                (rollup_text(store.as_ref(), rule, part, &text), StepOutput::Buckets(got), Vec::new()),
                                true,
                            )),
                            // Evaluated, but not readable now: the log store.
                            Err(e) => from_log(part).await.map(|(text, output, mut more)| {
                                more.push(not_read(&e, backend.product()));
                                (part, (text, output, more), false)
                            }),
                        }
                    }
                }
            }
        });
        let answers = futures_util::future::try_join_all(asks).await?;
        let rolled_parts: Vec<TimeRange> = answers.iter().filter(|a| a.2).map(|a| a.0).collect();
        if let Some(covered) = rollup_notice(&rolled_parts, backend.product()) {
            notices.push(covered);
        }

        let mut buckets = parts::Buckets::new();
        let mut texts = Vec::new();
        for (part, (text, output, more), _) in answers {
            let StepOutput::Buckets(got) = output else {
                return Err(QueryError::plugin("internal error: a bucketed step answered without buckets"));
            };
            if let Some(cache) = cache {
                // Each key once, shared by the settled buckets it is in.
                let mut keep: BTreeMap<i64, Vec<(Arc<Key>, Value)>> =
                    parts::settled(part, grain, settled_before).map(|start| (start, Vec::new())).collect();
                for (key, b) in &got {
                    let key = Arc::new(key.clone());
                    for (start, bucket) in keep.iter_mut() {
                        if let Some(v) = b.get(start) {
                            bucket.push((key.clone(), *v));
                        }
                    }
                }
                cache.put(&id, keep.into_iter().map(|(start, bucket)| (start, Bucket::from(bucket))));
            }
            parts::add(&mut buckets, got);
            texts.push(text);
            notices.extend(more);
        }
        if let (Some(first), Some(last)) = (cached.keys().next(), cached.keys().next_back()) {
            if texts.is_empty() {
                // Nothing was sent: show the question the buckets answer.
                let whole = FlowQuery { step_ms: grain, ..q.clone() };
                texts.push(backend.render_step(target, &whole, &as_buckets));
            }
            texts.push(format!(
                "-- and {} settled buckets of {} from {} to {} from the datasource's cache",
                cached.len(),
                crate::time::duration(grain),
                crate::time::rfc3339(*first),
                crate::time::rfc3339(last + grain),
            ));
        }
        for (start, bucket) in cached {
            for (key, v) in bucket.iter() {
                // The key is copied only for a group not seen yet.
                if !buckets.contains_key(key.as_ref()) {
                    buckets.insert(Key::clone(key), BTreeMap::new());
                }
                *buckets.get_mut(key.as_ref()).expect("inserted").entry(start).or_default() += v;
            }
        }
        Ok((texts.join("\n\n"), parts::finish(step, buckets), notices))
    }

    /// Runs a request on the backend, or waits for the identical one in
    /// flight.
    async fn shared(
        &self,
        backend: &Backend,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<Answer, QueryError> {
        let key = match step {
            // The panel's shape does not change these answers.
            Step::Total | Step::Buckets { .. } if q.raw_query.is_none() => {
                format!("{step:?}|{:?}", FlowQuery { range: q.range, step_ms: q.step_ms, ..canonical(q) })
            }
            _ => format!("{step:?}|{:?}", FlowQuery { ref_id: String::new(), ..q.clone() }),
        };
        loop {
            let (waiting, leading) = {
                let mut map = self.in_flight.lock().expect("in-flight lock");
                match map.get(&key) {
                    Some(rx) => (Some(rx.clone()), None),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        map.insert(key.clone(), rx);
                        (None, Some(tx))
                    }
                }
            };
            if let Some(tx) = leading {
                let _leading = Leading { map: &self.in_flight, key: &key };
                let answer = self.gather.run(backend, target, q, step, deadline).await;
                let _ = tx.send(Some(answer.clone()));
                return answer;
            }
            let Some(mut rx) = waiting else { continue };
            let waited = tokio::time::timeout(deadline.remaining(), async {
                rx.wait_for(Option::is_some).await.ok().and_then(|answer| answer.clone())
            })
            .await;
            match waited {
                Ok(Some(answer)) => return answer,
                Ok(None) => continue, // the request was cancelled: send our own
                Err(_) => return Err(timed_out(backend, deadline)),
            }
        }
    }
}

/// The error of a caller whose deadline passed while it waited.
fn timed_out(backend: &Backend, deadline: Deadline) -> QueryError {
    QueryError::downstream(
        504,
        format!(
            "{} did not answer within {}s; narrow the time range or raise timeoutSeconds",
            backend.product(),
            deadline.budget().as_secs()
        ),
    )
}

/// Where a part of a range is read from.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// The log store.
    Log(TimeRange),
    /// The rollup store, with the rule at this index of the candidates.
    Rollup(TimeRange, usize),
}

/// A rollup store and a question's rule in it (one per resolution).
type Rolled<'a> = (&'a Arc<dyn RollupStore>, Rule);

/// The rules whose resolution divides `grain` (each bucket whole intervals).
fn dividing(rolled: Vec<Rolled<'_>>, grain: i64) -> Vec<Rolled<'_>> {
    rolled.into_iter().filter(|(_, rule)| grain % rule.resolution_ms == 0).collect()
}

/// The run of whole buckets in `part` that rollups cover, if any.
async fn rollup_run(
    store: &dyn RollupStore,
    rule: &Rule,
    part: TimeRange,
    grain: i64,
    now_ms: i64,
    deadline: Deadline,
) -> Result<Option<TimeRange>, QueryError> {
    let first = parts::ceil(part.from_ms, grain);
    let end = part.to_ms.min(now_ms - crate::rollups::LATENCY_MS);
    let last = end - end.rem_euclid(grain);
    if last - first < grain {
        return Ok(None);
    }
    let aligned = TimeRange { from_ms: first, to_ms: last };
    let evaluations = store.evaluations(rule, aligned, grain, deadline).await?;
    Ok(crate::rollups::covered_run(&evaluations, aligned, grain, rule.resolution_ms))
}

/// Each part split into its evaluated run of whole buckets (from rollups:
/// the longest of the rules' runs, the first rule's, the coarsest, on a
/// tie) and the rest (from the log store); a store that cannot say which
/// buckets it holds leaves the part to the log store, with a notice.
async fn split_for_rollups(
    rolled: &[Rolled<'_>],
    todo: Vec<TimeRange>,
    grain: i64,
    now_ms: i64,
    deadline: Deadline,
    product: &str,
) -> (Vec<Part>, Vec<String>) {
    let (mut sources, mut notices) = (Vec::new(), Vec::new());
    for part in todo {
        let mut best: Option<(TimeRange, usize)> = None;
        for (i, (store, rule)) in rolled.iter().enumerate() {
            match rollup_run(store.as_ref(), rule, part, grain, now_ms, deadline).await {
                Ok(Some(run)) => {
                    let longer = |b: &(TimeRange, usize)| run.to_ms - run.from_ms > b.0.to_ms - b.0.from_ms;
                    if best.as_ref().is_none_or(longer) {
                        best = Some((run, i));
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    notices.push(not_read(&e, product));
                    best = None;
                    break;
                }
            }
        }
        match best {
            Some((run, i)) => {
                let edges = [TimeRange { to_ms: run.from_ms, ..part }, TimeRange { from_ms: run.to_ms, ..part }];
                sources.extend(edges.into_iter().filter(|p| p.from_ms < p.to_ms).map(Part::Log));
                sources.push(Part::Rollup(run, i));
            }
            None => sources.push(Part::Log(part)),
        }
    }
    (sources, notices)
}

/// The notice of a rollup store's failure.
fn not_read(e: &QueryError, product: &str) -> String {
    format!("Rollups not read ({}); these numbers come from {product}.", e.message)
}

/// What the query inspector shows for a part read from rollups.
fn rollup_text(store: &dyn RollupStore, rule: &Rule, part: TimeRange, query: &str) -> String {
    format!(
        "-- {} from {} to {}, rollups of {}:\n{query}",
        store.product(),
        crate::time::rfc3339(part.from_ms),
        crate::time::rfc3339(part.to_ms),
        crate::time::duration(rule.resolution_ms)
    )
}

/// The frames' notice of which parts came from rollups.
fn rollup_notice(parts: &[TimeRange], product: &str) -> Option<String> {
    let runs: Vec<String> = parts
        .iter()
        .map(|r| format!("{} to {}", crate::time::rfc3339(r.from_ms), crate::time::rfc3339(r.to_ms)))
        .collect();
    (!runs.is_empty()).then(|| format!("From rollups: {}; the rest of the range from {product}.", runs.join(", ")))
}

/// The query as a bucketed question, whatever its range and panel shape:
/// what identifies its buckets in the cache and its rollup rule.
pub fn canonical(q: &FlowQuery) -> FlowQuery {
    FlowQuery {
        ref_id: String::new(),
        format: Format::Series,
        limit: None,
        other: false,
        rate: false,
        share: false,
        alerting: false,
        // Cost is priced bytes: the same buckets.
        metric: q.metric.asked(),
        range: TimeRange { from_ms: 0, to_ms: 0 },
        step_ms: 0,
        cache: true,
        ..q.clone()
    }
}

#[cfg(test)]
mod tests;
