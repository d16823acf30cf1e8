//! Dashboard variables in hand-written LogsQL, end to end: records whose
//! `vpc_id` holds hostile values (quotes of every kind, backslashes, `|`,
//! newlines, NUL, Unicode, `$` and `${`, regex syntax, a long value) are
//! loaded into a real VictoriaLogs; raw queries with those values as
//! variables, in every kind of literal and bare, as exact values, as
//! regexes and as lists, are interpolated by the shipped frontend code under
//! Node (`common::frontend`), run through the plugin binary over gRPC, and
//! each count must equal the number of records holding exactly that value.
//! Needs `frontend/node_modules` (`npm ci` in `frontend/`).

mod common;

use common::frontend::{self, Interpolated};
use common::harness::Plugin;
use flowlens_devtools::gen::FlowRecord;
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};

/// 2026-11-20T00:00:00Z; the records are in the hour after it.
const FROM_MS: i64 = 1_795_132_800_000;
const TO_MS: i64 = FROM_MS + 3_600_000;
const STREAM: [(&str, &str); 1] = [("logtype", "hostile")];
/// Targets per QueryData call (VictoriaLogs runs a few queries at a time).
const BATCH: usize = 8;

/// Each value is in `vpc_id` of (its index % 3) + 1 records. `c`, `d`, `a`
/// and `ab` are there so that an unescaped `c|d`, `a"b` or `(.*)+` would
/// count records it must not.
fn values() -> Vec<String> {
    let mut v: Vec<String> = [
        "a\"b",
        "it's",
        "back\\slash",
        "trailing\\",
        "\\\"",
        "c|d",
        "c",
        "d",
        "a",
        "ab",
        "`tick`",
        "``",
        "line\nbreak",
        "cr\r\nlf",
        "tab\there",
        "nul\u{0}byte",
        "bell\u{7}del\u{7f}",
        "ünïcødé ✓ 日本語 😀",
        "$v0",
        "${v1}",
        "[[v2]]",
        "# not a comment",
        "\"; | delete",
        "\") or (x:*",
        " or * ",
        "(.*)+",
        "^$",
        "[0-9]{2}",
        "10.0.32.7",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("x\"y".repeat(2_000));
    v
}

fn count_of(i: usize) -> usize {
    i % 3 + 1
}

/// A raw stats query over the hostile stream, counting what `filter` matches.
fn target(ref_id: &str, filter: &str) -> Value {
    json!({
        "refId": ref_id,
        "format": "table",
        "rawQuery": format!("{{logtype=\"hostile\"}} {filter} | stats count() as n"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_variables_in_raw_logsql_match_exactly() {
    let values = values();
    let server = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let records: Vec<FlowRecord> = values
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            (0..count_of(i)).map(move |k| FlowRecord {
                time_ms: FROM_MS + (i * 10 + k) as i64 * 1_000,
                vpc_id: Some(v.clone()),
                bytes: Some(1),
                ..Default::default()
            })
        })
        .collect();
    let loader = Loader::new(&server.url);
    loader.push_fields(&records, &STREAM, &|c: &str| c.to_string()).await.expect("push the hostile records");
    loader.force_flush().await.expect("force flush");
    let total = records.len();

    // One textbox and one single-value multi variable per value; `all` has
    // every value selected; `every` is All; `typed_*` are regexes as typed.
    let mut variables = Vec::new();
    for (i, v) in values.iter().enumerate() {
        variables.push(json!({"name": format!("v{i}"), "type": "textbox", "value": v}));
        variables
            .push(json!({"name": format!("m{i}"), "type": "custom", "multi": true, "value": [v], "options": values}));
    }
    variables.push(json!({"name": "all", "type": "custom", "multi": true, "value": values, "options": values}));
    variables.push(json!({"name": "every", "type": "custom", "multi": true, "includeAll": true, "value": ["$__all"], "options": values}));
    variables.push(json!({"name": "typed_pipe", "type": "textbox", "value": "c\\|d"}));
    variables.push(json!({"name": "typed_alt", "type": "textbox", "value": "c|d"}));

    let index = |v: &str| values.iter().position(|x| x == v).unwrap();
    let mut cases: Vec<(Value, usize)> = Vec::new();
    for i in 0..values.len() {
        let n = count_of(i);
        cases.push((target(&format!("bare-{i}"), &format!("vpc_id:=$v{i}")), n));
        cases.push((target(&format!("dq-{i}"), &format!("vpc_id:=\"$v{i}\"")), n));
        cases.push((target(&format!("sq-{i}"), &format!("vpc_id:='${{v{i}}}'")), n));
        cases.push((target(&format!("bq-{i}"), &format!("vpc_id:=`[[v{i}]]`")), n));
        cases.push((target(&format!("re-{i}"), &format!("vpc_id:~\"^${{m{i}}}$\"")), n));
        cases.push((target(&format!("in-{i}"), &format!("vpc_id:in($m{i})")), n));
    }
    cases.push((target("in-all", "vpc_id:in($all)"), total));
    cases.push((target("re-all", "vpc_id:~\"^$all$\""), total));
    cases.push((target("in-every", "vpc_id:in(${every})"), total));
    cases.push((target("re-every", "vpc_id:~$every"), total));
    cases.push((target("typed-pipe", "vpc_id:~\"^$typed_pipe$\""), count_of(index("c|d"))));
    cases.push((target("typed-alt", "vpc_id:~\"^($typed_alt)$\""), count_of(index("c")) + count_of(index("d"))));

    let sent: Vec<Value> = cases.iter().map(|(t, _)| t.clone()).collect();
    let mut refused = sent.clone();
    refused.push(target("several", "vpc_id:=$all"));
    let mut interpolated = frontend::interpolate(&Value::from(variables), &refused, None);
    // Several values where LogsQL takes one: the datasource answers an error naming the variable.
    match interpolated.pop().unwrap() {
        Interpolated::Error { ref_id, message } => {
            assert_eq!(ref_id, "several");
            let count = format!("$all has {} values", values.len());
            assert!(message.contains(&count) && message.contains("in(...)"), "{message}");
        }
        Interpolated::Target(t) => panic!("several values for one must be refused: {t}"),
    }
    let targets: Vec<Value> = interpolated.into_iter().map(Interpolated::target).collect();
    assert!(!targets[0]["rawQuery"].as_str().unwrap().contains("$v0"), "interpolated: {}", targets[0]);

    let plugin = Plugin::start().await;
    let ds = common::data::raw_instance(&server.url, "hostile");
    let mut checked = 0;
    for (chunk, expected) in targets.chunks(BATCH).zip(cases.chunks(BATCH)) {
        let answers = plugin.query(&ds, (FROM_MS, TO_MS), 60_000, chunk).await;
        for (t, (_, want)) in chunk.iter().zip(expected) {
            let ref_id = t["refId"].as_str().unwrap();
            let answer = &answers[ref_id];
            let query = t["rawQuery"].as_str().unwrap();
            assert!(answer.error.is_empty(), "{ref_id}: VictoriaLogs did not accept {query:?}: {}", answer.error);
            let n = &answer.frames[0].field("n").values;
            assert_eq!(n, &vec![json!(*want as f64)], "{ref_id}: {query:?} must count exactly {want} records");
            checked += 1;
        }
    }
    assert_eq!(checked, cases.len());
    println!("{checked} interpolated raw queries with {} hostile values, each count exact", values.len());
}
