//! VictoriaLogs: LogsQL ([`logsql`], pure) on `/select/logsql/*` ([`client`]).
//! Single node and cluster `vlselect` serve the same API.

pub mod client;
pub mod logsql;

pub use client::VictoriaLogs;

use crate::dialect::{Dialect, Target};
use crate::error::QueryError;
use crate::model::FlowQuery;
use crate::plan::Step;
use crate::settings::Settings;
use crate::source::{Capabilities, Deadline, HttpClient, Product, Ran, Source};
use logsql::LogsQl;

/// How messages name VictoriaLogs and its concurrency settings.
const PRODUCT: Product = Product {
    name: "VictoriaLogs",
    concurrency: "-search.maxConcurrentRequests",
    queueing: "VictoriaLogs's -search.maxConcurrentRequests or -search.maxQueueDuration",
};

impl VictoriaLogs {
    /// A client for the settings' URL and credentials.
    pub fn open(settings: &Settings) -> Result<Self, QueryError> {
        Ok(Self::new(HttpClient::new(settings, PRODUCT)?, settings.max_query_memory_bytes))
    }
}

#[async_trait::async_trait]
impl Source for VictoriaLogs {
    fn product(&self) -> &'static str {
        PRODUCT.name
    }

    /// Groups by time and key in one pass, so rankings come from buckets;
    /// answers its queries itself (no frontend between), so no self-check.
    fn capabilities(&self) -> Capabilities {
        Capabilities { ranks_from_buckets: true, checks_itself_before_caching: false }
    }

    fn render_step(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String {
        LogsQl.render(target, q, step)
    }

    async fn run(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<Ran, QueryError> {
        let text = LogsQl.render(target, q, step);
        let output = VictoriaLogs::run(self, q, target.schema, step, &text, deadline).await?;
        Ok((text, output, Vec::new()))
    }

    /// vmalert's `type: vlogs` rules: the interval is the group's, added
    /// by vmalert as the time filter.
    fn rule_expr(&self, target: &Target<'_>, q: &FlowQuery, _resolution_ms: i64) -> Option<crate::rollups::RuleExpr> {
        let labels = q.group_by.iter().map(|f| target.schema.log_field(f).to_string()).collect();
        LogsQl::render_rule(target, q).map(|expr| crate::rollups::RuleExpr { expr, labels, no_value: &[] })
    }

    fn evaluated_expr(&self, target: &Target<'_>, _resolution_ms: i64) -> Option<String> {
        Some(LogsQl::render_evaluated(target))
    }

    fn coalesce_key(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> Option<String> {
        LogsQl::coalesce_key(target, q, step)
    }

    async fn run_coalesced(
        &self,
        target: &Target<'_>,
        qs: &[FlowQuery],
        step: &Step,
        deadline: Deadline,
    ) -> Result<Vec<Ran>, QueryError> {
        let text = LogsQl::render_coalesced(target, qs, step);
        let outputs = self.run_columns(step, qs.len(), &text, deadline).await?;
        Ok(outputs
            .into_iter()
            .enumerate()
            .map(|(i, output)| {
                let answer = match step {
                    Step::Buckets { grouped: true, .. } => format!("the {} rows starting {i}[", logsql::UNROLLED),
                    _ => logsql::column(i),
                };
                let note =
                    format!("-- one scan for {} questions of this refresh; this one's answer: {answer}", qs.len());
                (format!("{text}\n{note}"), output, Vec::new())
            })
            .collect())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
