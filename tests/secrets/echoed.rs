//! A backend that quotes the credentials and the custom header back in
//! answers with status 200 (as text, as Go writes JSON, percent- and
//! form-encoded, inside records): every quote reaches the user with the
//! secrets taken out, and nothing of them in the plugin's log.

use base64::Engine;
use serde_json::json;

use crate::common::harness::{Instance, Plugin};
use crate::{basic, instance, loopback, resource_calls, Head, FROM_MS, TO_MS, USER};

const ECHO_TOKEN: &str = r#"tok"ECHO\5ecr3t <bearer>&/+"#;
const ECHO_HEADER: &str = r#"hdr"ECHO 5ecr3t\tenant&<x>"#;
const ECHO_PASSWORD: &str = r#"pw"ECHO\5ecr3t é<basic>&/+"#;
const URL_PASSWORD: &str = "URLPW-5ecr3t-userinfo";

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
    out.push_str(&resource_calls(plugin, ds, vec![]).await);
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
