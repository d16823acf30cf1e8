//! Per-query errors that say who is at fault: the query or settings (plugin)
//! or the log database (downstream).

/// Who caused an error, as Grafana's error source distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The query or the datasource settings are invalid.
    Plugin,
    /// The backend failed, refused, timed out or could not be reached.
    Downstream,
}

/// An error for one query (refId); other queries of the request still run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// Who is at fault.
    pub origin: ErrorSource,
    /// HTTP-like status for Grafana: 400 bad query, 502 backend error,
    /// 504 backend timeout, 422 backend limit.
    pub status: u16,
    /// What went wrong and what would be valid.
    pub message: String,
}

impl QueryError {
    /// An invalid query or setting.
    pub fn plugin(message: impl Into<String>) -> Self {
        Self { origin: ErrorSource::Plugin, status: 400, message: message.into() }
    }

    /// A backend failure with a status.
    pub fn downstream(status: u16, message: impl Into<String>) -> Self {
        Self { origin: ErrorSource::Downstream, status, message: message.into() }
    }

    /// A fault of the plugin itself (an answer its plan should have
    /// produced): status 500, the plugin's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            origin: ErrorSource::Plugin,
            status: 500,
            message: format!("flowlens internal error: {}", message.into()),
        }
    }
}
