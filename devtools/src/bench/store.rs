//! What the stores hold and are asked, for `flowlens bench --only
//! rollups`: a server's data directory (its `-storageDataPath`, read from
//! `/proc`) and its bytes on disk as `du` counts them, VictoriaMetrics'
//! series and samples, and a server's request counters (`/metrics`), read
//! before and after a refresh to count the requests it made.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A process's command line arguments.
fn cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect())
}

/// The `-storageDataPath` of process `pid`.
pub fn data_dir(pid: u32) -> Result<PathBuf, String> {
    cmdline(pid)
        .and_then(|args| args.iter().find_map(|a| a.strip_prefix("-storageDataPath=").map(PathBuf::from)))
        .ok_or_else(|| format!("process {pid}: no -storageDataPath"))
}

/// The process of ours listening on `url`'s port (`-httpListenAddr=...`):
/// the servers started for the bench are children of this process.
pub fn pid_of(url: &str) -> Result<u32, String> {
    let listen = format!("-httpListenAddr={}", url.trim_start_matches("http://").trim_end_matches('/'));
    let me = std::process::id().to_string();
    let dir = std::fs::read_dir("/proc").map_err(|e| format!("/proc: {e}"))?;
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit(')').next()?.split_whitespace().nth(1).map(str::to_string));
            parent.as_deref() == Some(me.as_str()) && cmdline(*pid).is_some_and(|args| args.contains(&listen))
        })
        .ok_or_else(|| format!("no child process listens with {listen}"))
}

/// Bytes on disk under `path`, as `du` counts them (allocated blocks).
pub fn du(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    let own = meta.blocks() * 512;
    if !meta.is_dir() {
        return own;
    }
    let children = std::fs::read_dir(path).into_iter().flatten().filter_map(Result::ok);
    own + children.map(|e| du(&e.path())).sum::<u64>()
}

/// The sum of a server's `/metrics` samples whose line starts with
/// `prefix` (a metric name, optionally with the start of its labels).
pub async fn metric(url: &str, prefix: &str) -> Result<f64, String> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("{url}/metrics: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    Ok(text.lines().filter(|l| l.starts_with(prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum())
}

/// The requests a server has answered so far on paths starting with
/// `path` (`vm_http_requests_total` or `vl_http_requests_total`).
pub async fn requests(url: &str, path: &str) -> Result<u64, String> {
    let vm = metric(url, &format!("vm_http_requests_total{{path=\"{path}")).await?;
    let vl = metric(url, &format!("vl_http_requests_total{{path=\"{path}")).await?;
    Ok((vm + vl) as u64)
}

/// What the rollup store holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Held {
    pub series: u64,
    pub samples: u64,
    pub bytes: u64,
}

/// VictoriaMetrics' series (`/api/v1/series/count`), samples (its
/// `vm_rows` of storage parts) and bytes on disk (its data directory), after
/// `/internal/force_flush`.
pub async fn victoriametrics(url: &str) -> Result<Held, String> {
    let count: serde_json::Value = reqwest::get(format!("{url}/api/v1/series/count"))
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("series count: {e}"))?
        .json()
        .await
        .map_err(|e| format!("series count: {e}"))?;
    let series = count["data"][0].as_u64().ok_or_else(|| format!("series count: {count}"))?;
    let samples = metric(url, "vm_rows{type=\"storage/").await? as u64;
    let bytes = du(&data_dir(pid_of(url)?)?);
    Ok(Held { series, samples, bytes })
}
