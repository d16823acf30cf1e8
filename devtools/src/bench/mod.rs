//! `flowlens bench`: flowlens against the official VictoriaLogs datasource
//! (its backend plugin binary, driven with the LogsQL the user wrote by
//! hand, MISSION.md), in one run on one local VictoriaLogs holding the same
//! generated records: both plugin binaries started as Grafana starts them and
//! sent QueryData over gRPC. Every answer is checked against the
//! benchmark's own reference computation over the generated records
//! ([`reference`]) before its time counts; a wrong flowlens answer, or a
//! wrong answer of the peer's correct query, fails the run. Times are
//! medians of `runs` after one warm-up run; absolute times on a shared
//! machine are noise, the ratios (measured side by side) are the figures.
//!
//! Sections: the read floor (`stats sum_len(_msg)` over the raw records,
//! `stats sum_len(bytes)` over fields parsed at ingest), each dashboard
//! panel alone, the whole dashboard refresh (each panel its own concurrent
//! QueryData, cold on a fresh plugin process and warm right after), the
//! same at `scale` times the records with the plugin's peak memory, and the
//! requests the Loki path would send per panel. `--write FILE` also writes
//! the report as Markdown.

mod check;
mod grpc;
pub mod lists;
mod memory;
mod panels;
mod plans;
mod reference;
mod rollups;
mod rollups_report;
mod store;
mod timing;

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use crate::gen::{generate, GenConfig, Template, MISSION_FORMAT};
use crate::load::Loader;
use crate::vlserver::{VlOptions, VlServer};
use check::Lines;
use grpc::{Instance, Plugin, Target, Window};
use panels::{Panel, NAT_ENI, POD_CIDR};
use reference::{Expect, Kind, Scope};
use timing::{dashboard_refresh, floors, panel_cold, ratio};

/// VictoriaLogs' flags for the run: the peer sends every query of a
/// dashboard at once, and on 2 cores VictoriaLogs' defaults (4 at once, 10 s
/// in its queue, 30 s per query) refuse some of them with 503; queued
/// instead, every answer arrives and is timed. flowlens queues in the
/// plugin (`maxConcurrentRequests`, 4) and is not affected.
const VL_ARGS: [&str; 2] = ["-search.maxQueueDuration=10m", "-search.maxQueryDuration=10m"];

/// The official datasource's version at `../shared/tools` (its README).
const PEER_VERSION: &str = "victorialogs-datasource v0.30.1";

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connections generated per record set (each gives several records).
    pub connections: usize,
    /// Timed runs per figure (after one warm-up).
    pub runs: usize,
    /// How many record sets the scale section holds (1x is the first).
    pub scale: usize,
    /// The official datasource's backend binary.
    pub peer: PathBuf,
    /// Where to write the Markdown report.
    pub write: Option<PathBuf>,
    /// Only the plugin memory section (1x and `scale`x records, no peer,
    /// no timings): a quicker way to measure the peak RSS alone.
    pub memory_only: bool,
    /// Only the rollups section (issue 21: a week of records, rules replayed
    /// into VictoriaMetrics, refreshes over 24 h and 7 d with and without
    /// rollups and the peer's); `write` replaces only its `## Rollups`.
    pub rollups_only: bool,
}

impl Options {
    /// The peer's default place: `../shared/tools/victorialogs-datasource/gpx_victorialogs`
    /// next to the repository.
    pub fn default_peer() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/victorialogs-datasource/gpx_victorialogs")
    }
}

/// The report, printed as it is made.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
}

impl Report {
    /// Says on stderr which section starts, and when.
    fn progress(&self, started: Instant, what: &str) {
        eprintln!("[bench {:>4.0} s] {what}", started.elapsed().as_secs_f64());
    }

    fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("{text}");
        self.lines.push(text);
    }
}

/// A plugin under test: its binary, datasource settings and query language.
#[derive(Clone)]
pub(super) struct Contender {
    exe: PathBuf,
    instance: Instance,
    /// The official datasource (user's LogsQL) rather than flowlens targets.
    peer: bool,
    lines: Lines,
}

/// Both plugins' per-query timeout in the benchmark, seconds (VictoriaLogs
/// runs with `-search.maxQueryDuration=10m`).
const BENCH_TIMEOUT_S: u64 = 600;

/// The reference answers of every target of every panel, over `records`.
fn add_expects(expects: &mut [Vec<Expect>], dashboard: &[Panel], scope: &Scope, records: &[crate::gen::FlowRecord]) {
    let template = Template::parse(MISSION_FORMAT);
    for (panel, expects) in dashboard.iter().zip(expects) {
        for ((_, kind), expect) in panel.targets.iter().zip(expects) {
            expect.add(kind, scope, records, &template);
        }
    }
}

const RAW_STREAM: [(&str, &str); 3] = [("logtype", "flow"), ("environment", "ops"), ("logger_type", "vpc")];

/// The machine, the versions and the command, for the report's head.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or(String::new(), |kib| format!(", {:.0} GiB memory", kib as f64 / 1048576.0));
    format!("{cores} cores ({cpu}){mem}")
}

fn vl_version() -> String {
    crate::vlserver::find_binary()
        .ok()
        .and_then(|b| std::fs::read_to_string(b.with_extension("version")).ok())
        .map_or_else(|| "unknown version".into(), |v| v.trim().to_string())
}

/// The plugin memory table: peak RSS at 1x and `n`x the records.
fn memory_table(r: &mut Report, n: usize, mem_1x: &memory::Memory, mem_n: &memory::Memory) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    r.line(format!(
        "Plugin memory: {} targets in one QueryData (the dashboard, 10,000 records and 10,000 raw rows), \
         peak RSS of a fresh plugin process, median of {}:",
        mem_1x.targets,
        mem_1x.peaks_kib.len()
    ));
    r.line(String::new());
    r.line(
        "| records | backend answers MiB | frames MiB | plugin idle / peak MiB (runs) | VictoriaLogs RSS MiB |"
            .to_string(),
    );
    r.line("|---|---:|---:|---:|---:|".to_string());
    for (label, m) in [("1x", mem_1x), (&*format!("{n}x"), mem_n)] {
        r.line(format!(
            "| {label} | {:.1} | {:.1} | {:.1} / {:.1} ({}) | {:.0} |",
            m.answer_bytes as f64 / 1048576.0,
            m.frame_bytes as f64 / 1048576.0,
            mib(m.idle_kib),
            mib(m.peak_kib),
            m.peaks_kib.iter().map(|p| format!("{:.1}", mib(*p))).collect::<Vec<_>>().join(", "),
            mib(m.vl_kib)
        ));
    }
    r.line(String::new());
}

/// What every run of the benchmark starts from: a VictoriaLogs, the day of
/// records to generate, the panels' window and the plugin binary.
struct Setup {
    server: VlServer,
    cfg: GenConfig,
    w: Window,
    exe: PathBuf,
}

async fn setup(opts: &Options) -> Result<Setup, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("gpx_flowlens");
    if !exe.is_file() {
        return Err(format!("{}: missing (cargo build --bins, same profile)", exe.display()));
    }
    let server =
        VlServer::start(VlOptions { extra_args: VL_ARGS.map(String::from).to_vec(), ..Default::default() }).await?;
    // "Last 24 hours", ending at the last 10-minute mark (whole buckets of
    // `$__interval`: the peer stamps and divides edge buckets whole), so the
    // last `cacheSettleMinutes` are unsettled and every refresh reads them.
    let now_ms = chrono::Utc::now().timestamp_millis();
    let to_ms = now_ms - now_ms.rem_euclid(600_000);
    let cfg = GenConfig { connections: opts.connections, from_ms: to_ms - 86_400_000, to_ms, ..GenConfig::default() };
    let w = Window { from_ms: cfg.from_ms, to_ms: cfg.to_ms, interval_ms: 600_000, max_data_points: 144 };
    Ok(Setup { server, cfg, w, exe })
}

/// `--only memory`: the plugin memory section alone, over the raw records
/// at 1x and `scale`x (no peer, no timings).
async fn memory_only(opts: Options) -> Result<(), String> {
    let started = Instant::now();
    let mut r = Report::default();
    let Setup { server, cfg, w, exe } = setup(&opts).await?;
    let dashboard = panels::dashboard(w)?;
    let instance = grpc::instance(&server.url, raw_settings());
    let targets = every_target(&dashboard);
    let loader = Loader::new(&server.url);
    let mut mems = Vec::new();
    for set in 0..opts.scale as u64 {
        r.progress(started, &format!("loading record set {}", set + 1));
        let records = generate(&GenConfig { seed: cfg.seed + set, ..cfg.clone() });
        loader.push_raw(&records, MISSION_FORMAT, &RAW_STREAM).await.map_err(|e| e.to_string())?;
        loader.force_flush().await.map_err(|e| e.to_string())?;
        if set == 0 || set + 1 == opts.scale as u64 {
            r.progress(started, &format!("plugin memory at {}x", set + 1));
            mems.push(memory::measure(&exe, &server.url, server.pid(), &instance, w, &targets).await?);
        }
    }
    let last = mems.last().expect("a measurement").clone();
    memory_table(&mut r, opts.scale, &mems[0], &last);
    r.line(format!("Peak {}x / 1x: {:.2}.", opts.scale, last.peak_kib as f64 / mems[0].peak_kib.max(1) as f64));
    r.line(format!("The memory section took {:.0} s.", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Runs the benchmark, prints the report and writes it when asked.
pub async fn run(opts: Options) -> Result<(), String> {
    if opts.memory_only {
        return memory_only(opts).await;
    }
    if opts.rollups_only {
        return rollups::run(opts).await;
    }
    let started = Instant::now();
    let mut r = Report::default();
    let Setup { server, cfg, w, exe } = setup(&opts).await?;
    let scope = Scope {
        interface_id: NAT_ENI.into(),
        inside: POD_CIDR.parse().expect("the pod CIDR"),
        from_ms: w.from_ms,
        to_ms: w.to_ms,
        step_ms: w.interval_ms,
    };
    let dashboard = panels::dashboard(w)?;
    let peer_exe = opts.peer.is_file().then(|| opts.peer.clone());

    r.progress(started, "generating and loading the records");
    let records = generate(&cfg);
    let loader = Loader::new(&server.url);
    let (raw, fields) = tokio::join!(
        loader.push_raw(&records, MISSION_FORMAT, &RAW_STREAM),
        loader.push_fields(&records, &[("logtype", "flowfields"), ("environment", "ops")], &|c: &str| c.to_string()),
    );
    raw.map_err(|e| e.to_string())?;
    fields.map_err(|e| e.to_string())?;
    loader.force_flush().await.map_err(|e| e.to_string())?;
    let mut expects: Vec<Vec<Expect>> =
        dashboard.iter().map(|p| p.targets.iter().map(|(_, k)| Expect::new(k)).collect()).collect();
    add_expects(&mut expects, &dashboard, &scope, &records);
    let per_day = records.len();
    drop(records);
    let loaded_s = started.elapsed().as_secs_f64();

    r.line("# Benchmarks".to_string());
    r.line(String::new());
    r.line(format!(
        "- machine: {}; VictoriaLogs {} (one local single node, `{}`); flowlens {} ({}); peer: {}",
        machine(),
        vl_version(),
        VL_ARGS.join(" "),
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug build" } else { "release build" },
        match &peer_exe {
            Some(p) => format!("{PEER_VERSION} at {}", p.display()),
            None => format!("peer missing at {}: its columns are skipped", opts.peer.display()),
        }
    ));
    r.line(format!(
        "- records: {per_day} generated flow records over 24 h ({} connections), loaded twice: raw text lines \
         (`{{logtype=\"flow\"}}`) and fields parsed at ingest (`{{logtype=\"flowfields\"}}`); loaded in {loaded_s:.0} s",
        opts.connections
    ));
    r.line(format!(
        "- every time is the median of {} runs after one warm-up; range: the 24 h ending at the last 10-minute mark before the run (Grafana's \
         \"Last 24 hours\"; records up to its end, so the last 30 min are unsettled for flowlens' cache), \
         `$__interval` 10m (144 points); \
         each answer is checked against the benchmark's own reference computation over the generated records \
         (devtools/src/bench/reference.rs) before its time counts",
        opts.runs
    ));
    r.line(format!("- command: `{}`", std::env::args().collect::<Vec<_>>().join(" ")));
    r.line(String::new());

    // Times are measured, not bounded: neither plugin's timeout (Grafana's
    // 30 s default for the peer, 60 s for flowlens) cuts a slow refresh at scale.
    let raw_json = raw_settings();
    let fields_json = json!({"streamSelector": "{logtype=\"flowfields\"}", "recordMode": "fields",
        "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI, "timeoutSeconds": BENCH_TIMEOUT_S});
    let ours_raw =
        Contender { exe: exe.clone(), instance: grpc::instance(&server.url, raw_json), peer: false, lines: Lines::Raw };
    let ours_fields =
        Contender { instance: grpc::instance(&server.url, fields_json), lines: Lines::Fields, ..ours_raw.clone() };
    let peer = peer_exe.as_ref().map(|exe| Contender {
        exe: exe.clone(),
        instance: grpc::instance(&server.url, json!({"timeout": BENCH_TIMEOUT_S})),
        peer: true,
        lines: Lines::Raw,
    });

    r.progress(started, "read floors");
    let (raw_floor, fields_floor) = floors(&server.url, w, opts.runs).await?;
    r.line("## Read floor (24 h)".to_string());
    r.line(String::new());
    r.line(format!(
        "VictoriaLogs alone reading what every panel must read: `stats sum_len(_msg)` over the raw lines: \
         **{raw_floor:.0} ms**; `stats sum_len(bytes)` over the fields parsed at ingest: **{fields_floor:.0} ms**."
    ));
    r.line(String::new());

    r.line("## Each panel alone, cold (24 h)".to_string());
    r.line(String::new());
    r.line(
        "A fresh plugin process per run (nothing cached in either plugin). flowlens: the shipped dashboard's \
         targets; peer: the user's hand-written LogsQL (MISSION.md) for the same panel through the official \
         datasource; for top-N series the correct hand-written answer takes two queries, the ranking and then \
         the series of exactly those keys, timed together. ✓ = every answer equal to the reference."
            .to_string(),
    );
    r.line(String::new());
    r.line(
        "| panel | flowlens raw ms | peer ms | flowlens / peer (target ≤ 0.5) | raw / floor (≤ 2.0) | flowlens fields ms | fields / floor (≤ 1.3) | answers |"
            .to_string(),
    );
    r.line("|---|---:|---:|---:|---:|---:|---:|---|".to_string());
    r.progress(started, "each panel alone");
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for (panel, expects) in dashboard.iter().zip(&expects) {
        r.progress(started, &format!("  {}", panel.title));
        let ours = panel_cold(&ours_raw, panel, expects, w, opts.runs).await?;
        let theirs = match &peer {
            Some(p) => Some(panel_cold(p, panel, expects, w, opts.runs).await?),
            None => None,
        };
        let fields = panel_cold(&ours_fields, panel, expects, w, opts.runs).await?;
        worst.0 = worst.0.max(theirs.map_or(0.0, |t| ours / t));
        worst.1 = worst.1.max(ours / raw_floor);
        worst.2 = worst.2.max(fields / fields_floor);
        r.line(format!(
            "| {} | {ours:.0} | {} | {} | {} | {fields:.0} | {} | ✓ flowlens raw and fields{} |",
            panel.title,
            theirs.map_or("–".into(), |t| format!("{t:.0}")),
            theirs.map_or("–".into(), |t| ratio(ours, t)),
            ratio(ours, raw_floor),
            ratio(fields, fields_floor),
            if peer.is_some() { ", ✓ peer" } else { "" }
        ));
    }
    r.line(String::new());
    if let Some(p) = &peer {
        let (_, kind) = dashboard
            .iter()
            .flat_map(|p| &p.targets)
            .find(|(_, k)| matches!(k, Kind::TopSeries { .. }))
            .ok_or("the dashboard has no top-N series panel")?;
        let wrong = panels::peer_wrong_top_series("A", kind, w).expect("a top-N series");
        let plugin = Plugin::start(&p.exe).await?;
        let (answers, ms) = grpc::query(&plugin, &p.instance, w, &[wrong]).await?;
        let series = answers.get("A").and_then(|a| a.as_ref().ok()).map_or(0, Vec::len);
        let Kind::TopSeries { limit, .. } = kind else { unreachable!() };
        r.line(format!(
            "The top-N series query as the user wrote it for the official datasource (`stats by (pkt_src_addr) \
             sum(bytes) | sort by (sum_bytes desc) limit {limit}` as a time-series query) returns **{series} \
             series** for a top {limit} ({ms:.0} ms, one run): `sort … limit` ranks each step, not the range."
        ));
        r.line(String::new());
    }

    r.line("## Dashboard refresh (24 h)".to_string());
    r.line(String::new());
    r.progress(started, "dashboard refresh");
    let (ours_cold, ours_warm) = dashboard_refresh(&ours_raw, &dashboard, &expects, w, opts.runs).await?;
    let theirs_1x = match &peer {
        Some(p) => Some(dashboard_refresh(p, &dashboard, &expects, w, opts.runs).await?),
        None => None,
    };
    let dash_lines = |ours: (f64, f64), theirs: Option<(f64, f64)>| {
        let cell = |o: f64, t: Option<f64>, target: &str| {
            format!(
                "{o:.0} | {} | {} (target ≤ {target})",
                t.map_or("–".into(), |t| format!("{t:.0}")),
                t.map_or("–".into(), |t| ratio(o, t))
            )
        };
        vec![
            format!("| cold (first load, fresh plugin) | {} |", cell(ours.0, theirs.map(|t| t.0), "0.3")),
            format!("| warm (the same refresh right after) | {} |", cell(ours.1, theirs.map(|t| t.1), "0.05")),
        ]
    };
    r.line(format!(
        "All {} panels of the shipped dashboard, each its own QueryData, sent at once (as Grafana does); \
         wall time until every panel answered, every answer checked.",
        dashboard.len()
    ));
    r.line(String::new());
    r.line("| refresh | flowlens ms | peer ms | flowlens / peer |".to_string());
    r.line("|---|---:|---:|---:|".to_string());
    for line in dash_lines((ours_cold, ours_warm), theirs_1x) {
        r.line(line);
    }
    r.line(String::new());

    let all_targets = every_target(&dashboard);
    r.progress(started, "plugin memory");
    let mem_1x = memory::measure(&exe, &server.url, server.pid(), &ours_raw.instance, w, &all_targets).await?;

    r.progress(started, "scale: loading more record sets");
    // More record sets in the same day and stream, other seeds: `scale` x
    // the records behind every raw panel.
    for extra in 1..opts.scale as u64 {
        let more = generate(&GenConfig { seed: cfg.seed + extra, ..cfg.clone() });
        loader.push_raw(&more, MISSION_FORMAT, &RAW_STREAM).await.map_err(|e| e.to_string())?;
        add_expects(&mut expects, &dashboard, &scope, &more);
    }
    loader.force_flush().await.map_err(|e| e.to_string())?;
    r.progress(started, "scale: floor, dashboard refresh, plugin memory");
    let (raw_floor_n, _) = floors(&server.url, w, opts.runs).await?;
    let (ours_cold_n, ours_warm_n) = dashboard_refresh(&ours_raw, &dashboard, &expects, w, opts.runs).await?;
    let theirs_n = match &peer {
        Some(p) => Some(dashboard_refresh(p, &dashboard, &expects, w, opts.runs).await?),
        None => None,
    };
    let mem_n = memory::measure(&exe, &server.url, server.pid(), &ours_raw.instance, w, &all_targets).await?;
    let n = opts.scale;
    r.line(format!("## Scale: {n}x the records (raw text, 24 h)"));
    r.line(String::new());
    r.line(format!(
        "{n} record sets of {per_day} (other seeds) in the same day and stream. Dashboard refresh at {n}x:"
    ));
    r.line(String::new());
    r.line("| refresh | flowlens ms | peer ms | flowlens / peer |".to_string());
    r.line("|---|---:|---:|---:|".to_string());
    for line in dash_lines((ours_cold_n, ours_warm_n), theirs_n) {
        r.line(line);
    }
    r.line(String::new());
    let growth = |a: f64, b: f64| format!("{:.2}x", b / a);
    r.line(format!("| growth {n}x / 1x | flowlens | peer | raw floor |"));
    r.line("|---|---:|---:|---:|".to_string());
    r.line(format!(
        "| dashboard cold | {} | {} | {} |",
        growth(ours_cold, ours_cold_n),
        theirs_1x.zip(theirs_n).map_or("–".into(), |(a, b)| growth(a.0, b.0)),
        growth(raw_floor, raw_floor_n)
    ));
    r.line(format!(
        "| dashboard warm | {} | {} | |",
        growth(ours_warm, ours_warm_n),
        theirs_1x.zip(theirs_n).map_or("–".into(), |(a, b)| growth(a.1, b.1)),
    ));
    r.line(String::new());
    memory_table(&mut r, n, &mem_1x, &mem_n);
    let mib = |kib: u64| kib as f64 / 1024.0;
    r.progress(started, "Loki plans");
    r.line("## Loki plans".to_string());
    r.line(String::new());
    r.line(
        "Requests the Loki path sends per panel (pure: the plan's steps as `LogQl::requests`; no Loki involved)."
            .to_string(),
    );
    r.line(String::new());
    for line in plans::table(&dashboard, w.to_ms)? {
        r.line(line);
    }
    r.line(String::new());

    r.line("## Targets (issue 10)".to_string());
    r.line(String::new());
    let peer_cell = |v: Option<f64>| v.map_or("– (peer missing)".to_string(), |v| format!("{v:.2}"));
    r.line("| figure | target | measured |".to_string());
    r.line("|---|---|---:|".to_string());
    r.line(format!(
        "| each panel, flowlens / peer, raw text, cold (worst panel) | ≤ 0.5 | {} |",
        peer_cell(peer.as_ref().map(|_| worst.0))
    ));
    r.line(format!(
        "| whole-dashboard refresh, cold, flowlens / peer | ≤ 0.3 | {} |",
        peer_cell(theirs_1x.map(|t| ours_cold / t.0))
    ));
    r.line(format!(
        "| whole-dashboard refresh, warm, flowlens / peer | ≤ 0.05 | {} |",
        peer_cell(theirs_1x.map(|t| ours_warm / t.1))
    ));
    r.line(format!("| each panel / read floor, raw text, cold (worst panel) | ≤ 2.0 | {:.2} |", worst.1));
    r.line(format!(
        "| each panel / read floor, fields parsed at ingest, cold (worst panel) | ≤ 1.3 | {:.2} |",
        worst.2
    ));
    r.line(format!(
        "| plugin peak RSS, dashboard + 10,000 log records, {n}x / 1x | ≤ 1.1, and ≤ 40 MiB | {:.2} ({:.1} MiB) |",
        mem_n.peak_kib as f64 / mem_1x.peak_kib.max(1) as f64,
        mib(mem_n.peak_kib)
    ));
    r.line(String::new());
    r.line(
        "Where a target is missed, [docs/performance.md](docs/performance.md) shows where the time and memory go \
         (VictoriaLogs' own timings of each query shape, the plugin's per-target peaks) and what would close the gap."
            .to_string(),
    );
    r.line(String::new());
    r.line(format!("The whole benchmark took {:.0} s.", started.elapsed().as_secs_f64()));
    if let Some(path) = &opts.write {
        let mut text = r.lines.join("\n");
        text.push('\n');
        // The rollups section (`--only rollups`) is its own run: kept.
        if let Some(kept) = rollups_report::kept_section(path) {
            text = format!("{text}\n{kept}\n");
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("\nwritten to {}", path.display());
    }
    Ok(())
}

/// Every target of the dashboard's panels, with refIds of their own (as
/// one QueryData carries them).
fn every_target(dashboard: &[Panel]) -> Vec<Target> {
    dashboard
        .iter()
        .flat_map(|p| p.targets.iter().map(|(t, _)| t.clone()))
        .enumerate()
        .map(|(i, mut t)| {
            t.ref_id = format!("Q{i}");
            t
        })
        .collect()
}

/// flowlens' datasource settings for the raw lines (as the shipped
/// provisioning sets them, with the benchmark's timeout).
fn raw_settings() -> serde_json::Value {
    json!({
        "streamSelector": "{logtype=\"flow\", environment=\"ops\"}", "recordFormat": MISSION_FORMAT,
        "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI, "timeoutSeconds": BENCH_TIMEOUT_S})
}
