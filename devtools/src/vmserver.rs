//! Start and stop throwaway local VictoriaMetrics single-node processes, and
//! run vmalert's replay and `-dryRun` check, for the tests of rollups
//! (recording rules over VictoriaLogs written into VictoriaMetrics). Both
//! binaries are VictoriaMetrics v1.151.0 (`app/victoria-metrics`,
//! `app/vmalert`), built by `scripts/victoriametrics.sh`. Like
//! [`crate::vlserver`], a server listens on a free loopback port, keeps its
//! data and log under a fresh directory in the system temp dir, and is killed
//! and cleaned up when dropped; it can be stopped and started again (same
//! port, same data) for "store down" tests.
//!
//! What a replay writes, as read in vmalert v1.151.0's source and checked by
//! `tests/rollup_engines.rs` against VictoriaLogs v1.52.1:
//!
//! - Replay (`app/vmalert/replay.go` `replay`, `app/vmalert/rule/group.go`
//!   `Group.Replay`) cuts `[-replay.timeFrom, -replay.timeTo)` into requests
//!   of `interval * -replay.maxDatapointsPerQuery` (`rangeIterator.next`:
//!   chunk `k` is `[from + k*step, min(from + (k+1)*step, to))`), and each
//!   rule asks the datasource once per chunk (`rule/rule.go` `replayRule`,
//!   `rule/recording.go` `RecordingRule.execRange`).
//! - For a `type: vlogs` group the request is
//!   `/select/logsql/stats_query_range` with `start`, `end` (RFC3339, whole
//!   seconds) and `step` = the group's `interval` in seconds
//!   (`app/vmalert/datasource/client_vlogs.go` `setVLogsRangeReqParams`).
//!   Only expressions without a time filter may be replayed
//!   (`datasource/client.go` `Client.QueryRange`; `rule/recording.go`
//!   `setIntervalAsTimeFilter`). VictoriaLogs treats `end` as exclusive and
//!   aligns `start` down and `end` up to the step
//!   (`app/vlselect/logsql/logsql.go` `parseCommonArgsExt`,
//!   `alignStartEndToStep`), then groups by `_time:step`: each bucket covers
//!   `[T, T+interval)` (nanoseconds) and its sample is stamped `T`, the
//!   bucket's start. With `-replay.timeFrom` aligned to the interval the
//!   chunks meet exactly on bucket edges, and a record 1 ns before an edge is
//!   in the earlier bucket, one on the edge in the later one.
//! - Live evaluation is different: it asks `/select/logsql/stats_query` with
//!   `time=ts`, `start=ts-interval`, `end=ts` (`setVLogsInstantReqParams`),
//!   so the same bucket `[ts-interval, ts)` is stamped at its end, `ts`.
//!   To sum replayed buckets of `[H, H+1h)`, query at `H+1h-1ms` with a `[1h]`
//!   window (VictoriaMetrics' window is `(t-1h, t]`).
//! - Labels (`datasource/client_vlogs.go` `parseVLogsRangeResponse`,
//!   `rule/recording.go` `RecordingRule.toTimeSeries`): VictoriaLogs names
//!   each series after its stats result (`__name__` = `value` for
//!   `sum(bytes) as value`); vmalert renames that label to `stats_result`,
//!   sets `__name__` to the rule's `record`, keeps the `by (...)` fields and
//!   adds the rule's `labels`. For `record: flowlens_rollup`, expr
//!   `stream:"t" | stats by (host) sum(bytes) as value` and labels
//!   `flowlens_rule: "abc"` the exact set is
//!   `{__name__="flowlens_rollup", flowlens_rule="abc", host="<host>", stats_result="value"}`;
//!   nothing else (no group, file or rule id label) unless `-external.label`
//!   is given.
//! - A group whose `sum(bytes)` has no numeric value (every `bytes` is `-`)
//!   comes back from VictoriaLogs as `"NaN"`; vmalert counts and pushes it,
//!   and VictoriaMetrics drops it on ingestion (`lib/storage/storage.go`
//!   `Storage.add` skips every NaN but the staleness marker): the series does
//!   not exist at all. Non-numeric values beside numeric ones are skipped by
//!   the sum.
//! - Replaying the same window again writes the same samples with the same
//!   timestamps; with `-dedup.minScrapeInterval=1ms` VictoriaMetrics keeps one
//!   of them, so sums do not double. Which one: of samples with the same
//!   timestamp it keeps the biggest value (`lib/storage/dedup.go`
//!   `DeduplicateSamples`), not the last written. A replay after late
//!   records raises a bucket; a replay that should lower one (a changed
//!   expression, fewer records) leaves the old, bigger value.
//! - vmalert exits 0 after `replay succeed!`, and non-zero (a `fatal` log
//!   line) when a rule's request fails (`replayRuleRange`) or when remote
//!   write dropped samples (`app/vmalert/main.go`).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the server may take to answer `/health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a graceful stop may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one vmalert run (a replay or a check) may take.
const VMALERT_TIMEOUT: Duration = Duration::from_secs(300);

/// Attempts to start the server when another process takes its port first.
const PORT_ATTEMPTS: usize = 3;

/// victoria-metrics flags besides the data path and the listen address:
/// samples of any age are kept (fixtures may be far from today); equal
/// samples written twice (a replay run again) count once; and no response is
/// served from the rollup result cache, which could otherwise keep a sum
/// computed before a replay.
const SERVER_ARGS: [&str; 3] = ["-retentionPeriod=100y", "-dedup.minScrapeInterval=1ms", "-search.disableCache"];

/// vmalert flags for a replay, besides the rules, the two URLs and the time
/// range: one request per rule and 1000 steps (83h20m at 5m); no retry of a
/// failed datasource request, so a broken rule fails at once; no pause
/// between rules; no progress bar in the log; remote write flushed every
/// 100ms, and given up after 2s of failures (then vmalert exits non-zero
/// with "dropped N samples"), so a replay into a stopped server fails fast;
/// a queue for the series of a whole request (a day of a ports rule is
/// hundreds of thousands; past the default 100,000 vmalert fails "queue is
/// full").
const REPLAY_ARGS: [&str; 8] = [
    "-remoteWrite.maxQueueSize=10000000",
    "-replay.maxDatapointsPerQuery=1000",
    "-replay.ruleRetryAttempts=1",
    "-replay.rulesDelay=0",
    "-replay.disableProgressBar",
    "-remoteWrite.flushInterval=100ms",
    "-remoteWrite.retryMinInterval=200ms",
    "-remoteWrite.retryMaxTime=2s",
];

/// Where a VictoriaMetrics binary (`victoria-metrics` or `vmalert`) is:
/// `$VICTORIAMETRICS_BIN` or `$VMALERT_BIN`, else `name` on `PATH`, else
/// `$HOME/.cache/flowlens/bin/<name>` (where `scripts/victoriametrics.sh`
/// builds it).
pub fn find_binary(name: &str) -> Result<PathBuf, String> {
    let var = match name {
        "victoria-metrics" => "VICTORIAMETRICS_BIN",
        "vmalert" => "VMALERT_BIN",
        other => return Err(format!("unknown VictoriaMetrics binary {other:?}: expected victoria-metrics or vmalert")),
    };
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(format!("{var}={} is not a file", path.display())) };
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    let cached = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/flowlens/bin").join(name));
    on_path.chain(cached).find(|path| path.is_file()).ok_or_else(|| {
        format!(
            "no {name} binary: set {var}, put {name} on PATH, \
             or run scripts/victoriametrics.sh {name} to build it into ~/.cache/flowlens/bin"
        )
    })
}

/// A single-node VictoriaMetrics; killed and its data removed on drop.
pub struct VmServer {
    child: Child,
    dir: PathBuf,
    port: u16,
    url: String,
    binary: PathBuf,
    /// Flags besides the usual ones, kept for a restart.
    extra: Vec<String>,
}

impl VmServer {
    /// Start a server and wait until it is healthy; on failure the error
    /// carries the tail of the process's log.
    pub async fn start() -> Result<VmServer, String> {
        Self::start_with(&[]).await
    }

    /// [`VmServer::start`] with more flags (e.g. a search limit).
    pub async fn start_with(extra: &[&str]) -> Result<VmServer, String> {
        let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        let binary = find_binary("victoria-metrics")?;
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let dir = fresh_dir("vm")?;
            let child = match run(&binary, &dir, port, &extra) {
                Ok(child) => child,
                Err(error) => {
                    let _ = fs::remove_dir_all(&dir);
                    return Err(error);
                }
            };
            let url = format!("http://127.0.0.1:{port}");
            let mut server = VmServer { child, dir, port, url, binary: binary.clone(), extra: extra.clone() };
            match server.wait_healthy().await {
                Ok(()) => return Ok(server),
                Err(error) if error.contains("address already in use") => last_error = error,
                Err(error) => return Err(error),
            }
        }
        Err(last_error)
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (also the remote-write URL:
    /// vmalert appends `/api/v1/write`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Makes every sample written so far searchable now
    /// (`/internal/force_flush`).
    pub async fn flush(&self) -> Result<(), String> {
        let url = format!("{}/internal/force_flush", self.url);
        let response = http_client()?.get(&url).send().await.map_err(|e| format!("GET {url}: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("GET {url}: HTTP {}", response.status()))
        }
    }

    /// Stops the server gracefully (SIGTERM: it flushes its data and exits),
    /// or kills it after [`STOP_TIMEOUT`]; the data directory and the port
    /// stay for [`Self::start_again`].
    pub async fn stop(&mut self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("cannot run kill -TERM {pid}: {e}"))?;
        if !status.success() {
            return Err(format!("kill -TERM {pid} failed: {status}"));
        }
        let started = Instant::now();
        while self.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if started.elapsed() > STOP_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Starts the stopped server again on the same port with the same data
    /// and flags, and waits until it is healthy.
    pub async fn start_again(&mut self) -> Result<(), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = run(&self.binary, &self.dir, self.port, &self.extra)?;
        self.wait_healthy().await
    }

    /// Poll `/health` until it answers 200, the process exits, or
    /// [`STARTUP_TIMEOUT`] passes.
    async fn wait_healthy(&mut self) -> Result<(), String> {
        let client = http_client()?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("victoria-metrics exited ({status}) during startup:\n{}", self.log_tail()));
            }
            if client.get(format!("{}/health", self.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(format!(
                    "victoria-metrics at {} not healthy after {STARTUP_TIMEOUT:?}:\n{}",
                    self.url,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines the process logged.
    fn log_tail(&self) -> String {
        tail(&self.dir.join("victoria-metrics.log"))
    }
}

impl Drop for VmServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs victoria-metrics on `port` with its data and log under `dir`.
fn run(binary: &Path, dir: &Path, port: u16, extra: &[String]) -> Result<Child, String> {
    let log = File::options()
        .create(true)
        .append(true)
        .open(dir.join("victoria-metrics.log"))
        .map_err(|e| format!("cannot create log file: {e}"))?;
    let log_err = log.try_clone().map_err(|e| format!("cannot share log file: {e}"))?;
    Command::new(binary)
        .arg(format!("-storageDataPath={}", dir.join("data").display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .args(SERVER_ARGS)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))
}

/// Replays the recording rules of `rules` over `[from_ms, to_ms)` with
/// vmalert: it asks VictoriaLogs at `victorialogs_url` and writes the
/// samples to VictoriaMetrics at `vm_url` (see the module doc for what it
/// writes). Both times must be whole seconds (vmalert takes RFC3339); align
/// `from_ms` to the groups' interval, or the first bucket reaches back before
/// it. Waits for vmalert to exit and returns its log; fails with the log's
/// tail when it exits non-zero or logs an error.
pub async fn replay(
    rules: &Path,
    victorialogs_url: &str,
    vm_url: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<String, String> {
    replay_with_args(rules, victorialogs_url, vm_url, from_ms, to_ms, &[]).await
}

/// [`replay`] with more vmalert flags after the usual ones (a later flag
/// wins), e.g. `-replay.maxDatapointsPerQuery=12` for one request per hour
/// at a 5m interval.
pub async fn replay_with_args(
    rules: &Path,
    victorialogs_url: &str,
    vm_url: &str,
    from_ms: i64,
    to_ms: i64,
    extra_args: &[String],
) -> Result<String, String> {
    let mut args = vec![
        format!("-rule={}", rules.display()),
        format!("-datasource.url={victorialogs_url}"),
        format!("-remoteWrite.url={vm_url}"),
        format!("-replay.timeFrom={}", rfc3339_seconds(from_ms)?),
        format!("-replay.timeTo={}", rfc3339_seconds(to_ms)?),
    ];
    args.extend(REPLAY_ARGS.iter().map(|arg| arg.to_string()));
    args.extend(extra_args.iter().cloned());
    run_vmalert("replay", &args).await
}

/// Runs vmalert evaluating the rules of `rules` live for `duration`, as a
/// deployment does (each evaluation at `T` asks `[T - interval, T)` with
/// `T` the group's `eval_delay` before now, rounded down to the interval,
/// and stamps it `T`), then stops it. Returns its log; fails when it logged
/// an error.
pub async fn evaluate_live(
    rules: &Path,
    victorialogs_url: &str,
    vm_url: &str,
    duration: Duration,
) -> Result<String, String> {
    let binary = find_binary("vmalert")?;
    let dir = fresh_dir("live")?;
    let log_path = dir.join("vmalert.log");
    let result = async {
        let args = [
            format!("-rule={}", rules.display()),
            format!("-datasource.url={victorialogs_url}"),
            format!("-remoteWrite.url={vm_url}"),
            format!("-httpListenAddr=127.0.0.1:{}", free_port()?),
            "-remoteWrite.flushInterval=100ms".to_string(),
        ];
        let mut child = spawn_vmalert(&binary, &log_path, &args)?;
        tokio::time::sleep(duration).await;
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("vmalert exited early ({status}):\n{}", tail(&log_path)));
        }
        let _ = child.kill().await;
        let log = fs::read_to_string(&log_path).map_err(|e| format!("cannot read {}: {e}", log_path.display()))?;
        match rule_error(&log) {
            Some(line) => Err(format!("vmalert logged an error: {line}\n{}", last_lines(&log))),
            None => Ok(log),
        }
    }
    .await;
    let _ = fs::remove_dir_all(&dir);
    result
}

/// vmalert's flag for rules of `type: prometheus` groups that are LogQL
/// (asked of Loki's query API): it checks them as MetricsQL otherwise.
/// (`-dryRun` always does, `app/vmalert/main.go`, so LogQL rules are
/// checked by Grafana's grammar and by running them.)
pub const LOGQL_RULES: &str = "-rule.validateExpressions=false";

/// Checks a rules file with vmalert's `-rule=<file> -dryRun` (YAML, group
/// and rule fields, LogsQL of `type: vlogs` groups, templates); the error
/// carries vmalert's complaint.
pub fn check_rules(rules: &Path) -> Result<(), String> {
    let binary = find_binary("vmalert")?;
    let output = Command::new(&binary)
        .arg(format!("-rule={}", rules.display()))
        .arg("-dryRun")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    match rule_error(&log) {
        None if output.status.success() => Ok(()),
        _ => Err(format!("vmalert -dryRun rejected {} ({}):\n{}", rules.display(), output.status, last_lines(&log))),
    }
}

/// Runs vmalert with `args`, its output in a log file under a fresh
/// directory, waits for it (at most [`VMALERT_TIMEOUT`]) and returns the log.
async fn run_vmalert(role: &str, args: &[String]) -> Result<String, String> {
    let binary = find_binary("vmalert")?;
    let dir = fresh_dir(role)?;
    let result = run_vmalert_in(&binary, &dir, args).await;
    let _ = fs::remove_dir_all(&dir);
    result
}

async fn run_vmalert_in(binary: &Path, dir: &Path, args: &[String]) -> Result<String, String> {
    let log_path = dir.join("vmalert.log");
    let mut child = spawn_vmalert(binary, &log_path, args)?;
    let status = match tokio::time::timeout(VMALERT_TIMEOUT, child.wait()).await {
        Ok(status) => status.map_err(|e| format!("cannot wait for vmalert: {e}"))?,
        Err(_) => {
            let _ = child.kill().await;
            return Err(format!("vmalert did not finish in {VMALERT_TIMEOUT:?}:\n{}", tail(&log_path)));
        }
    };
    let log = fs::read_to_string(&log_path).map_err(|e| format!("cannot read {}: {e}", log_path.display()))?;
    if !status.success() {
        return Err(format!("vmalert exited ({status}):\n{}", last_lines(&log)));
    }
    if let Some(line) = rule_error(&log) {
        return Err(format!("vmalert logged an error: {line}\n{}", last_lines(&log)));
    }
    Ok(log)
}

/// Starts vmalert with `args`, its output in `log_path`; killed when dropped.
fn spawn_vmalert(binary: &Path, log_path: &Path, args: &[String]) -> Result<tokio::process::Child, String> {
    let log = File::create(log_path).map_err(|e| format!("cannot create log file: {e}"))?;
    let log_err = log.try_clone().map_err(|e| format!("cannot share log file: {e}"))?;
    tokio::process::Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))
}

/// The first line of a vmalert log at level error, fatal or panic (its
/// lines are `<time>\t<level>\t<source>\t<message>`).
fn rule_error(log: &str) -> Option<&str> {
    log.lines().find(|line| {
        let level = line.split('\t').nth(1).unwrap_or_default();
        matches!(level, "error" | "fatal" | "panic")
    })
}

/// `ms` as RFC3339 in UTC, whole seconds (vmalert's `-replay.time*` and the
/// `start`/`end` it sends carry no fraction).
fn rfc3339_seconds(ms: i64) -> Result<String, String> {
    if ms.rem_euclid(1000) != 0 {
        return Err(format!("replay times must be whole seconds; got {ms} ms"));
    }
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .ok_or_else(|| format!("{ms} ms is out of range for a timestamp"))
}

/// The last lines of the log at `path`.
fn tail(path: &Path) -> String {
    last_lines(&fs::read_to_string(path).unwrap_or_default())
}

fn last_lines(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// A new empty directory under the system temp dir, unique per process and call.
fn fresh_dir(role: &str) -> Result<PathBuf, String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("flowlens-vm-{}-{n}-{role}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
