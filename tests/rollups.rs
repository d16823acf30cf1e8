//! Rollups end to end with the real engines: the fixture's day in
//! VictoriaLogs, the rules `flowlens rules` prints for the provisioned
//! datasource replayed over it by a real vmalert (built from the Go module
//! proxy) into a real VictoriaMetrics, and every panel of both shipped
//! dashboards through the plugin binary with the rollup store set, equal to
//! the independent reference over the day and an unaligned window; the
//! frames say which part came from rollups. Then what must not change a
//! number: an evaluation missing for two hours, a changed setting (other
//! fingerprints: nothing read from rollups), a store that is down, a late
//! record (stale until the window is replayed again, then exact).

mod common;

use common::dashboards::{every_cost_panel, every_panel, provisioned_datasource};
use common::data;
use common::harness::{flowlens_cli, notices, Instance, Plugin};
use common::panels::{reference_for, Checker, Window};
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use flowlens_devtools::vmserver::{self, VmServer};
use serde_json::{json, Value};

const DAY: (i64, i64) = (data::FROM_MS, data::TO_MS);
const H: i64 = 3_600_000;

/// The provisioned datasource reading rollups of `resolution` (one or
/// several) from `vm` (replayed: stamped at their start), without the
/// bucket cache so every answer is read.
fn with_rollups(vl: &str, vm: &str, resolution: &str) -> Instance {
    let mut ds = provisioned_datasource(vl);
    ds.uid = "rollups".into();
    ds.json_data["rollups"] = json!({"url": vm, "resolution": resolution, "stamps": "start"});
    ds.json_data["cacheMaxMiB"] = json!(0);
    ds
}

/// The rules for the datasource's settings (its resolutions), as `flowlens
/// rules` prints them.
fn rules_file(ds: &Instance, dir: &std::path::Path) -> std::path::PathBuf {
    let settings = ds.json_data.to_string();
    let (ok, out, err) = flowlens_cli(&["rules", "--url", &ds.url, "--settings", &settings, "--ports"]);
    assert!(ok, "flowlens rules failed: {err}");
    assert!(out.contains("type: vlogs") && out.contains("flowlens_rollup_evaluated"), "{out}");
    let path = dir.join("rules.yaml");
    std::fs::write(&path, &out).unwrap();
    vmserver::check_rules(&path).expect("vmalert -dryRun accepts the rules");
    path
}

/// A stat target of the NAT dashboard with every variable at All.
fn total_in() -> Value {
    json!({"refId": "A", "format": "stat", "metric": "bytes", "direction": "in", "groupBy": [], "filters": []})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_is_exact_with_rollups_and_says_where_it_came_from() {
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&vl.url).await;
    let vm = VmServer::start().await.expect("VictoriaMetrics must start");
    let dir = tempdir();
    // 1-minute and 1-hour rollups; ports at 1 hour only.
    let ds = with_rollups(&vl.url, vm.url(), "1m,1h");
    let rules = rules_file(&ds, &dir);
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(text.contains("name: flowlens-1m") && text.contains("name: flowlens-1h"), "{text}");
    assert!(text.contains(" (1h): NAT gateway traffic / IN by IP and port\n"), "ports at 1h only:\n{text}");

    // Two hours of the day never evaluated: read raw.
    let gap = (DAY.0 + 10 * H, DAY.0 + 12 * H);
    vmserver::replay(&rules, &vl.url, vm.url(), DAY.0, gap.0).await.expect("replay before the gap");
    vmserver::replay(&rules, &vl.url, vm.url(), gap.1, DAY.1).await.expect("replay after the gap");
    vm.flush().await.expect("flush");

    let plugin = Plugin::start().await;
    let records = loaded.records;
    // Rollups were read, and the frames say for which part.
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 60_000 };
    let check = Checker { plugin: &plugin, ds: &ds, records, w };
    let frames = check.frames(&total_in()).await;
    let said = notices(&frames);
    assert!(said.contains("From rollups: 2026-11-20T12:00:00Z to 2026-11-21T00:00:00Z"), "{said}");
    check.check_stat(total_in(), &reference_for(&total_in(), &ds, &w)).await;
    // Each kind of question reads its rollups: a series, rankings by one and
    // by two fields (tables and the ranked series), shares, records.
    for target in [
        json!({"refId": "A", "format": "series", "metric": "bytes", "direction": "out", "rate": true, "filters": []}),
        json!({"refId": "A", "format": "table", "metric": "bytes", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10, "other": true, "filters": []}),
        json!({"refId": "A", "format": "table", "metric": "bytes", "direction": "in", "groupBy": ["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], "limit": 10, "filters": []}),
        json!({"refId": "A", "format": "series", "metric": "bytes", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10, "rate": true, "filters": []}),
        json!({"refId": "A", "format": "table", "metric": "bytes", "direction": "all", "groupBy": ["flow_direction", "traffic_path"], "limit": 20, "share": true, "filters": []}),
        json!({"refId": "A", "format": "series", "metric": "records", "direction": "all", "groupBy": ["action"], "limit": 10, "share": true, "filters": []}),
    ] {
        let frames = check.frames(&target).await;
        assert!(notices(&frames).contains("From rollups: 2026-11-20T12:00:00Z"), "{target}: {}", notices(&frames));
        // Rankings read the coarser rollups (whole hours), series the finer.
        let sent = frames[0].meta["executedQueryString"].as_str().unwrap_or_default().to_string();
        let coarse = target["format"] == "table";
        assert!(sent.contains(if coarse { "rollups of 1h" } else { "rollups of 1m" }), "{target}: {sent}");
    }

    // Every panel of both dashboards, over the day, an hour and an
    // unaligned window.
    every_panel(&plugin, &ds, records, DAY).await;
    every_cost_panel(&plugin, &ds, records, DAY).await;
    let hour = (DAY.0 + 14 * H, DAY.0 + 15 * H);
    every_panel(&plugin, &ds, records, hour).await;
    every_cost_panel(&plugin, &ds, records, hour).await;
    let unaligned = (DAY.0 + 7 * 60_000 + 13_000, DAY.1 - 3 * 60_000 - 500);
    every_panel(&plugin, &ds, records, unaligned).await;
    every_cost_panel(&plugin, &ds, records, unaligned).await;

    // A changed setting: other expressions, other fingerprints; nothing is
    // read from rollups and the numbers follow the new setting.
    let mut changed = ds.clone();
    changed.uid = "changed".into();
    changed.json_data["insideCidrs"] = json!(["10.0.32.0/21"]);
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 60_000 };
    let check = Checker { plugin: &plugin, ds: &changed, records, w };
    let frames = check.frames(&total_in()).await;
    assert!(!notices(&frames).contains("From rollups"), "{}", notices(&frames));
    check.check_stat(total_in(), &reference_for(&total_in(), &changed, &w)).await;
}

/// The fixture's day in VictoriaLogs, its first six hours' 1-minute rules
/// replayed into a VictoriaMetrics started with `vm_args`, and a plugin.
struct SixHours {
    vl: VlServer,
    loaded: data::Loaded,
    vm: VmServer,
    ds: Instance,
    rules: std::path::PathBuf,
    plugin: Plugin,
    w: Window,
}

async fn six_hours(vm_args: &[&str]) -> SixHours {
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&vl.url).await;
    let vm = VmServer::start_with(vm_args).await.expect("VictoriaMetrics must start");
    let ds = with_rollups(&vl.url, vm.url(), "1m");
    let rules = rules_file(&ds, &tempdir());
    let w = Window { from_ms: DAY.0, to_ms: DAY.0 + 6 * H, interval_ms: 60_000 };
    vmserver::replay(&rules, &vl.url, vm.url(), w.from_ms, w.to_ms).await.expect("replay");
    vm.flush().await.expect("flush");
    SixHours { vl, loaded, vm, ds, rules, plugin: Plugin::start().await, w }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_or_stale_never_changes_a_number_unsaid() {
    let SixHours { vl, loaded, mut vm, ds, rules, plugin, w } = six_hours(&[]).await;
    let hours = (w.from_ms, w.to_ms);
    let reference = reference_for(&total_in(), &ds, &w);

    // A late record, after its window was evaluated: the rollups miss it
    // (the frames say the range came from rollups), until the window is
    // replayed again; then exact, not doubled.
    let mut late = common::reference::matching(loaded.records, &reference)
        .find(|r| r.time_ms >= hours.0 + H)
        .cloned()
        .expect("a record the panel counts");
    late.bytes = Some(1_000_000_007);
    late.time_ms = hours.0 + H + 30_000;
    let loader = flowlens_devtools::load::Loader::new(&vl.url);
    loader
        .push_raw(std::slice::from_ref(&late), flowlens_devtools::gen::MISSION_FORMAT, &data::RAW_STREAM)
        .await
        .unwrap();
    loader.force_flush().await.unwrap();
    let check = Checker { plugin: &plugin, ds: &ds, records: loaded.records, w };
    let frames = check.frames(&total_in()).await;
    assert!(notices(&frames).contains("From rollups: 2026-11-20T00:00:00Z to 2026-11-20T06:00:00Z"));
    check.check_stat(total_in(), &reference).await;
    vmserver::replay(&rules, &vl.url, vm.url(), hours.0 + H, hours.0 + 2 * H).await.expect("replay the late hour");
    vm.flush().await.expect("flush");
    let with_late: Vec<_> = loaded.records.iter().cloned().chain([late]).collect();
    let check = Checker { plugin: &plugin, ds: &ds, records: &with_late, w };
    check.check_stat(total_in(), &reference_for(&total_in(), &ds, &w)).await;

    // Points off the resolution's grid (a ruler that offsets its groups):
    // never read, said, exact from raw records.
    let text = std::fs::read_to_string(&rules).unwrap();
    let fingerprint = text
        .lines()
        .find_map(|l| l.strip_prefix("# ").and_then(|l| l.strip_suffix(" (1m): NAT gateway traffic / Total IN")))
        .expect("the Total IN rule's fingerprint")
        .to_string();
    let off_grid: String = (0..5)
        .map(|i| {
            let t = hours.1 - 30 * 60_000 + i * 60_000 + 30_000;
            format!("flowlens_rollup_evaluated{{flowlens_rule=\"{fingerprint}\",stats_result=\"value\"}} 1 {t}\n")
        })
        .collect();
    let imported = reqwest::Client::new()
        .post(format!("{}/api/v1/import/prometheus", vm.url()))
        .body(off_grid)
        .send()
        .await
        .unwrap();
    assert!(imported.status().is_success(), "{imported:?}");
    vm.flush().await.expect("flush");
    let frames = check.frames(&total_in()).await;
    let said = notices(&frames);
    assert!(said.contains("not on the 1m grid") && !said.contains("From rollups"), "{said}");
    check.check_stat(total_in(), &reference_for(&total_in(), &ds, &w)).await;

    // The store down: the numbers from raw records, and a notice saying so.
    vm.stop().await.expect("stop VictoriaMetrics");
    let frames = check.frames(&total_in()).await;
    let said = notices(&frames);
    assert!(said.contains("Rollups not read") && !said.contains("From rollups"), "{said}");
    check.check_stat(total_in(), &reference_for(&total_in(), &ds, &w)).await;
}

/// A store that answers which intervals were evaluated but refuses a
/// ranking's query (VictoriaMetrics' `-search.maxResponseSeries`, as a
/// store sized for dashboards refuses a ranking over many groups): the
/// ranking from raw records, exact, with a notice naming the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_refuses_a_ranking_leaves_it_to_raw_records_with_a_notice() {
    // Both servers bound: dropped, they would stop.
    let SixHours { vl: _vl, vm: _vm, loaded, ds, plugin, w, .. } = six_hours(&["-search.maxResponseSeries=3"]).await;
    let check = Checker { plugin: &plugin, ds: &ds, records: loaded.records, w };
    // The total still reads rollups (one series); the ranking cannot.
    assert!(notices(&check.frames(&total_in()).await).contains("From rollups"));
    let top = json!({"refId": "A", "format": "table", "metric": "bytes", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10, "filters": []});
    let said = notices(&check.frames(&top).await);
    assert!(said.contains("Rollups not read (") && !said.contains("From rollups"), "{said}");
    check.check_top_table(top.clone(), &reference_for(&top, &ds, &w)).await;
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flowlens-rollups-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_test_reports_rollup_coverage() {
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let now = chrono::Utc::now().timestamp_millis();
    let (from, to) = ((now - 3 * H) / 60_000 * 60_000, now / 60_000 * 60_000);
    let config = flowlens_devtools::gen::GenConfig { from_ms: from, to_ms: to, connections: 3_000, ..data::config() };
    let records = flowlens_devtools::gen::generate(&config);
    let loader = flowlens_devtools::load::Loader::new(&vl.url);
    loader.push_raw(&records, flowlens_devtools::gen::MISSION_FORMAT, &data::RAW_STREAM).await.unwrap();
    loader.force_flush().await.unwrap();
    let mut vm = VmServer::start().await.expect("VictoriaMetrics must start");
    let dir = tempdir();
    let ds = with_rollups(&vl.url, vm.url(), "1m");
    let rules = rules_file(&ds, &dir);
    let plugin = Plugin::start().await;

    // Nothing evaluated yet: says so and what to do; the datasource works.
    let (ok, said) = plugin.check_health(&ds).await;
    assert!(ok && said.contains("the store holds no 1m rollups of these settings"), "{said}");

    // Evaluated up to 20 minutes ago: from when, to when, how far behind.
    let newest = to - 20 * 60_000;
    vmserver::replay(&rules, &vl.url, vm.url(), from, newest).await.expect("replay");
    vm.flush().await.expect("flush");
    let (ok, said) = plugin.check_health(&ds).await;
    let expected = format!(
        "Rollups: 3 of 3 total-bytes questions (any, in, out) have 1m rollups of these settings, evaluated from {} to {}",
        flowlens::time::rfc3339(from),
        flowlens::time::rfc3339(newest)
    );
    assert!(ok && said.contains(&expected), "{said}\nshould say\n{expected}");
    assert!(said.contains("m behind now)"), "{said}");

    // Other settings: other fingerprints, none in the store.
    let mut changed = ds.clone();
    changed.uid = "changed".into();
    changed.json_data["insideCidrs"] = json!(["10.0.32.0/21"]);
    let (ok, said) = plugin.check_health(&changed).await;
    assert!(ok && said.contains("the store holds no 1m rollups of these settings"), "{said}");

    // The store down: Save & test fails, naming the store and the setting.
    vm.stop().await.expect("stop VictoriaMetrics");
    let (ok, said) = plugin.check_health(&ds).await;
    assert!(!ok && said.contains("the rollup store at") && said.contains("Fix rollups.url"), "{said}");
}

/// vmalert evaluating live, as deployed (`rollups.stamps: end`, the
/// default): 10-second rules over records of the last minutes, then a
/// 10-second series over the evaluated span read from rollups, equal to
/// the reference; the unevaluated edges from VictoriaLogs. (This test found
/// VictoriaMetrics repeating the previous point for the last 30 s of a
/// range query: `latency_offset` and `rollups::LATENCY_MS`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_evaluation_stamped_at_the_end_is_read_exactly() {
    const S: i64 = 10_000;
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let now = chrono::Utc::now().timestamp_millis();
    let (from, to) = (now / S * S - 60 * S, now / S * S + 12 * S);
    let config = flowlens_devtools::gen::GenConfig { from_ms: from, to_ms: to, connections: 2_000, ..data::config() };
    let records = flowlens_devtools::gen::generate(&config);
    let loader = flowlens_devtools::load::Loader::new(&vl.url);
    loader.push_raw(&records, flowlens_devtools::gen::MISSION_FORMAT, &data::RAW_STREAM).await.unwrap();
    loader.force_flush().await.unwrap();
    let vm = VmServer::start().await.expect("VictoriaMetrics must start");
    let mut ds = provisioned_datasource(&vl.url);
    ds.uid = "live".into();
    ds.json_data["rollups"] = json!({"url": vm.url(), "resolution": "10s"});
    ds.json_data["cacheMaxMiB"] = json!(0);
    let settings = ds.json_data.to_string();
    let (ok, out, err) =
        flowlens_cli(&["rules", "--url", &ds.url, "--settings", &settings, "--resolution", "10s", "--delay", "70s"]);
    assert!(ok && out.contains("interval: 10s") && out.contains("eval_delay: 70s"), "{err}{out}");
    let dir = tempdir();
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, &out).unwrap();
    vmserver::evaluate_live(&rules, &vl.url, vm.url(), std::time::Duration::from_secs(45)).await.expect("vmalert");
    vm.flush().await.expect("flush");

    let plugin = Plugin::start().await;
    let end = chrono::Utc::now().timestamp_millis() / S * S;
    // Evaluated: about [start - 80 s, start - 25 s); the minute before now
    // is never read from rollups (`rollups::LATENCY_MS`).
    let w = Window { from_ms: end - 18 * S, to_ms: end, interval_ms: S };
    let check = Checker { plugin: &plugin, ds: &ds, records: &records, w };
    for direction in ["in", "out"] {
        let target = json!({"refId": "A", "format": "series", "metric": "bytes", "direction": direction, "rate": true, "filters": []});
        let frames = check.frames(&target).await;
        let said = notices(&frames);
        assert!(said.contains("From rollups: "), "{direction}: {said}");
        check.check_rate_series(target.clone(), &reference_for(&target, &ds, &w)).await;
    }
}
