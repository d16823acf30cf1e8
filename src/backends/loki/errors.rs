//! Loki's errors are plain text (`pkg/util/server/error.go` writes the
//! message with its status): the limits a panel can hit are recognised by
//! their wording and turned into errors that name the limit, the value and
//! what to change.

use super::logql::{LokiRequest, MAX_ENTRIES};
use crate::error::QueryError;

/// Loki's limit errors, by their documented wording (Loki answers them as
/// plain text with HTTP 400, timeouts with 504 or 499), as errors that name
/// the limit, the value and what to change. Anything else is passed on.
pub fn limit_error(e: QueryError, request: &LokiRequest) -> QueryError {
    let said = loki_said(&e);
    let between = |start: &str, end: &str| -> Option<String> {
        let from = said.find(start)? + start.len();
        let len = said[from..].find(end)?;
        Some(said[from..from + len].trim().to_string())
    };
    let limit = |message: String| QueryError::downstream(422, format!("{message}. Loki said: {said}"));
    if let Some(n) = series_limit(&e) {
        return series_error(
            &n,
            &said,
            "flowlens ranks a grouping in disjoint parts when Loki refuses it whole, but this query is no ranking",
        );
    }
    if said.contains("max entries limit per query exceeded") {
        let (asked, max) = between("(", ")")
            .and_then(|p| p.split_once('>').map(|(a, b)| (a.trim().to_string(), b.trim().to_string())))
            .unwrap_or_else(|| (request.param("limit").unwrap_or("?").to_string(), "?".into()));
        return limit(format!(
            "Loki refused the log query: it asks for {asked} lines, over Loki's max_entries_limit_per_query \
             ({max}). flowlens pages log queries by at most {MAX_ENTRIES} lines: raise max_entries_limit_per_query \
             to at least {MAX_ENTRIES} in Loki's limits_config, or lower the panel's limit to at most {max}"
        ));
    }
    if said.contains("the query time range exceeds the limit") {
        let length = between("query length: ", ",").unwrap_or_else(|| "?".into());
        let max = between("limit: ", ")").unwrap_or_else(|| "?".into());
        return limit(format!(
            "Loki refused the query: its time range ({length}) is longer than Loki's max_query_length ({max}). \
             Choose a time range of at most {max}, raise max_query_length in Loki's limits_config, or set this \
             datasource's Split interval (loki.splitInterval; flowlens splits metric queries into sub-ranges that long and reads \
             logs newest sub-range first; 0 turns it off)"
        ));
    }
    if said.contains("would read too many bytes") {
        let max = between("limit: ", ")").unwrap_or_else(|| "?".into());
        return limit(format!(
            "Loki refused the query: it would read more than Loki's max_query_bytes_read ({max}). Narrow the time \
             range, the stream selector or add filters, or raise max_query_bytes_read in Loki's limits_config"
        ));
    }
    let timed_out = e.message.starts_with("Loki failed (HTTP 504)")
        || e.message.starts_with("Loki failed (HTTP 499)")
        || ["context deadline exceeded", "request timed out", "query timed out"].iter().any(|t| said.contains(t));
    if timed_out && e.message.starts_with("Loki") && e.message.contains("(HTTP ") {
        return QueryError::downstream(
            504,
            format!(
                "Loki stopped the query at its query timeout: narrow the time range or add filters, or raise \
                 Loki's limits_config query_timeout (and server http_server_write_timeout) and this \
                 datasource's timeoutSeconds. Loki said: {said}"
            ),
        );
    }
    e
}

pub(super) fn loki_said(e: &QueryError) -> String {
    e.message.split_once("): ").map_or(e.message.as_str(), |(_, text)| text).to_string()
}

/// The `N` of Loki's series-limit error ("maximum number of series (N)
/// reached for a single query", formerly "maximum of series (N) ..."), or
/// `None` for any other error.
pub fn series_limit(e: &QueryError) -> Option<String> {
    let said = loki_said(e);
    if !(said.contains("reached for a single query") && said.contains("series (")) {
        return None;
    }
    let from = said.find("series (")? + "series (".len();
    let len = said[from..].find(')')?;
    Some(said[from..from + len].trim().to_string())
}

/// Loki's `max_query_series` refusal as an error that names the limit and
/// what to change; `why` says why flowlens could not rank in parts.
pub(super) fn series_error(n: &str, said: &str, why: &str) -> QueryError {
    QueryError::downstream(
        422,
        format!(
            "Loki refused the query: it reached Loki's series limit, max_query_series = {n} (a `sum by` over the \
             whole range counts every group, even when only the top N are shown); {why}. Group by fewer or coarser \
             fields, add filters or narrow the time range so that fewer than {n} groups remain, or raise \
             max_query_series in Loki's limits_config (per tenant in its runtime overrides). Loki said: {said}"
        ),
    )
}
