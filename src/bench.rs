//! `flowlens bench`: the dashboard's totals as the user wrote them by hand
//! (every field extracted, regex filters left in at `.*`) against the LogsQL
//! flowlens generates, on the same local VictoriaLogs and the same records,
//! side by side in one run. Prints each pair's median time and their ratio,
//! after checking that both give the same number. Then the plugin binary's
//! peak memory answering the dashboard and the largest raw answers, at 1x
//! and at 4x the records, and the ratio of the two peaks.

use std::time::Instant;

use crate::datasource::Datasource;
use crate::gen::{generate, GenConfig, MISSION_FORMAT};
use crate::load::Loader;
use crate::model::{FlowQuery, Request, TimeRange};
use crate::plan::{first_step, StepOutput};
use crate::settings::{InstanceSettings, Settings};
use crate::vlserver::{VlOptions, VlServer};

/// The user's hand-written extract pattern (MISSION.md): all 19 fields.
const USER_PATTERN: &str = "<region> <vpc_id> <az_id> <subnet_id> <instance_id> <interface_id> <flow_direction> <src_addr> <dst_addr> <src_port> <dst_port> <pkt_src_addr> <pkt_dst_addr> <pkt_src_aws_service> <pkt_dst_aws_service> <traffic_path> <packets> <bytes> <action>";

fn user_query(time: &str, condition: &str) -> String {
    format!(
        "{time} {{logtype=\"flow\", environment=\"ops\"}} seq(\"eni-0352f8c82da6aa229\")\n| extract \"{USER_PATTERN}\"\n| filter interface_id:=\"eni-0352f8c82da6aa229\" {condition} pkt_src_addr:~\".*\" pkt_dst_addr:~\".*\"\n| stats sum(bytes) bytes_total"
    )
}

async fn median_ms<F, Fut>(runs: usize, mut f: F) -> Result<(f64, u64), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, String>>,
{
    let mut value = f().await?; // warm-up: caches filled for every contender alike
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        value = f().await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], value))
}

/// Runs the benchmark and prints a table of medians and ratios.
pub async fn run(connections: usize, runs: usize) -> Result<(), String> {
    let server = VlServer::start(VlOptions::default()).await?;
    let cfg = GenConfig { connections, ..GenConfig::default() };
    let records = generate(&cfg);
    let loader = Loader::new(&server.url);
    loader
        .push_raw(&records, MISSION_FORMAT, &[("logtype", "flow"), ("environment", "ops"), ("logger_type", "vpc")])
        .await
        .map_err(|e| e.to_string())?;
    let fields_stream = [("logtype", "flowfields"), ("environment", "ops")];
    loader.push_fields(&records, &fields_stream, &|c: &str| c.to_string()).await.map_err(|e| e.to_string())?;
    loader.force_flush().await.map_err(|e| e.to_string())?;
    println!("{} records, {runs} runs each, medians\n", records.len());

    let raw = Datasource::new(crate::demo::settings(&server.url)).map_err(|e| e.message)?;
    let fields_json = serde_json::json!({"streamSelector": "{logtype=\"flowfields\"}", "recordMode": "fields",
        "insideCidrs": ["10.0.32.0/20"], "interfaceId": "eni-0352f8c82da6aa229"});
    let fields_json = serde_json::to_vec(&fields_json).expect("json");
    let fields = Datasource::new(
        Settings::from_instance(&InstanceSettings { url: &server.url, json_data: &fields_json, ..Default::default() })
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.message)?;
    let req = Request {
        range: TimeRange { from_ms: cfg.from_ms, to_ms: cfg.to_ms },
        interval_ms: 600_000,
        max_data_points: 144,
    };
    let time = format!(
        "_time:[{}, {})",
        chrono::DateTime::from_timestamp_millis(cfg.from_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        chrono::DateTime::from_timestamp_millis(cfg.to_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    println!(
        "{:<22} {:>12} {:>12} {:>9} {:>14} {:>9}",
        "panel", "by hand ms", "flowlens ms", "speedup", "fields mode ms", "speedup"
    );
    for (title, direction, condition) in [
        (
            "NAT total processed",
            "any",
            "(pkt_src_addr:ipv4_range(\"10.0.32.0/20\") OR pkt_dst_addr:ipv4_range(\"10.0.32.0/20\"))",
        ),
        ("Total IN", "in", "pkt_dst_addr:ipv4_range(\"10.0.32.0/20\")"),
        ("Total OUT", "out", "pkt_src_addr:ipv4_range(\"10.0.32.0/20\")"),
    ] {
        let target = serde_json::to_vec(&serde_json::json!({"format": "stat", "direction": direction})).expect("json");
        let q = FlowQuery::parse(&target, &req, &raw.settings).map_err(|e| e.message)?;
        let hand = user_query(&time, condition);
        let (hand_ms, hand_value) = median_ms(runs, || async {
            let mut total = 0;
            raw.backend()
                .victorialogs()
                .ok_or("the benchmark runs on VictoriaLogs")?
                .stream_rows(&hand, &[], |row| {
                    total = row
                        .get("bytes_total")
                        .and_then(|v| v.as_str())
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(0.0) as u64;
                    Ok(true)
                })
                .await
                .map_err(|e| e.message)?;
            Ok(total)
        })
        .await?;
        let total_of = |ds: &Datasource| {
            let ds = ds.clone();
            let q = q.clone();
            async move {
                match ds.run_step(&q, &first_step(&q)).await.map_err(|e| e.message)?.1 {
                    StepOutput::Total(v) => Ok(v),
                    other => Err(format!("unexpected {other:?}")),
                }
            }
        };
        let (ours_ms, ours_value) = median_ms(runs, || total_of(&raw)).await?;
        let (fields_ms, fields_value) = median_ms(runs, || total_of(&fields)).await?;
        if hand_value != ours_value || ours_value != fields_value {
            return Err(format!(
                "{title}: results differ: by hand {hand_value}, flowlens {ours_value}, fields mode {fields_value}"
            ));
        }
        println!(
            "{title:<22} {hand_ms:>12.1} {ours_ms:>12.1} {:>8.2}x {fields_ms:>14.1} {:>8.2}x",
            hand_ms / ours_ms,
            hand_ms / fields_ms
        );
    }
    println!("\nspeedup = by-hand median / flowlens median (same server, same records, same result)\n");
    let one = plugin_memory(&server, &raw, &req, records.len()).await?;
    // Three more days' worth of traffic in the same day and stream, with
    // other seeds: 4x the records behind every panel.
    let mut total = records.len();
    for extra in 1..=3 {
        let more = generate(&GenConfig { seed: cfg.seed + extra, ..cfg.clone() });
        total += more.len();
        loader
            .push_raw(&more, MISSION_FORMAT, &[("logtype", "flow"), ("environment", "ops"), ("logger_type", "vpc")])
            .await
            .map_err(|e| e.to_string())?;
    }
    loader.force_flush().await.map_err(|e| e.to_string())?;
    println!();
    let four = plugin_memory(&server, &raw, &req, total).await?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "\nplugin peak RSS at 4x / 1x the records: {:.1} / {:.1} MiB = {:.2}x (target: at most 1.10x and 40 MiB)",
        mib(four),
        mib(one),
        four as f64 / one.max(1) as f64
    );
    Ok(())
}

/// `VmHWM`/`VmRSS` of a process, in KiB.
fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Fresh plugin processes measured per record count: one run's peak varies
/// by several MiB with how the concurrent answers overlap.
const MEMORY_RUNS: usize = 3;

/// The median peak memory (KiB) of [`MEMORY_RUNS`] fresh plugin processes,
/// each answering every dashboard panel and the largest raw answers (10,000
/// records, 10,000 rows) in one QueryData; printed next to what VictoriaLogs
/// sent for those answers and what VictoriaLogs itself holds.
async fn plugin_memory(server: &VlServer, raw: &Datasource, req: &Request, records: usize) -> Result<u64, String> {
    use crate::pluginv2 as pb;

    let mut targets: Vec<serde_json::Value> = crate::demo::panels().into_iter().map(|(_, t)| t).collect();
    targets.push(serde_json::json!({"format": "logs", "limit": crate::model::LOGS_LIMIT.1}));
    targets.push(serde_json::json!({"rawQuery": "{logtype=\"flow\"} | limit 10000"}));
    // `FLOWLENS_BENCH_ONLY=10,11` measures only those targets (by index), to
    // see which answer the memory goes to.
    if let Ok(only) = std::env::var("FLOWLENS_BENCH_ONLY") {
        let keep: Vec<usize> = only.split(',').filter_map(|i| i.trim().parse().ok()).collect();
        targets = targets.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, t)| t).collect();
    }
    let mut answer_bytes = 0u64;
    for target in &targets {
        let q =
            FlowQuery::parse(&serde_json::to_vec(target).expect("json"), req, &raw.settings).map_err(|e| e.message)?;
        let query = q.raw_query.clone().unwrap_or_else(|| raw.render_step(&q, &first_step(&q)));
        let form = [("query", query)];
        let body = reqwest::Client::new()
            .post(format!("{}/select/logsql/query", server.url))
            .form(&form)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        answer_bytes += body.len() as u64;
    }
    let settings_json = serde_json::json!({
        "streamSelector": "{logtype=\"flow\", environment=\"ops\"}", "recordFormat": MISSION_FORMAT,
        "insideCidrs": ["10.0.32.0/20"], "interfaceId": "eni-0352f8c82da6aa229"});
    let request = pb::QueryDataRequest {
        plugin_context: Some(pb::PluginContext {
            data_source_instance_settings: Some(pb::DataSourceInstanceSettings {
                url: server.url.clone(),
                json_data: serde_json::to_vec(&settings_json).expect("json"),
                ..Default::default()
            }),
            ..Default::default()
        }),
        queries: targets
            .iter()
            .enumerate()
            .map(|(i, t)| pb::DataQuery {
                ref_id: format!("Q{i}"),
                max_data_points: req.max_data_points,
                interval_ms: req.interval_ms,
                time_range: Some(pb::TimeRange { from_epoch_ms: req.range.from_ms, to_epoch_ms: req.range.to_ms }),
                json: serde_json::to_vec(t).expect("json"),
                query_type: String::new(),
            })
            .collect(),
        ..Default::default()
    };
    let mut runs = Vec::new();
    for _ in 0..MEMORY_RUNS {
        runs.push(plugin_peak(request.clone()).await?);
    }
    let (idle, frame_bytes) = (runs[0].0, runs[0].2);
    let mut peaks: Vec<u64> = runs.iter().map(|r| r.1).collect();
    peaks.sort_unstable();
    let peak = peaks[peaks.len() / 2];
    let vl = status_kib(server.pid(), "VmRSS:").unwrap_or(0);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "plugin memory, {records} records, all {} targets in one QueryData (dashboard + 10,000 records + 10,000 raw rows):",
        targets.len()
    );
    println!("  backend answers (JSON lines, same queries):  {:>8.1} MiB", answer_bytes as f64 / 1048576.0);
    println!("  frames returned (Arrow IPC):                 {:>8.1} MiB", frame_bytes as f64 / 1048576.0);
    println!(
        "  plugin RSS idle / peak (median of {MEMORY_RUNS}):      {:>8.1} / {:.1} MiB (runs: {})",
        mib(idle),
        mib(peak),
        peaks.iter().map(|p| format!("{:.1}", mib(*p))).collect::<Vec<_>>().join(", ")
    );
    println!("  VictoriaLogs RSS after the queries:          {:>8.1} MiB", mib(vl));
    println!("  plugin peak / VictoriaLogs RSS:              {:>8.2}x", peak as f64 / vl.max(1) as f64);
    Ok(peak)
}

/// Starts a fresh plugin process, sends it `request`, and returns its idle
/// RSS, its peak RSS (KiB) and the frames' bytes.
async fn plugin_peak(request: crate::pluginv2::QueryDataRequest) -> Result<(u64, u64, usize), String> {
    use crate::pluginv2 as pb;
    use tokio::io::AsyncBufReadExt;

    let exe = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("gpx_flowlens");
    let mut child = tokio::process::Command::new(&exe)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e} (build it with cargo build --release)", exe.display()))?;
    let pid = child.id().ok_or("the plugin exited")?;
    let mut line = String::new();
    tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?)
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    let address = line.trim().split('|').nth(3).ok_or_else(|| format!("bad handshake {line:?}"))?.to_string();
    // go-plugin's gRPC client accepts messages up to 2 GiB (math.MaxInt32); so does this one.
    let mut client = pb::data_client::DataClient::connect(format!("http://{address}"))
        .await
        .map_err(|e| e.to_string())?
        .max_decoding_message_size(i32::MAX as usize);
    let idle = status_kib(pid, "VmRSS:").unwrap_or(0);
    let response = client.query_data(request).await.map_err(|e| e.to_string())?.into_inner();
    let failed: Vec<&String> = response.responses.iter().filter(|(_, r)| !r.error.is_empty()).map(|(k, _)| k).collect();
    if !failed.is_empty() {
        return Err(format!("plugin queries failed: {failed:?}"));
    }
    let frame_bytes: usize = response.responses.values().flat_map(|r| r.frames.iter().map(Vec::len)).sum();
    let peak = status_kib(pid, "VmHWM:").unwrap_or(0);
    Ok((idle, peak, frame_bytes))
}
