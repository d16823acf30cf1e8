//! Loki's query frontend in front of the LogQL model: what a default Loki 3
//! deployment (the query frontend in front of the queriers, TSDB index,
//! results cache) does to a metric query between the HTTP API and the
//! engine. Modelled from Loki's source (grafana/loki, v3.0.0 to v3.5.0);
//! each behaviour names the file and function it follows. Loki itself is
//! AGPL and not run here: the contract server (`loki_contract.rs`) answers
//! through this model, so the plugin meets these behaviours over HTTP.
//!
//! - **Split by interval** (`pkg/querier/queryrange/split_by_interval.go`,
//!   `splitMetricByTime`): a range query's `start` is aligned down and its
//!   `end` up to multiples of the step, then cut into sub-queries at
//!   multiples of `split_queries_by_interval`; each step time is evaluated
//!   by exactly one sub-query, whose answers are concatenated.
//! - **Sharding** (`pkg/logql/downstream.go`, `DownstreamEngine`; even at
//!   shard factor 0 `shardmapper.go` returns a `ConcatSampleExpr`): the
//!   sub-query's points go through `MatrixStepEvaluator.Next`
//!   (`pkg/logql/matrix.go`), which emits a series' next point only at the
//!   step time equal to its stamp and never advances past one that is not:
//!   a series stamped off the step grid yields nothing.
//! - **Results cache** (`queryrangebase/results_cache.go`, `Extract`;
//!   `resultscache/cache.go`): an extent given back from the cache is
//!   clipped to `start <= T <= end` (ms) of the request it answers; the
//!   model answers every request as a cache hit does, so what a refresh
//!   after the first one sees is what the test sees. For instant metric
//!   queries (`cache_instant_metric_results`) `start = end = time`.
//! - **Split instant queries** (`pkg/logql/rangemapper.go`, `RangeMapper`,
//!   `split_instant_metric_queries_by_interval`): an instant metric query
//!   whose range is longer than the interval is evaluated in pieces of the
//!   interval, newest first; a `sum` right above the range aggregation is
//!   pushed down into each piece, a `count` is not, so a piece below a
//!   `count` holds one series per label set of its records. Each piece, and
//!   each shard, is refused above `max_query_series`
//!   (`pkg/logql/engine.go`, `ErrMaxSeriesHit` wording as in
//!   `loki_contract.rs`).
#![allow(dead_code)] // each test crate uses a different part

use super::logql_model::{Refusal, Series, Store};

/// What the frontend does; [`Frontend::NONE`] is a querier asked directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frontend {
    /// `split_queries_by_interval` in ms (0: off). Loki 3's default: 1 h.
    pub split_ms: i64,
    /// Query sharding (`parallelise_shardable_queries`, on by default).
    pub sharding: bool,
    /// `cache_results` and `cache_instant_metric_results`.
    pub results_cache: bool,
    /// `split_instant_metric_queries_by_interval` in ms (0: off).
    pub instant_split_ms: i64,
    /// `max_query_series` per sub-query or shard (Loki's default 500).
    pub max_query_series: Option<usize>,
    /// Re-introduces the plugin's old windows on the server's side: every
    /// `offset 1ms` is read as `offset 1ns`, and an instant query's `time`
    /// 999,999 ns earlier (its window's end), as the plugin asked before
    /// its fix. For tests that the self-check catches such a backend.
    pub old_offset: bool,
}

impl Frontend {
    /// No frontend: the engine's answer as it is.
    pub const NONE: Frontend = Frontend {
        split_ms: 0,
        sharding: false,
        results_cache: false,
        instant_split_ms: 0,
        max_query_series: None,
        old_offset: false,
    };

    /// A default Loki 3 (the Helm chart's): split by 1 h, sharding on, the
    /// results cache on, instant queries split by 1 h, 500 series.
    pub const LOKI3: Frontend = Frontend {
        split_ms: 3_600_000,
        sharding: true,
        results_cache: true,
        instant_split_ms: 3_600_000,
        max_query_series: Some(500),
        old_offset: false,
    };

    /// A range metric query through the frontend.
    pub fn range(
        &self,
        store: &Store,
        query: &str,
        start_ns: i64,
        end_ns: i64,
        step_ns: i64,
    ) -> Result<Series, Refusal> {
        let query = &self.rewritten(query);
        if *self == Frontend::NONE {
            return store.metric(query, start_ns, end_ns, step_ns);
        }
        // `splitMetricByTime`: start aligned down, end up, to the step.
        let step = step_ns.max(1);
        let start = start_ns - start_ns.rem_euclid(step);
        let end = if end_ns.rem_euclid(step) == 0 { end_ns } else { end_ns + step - end_ns.rem_euclid(step) };
        let mut out = Series::new();
        for (from, to) in self.sub_queries(start, end, step) {
            let mut answer = store.metric(query, from, to, step)?;
            if self.sharding {
                answer = step_matched(answer, from, to, step);
            }
            if self.results_cache {
                clip(&mut answer, from, to);
            }
            for (labels, points) in answer {
                out.entry(labels).or_default().extend(points);
            }
        }
        out.retain(|_, points| !points.is_empty());
        Ok(out)
    }

    /// An instant metric query through the frontend.
    pub fn instant(&self, store: &Store, query: &str, time_ns: i64) -> Result<Series, Refusal> {
        let query = &self.rewritten(query);
        let time_ns = if self.old_offset && query.contains(" offset 1ns") { time_ns - 999_999 } else { time_ns };
        self.check_pieces(store, query, time_ns, self.instant_split_ms)?;
        let mut answer = store.metric(query, time_ns, time_ns, 0)?;
        if self.results_cache {
            clip(&mut answer, time_ns, time_ns);
            answer.retain(|_, points| !points.is_empty());
        }
        Ok(answer)
    }

    /// The query as the engine reads it ([`Frontend::old_offset`]).
    fn rewritten(&self, query: &str) -> String {
        if self.old_offset {
            query.replace(" offset 1ms", " offset 1ns")
        } else {
            query.to_string()
        }
    }

    /// The step-time spans of a range query's sub-queries: each holds the
    /// step times between two multiples of the split interval.
    fn sub_queries(&self, start: i64, end: i64, step: i64) -> Vec<(i64, i64)> {
        if self.split_ms <= 0 {
            return vec![(start, end)];
        }
        let interval = self.split_ms * 1_000_000;
        let mut spans = Vec::new();
        let mut from = start;
        while from <= end {
            let boundary = (from.div_euclid(interval) + 1) * interval;
            // The last step time before the next boundary (at least `from`).
            let last = (from + ((boundary - 1 - from) / step) * step).min(end).max(from);
            spans.push((from, last));
            from = last + step;
        }
        spans
    }

    /// Refuses a query one of whose pieces (instant split pieces of
    /// `split_ms`, newest first, or the whole window when sharded) holds
    /// more than `max_query_series` series.
    fn check_pieces(&self, store: &Store, query: &str, time_ns: i64, split_ms: i64) -> Result<(), Refusal> {
        let Some(max) = self.max_query_series else { return Ok(()) };
        if !self.sharding && split_ms <= 0 {
            return Ok(());
        }
        let Ok(super::logql_syntax::Query::Metric(expr)) = super::logql_syntax::parse(query) else { return Ok(()) };
        let agg = expr.range();
        let window_end = time_ns - agg.offset_ns;
        let window_start = window_end - agg.range_ns;
        let piece = if split_ms > 0 { split_ms * 1_000_000 } else { agg.range_ns.max(1) };
        let mut to = window_end;
        while to > window_start {
            let from = (to - piece).max(window_start);
            if store.piece_series(query, from, to)? > max {
                return Err(Refusal {
                    status: 400,
                    message: format!(
                        "maximum number of series ({max}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()"
                    ),
                });
            }
            to = from;
        }
        Ok(())
    }
}

/// `MatrixStepEvaluator.Next`: at each step time, a series' first remaining
/// point is emitted when it is stamped exactly then (and consumed);
/// otherwise the series has nothing at that step and keeps the point.
fn step_matched(answer: Series, from: i64, to: i64, step: i64) -> Series {
    answer
        .into_iter()
        .map(|(labels, points)| {
            let mut kept = Vec::new();
            let mut next = 0;
            let mut t = from;
            while t <= to {
                if points.get(next).is_some_and(|p| p.0 == t.div_euclid(1_000_000)) {
                    kept.push(points[next]);
                    next += 1;
                }
                t += step;
            }
            (labels, kept)
        })
        .collect()
}

/// `Extract`: the points stamped in `[start, end]`, in ms.
fn clip(answer: &mut Series, from_ns: i64, to_ns: i64) {
    let (lo, hi) = (from_ns.div_euclid(1_000_000), to_ns.div_euclid(1_000_000));
    for points in answer.values_mut() {
        points.retain(|p| (lo..=hi).contains(&p.0));
    }
}
