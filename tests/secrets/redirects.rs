//! Redirects: never followed, so the secrets never reach another origin.

use serde_json::json;

use crate::common::harness::Plugin;
use crate::{instance, loopback, FROM_MS, GOOD_PASSWORD, HEADER_SECRET, TO_MS, USER};

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
