//! Rollups on the real engines: records pushed to VictoriaLogs, a `type:
//! vlogs` recording rule replayed by vmalert (v1.151.0) into a
//! VictoriaMetrics single node, and VictoriaMetrics' answers compared with
//! sums computed here from the records pushed. Covers the bucket edges (a
//! record on a 5-minute edge, 1 ns before and 1 ns after it), records just
//! outside the replayed window, a host whose every `bytes` is `-` (its sum
//! is NaN: VictoriaMetrics keeps nothing of it), `-` beside numbers (skipped
//! by the sum), the exact label set vmalert writes, replaying the same
//! window twice (in one request, then in hourly requests: no sum doubles),
//! what a replay can change afterwards (a late record raises its bucket;
//! smaller sums under the same labels change nothing: the biggest is kept),
//! a replay into a stopped VictoriaMetrics (fails; works again once it is
//! back), and vmalert's `-dryRun` rejecting a broken rules file. Every
//! binary (victoria-logs, victoria-metrics, vmalert) is required: the tests
//! fail, never skip, without them (scripts/victorialogs.sh,
//! scripts/victoriametrics.sh).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use flowlens_devtools::vlserver::{VlOptions, VlServer};
use flowlens_devtools::vmserver::{self, VmServer};
use serde_json::{json, Value};

const MIN_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MIN_MS;
const STEP_MS: i64 = 5 * MIN_MS;
const MS_NS: i64 = 1_000_000;
/// 2025-03-01T00:00:00Z: the replayed window is `[FROM_MS, FROM_MS + 3h)`.
const FROM_MS: i64 = 1_740_787_200_000;
const TO_MS: i64 = FROM_MS + 3 * HOUR_MS;

/// The rules file: one group of one recording rule, as flowlens writes them.
const RULES: &str = r#"groups:
  - name: flowlens
    type: vlogs
    interval: 5m
    rules:
      - record: flowlens_rollup
        expr: 'stream:"t" | stats by (host) sum(bytes) as value'
        labels:
          flowlens_rule: "abc"
"#;

/// The exact labels vmalert writes for the rule above (besides `host`):
/// VictoriaLogs names the series after the stats result (`value`), vmalert
/// moves that name to `stats_result`, names the series after `record` and
/// adds the rule's labels; nothing else.
const RULE_LABELS: [(&str, &str); 3] =
    [("__name__", "flowlens_rollup"), ("flowlens_rule", "abc"), ("stats_result", "value")];

/// One pushed record: nanoseconds, host, and `bytes` (`None` is the `-`
/// a flow log writes when it has no data).
struct Record {
    t_ns: i64,
    host: &'static str,
    bytes: Option<u64>,
}

/// A few hundred records over the window and a little around it: random
/// ones, three on every 5-minute edge (1 ns before, on it, 1 ns after), `-`
/// beside numbers on `h2`, and a host (`dash`) whose every `bytes` is `-`.
fn records() -> Vec<Record> {
    let hosts = ["h1", "h2", "h3"];
    let mut seed: u64 = 0x5eed_f10e;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    let mut out = Vec::new();
    let span_ns = (TO_MS - FROM_MS + 20 * MIN_MS) * MS_NS;
    for _ in 0..300 {
        let t_ns = (FROM_MS - 10 * MIN_MS) * MS_NS + ((next() << 31 | next()) as i64 % span_ns);
        out.push(Record { t_ns, host: hosts[next() as usize % 3], bytes: Some(1 + next() % 100_000) });
    }
    // Every edge from FROM_MS to TO_MS, both included: the first's "before"
    // and the last's "on" and "after" are outside the window.
    for k in 0..=(TO_MS - FROM_MS) / STEP_MS {
        let edge_ns = (FROM_MS + k * STEP_MS) * MS_NS;
        for (i, delta) in [-1, 0, 1].into_iter().enumerate() {
            let host = hosts[(k as usize + i) % 3];
            out.push(Record { t_ns: edge_ns + delta, host, bytes: Some(1_000_000 * (k as u64 + 1) + i as u64) });
        }
    }
    for k in 0..6 {
        let t_ns = (FROM_MS + k * 31 * MIN_MS + 7 * MIN_MS) * MS_NS;
        out.push(Record { t_ns, host: "h2", bytes: None });
        out.push(Record { t_ns, host: "dash", bytes: None });
    }
    out
}

/// The sum of `bytes` per host of the records in `[from_ms, to_ms)`; a
/// host with no number there has no entry.
fn expected(records: &[Record], from_ms: i64, to_ms: i64) -> BTreeMap<String, u64> {
    let mut sums = BTreeMap::new();
    for r in records {
        if let Some(bytes) = r.bytes {
            if r.t_ns >= from_ms * MS_NS && r.t_ns < to_ms * MS_NS {
                *sums.entry(r.host.to_string()).or_insert(0) += bytes;
            }
        }
    }
    sums
}

/// Push the records as JSON lines (the `Content-Type` is needed: without it
/// VictoriaLogs drops the rows silently) and make them searchable.
async fn push(vl_url: &str, records: &[Record]) {
    let mut body = String::new();
    for r in records {
        let time =
            chrono::DateTime::from_timestamp(r.t_ns.div_euclid(1_000_000_000), r.t_ns.rem_euclid(1_000_000_000) as u32)
                .expect("a valid time")
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let bytes = r.bytes.map_or(json!("-"), |b| json!(b));
        body.push_str(&json!({"_time": time, "stream": "t", "host": r.host, "bytes": bytes}).to_string());
        body.push('\n');
    }
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{vl_url}/insert/jsonline?_stream_fields=stream&_time_field=_time"))
        .header("Content-Type", "application/stream+json")
        .body(body)
        .send()
        .await
        .expect("push to VictoriaLogs");
    assert!(response.status().is_success(), "push: HTTP {}", response.status());
    let flushed = client.get(format!("{vl_url}/internal/force_flush")).send().await.expect("flush VictoriaLogs");
    assert!(flushed.status().is_success(), "flush: HTTP {}", flushed.status());
}

/// A rules file under the temp dir, removed on drop.
struct RulesFile(PathBuf);

impl RulesFile {
    fn new(name: &str, text: &str) -> RulesFile {
        let path = std::env::temp_dir().join(format!("flowlens-rollup-{}-{name}.yml", std::process::id()));
        std::fs::write(&path, text).expect("write the rules file");
        RulesFile(path)
    }
}

impl Drop for RulesFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A VictoriaMetrics API call (`/api/v1/...`) with form arguments; its `data`.
async fn vm_api(vm: &VmServer, path: &str, args: &[(&str, String)]) -> Value {
    let url = format!("{}{path}", vm.url());
    let response = reqwest::Client::new().post(&url).form(args).send().await.expect("ask VictoriaMetrics");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON answer");
    assert!(status.is_success() && body["status"] == "success", "{url} {args:?}: HTTP {status}: {body}");
    body["data"].clone()
}

/// `ms` as a Prometheus API time (seconds with milliseconds).
fn api_time(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// VictoriaMetrics' per-host sum of the replayed samples of `[hour_ms,
/// hour_ms + 1h)`: replay stamps each 5m bucket at its start, so the hour's
/// twelve buckets are the samples of `(hour_end - 1ms - 1h, hour_end - 1ms]`.
async fn hour_sums(vm: &VmServer, hour_ms: i64) -> BTreeMap<String, u64> {
    let query = r#"sum by (host) (sum_over_time(flowlens_rollup{flowlens_rule="abc"}[1h]))"#;
    let data = vm_api(vm, "/api/v1/query", &[("query", query.into()), ("time", api_time(hour_ms + HOUR_MS - 1))]).await;
    to_sums(&data)
}

fn to_sums(data: &Value) -> BTreeMap<String, u64> {
    let mut sums = BTreeMap::new();
    for series in data["result"].as_array().expect("a vector") {
        let host = series["metric"]["host"].as_str().expect("a host label").to_string();
        let value: f64 = series["value"][1].as_str().expect("a value").parse().expect("a number");
        assert!(value.fract() == 0.0 && value >= 0.0, "{host}: {value} is not a whole sum");
        sums.insert(host, value as u64);
    }
    sums
}

/// Every hour of the window (and the window as a whole) equals the records.
async fn assert_sums(vm: &VmServer, records: &[Record], when: &str) {
    for hour in 0..3 {
        let hour_ms = FROM_MS + hour * HOUR_MS;
        let want = expected(records, hour_ms, hour_ms + HOUR_MS);
        assert_eq!(hour_sums(vm, hour_ms).await, want, "{when}: hour {hour}");
    }
    let query = r#"sum by (host) (sum_over_time(flowlens_rollup{flowlens_rule="abc"}[3h]))"#;
    let data = vm_api(vm, "/api/v1/query", &[("query", query.into()), ("time", api_time(TO_MS - 1))]).await;
    assert_eq!(to_sums(&data), expected(records, FROM_MS, TO_MS), "{when}: the whole window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_buckets_equal_the_records_and_a_second_replay_does_not_double() {
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (scripts/victorialogs.sh)");
    let vm = VmServer::start().await.expect("VictoriaMetrics must start (scripts/victoriametrics.sh victoria-metrics)");
    let records = records();
    push(&vl.url, &records).await;
    let rules = RulesFile::new("good", RULES);
    vmserver::check_rules(&rules.0).expect("the rules file is valid");

    let log = vmserver::replay(&rules.0, &vl.url, vm.url(), FROM_MS, TO_MS).await.expect("replay");
    assert!(log.contains("replay succeed!"), "{log}");
    vm.flush().await.expect("flush VictoriaMetrics");

    // The exact label sets: `dash` (every `bytes` is `-`, so VictoriaLogs
    // answers NaN and VictoriaMetrics drops the sample) has no series.
    let window = [("start", api_time(FROM_MS - HOUR_MS)), ("end", api_time(TO_MS + HOUR_MS))];
    let mut args = vec![("match[]", "flowlens_rollup".to_string())];
    args.extend(window.iter().cloned());
    let series = vm_api(&vm, "/api/v1/series", &args).await;
    let mut hosts = BTreeSet::new();
    for labels in series.as_array().expect("a list of series") {
        let labels: BTreeMap<String, String> = serde_json::from_value(labels.clone()).expect("label maps");
        let host = labels.get("host").cloned().expect("a host label");
        let mut want: BTreeMap<String, String> =
            RULE_LABELS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        want.insert("host".into(), host.clone());
        assert_eq!(labels, want, "the labels vmalert writes");
        hosts.insert(host);
    }
    assert_eq!(hosts, ["h1", "h2", "h3"].into_iter().map(String::from).collect(), "no series for the NaN host");

    // Each raw sample is one bucket [T, T+5m), stamped T (its start).
    let mut args = vec![("match[]", "flowlens_rollup".to_string())];
    args.extend(window.iter().cloned());
    let url = format!("{}/api/v1/export", vm.url());
    let export =
        reqwest::Client::new().post(&url).form(&args).send().await.expect("export").text().await.expect("text");
    let mut got = BTreeMap::new();
    for line in export.lines() {
        let series: Value = serde_json::from_str(line).expect("an export line");
        let host = series["metric"]["host"].as_str().expect("a host").to_string();
        let values = series["values"].as_array().expect("values");
        for (t, v) in series["timestamps"].as_array().expect("timestamps").iter().zip(values) {
            got.insert((host.clone(), t.as_i64().expect("a timestamp")), v.as_f64().expect("a value") as u64);
        }
    }
    let mut want = BTreeMap::new();
    for bucket_ms in (FROM_MS..TO_MS).step_by(STEP_MS as usize) {
        for (host, sum) in expected(&records, bucket_ms, bucket_ms + STEP_MS) {
            want.insert((host, bucket_ms), sum);
        }
    }
    assert_eq!(got, want, "one sample per host and bucket, stamped at the bucket's start");

    assert_sums(&vm, &records, "after one replay").await;
    // `h2`'s `-` values were skipped, not turned into NaN: its sums above
    // are the numbers alone. Replay the window again, now one request per
    // hour (the requests meet on bucket edges): the same samples, kept once.
    let hourly = ["-replay.maxDatapointsPerQuery=12".to_string()];
    vmserver::replay_with_args(&rules.0, &vl.url, vm.url(), FROM_MS, TO_MS, &hourly).await.expect("second replay");
    vm.flush().await.expect("flush VictoriaMetrics");
    assert_sums(&vm, &records, "after a second replay").await;

    // Of samples with the same timestamp VictoriaMetrics keeps the biggest:
    // a replay of the same labels with smaller sums changes nothing...
    let smaller = RulesFile::new("smaller", &RULES.replace(r#"stream:"t" |"#, r#"stream:"t" bytes:<1000000 |"#));
    vmserver::replay(&smaller.0, &vl.url, vm.url(), FROM_MS, TO_MS).await.expect("replay of smaller sums");
    vm.flush().await.expect("flush VictoriaMetrics");
    assert_sums(&vm, &records, "after a replay of smaller sums").await;
    // ...and a late record, replayed, raises its bucket.
    let mut records = records;
    let late = vec![Record { t_ns: (FROM_MS + 20 * MIN_MS) * MS_NS, host: "h1", bytes: Some(123_456_789) }];
    push(&vl.url, &late).await;
    records.extend(late);
    vmserver::replay(&rules.0, &vl.url, vm.url(), FROM_MS, TO_MS).await.expect("replay after a late record");
    vm.flush().await.expect("flush VictoriaMetrics");
    assert_sums(&vm, &records, "after a late record").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_into_a_stopped_store_fails_and_works_once_it_is_back() {
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (scripts/victorialogs.sh)");
    let mut vm =
        VmServer::start().await.expect("VictoriaMetrics must start (scripts/victoriametrics.sh victoria-metrics)");
    let records = records();
    push(&vl.url, &records).await;
    let rules = RulesFile::new("down", RULES);

    vm.stop().await.expect("stop VictoriaMetrics");
    let error = vmserver::replay(&rules.0, &vl.url, vm.url(), FROM_MS, TO_MS).await.expect_err("the store is down");
    assert!(error.contains("dropped"), "{error}");

    vm.start_again().await.expect("start VictoriaMetrics again");
    vmserver::replay(&rules.0, &vl.url, vm.url(), FROM_MS, TO_MS).await.expect("replay once it is back");
    vm.flush().await.expect("flush VictoriaMetrics");
    assert_sums(&vm, &records, "after the store came back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_rules_rejects_a_broken_rules_file() {
    let good = RulesFile::new("check-good", RULES);
    vmserver::check_rules(&good.0).expect("the rules file is valid");
    let broken_logsql = RulesFile::new("check-logsql", &RULES.replace("sum(bytes) as value", "sum(bytes as value"));
    let error = vmserver::check_rules(&broken_logsql.0).expect_err("broken LogsQL");
    assert!(error.contains("invalid expression for rule \"flowlens_rollup\""), "{error}");
    let broken_yaml = RulesFile::new("check-yaml", &RULES.replace("interval: 5m", "interval: [5m"));
    vmserver::check_rules(&broken_yaml.0).expect_err("broken YAML");
    let no_name = RulesFile::new("check-record", &RULES.replace("record: flowlens_rollup", "record: \"\""));
    vmserver::check_rules(&no_name.0).expect_err("a rule without a name");
}
