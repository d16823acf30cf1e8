//! The editors in a real browser against the real plugin backend: headless
//! Chromium (Debian's `chromium`, driven by playwright-core from
//! `frontend/e2e/run.mjs`) opens a test page with the built QueryEditor and
//! ConfigEditor (`frontend/e2e/page.tsx`, @grafana/ui and all), fills them in
//! as a user would, and checks the query objects they emit and the preview
//! text the plugin renders.
//!
//! This test plays Grafana's HTTP side: a small bridge on 127.0.0.1 serves the
//! page's files and forwards `/api/datasources/uid/<uid>/resources/<path>` to
//! the plugin's CallResource and `/api/datasources/uid/<uid>/health` to
//! CheckHealth over gRPC, with the datasource's settings as the plugin
//! context, as Grafana does. The plugin talks to a real VictoriaLogs loaded
//! with the fixture. Screenshots are kept in `test-artifacts/browser/`.
//!
//! Needs Chromium (`apt-get install -y chromium`), Node 20+ and
//! `frontend/node_modules` (`npm ci` in `frontend/`); it fails, never skips,
//! without them.

mod common;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::data;
use common::harness::{pb, Instance, Plugin};
use common::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The datasource uid the page asks for (`?uid=` in run.mjs).
const UID: &str = "flowlens";
/// The whole browser run: page build excluded, it normally takes well under a minute.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The datasource as saved in Grafana.
fn instance(url: &str) -> Instance {
    data::raw_instance(url, UID)
}

/// Chromium, Node and the frontend's packages, or a panic that says how to install them.
fn prerequisites() -> PathBuf {
    let chromium = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.is_file(),
        "Chromium is not installed at {}: install Debian's with `apt-get update && apt-get install -y chromium` \
         (as root), or set CHROMIUM to a Chromium executable. The browser test does not download a browser.",
        chromium.display()
    );
    let node = std::process::Command::new("node").arg("--version").output();
    let version = match node {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => panic!("`node` is not on PATH: install Node.js 20 or newer (frontend/README.md)"),
    };
    let major: u32 = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    assert!(major >= 20, "Node.js {version} is too old: the frontend needs Node.js 20 or newer");
    let modules = repo().join("frontend/node_modules");
    for package in ["playwright-core", "webpack-cli", "@grafana/ui"] {
        assert!(
            modules.join(package).join("package.json").is_file(),
            "{} lacks {package}: run `npm ci` in frontend/ (it installs the pinned playwright-core, webpack and @grafana/*)",
            modules.display()
        );
    }
    chromium
}

/// Builds the test page into frontend/e2e/dist (webpack's cache makes an unchanged rebuild quick).
async fn build_page() {
    let out = tokio::process::Command::new("node")
        .args(["node_modules/webpack-cli/bin/cli.js", "-c", "./e2e/webpack.config.mjs"])
        .current_dir(repo().join("frontend"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("run webpack");
    assert!(
        out.status.success(),
        "building the test page failed (npm run e2e:build):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Grafana's HTTP side for one datasource, in front of the plugin.
struct Bridge {
    plugin: Plugin,
    instance: Instance,
    /// The built page: frontend/e2e/dist.
    root: PathBuf,
}

struct Reply {
    code: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

fn json_reply(code: u16, body: &Value) -> Reply {
    Reply { code, content_type: "application/json", body: serde_json::to_vec(body).unwrap() }
}

impl Bridge {
    async fn route(&self, method: &str, target: &str, body: &[u8]) -> Reply {
        let path = target.split('?').next().unwrap_or("/");
        if let Some(rest) = path.strip_prefix("/api/datasources/uid/") {
            let (uid, sub) = rest.split_once('/').unwrap_or((rest, ""));
            if uid != self.instance.uid {
                return json_reply(404, &json!({"message": "Data source not found"}));
            }
            if let Some(resource) = sub.strip_prefix("resources/") {
                let body = if body.is_empty() {
                    Value::Null
                } else {
                    match serde_json::from_slice(body) {
                        Ok(v) => v,
                        Err(e) => return json_reply(400, &json!({"message": format!("the body is not JSON: {e}")})),
                    }
                };
                let (code, answer) = self.plugin.resource(&self.instance, method, resource, body).await;
                return json_reply(u16::try_from(code).unwrap_or(500), &answer);
            }
            return match (method, sub) {
                ("GET", "") => json_reply(200, &self.settings()),
                ("GET", "health") => {
                    let (ok, message) = self.plugin.check_health(&self.instance).await;
                    let status = if ok { "OK" } else { "ERROR" };
                    json_reply(if ok { 200 } else { 400 }, &json!({"status": status, "message": message}))
                }
                _ => json_reply(404, &json!({"message": "Not found"})),
            };
        }
        if (method, path) == ("POST", "/api/ds/query") {
            return self.ds_query(body).await;
        }
        if method != "GET" {
            return json_reply(405, &json!({"message": "Method not allowed"}));
        }
        self.file(path).await
    }

    /// Grafana's `POST /api/ds/query`: the page's queries (`{queries, from,
    /// to}`, as DataSourceWithBackend sends them) as one QueryData over gRPC,
    /// the answer written back by Grafana's Go SDK as Grafana's server writes
    /// it; an answer Grafana's SDK would not read as meant is a 500.
    async fn ds_query(&self, body: &[u8]) -> Reply {
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return json_reply(400, &json!({"message": "the body is not JSON"}));
        };
        let ms = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| v.as_i64()).unwrap_or(0);
        let range = pb::TimeRange { from_epoch_ms: ms(&body["from"]), to_epoch_ms: ms(&body["to"]) };
        let queries = body["queries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| pb::DataQuery {
                ref_id: q["refId"].as_str().unwrap_or("A").to_string(),
                max_data_points: q["maxDataPoints"].as_i64().unwrap_or(1000),
                interval_ms: q["intervalMs"].as_i64().unwrap_or(60_000),
                time_range: Some(range),
                json: serde_json::to_vec(q).unwrap(),
                query_type: String::new(),
            })
            .collect();
        let request =
            pb::QueryDataRequest { plugin_context: Some(self.instance.context()), queries, ..Default::default() };
        let (response, grafana) = self.plugin.exchange(request.clone()).await;
        if !grafana.violations.is_empty() {
            return json_reply(500, &json!({"message": grafana.violations.join("; ")}));
        }
        let body = tokio::task::spawn_blocking(move || common::harness::ds_query_body(&request, &response))
            .await
            .expect("the checker");
        Reply { code: 200, content_type: "application/json", body }
    }

    /// The datasource as Grafana's `GET /api/datasources/uid/<uid>` answers it.
    fn settings(&self) -> Value {
        json!({
            "id": 1, "uid": self.instance.uid, "orgId": 1, "name": "flowlens",
            "type": "flowlens-flowlogs-datasource", "typeName": "flowlens", "typeLogoUrl": "",
            "access": "proxy", "url": self.instance.url, "user": "", "database": "",
            "basicAuth": false, "basicAuthUser": "", "withCredentials": false, "isDefault": true,
            "jsonData": self.instance.json_data, "secureJsonFields": {}, "version": 1, "readOnly": false,
        })
    }

    async fn file(&self, path: &str) -> Reply {
        let relative = Path::new(path.trim_start_matches('/'));
        if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Reply { code: 404, content_type: "text/plain", body: b"not found".to_vec() };
        }
        let file = if path == "/" { self.root.join("index.html") } else { self.root.join(relative) };
        let content_type = match file.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("json") => "application/json",
            _ => "application/octet-stream",
        };
        match tokio::fs::read(&file).await {
            Ok(body) => Reply { code: 200, content_type, body },
            Err(_) => Reply { code: 404, content_type: "text/plain", body: b"not found".to_vec() },
        }
    }
}

/// One HTTP/1.1 request per connection (answered with `Connection: close`).
async fn handle(stream: TcpStream, bridge: &Bridge) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("/").to_string());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let reply = bridge.route(&method, &target, &body).await;
    let reason = match reply.code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        reply.code,
        reply.content_type,
        reply.body.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&reply.body).await?;
    stream.shutdown().await
}

/// Serves the bridge on 127.0.0.1; returns its base URL.
async fn start_bridge(bridge: Bridge) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the bridge");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bridge = Arc::new(bridge);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let bridge = bridge.clone();
            tokio::spawn(async move {
                let _ = handle(stream, &bridge).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_in_chromium_against_the_plugin() {
    let chromium = prerequisites();
    let t0 = Instant::now();
    build_page().await;
    println!("test page built in {:.1} s", t0.elapsed().as_secs_f64());

    let t = Instant::now();
    let server =
        VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start (run scripts/victorialogs.sh)");
    let loaded = data::load(&server.url).await;
    // Save & test looks at the last hour only: a store in use has records from it.
    let now = chrono::Utc::now().timestamp_millis();
    let recent = flowlens_devtools::gen::generate(&flowlens_devtools::gen::GenConfig {
        connections: 200,
        from_ms: now - 45 * 60_000,
        to_ms: now - 5 * 60_000,
        ..data::config()
    });
    let loader = flowlens_devtools::load::Loader::new(&server.url);
    loader
        .push_raw(&recent, flowlens_devtools::gen::MISSION_FORMAT, &data::RAW_STREAM)
        .await
        .expect("push recent records");
    loader.force_flush().await.expect("flush");
    let plugin = Plugin::start().await;
    println!(
        "VictoriaLogs loaded ({} raw lines) and plugin started in {:.1} s",
        loaded.raw_lines,
        t.elapsed().as_secs_f64()
    );

    // The variable's expected values: the top 5 pods by bytes in, from the independent reference.
    let top_pods: Vec<String> = r::groups(
        loaded.records,
        &RefQuery::new(Dir::In, data::POD_CIDR, Some(data::NAT_ENI), data::FROM_MS, data::TO_MS),
        &["pkt_dstaddr"],
    )
    .into_iter()
    .take(5)
    .map(|(key, _)| key[0].clone())
    .collect();
    assert_eq!(top_pods.len(), 5, "the fixture has at least 5 pods with traffic in");

    // Records per action over the day on the NAT ENI: Explore's log volume.
    let mut volume = serde_json::Map::new();
    let records_q = RefQuery {
        metric: r::Metric::Records,
        ..RefQuery::new(Dir::All, data::POD_CIDR, Some(data::NAT_ENI), data::FROM_MS, data::TO_MS)
    };
    for (key, n) in r::groups(loaded.records, &records_q, &["action"]) {
        volume.insert(if key[0].is_empty() { "-".into() } else { key[0].clone() }, json!(n));
    }
    // Names: the datasource names its networks; the reference names each
    // record's addresses by the same map (longest prefix).
    let map = [("10.0.32.0/22", "pods-a"), ("10.0.36.0/22", "pods-b"), ("0.0.0.0/1", "low"), ("128.0.0.0/1", "high")];
    let mut ds = instance(&server.url);
    ds.json_data["names"] =
        json!({"networks": map.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join("\n")});
    let nets: Vec<(r::Cidr, &str)> = map.iter().map(|(c, n)| (r::Cidr::parse(c), *n)).collect();
    let namer = r::Namer(Arc::new(move |record, field, (inside, outside)| {
        let side = match field {
            "local_name" => inside,
            "remote_name" => outside,
            _ => return None,
        };
        let addr = record.get(side).unwrap_or_default();
        let held = nets.iter().filter(|(c, _)| c.contains(&addr)).max_by_key(|(c, _)| c.prefix());
        Some(held.map_or("(unknown)", |(_, n)| n).to_string())
    }));
    let named = |dir: Dir| RefQuery {
        namer: Some(namer.clone()),
        ..RefQuery::new(dir, data::POD_CIDR, Some(data::NAT_ENI), data::FROM_MS, data::TO_MS)
    };
    let table: Vec<Value> = r::groups(loaded.records, &named(Dir::In), &["local_name"])
        .into_iter()
        .map(|(k, v)| json!([k[0], v]))
        .collect();
    let edges: Vec<Value> = r::groups(loaded.records, &named(Dir::Out), &["local_name", "remote_name"])
        .into_iter()
        .take(10)
        .map(|(k, v)| json!([format!("local_name:{}", k[0]), format!("remote_name:{}", k[1]), v]))
        .collect();
    assert!(table.len() >= 2 && edges.len() >= 3, "the fixture spans the networks: {table:?} {edges:?}");
    let names = json!({"table": table, "edges": edges});
    let url = start_bridge(Bridge { plugin, instance: ds, root: repo().join("frontend/e2e/dist") }).await;
    let artifacts = repo().join("test-artifacts/browser");
    let t = Instant::now();
    let run = tokio::process::Command::new("node")
        .arg("e2e/run.mjs")
        .arg("--url")
        .arg(&url)
        .arg("--records")
        .arg(recent.len().to_string())
        .arg("--top-pods")
        .arg(serde_json::to_string(&top_pods).unwrap())
        .arg("--volume")
        .arg(Value::Object(volume).to_string())
        .arg("--names")
        .arg(names.to_string())
        .arg("--artifacts")
        .arg(&artifacts)
        .env("CHROMIUM", &chromium)
        .current_dir(repo().join("frontend"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BROWSER_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("the browser run did not finish in {BROWSER_TIMEOUT:?}"))
        .expect("run node e2e/run.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    if !stderr.is_empty() {
        eprintln!("{stderr}");
    }
    println!("browser run took {:.1} s; whole test {:.1} s", t.elapsed().as_secs_f64(), t0.elapsed().as_secs_f64());
    assert!(out.status.success(), "the browser test failed ({}):\n{stdout}\n{stderr}", out.status);
}
