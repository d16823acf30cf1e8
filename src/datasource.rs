//! One configured datasource: validated settings plus its backend client.
//! Runs a query's plan step by step (render, execute, follow up) and shapes
//! the frames. The same path serves Grafana, the CLI and the tests.

use crate::backend::victorialogs::VictoriaLogs;
use crate::backend::{Deadline, HttpClient};
use crate::dialect::logsql::LogsQl;
use crate::dialect::{Dialect, Target};
use crate::error::QueryError;
use crate::frame::Frame;
use crate::model::FlowQuery;
use crate::plan::{first_step, follow_up, Step, StepOutput};
use crate::settings::{BackendKind, Settings};

/// A datasource ready to answer queries.
#[derive(Debug, Clone)]
pub struct Datasource {
    /// Its settings.
    pub settings: Settings,
    client: VictoriaLogs,
}

impl Datasource {
    /// Builds the datasource; fails for settings no backend can serve.
    pub fn new(settings: Settings) -> Result<Self, QueryError> {
        if settings.backend == BackendKind::Loki {
            return Err(QueryError::plugin(
                "datasource settings: the Loki backend is not available in this build; use backend `victorialogs`",
            ));
        }
        let client = VictoriaLogs::new(HttpClient::new(&settings, "VictoriaLogs")?);
        Ok(Self { settings, client })
    }

    /// The client, for health checks and resource calls.
    pub fn client(&self) -> &VictoriaLogs {
        &self.client
    }

    fn target(&self) -> Target<'_> {
        Target { stream: &self.settings.stream, schema: &self.settings.schema }
    }

    /// The query text of one step.
    pub fn render_step(&self, q: &FlowQuery, step: &Step) -> String {
        LogsQl.render(&self.target(), q, step)
    }

    /// The backend queries a query starts with (later steps depend on the
    /// answers; they are shown in the frames' executed query string).
    pub fn render(&self, q: &FlowQuery) -> Vec<String> {
        vec![self.render_step(q, &first_step(q))]
    }

    /// Runs a step within the datasource's timeout from now.
    pub async fn run_step(&self, q: &FlowQuery, step: &Step) -> Result<(String, StepOutput), QueryError> {
        self.run_step_within(q, step, Deadline::after(self.settings.timeout)).await
    }

    /// Runs a step before a deadline.
    pub async fn run_step_within(
        &self,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<(String, StepOutput), QueryError> {
        let text = self.render_step(q, step);
        let output = self.client.run(q, &self.settings.schema, step, &text, deadline).await?;
        Ok((text, output))
    }

    /// Answers a query with frames. All of its steps (their waits for a
    /// request slot, retries and answers) share one deadline: the
    /// datasource's timeout.
    pub async fn query(&self, q: &FlowQuery) -> Result<Vec<Frame>, QueryError> {
        let deadline = Deadline::after(self.settings.timeout);
        let (text, first) = self.run_step_within(q, &first_step(q), deadline).await?;
        let mut executed = vec![text];
        let mut outputs = vec![first];
        for step in follow_up(q, &outputs[0]) {
            let (text, output) = self.run_step_within(q, &step, deadline).await?;
            executed.push(text);
            outputs.push(output);
        }
        Ok(crate::frames::shape(q, &self.settings, &outputs, &executed.join("\n\n")))
    }
}
