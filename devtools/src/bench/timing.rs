//! The benchmark's timings: one panel, a panel cold, a dashboard refresh,
//! the read floors (VictoriaLogs asked directly), each checked against its
//! expectation before it counts.

use std::time::Instant;

use super::grpc::{self, Plugin, Target, Window};
use super::panels::{self, Panel};
use super::reference::{self, Expect, Kind};
use super::{check, Contender};

/// The median of timed runs.
pub(super) fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

pub(super) fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}", a / b)
}

/// Answers one panel (one QueryData; the peer's correct top-N series needs
/// its ranking first, then the series of those keys: two, one after the
/// other) and checks every target; returns the ms it took.
pub(super) async fn run_panel(
    plugin: &Plugin,
    c: &Contender,
    panel: &Panel,
    expects: &[Expect],
    w: Window,
) -> Result<f64, String> {
    let wrong = |ref_id: &str, e: String| {
        format!("{}: {} target {ref_id}: wrong answer: {e}", if c.peer { "peer" } else { "flowlens" }, panel.title)
    };
    let targets: Vec<Target> = if c.peer {
        panel.targets.iter().map(|(t, kind)| panels::peer_query(&t.ref_id, kind, w)).collect()
    } else {
        panel.targets.iter().map(|(t, _)| t.clone()).collect()
    };
    let (mut answers, mut ms) = grpc::query(plugin, &c.instance, w, &targets).await?;
    for ((t, kind), expect) in panel.targets.iter().zip(expects) {
        let frames = answers.remove(&t.ref_id).ok_or_else(|| wrong(&t.ref_id, "no answer".into()))?;
        let frames = frames.map_err(|e| wrong(&t.ref_id, format!("error {e}")))?;
        let checked = match (c.peer, kind, expect) {
            (false, _, _) => check::ours(kind, expect, &frames, w, c.lines),
            (true, Kind::TopSeries { group_by, limit, .. }, Expect::GroupBuckets(series)) => {
                let keys = check::peer_ranking(&reference::totals(series), *limit, &frames, group_by)
                    .map_err(|e| wrong(&t.ref_id, format!("ranking: {e}")))?;
                let keys: Vec<String> = keys.into_iter().map(|k| k[0].clone()).collect();
                let second = panels::peer_series_of(&t.ref_id, kind, &keys, w);
                let (mut more, more_ms) = grpc::query(plugin, &c.instance, w, &[second]).await?;
                ms += more_ms;
                let frames = more.remove(&t.ref_id).ok_or("no answer")?.map_err(|e| wrong(&t.ref_id, e))?;
                check::peer(kind, expect, &frames, w, c.lines)
            }
            (true, _, _) => check::peer(kind, expect, &frames, w, c.lines),
        };
        checked.map_err(|e| wrong(&t.ref_id, e))?;
    }
    Ok(ms)
}

/// One panel alone, cold: a fresh plugin process per run (nothing cached
/// in the plugin; process start not timed); the median ms.
pub(super) async fn panel_cold(
    c: &Contender,
    panel: &Panel,
    expects: &[Expect],
    w: Window,
    runs: usize,
) -> Result<f64, String> {
    let mut times = Vec::new();
    for run in 0..=runs {
        let plugin = Plugin::start(&c.exe).await?;
        let ms = run_panel(&plugin, c, panel, expects, w).await?;
        if run > 0 {
            times.push(ms);
        }
    }
    Ok(median(times))
}

/// Every panel as its own concurrent QueryData; the wall ms until all
/// answered.
async fn dashboard_once(
    plugin: &Plugin,
    c: &Contender,
    dashboard: &[Panel],
    expects: &[Vec<Expect>],
    w: Window,
) -> Result<f64, String> {
    let started = Instant::now();
    let all = dashboard.iter().zip(expects).map(|(p, e)| run_panel(plugin, c, p, e, w));
    futures_util::future::try_join_all(all).await?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// The dashboard cold (first load on a fresh plugin process) and warm (the
/// same refresh right after): median ms of each.
pub(super) async fn dashboard_refresh(
    c: &Contender,
    dashboard: &[Panel],
    expects: &[Vec<Expect>],
    w: Window,
    runs: usize,
) -> Result<(f64, f64), String> {
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let plugin = Plugin::start(&c.exe).await?;
        let first = dashboard_once(&plugin, c, dashboard, expects, w).await?;
        let again = dashboard_once(&plugin, c, dashboard, expects, w).await?;
        if run > 0 {
            cold.push(first);
            warm.push(again);
        }
    }
    Ok((median(cold), median(warm)))
}

/// A cold dashboard refresh: the median wall ms and the median peak RSS
/// (`VmHWM`) of the plugin process that answered it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cold {
    pub ms: f64,
    pub peak_kib: u64,
}

/// The dashboard cold only (first load on a fresh plugin process, each
/// panel its own concurrent QueryData), `runs` times after a warm-up.
pub(super) async fn dashboard_cold(
    c: &Contender,
    dashboard: &[Panel],
    expects: &[Vec<Expect>],
    w: Window,
    runs: usize,
) -> Result<Cold, String> {
    let (mut times, mut peaks) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let plugin = Plugin::start(&c.exe).await?;
        let ms = dashboard_once(&plugin, c, dashboard, expects, w).await?;
        if run > 0 {
            times.push(ms);
            peaks.push(super::memory::status_kib(plugin.pid(), "VmHWM:").unwrap_or(0));
        }
    }
    peaks.sort_unstable();
    Ok(Cold { ms: median(times), peak_kib: peaks[peaks.len() / 2] })
}

/// A LogsQL query sent straight to VictoriaLogs; the median ms.
async fn floor(vl_url: &str, query: &str, runs: usize) -> Result<f64, String> {
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for run in 0..=runs {
        let started = Instant::now();
        client
            .post(format!("{vl_url}/select/logsql/query"))
            .form(&[("query", query)])
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("floor query: {e}"))?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        if run > 0 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(median(times))
}

/// `_time:[from, to)` in RFC 3339.
fn time_filter(w: Window) -> String {
    let t = |ms| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    };
    format!("_time:[{}, {})", t(w.from_ms), t(w.to_ms))
}

/// The raw and fields read floors over the window, median ms.
pub(super) async fn floors(vl_url: &str, w: Window, runs: usize) -> Result<(f64, f64), String> {
    let time = time_filter(w);
    let raw = format!("{time} {{logtype=\"flow\", environment=\"ops\"}} | stats sum_len(_msg) n");
    let fields = format!("{time} {{logtype=\"flowfields\"}} | stats sum_len(bytes) n");
    Ok((floor(vl_url, &raw, runs).await?, floor(vl_url, &fields, runs).await?))
}
