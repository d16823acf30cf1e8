//! Property tests: hostile values are data, never query syntax. A real
//! VictoriaLogs is loaded once per test with records whose values (and, for
//! fields parsed at ingest, whose field names) are hostile: quotes,
//! backslashes, `|`, backticks, newlines, NUL, unicode, long strings. Then
//! generated queries (filters `=`, `!=`, `=~`, `!~`, cidr, range,
//! direction-relative fields, group-by keys, interface ids, stream
//! selectors) run through `Datasource::query` in process, and some through
//! the plugin binary over gRPC. Each answer must be exactly what a direct
//! computation over the loaded records gives, group keys byte for byte, and
//! the query text for a hostile value must be the text for a plain value
//! with only the string literal changed.
//!
//! One module per kind of hostile input: `parsed_fields` (values in
//! filters, group keys and interface ids, under hostile log field names),
//! `raw_lines` (hostile tokens in raw lines, stream label values in the
//! selector, quotes across skipped fields), `regexes` (what RE2 accepts and
//! means). What they share: `fixtures` (the loaded records), `strategies`
//! (the generated cases), `oracle` (what a case must answer) and `checks`
//! (a case run and compared).

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod fixtures;
mod oracle;
mod parsed_fields;
mod raw_lines;
mod regexes;
mod strategies;

use flowlens::datasource::Datasource;
use flowlens::model::{Request, TimeRange};
use flowlens::settings::{InstanceSettings, Settings};
use serde_json::Value;

/// 2026-11-20T00:00:00Z, one hour.
pub const FROM_MS: i64 = 1_795_132_800_000;
pub const TO_MS: i64 = FROM_MS + 3_600_000;
pub const INTERVAL_MS: i64 = 60_000;
pub const INSIDE: [&str; 2] = ["10.0.32.0/20", "2001:db8:32::/48"];
/// VictoriaLogs' default `-search.maxQueryLen`.
pub const MAX_QUERY_LEN: usize = 16_384;

/// Addresses in the records: inside and outside both inside networks, at
/// their edges, IPv6 in several spellings, and strings that are no address.
/// (No leading-zero IPv4 forms: VictoriaLogs reads `010.0.32.5` as an
/// address, AWS never writes one.)
pub const ADDRESSES: &[&str] = &[
    "10.0.32.0",
    "10.0.32.1",
    "10.0.32.15",
    "10.0.40.7",
    "10.0.47.255",
    "10.0.31.255",
    "10.0.48.0",
    "110.0.32.1",
    "52.216.8.5",
    "0.0.0.0",
    "255.255.255.255",
    "2001:db8:32::1",
    "2001:db8:32:ffff::7",
    "2001:DB8:32::2",
    "2001:db8:33::1",
    "2600:1f18:4a3:6900::1",
    "::1",
    "::ffff:10.0.32.7",
    "10.0.32.5 ",
    "x\"y|z",
    "-",
];
pub const PORTS: [u64; 7] = [0, 22, 53, 443, 1024, 8080, 65535];

pub fn request() -> Request {
    Request { range: TimeRange { from_ms: FROM_MS, to_ms: TO_MS }, interval_ms: INTERVAL_MS, max_data_points: 1_000 }
}

pub fn datasource(url: &str, json_data: &Value) -> Datasource {
    let bytes = serde_json::to_vec(json_data).unwrap();
    let settings = Settings::from_instance(&InstanceSettings { url, json_data: &bytes, ..Default::default() })
        .unwrap_or_else(|e| panic!("settings {json_data}: {e}"));
    Datasource::new(settings).unwrap()
}

pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}
