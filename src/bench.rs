//! `flowlens bench`: the dashboard's totals as the user wrote them by hand
//! (every field extracted, regex filters left in at `.*`) against the LogsQL
//! flowlens generates, on the same local VictoriaLogs and the same records,
//! side by side in one run. Prints each pair's median time and their ratio,
//! after checking that both give the same number.

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
        Settings::from_instance(&InstanceSettings { url: &server.url, json_data: &fields_json, ..Default::default() }).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.message)?;
    let req = Request { range: TimeRange { from_ms: cfg.from_ms, to_ms: cfg.to_ms }, interval_ms: 600_000, max_data_points: 144 };
    let time = format!(
        "_time:[{}, {})",
        chrono::DateTime::from_timestamp_millis(cfg.from_ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        chrono::DateTime::from_timestamp_millis(cfg.to_ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    println!("{:<22} {:>12} {:>12} {:>9} {:>14} {:>9}", "panel", "by hand ms", "flowlens ms", "speedup", "fields mode ms", "speedup");
    for (title, direction, condition) in [
        ("NAT total processed", "any", "(pkt_src_addr:ipv4_range(\"10.0.32.0/20\") OR pkt_dst_addr:ipv4_range(\"10.0.32.0/20\"))"),
        ("Total IN", "in", "pkt_dst_addr:ipv4_range(\"10.0.32.0/20\")"),
        ("Total OUT", "out", "pkt_src_addr:ipv4_range(\"10.0.32.0/20\")"),
    ] {
        let target = serde_json::to_vec(&serde_json::json!({"format": "stat", "direction": direction})).expect("json");
        let q = FlowQuery::parse(&target, &req, &raw.settings).map_err(|e| e.message)?;
        let hand = user_query(&time, condition);
        let (hand_ms, hand_value) = median_ms(runs, || async {
            let mut total = 0;
            raw.client()
                .stream_rows(&hand, &[], |row| {
                    total = row.get("bytes_total").and_then(|v| v.as_str()).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) as u64;
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
            return Err(format!("{title}: results differ: by hand {hand_value}, flowlens {ours_value}, fields mode {fields_value}"));
        }
        println!(
            "{title:<22} {hand_ms:>12.1} {ours_ms:>12.1} {:>8.2}x {fields_ms:>14.1} {:>8.2}x",
            hand_ms / ours_ms,
            hand_ms / fields_ms
        );
    }
    println!("\nspeedup = by-hand median / flowlens median (same server, same records, same result)");
    Ok(())
}
