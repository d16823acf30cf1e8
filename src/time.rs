//! Timestamps as the backends write them (RFC 3339) and as frames carry
//! them (ns or ms since the epoch). Pure.

use chrono::{SecondsFormat, TimeZone, Utc};

/// RFC 3339 to ns since the epoch.
pub fn parse_time_ns(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok()?.timestamp_nanos_opt()
}

/// ms since the epoch as RFC 3339 in UTC, with as many fraction digits as
/// needed (`2026-11-30T00:00:00Z`, `...T00:00:00.5Z`).
pub fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// ms as a Prometheus duration (what LogQL's `[range]` accepts, and how
/// messages write a step): the largest whole unit of `h`, `m`, `s`, `ms`.
pub fn duration(ms: i64) -> String {
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}
