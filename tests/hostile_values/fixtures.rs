//! The records the properties run on, loaded into a real VictoriaLogs:
//! fields parsed at ingest under hostile log field names, and raw lines
//! with hostile tokens in streams with hostile label values.

use std::collections::BTreeMap;

use flowlens_devtools::gen::{FlowRecord, DEFAULT_V2_FORMAT};
use flowlens_devtools::load::Loader;
use serde_json::{json, Value};

use crate::common::hostile::{self, draw, Mix, CURATED};
use crate::oracle::{Fixture, Rec};
use crate::{datasource, ADDRESSES, FROM_MS, INSIDE, PORTS};

/// Hostile values for the records: the curated ones, drawn ones and a long one.
pub fn loaded_values() -> Vec<String> {
    let mut values: Vec<String> = CURATED.iter().map(|s| s.to_string()).collect();
    values.extend(draw(hostile::hostile_string(), 16, 1).into_iter().filter(|v| v.len() < 200));
    values.push(hostile::FRAGMENTS[..12].concat().repeat(40));
    values.push(String::new());
    values.sort();
    values.dedup();
    values
}

/// Log field names in fields mode: hostile and distinct; none that the
/// settings reject (a trailing `*`, `value`, VictoriaLogs' own fields).
pub const BASE_NAMES: [(&str, &str); 14] = [
    ("action", "act\"ion|x"),
    ("region", "ré gion\nx"),
    ("vpc_id", "in"),
    ("flow_direction", "or"),
    ("pkt_src_aws_service", "tick`n\\"),
    ("interface_id", "eni:id (x)"),
    ("pkt_srcaddr", "pkt src\"addr"),
    ("pkt_dstaddr", "pkt|dst"),
    ("srcaddr", "ü名"),
    ("dstaddr", "dstaddr"),
    ("srcport", "a*b"),
    ("dstport", "by"),
    ("bytes", "b y|tes"),
    ("packets", "nul\0n"),
];

pub fn base_name(canonical: &str) -> &'static str {
    BASE_NAMES.iter().find(|(c, _)| *c == canonical).map(|(_, n)| *n).unwrap()
}

/// Records for fields mode: every field sometimes missing.
pub fn field_records(values: &[String]) -> Vec<Rec> {
    let mut mix = Mix(7);
    (0..240)
        .map(|i| {
            let mut fields = BTreeMap::new();
            let mut put = |mix: &mut Mix, name: &'static str, value: String| {
                if mix.below(10) > 0 {
                    fields.insert(name, value);
                }
            };
            for f in ["action", "region", "vpc_id", "flow_direction", "pkt_src_aws_service", "interface_id"] {
                let v = mix.pick(values).clone();
                put(&mut mix, f, v);
            }
            for f in ["pkt_srcaddr", "pkt_dstaddr", "srcaddr", "dstaddr"] {
                let v = mix.pick(ADDRESSES).to_string();
                put(&mut mix, f, v);
            }
            for f in ["srcport", "dstport"] {
                let v = mix.pick(&PORTS).to_string();
                put(&mut mix, f, v);
            }
            let (bytes, packets) = (mix.below(100_000).to_string(), mix.below(100).to_string());
            put(&mut mix, "bytes", bytes);
            put(&mut mix, "packets", packets);
            Rec { time_ms: FROM_MS + i * 14_000 + mix.below(1_000) as i64, fields }
        })
        .collect()
}

pub async fn push_jsonline(url: &str, lines: &[Value], stream_fields: &str) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let response = reqwest::Client::new()
        .post(format!("{url}/insert/jsonline?_stream_fields={stream_fields}&_time_field=_time&_msg_field=_msg"))
        .header("Content-Type", "application/stream+json")
        .body(body)
        .send()
        .await
        .expect("push jsonline");
    assert!(response.status().is_success(), "jsonline push: {}", response.text().await.unwrap());
    Loader::new(url).force_flush().await.expect("force flush");
}

pub fn rfc3339(ms: i64) -> String {
    flowlens::time::rfc3339(ms)
}

/// The fields-mode fixture: records under hostile log field names, plus the
/// action values again under each of several alternative hostile names
/// (one datasource per name).
pub async fn fields_fixture(url: &str) -> Fixture {
    let values = loaded_values();
    let records = field_records(&values);
    let mut alt_names: Vec<String> = draw(hostile::hostile_string(), 30, 2)
        .into_iter()
        .map(|n| n.chars().take(80).collect::<String>())
        .filter(|n| !n.trim().is_empty() && flowlens::schema::unusable_log_field(n).is_none())
        .filter(|n| !BASE_NAMES.iter().any(|(_, b)| b == n) && n != "logtype")
        .collect();
    alt_names.sort();
    alt_names.dedup();
    alt_names.truncate(10);
    let lines: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut line = serde_json::Map::new();
            line.insert("_time".into(), json!(rfc3339(r.time_ms)));
            line.insert("_msg".into(), json!("hostile record"));
            line.insert("logtype".into(), json!("hostile"));
            for (f, v) in &r.fields {
                line.insert(base_name(f).into(), json!(v));
            }
            if let Some(action) = r.fields.get("action") {
                for n in &alt_names {
                    line.insert(n.clone(), json!(action));
                }
            }
            Value::Object(line)
        })
        .collect();
    push_jsonline(url, &lines, "logtype").await;
    let mapping: serde_json::Map<String, Value> = BASE_NAMES.iter().map(|(c, n)| (c.to_string(), json!(n))).collect();
    let settings = |mapping: &serde_json::Map<String, Value>| json!({"streamSelector": "{logtype=\"hostile\"}", "recordMode": "fields", "fieldMapping": mapping, "insideCidrs": INSIDE});
    let mut datasources = vec![settings(&mapping)];
    for n in &alt_names {
        let mut m = mapping.clone();
        m.insert("action".into(), json!(n));
        datasources.push(settings(&m));
    }
    Fixture {
        records,
        text: vec!["action", "region", "vpc_id", "flow_direction", "pkt_src_aws_service", "interface_id"],
        addresses: vec!["pkt_srcaddr", "pkt_dstaddr", "srcaddr", "dstaddr"],
        numbers: vec!["srcport", "dstport", "bytes", "packets"],
        values,
        datasources: datasources.into_iter().map(|j| (j.clone(), datasource(url, &j))).collect(),
        fields_mode: true,
    }
}

/// Values that fit a raw record: one space-separated token, not AWS's `-`.
pub fn raw_token(v: &str) -> bool {
    !v.is_empty() && v != "-" && !v.chars().any(char::is_whitespace)
}

/// Raw default-v2 lines with hostile tokens, in one stream per hostile
/// `environment` label value, pushed through the Loki endpoint.
pub async fn raw_fixture(url: &str) -> (Fixture, Vec<(String, usize)>) {
    let values: Vec<String> = loaded_values().into_iter().filter(|v| raw_token(v)).collect();
    let addresses: Vec<&str> = ADDRESSES.iter().copied().filter(|a| raw_token(a)).collect();
    let mut labels: Vec<String> = CURATED.iter().map(|s| s.to_string()).filter(|s| !s.trim().is_empty()).collect();
    labels.extend(draw(hostile::hostile_string(), 6, 3).into_iter().filter(|v| !v.trim().is_empty() && v.len() < 200));
    labels.sort();
    labels.dedup();
    let mut mix = Mix(11);
    let mut records = Vec::new();
    let mut streams = Vec::new();
    let loader = Loader::new(url);
    for (s, label) in labels.iter().enumerate() {
        let n = 4 + mix.below(12);
        let mut flow = Vec::new();
        for i in 0..n {
            let time_ms = FROM_MS + ((s * 17 + i) as i64 * 9_973) % 3_500_000 + mix.below(999) as i64;
            let text = |mix: &mut Mix| Some(mix.pick(&values).clone());
            let addr = |mix: &mut Mix| Some(mix.pick(&addresses).to_string());
            let r = FlowRecord {
                time_ms,
                version: Some(2),
                account_id: text(&mut mix),
                interface_id: text(&mut mix),
                srcaddr: addr(&mut mix),
                dstaddr: addr(&mut mix),
                srcport: Some(*mix.pick(&PORTS)),
                dstport: Some(*mix.pick(&PORTS)),
                protocol: Some(6),
                packets: Some(mix.below(100) as u64),
                bytes: Some(mix.below(100_000) as u64),
                start: Some((time_ms / 1000) as u64),
                end: Some((time_ms / 1000) as u64 + 60),
                action: text(&mut mix),
                log_status: text(&mut mix),
                ..Default::default()
            };
            flow.push(r);
        }
        flow.sort_by_key(|r| r.time_ms);
        loader
            .push_raw(&flow, DEFAULT_V2_FORMAT, &[("logtype", "hxraw"), ("environment", label)])
            .await
            .expect("push raw lines");
        streams.push((label.clone(), flow.len()));
        for r in flow {
            let mut fields = BTreeMap::new();
            for f in [
                "account_id",
                "interface_id",
                "srcaddr",
                "dstaddr",
                "srcport",
                "dstport",
                "packets",
                "bytes",
                "action",
                "log_status",
            ] {
                fields.insert(f, r.get(f).unwrap());
            }
            records.push(Rec { time_ms: r.time_ms, fields });
        }
    }
    loader.force_flush().await.expect("force flush");
    let json_data =
        json!({"streamSelector": "{logtype=\"hxraw\"}", "recordFormat": DEFAULT_V2_FORMAT, "insideCidrs": INSIDE});
    let fx = Fixture {
        records,
        text: vec!["account_id", "interface_id", "action", "log_status"],
        addresses: vec!["srcaddr", "dstaddr"],
        numbers: vec!["srcport", "dstport", "bytes", "packets"],
        values,
        datasources: vec![(json_data.clone(), datasource(url, &json_data))],
        fields_mode: false,
    };
    (fx, streams)
}
