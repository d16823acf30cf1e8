//! Raw records: hostile tokens in the lines' fields, hostile values of a
//! stream label in the datasource's stream selector, and quotes that open
//! in one skipped field and close in another.

use std::sync::atomic::{AtomicUsize, Ordering};

use flowlens::model::FlowQuery;
use flowlens_devtools::gen::{FlowRecord, DEFAULT_V2_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::checks::{check_in_process, Tally};
use crate::common::hostile::{self, json_inner};
use crate::fixtures::raw_fixture;
use crate::oracle::{anchored, simple, text};
use crate::strategies::{regex_strategy, run_cases, value_strategy};
use crate::{datasource, multi_thread, request, FROM_MS, INSIDE};

/// A stream selector with a hostile label value, as a user types it.
#[derive(Debug, Clone)]
struct SelectorCase {
    op: &'static str,
    /// The label value (for `=~`/`!~`: a regex).
    value: String,
    backticks: bool,
}

impl SelectorCase {
    fn text(&self, value: &str) -> String {
        let literal = if self.backticks && !value.contains('`') {
            format!("`{value}`")
        } else {
            serde_json::to_string(value).unwrap()
        };
        format!("{{logtype=\"hxraw\", environment{}{literal}}}", self.op)
    }

    fn holds(&self, label: &str) -> bool {
        match self.op {
            "=" => label == self.value,
            "!=" => label != self.value,
            "=~" => anchored(&self.value).is_match(label),
            _ => !anchored(&self.value).is_match(label),
        }
    }
}

#[test]
fn raw_records_and_stream_labels_hostile_values_match_exactly() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let (fx, streams) = rt.block_on(raw_fixture(&server.url));
    let tally = Tally::default();
    run_cases(&fx, 200, "raw mode, in process", |case| rt.block_on(check_in_process(&case, &fx, &tally)));
    let (_, with, without) = tally.report("raw mode");
    assert!(with >= 60 && without >= 20, "both matching and non-matching cases: {with} / {without}");

    // Stream selectors: the label value is data too.
    let labels: Vec<String> = streams.iter().map(|(l, _)| l.clone()).collect();
    let strategy = (
        prop::sample::select(vec!["=", "!=", "=~", "!~", "=~re"]),
        value_strategy(&labels),
        regex_strategy(&labels),
        any::<bool>(),
    )
        .prop_map(|(op, value, re, backticks)| match op {
            "=~re" => SelectorCase { op: "=~", value: re, backticks },
            "=~" | "!~" => SelectorCase { op, value: regex::escape(&value), backticks },
            _ => SelectorCase { op, value, backticks },
        });
    let hits = AtomicUsize::new(0);
    let result = hostile::runner(120).run(&strategy, |case| {
        let selector = case.text(&case.value);
        let json_data = json!({"streamSelector": selector, "recordFormat": DEFAULT_V2_FORMAT});
        let ds = datasource(&server.url, &json_data);
        let target = json!({"refId": "S", "format": "stat", "metric": "records", "direction": "all"});
        let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
        // Structure: the same text as for a plain value, literal swapped.
        let plain =
            datasource(&server.url, &json!({"streamSelector": case.text("PH0Z"), "recordFormat": DEFAULT_V2_FORMAT}));
        let want_text = plain.render(&q)[0].replace("PH0Z", &json_inner(&case.value));
        let got_text = ds.render(&q)[0].clone();
        prop_assert_eq!(&got_text, &want_text, "selector {}", selector);
        let want: u64 = streams.iter().filter(|(l, _)| case.holds(l)).map(|(_, n)| *n as u64).sum();
        if want > 0 {
            hits.fetch_add(1, Ordering::Relaxed);
        }
        let frames =
            rt.block_on(ds.query(&q)).map_err(|e| TestCaseError::fail(format!("{selector}: {}", e.message)))?;
        let got = simple(&frames[0]).fields[0].2[0].as_u64().unwrap();
        prop_assert_eq!(got, want, "selector {}\nexecuted {}", selector, got_text);
        Ok(())
    });
    if let Err(e) = result {
        panic!("stream selectors: {e}");
    }
    assert!(hits.load(Ordering::Relaxed) >= 40, "selectors that match streams: {}", hits.load(Ordering::Relaxed));
}

/// A skipped field that opens a quote and a later one that closes it (`"a`
/// … `b"`, and the same with backticks and apostrophes) must not read as one field and
/// shift every field after it: the records' totals and rankings
/// equal the sums over the records, byte for byte.
#[test]
fn quotes_across_skipped_fields_do_not_shift_the_fields_after_them() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let pairs = [("\"a", "b\""), ("`c", "d`"), ("\"e\"", "f"), ("plain", "eni-1"), ("\"g", "h`"), ("'i", "j'")];
    let records: Vec<FlowRecord> = pairs
        .iter()
        .enumerate()
        .map(|(i, (account, interface))| FlowRecord {
            time_ms: FROM_MS + 60_000 * i as i64,
            version: Some(2),
            account_id: Some(account.to_string()),
            interface_id: Some(interface.to_string()),
            srcaddr: Some(format!("10.0.32.{}", i + 1)),
            dstaddr: Some("52.216.8.5".into()),
            srcport: Some(443),
            dstport: Some(50_000 + i as u64),
            protocol: Some(6),
            packets: Some(1),
            bytes: Some(1_000 * (i as u64 + 1)),
            start: Some((FROM_MS / 1000) as u64),
            end: Some((FROM_MS / 1000) as u64 + 60),
            action: Some("ACCEPT".into()),
            log_status: Some("OK".into()),
            ..Default::default()
        })
        .collect();
    rt.block_on(async {
        let loader = Loader::new(&server.url);
        loader.push_raw(&records, DEFAULT_V2_FORMAT, &[("logtype", "hxquote")]).await.expect("push raw lines");
        loader.force_flush().await.expect("force flush");
    });
    let ds = datasource(
        &server.url,
        &json!({"streamSelector": "{logtype=\"hxquote\"}", "recordFormat": DEFAULT_V2_FORMAT, "insideCidrs": INSIDE}),
    );
    let run = |target: Value| {
        let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
        let frames = rt.block_on(ds.query(&q)).unwrap_or_else(|e| panic!("{target}: {}", e.message));
        frames.iter().map(simple).collect::<Vec<_>>()
    };
    let total: u64 = records.iter().map(|r| r.bytes.unwrap()).sum();
    let stat = run(json!({"refId": "A", "format": "stat", "direction": "out", "cache": false}));
    assert_eq!(stat[0].fields[0].2[0].as_u64(), Some(total), "bytes out: {stat:?}");
    let table = run(json!({"refId": "B", "format": "table", "direction": "out", "groupBy": ["dstport"], "limit": 10}));
    let mut want: Vec<(String, u64)> =
        records.iter().map(|r| (r.dstport.unwrap().to_string(), r.bytes.unwrap())).collect();
    want.sort_by_key(|w| std::cmp::Reverse(w.1));
    let got: Vec<(String, u64)> =
        table[0].fields[0].2.iter().zip(&table[0].fields[1].2).map(|(k, v)| (text(k), v.as_u64().unwrap())).collect();
    assert_eq!(got, want, "bytes out by destination port");
}
