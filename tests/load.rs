//! Load, as a busy Grafana makes it: 50 concurrent QueryData calls, each the
//! whole shipped dashboard (`provisioning/dashboards/nat-gateway.json`, its
//! variables at their default values), for 45 s, from the plugin binary over
//! gRPC against a real VictoriaLogs started with fewer search slots than the
//! datasource's request cap (`-search.maxConcurrentRequests=2`, the cap 4)
//! and a short queue (`-search.maxQueueDuration=2s`), on loopback. The
//! datasource's bucket cache is off (`cacheMaxMiB: 0`): every call reaches
//! the backend (identical requests in flight still share one answer).
//!
//! Proves: no error and no panic in any answer, every answer equal to a
//! reference-checked one (the first call's answers are checked against
//! `tests/common/reference.rs`, every later answer must equal them exactly),
//! under contention that is measured, not assumed (VictoriaLogs' own
//! counters: at least [`MIN_REQUESTS`] search requests, at least
//! [`MIN_WAITS`] of them found every slot busy and waited), and VictoriaLogs
//! never had to refuse a request (`vl_concurrent_select_limit_timeout_total`):
//! the plugin queued its requests within the datasource's cap instead of
//! flooding the server (with `FLOWLENS_LOAD_CAP=64` it does flood, and this
//! fails).
//! Prints, and writes to `test-artifacts/load/report.txt`: calls, answers,
//! errors, VictoriaLogs' counters, latency and the plugin's peak RSS.
//!
//! `FLOWLENS_LOAD_SECONDS` and `FLOWLENS_LOAD_CAP` (the datasource's
//! `maxConcurrentRequests`) change the run for experiments by hand.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::data;
use common::harness::{DecodedFrame, Plugin};
use common::panels::{Checker, Window};
use common::reference::{Dir, RefQuery};
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::Value;

/// Concurrent QueryData calls.
const WORKERS: usize = 50;
/// How long the workers keep calling (each finishes the call it is in).
const SECONDS: u64 = 45;
/// VictoriaLogs' `-search.maxConcurrentRequests`: fewer than the
/// datasource's 4, so that its slots are contended.
const SERVER_SLOTS: usize = 2;
/// VictoriaLogs' `-search.maxQueueDuration`: a request waiting longer for a
/// slot is refused (503).
const SERVER_QUEUE: &str = "2s";
/// At least this many search requests reach VictoriaLogs during the load.
const MIN_REQUESTS: u64 = 200;
/// At least this many of them wait for one of its slots.
const MIN_WAITS: u64 = 100;
/// Longest the whole load may take, past its 60 s, before the test fails.
const BOUND: Duration = Duration::from_secs(300);
/// Connections of the load's own fixture: a fifth of the end-to-end
/// fixture's day, so that 50 dashboards at once fit in the datasource's
/// 60 s timeout on a 2-core machine that also runs VictoriaLogs (this test
/// is about concurrency, not volume; `flowlens bench` measures volume).
const CONNECTIONS: usize = 4_000;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// Every target of the shipped dashboard, its variables at their default
/// values (the dashboard's own `current` values), each with its own refId.
fn dashboard_targets() -> Vec<Value> {
    let dashboard: Value = serde_json::from_str(&repo_file("provisioning/dashboards/nat-gateway.json")).unwrap();
    let defaults: Vec<(String, String)> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["current"]["value"].as_str().unwrap().to_string()))
        .collect();
    let mut targets = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().cloned().unwrap_or_default() {
            let mut text = serde_json::to_string(&target).unwrap();
            for (name, value) in &defaults {
                let escaped = serde_json::to_string(value).unwrap();
                text = text.replace(&format!("${{{name}}}"), &escaped[1..escaped.len() - 1]);
            }
            let mut target: Value = serde_json::from_str(&text).unwrap();
            target["refId"] = Value::from(format!("P{}", targets.len()));
            targets.push(target);
        }
    }
    assert!(targets.len() >= 10, "the dashboard's targets: {}", targets.len());
    targets
}

/// The reference question of a dashboard target at default variables: its
/// direction over the window (the variables' `=~ .*` filters match all).
fn reference_for(target: &Value, w: &Window) -> RefQuery {
    let direction = match target["direction"].as_str().unwrap_or("any") {
        "in" => Dir::In,
        "out" => Dir::Out,
        "all" => Dir::All,
        _ => Dir::Any,
    };
    for f in target["filters"].as_array().cloned().unwrap_or_default() {
        assert_eq!((&f["op"], &f["value"]), (&Value::from("=~"), &Value::from(".*")), "teach this test {f}");
    }
    RefQuery::new(direction, data::POD_CIDR, Some(data::NAT_ENI), w.from_ms, w.to_ms)
}

/// Checks one target's frames against the reference.
fn verify(check: &Checker, target: &Value, frames: &[DecodedFrame]) {
    let reference = reference_for(target, &check.w);
    let grouped = target["groupBy"].as_array().is_some_and(|g| !g.is_empty());
    match (target["format"].as_str().unwrap(), grouped) {
        ("stat", _) => check.verify_stat(target, &reference, frames),
        ("series", false) => check.verify_rate_series(target, &reference, frames),
        ("series", true) => check.verify_top_series(target, &reference, frames),
        ("table", _) => check.verify_top_table(target, &reference, frames),
        ("logs", _) => check.verify_logs(target, &reference, flowlens_devtools::gen::MISSION_FORMAT, frames),
        (other, _) => panic!("format {other} has no check"),
    }
}

/// What an answer says, to compare answers exactly: per frame its name, and
/// per field its name, labels and values.
type Digest = Vec<(String, Vec<(String, BTreeMap<String, String>, Vec<Value>)>)>;

fn digest(frames: &[DecodedFrame]) -> Digest {
    frames
        .iter()
        .map(|f| {
            (f.name.clone(), f.fields.iter().map(|x| (x.name.clone(), x.labels.clone(), x.values.clone())).collect())
        })
        .collect()
}

/// The counter of VictoriaLogs' search requests, all endpoints.
const SEARCHES: &str = "search requests";

/// VictoriaLogs' own counters from `/metrics`.
async fn server_counters(url: &str) -> HashMap<String, u64> {
    let text = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
    let wanted = ["vl_concurrent_select_limit_reached_total", "vl_concurrent_select_limit_timeout_total"];
    let mut counters: HashMap<String, u64> = text
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(k, _)| wanted.contains(k))
        .map(|(k, v)| (k.to_string(), v.parse::<f64>().unwrap() as u64))
        .collect();
    // Every search endpoint (query, stats_query, stats_query_range, ...).
    let searches: u64 = text
        .lines()
        .filter(|l| l.starts_with("vl_http_requests_total{path=\"/select/logsql/"))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(_, v)| v.parse::<f64>().unwrap() as u64)
        .sum();
    counters.insert(SEARCHES.into(), searches);
    counters
}

/// The running plugin executable started by this test process.
fn plugin_pid() -> u32 {
    let me = std::process::id().to_string();
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let Some((comm, rest)) = stat.split_once(") ") else { return false };
            comm.ends_with("(gpx_flowlens") && rest.split_whitespace().nth(1) == Some(me.as_str())
        })
        .collect();
    assert_eq!(pids.len(), 1, "one plugin process: {pids:?}");
    pids[0]
}

/// A `/proc/<pid>/status` value in KiB (`VmHWM:`, `VmRSS:`).
fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key} in {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[derive(Default)]
struct Tally {
    calls: AtomicUsize,
    answers: AtomicUsize,
    errors: Mutex<Vec<String>>,
    mismatches: Mutex<Vec<String>>,
    latencies_ms: Mutex<Vec<u64>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_dashboards_at_once_for_a_minute_all_exact() {
    let seconds = env_number("FLOWLENS_LOAD_SECONDS", SECONDS);
    let cap = std::env::var("FLOWLENS_LOAD_CAP").ok();
    let opts = VlOptions {
        extra_args: vec![
            format!("-search.maxConcurrentRequests={SERVER_SLOTS}"),
            format!("-search.maxQueueDuration={SERVER_QUEUE}"),
        ],
        ..Default::default()
    };
    let server = VlServer::start(opts).await.expect("VictoriaLogs must start");
    let records = flowlens_devtools::gen::generate(&flowlens_devtools::gen::GenConfig {
        connections: CONNECTIONS,
        ..data::config()
    });
    let loader = flowlens_devtools::load::Loader::new(&server.url);
    loader
        .push_raw(&records, flowlens_devtools::gen::MISSION_FORMAT, &data::RAW_STREAM)
        .await
        .expect("push the records");
    loader.force_flush().await.expect("force flush");
    let plugin = Arc::new(Plugin::start().await);
    let pid = plugin_pid();
    let mut ds = data::raw_instance(&server.url, "load");
    // No bucket cache: over a settled day it would answer every call after
    // the first, and the backend would see no load at all.
    ds.json_data["cacheMaxMiB"] = Value::from(0);
    if let Some(cap) = &cap {
        ds.json_data["maxConcurrentRequests"] = Value::from(cap.parse::<u64>().expect("FLOWLENS_LOAD_CAP"));
    }
    let ds = Arc::new(ds);
    let w = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 60_000 };
    let targets = Arc::new(dashboard_targets());
    let idle_kib = status_kib(pid, "VmRSS:");

    // The first call: every answer checked against the reference.
    let check = Checker { plugin: &plugin, ds: &ds, records: &records, w };
    let first_started = Instant::now();
    let first = plugin.query(&ds, (w.from_ms, w.to_ms), w.interval_ms, &targets).await;
    let first_ms = first_started.elapsed().as_millis();
    let mut expected = HashMap::new();
    for target in targets.iter() {
        let ref_id = target["refId"].as_str().unwrap();
        let answer = &first[ref_id];
        assert!(answer.error.is_empty(), "{ref_id} {target}: {}", answer.error);
        verify(&check, target, &answer.frames);
        expected.insert(ref_id.to_string(), digest(&answer.frames));
    }
    let expected = Arc::new(expected);
    let before = server_counters(&server.url).await;

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let stop_at = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (plugin, ds, targets, expected, tally) =
                (plugin.clone(), ds.clone(), targets.clone(), expected.clone(), tally.clone());
            tokio::spawn(async move {
                while Instant::now() < stop_at {
                    let t = Instant::now();
                    let answers = plugin.query(&ds, (w.from_ms, w.to_ms), w.interval_ms, &targets).await;
                    tally.latencies_ms.lock().unwrap().push(t.elapsed().as_millis() as u64);
                    tally.calls.fetch_add(1, Ordering::Relaxed);
                    for target in targets.iter() {
                        let ref_id = target["refId"].as_str().unwrap();
                        let Some(answer) = answers.get(ref_id) else {
                            tally.errors.lock().unwrap().push(format!("{ref_id}: no answer"));
                            continue;
                        };
                        tally.answers.fetch_add(1, Ordering::Relaxed);
                        if !answer.error.is_empty() {
                            tally.errors.lock().unwrap().push(format!("{ref_id}: {}", answer.error));
                        } else if digest(&answer.frames) != expected[ref_id] {
                            tally.mismatches.lock().unwrap().push(format!("{ref_id}: {:?}", answer.frames));
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::timeout(BOUND, futures_util::future::join_all(workers))
        .await
        .unwrap_or_else(|_| panic!("the load did not finish within {BOUND:?}"))
        .into_iter()
        .for_each(|joined| joined.expect("a worker panicked"));
    let took = started.elapsed();
    let after = server_counters(&server.url).await;
    let peak_kib = status_kib(pid, "VmHWM:");
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));

    let delta = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    let mut latencies = tally.latencies_ms.lock().unwrap().clone();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let errors = tally.errors.lock().unwrap().clone();
    let mismatches = tally.mismatches.lock().unwrap().clone();
    let panics = errors.iter().filter(|e| e.contains("panicked")).count();
    let calls = tally.calls.load(Ordering::Relaxed);
    let report = format!(
        "load: {WORKERS} concurrent QueryData calls of the whole dashboard ({} targets) for {seconds} s \
         (ran {:.1} s), VictoriaLogs -search.maxConcurrentRequests={SERVER_SLOTS} -search.maxQueueDuration={SERVER_QUEUE}, cache off, datasource maxConcurrentRequests={}, \
         {} records; one dashboard alone took {first_ms} ms\n\
         calls {calls}, answers {} ({:.1}/s), errors {}, panics {panics}, answers differing from the reference {}\n\
         VictoriaLogs: {} search requests, {} found its {SERVER_SLOTS} slots busy and waited, \
         {} refused with 503 (each retried by the plugin)\n\
         QueryData latency ms: p50 {} p90 {} max {}\n\
         plugin RSS idle {:.1} MiB, peak (VmHWM) {:.1} MiB\n",
        targets.len(),
        took.as_secs_f64(),
        cap.as_deref().unwrap_or("default (4)"),
        records.len(),
        tally.answers.load(Ordering::Relaxed),
        tally.answers.load(Ordering::Relaxed) as f64 / took.as_secs_f64(),
        errors.len(),
        mismatches.len(),
        delta(SEARCHES),
        delta("vl_concurrent_select_limit_reached_total"),
        delta("vl_concurrent_select_limit_timeout_total"),
        at(0.5),
        at(0.9),
        at(1.0),
        idle_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
    );
    eprintln!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-artifacts/load");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.txt"), &report).unwrap();

    assert!(alive, "the plugin process died");
    assert!(calls >= WORKERS, "every worker answered at least once: {calls}");
    assert!(errors.is_empty(), "{} errors, e.g. {:?}\n{report}", errors.len(), &errors[..errors.len().min(5)]);
    assert!(mismatches.is_empty(), "{} answers differ, e.g. {}\n{report}", mismatches.len(), mismatches[0]);
    assert!(delta(SEARCHES) >= MIN_REQUESTS, "too few requests reached VictoriaLogs: not a load\n{report}");
    assert!(
        delta("vl_concurrent_select_limit_reached_total") >= MIN_WAITS,
        "too few requests waited for one of VictoriaLogs' slots: not contended\n{report}"
    );
    assert_eq!(
        delta("vl_concurrent_select_limit_timeout_total"),
        0,
        "VictoriaLogs refused requests: the plugin sent more than it can run\n{report}"
    );
}
