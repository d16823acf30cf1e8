//! Settings' unit tests.

use super::*;

fn settings(json: &str, secure: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let secure: HashMap<String, String> = secure.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_instance(&InstanceSettings {
        url: "http://127.0.0.1:9428",
        json_data: json.as_bytes(),
        secure: Some(&secure),
        ..Default::default()
    })
}

#[test]
fn defaults() {
    let s = settings("{}", &[]).unwrap();
    assert_eq!(s.backend, "victorialogs");
    assert_eq!(s.schema, RecordSchema::Raw(RecordFormat::default()));
    assert_eq!(s.timeout, Duration::from_secs(60));
    assert_eq!(s.max_concurrent_requests, DEFAULT_MAX_CONCURRENT_REQUESTS);
    assert_eq!(s.auth, Auth::None);
    assert!(s.stream.matchers.is_empty());
}

#[test]
fn full_settings_and_secrets_are_redacted() {
    let s = settings(
        r#"{"backend":"loki","streamSelector":"{logtype=\"flow\"}","insideCidrs":["10.0.32.0/20","10.0.48.7"],
            "interfaceId":" eni-1 ","bearerAuth":true,"httpHeaderName1":"X-Scope-OrgID","timeoutSeconds":5,
            "dataLinks":[{"field":"srcaddr","title":"t","url":"u"}],"grafanaAddsThis":1}"#,
        &[("bearerToken", "s3cr3t"), ("httpHeaderValue1", "tenant-a")],
    )
    .unwrap();
    assert_eq!(s.backend, "loki");
    assert_eq!(s.inside.len(), 2);
    assert_eq!(s.inside[1].to_string(), "10.0.48.7/32");
    assert_eq!(s.interface_id.as_deref(), Some("eni-1"));
    assert_eq!(s.headers[0].0, "X-Scope-OrgID");
    assert_eq!(s.headers[0].1.expose(), "tenant-a");
    let debug = format!("{s:?}");
    assert!(!debug.contains("s3cr3t") && !debug.contains("tenant-a"), "{debug}");
}

#[test]
fn cache_settings_are_whole_numbers_in_range() {
    let s = settings("{}", &[]).unwrap();
    assert_eq!((s.cache_max_bytes, s.cache_settle_ms), (16 << 20, 30 * 60_000));
    let s = settings(r#"{"cacheMaxMiB":0,"cacheSettleMinutes":90}"#, &[]).unwrap();
    assert_eq!((s.cache_max_bytes, s.cache_settle_ms), (0, 90 * 60_000));
    assert_eq!(s.coalesce_window, Duration::from_millis(10));
    assert_eq!(settings(r#"{"coalesceWindowMs":0}"#, &[]).unwrap().coalesce_window, Duration::ZERO);
    for (name, bad) in
        [("cacheMaxMiB", "-1"), ("cacheMaxMiB", "4097"), ("cacheSettleMinutes", "2.5"), ("coalesceWindowMs", "1001")]
    {
        let e = settings(&format!(r#"{{"{name}":{bad}}}"#), &[]).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("whole number from 0 to"), "{bad}: {e}");
    }
}

#[test]
fn max_query_memory_is_a_whole_number_of_mib_in_range() {
    assert_eq!(settings("{}", &[]).unwrap().max_query_memory_bytes, 256 << 20);
    assert_eq!(settings(r#"{"maxQueryMemoryMiB":64}"#, &[]).unwrap().max_query_memory_bytes, 64 << 20);
    for bad in ["0", "-1", "2.5", "16385"] {
        let e = settings(&format!(r#"{{"maxQueryMemoryMiB":{bad}}}"#), &[]).unwrap_err().to_string();
        assert!(e.contains("maxQueryMemoryMiB") && e.contains("to 16384"), "{bad}: {e}");
    }
}

#[test]
fn max_concurrent_requests_is_a_whole_number_in_range() {
    assert_eq!(settings(r#"{"maxConcurrentRequests":12}"#, &[]).unwrap().max_concurrent_requests, 12);
    assert_eq!(settings(r#"{"maxConcurrentRequests":1}"#, &[]).unwrap().max_concurrent_requests, 1);
    for bad in ["0", "-3", "2.5", "1025"] {
        let e = settings(&format!(r#"{{"maxConcurrentRequests":{bad}}}"#), &[]).unwrap_err().to_string();
        assert!(e.contains("maxConcurrentRequests") && e.contains("from 1 to 1024"), "{bad}: {e}");
    }
}

#[test]
fn errors_name_the_setting() {
    for (json, want) in [
        (r#"{"insideCidrs":["10.0.32.1/20"]}"#, "host bits"),
        (r#"{"insideCidrs":["pods"]}"#, "insideCidrs"),
        (r#"{"natAddresses":["10.0.0.0/24"]}"#, "natAddresses"),
        (r#"{"recordFormat":"${srcaddr} ${nope}"}"#, "`nope`"),
        (r#"{"recordMode":"json"}"#, "recordMode"),
        (r#"{"recordMode":"fields","fieldMapping":{"pkt_src":"x"}}"#, "fieldMapping"),
        (r#"{"recordMode":"fields","fieldMapping":{"srcport":"src*"}}"#, "wildcard"),
        (r#"{"recordMode":"fields","fieldMapping":{"bytes":"value"}}"#, "query results"),
        (r#"{"recordMode":"fields","fieldMapping":{"action":"_msg"}}"#, "VictoriaLogs' own"),
        (r#"{"streamSelector":"logtype=flow"}"#, "stream selector"),
        (r#"{"bearerAuth":true}"#, "no token"),
        (r#"{"timeoutSeconds":-1}"#, "timeoutSeconds"),
        (r#"{"httpHeaderName1":"bad header"}"#, "httpHeaderName1"),
        (r#"{"dataLinks":[{"field":"pkt_srcaddr","title":"t","url":"u"}]}"#, "dataLinks"),
        (r#"[1]"#, "jsonData"),
    ] {
        let e = settings(json, &[]).unwrap_err().to_string();
        assert!(e.contains(want), "{json}: {e}");
    }
    let e = Settings::from_instance(&InstanceSettings { url: "ftp://x", ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("http://"), "{e}");
    let e = Settings::from_instance(&InstanceSettings { url: "", ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("URL is empty"), "{e}");
}

#[test]
fn header_values_are_one_line() {
    let json = r#"{"httpHeaderName1":"X-Scope-OrgID","httpHeaderName2":"X-Other"}"#;
    for value in ["5ecr3t\r\nInjected: 1", "5ecr3t\n", "\r5ecr3t", "5ecr3t\0"] {
        let e = settings(json, &[("httpHeaderValue1", "tenant"), ("httpHeaderValue2", value)]).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("httpHeaderValue2, the value of header `X-Other`, contains a line break"), "{e}");
        assert!(!e.contains("5ecr3t"), "{e}");
    }
    let ok = settings(json, &[("httpHeaderValue1", "tenant 7\tx"), ("httpHeaderValue2", "")]).unwrap();
    assert_eq!(ok.headers.len(), 2);
}

#[test]
fn a_url_that_fails_to_parse_is_quoted_without_its_credentials() {
    for (url, shown) in [
        ("http://flow:pw-5ecr3t@exa mple.com:9428", "http://<redacted>@exa mple.com:9428"),
        ("http://flow:pw/5ecr3t@host:9428", "http://<redacted>@host:9428"),
        ("http://flow:pw#5ecr3t@host:99999", "http://<redacted>@host:99999"),
        ("ftp://flow:pw-5ecr3t@host", "ftp://<redacted>@host"),
        ("flow:pw-5ecr3t@host:9428", "<redacted>@host:9428"),
    ] {
        let e = Settings::from_instance(&InstanceSettings { url, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains(&format!("`{shown}`")) && !e.contains("5ecr3t"), "{url}: {e}");
    }
    let e = Settings::from_instance(&InstanceSettings { url: "http://exa mple.com", ..Default::default() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("`http://exa mple.com` is not valid"), "{e}");
}
