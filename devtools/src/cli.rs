//! `flowlens`: the command line. `demo` starts a local VictoriaLogs, loads a
//! day of generated flow logs and prints every dashboard panel; `query` runs
//! one panel query against a datasource (VictoriaLogs or Loki), with
//! `--compare` beside Loki's own answers; `render` prints its backend query
//! (LogsQL or LogQL); `check` asks a live backend each question two
//! independent ways and prints a verdict per question.
//!
//! The binary (`src/bin/flowlens.rs`) parses its arguments and calls [`run`];
//! the tests call [`run`] the same way with a buffer for its output.

use clap::{Parser, Subcommand};
use std::io::Write;

use flowlens::datasource::Datasource;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::settings::{InstanceSettings, Settings};

#[derive(Parser)]
#[command(version, about = "Network flow logs from VictoriaLogs or Loki as Grafana frames")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the datasource is and how it is configured, as Grafana holds it.
#[derive(clap::Args)]
struct DatasourceArgs {
    /// Backend URL, e.g. http://localhost:9428 (VictoriaLogs) or http://localhost:3100 (Loki)
    #[arg(long, default_value = "http://127.0.0.1:9428")]
    url: String,
    /// The backend, `victorialogs` or `loki` (overrides `backend` in --settings)
    #[arg(long)]
    backend: Option<String>,
    /// Datasource jsonData (JSON text, or @file), as provisioned
    #[arg(long, default_value = "{}")]
    settings: String,
    /// Datasource secureJsonData (JSON text, or @file): e.g. {"httpHeaderValue1": "tenant"}
    #[arg(long)]
    secure: Option<String>,
    /// Basic-auth user (the password is secureJsonData's basicAuthPassword)
    #[arg(long)]
    basic_auth_user: Option<String>,
}

impl DatasourceArgs {
    /// The jsonData, `--backend` applied.
    fn json(&self) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        let mut json: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&text_or_file(&self.settings)?)
                .map_err(|e| format!("--settings is not a JSON object: {e}"))?;
        if let Some(backend) = &self.backend {
            json.insert("backend".into(), backend.as_str().into());
        }
        Ok(json)
    }

    /// The datasource with this jsonData.
    fn build(&self, json: &serde_json::Map<String, serde_json::Value>) -> Result<Datasource, String> {
        let secure: std::collections::HashMap<String, String> = match &self.secure {
            Some(text) => serde_json::from_slice(&text_or_file(text)?)
                .map_err(|e| format!("--secure is not a JSON object of strings: {e}"))?,
            None => Default::default(),
        };
        let json_data = serde_json::to_vec(json).map_err(|e| e.to_string())?;
        let settings = Settings::from_instance(&InstanceSettings {
            url: &self.url,
            basic_auth_enabled: self.basic_auth_user.is_some(),
            basic_auth_user: self.basic_auth_user.as_deref().unwrap_or_default(),
            json_data: &json_data,
            secure: Some(&secure),
        })
        .map_err(|e| e.to_string())?;
        Datasource::new(settings).map_err(|e| e.message)
    }
}

#[derive(clap::Args)]
struct QueryArgs {
    #[command(flatten)]
    datasource: DatasourceArgs,
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
    /// Rendering a filter's value list as it grows to the cap (no backend).
    Lists,
    /// Rollups (issue 21): a week of records, the rules replayed by vmalert into
    /// VictoriaMetrics, dashboard refreshes over 24 h and 7 d with and without rollups.
    Rollups,
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
        /// records; no peer, no timings, nothing written), `lists` (rendering a filter's
        /// value list as it grows to its cap, both dialects, no backend), or `rollups` (a
        /// week of --connections a day, the rules replayed by vmalert into VictoriaMetrics,
        /// cold refreshes over 24 h and 7 d with and without rollups and the peer's; with
        /// --write it replaces only the file's `## Rollups` section)
        #[arg(long, value_enum)]
        only: Option<BenchSection>,
    },
    /// Run one query and print its frames
    Query(QueryArgs),
    /// Print the backend query a panel query starts with
    Render(QueryArgs),
    /// Print the recording rules (vmalert groups: `type: vlogs` for VictoriaLogs, `type: prometheus` of LogQL for Loki) that roll up the dashboards'
    /// questions for this datasource's settings; deploy them as README "Rollups" says
    Rules(RulesArgs),
    /// Check a live backend against itself: each question asked two independent ways
    /// (a total vs its buckets, a ranking's top group vs its series, split vs whole), twice
    /// (the second answer may come from the backend's results cache); a verdict per
    /// question, exit 1 when any differs
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    datasource: DatasourceArgs,
    /// The settled hours compared split against whole (with lokiSplitInterval above 0)
    #[arg(long, default_value_t = 6)]
    hours: i64,
    /// Check the whole hour before this time (RFC 3339 or now[-<n>(s|m|h|d)]; default: the
    /// last hour that ended cacheSettleMinutes ago)
    #[arg(long)]
    at: Option<String>,
}

#[derive(clap::Args)]
struct RulesArgs {
    #[command(flatten)]
    datasource: DatasourceArgs,
    /// Dashboard JSON files or folders (default: the shipped provisioning/dashboards)
    #[arg(long)]
    dashboards: Vec<std::path::PathBuf>,
    /// The rules' intervals, e.g. 1m, or 1m,1h for a group each (default: the settings' rollups.resolution, else 1m)
    #[arg(long)]
    resolution: Option<String>,
    /// How late flow records reach the store: the rule group's eval_delay (default: the
    /// settings' cacheSettleMinutes)
    #[arg(long)]
    delay: Option<String>,
    /// Also roll up questions grouped by ports (many more series; at the coarsest resolution only)
    #[arg(long)]
    ports: bool,
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
    let ds = args.datasource.build(&args.datasource.json()?)?;
    let now = chrono::Utc::now().timestamp_millis();
    let range = TimeRange { from_ms: parse_time(&args.from, now)?, to_ms: parse_time(&args.to, now)? };
    let req = Request { range, interval_ms: args.interval * 1000, max_data_points: 0 };
    let q = FlowQuery::parse(&text_or_file(&args.query)?, &req, &ds.settings).map_err(|e| e.message)?;
    Ok((ds, q))
}

/// `flowlens check`: the consistency suite against a live backend.
async fn check(args: &CheckArgs, out: &mut dyn Write) -> Result<(), String> {
    let json = args.datasource.json()?;
    let ds = args.datasource.build(&json)?;
    let mut whole = json.clone();
    // Loki's queries unsplit (the section's key wins over the flat one).
    let mut loki = whole.get("loki").and_then(|v| v.as_object()).cloned().unwrap_or_default();
    loki.insert("splitInterval".into(), "0".into());
    whole.insert("loki".into(), loki.into());
    let unsplit = args.datasource.build(&whole)?;
    let split = ds.backend().as_any().downcast_ref::<flowlens::backends::loki::Loki>().map(|l| l.dialect().split_ms);
    let hours = if split.is_some_and(|ms| ms > 0) { args.hours } else { 0 };
    let now = chrono::Utc::now().timestamp_millis();
    let window = match &args.at {
        Some(at) => flowlens::consistency::settled_hour(parse_time(at, now)?, 0),
        None => flowlens::consistency::settled_hour(now, ds.settings.cache_settle_ms),
    };
    let verdicts = flowlens::consistency::suite(&ds, &unsplit, window, hours).await.map_err(|e| e.message)?;
    for v in &verdicts {
        writeln!(out, "{}", v.describe()).map_err(|e| e.to_string())?;
    }
    if verdicts.iter().all(|v| v.ok()) {
        if verdicts.iter().all(|v| v.expected == 0) {
            return Err("the last settled hour holds no records: nothing was proven; check streamSelector".into());
        }
        writeln!(out, "verdict: {} answers every question the same two ways", ds.backend().product())
            .map_err(|e| e.to_string())
    } else {
        Err(format!("answers differ. Likely cause: {}", flowlens::consistency::likely_cause(&ds, &verdicts)))
    }
}

/// Runs the command line `args` (without the program name) as the binary
/// does: an argument error is an error here, not an exit.
pub async fn run_args(args: &[&str], out: &mut dyn Write) -> Result<(), String> {
    let cli =
        Cli::try_parse_from(std::iter::once("flowlens").chain(args.iter().copied())).map_err(|e| e.to_string())?;
    run(cli, out).await
}

/// Runs one command line; `query`, `render` and `check` write what they
/// print to `out` (`demo` and `bench` print their reports themselves).
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<(), String> {
    let written = |r: std::io::Result<()>| r.map_err(|e| e.to_string());
    match cli.command {
        Command::Demo { connections, serve } => crate::demo::run(connections, serve).await,
        Command::Bench { only: Some(BenchSection::Lists), .. } => crate::bench::lists::run().await,
        Command::Bench { connections, runs, scale, peer, write, only } => {
            crate::bench::run(crate::bench::Options {
                connections,
                runs: runs.max(1),
                scale: scale.max(1),
                peer: peer.unwrap_or_else(crate::bench::Options::default_peer),
                write,
                memory_only: only == Some(BenchSection::Memory),
                rollups_only: only == Some(BenchSection::Rollups),
            })
            .await
        }
        Command::Query(args) => match prepare(&args) {
            Ok((ds, q)) if args.compare => match crate::compare::run(&ds, &q).await {
                Ok((report, equal)) => {
                    written(write!(out, "{report}"))?;
                    if equal {
                        Ok(())
                    } else {
                        Err("the plugin's answer and Loki's own differ (above)".to_string())
                    }
                }
                Err(e) => Err(e.message),
            },
            Ok((ds, q)) => {
                let frames = ds.query(&q).await.map_err(|e| e.message)?;
                written(write!(out, "{}", crate::print::frames(&frames)))
            }
            Err(e) => Err(e),
        },
        Command::Render(args) => {
            prepare(&args).and_then(|(ds, q)| written(writeln!(out, "{}", ds.render(&q).join("\n\n"))))
        }
        Command::Check(args) => check(&args, out).await,
        Command::Rules(args) => {
            let ds = args.datasource.build(&args.datasource.json()?)?;
            let ms =
                |d: &Option<String>| d.as_deref().map(|t| parse_time(&format!("now-{t}"), 0).map(|v| -v)).transpose();
            let dashboards = if args.dashboards.is_empty() {
                vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/dashboards")]
            } else {
                args.dashboards
            };
            let opts = crate::rules::Options {
                dashboards,
                resolutions_ms: args
                    .resolution
                    .as_deref()
                    .map(|r| {
                        flowlens::rollups::settings::resolutions_ms(r).ok_or_else(|| {
                            format!("--resolution `{r}`: whole seconds up to a day each, such as 1m or 1m,1h")
                        })
                    })
                    .transpose()?,
                ports: args.ports,
                delay_ms: ms(&args.delay)?.unwrap_or(ds.settings.cache_settle_ms),
            };
            written(write!(out, "{}", crate::rules::render(&ds, &opts)?))
        }
    }
}
