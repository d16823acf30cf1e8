//! `flowlens demo`: a local VictoriaLogs loaded with a day of generated VPC
//! Flow Logs (raw lines through the Loki push API, as Lambda Promtail sends
//! them), and every panel of the NAT-gateway dashboard answered through the
//! same path Grafana uses.

use serde_json::{json, Value};

use crate::gen::{generate, GenConfig, MISSION_FORMAT};
use crate::load::Loader;
use crate::vlserver::{VlOptions, VlServer};
use flowlens::datasource::Datasource;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::settings::{InstanceSettings, Settings};

/// The NAT-gateway dashboard's panels: title and target.
pub fn panels() -> Vec<(&'static str, Value)> {
    vec![
        ("NAT total processed", json!({"format": "stat", "direction": "any"})),
        ("Total IN", json!({"format": "stat", "direction": "in"})),
        ("Total OUT", json!({"format": "stat", "direction": "out"})),
        ("IN bytes/sec", json!({"format": "series", "direction": "in", "rate": true})),
        ("OUT bytes/sec", json!({"format": "series", "direction": "out", "rate": true})),
        (
            "Top 10 remote IPs IN",
            json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10}),
        ),
        ("Top 10 pods IN", json!({"format": "table", "direction": "in", "groupBy": ["pkt_dstaddr"], "limit": 10})),
        (
            "Top 10 remote IPs IN, bytes/sec",
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10, "rate": true, "other": true}),
        ),
        (
            "IN by IP and port",
            json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], "limit": 10}),
        ),
        ("Latest flow records", json!({"format": "logs", "limit": 5})),
    ]
}

/// The demo datasource's settings (as provisioning/datasources sets them).
pub fn settings(url: &str) -> Settings {
    let json = json!({
        "streamSelector": "{logtype=\"flow\", environment=\"ops\"}",
        "recordFormat": MISSION_FORMAT,
        "insideCidrs": ["10.0.32.0/20"],
        "interfaceId": "eni-0352f8c82da6aa229",
    });
    let json = serde_json::to_vec(&json).expect("settings serialize");
    Settings::from_instance(&InstanceSettings { url, json_data: &json, ..Default::default() })
        .expect("demo settings are valid")
}

/// Runs the demo and prints every panel.
pub async fn run(connections: usize, serve: bool) -> Result<(), String> {
    let started = std::time::Instant::now();
    let server = VlServer::start(VlOptions::default()).await?;
    println!("VictoriaLogs started at {}", server.url);
    let cfg = GenConfig { connections, ..GenConfig::default() };
    let records = generate(&cfg);
    let loader = Loader::new(&server.url);
    let stream = [("logtype", "flow"), ("environment", "ops"), ("logger_type", "vpc"), ("component", "devops")];
    let lines = loader.push_raw(&records, MISSION_FORMAT, &stream).await.map_err(|e| e.to_string())?;
    loader.force_flush().await.map_err(|e| e.to_string())?;
    println!(
        "Loaded {} flow records ({lines} lines with S3 header lines) for {} .. {} in {:.1}s\n",
        records.len(),
        chrono::DateTime::from_timestamp_millis(cfg.from_ms).unwrap_or_default().format("%Y-%m-%d %H:%M"),
        chrono::DateTime::from_timestamp_millis(cfg.to_ms).unwrap_or_default().format("%Y-%m-%d %H:%M UTC"),
        started.elapsed().as_secs_f64()
    );
    let ds = Datasource::new(settings(&server.url)).map_err(|e| e.message)?;
    let req = Request {
        range: TimeRange { from_ms: cfg.from_ms, to_ms: cfg.to_ms },
        interval_ms: 600_000,
        max_data_points: 144,
    };
    for (title, target) in panels() {
        let q =
            FlowQuery::parse(&serde_json::to_vec(&target).expect("json"), &req, &ds.settings).map_err(|e| e.message)?;
        let t = std::time::Instant::now();
        let frames = ds.query(&q).await.map_err(|e| format!("{title}: {}", e.message))?;
        println!("== {title}  ({:.0} ms)", t.elapsed().as_secs_f64() * 1000.0);
        print!("{}", crate::print::frames(&frames));
        println!();
    }
    let health = flowlens::health::check(&ds).await;
    println!("Save & test: {}", health.message);
    if serve {
        println!("\nVictoriaLogs keeps serving these records at {} (Ctrl-C stops it)", server.url);
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
