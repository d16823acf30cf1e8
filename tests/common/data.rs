//! The end-to-end fixture: one fixed day of generated flow records, loaded
//! into a VictoriaLogs three ways (raw mission-format lines, raw default-v2
//! lines, fields parsed at ingest).
#![allow(dead_code)] // each test crate uses a different part

use std::sync::OnceLock;

use flowlens_devtools::gen::{generate, FlowRecord, GenConfig, DEFAULT_V2_FORMAT, MISSION_FORMAT};
use flowlens_devtools::load::Loader;

/// 2026-11-20T00:00:00Z.
pub const FROM_MS: i64 = 1_795_132_800_000;
/// 24 hours later (exclusive).
pub const TO_MS: i64 = FROM_MS + 86_400_000;
pub const NAT_ENI: &str = "eni-0352f8c82da6aa229";
pub const POD_CIDR: &str = "10.0.32.0/20";

/// Raw mission-format lines, as Lambda Promtail pushes them.
pub const RAW_STREAM: [(&str, &str); 4] =
    [("logtype", "flow"), ("environment", "ops"), ("logger_type", "vpc"), ("component", "devops")];
/// The same records as raw default version-2 lines.
pub const V2_STREAM: [(&str, &str); 4] =
    [("logtype", "flow"), ("environment", "v2"), ("logger_type", "vpc"), ("component", "devops")];
/// The same records with fields parsed at ingest (names from [`field_name`]).
pub const FIELDS_STREAM: [(&str, &str); 2] = [("logtype", "flowfields"), ("environment", "ops")];

/// Log field names of the fields stream that differ from the canonical
/// names: the names of the mission's `extract` pattern. A datasource in
/// `fields` mode needs this as its `fieldMapping`.
pub const FIELD_MAPPING: [(&str, &str); 6] = [
    ("srcaddr", "src_addr"),
    ("dstaddr", "dst_addr"),
    ("srcport", "src_port"),
    ("dstport", "dst_port"),
    ("pkt_srcaddr", "pkt_src_addr"),
    ("pkt_dstaddr", "pkt_dst_addr"),
];

/// The log field name of a canonical field in the fields stream.
pub fn field_name(canonical: &str) -> String {
    FIELD_MAPPING.iter().find(|(c, _)| *c == canonical).map_or(canonical, |(_, name)| name).to_string()
}

/// The fixture's generator config: seed 42, 20 000 connections.
pub fn config() -> GenConfig {
    GenConfig {
        seed: 42,
        from_ms: FROM_MS,
        to_ms: TO_MS,
        connections: 20_000,
        nat_eni: NAT_ENI.to_string(),
        pod_cidr: POD_CIDR.to_string(),
        pods: 300,
        remotes: 3000,
    }
}

/// The fixture's records, generated once per test binary.
/// The start of the week that ends with the fixture's day.
pub const WEEK_FROM_MS: i64 = FROM_MS - 6 * 86_400_000;

/// The fixture's day and six generated days before it (30,000 connections,
/// seed 43), oldest first.
pub fn week_records() -> Vec<FlowRecord> {
    let before = GenConfig { seed: 43, from_ms: WEEK_FROM_MS, to_ms: FROM_MS, connections: 30_000, ..config() };
    let mut records: Vec<FlowRecord> = generate(&before).into_iter().chain(records().iter().cloned()).collect();
    records.sort_by_key(|r| r.time_ms);
    records
}

/// `records` with records on bucket edges: every 7th moved to the
/// 10-minute boundary at or before it, every 11th to the millisecond before
/// the next one (whole-second stamps put many records on edges), re-sorted.
pub fn on_edges(records: &[FlowRecord]) -> Vec<FlowRecord> {
    let mut out: Vec<FlowRecord> = records.to_vec();
    for (i, r) in out.iter_mut().enumerate() {
        let boundary = r.time_ms - r.time_ms.rem_euclid(600_000);
        if i % 7 == 0 {
            r.time_ms = boundary;
        } else if i % 11 == 0 {
            r.time_ms = boundary + 599_999;
        }
    }
    out.sort_by_key(|r| r.time_ms);
    out
}

pub fn records() -> &'static [FlowRecord] {
    static RECORDS: OnceLock<Vec<FlowRecord>> = OnceLock::new();
    RECORDS.get_or_init(|| generate(&config()))
}

/// What [`load`] pushed.
pub struct Loaded {
    pub records: &'static [FlowRecord],
    /// Lines in [`RAW_STREAM`], header lines included.
    pub raw_lines: usize,
    /// Lines in [`V2_STREAM`], header lines included.
    pub v2_lines: usize,
    /// Log entries in [`FIELDS_STREAM`] (one per record).
    pub field_entries: usize,
}

/// Load the fixture into the VictoriaLogs at `url` and make it searchable.
pub async fn load(url: &str) -> Loaded {
    load_into(url, &[url.to_string()]).await
}

/// Load the fixture through `insert_url`, then force a flush on each of
/// `flush_urls` in order (for a cluster: `VlCluster::flush_urls`).
pub async fn load_into(insert_url: &str, flush_urls: &[String]) -> Loaded {
    let records = records();
    let loader = Loader::new(insert_url);
    let (raw, v2, fields) = tokio::join!(
        loader.push_raw(records, MISSION_FORMAT, &RAW_STREAM),
        loader.push_raw(records, DEFAULT_V2_FORMAT, &V2_STREAM),
        loader.push_fields(records, &FIELDS_STREAM, &field_name),
    );
    for url in flush_urls {
        Loader::new(url).force_flush().await.expect("force flush");
    }
    Loaded {
        records,
        raw_lines: raw.expect("push raw mission lines"),
        v2_lines: v2.expect("push raw v2 lines"),
        field_entries: fields.expect("push parsed fields"),
    }
}

/// A datasource on the raw mission-format stream, configured as the user
/// would: stream selector, the 19-field format, the pod CIDR, the NAT ENI and
/// a data link on the remote address.
pub fn raw_instance(url: &str, uid: &str) -> super::harness::Instance {
    super::harness::Instance {
        url: url.into(),
        uid: uid.into(),
        json_data: serde_json::json!({
            "streamSelector": "{logtype=\"flow\", environment=\"ops\"}",
            "recordFormat": MISSION_FORMAT,
            "insideCidrs": [POD_CIDR],
            "interfaceId": NAT_ENI,
            "dataLinks": [{"field": "pkt_srcaddr", "title": "Who is ${__value.raw}", "url": "https://ipinfo.io/${__value.raw}"}],
        }),
        ..Default::default()
    }
}

/// A datasource on the fields-at-ingest stream: `recordMode: fields` with
/// [`FIELD_MAPPING`], the pod CIDR and the NAT ENI.
pub fn fields_instance(url: &str) -> super::harness::Instance {
    let mapping: serde_json::Map<String, serde_json::Value> =
        FIELD_MAPPING.iter().map(|(c, f)| (c.to_string(), serde_json::json!(f))).collect();
    super::harness::Instance {
        url: url.into(),
        uid: "fields".into(),
        json_data: serde_json::json!({
            "streamSelector": "{logtype=\"flowfields\"}",
            "recordMode": "fields",
            "fieldMapping": mapping,
            "insideCidrs": [POD_CIDR],
            "interfaceId": NAT_ENI,
        }),
        ..Default::default()
    }
}
