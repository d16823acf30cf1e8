//! Grafana's part of the plugin protocol, the one stand-in the benchmark and
//! the tests share: starts a backend plugin binary as Grafana does
//! (go-plugin: `grafana_plugin_type=datasource`, `PLUGIN_PROTOCOL_VERSIONS=2`),
//! reads its handshake line (`1|2|tcp|ADDR|grpc` for flowlens,
//! `1|2|unix|PATH|grpc` for the official VictoriaLogs datasource), and calls
//! QueryData, CheckHealth and CallResource over gRPC with a plugin context
//! carrying the datasource's instance settings. What an answer means is the
//! caller's business: the benchmark decodes frames for its checks, the tests
//! decode them independently and have Grafana's Go SDK read them too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use flowlens::pluginv2 as pb;

/// A datasource's instance settings as Grafana sends them.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    pub url: String,
    pub json_data: Value,
    /// Decrypted secureJsonData.
    pub secure: HashMap<String, String>,
    /// Basic auth on, with this user.
    pub basic_auth_user: Option<String>,
    pub uid: String,
}

impl Instance {
    /// The plugin context of every call for this datasource.
    pub fn context(&self) -> pb::PluginContext {
        pb::PluginContext {
            org_id: 1,
            plugin_id: "flowlens-flowlogs-datasource".into(),
            data_source_instance_settings: Some(pb::DataSourceInstanceSettings {
                id: 1,
                uid: self.uid.clone(),
                name: "flowlens".into(),
                url: self.url.clone(),
                basic_auth_enabled: self.basic_auth_user.is_some(),
                basic_auth_user: self.basic_auth_user.clone().unwrap_or_default(),
                json_data: serde_json::to_vec(&self.json_data).expect("JSON"),
                decrypted_secure_json_data: self.secure.clone(),
                last_updated_ms: 1,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The time window and interval of a request, as Grafana sends them.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    pub interval_ms: i64,
    pub max_data_points: i64,
}

/// The queries of a QueryData request for these targets (each a panel's
/// target JSON; `refId` `A` and no `queryType` unless the target has them).
pub fn queries(window: Window, targets: &[Value]) -> Vec<pb::DataQuery> {
    targets
        .iter()
        .map(|t| pb::DataQuery {
            ref_id: t["refId"].as_str().unwrap_or("A").to_string(),
            max_data_points: window.max_data_points,
            interval_ms: window.interval_ms,
            time_range: Some(pb::TimeRange { from_epoch_ms: window.from_ms, to_epoch_ms: window.to_ms }),
            json: serde_json::to_vec(t).expect("JSON"),
            query_type: t["queryType"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

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

impl Plugin {
    /// Starts the executable and connects to the address it announces.
    pub async fn start(exe: &Path) -> Result<Plugin, String> {
        Self::start_with(exe, &[], Stdio::null(), None).await
    }

    /// [`Plugin::start`] with extra environment variables, its stderr to
    /// `stderr`, and whatever it prints on stdout after the handshake line
    /// copied to `stdout_rest` (else dropped).
    pub async fn start_with(
        exe: &Path,
        env: &[(&str, &str)],
        stderr: Stdio,
        stdout_rest: Option<std::fs::File>,
    ) -> Result<Plugin, String> {
        let mut child = tokio::process::Command::new(exe)
            .env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let mut line = String::new();
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        stdout.read_line(&mut line).await.map_err(|e| e.to_string())?;
        let mut rest: Box<dyn tokio::io::AsyncWrite + Send + Unpin> = match stdout_rest {
            Some(file) => Box::new(tokio::fs::File::from_std(file)),
            None => Box::new(tokio::io::sink()),
        };
        // Read on, so that the plugin never blocks writing to a full pipe.
        tokio::spawn(async move { tokio::io::copy(&mut stdout, &mut rest).await });
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

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the plugin process was not waited for")
    }

    /// The process's peak resident set size so far, in KiB (`VmHWM` in
    /// `/proc/<pid>/status`).
    pub fn peak_rss_kib(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).map_err(|e| e.to_string())?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in the plugin's status".to_string())
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// One QueryData exchange. go-plugin's client (Grafana's side) accepts
    /// messages up to 2 GiB.
    pub async fn query_data(&self, request: pb::QueryDataRequest) -> Result<pb::QueryDataResponse, String> {
        pb::data_client::DataClient::new(self.channel.clone())
            .max_decoding_message_size(i32::MAX as usize)
            .query_data(request)
            .await
            .map(|r| r.into_inner())
            .map_err(|e| format!("QueryData: {e}"))
    }

    /// CheckHealth.
    pub async fn check_health(&self, instance: &Instance) -> Result<pb::CheckHealthResponse, String> {
        pb::diagnostics_client::DiagnosticsClient::new(self.channel.clone())
            .check_health(pb::CheckHealthRequest { plugin_context: Some(instance.context()), ..Default::default() })
            .await
            .map(|r| r.into_inner())
            .map_err(|e| format!("CheckHealth: {e}"))
    }

    /// CallResource as Grafana forwards `/api/datasources/uid/<uid>/resources/<path>`:
    /// the first (for flowlens, only) response message.
    pub async fn call_resource(
        &self,
        instance: &Instance,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<pb::CallResourceResponse, String> {
        use futures_util::StreamExt;
        let request = pb::CallResourceRequest {
            plugin_context: Some(instance.context()),
            path: path.into(),
            method: method.into(),
            url: format!("/api/datasources/uid/{}/resources/{path}", instance.uid),
            headers: HashMap::new(),
            body: if body.is_null() { Default::default() } else { serde_json::to_vec(body).expect("JSON").into() },
        };
        let mut stream = pb::resource_client::ResourceClient::new(self.channel.clone())
            .max_decoding_message_size(64 << 20)
            .call_resource(request)
            .await
            .map_err(|e| format!("CallResource: {e}"))?
            .into_inner();
        stream.next().await.ok_or("CallResource: no response")?.map_err(|e| format!("CallResource: {e}"))
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
