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

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use common::harness::{Instance, Plugin};
use flowlens_devtools::gen::{generate, GenConfig, MISSION_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const USER: &str = "flow";
const GOOD_PASSWORD: &str = "pw-GOOD-5ecr3t-basic";
const WRONG_PASSWORD: &str = "pw-WRONG-5ecr3t-basic";
const GOOD_TOKEN: &str = "tok-GOOD-5ecr3t-bearer";
const WRONG_TOKEN: &str = "tok-WRONG-5ecr3t-bearer";
const HEADER_SECRET: &str = "hdr-5ecr3t-tenant-value";
const REAL_PASSWORD: &str = "pw-REAL-5ecr3t-victorialogs";
const REAL_WRONG_PASSWORD: &str = "pw-REALWRONG-5ecr3t";
const UNREACHABLE_PASSWORD: &str = "pw-UNREACHABLE-5ecr3t";
const BAD_CA_SECRET: &str = "BADCA5ecr3tPEMcontent";
const BAD_HEADER_SECRET: &str = "hdr-NEWLINE-5ecr3t";
/// A real CA certificate (self-signed, for this test only).
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUKs/7/NLqAXFV1o7e39SqRoizKtgwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZmxvd2xlbnMgdGVzdCBDQTAgFw0yNjEyMDEyMDQ2MDlaGA8y
MTI2MTEwNzIwNDYwOVowGzEZMBcGA1UEAwwQZmxvd2xlbnMgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABLCQQeM1Y+KmSplsqZT+iDfriIaWLKshBQ3S
RsAoG0/fckL0KLVH0ffmqmswjvcTWbUYg1zzd9uHheBVkUnXPImjUzBRMB0GA1Ud
DgQWBBTLLy05r/ThHthxNEz3IkFzsr6YqTAfBgNVHSMEGDAWgBTLLy05r/ThHthx
NEz3IkFzsr6YqTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEzz
xxaCM+dkIIht+xUcAXhTaV8fE+GSRAI+BshqWaEvAiEApUqbCQnZnvAWZvU+f+C6
gHW7knsg1UDQX3YlQYS+D2I=
-----END CERTIFICATE-----
";

const FROM_MS: i64 = 1_795_132_800_000;
const TO_MS: i64 = FROM_MS + 3_600_000;

fn basic(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"))
}

/// Every form of every planted secret that must never come back.
fn secret_forms() -> Vec<String> {
    let mut forms: Vec<String> = [
        GOOD_PASSWORD,
        WRONG_PASSWORD,
        GOOD_TOKEN,
        WRONG_TOKEN,
        HEADER_SECRET,
        REAL_PASSWORD,
        REAL_WRONG_PASSWORD,
        UNREACHABLE_PASSWORD,
        BAD_CA_SECRET,
        BAD_HEADER_SECRET,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for pw in [GOOD_PASSWORD, WRONG_PASSWORD, REAL_PASSWORD, REAL_WRONG_PASSWORD, UNREACHABLE_PASSWORD] {
        forms.push(basic(pw));
    }
    // The CA's body, line by line (any line would give it away).
    forms.extend(CA_PEM.lines().filter(|l| !l.starts_with("-----")).map(String::from));
    forms
}

/// A mission-format record line, so health's format check passes.
fn mission_line() -> String {
    let records = generate(&GenConfig { connections: 5, from_ms: FROM_MS, to_ms: TO_MS, ..GenConfig::default() });
    records[0].render(MISSION_FORMAT)
}

/// A loopback backend: records each request head; answers requests that
/// carry the good basic auth or the good bearer token with rows fit for
/// every step, and refuses the rest with a 401 that quotes the credentials
/// and headers back.
async fn recording_backend() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let row = json!({"_time": "2026-11-20T00:00:00Z", "_msg": mission_line(), "value": "42",
        "pkt_srcaddr": "52.216.8.5", "pkt_dstaddr": "10.0.32.7", "interface_id": "eni-1"})
    .to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (log, row) = (log.clone(), row.clone());
            tokio::spawn(async move {
                let Some((head, _)) = common::loki::read_request(&mut socket).await else { return };
                log.lock().unwrap().push(head.clone());
                let head = Head(head);
                let auth = head.header("authorization");
                let good = auth == format!("Basic {}", basic(GOOD_PASSWORD)) || auth == format!("Bearer {GOOD_TOKEN}");
                let (status, body) = if good {
                    ("200 OK", format!("{row}\n"))
                } else {
                    let tenant = head.header("x-scope-orgid");
                    (
                        "401 Unauthorized",
                        format!("cannot authorize request with auth tokens [\"http_auth:{auth}\"] (tenant {tenant})"),
                    )
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/stream+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

fn instance(url: &str, uid: &str, user: Option<&str>, json_extra: Value, secure: &[(&str, &str)]) -> Instance {
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

/// Runs every kind of call on a datasource; returns all the plugin answered
/// as text, and whether its queries succeeded.
async fn exercise(plugin: &Plugin, ds: &Instance) -> (String, bool) {
    let targets = [
        json!({"refId": "stat", "format": "stat", "direction": "in"}),
        json!({"refId": "table", "format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "other": true}),
        json!({"refId": "series", "format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 2}),
        json!({"refId": "logs", "format": "logs", "limit": 3}),
        json!({"refId": "raw", "rawQuery": "* | stats count() as value"}),
        json!({"refId": "bad", "format": "pie"}),
    ];
    let answers = plugin.query(ds, (FROM_MS, TO_MS), 60_000, &targets).await;
    let ok = answers["stat"].error.is_empty();
    let mut out = format!("{answers:#?}\n");
    let (healthy, message) = plugin.check_health(ds).await;
    out.push_str(&format!("health {healthy}: {message}\n"));
    for (method, path, body) in [
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
        ("GET", "nope", Value::Null),
        ("POST", "render", json!({"query": {"format": "pie"}})),
    ] {
        let (code, body) = plugin.resource(ds, method, path, body).await;
        out.push_str(&format!("resource {path} {code}: {body}\n"));
    }
    (out, ok)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_logs_errors_health_frames_or_resources() {
    let (fake, seen) = recording_backend().await;
    let server =
        VlServer::start(VlOptions { basic_auth: Some((USER.into(), REAL_PASSWORD.into())), ..Default::default() })
            .await
            .expect("VictoriaLogs must start");
    let records = generate(&GenConfig { connections: 200, from_ms: FROM_MS, to_ms: TO_MS, ..GenConfig::default() });
    let loader = Loader::new(&server.url).with_basic_auth(USER, REAL_PASSWORD);
    loader.push_raw(&records, MISSION_FORMAT, &[("logtype", "flow"), ("environment", "ops")]).await.unwrap();
    loader.force_flush().await.unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    let dir = std::env::temp_dir();
    let (stderr_path, stdout_path) = (
        dir.join(format!("flowlens-secrets-stderr-{}.log", std::process::id())),
        dir.join(format!("flowlens-secrets-stdout-{}.log", std::process::id())),
    );
    let plugin = Plugin::start_with(
        &[("FLOWLENS_LOG", "trace"), ("RUST_LOG", "trace")],
        std::fs::File::create(&stderr_path).unwrap(),
        Some(std::fs::File::create(&stdout_path).unwrap()),
    )
    .await;

    let header = ("httpHeaderValue1", HEADER_SECRET);
    let ca = ("tlsCACert", CA_PEM);
    let bearer = json!({"bearerAuth": true});
    let cases: Vec<(&str, Instance, bool)> = vec![
        (
            "basic, accepted",
            instance(&fake, "a", Some(USER), json!({}), &[("basicAuthPassword", GOOD_PASSWORD), header, ca]),
            true,
        ),
        (
            "basic, refused",
            instance(&fake, "b", Some(USER), json!({}), &[("basicAuthPassword", WRONG_PASSWORD), header, ca]),
            false,
        ),
        ("bearer, accepted", instance(&fake, "c", None, bearer.clone(), &[("bearerToken", GOOD_TOKEN), header]), true),
        ("bearer, refused", instance(&fake, "d", None, bearer.clone(), &[("bearerToken", WRONG_TOKEN), header]), false),
        (
            "real VictoriaLogs, accepted",
            instance(&server.url, "e", Some(USER), json!({}), &[("basicAuthPassword", REAL_PASSWORD), header]),
            true,
        ),
        (
            "real VictoriaLogs, refused",
            instance(&server.url, "f", Some(USER), json!({}), &[("basicAuthPassword", REAL_WRONG_PASSWORD), header]),
            false,
        ),
        (
            "unreachable",
            instance(
                &format!("http://127.0.0.1:{closed_port}"),
                "g",
                Some(USER),
                json!({}),
                &[("basicAuthPassword", UNREACHABLE_PASSWORD), header],
            ),
            false,
        ),
        (
            "invalid CA",
            instance(
                &fake,
                "h",
                Some(USER),
                json!({}),
                &[
                    ("basicAuthPassword", GOOD_PASSWORD),
                    (
                        "tlsCACert",
                        &format!("-----BEGIN CERTIFICATE-----\n{BAD_CA_SECRET}\n-----END CERTIFICATE-----\n"),
                    ),
                ],
            ),
            false,
        ),
        (
            "header value with a newline",
            instance(
                &fake,
                "i",
                Some(USER),
                json!({}),
                &[
                    ("basicAuthPassword", GOOD_PASSWORD),
                    ("httpHeaderValue1", &format!("{BAD_HEADER_SECRET}\r\nInjected: 1")),
                ],
            ),
            false,
        ),
    ];
    let mut returned = String::new();
    for (name, ds, should_work) in &cases {
        let (text, ok) = exercise(&plugin, ds).await;
        assert_eq!(ok, *should_work, "{name}: {text}");
        if !should_work {
            let wanted = match *name {
                "unreachable" => "cannot connect to VictoriaLogs",
                "invalid CA" => "TLS CA certificate (tlsCACert) is not valid PEM",
                "header value with a newline" => {
                    "httpHeaderValue1, the value of header `X-Scope-OrgID`, contains a line break"
                }
                _ => "refused the credentials (HTTP 401)",
            };
            assert!(text.contains(wanted), "{name}: the failure says why ({wanted}): {text}");
        }
        returned.push_str(&format!("== {name}\n{text}"));
    }

    // The secrets were sent (so the search below is not vacuous) ...
    let wire = seen.lock().unwrap().join("\n").to_ascii_lowercase();
    for sent in [
        format!("authorization: basic {}", basic(GOOD_PASSWORD)),
        format!("authorization: basic {}", basic(WRONG_PASSWORD)),
        format!("authorization: bearer {GOOD_TOKEN}"),
        format!("authorization: bearer {WRONG_TOKEN}"),
        format!("x-scope-orgid: {HEADER_SECRET}"),
    ] {
        assert!(wire.contains(&sent.to_ascii_lowercase()), "the backend never saw `{sent}`");
    }
    // ... the plugin really logged at trace level, and the refused backend
    // quoted credentials back ...
    drop(plugin);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    let _ = (std::fs::remove_file(&stderr_path), std::fs::remove_file(&stdout_path));
    assert!(stderr.contains("\"level\":\"TRACE\""), "trace logging is on");
    assert!(stderr.contains("query failed"), "failures are logged");
    assert!(returned.contains("cannot authorize request with auth tokens"), "the refusal's text is passed on");
    // ... and no form of any secret came back anywhere.
    for secret in secret_forms() {
        for (what, text) in [("returned", &returned), ("stderr", &stderr), ("stdout", &stdout)] {
            if let Some(at) = text.find(&secret) {
                let context = &text[at.saturating_sub(300)..(at + secret.len() + 100).min(text.len())];
                panic!("the secret {secret:?} appears in what the plugin {what}: ...{context}...");
            }
        }
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    eprintln!(
        "searched {} bytes returned, {} bytes of stderr, {} bytes of stdout for {} secret forms",
        returned.len(),
        stderr.len(),
        stdout.len(),
        secret_forms().len()
    );
}

const ECHO_TOKEN: &str = r#"tok"ECHO\5ecr3t <bearer>&/+"#;
const ECHO_HEADER: &str = r#"hdr"ECHO 5ecr3t\tenant&<x>"#;
const ECHO_PASSWORD: &str = r#"pw"ECHO\5ecr3t é<basic>&/+"#;
const URL_PASSWORD: &str = "URLPW-5ecr3t-userinfo";

/// A request head as the loopback servers read it: the first line and the
/// value of a header.
struct Head(String);

impl Head {
    fn path(&self) -> &str {
        self.0.split(' ').nth(1).unwrap_or("/")
    }

    fn header(&self, name: &str) -> String {
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
async fn loopback(
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

/// A string as a JSON string's content, as serde writes it.
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_string()
}

/// As Go's encoding/json writes it (VictoriaLogs and Loki are Go): `<`, `>`
/// and `&` as `\u003c`, `\u003e`, `\u0026`.
fn go_escaped(s: &str) -> String {
    json_escaped(s).replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Form encoding (a space as `+`).
fn form_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every byte but letters and digits as `%XX`.
fn percent_encoded(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// What the echo backend quotes of a request: the credentials and the
/// custom header, and the basic-auth password decoded.
fn echoed(head: &Head) -> Vec<String> {
    let auth = head.header("authorization");
    let mut values = vec![auth.clone(), head.header("x-scope-orgid")];
    if let Some(pair) = auth.strip_prefix("Basic ") {
        let pair = base64::engine::general_purpose::STANDARD.decode(pair).unwrap_or_default();
        let pair = String::from_utf8_lossy(&pair).to_string();
        values.push(pair.split_once(':').map(|(_, pw)| pw.to_string()).unwrap_or_default());
    }
    values
}

/// An answer with status 200 that echoes the request's secrets in the
/// form the URL's first path segment names: `raw` (a text line), `json` (a
/// JSON object whose values are not what was asked, written as Go writes
/// JSON), `url` (percent- and form-encoded) or `records` (VictoriaLogs rows
/// whose message is the echo, behind 190 characters).
fn echo_answer(head: &Head) -> (String, String, String) {
    let values = echoed(head);
    let body = match head.path().trim_start_matches('/').split('/').next().unwrap_or("") {
        "json" => {
            let object = json!({"status": "echo", "_time": "not a time", "value": "not a number",
                "headers": values, "data": {"resultType": "echo", "result": values}});
            // `<`, `>` and `&` occur only inside its strings.
            object.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
        }
        "records" => {
            // A row fit for every step but whose record is the echo, a
            // secret across the 200th character (where health cuts a quote).
            let message = format!(
                "{}{}",
                "a".repeat(190),
                values[1..].iter().chain(&values[..1]).cloned().collect::<Vec<_>>().join(" ; ")
            );
            json!({"_time": "2026-11-20T00:30:00Z", "value": "5", "_msg": message}).to_string()
        }
        "url" => {
            let form: Vec<String> = values.iter().map(|v| format!("v={}", form_encoded(v))).collect();
            let percent: Vec<String> = values.iter().map(|v| format!("p={}", percent_encoded(v))).collect();
            format!("echo?{}&{}", form.join("&"), percent.join("&"))
        }
        _ => format!("echo: {}", values.join(" ; ")),
    };
    ("200 OK".into(), "Content-Type: application/json\r\n".into(), format!("{body}\n"))
}

/// The errors of every kind of call on a datasource (QueryData errors,
/// CheckHealth's message, resource bodies), as text; what a query answers
/// is the backend's data, not searched.
async fn errors_of(plugin: &Plugin, ds: &Instance) -> String {
    let targets = [
        json!({"refId": "stat", "format": "stat", "direction": "in"}),
        json!({"refId": "table", "format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "other": true}),
        json!({"refId": "series", "format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 2}),
        json!({"refId": "logs", "format": "logs", "limit": 3}),
        json!({"refId": "raw", "rawQuery": "* | stats count() as value"}),
        json!({"refId": "rawseries", "format": "series", "rawQuery": "* | stats count() as value"}),
    ];
    let answers = plugin.query(ds, (FROM_MS, TO_MS), 60_000, &targets).await;
    let mut out = String::new();
    let mut refs: Vec<&String> = answers.keys().collect();
    refs.sort();
    for r in refs {
        out.push_str(&format!("query {r}: {}\n", answers[r].error));
    }
    let (healthy, message) = plugin.check_health(ds).await;
    assert!(!healthy, "{}: {message}", ds.uid);
    out.push_str(&format!("health: {message}\n"));
    for (method, path, body) in [
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
    ] {
        let (code, body) = plugin.resource(ds, method, path, body).await;
        out.push_str(&format!("resource {path} {code}: {body}\n"));
    }
    out
}

/// Every form of the echoed secrets that must never come back.
fn echoed_forms() -> Vec<String> {
    let mut forms = Vec::new();
    for secret in [ECHO_TOKEN, ECHO_HEADER, ECHO_PASSWORD, &basic(ECHO_PASSWORD), URL_PASSWORD] {
        forms.extend([
            secret.to_string(),
            json_escaped(secret),
            go_escaped(secret),
            form_encoded(secret),
            percent_encoded(secret),
        ]);
    }
    forms.sort();
    forms.dedup();
    forms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_echoed_in_successful_answers_never_come_back() {
    let (echo, seen) = loopback(echo_answer).await;
    let stderr_path = std::env::temp_dir().join(format!("flowlens-echo-stderr-{}.log", std::process::id()));
    let plugin = Plugin::start_with(
        &[("FLOWLENS_LOG", "trace"), ("RUST_LOG", "trace")],
        std::fs::File::create(&stderr_path).unwrap(),
        None,
    )
    .await;
    let header = ("httpHeaderValue1", ECHO_HEADER);
    let mut cases = Vec::new();
    for mode in ["raw", "json", "url"] {
        let url = format!("{echo}/{mode}");
        for backend in ["victorialogs", "loki"] {
            cases.push(instance(
                &url,
                &format!("{backend}-{mode}-basic"),
                Some(USER),
                json!({"backend": backend}),
                &[("basicAuthPassword", ECHO_PASSWORD), header],
            ));
            cases.push(instance(
                &url,
                &format!("{backend}-{mode}-bearer"),
                None,
                json!({"backend": backend, "bearerAuth": true}),
                &[("bearerToken", ECHO_TOKEN), header],
            ));
        }
    }
    for (auth, json_extra, secret) in [
        ("basic", json!({}), ("basicAuthPassword", ECHO_PASSWORD)),
        ("bearer", json!({"bearerAuth": true}), ("bearerToken", ECHO_TOKEN)),
    ] {
        let user = (auth == "basic").then_some(USER);
        cases.push(instance(
            &format!("{echo}/records"),
            &format!("records-{auth}"),
            user,
            json_extra,
            &[secret, header],
        ));
    }
    // A URL that does not parse, with a password in it.
    let bad_url = format!("http://{USER}:{URL_PASSWORD}@exa mple.com:9428");
    cases.push(instance(&bad_url, "bad-url", None, json!({}), &[header]));

    let mut returned = String::new();
    for ds in &cases {
        returned.push_str(&format!("== {}\n{}", ds.uid, errors_of(&plugin, ds).await));
    }
    drop(plugin);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    let _ = std::fs::remove_file(&stderr_path);

    // The secrets were sent and echoed in every form (the search is not vacuous) ...
    let wire = seen.lock().unwrap().join("\n");
    for sent in [format!("Bearer {ECHO_TOKEN}"), format!("Basic {}", basic(ECHO_PASSWORD)), ECHO_HEADER.to_string()] {
        assert!(wire.contains(&sent), "the backend never saw `{sent}`");
    }
    let echo_of = |mode: &str, auth: &str| {
        echo_answer(&Head(format!(
            "GET /{mode}/x HTTP/1.1\r\nAuthorization: {auth}\r\nX-Scope-OrgID: {ECHO_HEADER}\r\n"
        )))
        .2
    };
    for auth in [format!("Bearer {ECHO_TOKEN}"), format!("Basic {}", basic(ECHO_PASSWORD))] {
        let (raw, json, url) = (echo_of("raw", &auth), echo_of("json", &auth), echo_of("url", &auth));
        for form in [auth.clone(), ECHO_HEADER.into()] {
            assert!(raw.contains(&form), "the backend echoes {form:?}: {raw}");
            assert!(json.contains(&go_escaped(&form)), "the backend echoes {form:?} JSON-escaped: {json}");
            assert!(url.contains(&form_encoded(&form)), "the backend echoes {form:?} form-encoded: {url}");
            assert!(url.contains(&percent_encoded(&form)), "the backend echoes {form:?} percent-encoded: {url}");
        }
    }
    assert!(echo_of("raw", &format!("Basic {}", basic(ECHO_PASSWORD))).contains(ECHO_PASSWORD));
    // ... the answers were quoted, with the secrets taken out ...
    for quoted in [
        "VictoriaLogs sent a line that is not a JSON object: echo: Basic <redacted> ; <redacted> ; <redacted>",
        "VictoriaLogs sent a non-numeric aggregate",
        "VictoriaLogs answered stats_query_range with something other than its JSON",
        "Loki answered /loki/api/v1/query",
        "echo?v=Bearer+<redacted>&v=<redacted>&p=Bearer%20<redacted>&p=<redacted>",
        "is not valid",
        "The record format has 19 fields but a record has",
    ] {
        assert!(returned.contains(quoted), "{quoted}: {returned}");
    }
    assert!(stderr.contains("query failed"), "failures are logged");
    // ... and no form of any secret came back anywhere, nor a part of one
    // (every planted secret holds `ECHO` and `5ecr3t`).
    for secret in echoed_forms().into_iter().chain(["ECHO".to_string(), "5ecr3t".to_string()]) {
        for (what, text) in [("returned", &returned), ("stderr", &stderr)] {
            if let Some(at) = text.find(&secret) {
                let mut from = at.saturating_sub(300);
                while !text.is_char_boundary(from) {
                    from -= 1;
                }
                let mut to = (at + secret.len() + 100).min(text.len());
                while !text.is_char_boundary(to) {
                    to += 1;
                }
                panic!("the secret {secret:?} appears in what the plugin {what}: ...{}...", &text[from..to]);
            }
        }
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A backend that redirects elsewhere is not followed: the custom header
/// (a secret) and the credentials would go to the other origin, and the
/// query with them. The error names the other origin only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_errors_never_followed() {
    let (elsewhere, contacted) = loopback(|_| ("200 OK".into(), String::new(), "{\"value\":\"1\"}\n".into())).await;
    let target =
        format!("{}/select/logsql/query?token=QUERY-5ecr3t", elsewhere.replacen("://", "://flow:LOC-5ecr3t@", 1));
    let (redirector, asked) = loopback(move |head| {
        let status = match head.path().trim_start_matches('/').split('/').next().unwrap_or("") {
            "301" => "301 Moved Permanently",
            "302" => "302 Found",
            "303" => "303 See Other",
            "308" => "308 Permanent Redirect",
            _ => "307 Temporary Redirect",
        };
        (status.into(), format!("Location: {target}\r\n"), String::new())
    })
    .await;
    let plugin = Plugin::start().await;
    for code in ["301", "302", "303", "307", "308"] {
        for (backend, product) in [("victorialogs", "VictoriaLogs"), ("loki", "Loki")] {
            let ds = instance(
                &format!("{redirector}/{code}"),
                &format!("redirect-{code}-{backend}"),
                Some(USER),
                json!({"backend": backend}),
                &[("basicAuthPassword", GOOD_PASSWORD), ("httpHeaderValue1", HEADER_SECRET)],
            );
            let wanted = format!(
                "{product} answered a redirect (HTTP {code}) to {elsewhere}; set the datasource URL to the final address"
            );
            let answers = plugin.query(&ds, (FROM_MS, TO_MS), 60_000, &[json!({"refId": "A", "format": "stat"})]).await;
            assert!(answers["A"].error.contains(&wanted), "{code} {backend}: {}", answers["A"].error);
            assert_eq!(answers["A"].status, 502);
            let (healthy, message) = plugin.check_health(&ds).await;
            assert!(!healthy && message.contains(&wanted), "{code} {backend}: {message}");
            let (status, body) = plugin
                .resource(
                    &ds,
                    "POST",
                    "values",
                    json!({"field": "pkt_srcaddr", "range": {"from": FROM_MS, "to": TO_MS}}),
                )
                .await;
            assert_eq!(status, 502, "{body}");
            let said = format!("{answers:?} {message} {body}");
            assert!(!said.contains("5ecr3t") && !said.contains("/select"), "{code} {backend}: {said}");
        }
    }
    assert!(asked.lock().unwrap().len() >= 10, "the redirector was asked");
    let contacted = contacted.lock().unwrap();
    assert!(contacted.is_empty(), "the redirect was followed: {contacted:?}");
}
