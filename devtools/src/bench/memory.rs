//! The plugin binary's peak memory answering the whole dashboard plus the
//! largest raw answers (10,000 records, 10,000 raw rows) in one QueryData,
//! next to what VictoriaLogs sent for those answers and what VictoriaLogs
//! itself holds.

use std::path::Path;

use serde_json::json;

use super::grpc::{Instance, Plugin, Target, Window};
use flowlens::datasource::Datasource;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::first_step;

/// Fresh plugin processes measured per record count: one run's peak varies
/// by several MiB with how the concurrent answers overlap.
const MEMORY_RUNS: usize = 3;

/// `VmHWM`/`VmRSS` of a process, in KiB.
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What one record count cost in memory.
#[derive(Debug, Clone)]
pub struct Memory {
    /// The median peak RSS of the plugin, KiB.
    pub peak_kib: u64,
    /// Every run's peak, KiB.
    pub peaks_kib: Vec<u64>,
    pub idle_kib: u64,
    /// What VictoriaLogs sent for the same queries, bytes.
    pub answer_bytes: u64,
    /// The frames returned, bytes.
    pub frame_bytes: usize,
    /// VictoriaLogs' RSS after the queries, KiB.
    pub vl_kib: u64,
    pub targets: usize,
}

/// The median peak memory of [`MEMORY_RUNS`] fresh plugin processes, each
/// answering every target of `targets` plus the largest raw answers in one
/// QueryData.
pub async fn measure(
    exe: &Path,
    vl_url: &str,
    vl_pid: u32,
    instance: &Instance,
    window: Window,
    dashboard: &[Target],
) -> Result<Memory, String> {
    let mut targets = dashboard.to_vec();
    targets.push(Target {
        ref_id: "records".into(),
        json: json!({"format": "logs", "limit": flowlens::model::LOGS_LIMIT.1}),
    });
    targets.push(Target { ref_id: "raw".into(), json: json!({"rawQuery": "{logtype=\"flow\"} | limit 10000"}) });
    let answer_bytes = backend_bytes(vl_url, instance, window, &targets).await?;
    let mut runs = Vec::new();
    for _ in 0..MEMORY_RUNS {
        let plugin = Plugin::start(exe).await?;
        let pid = plugin.pid();
        let idle = status_kib(pid, "VmRSS:").unwrap_or(0);
        let (answers, _) = super::grpc::query(&plugin, instance, window, &targets).await?;
        if let Some((ref_id, Err(e))) = answers.iter().find(|(_, a)| a.is_err()) {
            return Err(format!("memory: {ref_id} failed: {e}"));
        }
        let frame_bytes = answers.values().flatten().flatten().map(|f| f.bytes).sum();
        runs.push((idle, status_kib(pid, "VmHWM:").unwrap_or(0), frame_bytes));
    }
    let mut peaks: Vec<u64> = runs.iter().map(|r| r.1).collect();
    peaks.sort_unstable();
    Ok(Memory {
        peak_kib: peaks[peaks.len() / 2],
        peaks_kib: peaks,
        idle_kib: runs[0].0,
        answer_bytes,
        frame_bytes: runs[0].2,
        vl_kib: status_kib(vl_pid, "VmRSS:").unwrap_or(0),
        targets: targets.len(),
    })
}

/// The bytes VictoriaLogs sends for each target's first query.
async fn backend_bytes(vl_url: &str, instance: &Instance, window: Window, targets: &[Target]) -> Result<u64, String> {
    let settings = flowlens::settings::Settings::from_instance(&flowlens::settings::InstanceSettings {
        url: vl_url,
        json_data: &serde_json::to_vec(&instance.json_data).expect("json"),
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let ds = Datasource::new(settings).map_err(|e| e.message)?;
    let req = Request {
        range: TimeRange { from_ms: window.from_ms, to_ms: window.to_ms },
        interval_ms: window.interval_ms,
        max_data_points: window.max_data_points,
    };
    let mut total = 0u64;
    for target in targets {
        let q = FlowQuery::parse(&serde_json::to_vec(&target.json).expect("json"), &req, &ds.settings)
            .map_err(|e| e.message)?;
        let query = q.raw_query.clone().unwrap_or_else(|| ds.render_step(&q, &first_step(&q)));
        let body = reqwest::Client::new()
            .post(format!("{vl_url}/select/logsql/query"))
            .form(&[("query", query)])
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        total += body.len() as u64;
    }
    Ok(total)
}
