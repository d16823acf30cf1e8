//! A Prometheus-compatible store of rollups (VictoriaMetrics, Prometheus,
//! Mimir): PromQL ([`promql`], pure) on `/api/v1/query_range`. It answers
//! only what [`crate::rollups::RollupStore`] asks: which intervals a rule
//! evaluated, and its sums per bucket.

pub mod promql;

use std::collections::BTreeMap;

use crate::error::QueryError;
use crate::model::TimeRange;
use crate::plan::{BucketMap, Key, Value};
use crate::rollups::{RollupSettings, RollupStore, Rule, Stamps, Totals};
use crate::settings::Settings;
use crate::source::budget::{key_bytes, Budget, ENTRY};
use crate::source::{Deadline, HttpClient, Product};

/// How messages name the store and its concurrency settings.
const PRODUCT: Product = Product {
    name: "the rollup store",
    concurrency: "-search.maxConcurrentRequests",
    queueing: "the rollup store's -search.maxConcurrentRequests or -search.maxQueueDuration",
};

/// How messages name the names' store.
const STORE: Product = Product {
    name: "the kube_pod_info store",
    concurrency: "-search.maxConcurrentRequests",
    queueing: "the store's -search.maxConcurrentRequests or -search.maxQueueDuration",
};

/// A rollup store's client.
#[derive(Debug)]
pub struct Prometheus {
    http: HttpClient,
    /// `maxQueryMemoryMiB` in bytes: an answer's body and its buckets count
    /// against it, as the log stores' do.
    memory: usize,
    resolutions_ms: Vec<i64>,
    stamps: Stamps,
}

impl Prometheus {
    /// A client for the settings' rollup store (its URL and credentials,
    /// the datasource's TLS settings, timeout and request slots).
    pub fn open(settings: &Settings, rollups: &RollupSettings) -> Result<Self, QueryError> {
        let store =
            Settings { url: rollups.url.clone(), auth: rollups.auth.clone(), headers: Vec::new(), ..settings.clone() };
        Ok(Self {
            http: HttpClient::new(&store, PRODUCT)?,
            memory: settings.max_query_memory_bytes,
            resolutions_ms: rollups.resolutions_ms.clone(),
            stamps: rollups.stamps,
        })
    }

    /// A client for another Prometheus-compatible store at `url` (the
    /// names' `kube_pod_info` store), with the datasource's TLS settings,
    /// timeout and memory budget.
    pub fn open_store(settings: &Settings, url: url::Url, auth: crate::settings::Auth) -> Result<Self, QueryError> {
        let store = Settings { url, auth, headers: Vec::new(), ..settings.clone() };
        Ok(Self {
            http: HttpClient::new(&store, STORE)?,
            memory: settings.max_query_memory_bytes,
            resolutions_ms: Vec::new(),
            stamps: Stamps::Start,
        })
    }

    /// A range query's matrix over the buckets of `grain` in `part` (a
    /// point stamped `t` is the bucket starting `t - grain`), keyed by
    /// `labels`.
    pub async fn presence(
        &self,
        query: &str,
        labels: &[String],
        part: TimeRange,
        grain: i64,
        deadline: Deadline,
    ) -> Result<BucketMap, QueryError> {
        self.matrix(query, labels, &[], part, grain, deadline).await
    }

    /// One range query over the buckets of `grain` in `part`.
    async fn matrix(
        &self,
        query: &str,
        labels: &[String],
        no_value: &[&str],
        part: TimeRange,
        grain: i64,
        deadline: Deadline,
    ) -> Result<BucketMap, QueryError> {
        let times = [("start", secs(part.from_ms + grain)), ("end", secs(part.to_ms)), ("step", secs(grain))];
        let budget = Budget::new(self.memory);
        let body = self.ask("/api/v1/query_range", query, &times, &budget, deadline).await?;
        let parsed = promql::parse_matrix(&body, labels, no_value, grain).map_err(|e| self.bad_answer(query, &e))?;
        budget.give(body.capacity());
        for (key, buckets) in &parsed {
            budget.take(key_bytes(key) + buckets.len() * ENTRY)?;
        }
        Ok(parsed)
    }
}

impl Prometheus {
    /// One query API request: `query` at `times`, the store's caches
    /// bypassed; its body, counted against `budget`.
    async fn ask(
        &self,
        path: &str,
        query: &str,
        times: &[(&'static str, String)],
        budget: &Budget,
        deadline: Deadline,
    ) -> Result<Vec<u8>, QueryError> {
        let mut form = vec![
            ("query", query.to_string()),
            // VictoriaMetrics: no results cache (a replay rewrites the past).
            ("nocache", "1".to_string()),
            // VictoriaMetrics: points of the last `-search.latencyOffset`
            // (30 s) are otherwise replaced by the point before them
            // (app/vmselect/prometheus/prometheus.go `adjustLastPoints`,
            // `getLatencyOffsetMilliseconds`); a rollup point is complete
            // once written. Other stores ignore the parameter.
            ("latency_offset", "1ms".to_string()),
        ];
        form.extend(times.iter().cloned());
        self.http.post_form(path, &form, deadline).await?.bytes_within(Some(budget)).await
    }

    /// The error of an answer that is not what the query API gives.
    fn bad_answer(&self, query: &str, e: &str) -> QueryError {
        QueryError::downstream(502, format!("the rollup store's answer to {query}: {}", self.http.scrub(e)))
    }

    /// Fails unless the rule's newest points in `part` (up to 60) are
    /// stamped on the resolution's grid: each point must stand for one whole
    /// interval of it. A rule engine that evaluates off the grid (a
    /// Prometheus-style ruler offsets each group by a hash of its name,
    /// `rules/group.go` `EvalTimestamp`; vmalert with `eval_alignment:
    /// false` or `eval_offset`) writes sums of other windows: read raw.
    async fn check_grid(&self, rule: &Rule, part: TimeRange, deadline: Deadline) -> Result<(), QueryError> {
        let resolution = rule.resolution_ms;
        let span = (part.to_ms - part.from_ms).min(60 * resolution);
        let query = promql::evaluation_points(rule, span);
        let at = part.to_ms - 1 + if self.stamps == Stamps::End { 1 } else { 0 };
        let budget = Budget::new(self.memory);
        let body = self.ask("/api/v1/query", &query, &[("time", secs(at))], &budget, deadline).await?;
        let stamps = promql::parse_stamps(&body).map_err(|e| self.bad_answer(&query, &e))?;
        match stamps.iter().find(|t| t.rem_euclid(resolution) != 0) {
            None => Ok(()),
            Some(t) => Err(QueryError::downstream(
                502,
                format!(
                    "the rule's points are not on the {} grid (one stamped {}): its rule engine evaluates off the \
                     interval boundaries, so its sums are not whole intervals",
                    crate::time::duration(resolution),
                    crate::time::rfc3339(*t)
                ),
            )),
        }
    }
}

/// A time in the query API's seconds, to the millisecond.
fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[async_trait::async_trait]
impl RollupStore for Prometheus {
    fn product(&self) -> &'static str {
        PRODUCT.name
    }

    fn resolutions_ms(&self) -> &[i64] {
        &self.resolutions_ms
    }

    async fn evaluations(
        &self,
        rule: &Rule,
        part: TimeRange,
        grain: i64,
        deadline: Deadline,
    ) -> Result<BTreeMap<i64, u64>, QueryError> {
        let query = promql::evaluations(rule, grain, self.stamps);
        let got = self.matrix(&query, &[], &[], part, grain, deadline).await?;
        let counts = got.into_values().next().unwrap_or_default();
        if counts.values().any(|n| *n > 0) {
            self.check_grid(rule, part, deadline).await?;
        }
        Ok(counts)
    }

    async fn buckets(
        &self,
        rule: &Rule,
        grouped: bool,
        keys: Option<&[Key]>,
        part: TimeRange,
        grain: i64,
        deadline: Deadline,
    ) -> Result<(String, BucketMap), QueryError> {
        let query = promql::values(rule, grouped, keys, grain, self.stamps);
        let labels = if grouped { rule.labels.as_slice() } else { &[] };
        let mut got = self.matrix(&query, labels, rule.no_value, part, grain, deadline).await?;
        if let Some(keys) = keys {
            got.retain(|key, _| keys.contains(key));
        }
        Ok((query, got))
    }

    async fn totals(
        &self,
        rule: &Rule,
        run: TimeRange,
        select: Totals,
        deadline: Deadline,
    ) -> Result<(String, Vec<(Key, Value)>), QueryError> {
        let query = promql::totals(rule, run.to_ms - run.from_ms, self.stamps, select);
        let budget = Budget::new(self.memory);
        let body = self.ask("/api/v1/query", &query, &[("time", secs(run.to_ms))], &budget, deadline).await?;
        let parsed =
            promql::parse_vector(&body, &rule.labels, rule.no_value).map_err(|e| self.bad_answer(&query, &e))?;
        budget.give(body.capacity());
        for (key, _) in &parsed {
            budget.take(key_bytes(key) + ENTRY)?;
        }
        Ok((query, parsed))
    }
}
