//! Grafana Loki: LogQL ([`logql`], pure: requests, pipelines, merging) on
//! `/loki/api/v1/*` ([`client`]), through the query frontend every real
//! deployment runs (modelled in `tests/common/loki_frontend.rs`).

mod answer;
pub mod client;
mod errors;
pub mod logql;
pub mod settings;

pub use answer::{answer_of, parse_answer};

pub use client::Loki;

use std::collections::BTreeMap;

use crate::dialect::{Dialect, Target};
use crate::error::QueryError;
use crate::model::{FlowQuery, TimeRange};
use crate::plan::{Record, Step};
use crate::selector::StreamSelector;
use crate::settings::Settings;
use crate::source::{Capabilities, Deadline, HttpClient, Product, Ran, Source};
use logql::LogQl;
use settings::LokiTimestamps;

/// How messages name Loki and its concurrency settings.
const PRODUCT: Product = Product {
    name: "Loki",
    concurrency: "querier max_concurrent",
    queueing: "Loki's max_outstanding_requests_per_tenant (query frontend or scheduler) or its querier max_concurrent",
};

impl Loki {
    /// A client for the settings' URL and credentials, with the dialect
    /// their Loki settings ask for.
    pub fn open(settings: &Settings) -> Result<Self, QueryError> {
        Ok(Self::new(
            HttpClient::new(settings, PRODUCT)?,
            LogQl::of(settings).map_err(|e| QueryError::plugin(e.to_string()))?,
            settings.max_query_memory_bytes,
        ))
    }
}

#[async_trait::async_trait]
impl Source for Loki {
    fn product(&self) -> &'static str {
        PRODUCT.name
    }

    /// A ranking from buckets would be a series per group and bucket, over
    /// Loki's series limit; the query frontend (sharding, splitting,
    /// results cache) differs between deployments and versions and has
    /// changed answers before, so buckets are kept only once it passed the
    /// self-check.
    fn capabilities(&self) -> Capabilities {
        Capabilities { ranks_from_buckets: false, checks_itself_before_caching: true }
    }

    fn render_step(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String {
        self.dialect().render(target, q, step)
    }

    async fn run(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<Ran, QueryError> {
        Loki::run(self, target, q, step, deadline).await
    }

    /// Rules for a Prometheus-style rule engine asking Loki's query API
    /// (vmalert `type: prometheus` with `-datasource.url=<Loki>/loki`).
    fn rule_expr(&self, target: &Target<'_>, q: &FlowQuery, resolution_ms: i64) -> Option<crate::rollups::RuleExpr> {
        self.dialect().render_rule(target, q, resolution_ms)
    }

    fn evaluated_expr(&self, target: &Target<'_>, resolution_ms: i64) -> Option<String> {
        LogQl::render_evaluated(target, resolution_ms)
    }

    /// Its labels, and for JSON and logfmt lines the fields of the line
    /// itself (its queries extract only the fields they need).
    fn record_fields(&self, record: &Record) -> BTreeMap<String, String> {
        Loki::record_fields(self, record)
    }

    /// Loki's `/ready`.
    async fn ready(&self, deadline: Deadline) -> Result<(), QueryError> {
        Loki::ready(self, deadline).await
    }

    /// Loki lists the streams that hold a label of the selector, so none
    /// has one; its `/labels` says which labels there are.
    async fn no_streams_hint(
        &self,
        stream: &StreamSelector,
        range: TimeRange,
        span: &str,
        deadline: Deadline,
    ) -> Result<String, QueryError> {
        let mut labels: Vec<&str> = stream.matchers.iter().map(|m| m.label.as_str()).collect();
        labels.dedup();
        let names = self.label_names(range, deadline).await?;
        Ok(if names.is_empty() {
            format!("Loki holds no streams from the last {span}")
        } else {
            format!(
                "no stream of the last {span} has the label {}; the labels it has: {}",
                labels.join(" or "),
                names.join(", ")
            )
        })
    }

    /// Entries stamped inside a millisecond, which range queries read one
    /// bucket late unless `lokiTimestamps` says so ([`logql`], "Exact
    /// windows").
    fn sample_problem(&self, sample: &[Record]) -> Option<String> {
        if self.dialect().timestamps == LokiTimestamps::Nanoseconds {
            return None;
        }
        let inside = sample.iter().find(|r| r.time_ns.rem_euclid(1_000_000) != 0)?;
        Some(format!(
            "The newest records are stamped inside a millisecond (one at {} ns): range queries through Loki's query \
             frontend can only read whole milliseconds, so set Timestamps (loki.timestamps) to \"nanoseconds\" (each bucket is then \
             its own instant query) or stamp records on whole milliseconds at ingest",
            inside.time_ns
        ))
    }

    fn likely_cause(&self, empty: bool) -> String {
        if empty {
            "Loki's query frontend dropped the range query's points: they are stamped off the step grid, which the \
             sharded merge and the results cache discard (a Loki version or a proxy that stamps `offset` queries \
             otherwise than Loki 3 does)"
                .into()
        } else {
            "entries stamped inside a millisecond are read one bucket late by range queries; if the shipper stamps \
             entries with nanoseconds, set Timestamps (loki.timestamps) to \"nanoseconds\" (each bucket its own instant query); \
             otherwise a query frontend or proxy changes the answers"
                .into()
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
