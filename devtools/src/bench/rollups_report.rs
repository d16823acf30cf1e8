//! The rollups section's report ([`super::rollups`]): the refresh table,
//! where the time of a refresh with rollups goes, what the rollup store
//! holds, and issue 21's targets; written as the `## Rollups` section of a
//! Markdown file, replacing only that section.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::rollups::DAYS;
use super::store::Held;
use super::timing::{ratio, Cold};
use super::Report;

/// The section's heading: `--write` replaces from it to the next `## `.
const HEADING: &str = "## Rollups";

/// The rules replayed.
pub struct Rules {
    pub path: PathBuf,
    /// Rolled-up questions (each a value rule and an evaluation rule).
    pub rules: usize,
    /// `flowlens rules`' comments on the questions left out.
    pub left_out: Vec<String>,
    /// The group's `eval_delay` (the settings' `cacheSettleMinutes`).
    pub delay_ms: i64,
}

/// One range's cold refreshes.
pub struct Refresh {
    pub range: &'static str,
    pub with: Cold,
    pub without: Cold,
    pub peer: Option<Cold>,
}

/// A panel alone with rollups.
pub struct PanelProfile {
    pub title: String,
    pub ms: f64,
    /// Requests VictoriaMetrics answered (`/api/v1/...`).
    pub promql: u64,
    /// Requests VictoriaLogs answered (`/select/...`).
    pub logsql: u64,
    /// What the frames say came from rollups.
    pub notice: String,
}

/// Every panel of one range.
pub struct Profile {
    pub panels: Vec<PanelProfile>,
}

/// Everything the section measured.
pub struct Measured {
    pub records: usize,
    pub connections: usize,
    pub loaded_s: f64,
    pub rules: Rules,
    /// The replayed (evaluated) range.
    pub evaluated: (i64, i64),
    /// Seconds of each day's replay.
    pub replay_days: Vec<f64>,
    pub runs: usize,
    /// 24 h, then 7 d.
    pub refreshes: Vec<Refresh>,
    pub profiles: Vec<Profile>,
    pub vm: Held,
    pub vl_bytes: u64,
    pub peer: Option<PathBuf>,
    pub peer_default: PathBuf,
    pub dashboard_panels: usize,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn time(ms: i64) -> String {
    flowlens::time::rfc3339(ms)
}

/// A measured figure against its target: the value and whether it is met.
fn verdict(value: Option<f64>, target: f64, text: impl Fn(f64) -> String) -> String {
    match value {
        Some(v) if v <= target => format!("{} (met)", text(v)),
        Some(v) => format!("**{}** (missed)", text(v)),
        None => "– (peer missing)".into(),
    }
}

/// The section, printed and kept in `r`.
pub fn write(r: &mut Report, m: &Measured, started: Instant) {
    let replay_s: f64 = m.replay_days.iter().sum();
    let (day, week) = (&m.refreshes[0], &m.refreshes[1]);
    r.line(HEADING.to_string());
    r.line(String::new());
    r.line(format!(
        "`flowlens bench --only rollups` (issue 21), a run of its own: {}; VictoriaLogs {}, VictoriaMetrics and \
         vmalert {}; {}; command: `{}`.",
        super::machine(),
        super::vl_version(),
        version("victoria-metrics"),
        if cfg!(debug_assertions) { "debug build" } else { "release build" },
        std::env::args().collect::<Vec<_>>().join(" ")
    ));
    r.line(String::new());
    r.line(format!(
        "- records: {} generated flow records over {DAYS} days ({} connections a day, each day its own seed: its own \
         pods and remote addresses), raw text lines in one VictoriaLogs; generated and loaded in {:.0} s",
        m.records, m.connections, m.loaded_s
    ));
    r.line(format!(
        "- rules: `flowlens rules` for the bench's datasource (resolutions 1m and 1h, without `--ports`; `eval_delay` {} min) and the benchmarked \
         dashboard: {} questions rolled up ({} recording rules); left out: {}",
        m.rules.delay_ms / 60_000,
        m.rules.rules,
        2 * m.rules.rules,
        if m.rules.left_out.is_empty() { "none".into() } else { m.rules.left_out.join("; ") }
    ));
    r.line(format!(
        "- replay: vmalert `-replay` over {} to {} (the week up to the range's end less `eval_delay`: what a live \
         vmalert would have evaluated; the last {} min are read from VictoriaLogs), one vmalert run per day, one \
         request per rule and day: **{replay_s:.0} s** ({} s per day)",
        time(m.evaluated.0),
        time(m.evaluated.1),
        m.rules.delay_ms / 60_000,
        m.replay_days.iter().map(|s| format!("{s:.0}")).collect::<Vec<_>>().join(", ")
    ));
    r.line(format!(
        "- refreshes: all {} panels of the shipped dashboard, each its own QueryData, sent at once, on a fresh plugin \
         process (cold); median of {} runs after one warm-up; ranges end at the last 10-minute mark, `$__interval` \
         10m (144 points at 24 h, 1008 at 7 d); every answer, flowlens' with rollups too, equal to the bench's \
         reference before its time counts; peer: {}",
        m.dashboard_panels,
        m.runs,
        match &m.peer {
            Some(p) => format!("{} at {}", super::PEER_VERSION, p.display()),
            None => format!("missing at {}: its columns are skipped", m.peer_default.display()),
        }
    ));
    r.line(String::new());

    r.line("### Dashboard refresh, cold".to_string());
    r.line(String::new());
    r.line(
        "| range | flowlens with rollups ms | flowlens without rollups ms | peer on raw ms | with / peer | without / peer | with / without | plugin peak RSS with rollups MiB |"
            .to_string(),
    );
    r.line("|---|---:|---:|---:|---:|---:|---:|---:|".to_string());
    for f in &m.refreshes {
        let peer = |a: f64| f.peer.map_or("–".into(), |p| ratio(a, p.ms));
        r.line(format!(
            "| {} | {:.0} | {:.0} | {} | {} | {} | {} | {:.1} |",
            f.range,
            f.with.ms,
            f.without.ms,
            f.peer.map_or("–".into(), |p| format!("{:.0}", p.ms)),
            peer(f.with.ms),
            peer(f.without.ms),
            ratio(f.with.ms, f.without.ms),
            f.with.peak_kib as f64 / 1024.0
        ));
    }
    r.line(String::new());

    r.line("### Where the time goes, with rollups".to_string());
    r.line(String::new());
    r.line(
        "Each panel alone on a fresh plugin process (one run each, answers checked): its time, what its frames say \
         came from rollups (the rest of the range from VictoriaLogs), and the requests each store answered for it (VictoriaMetrics `/api/v1/…`, VictoriaLogs \
         `/select/…`, from their `/metrics` counters; a fresh process also probes the interface's addresses once)."
            .to_string(),
    );
    r.line(String::new());
    r.line("| range | panel | ms | PromQL requests | LogsQL requests | from rollups |".to_string());
    r.line("|---|---|---:|---:|---:|---|".to_string());
    for (f, p) in m.refreshes.iter().zip(&m.profiles) {
        for panel in &p.panels {
            r.line(format!(
                "| {} | {} | {:.0} | {} | {} | {} |",
                f.range, panel.title, panel.ms, panel.promql, panel.logsql, panel.notice
            ));
        }
    }
    r.line(String::new());
    for (f, p) in m.refreshes.iter().zip(&m.profiles) {
        let slowest = p.panels.iter().max_by(|a, b| a.ms.total_cmp(&b.ms));
        let raw: Vec<&str> =
            p.panels.iter().filter(|x| x.notice == super::rollups::NOTHING).map(|x| x.title.as_str()).collect();
        if let Some(s) = slowest {
            r.line(format!(
                "- {}: the slowest panel alone is {} ({:.0} ms: {}); panels with nothing from rollups: {}; in all {} \
                 PromQL and {} LogsQL requests.",
                f.range,
                s.title,
                s.ms,
                s.notice,
                if raw.is_empty() { "none".into() } else { raw.join(", ") },
                p.panels.iter().map(|x| x.promql).sum::<u64>(),
                p.panels.iter().map(|x| x.logsql).sum::<u64>()
            ));
        }
    }
    r.line(String::new());

    r.line("### Rollup store".to_string());
    r.line(String::new());
    r.line("After `/internal/force_flush` of both; bytes on disk as `du` counts the data directory.".to_string());
    r.line(String::new());
    let per_day = |v: u64| v as f64 / DAYS as f64;
    r.line(format!("| | the week | per day of records ({} records a day) |", m.records / DAYS as usize));
    r.line("|---|---:|---:|".to_string());
    r.line(format!("| rollup series | {} | {:.0} |", m.vm.series, per_day(m.vm.series)));
    r.line(format!("| rollup samples | {} | {:.0} |", m.vm.samples, per_day(m.vm.samples)));
    r.line(format!("| VictoriaMetrics MiB on disk | {:.1} | {:.2} |", mib(m.vm.bytes), mib(m.vm.bytes) / DAYS as f64));
    r.line(format!(
        "| VictoriaLogs MiB on disk (raw lines) | {:.1} | {:.2} |",
        mib(m.vl_bytes),
        mib(m.vl_bytes) / DAYS as f64
    ));
    r.line(String::new());

    r.line("### Targets (issue 21)".to_string());
    r.line(String::new());
    let peer_ratio = |f: &Refresh, ms: f64| f.peer.map(|p| ms / p.ms);
    r.line("| figure | target | measured |".to_string());
    r.line("|---|---|---:|".to_string());
    r.line(format!(
        "| 24 h dashboard refresh, cold, flowlens with rollups / peer on raw | ≤ 0.05 | {} |",
        verdict(peer_ratio(day, day.with.ms), 0.05, |v| format!("{v:.3}"))
    ));
    r.line(format!(
        "| 7 d dashboard refresh, cold, flowlens with rollups / peer on raw | ≤ 0.01 | {} |",
        verdict(peer_ratio(week, week.with.ms), 0.01, |v| format!("{v:.3}"))
    ));
    r.line(format!(
        "| 7 d dashboard refresh, cold, absolute on this 2-core machine | < 2 s | {} |",
        verdict(Some(week.with.ms / 1000.0), 2.0, |v| format!("{v:.2} s"))
    ));
    r.line(format!(
        "| plugin peak RSS, 7 d dashboard | ≤ 40 MiB | {} |",
        verdict(Some(week.with.peak_kib as f64 / 1024.0), 40.0, |v| format!("{v:.1} MiB"))
    ));
    r.line(format!(
        "| rollup store bytes on disk / raw log store bytes, same week | ≤ 0.25 | {} |",
        verdict(Some(m.vm.bytes as f64 / m.vl_bytes.max(1) as f64), 0.25, |v| format!("{v:.3}"))
    ));
    for f in &m.refreshes {
        r.line(format!(
            "| {} dashboard refresh, cold, flowlens without rollups / peer on raw | – | {} |",
            f.range,
            peer_ratio(f, f.without.ms).map_or("– (peer missing)".into(), |v| format!("{v:.3}"))
        ));
    }
    for f in &m.refreshes {
        r.line(format!(
            "| {} dashboard refresh, cold, flowlens with / without rollups | – | {} |",
            f.range,
            ratio(f.with.ms, f.without.ms)
        ));
    }
    r.line(format!("| replay of the week's rules by vmalert | – | {replay_s:.0} s |"));
    r.line(String::new());
    r.line(format!("The rollups section took {:.0} s.", started.elapsed().as_secs_f64()));
}

/// `victoria-metrics` or `vmalert`'s version (the `.version` file beside it).
fn version(name: &str) -> String {
    crate::vmserver::find_binary(name)
        .ok()
        .and_then(|b| std::fs::read_to_string(b.with_extension("version")).ok())
        .map_or_else(|| "unknown version".into(), |v| v.trim().to_string())
}

/// Where the `## Rollups` section of `text` starts and ends (line indices:
/// from its heading to the next `## ` heading or the end).
fn section(lines: &[&str]) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| l.trim_end() == HEADING)?;
    let end = lines[start + 1..].iter().position(|l| l.starts_with("## ")).map_or(lines.len(), |i| start + 1 + i);
    Some((start, end))
}

/// Writes `section_lines` as the `## Rollups` section of `path`: replacing
/// that section when the file has one, else appended; the rest kept.
pub fn replace_section(path: &Path, section_lines: &[String]) -> Result<(), String> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = old.lines().collect();
    let mut new: Vec<&str> = section_lines.iter().map(String::as_str).collect();
    while new.last().is_some_and(|l| l.is_empty()) {
        new.pop();
    }
    let mut out: Vec<&str> = match section(&lines) {
        Some((start, end)) if end < lines.len() => [&lines[..start], &new[..], &[""][..], &lines[end..]].concat(),
        Some((start, _)) => [&lines[..start], &new[..]].concat(),
        None if lines.is_empty() => new,
        None => [&lines[..], &[""][..], &new[..]].concat(),
    };
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    std::fs::write(path, format!("{}\n", out.join("\n"))).map_err(|e| format!("{}: {e}", path.display()))
}

/// The `## Rollups` section `path` holds, if any (the full bench keeps it
/// when it rewrites the file).
pub fn kept_section(path: &Path) -> Option<String> {
    let old = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = old.lines().collect();
    let (start, end) = section(&lines)?;
    Some(lines[start..end].join("\n").trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_rollups_section_is_replaced() {
        let path = std::env::temp_dir().join(format!("flowlens-rollups-section-{}.md", std::process::id()));
        let new = vec!["## Rollups".to_string(), String::new(), "new".to_string()];
        std::fs::write(&path, "# B\n\n## A\n\na\n\n## Rollups\n\nold\n\n## Z\n\nz\n").unwrap();
        replace_section(&path, &new).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# B\n\n## A\n\na\n\n## Rollups\n\nnew\n\n## Z\n\nz\n");
        assert_eq!(kept_section(&path).as_deref(), Some("## Rollups\n\nnew"));
        std::fs::write(&path, "# B\n\n## A\n\na\n").unwrap();
        replace_section(&path, &new).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# B\n\n## A\n\na\n\n## Rollups\n\nnew\n");
        let _ = std::fs::remove_file(&path);
    }
}
