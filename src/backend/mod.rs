//! Backend clients (I/O). [`Backend`] is the seam the datasource runs
//! plans through: it renders a step in the backend's language and runs it,
//! whichever backend the settings name. Nothing outside `backend/` and
//! `dialect/` asks which one. [`HttpClient`] (`http.rs`) carries what every
//! backend shares: base URL, auth, extra headers, TLS, errors that say
//! whether the backend, the network or the credentials are at fault (with
//! the backend's own text and never a secret), and the resource bounds of
//! one datasource:
//!
//! - at most `maxConcurrentRequests` requests at once ([`HttpClient::post_form`]
//!   waits for a slot; the wait counts against the query's [`Deadline`] and
//!   ends when the query is cancelled);
//! - an overloaded backend (HTTP 503 or 429) is asked again with exponential
//!   backoff and jitter while the deadline allows;
//! - answers are read as they stream, with at most [`MAX_LINE_BYTES`] per line
//!   and [`MAX_RESPONSE_BYTES`] per answer ([`Answer`]); error bodies are read
//!   up to [`MAX_ERROR_TEXT`] bytes.

pub mod budget;
mod http;
pub mod loki;
pub mod victorialogs;

pub use http::{Answer, Deadline, HttpClient, Secrets, MAX_ERROR_TEXT, MAX_LINE_BYTES, MAX_RESPONSE_BYTES};

use crate::dialect::logql::LogQl;
use crate::dialect::logsql::LogsQl;
use crate::dialect::{Dialect, Target};
use crate::error::QueryError;
use crate::model::FlowQuery;
use crate::plan::{Record, Step, StepOutput};
use crate::settings::{BackendKind, Settings};

/// The log database a datasource talks to, with its query language.
#[derive(Debug, Clone)]
pub enum Backend {
    /// VictoriaLogs (LogsQL, `/select/logsql/*`).
    VictoriaLogs(victorialogs::VictoriaLogs),
    /// Grafana Loki (LogQL, `/loki/api/v1/*`).
    Loki(loki::Loki),
}

impl Backend {
    /// The backend the settings name, with a client for their URL and
    /// credentials.
    pub fn new(settings: &Settings) -> Result<Self, QueryError> {
        Ok(match settings.backend {
            BackendKind::Victorialogs => Self::VictoriaLogs(victorialogs::VictoriaLogs::new(
                HttpClient::new(settings, "VictoriaLogs")?,
                settings.max_query_memory_bytes,
            )),
            BackendKind::Loki => Self::Loki(loki::Loki::new(
                HttpClient::new(settings, "Loki")?,
                LogQl::of(settings),
                settings.max_query_memory_bytes,
            )),
        })
    }

    /// The product's name, for messages.
    pub fn product(&self) -> &'static str {
        match self {
            Self::VictoriaLogs(_) => "VictoriaLogs",
            Self::Loki(_) => "Loki",
        }
    }

    /// Whether a ranking is as cheap asked as per-group buckets (VictoriaLogs
    /// groups by time and key in one pass); Loki's would return a series per
    /// group and bucket, over its series limit.
    pub fn ranks_from_buckets(&self) -> bool {
        matches!(self, Self::VictoriaLogs(_))
    }

    /// Whether settled buckets are kept only after the backend passed its
    /// self-check ([`crate::consistency`]): Loki, whose query frontend
    /// (sharding, splitting, results cache) differs between deployments and
    /// versions and has changed answers before; VictoriaLogs answers its
    /// queries itself, checked against the reference by the tests.
    pub fn checks_itself_before_caching(&self) -> bool {
        matches!(self, Self::Loki(_))
    }

    /// The query text users see for one step (LogsQL, or the LogQL of the
    /// step's main request).
    pub fn render_step(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String {
        match self {
            Self::VictoriaLogs(_) => LogsQl.render(target, q, step),
            Self::Loki(loki) => loki.dialect().render(target, q, step),
        }
    }

    /// Runs one step before the deadline: the query text executed (every
    /// request's, one per line), the step's output and notices for its frames
    /// (how the answer was obtained, when that is worth saying).
    pub async fn run(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<(String, StepOutput, Vec<String>), QueryError> {
        match self {
            Self::VictoriaLogs(vl) => {
                let text = LogsQl.render(target, q, step);
                let output = vl.run(q, target.schema, step, &text, deadline).await?;
                Ok((text, output, Vec::new()))
            }
            Self::Loki(loki) => loki.run(target, q, step, deadline).await,
        }
    }

    /// What questions must share to be answered by one scan
    /// ([`Backend::run_coalesced`]); `None` when this one cannot be (Loki:
    /// one aggregate per query).
    pub fn coalesce_key(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> Option<String> {
        match self {
            Self::VictoriaLogs(_) => LogsQl::coalesce_key(target, q, step),
            Self::Loki(_) => None,
        }
    }

    /// Answers several questions with one key from [`Backend::coalesce_key`]
    /// in one scan: each its own output, in order, with the query executed
    /// and which of its answers is the question's.
    pub async fn run_coalesced(
        &self,
        target: &Target<'_>,
        qs: &[FlowQuery],
        step: &Step,
        deadline: Deadline,
    ) -> Result<Vec<(String, StepOutput, Vec<String>)>, QueryError> {
        let Self::VictoriaLogs(vl) = self else {
            return Err(QueryError::plugin("internal error: Loki answers one question per query"));
        };
        let text = LogsQl::render_coalesced(target, qs, step);
        let outputs = vl.run_columns(step, qs.len(), &text, deadline).await?;
        Ok(outputs
            .into_iter()
            .enumerate()
            .map(|(i, output)| {
                let answer = match step {
                    Step::Buckets { grouped: true, .. } => {
                        format!("the {} rows starting {i}[", crate::dialect::logsql::UNROLLED)
                    }
                    _ => crate::dialect::logsql::column(i),
                };
                let note =
                    format!("-- one scan for {} questions of this refresh; this one's answer: {answer}", qs.len());
                (format!("{text}\n{note}"), output, Vec::new())
            })
            .collect())
    }

    /// The fields of a sampled record, by log field name, for the health
    /// check: what the backend returned, plus, for Loki's JSON and logfmt
    /// lines, the fields of the line itself (its queries extract only the
    /// fields they need).
    pub fn record_fields(&self, record: &Record) -> std::collections::BTreeMap<String, String> {
        match self {
            Self::VictoriaLogs(_) => record.labels.to_map(),
            Self::Loki(loki) => loki.record_fields(record),
        }
    }

    /// Whether the backend says it is ready to answer (Loki's `/ready`);
    /// VictoriaLogs answers queries as soon as it listens.
    pub async fn ready(&self, deadline: Deadline) -> Result<(), QueryError> {
        match self {
            Self::VictoriaLogs(_) => Ok(()),
            Self::Loki(loki) => loki.ready(deadline).await,
        }
    }

    /// What an empty answer to [`crate::plan::Step::Streams`] over `range`
    /// (the last `span`) means: VictoriaLogs lists every stream, so it holds
    /// none; Loki lists the streams that hold a label of the selector, so
    /// none has one, and its `/labels` says which labels there are.
    pub async fn no_streams_hint(
        &self,
        stream: &crate::selector::StreamSelector,
        range: crate::model::TimeRange,
        span: &str,
        deadline: Deadline,
    ) -> Result<String, QueryError> {
        match self {
            Self::VictoriaLogs(_) => Ok(format!("the database holds no logs from the last {span}")),
            Self::Loki(loki) => {
                let mut labels: Vec<&str> = stream.matchers.iter().map(|m| m.label.as_str()).collect();
                labels.dedup();
                let names = loki.label_names(range, deadline).await?;
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
        }
    }

    /// The Loki client, for tools that compare Loki's own answers.
    pub fn loki(&self) -> Option<&loki::Loki> {
        match self {
            Self::VictoriaLogs(_) => None,
            Self::Loki(loki) => Some(loki),
        }
    }

    /// The VictoriaLogs client, for tools that send LogsQL of their own.
    pub fn victorialogs(&self) -> Option<&victorialogs::VictoriaLogs> {
        match self {
            Self::VictoriaLogs(vl) => Some(vl),
            Self::Loki(_) => None,
        }
    }
}
