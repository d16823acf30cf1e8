//! `flowlens`: the command line. `demo` starts a local VictoriaLogs, loads a
//! day of generated flow logs and prints every dashboard panel; `query` runs
//! one panel query against a datasource (VictoriaLogs or Loki), with
//! `--compare` beside Loki's own answers; `render` prints its backend query
//! (LogsQL or LogQL).

use clap::{Parser, Subcommand};
use flowlens::datasource::Datasource;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::settings::{InstanceSettings, Settings};

#[derive(Parser)]
#[command(version, about = "Network flow logs from VictoriaLogs or Loki as Grafana frames")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct QueryArgs {
    /// Backend URL, e.g. http://localhost:9428 (VictoriaLogs) or http://localhost:3100 (Loki)
    #[arg(long, default_value = "http://127.0.0.1:9428")]
    url: String,
    /// The backend, `victorialogs` or `loki` (overrides `backend` in --settings)
    #[arg(long)]
    backend: Option<String>,
    /// Datasource jsonData (JSON text, or @file)
    #[arg(long, default_value = "{}")]
    settings: String,
    /// The panel query (JSON text, or @file), see docs/query-model.md
    #[arg(long)]
    query: String,
    /// Start: RFC 3339 or now-<n>(s|m|h|d)
    #[arg(long, default_value = "now-24h")]
    from: String,
    /// End: RFC 3339 or now[-<n>(s|m|h|d)]
    #[arg(long, default_value = "now")]
    to: String,
    /// Grafana's $__interval in seconds
    #[arg(long, default_value_t = 60)]
    interval: i64,
    /// Loki only (`query`): also send each step whole to Loki, print its raw
    /// answers beside the frames and compare; exits 1 when they differ
    #[arg(long)]
    compare: bool,
}

/// A section `flowlens bench --only` runs alone.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BenchSection {
    /// The plugin's peak memory.
    Memory,
}

#[derive(Subcommand)]
enum Command {
    /// Start a local VictoriaLogs with a day of generated records and print every panel
    Demo {
        /// Connections to generate (each gives several records)
        #[arg(long, default_value_t = 20_000)]
        connections: usize,
        /// Keep VictoriaLogs running with the records after the panels are printed
        /// (point a Grafana datasource at the printed URL; Ctrl-C stops it)
        #[arg(long)]
        serve: bool,
    },
    /// flowlens vs the official VictoriaLogs datasource (the user's LogsQL) on one local
    /// VictoriaLogs: read floors, each panel, dashboard refresh, scale, memory, Loki plans
    Bench {
        /// Connections to generate per record set (about 8 records each: 260,000 give about 2 M records a day)
        #[arg(long, default_value_t = 260_000)]
        connections: usize,
        /// Timed runs per figure, after one warm-up (the median is reported)
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Record sets in the scale section (1x is the first)
        #[arg(long, default_value_t = 4)]
        scale: usize,
        /// The official datasource's backend binary (default: ../shared/tools/victorialogs-datasource/gpx_victorialogs)
        #[arg(long)]
        peer: Option<std::path::PathBuf>,
        /// Also write the report as Markdown to this file (e.g. BENCHMARKS.md)
        #[arg(long)]
        write: Option<std::path::PathBuf>,
        /// Run only this section: `memory` (the plugin's peak RSS at 1x and --scale x the
        /// records; no peer, no timings, nothing written)
        #[arg(long, value_enum)]
        only: Option<BenchSection>,
    },
    /// Run one query and print its frames
    Query(QueryArgs),
    /// Print the backend query a panel query starts with
    Render(QueryArgs),
}

fn text_or_file(arg: &str) -> Result<Vec<u8>, String> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| format!("{path}: {e}")),
        None => Ok(arg.as_bytes().to_vec()),
    }
}

fn parse_time(text: &str, now: i64) -> Result<i64, String> {
    if let Some(rest) = text.strip_prefix("now") {
        let Some(ago) = rest.strip_prefix('-') else {
            return if rest.is_empty() { Ok(now) } else { Err(format!("`{text}`: expected now-<n>(s|m|h|d)")) };
        };
        let (n, unit) = ago.split_at(ago.len().saturating_sub(1));
        let n: i64 = n.parse().map_err(|_| format!("`{text}`: expected now-<n>(s|m|h|d)"))?;
        let ms = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(format!("`{text}`: unit must be s, m, h or d")),
        };
        return Ok(now - n * ms);
    }
    chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp_millis()).map_err(|e| format!("`{text}`: {e}"))
}

fn prepare(args: &QueryArgs) -> Result<(Datasource, FlowQuery), String> {
    let mut json_data = text_or_file(&args.settings)?;
    if let Some(backend) = &args.backend {
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&json_data).map_err(|e| format!("--settings is not a JSON object: {e}"))?;
        object.insert("backend".into(), backend.as_str().into());
        json_data = serde_json::to_vec(&object).map_err(|e| e.to_string())?;
    }
    let settings =
        Settings::from_instance(&InstanceSettings { url: &args.url, json_data: &json_data, ..Default::default() })
            .map_err(|e| e.to_string())?;
    let ds = Datasource::new(settings).map_err(|e| e.message)?;
    let now = chrono::Utc::now().timestamp_millis();
    let range = TimeRange { from_ms: parse_time(&args.from, now)?, to_ms: parse_time(&args.to, now)? };
    let req = Request { range, interval_ms: args.interval * 1000, max_data_points: 0 };
    let q = FlowQuery::parse(&text_or_file(&args.query)?, &req, &ds.settings).map_err(|e| e.message)?;
    Ok((ds, q))
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::Demo { connections, serve } => flowlens::demo::run(connections, serve).await,
        Command::Bench { connections, runs, scale, peer, write, only } => {
            flowlens::bench::run(flowlens::bench::Options {
                connections,
                runs: runs.max(1),
                scale: scale.max(1),
                peer: peer.unwrap_or_else(flowlens::bench::Options::default_peer),
                write,
                memory_only: only == Some(BenchSection::Memory),
            })
            .await
        }
        Command::Query(args) => match prepare(&args) {
            Ok((ds, q)) if args.compare => match flowlens::compare::run(&ds, &q).await {
                Ok((report, equal)) => {
                    print!("{report}");
                    if equal {
                        Ok(())
                    } else {
                        Err("the plugin's answer and Loki's own differ (above)".to_string())
                    }
                }
                Err(e) => Err(e.message),
            },
            Ok((ds, q)) => {
                ds.query(&q).await.map(|frames| print!("{}", flowlens::print::frames(&frames))).map_err(|e| e.message)
            }
            Err(e) => Err(e),
        },
        Command::Render(args) => prepare(&args).map(|(ds, q)| println!("{}", ds.render(&q).join("\n\n"))),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
