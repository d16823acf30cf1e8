//! Secrets never leave the plugin except on the wire to the backend. A test
//! plants secrets in datasource settings (basic auth password, bearer
//! token, custom header values, TLS CA content), runs QueryData (success,
//! refused credentials, unreachable backend, broken settings), CheckHealth
//! and every resource call with the plugin logging at trace level, and
//! searches everything the plugin prints (stderr, stdout after the
//! handshake) and returns (errors, health text, frames with their executed
//! queries and metadata, resource bodies) for every form of every secret.
//!
//! The backends: a loopback server that records request headers (proving
//! the secrets were really sent) and, when it refuses them, quotes them back
//! the way vmauth does (`cannot authorize request with auth tokens
//! ["http_auth:Basic ..."]`); and a real VictoriaLogs with basic auth.
//!
//! One module per way a secret could leak: `planted` (secrets in the
//! settings, searched for in everything the plugin prints and returns),
//! `echoed` (a backend that quotes them back in answers that look
//! successful) and `redirects` (a backend that would send them elsewhere).

#[path = "../common/mod.rs"]
mod common;

mod echoed;
mod planted;
mod redirects;

use std::sync::{Arc, Mutex};

use base64::Engine;
use common::harness::{Instance, Plugin};
use flowlens_devtools::gen::MISSION_FORMAT;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

pub const USER: &str = "flow";
pub const GOOD_PASSWORD: &str = "pw-GOOD-5ecr3t-basic";
pub const HEADER_SECRET: &str = "hdr-5ecr3t-tenant-value";

pub const FROM_MS: i64 = 1_795_132_800_000;
pub const TO_MS: i64 = FROM_MS + 3_600_000;

/// The `render`, `values` and `fields` resource calls every secrets test
/// makes, then `extra`; each answer as a line `resource {path} {code}: {body}`.
pub async fn resource_calls(plugin: &Plugin, ds: &Instance, extra: Vec<(&str, &str, Value)>) -> String {
    let good = [
        (
            "POST",
            "render",
            json!({"query": {"format": "stat", "direction": "in"}, "range": {"from": FROM_MS, "to": TO_MS}}),
        ),
        (
            "POST",
            "values",
            json!({"field": "pkt_srcaddr", "query": {"direction": "in"}, "range": {"from": FROM_MS, "to": TO_MS}}),
        ),
        ("GET", "fields", Value::Null),
    ];
    let mut out = String::new();
    for (method, path, body) in good.into_iter().chain(extra) {
        let (code, body) = plugin.resource(ds, method, path, body).await;
        out.push_str(&format!("resource {path} {code}: {body}\n"));
    }
    out
}

pub fn basic(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"))
}

pub fn instance(url: &str, uid: &str, user: Option<&str>, json_extra: Value, secure: &[(&str, &str)]) -> Instance {
    let mut json_data = json!({"streamSelector": "{logtype=\"flow\"}", "recordFormat": MISSION_FORMAT,
        "insideCidrs": ["10.0.32.0/20"], "httpHeaderName1": "X-Scope-OrgID"});
    for (k, v) in json_extra.as_object().unwrap() {
        json_data[k] = v.clone();
    }
    Instance {
        url: url.into(),
        uid: uid.into(),
        json_data,
        basic_auth_user: user.map(String::from),
        secure: secure.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// A request head as the loopback servers read it: the first line and the
/// value of a header.
pub struct Head(pub String);

impl Head {
    pub fn path(&self) -> &str {
        self.0.split(' ').nth(1).unwrap_or("/")
    }

    pub fn header(&self, name: &str) -> String {
        self.0
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    }
}

/// A loopback HTTP/1.1 server answering each request with `answer(head)`:
/// (status line, extra header lines, body). Returns its URL and the heads
/// it read.
pub async fn loopback(
    answer: impl Fn(&Head) -> (String, String, String) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, answer) = (seen.clone(), Arc::new(answer));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (log, answer) = (log.clone(), answer.clone());
            tokio::spawn(async move {
                let Some((head, _)) = common::loki::read_request(&mut socket).await else { return };
                let head = Head(head);
                log.lock().unwrap().push(head.0.clone());
                let (status, headers, body) = answer(&head);
                let response = format!(
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, seen)
}
