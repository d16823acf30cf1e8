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
//!
//! What is stale, and for how long: a record stored more than the settle
//! time after its own timestamp is missed by a bucket already kept, until
//! that bucket is dropped (memory cap, the datasource saved, the plugin
//! restarted). A query with `cache: false` reads everything from the backend.

mod cache;
mod gather;
pub mod parts;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

pub use cache::{Bucket, BucketCache};

use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{FlowQuery, Format, TimeRange};
use crate::plan::{Key, Step, StepOutput, Value};
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
    /// Reuse as the settings ask: the cache's cap and settle time.
    pub fn new(settings: &Settings) -> Self {
        Self {
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

    /// Bytes the cache holds, about.
    pub fn cached_bytes(&self) -> usize {
        self.cache.as_ref().map_or(0, BucketCache::bytes)
    }

    /// Answers one step: from settled buckets where it can, else (or for the
    /// rest) from the backend.
    pub async fn run(
        &self,
        backend: &Backend,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<Answer, QueryError> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let settled_before = now_ms - self.settle_ms;
        let bucketed = parts::bucketed(q, step, backend.capabilities().ranks_from_buckets)
            .filter(|(grain, _)| q.range.from_ms + grain <= settled_before);
        let (Some(cache), Some((grain, as_buckets)), true) = (&self.cache, bucketed, q.cache) else {
            return self.shared(backend, target, q, step, deadline).await;
        };
        let id = format!("{}|{grain}|{as_buckets:?}|{:?}", backend.product(), canonical(q));
        let range = q.range;
        let mut cached = cache.get(&id, range.from_ms, range.to_ms);
        cached.retain(|start, _| start + grain <= range.to_ms);
        let todo = parts::parts(range, grain, cached.keys().copied()).unwrap_or_else(|| {
            cached.clear();
            vec![range]
        });
        let asks = todo.iter().map(|part| {
            let pq = FlowQuery { range: *part, step_ms: grain, ..q.clone() };
            let as_buckets = &as_buckets;
            async move { self.shared(backend, target, &pq, as_buckets, deadline).await.map(|a| (pq.range, a)) }
        });
        let answers = futures_util::future::try_join_all(asks).await?;

        let mut buckets = parts::Buckets::new();
        let (mut texts, mut notices) = (Vec::new(), Vec::new());
        for (part, (text, output, more)) in answers {
            let StepOutput::Buckets(got) = output else {
                return Err(QueryError::plugin("internal error: a bucketed step answered without buckets"));
            };
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

/// The query as a bucketed question, whatever its range and panel shape:
/// what identifies its buckets in the cache.
fn canonical(q: &FlowQuery) -> FlowQuery {
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
