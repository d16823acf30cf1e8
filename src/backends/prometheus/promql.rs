//! PromQL over rollup series, and the query API's answers. Pure.
//!
//! A bucket `[t - G, t)` of a rule's sums is `sum_over_time(m[G])` at `t`:
//! Prometheus' and VictoriaMetrics' range windows are `(t - G, t]`, which
//! holds the points stamped at the end of each interval in the bucket
//! ([`Stamps::End`]); points stamped at the start of theirs
//! ([`Stamps::Start`]) are read one millisecond earlier (`offset 1ms`:
//! `[t - G, t - 1ms]`). A range query with `start = a + G`, `end = b`,
//! `step = G` (all multiples of `G`) gives every bucket of `[a, b)`, one
//! point each, stamped at its end.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::plan::{BucketMap, Key, Value};
use crate::rollups::{Rule, Stamps, Totals, EVALUATED, RULE_LABEL, VALUES};
use crate::selector::quote;

/// The window of a bucket of `grain` ms, shifted for the stamps.
fn window(grain: i64, stamps: Stamps) -> String {
    let range = crate::time::duration(grain);
    match stamps {
        Stamps::End => format!("[{range}]"),
        Stamps::Start => format!("[{range}] offset 1ms"),
    }
}

/// The selector of a rule's series named `name`, narrowed to `keys` where
/// the rule has one label (several: the client keeps only the keys'
/// groups).
fn selector(name: &str, rule: &Rule, keys: Option<&[Key]>) -> String {
    let mut matchers = vec![format!("{RULE_LABEL}={}", quote(&rule.fingerprint))];
    if let (Some(keys), [label]) = (keys, rule.labels.as_slice()) {
        let mut alternatives: Vec<String> =
            keys.iter().map(|k| regex::escape(k.first().map(String::as_str).unwrap_or(""))).collect();
        if alternatives.iter().any(String::is_empty) {
            // No value: also its other spellings ([`Rule::no_value`]).
            alternatives.extend(rule.no_value.iter().map(|v| regex::escape(v)));
        }
        matchers.push(format!("{label}=~{}", quote(&alternatives.join("|"))));
    }
    format!("{name}{{{}}}", matchers.join(", "))
}

/// The rule's sums per group (all groups as one unless `grouped`), one
/// point per bucket of `grain`.
pub fn values(rule: &Rule, grouped: bool, keys: Option<&[Key]>, grain: i64, stamps: Stamps) -> String {
    let by = if grouped { rule.labels.join(", ") } else { String::new() };
    format!("sum by ({by}) (sum_over_time({}{}))", selector(VALUES, rule, keys), window(grain, stamps))
}

/// The rule's sum per group over the `span` ms before the query time,
/// of the groups `select` picks.
pub fn totals(rule: &Rule, span: i64, stamps: Stamps, select: Totals) -> String {
    let sums = values(rule, true, None, span, stamps);
    match select {
        Totals::Top(n) => format!("topk({n}, {sums})"),
        Totals::AtLeast(v) => format!("{sums} >= {v}"),
    }
}

/// A vector answer as per-group values, keyed as [`parse_matrix`] keys.
pub fn parse_vector(body: &[u8], labels: &[String], no_value: &[&str]) -> Result<Vec<(Key, Value)>, String> {
    let data = data(body)?;
    if data.result_type != "vector" {
        return Err(format!("the answer is a {}, not a vector", data.result_type));
    }
    data.result
        .into_iter()
        .map(|series| {
            let (_, v) = series.value.ok_or("a vector sample without a value")?;
            Ok((key_of(&series.metric, labels, no_value), whole(&v)?))
        })
        .collect()
}

/// A series' key: its labels' values in `labels` order; an absent label,
/// or one spelled as in `no_value`, is `""`.
fn key_of(metric: &BTreeMap<String, String>, labels: &[String], no_value: &[&str]) -> Key {
    labels
        .iter()
        .map(|l| metric.get(l).filter(|v| !no_value.contains(&v.as_str())).cloned().unwrap_or_default())
        .collect()
}

/// The rule's evaluations per bucket of `grain` (the most of any series:
/// one rule engine writes one).
pub fn evaluations(rule: &Rule, grain: i64, stamps: Stamps) -> String {
    format!("max(count_over_time({}{}))", selector(EVALUATED, rule, None), window(grain, stamps))
}

/// The raw points of the rule's evaluation marks over the last `span` ms
/// (an instant query's range vector), for their stamps.
pub fn evaluation_points(rule: &Rule, span_ms: i64) -> String {
    format!("{}[{}]", selector(EVALUATED, rule, None), crate::time::duration(span_ms))
}

/// The stamps (ms) of a matrix answer's points, every series.
pub fn parse_stamps(body: &[u8]) -> Result<Vec<i64>, String> {
    let data = data(body)?;
    Ok(data.result.iter().flat_map(|s| s.values.iter().map(|(t, _)| (t * 1000.0).round() as i64)).collect())
}

/// A successful query API answer's data; the store's error otherwise.
fn data(body: &[u8]) -> Result<Data, String> {
    let response: Response =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not the query API's JSON: {e}"))?;
    if response.status != "success" {
        return Err(response.error.unwrap_or_else(|| format!("status {}", response.status)));
    }
    response.data.ok_or_else(|| "the answer has no data".to_string())
}

/// A query API answer.
#[derive(Debug, Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Series>,
}

#[derive(Debug, Deserialize)]
struct Series {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
    #[serde(default)]
    value: Option<(f64, String)>,
}

/// A matrix answer as per-group buckets: each point stamped `t` is the
/// bucket starting `t - grain`; a group's key is its labels' values in
/// `labels` order (an absent label, or one spelled as in `no_value`, is
/// `""`, as a group without the value). Values are whole numbers (sums of
/// bytes, packets, records); `NaN` (a sum over no numeric value) is 0.
pub fn parse_matrix(body: &[u8], labels: &[String], no_value: &[&str], grain: i64) -> Result<BucketMap, String> {
    let data = data(body)?;
    if data.result_type != "matrix" {
        return Err(format!("the answer is a {}, not a matrix", data.result_type));
    }
    let mut out = BucketMap::new();
    for series in data.result {
        let key = key_of(&series.metric, labels, no_value);
        let row = out.entry(key).or_default();
        for (t, v) in series.values {
            let stamp = (t * 1000.0).round() as i64;
            *row.entry(stamp - grain).or_default() += whole(&v)?;
        }
    }
    Ok(out)
}

/// A sample's value as a whole number.
fn whole(v: &str) -> Result<Value, String> {
    let f: f64 = v.parse().map_err(|_| format!("the value `{v}` is not a number"))?;
    if f.is_nan() {
        return Ok(0);
    }
    if !(0.0..9_007_199_254_740_992.0).contains(&f) || f.fract() != 0.0 {
        return Err(format!("the value `{v}` is not a whole number below 2^53"));
    }
    Ok(f as Value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(labels: &[&str]) -> Rule {
        Rule {
            expr: String::new(),
            evaluated: String::new(),
            fingerprint: "0123456789abcdef".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            no_value: &["-"],
            resolution_ms: 60_000,
        }
    }

    #[test]
    fn windows_follow_the_stamps_and_keys_narrow_one_label() {
        assert_eq!(
            values(&rule(&["pkt_srcaddr"]), false, None, 600_000, Stamps::End),
            r#"sum by () (sum_over_time(flowlens_rollup{flowlens_rule="0123456789abcdef"}[10m]))"#
        );
        let keys = vec![vec!["10.0.0.1".to_string()], vec![String::new()], vec!["a|b\"".to_string()]];
        assert_eq!(
            values(&rule(&["pkt_srcaddr"]), true, Some(&keys), 3_600_000, Stamps::Start),
            r#"sum by (pkt_srcaddr) (sum_over_time(flowlens_rollup{flowlens_rule="0123456789abcdef", pkt_srcaddr=~"10\\.0\\.0\\.1||a\\|b\"|\\-"}[1h] offset 1ms))"#
        );
        assert_eq!(
            evaluations(&rule(&["a", "b"]), 60_000, Stamps::End),
            r#"max(count_over_time(flowlens_rollup_evaluated{flowlens_rule="0123456789abcdef"}[1m]))"#
        );
    }

    #[test]
    fn totals_are_the_top_or_those_at_least_a_bound() {
        let r = rule(&["a", "b"]);
        assert_eq!(
            totals(&r, 7 * 86_400_000, Stamps::End, Totals::Top(10)),
            r#"topk(10, sum by (a, b) (sum_over_time(flowlens_rollup{flowlens_rule="0123456789abcdef"}[168h])))"#
        );
        assert_eq!(
            totals(&r, 3_600_000, Stamps::Start, Totals::AtLeast(55)),
            r#"sum by (a, b) (sum_over_time(flowlens_rollup{flowlens_rule="0123456789abcdef"}[1h] offset 1ms)) >= 55"#
        );
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"a":"x","b":"-"},"value":[1700000600,"5"]},{"metric":{},"value":[1700000600,"7"]}]}}"#;
        let labels = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            parse_vector(body, &labels, &["-"]).unwrap(),
            vec![(vec!["x".to_string(), String::new()], 5), (vec![String::new(), String::new()], 7)]
        );
        assert!(parse_vector(br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, &labels, &[])
            .unwrap_err()
            .contains("not a vector"));
    }

    #[test]
    fn evaluation_points_are_a_range_vector_read_for_stamps() {
        assert_eq!(
            evaluation_points(&rule(&[]), 600_000),
            r#"flowlens_rollup_evaluated{flowlens_rule="0123456789abcdef"}[10m]"#
        );
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[[1700000060,"5"],[1700000120.5,"3"]]}]}}"#;
        assert_eq!(parse_stamps(body).unwrap(), vec![1_700_000_060_000, 1_700_000_120_500]);
    }

    #[test]
    fn matrices_become_buckets_by_their_start() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"pkt_srcaddr":"10.0.0.1"},"values":[[1700000600,"5"],[1700001200,"NaN"]]},
            {"metric":{},"values":[[1700001200,"7"]]},
            {"metric":{"pkt_srcaddr":"-"},"values":[[1700001200,"2"]]}]}}"#;
        let got = parse_matrix(body, &["pkt_srcaddr".to_string()], &["-"], 600_000).unwrap();
        assert_eq!(
            got[&vec!["10.0.0.1".to_string()]],
            BTreeMap::from([(1_700_000_000_000, 5), (1_700_000_600_000, 0)])
        );
        // No value, absent or spelled `-`: one group.
        assert_eq!(got[&vec![String::new()]], BTreeMap::from([(1_700_000_600_000, 9)]));
        for (bad, says) in [
            (&br#"{"status":"error","error":"bad query"}"#[..], "bad query"),
            (br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, "a vector"),
            (br#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"1.5"]]}]}}"#, "whole"),
            (b"<html>", "not the query API's JSON"),
        ] {
            let got = parse_matrix(bad, &[], &[], 1000).unwrap_err();
            assert!(got.contains(says), "{got}");
        }
    }
}
