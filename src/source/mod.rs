//! The seam between the core and the log stores. [`Source`] is all the
//! core (datasource, plan, reuse, frames, health) sees of a backend: it
//! renders a step in the backend's language, runs it, and says what the
//! backend can do ([`Capabilities`]) and what its failures likely mean.
//! Each backend is a folder under `src/backends/` that implements it; the
//! registry (`backends::open`) is the only place that names them.
//!
//! What every backend shares lives here too. [`HttpClient`] (`http.rs`):
//! base URL, auth, extra headers, TLS, errors that say whether the backend,
//! the network or the credentials are at fault (with the backend's own text
//! and never a secret), and the resource bounds of one datasource:
//!
//! - at most `maxConcurrentRequests` requests at once ([`HttpClient::post_form`]
//!   waits for a slot; the wait counts against the query's [`Deadline`] and
//!   ends when the query is cancelled);
//! - an overloaded backend (HTTP 503 or 429) is asked again with exponential
//!   backoff and jitter while the deadline allows;
//! - answers are read as they stream, with at most [`MAX_LINE_BYTES`] per line
//!   and [`MAX_RESPONSE_BYTES`] per answer ([`Answer`]); error bodies are read
//!   up to [`MAX_ERROR_TEXT`] bytes.
//!
//! [`budget`] counts the memory a query's answers hold.

mod answer;
pub mod budget;
mod deadline;
mod http;
mod secrets;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use answer::{Answer, MAX_LINE_BYTES, MAX_RESPONSE_BYTES};
pub use deadline::Deadline;
pub use http::{HttpClient, Product, MAX_ERROR_TEXT};
pub use secrets::Secrets;

use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{FlowQuery, TimeRange};
use crate::plan::{Record, Step, StepOutput};
use crate::selector::StreamSelector;

/// A datasource's backend, as the core holds it.
pub type Backend = Arc<dyn Source>;

/// One step run: the query text executed (every request's, one per line),
/// the step's output and notices for its frames (how the answer was
/// obtained, when that is worth saying).
pub type Ran = (String, StepOutput, Vec<String>);

/// What a backend can do, which the core plans around.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// A ranking is as cheap asked as per-group buckets (one pass groups by
    /// time and key), so a ranking's buckets may be cached and re-ranked.
    pub ranks_from_buckets: bool,
    /// Settled buckets are kept only after the backend passed its
    /// self-check ([`crate::consistency`]): for backends whose answers pass
    /// through layers that differ between deployments (Loki's query
    /// frontend).
    pub checks_itself_before_caching: bool,
}

/// A log store flowlens can ask flow questions of.
#[async_trait::async_trait]
pub trait Source: Send + Sync + std::fmt::Debug {
    /// The product's name, for messages ("VictoriaLogs").
    fn product(&self) -> &'static str;

    /// What the backend can do.
    fn capabilities(&self) -> Capabilities;

    /// The query text users see for one step (the step's main request).
    fn render_step(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String;

    /// Runs one step before the deadline.
    async fn run(&self, target: &Target<'_>, q: &FlowQuery, step: &Step, deadline: Deadline)
        -> Result<Ran, QueryError>;

    /// The expression of a rule that sums `q` (a question as
    /// [`crate::reuse::canonical`] gives it: no range, no panel shape) per
    /// interval of `resolution_ms`, in this store's query language as a
    /// rule engine evaluates it (a question's rollup, [`crate::rollups`]),
    /// with the label names of its group fields. `None` when this store has
    /// no rule engine or the question cannot be one (its group fields are
    /// no label names).
    fn rule_expr(&self, _target: &Target<'_>, _q: &FlowQuery, _resolution_ms: i64) -> Option<crate::rollups::RuleExpr> {
        None
    }

    /// The expression of the rule that counts the stream's records per
    /// interval, written beside every value rule: its points say which
    /// intervals were evaluated.
    fn evaluated_expr(&self, _target: &Target<'_>, _resolution_ms: i64) -> Option<String> {
        None
    }

    /// What questions must share to be answered by one scan
    /// ([`Source::run_coalesced`]); `None` when this one cannot be.
    fn coalesce_key(&self, _target: &Target<'_>, _q: &FlowQuery, _step: &Step) -> Option<String> {
        None
    }

    /// Answers several questions with one key from [`Source::coalesce_key`]
    /// in one scan: each its own output, in order.
    async fn run_coalesced(
        &self,
        _target: &Target<'_>,
        _qs: &[FlowQuery],
        _step: &Step,
        _deadline: Deadline,
    ) -> Result<Vec<Ran>, QueryError> {
        Err(QueryError::plugin(format!("internal error: {} answers one question per query", self.product())))
    }

    /// The fields of a sampled record, by log field name, for the health
    /// check.
    fn record_fields(&self, record: &Record) -> BTreeMap<String, String> {
        record.labels.to_map()
    }

    /// Whether the backend says it is ready to answer.
    async fn ready(&self, _deadline: Deadline) -> Result<(), QueryError> {
        Ok(())
    }

    /// What an empty answer to [`Step::Streams`] over `range` (the last
    /// `span`) means, for Save & test.
    async fn no_streams_hint(
        &self,
        _stream: &StreamSelector,
        _range: TimeRange,
        span: &str,
        _deadline: Deadline,
    ) -> Result<String, QueryError> {
        Ok(format!("the database holds no logs from the last {span}"))
    }

    /// A problem the newest records show with these settings, for Save &
    /// test (Loki: entries stamped inside a millisecond).
    fn sample_problem(&self, _sample: &[Record]) -> Option<String> {
        None
    }

    /// What a failed self-check most likely means; `empty` when the
    /// backend answered nothing where the records hold something.
    fn likely_cause(&self, _empty: bool) -> String {
        "a proxy or cache in front of the store changes the answers".into()
    }

    /// The backend as itself, for tools that use what only it has.
    fn as_any(&self) -> &dyn std::any::Any;
}
