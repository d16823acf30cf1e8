//! Secrets planted in the settings (basic auth, bearer token, a custom
//! header, a TLS CA) and sent to a backend that accepts or refuses them,
//! an unreachable one, broken settings: no form of any of them in what the
//! plugin prints at trace level or returns.

use std::sync::{Arc, Mutex};

use flowlens_devtools::gen::{generate, GenConfig, MISSION_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::common::harness::{Instance, Plugin};
use crate::{basic, instance, resource_calls, Head, FROM_MS, GOOD_PASSWORD, HEADER_SECRET, TO_MS, USER};

const WRONG_PASSWORD: &str = "pw-WRONG-5ecr3t-basic";
const GOOD_TOKEN: &str = "tok-GOOD-5ecr3t-bearer";
const WRONG_TOKEN: &str = "tok-WRONG-5ecr3t-bearer";
const REAL_PASSWORD: &str = "pw-REAL-5ecr3t-victorialogs";
const REAL_WRONG_PASSWORD: &str = "pw-REALWRONG-5ecr3t";
const UNREACHABLE_PASSWORD: &str = "pw-UNREACHABLE-5ecr3t";
const ROLLUP_PASSWORD: &str = "pw-ROLLUPSTORE-5ecr3t";
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
        ROLLUP_PASSWORD,
        BAD_CA_SECRET,
        BAD_HEADER_SECRET,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for pw in [GOOD_PASSWORD, WRONG_PASSWORD, REAL_PASSWORD, REAL_WRONG_PASSWORD, UNREACHABLE_PASSWORD, ROLLUP_PASSWORD]
    {
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
                let Some((head, _)) = crate::common::loki::read_request(&mut socket).await else { return };
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
    out.push_str(
        &resource_calls(
            plugin,
            ds,
            vec![("GET", "nope", Value::Null), ("POST", "render", json!({"query": {"format": "pie"}}))],
        )
        .await,
    );
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
            // The rollup store (the recording backend) refuses its own
            // credentials and quotes them: the panels answer from raw
            // records with a notice, the password nowhere.
            "real VictoriaLogs, rollup store refusing",
            instance(
                &server.url,
                "r",
                Some(USER),
                json!({"rollups": {"url": fake, "basicAuthUser": USER}, "cacheMaxMiB": 0}),
                &[("basicAuthPassword", REAL_PASSWORD), ("rollupsBasicAuthPassword", ROLLUP_PASSWORD), header],
            ),
            true,
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
        format!("authorization: basic {}", basic(ROLLUP_PASSWORD)),
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
    assert!(returned.contains("Rollups not read (the rollup store refused the credentials"), "{returned}");
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
