//! Plays Grafana: starts the built plugin executable, reads the go-plugin
//! handshake line, and calls QueryData / CheckHealth / CallResource over
//! gRPC with real plugin contexts. Frames are decoded with arrow-rs's IPC
//! file reader, independently of the plugin's encoder, and every QueryData
//! exchange is also read by Grafana's own Go plugin SDK (`tests/grafana-go`,
//! built once per test process): a data-plane violation fails the test with
//! its message, and each refId's errorSource is the one Grafana sees.
#![allow(dead_code)] // each test crate uses a different part

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType, UInt64Type};
/// The plugin protocol types; tests import them from here, never from a crate directly.
pub use flowlens::pluginv2 as pb;
use flowlens_devtools::grafana;
use serde_json::Value;

/// The plugin executable the tests start: this build's, or
/// `FLOWLENS_PLUGIN_BIN` (to measure another build with the same tests).
pub fn plugin_binary() -> String {
    std::env::var("FLOWLENS_PLUGIN_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_gpx_flowlens").to_string())
}

/// The `flowlens` command line (`flowlens-devtools`), run as its binary
/// runs it, on a thread of its own (callers may be inside a runtime):
/// whether it succeeded, what it wrote, and its error line as the binary
/// prints it (`error: ...`).
pub fn flowlens_cli(args: &[&str]) -> (bool, String, String) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let mut out = Vec::new();
            let result = runtime.block_on(flowlens_devtools::cli::run_args(args, &mut out));
            let stderr = result.as_ref().err().map(|e| format!("error: {e}\n")).unwrap_or_default();
            (result.is_ok(), String::from_utf8(out).unwrap(), stderr)
        })
        .join()
        .unwrap()
    })
}

/// The plugin process and its gRPC clients: Grafana's stand-in shared with
/// the benchmark (`flowlens_devtools::grafana`), every answer checked here.
pub struct Plugin(grafana::Plugin);

/// A decoded field.
#[derive(Debug, Clone)]
pub struct DecodedField {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub labels: BTreeMap<String, String>,
    pub config: Value,
    pub values: Vec<Value>,
}

/// The frames' notices' texts, a line each.
pub fn notices(frames: &[DecodedFrame]) -> String {
    frames
        .iter()
        .flat_map(|f| f.meta["notices"].as_array().cloned().unwrap_or_default())
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A decoded frame.
#[derive(Debug, Clone)]
pub struct DecodedFrame {
    pub name: String,
    pub ref_id: String,
    pub meta: Value,
    pub fields: Vec<DecodedField>,
}

impl DecodedFrame {
    pub fn field(&self, name: &str) -> &DecodedField {
        self.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no field {name} in frame {self:?}"))
    }
}

/// One refId's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub frames: Vec<DecodedFrame>,
    pub error: String,
    pub status: i32,
    /// `plugin` or `downstream` for an error, as Grafana's SDK reads it (empty without error).
    pub error_source: String,
    /// For a request from alerting: the instances Grafana's alerting reads
    /// from the frames (`tests/grafana-go/alert.go`), ordered by labels.
    pub alert: Vec<AlertInstance>,
}

/// One number or series as Grafana's alerting reads it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct AlertInstance {
    pub labels: BTreeMap<String, String>,
    /// One value for a number, one per point for a series.
    pub values: Vec<Option<f64>>,
}

/// A datasource's instance settings as Grafana sends them.
pub use flowlens_devtools::grafana::Instance;

impl Plugin {
    /// Starts the plugin binary and connects once it printed its handshake.
    pub async fn start() -> Plugin {
        Plugin(grafana::Plugin::start(Path::new(&plugin_binary())).await.expect("start gpx_flowlens"))
    }

    /// The plugin process's id.
    pub fn pid(&self) -> u32 {
        self.0.pid()
    }

    /// The plugin process's peak resident set size so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.0.peak_rss_kib().expect("the plugin's peak RSS")
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.0.alive()
    }

    /// QueryData with several targets; answers by refId.
    pub async fn query(
        &self,
        instance: &Instance,
        range: (i64, i64),
        interval_ms: i64,
        targets: &[Value],
    ) -> HashMap<String, Answer> {
        self.query_data(instance, queries(range, interval_ms, targets)).await
    }

    /// QueryData with queries built by the caller (own ranges, intervals,
    /// raw JSON bytes); answers by refId, each read by Grafana's Go SDK too.
    pub async fn query_data(&self, instance: &Instance, queries: Vec<pb::DataQuery>) -> HashMap<String, Answer> {
        self.query_data_with(instance, queries, HashMap::new()).await
    }

    /// QueryData as Grafana's alerting sends it (header `FromAlert`), read
    /// by the Go checker as alerting reads it.
    pub async fn query_alerting(
        &self,
        instance: &Instance,
        range: (i64, i64),
        interval_ms: i64,
        targets: &[Value],
    ) -> HashMap<String, Answer> {
        let headers = HashMap::from([("FromAlert".to_string(), "true".to_string())]);
        self.query_data_with(instance, queries(range, interval_ms, targets), headers).await
    }

    /// One QueryData exchange as is: the response and Grafana's reading of it
    /// (the checker is a process of its own: run off the async workers).
    pub async fn exchange(&self, request: pb::QueryDataRequest) -> (pb::QueryDataResponse, GrafanaReport) {
        let response = self.0.query_data(request.clone()).await.expect("QueryData must not fail as a whole");
        tokio::task::spawn_blocking(move || {
            let grafana = grafana_check(&request, &response);
            (response, grafana)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// QueryData with these request headers.
    pub async fn query_data_with(
        &self,
        instance: &Instance,
        queries: Vec<pb::DataQuery>,
        headers: HashMap<String, String>,
    ) -> HashMap<String, Answer> {
        let targets: Vec<String> = queries.iter().map(|q| String::from_utf8_lossy(&q.json).into_owned()).collect();
        let request =
            pb::QueryDataRequest { plugin_context: Some(instance.context()), queries, headers, ..Default::default() };
        let (response, grafana) = self.exchange(request).await;
        assert!(
            grafana.violations.is_empty(),
            "Grafana's Go SDK (tests/grafana-go) does not read this QueryData answer as the plugin meant it:\n- {}\ntargets: {}",
            grafana.violations.join("\n- "),
            targets.join(", ")
        );
        response
            .responses
            .into_iter()
            .map(|(ref_id, r)| {
                let frames: Vec<DecodedFrame> = r.frames.iter().map(|bytes| decode(bytes)).collect();
                let seen = &grafana.responses[&ref_id];
                assert_eq!(
                    seen.frames.len(),
                    frames.len(),
                    "{ref_id}: Grafana's SDK and arrow-rs decode different frames"
                );
                assert_eq!(seen.status, r.status, "{ref_id}: the status Grafana reads");
                assert_eq!(seen.error_source, r.error_source, "{ref_id}: the errorSource Grafana reads");
                let alert = seen.alert.clone();
                (
                    ref_id,
                    Answer { frames, error: r.error, status: r.status, error_source: seen.error_source.clone(), alert },
                )
            })
            .collect()
    }

    /// One target; panics on a query error.
    pub async fn query_one(
        &self,
        instance: &Instance,
        range: (i64, i64),
        interval_ms: i64,
        target: Value,
    ) -> Vec<DecodedFrame> {
        let ref_id = target["refId"].as_str().unwrap_or("A").to_string();
        let mut answers = self.query(instance, range, interval_ms, std::slice::from_ref(&target)).await;
        let answer = answers.remove(&ref_id).expect("an answer for the refId");
        assert!(answer.error.is_empty(), "query {target} failed: {}", answer.error);
        answer.frames
    }

    /// CheckHealth: (ok, message).
    pub async fn check_health(&self, instance: &Instance) -> (bool, String) {
        let r = self.0.check_health(instance).await.expect("CheckHealth");
        (r.status == pb::check_health_response::HealthStatus::Ok as i32, r.message)
    }

    /// CallResource: (HTTP code, JSON body).
    pub async fn resource(&self, instance: &Instance, method: &str, path: &str, body: Value) -> (i32, Value) {
        let first = self.0.call_resource(instance, method, path, &body).await.expect("CallResource");
        (first.code, serde_json::from_slice(&first.body).expect("a JSON body"))
    }
}

/// Targets as Grafana sends a panel's: 1,000 points, the range and interval.
fn queries(range: (i64, i64), interval_ms: i64, targets: &[Value]) -> Vec<pb::DataQuery> {
    grafana::queries(grafana::Window { from_ms: range.0, to_ms: range.1, interval_ms, max_data_points: 1000 }, targets)
}

/// What Grafana's server makes of a QueryData exchange (`tests/grafana-go`'s report).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GrafanaReport {
    /// Each refId's answer as `/api/ds/query` sends it to the browser.
    pub responses: HashMap<String, GrafanaAnswer>,
    /// Every way the answers break the protocol or the data-plane contract.
    pub violations: Vec<String>,
}

/// One refId as Grafana reads it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaAnswer {
    pub status: i32,
    pub error: String,
    pub error_source: String,
    pub frames: Vec<GrafanaFrame>,
    #[serde(default)]
    pub alert: Vec<AlertInstance>,
}

/// One frame as Grafana's SDK decoded it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaFrame {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub type_version: String,
    pub fields: usize,
    pub rows: usize,
}

/// Reads a QueryData exchange with Grafana's Go plugin SDK, as Grafana's
/// server does, and reports what it sees and every contract violation.
/// Panics when the checker cannot be built or run (Go missing included).
pub fn grafana_check(request: &pb::QueryDataRequest, response: &pb::QueryDataResponse) -> GrafanaReport {
    let out = run_checker(request, response, &[]);
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("the checker's report is not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

/// The body Grafana's `/api/ds/query` sends the browser for this answer
/// (`{"results": {refId: {"status", "frames": [...]}}}`), written by
/// Grafana's Go SDK.
pub fn ds_query_body(request: &pb::QueryDataRequest, response: &pb::QueryDataResponse) -> Vec<u8> {
    run_checker(request, response, &["--ds-query"])
}

/// Runs the Go checker on an exchange; its stdout.
fn run_checker(request: &pb::QueryDataRequest, response: &pb::QueryDataResponse, args: &[&str]) -> Vec<u8> {
    let mut input = Vec::new();
    for message in [prost::Message::encode_to_vec(request), prost::Message::encode_to_vec(response)] {
        input.extend_from_slice(&u32::try_from(message.len()).expect("a message under 4 GiB").to_be_bytes());
        input.extend_from_slice(&message);
    }
    let checker = grafana_checker();
    let mut child = Command::new(checker)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", checker.display()));
    // Written from a thread: the checker may answer before it read everything.
    let mut stdin = child.stdin.take().expect("the checker's stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("the checker's output");
    writer.join().expect("the writer thread").expect("write the exchange to the checker");
    assert!(
        out.status.success(),
        "{} failed ({}): {}",
        checker.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The checker's executable, built once per test process with `go build`
/// (Go's build cache makes later builds quick) next to the plugin binary.
fn grafana_checker() -> &'static Path {
    static CHECKER: OnceLock<PathBuf> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/grafana-go");
        let dir = Path::new(env!("CARGO_BIN_EXE_gpx_flowlens")).parent().expect("the target dir").to_path_buf();
        let target = dir.join("grafana-check");
        // Built under a name of its own, then renamed: test processes running
        // at once never execute a half-written file.
        let partial = dir.join(format!("grafana-check.{}.partial", std::process::id()));
        let go = std::env::var_os("GO").unwrap_or_else(|| "go".into());
        let out = Command::new(&go)
            .args(["build", "-buildvcs=false", "-o"])
            .arg(&partial)
            .arg(".")
            .current_dir(&source)
            .env("GOFLAGS", "-mod=readonly")
            .env("GOWORK", "off")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{}` ({e}): the Go toolchain is required, since every QueryData answer is checked \
                     with Grafana's Go plugin SDK by {}; install Go 1.26.5 or newer and put it on PATH (or set GO)",
                    go.to_string_lossy(),
                    source.display()
                )
            });
        assert!(
            out.status.success(),
            "`go build` of {} failed ({}): {}",
            source.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&partial, &target).expect("move the checker into place");
        target
    })
}

/// Decodes one frame from Arrow IPC file bytes.
pub fn decode(bytes: &[u8]) -> DecodedFrame {
    assert!(bytes.starts_with(b"ARROW1"), "frames must be Arrow IPC files");
    let reader =
        arrow::ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes.to_vec()), None).expect("an Arrow file");
    let schema = reader.schema();
    let batches: Vec<_> = reader.map(|b| b.expect("a record batch")).collect();
    let meta = schema.metadata();
    let fields = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let md = f.metadata();
            let mut values = Vec::new();
            for batch in &batches {
                let col = batch.column(i);
                for row in 0..col.len() {
                    values.push(if col.is_null(row) { Value::Null } else { cell(col.as_ref(), row) });
                }
            }
            DecodedField {
                name: f.name().clone(),
                data_type: f.data_type().clone(),
                nullable: f.is_nullable(),
                labels: md.get("labels").map(|l| serde_json::from_str(l).unwrap()).unwrap_or_default(),
                config: md.get("config").map(|c| serde_json::from_str(c).unwrap()).unwrap_or(Value::Null),
                values,
            }
        })
        .collect();
    DecodedFrame {
        name: meta.get("name").cloned().unwrap_or_default(),
        ref_id: meta.get("refId").cloned().unwrap_or_default(),
        meta: meta.get("meta").map(|m| serde_json::from_str(m).unwrap()).unwrap_or(Value::Null),
        fields,
    }
}

fn cell(col: &dyn Array, row: usize) -> Value {
    match col.data_type() {
        DataType::UInt64 => Value::from(col.as_primitive::<UInt64Type>().value(row)),
        DataType::Float64 => Value::from(col.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            Value::from(col.as_primitive::<TimestampNanosecondType>().value(row))
        }
        DataType::Utf8 => Value::from(col.as_string::<i32>().value(row)),
        DataType::Binary => serde_json::from_slice(col.as_binary::<i32>().value(row)).expect("JSON cell"),
        other => panic!("unexpected column type {other}"),
    }
}

// Helpers for the hostile-input tests (bad_input.rs, secrets/).
impl Plugin {
    /// Starts the plugin binary like [`Plugin::start`], with extra
    /// environment variables, its stderr written to `stderr` and whatever it
    /// prints on stdout after the handshake line to `stdout_rest`.
    pub async fn start_with(env: &[(&str, &str)], stderr: std::fs::File, stdout_rest: Option<std::fs::File>) -> Plugin {
        let exe = Path::new(env!("CARGO_BIN_EXE_gpx_flowlens"));
        Plugin(grafana::Plugin::start_with(exe, env, stderr.into(), stdout_rest).await.expect("start gpx_flowlens"))
    }
}
