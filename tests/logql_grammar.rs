//! Grammar: every LogQL the dialect produces parses with Grafana's own LogQL
//! grammar (npm `@grafana/lezer-logql`, what Grafana's query editor and
//! Explore parse with), with no error node, and every user value sits only
//! inside string literals of the parse tree: the golden cases in every
//! record mode, and hostile values in every place a value can go.
//!
//! Needs Node.js and `npm ci` in `tests/logql-grammar/` (scripts/test.sh
//! does it); fails, never skips, when either is missing.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::logql::{cases, render_requests, settings, settings_with, MODES};
use flowlens::plan::Step;
use serde_json::{json, Value};

/// The marker every hostile value carries: it must never reach the parse
/// tree outside a string literal.
const MARKER: &str = "INJECTED";

fn hostile_values() -> Vec<String> {
    [
        "x\" | INJECTED | \"y",
        "back\\slash INJECTED \\\" end\\",
        "new\nline INJECTED",
        "tab\tINJECTED\r",
        "`tick INJECTED`",
        "# INJECTED comment",
        "} | INJECTED {",
        ") or INJECTED=~\".*\" or (",
        "[5m] offset INJECTED",
        "$__range INJECTED ${var}",
        "ünïcødé INJECTED ☃ 🦀",
        "\u{0}nul INJECTED\u{1f}\u{7f}",
        "'single' INJECTED",
        "INJECTED",
        "\\\"INJECTED\\\\",
        "a|b.*INJECTED(?i)[x]{2}^$",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// How the dialect writes a value inside an `=~` alternation.
fn regex_escaped(value: &str) -> String {
    value.chars().flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

/// A query and the user values it holds.
struct Case {
    what: String,
    query: String,
    values: Vec<String>,
}

/// The strings of a filter list, key list or interface id: the user values.
fn values_of(query: &Value, step: &Option<Step>) -> Vec<String> {
    let mut values = Vec::new();
    for f in query["filters"].as_array().into_iter().flatten() {
        if matches!(f["op"].as_str(), Some("range" | "<" | ">" | "<=" | ">=")) {
            continue; // numbers, written as numbers
        }
        match &f["value"] {
            Value::String(s) => values.push(s.clone()),
            Value::Array(items) => values.extend(items.iter().filter_map(|v| v.as_str().map(String::from))),
            _ => {}
        }
    }
    if let Some(Step::Buckets { keys: Some(keys), .. }) = step {
        values.extend(keys.iter().flatten().cloned());
    }
    values.retain(|v| !v.is_empty() && v != ".*");
    values
}

fn golden_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for mode in MODES {
        let s = settings(mode);
        for (name, query, step) in cases() {
            let values = values_of(&query, &step);
            for (i, r) in render_requests(&s, query.clone(), step.clone()).into_iter().enumerate() {
                out.push(Case { what: format!("{mode}-{name} #{i}"), query: r.query, values: values.clone() });
            }
        }
    }
    out
}

/// The rollup rules (`flowlens rules` for Loki) of every golden question
/// that has one, in every mode, at two resolutions; and each mode's
/// evaluation rule.
fn rule_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for mode in MODES {
        let s = settings(mode);
        let target = flowlens::dialect::Target { stream: &s.stream, schema: &s.schema };
        let dialect = flowlens::backends::loki::logql::LogQl::of(&s).unwrap();
        for (name, query, _) in cases() {
            let q =
                flowlens::model::FlowQuery::parse(&serde_json::to_vec(&query).unwrap(), &common::logql::request(), &s)
                    .unwrap();
            let q = flowlens::reuse::canonical(&q);
            for resolution_ms in [60_000, 3_600_000] {
                if let Some(rule) =
                    dialect.render_rule(&target, &q, resolution_ms).filter(|_| flowlens::rollups::eligible(&q))
                {
                    out.push(Case {
                        what: format!("{mode}-{name} rule"),
                        query: rule.expr,
                        values: values_of(&query, &None),
                    });
                }
            }
        }
        let evaluated = flowlens::backends::loki::logql::LogQl::render_evaluated(&target, 60_000).unwrap();
        out.push(Case { what: format!("{mode} evaluation rule"), query: evaluated, values: Vec::new() });
    }
    out
}

/// Every hostile value in every place a value goes, in every mode.
fn hostile_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for h in hostile_values() {
        let re = regex_escaped(&h);
        let queries = vec![
            json!({"format": "stat", "direction": "all", "interfaceId": &h, "filters": [
                {"field": "action", "op": "=", "value": &h},
                {"field": "region", "op": "!=", "value": &h},
                {"field": "pkt_src_aws_service", "op": "=|", "value": [&h, "S3"]},
                {"field": "pkt_dst_aws_service", "op": "!=|", "value": [&h, "-"]},
                {"field": "vpc_id", "op": "=~", "value": &re},
                {"field": "az_id", "op": "!~", "value": &re}]}),
            json!({"format": "series", "direction": "any", "filters": [
                {"field": "inside_addr", "op": "=~", "value": &re},
                {"field": "outside_addr", "op": "!=", "value": &h}]}),
            json!({"format": "logs", "limit": 10, "direction": "in", "filters": [{"field": "action", "op": "=", "value": &h}]}),
        ];
        let key_steps = [
            (
                json!({"format": "series", "direction": "in", "groupBy": ["action"], "limit": 2}),
                vec![vec![h.clone()], vec!["".into()]],
            ),
            (
                json!({"format": "series", "direction": "in", "groupBy": ["action", "region"], "limit": 2}),
                vec![vec![h.clone(), "eu-west-1".into()], vec!["-".into(), h.clone()]],
            ),
        ];
        // A hostile stream selector value and, for JSON lines, a hostile key.
        let selector = format!("{{logtype={}}}", serde_json::to_string(&h).unwrap());
        let key = h.replace(['"', ']', '\0'], "");
        for mode in MODES {
            let mut extra = json!({"streamSelector": selector});
            if mode == "json" {
                extra["fieldMapping"] = json!({"action": key, "pkt_srcaddr": "pkt_src_addr"});
            }
            let s = settings_with(mode, extra);
            let mut push = |query: Value, step: Option<Step>| {
                let mut values = vec![h.clone()];
                if mode == "json" && query.to_string().contains("\"action\"") {
                    values.push(key.clone());
                }
                if query.get("interfaceId").is_some() {
                    values.push(h.trim().to_string());
                }
                for (i, r) in render_requests(&s, query.clone(), step).into_iter().enumerate() {
                    out.push(Case {
                        what: format!("{mode} {h:?} {query} #{i}"),
                        query: r.query,
                        values: values.clone(),
                    });
                }
            };
            for q in &queries {
                push(q.clone(), None);
            }
            for (q, keys) in &key_steps {
                push(q.clone(), Some(Step::Buckets { grouped: true, keys: Some(keys.clone()) }));
            }
        }
    }
    out
}

fn grammar_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/logql-grammar")
}

/// Runs the grammar over the queries: one result object per query.
fn parse_all(queries: &[String]) -> Vec<Value> {
    let dir = grammar_dir();
    assert!(
        dir.join("node_modules/@grafana/lezer-logql").is_dir(),
        "Grafana's LogQL grammar is not installed: run `npm ci --no-audit --no-fund` in {} (scripts/test.sh does)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("check.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("node is needed for the LogQL grammar check and could not start ({e}); install Node.js 20 or newer")
        });
    let input = serde_json::to_vec(queries).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "check.mjs failed: {}", output.status);
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), queries.len());
    results
}

fn check(cases: &[Case]) {
    let queries: Vec<String> = cases.iter().map(|c| c.query.clone()).collect();
    let results = parse_all(&queries);
    for (case, result) in cases.iter().zip(&results) {
        let what = format!("{}\n{}", case.what, case.query);
        assert_eq!(result["top"], "LogQL", "{what}");
        assert_eq!(result["errors"], json!([]), "error nodes in {what}\n{result}");
        assert_eq!(result["comments"], json!([]), "a comment in {what}");
        let gaps = result["gaps"].as_str().unwrap();
        assert!(gaps.chars().all(|c| " (){}[],".contains(c)), "text outside tokens {gaps:?} in {what}");
        for token in result["tokens"].as_array().unwrap() {
            let text = token[1].as_str().unwrap();
            assert!(!text.to_uppercase().contains(MARKER), "a user value outside a string: {token} in {what}");
        }
        let strings: Vec<&str> = result["strings"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        for v in &case.values {
            assert!(
                strings.iter().any(|s| s.contains(v.as_str()) || s.contains(&regex_escaped(v))),
                "{v:?} is in no string literal of {what}\nstrings: {strings:?}"
            );
        }
    }
}

#[test]
fn every_golden_query_parses_with_grafanas_grammar() {
    let cases = golden_cases();
    assert!(cases.len() > 90, "{} queries", cases.len());
    check(&cases);
}

#[test]
fn every_rollup_rule_parses_with_grafanas_grammar() {
    let cases = rule_cases();
    assert!(cases.len() > 40, "{} rules", cases.len());
    check(&cases);
}

#[test]
fn hostile_values_stay_inside_string_literals() {
    let cases = hostile_cases();
    assert!(cases.len() > 300, "{} queries", cases.len());
    check(&cases);
}

/// The check itself can fail: broken quoting, a stray comment and a value
/// outside a string are all caught.
#[test]
fn the_check_catches_what_it_is_for() {
    let results = parse_all(&[
        r#"sum(count_over_time({a="b"} [5m] offset 1ns | x="a" | INJECTED | "y"))"#.to_string(),
        r#"{a="b"} | x="y" # INJECTED"#.to_string(),
        r#"sum(sum_over_time(({a="b"} | pattern "<k> <bytes>" | k="x" | unwrap bytes | __error__="")[1h]))"#
            .to_string(),
        r#"sum by (k) (sum_over_time({a="b"} | k="1" | unwrap bytes [1h] offset 1ns))"#.to_string(),
    ]);
    assert_ne!(results[0]["errors"], json!([]), "{}", results[0]);
    assert_ne!(results[1]["comments"], json!([]), "{}", results[1]);
    // Grafana's grammar rejects the parenthesised form and an offset after a
    // pipeline with unwrap: the dialect writes neither.
    assert_ne!(results[2]["errors"], json!([]), "{}", results[2]);
    assert_ne!(results[3]["errors"], json!([]), "{}", results[3]);
}
