//! `flowlens bench --only rollups` (issue 21): a week of generated records
//! in one VictoriaLogs, `flowlens rules` for the bench's datasource (the
//! benchmarked dashboard's questions at 1m) replayed by vmalert into a
//! VictoriaMetrics, then the dashboard refreshed cold over the last 24 h and
//! over the 7 d by flowlens with rollups, flowlens without, and the official
//! datasource on the raw records; every answer checked against the
//! reference ([`super::reference`]) before its time counts. Then what the
//! rollup store holds (series, samples, bytes on disk next to the log
//! store's) and where the time of a refresh with rollups goes (each panel
//! alone, what it read from rollups, the requests each store answered).
//!
//! The replay stops where a live vmalert with the rules' `eval_delay`
//! (the datasource's `cacheSettleMinutes`) would have evaluated by the end of
//! the range: the last 30 minutes are read from VictoriaLogs, as in a
//! deployment. The report is [`super::rollups_report`].

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::check::{self, Lines};
use super::grpc::{self, Plugin, Window};
use super::panels::{self, Panel, NAT_ENI, POD_CIDR};
use super::reference::{Expect, Scope};
use super::rollups_report::{self as report, Measured, PanelProfile, Profile, Refresh};
use super::timing::dashboard_cold;
use super::{add_expects, raw_settings, setup, store, Contender, Options, Report, Setup, BENCH_TIMEOUT_S, RAW_STREAM};
use crate::gen::{generate, GenConfig, MISSION_FORMAT};
use crate::load::Loader;
use crate::vmserver::{self, VmServer};

const DAY_MS: i64 = 86_400_000;
/// Days of records.
pub(super) const DAYS: i64 = 7;
/// The log store's name in the plugin's notices.
const RAW: &str = "VictoriaLogs";
/// A panel's notice when nothing came from rollups.
pub(super) const NOTHING: &str = "nothing from rollups";
/// The rules' intervals (`rollups.resolution`): 1m, and 1h for every
/// question. Without `--ports`: on this traffic each address-and-port group
/// is one connection, so its rollups are as many series as connections (a
/// run with `--ports`: 198,000 series a day, the store 0.54x the raw
/// store's bytes, the ports panel slower than from raw records; BENCHMARKS.md).
const RESOLUTIONS: &str = "1m,1h";
/// The finest of them.
const RESOLUTION_MS: i64 = 60_000;
/// `$__interval` of both ranges: Grafana's for 24 h at 144 points, and for 7 d
/// at 1008 (a panel about 1000 px wide); whole buckets at both ends.
const INTERVAL_MS: i64 = 600_000;

/// One range of the dashboard: its window, its panels (targets carrying
/// the window's interval) and their reference answers.
pub(super) struct Range {
    pub name: &'static str,
    pub w: Window,
    pub dashboard: Vec<Panel>,
    expects: Vec<Vec<Expect>>,
    scope: Scope,
}

impl Range {
    fn new(name: &'static str, from_ms: i64, to_ms: i64) -> Result<Range, String> {
        let points = (to_ms - from_ms) / INTERVAL_MS;
        let w = Window { from_ms, to_ms, interval_ms: INTERVAL_MS, max_data_points: points };
        let dashboard = panels::dashboard(w)?;
        let expects = dashboard.iter().map(|p| p.targets.iter().map(|(_, k)| Expect::new(k)).collect()).collect();
        let scope = Scope {
            interface_id: NAT_ENI.into(),
            inside: POD_CIDR.parse().expect("the pod CIDR"),
            from_ms,
            to_ms,
            step_ms: INTERVAL_MS,
        };
        Ok(Range { name, w, dashboard, expects, scope })
    }
}

/// Generates the week day by day (each day its own seed, generated while
/// the previous one is pushed), loads the raw lines and adds every day to
/// both ranges' references; returns the number of records.
async fn load_week(server_url: &str, cfg: &GenConfig, ranges: &mut [Range]) -> Result<usize, String> {
    let week_from = cfg.to_ms - DAYS * DAY_MS;
    let day = |d: i64| {
        let c = GenConfig {
            seed: cfg.seed + d as u64,
            from_ms: week_from + d * DAY_MS,
            to_ms: week_from + (d + 1) * DAY_MS,
            ..cfg.clone()
        };
        tokio::task::spawn_blocking(move || generate(&c))
    };
    let loader = Loader::new(server_url);
    let mut total = 0;
    let mut next = Some(day(0));
    for d in 0..DAYS {
        let records = next.take().expect("a day being generated").await.map_err(|e| e.to_string())?;
        next = (d + 1 < DAYS).then(|| day(d + 1));
        loader.push_raw(&records, MISSION_FORMAT, &RAW_STREAM).await.map_err(|e| e.to_string())?;
        for r in ranges.iter_mut() {
            add_expects(&mut r.expects, &r.dashboard, &r.scope, &records);
        }
        total += records.len();
        eprintln!("[bench] day {} of {DAYS}: {} records", d + 1, records.len());
    }
    loader.force_flush().await.map_err(|e| e.to_string())?;
    Ok(total)
}

/// The rules `flowlens rules` prints for `json_data` (the benchmarked
/// dashboard's questions at 1m), written to a file in `dir`; with the
/// number of rolled-up questions and the comments on those left out.
fn rules(vl_url: &str, json_data: &serde_json::Value, dir: &std::path::Path) -> Result<report::Rules, String> {
    let settings = flowlens::settings::Settings::from_instance(&flowlens::settings::InstanceSettings {
        url: vl_url,
        json_data: &serde_json::to_vec(json_data).map_err(|e| e.to_string())?,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let ds = flowlens::datasource::Datasource::new(settings).map_err(|e| e.message)?;
    let dashboard = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../provisioning/dashboards/nat-gateway.json");
    let opts = crate::rules::Options {
        dashboards: vec![dashboard],
        resolutions_ms: flowlens::rollups::settings::resolutions_ms(RESOLUTIONS),
        ports: false,
        delay_ms: ds.settings.cache_settle_ms,
    };
    let yaml = crate::rules::render(&ds, &opts)?;
    let path = dir.join("flowlens-rules.yaml");
    std::fs::write(&path, &yaml).map_err(|e| format!("{}: {e}", path.display()))?;
    let rules = yaml.lines().filter(|l| l.trim_start().starts_with("- record: flowlens_rollup")).count();
    let left_out = yaml.lines().filter_map(|l| l.strip_prefix("# left out: ")).map(str::to_string).collect();
    Ok(report::Rules { path, rules, left_out, delay_ms: ds.settings.cache_settle_ms })
}

/// Replays the rules day by day over `[from_ms, to_ms)` (each day one
/// vmalert run, one request per rule and day); the seconds of each day.
async fn replay(rules: &report::Rules, vl: &str, vm: &VmServer, from_ms: i64, to_ms: i64) -> Result<Vec<f64>, String> {
    let mut days = Vec::new();
    let one_request = [format!("-replay.maxDatapointsPerQuery={}", DAY_MS / RESOLUTION_MS)];
    let mut start = from_ms;
    while start < to_ms {
        let end = (start + DAY_MS).min(to_ms);
        let t = Instant::now();
        vmserver::replay_with_args(&rules.path, vl, vm.url(), start, end, &one_request).await?;
        days.push(t.elapsed().as_secs_f64());
        eprintln!("[bench] replayed day {}: {:.0} s", days.len(), t.elapsed().as_secs_f64());
        start = end;
    }
    vm.flush().await?;
    Ok(days)
}

/// Each panel alone on a fresh plugin (one run; answers checked): its
/// ms, what its frames say came from rollups, and the requests the rollup
/// store and the log store answered for it.
async fn profile(c: &Contender, range: &Range, vm_url: &str, vl_url: &str) -> Result<Profile, String> {
    let mut panels = Vec::new();
    for (panel, expects) in range.dashboard.iter().zip(&range.expects) {
        let plugin = Plugin::start(&c.exe).await?;
        let before = (store::requests(vm_url, "/api/v1/").await?, store::requests(vl_url, "/select/").await?);
        let targets: Vec<grpc::Target> = panel.targets.iter().map(|(t, _)| t.clone()).collect();
        let (mut answers, ms) = grpc::query(&plugin, &c.instance, range.w, &targets).await?;
        // Both servers count a request a moment after answering it.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let after = (store::requests(vm_url, "/api/v1/").await?, store::requests(vl_url, "/select/").await?);
        let mut notices = Vec::new();
        for ((t, kind), expect) in panel.targets.iter().zip(expects) {
            let wrong =
                |e: String| format!("flowlens with rollups: {} target {}: wrong answer: {e}", panel.title, t.ref_id);
            let frames = answers.remove(&t.ref_id).ok_or_else(|| wrong("no answer".into()))?.map_err(wrong)?;
            check::ours(kind, expect, &frames, range.w, c.lines).map_err(wrong)?;
            notices.extend(
                frames
                    .iter()
                    .flat_map(|f| f.meta["notices"].as_array().cloned().unwrap_or_default())
                    .filter_map(|n| n["text"].as_str().map(str::to_string))
                    .filter(|t| t.starts_with("From rollups") || t.starts_with("Rollups not read"))
                    .map(|t| t.trim_end_matches(&*format!("; the rest of the range from {RAW}.")).to_string()),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        notices.retain(|n| seen.insert(n.clone()));
        panels.push(PanelProfile {
            title: panel.title.clone(),
            ms,
            promql: after.0 - before.0,
            logsql: after.1 - before.1,
            notice: if notices.is_empty() { NOTHING.into() } else { notices.join("; ") },
        });
    }
    Ok(Profile { panels })
}

/// Runs the rollups section, prints its report and, with `--write`,
/// replaces the `## Rollups` section of that file.
pub async fn run(opts: Options) -> Result<(), String> {
    let started = Instant::now();
    let mut r = Report::default();
    let Setup { server, cfg, w, exe } = setup(&opts).await?;
    let to_ms = w.to_ms;
    let mut ranges = [Range::new("24 h", to_ms - DAY_MS, to_ms)?, Range::new("7 d", to_ms - DAYS * DAY_MS, to_ms)?];
    r.progress(started, "generating and loading a week of records");
    let records = load_week(&server.url, &cfg, &mut ranges).await?;
    let loaded_s = started.elapsed().as_secs_f64();

    r.progress(started, "rules and replay");
    let vm = VmServer::start().await?;
    let dir = std::env::temp_dir().join(format!("flowlens-bench-rollups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut with_json = raw_settings();
    with_json["rollups"] = json!({"url": vm.url(), "resolution": RESOLUTIONS, "stamps": "start"});
    let rules = rules(&server.url, &with_json, &dir)?;
    let evaluated = (to_ms - DAYS * DAY_MS, to_ms - rules.delay_ms);
    let replay_days = replay(&rules, &server.url, &vm, evaluated.0, evaluated.1).await;
    let _ = std::fs::remove_dir_all(&dir);
    let replay_days = replay_days?;

    let with = Contender {
        exe: exe.clone(),
        instance: grpc::instance(&server.url, with_json),
        peer: false,
        lines: Lines::Raw,
    };
    let without = Contender { instance: grpc::instance(&server.url, raw_settings()), ..with.clone() };
    let peer_exe = opts.peer.is_file().then(|| opts.peer.clone());
    let peer = peer_exe.as_ref().map(|exe| Contender {
        exe: exe.clone(),
        instance: grpc::instance(&server.url, json!({"timeout": BENCH_TIMEOUT_S})),
        peer: true,
        lines: Lines::Raw,
    });

    let mut refreshes = Vec::new();
    let mut profiles = Vec::new();
    for range in &ranges {
        r.progress(started, &format!("{}: dashboard refresh, cold, with rollups", range.name));
        let with_cold = dashboard_cold(&with, &range.dashboard, &range.expects, range.w, opts.runs).await?;
        r.progress(started, &format!("{}: each panel with rollups", range.name));
        profiles.push(profile(&with, range, vm.url(), &server.url).await?);
        r.progress(started, &format!("{}: dashboard refresh, cold, without rollups", range.name));
        let without_cold = dashboard_cold(&without, &range.dashboard, &range.expects, range.w, opts.runs).await?;
        let peer_cold = match &peer {
            Some(p) => {
                r.progress(started, &format!("{}: dashboard refresh, cold, peer", range.name));
                Some(dashboard_cold(p, &range.dashboard, &range.expects, range.w, opts.runs).await?)
            }
            None => None,
        };
        refreshes.push(Refresh { range: range.name, with: with_cold, without: without_cold, peer: peer_cold });
    }

    r.progress(started, "store sizes");
    Loader::new(&server.url).force_flush().await.map_err(|e| e.to_string())?;
    let vm_held = store::victoriametrics(vm.url()).await?;
    let vl_bytes = store::du(&store::data_dir(server.pid())?);
    let measured = Measured {
        records,
        connections: opts.connections,
        loaded_s,
        rules,
        evaluated,
        replay_days,
        runs: opts.runs,
        refreshes,
        profiles,
        vm: vm_held,
        vl_bytes,
        peer: peer_exe,
        peer_default: opts.peer.clone(),
        dashboard_panels: ranges[0].dashboard.len(),
    };
    report::write(&mut r, &measured, started);
    if let Some(path) = &opts.write {
        report::replace_section(path, &r.lines)?;
        println!("\nthe ## Rollups section of {} written", path.display());
    }
    Ok(())
}
