//! Plays Grafana for the benchmark: starts a backend plugin binary as
//! Grafana does (go-plugin: `grafana_plugin_type=datasource`,
//! `PLUGIN_PROTOCOL_VERSIONS=2`), reads its handshake line (`1|2|tcp|ADDR|grpc`
//! for flowlens, `1|2|unix|PATH|grpc` for the official VictoriaLogs
//! datasource), and sends QueryData over gRPC with a plugin context carrying
//! the datasource's instance settings. Answers are decoded from Arrow IPC
//! into plain [`Frame`]s for the checks.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use crate::pluginv2 as pb;

/// A running plugin process and its gRPC channel; killed on drop (the
/// unix socket a Go plugin leaves behind is removed too).
pub struct Plugin {
    child: tokio::process::Child,
    channel: tonic::transport::Channel,
    socket: Option<PathBuf>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// A datasource as Grafana configures it: URL and `jsonData`.
#[derive(Debug, Clone)]
pub struct Instance {
    pub url: String,
    pub json_data: Value,
}

/// One query of a QueryData request: a target as the panel holds it.
#[derive(Debug, Clone)]
pub struct Target {
    pub ref_id: String,
    pub json: Value,
}

/// The time window and interval of a request, as Grafana sends them.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    pub interval_ms: i64,
    pub max_data_points: i64,
}

/// One decoded field: name, labels and values (times as ms, numbers as
/// f64 or u64, text as strings, nulls as `Value::Null`).
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub values: Vec<Value>,
}

/// One decoded data frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub fields: Vec<Field>,
    /// The size of its Arrow IPC encoding.
    pub bytes: usize,
}

impl Frame {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Result<&Field, String> {
        self.fields.iter().find(|f| f.name == name).ok_or_else(|| {
            format!("no field {name} (fields: {:?})", self.fields.iter().map(|f| &f.name).collect::<Vec<_>>())
        })
    }
}

/// A refId's answer: frames, or the error the plugin reported.
pub type Answer = Result<Vec<Frame>, String>;

impl Plugin {
    /// Starts the executable and connects to the address it announces.
    pub async fn start(exe: &Path) -> Result<Plugin, String> {
        let mut child = tokio::process::Command::new(exe)
            .env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let mut line = String::new();
        tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        let parts: Vec<&str> = line.trim().split('|').collect();
        let (network, address) = match parts.as_slice() {
            ["1", "2", network, address, "grpc", ..] => (*network, address.to_string()),
            _ => return Err(format!("{}: bad handshake {line:?}", exe.display())),
        };
        let (channel, socket) = match network {
            "tcp" => (connect_tcp(&address).await?, None),
            "unix" => (connect_unix(&address).await?, Some(PathBuf::from(&address))),
            other => return Err(format!("{}: network {other} in handshake {line:?}", exe.display())),
        };
        Ok(Plugin { child, channel, socket })
    }

    /// The process id (for memory figures).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends one CallResource (`render`, `values`, `fields`); returns the
    /// status code and the ms it took.
    pub async fn resource(
        &self,
        instance: &Instance,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(i32, f64), String> {
        use futures_util::StreamExt;
        let window = Window { from_ms: 0, to_ms: 1, interval_ms: 1, max_data_points: 1 };
        let call = pb::CallResourceRequest {
            plugin_context: request(instance, window, &[]).plugin_context,
            path: path.into(),
            method: method.into(),
            url: format!("/resources/{path}"),
            headers: HashMap::new(),
            body: serde_json::to_vec(body).map_err(|e| e.to_string())?.into(),
        };
        let started = std::time::Instant::now();
        let mut stream = pb::resource_client::ResourceClient::new(self.channel.clone())
            .max_decoding_message_size(64 << 20)
            .call_resource(call)
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        let answer = stream.next().await.ok_or("no answer")?.map_err(|e| e.to_string())?;
        Ok((answer.code, started.elapsed().as_secs_f64() * 1_000.0))
    }

    /// Sends one QueryData; returns the answers by refId and the ms it took.
    pub async fn query(
        &self,
        instance: &Instance,
        window: Window,
        targets: &[Target],
    ) -> Result<(HashMap<String, Answer>, f64), String> {
        let request = request(instance, window, targets);
        // go-plugin's gRPC client (Grafana's side) accepts messages up to 2 GiB.
        let mut client =
            pb::data_client::DataClient::new(self.channel.clone()).max_decoding_message_size(i32::MAX as usize);
        let started = Instant::now();
        let response = client.query_data(request).await.map_err(|e| format!("QueryData: {e}"))?.into_inner();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let answers = response
            .responses
            .into_iter()
            .map(|(ref_id, r)| {
                let answer = if r.error.is_empty() {
                    r.frames.iter().map(|bytes| decode(bytes)).collect()
                } else {
                    Err(r.error)
                };
                (ref_id, answer)
            })
            .collect();
        Ok((answers, ms))
    }
}

async fn connect_tcp(address: &str) -> Result<tonic::transport::Channel, String> {
    tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect to {address}: {e}"))
}

/// A channel over a unix socket: the URI is a placeholder, every
/// connection goes to `path`.
async fn connect_unix(path: &str) -> Result<tonic::transport::Channel, String> {
    let path = PathBuf::from(path);
    tonic::transport::Endpoint::from_static("http://plugin.socket")
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let path = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tokio::net::UnixStream::connect(path).await?))
            }
        }))
        .await
        .map_err(|e| format!("connect to the unix socket: {e}"))
}

/// The QueryData request Grafana would send for these targets.
pub fn request(instance: &Instance, window: Window, targets: &[Target]) -> pb::QueryDataRequest {
    pb::QueryDataRequest {
        plugin_context: Some(pb::PluginContext {
            org_id: 1,
            data_source_instance_settings: Some(pb::DataSourceInstanceSettings {
                id: 1,
                uid: "bench".into(),
                name: "bench".into(),
                url: instance.url.clone(),
                json_data: serde_json::to_vec(&instance.json_data).expect("json"),
                last_updated_ms: 1,
                ..Default::default()
            }),
            ..Default::default()
        }),
        queries: targets
            .iter()
            .map(|t| pb::DataQuery {
                ref_id: t.ref_id.clone(),
                max_data_points: window.max_data_points,
                interval_ms: window.interval_ms,
                time_range: Some(pb::TimeRange { from_epoch_ms: window.from_ms, to_epoch_ms: window.to_ms }),
                json: serde_json::to_vec(&t.json).expect("json"),
                query_type: t.json["queryType"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
        ..Default::default()
    }
}

/// Decodes one Arrow IPC file (a Grafana data frame).
fn decode(bytes: &[u8]) -> Result<Frame, String> {
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None).map_err(|e| e.to_string())?;
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let fields = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let labels = f.metadata().get("labels").and_then(|l| serde_json::from_str(l).ok()).unwrap_or_default();
            let mut values = Vec::new();
            for batch in &batches {
                let col = batch.column(i);
                for row in 0..col.len() {
                    values.push(if col.is_null(row) { Value::Null } else { cell(col.as_ref(), row) });
                }
            }
            Field { name: f.name().clone(), labels, values }
        })
        .collect();
    Ok(Frame { fields, bytes: bytes.len() })
}

/// One value: timestamps as ms, numbers, strings.
fn cell(col: &dyn Array, row: usize) -> Value {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType, UInt64Type};
    match col.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            Value::from(col.as_primitive::<TimestampNanosecondType>().value(row) / 1_000_000)
        }
        DataType::Float64 => Value::from(col.as_primitive::<Float64Type>().value(row)),
        DataType::UInt64 => Value::from(col.as_primitive::<UInt64Type>().value(row)),
        DataType::Int64 => Value::from(col.as_primitive::<Int64Type>().value(row)),
        DataType::Utf8 => Value::from(col.as_string::<i32>().value(row)),
        DataType::Binary => serde_json::from_slice(col.as_binary::<i32>().value(row)).unwrap_or(Value::Null),
        other => Value::String(format!("<{other}>")),
    }
}
