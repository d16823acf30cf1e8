//! "Save & test" (CheckHealth) over gRPC: each misconfiguration gets its own
//! actionable message; secrets never appear in it.

mod common;

use common::harness::{Instance, Plugin};
use flowlens_devtools::gen::{generate, GenConfig, DEFAULT_V2_FORMAT, MISSION_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_messages_say_what_to_fix() {
    let server =
        VlServer::start(VlOptions { basic_auth: Some(("flow".into(), "s3cret-pass".into())), ..Default::default() })
            .await
            .expect("VictoriaLogs must start");
    // Recent records: every health query looks at the last hour (then day) only.
    let now = chrono::Utc::now().timestamp_millis();
    let cfg =
        GenConfig { connections: 300, from_ms: now - 50 * 60_000, to_ms: now - 10 * 60_000, ..GenConfig::default() };
    let records = generate(&cfg);
    let loader = Loader::new(&server.url).with_basic_auth("flow", "s3cret-pass");
    let stream = [("logtype", "flow"), ("environment", "ops"), ("logger_type", "vpc")];
    loader.push_raw(&records, MISSION_FORMAT, &stream).await.unwrap();
    loader.force_flush().await.unwrap();
    let plugin = Plugin::start().await;

    let good = Instance {
        url: server.url.clone(),
        uid: "h".into(),
        basic_auth_user: Some("flow".into()),
        secure: [("basicAuthPassword".to_string(), "s3cret-pass".to_string())].into(),
        json_data: json!({"streamSelector": "{logtype=\"flow\"}", "recordFormat": MISSION_FORMAT,
            "insideCidrs": ["10.0.32.0/20"], "interfaceId": "eni-0352f8c82da6aa229"}),
    };
    let (ok, message) = plugin.check_health(&good).await;
    assert!(ok, "{message}");
    assert!(
        message.contains(&format!("{} records of the last hour match", records.len()))
            && message.contains("19 fields")
            && !message.contains("Warning"),
        "{message}"
    );

    // Inside CIDRs that hold the NAT gateway's own address: a warning that
    // says what the plugin does, whether the address is detected or set.
    let mut vpc = good.clone();
    vpc.json_data["insideCidrs"] = json!(["10.0.0.0/16"]);
    for nat_addresses in [None, Some(json!(["10.0.0.57"]))] {
        if let Some(a) = &nat_addresses {
            vpc.json_data["natAddresses"] = a.clone();
        }
        let (ok, message) = plugin.check_health(&vpc).await;
        assert!(ok, "{message}");
        let how = if nat_addresses.is_some() { "set in natAddresses" } else { "detected from its records" };
        assert!(
            message.contains("Warning: the inside CIDRs contain the address of interface eni-0352f8c82da6aa229 itself (10.0.0.0/16 holds 10.0.0.57")
                && message.contains(how)
                && message.contains("excludes it from the inside networks"),
            "{message}"
        );
    }

    // Records older than a day are not looked at: the check stays bounded.
    let old = GenConfig { connections: 50, from_ms: now - 5 * 86_400_000, to_ms: now - 4 * 86_400_000, ..cfg.clone() };
    loader
        .push_raw(
            &generate(&old),
            MISSION_FORMAT,
            &[("logtype", "old"), ("environment", "ops"), ("logger_type", "vpc")],
        )
        .await
        .unwrap();
    loader.force_flush().await.unwrap();
    let mut stale = good.clone();
    stale.json_data["streamSelector"] = json!("{logtype=\"old\"}");
    let (ok, message) = plugin.check_health(&stale).await;
    assert!(
        !ok && message.contains("no records of the last 24 hours match the stream selector {logtype=\"old\"}"),
        "{message}"
    );
    assert!(message.contains("streams with records in the last 24 hours: {"), "{message}");

    let mut cases: Vec<(&str, Instance, &str)> = Vec::new();
    let mut unreachable = good.clone();
    unreachable.url = "http://127.0.0.1:9".into();
    cases.push(("unreachable", unreachable, "cannot connect to VictoriaLogs at http://127.0.0.1:9/"));
    let mut wrong_password = good.clone();
    wrong_password.secure.insert("basicAuthPassword".into(), "wrong-pass".into());
    cases.push(("credentials", wrong_password, "refused the credentials (HTTP 401)"));
    let mut no_stream = good.clone();
    no_stream.json_data["streamSelector"] = json!("{logtype=\"vpcflow\"}");
    cases.push((
        "stream",
        no_stream,
        "no records of the last 24 hours match the stream selector {logtype=\"vpcflow\"}",
    ));
    let mut wrong_format = good.clone();
    wrong_format.json_data["recordFormat"] = json!(DEFAULT_V2_FORMAT);
    cases.push(("format", wrong_format, "The record format has 14 fields but a record has 19"));
    let mut swapped = good.clone();
    swapped.json_data["recordFormat"] = json!(MISSION_FORMAT
        .replace("${az-id} ${subnet-id}", "${subnet-id} ${az-id}")
        .replace("${srcport} ${dstport} ${pkt-srcaddr}", "${pkt-srcaddr} ${dstport} ${srcport}"));
    cases.push(("order", swapped, "field `pkt_srcaddr` holds"));
    let mut fields = good.clone();
    fields.json_data["recordMode"] = json!("fields");
    cases.push(("mapping", fields, "no field `bytes` for `bytes`"));
    let mut bad_settings = good.clone();
    bad_settings.json_data["insideCidrs"] = json!(["10.0.32.0/33"]);
    cases.push(("settings", bad_settings, "insideCidrs"));
    let mut wrong_path = good.clone();
    wrong_path.url = format!("{}/not-victorialogs", server.url);
    cases.push(("path", wrong_path, "has no API at"));

    for (name, instance, want) in cases {
        let (ok, message) = plugin.check_health(&instance).await;
        assert!(!ok, "{name}: {message}");
        assert!(message.contains(want), "{name}: {message}");
        assert!(
            !message.contains("s3cret-pass") && !message.contains("wrong-pass"),
            "{name}: a secret leaked: {message}"
        );
    }
}

/// A backend that answers every request, but slowly: the whole check still
/// ends within its one budget (the datasource's timeout here), with a
/// message that says so, rather than adding up one timeout per query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_has_one_time_budget() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
                let body = "{\"value\":\"10\"}\n";
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
            });
        }
    });
    let plugin = Plugin::start().await;
    let slow = Instance {
        url,
        uid: "slow".into(),
        json_data: json!({"recordFormat": MISSION_FORMAT, "timeoutSeconds": 2}),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let (ok, message) = plugin.check_health(&slow).await;
    let took = started.elapsed();
    assert!(!ok, "{message}");
    assert!(message.contains("did not finish the checks within 2 s"), "{message}");
    assert!(took < std::time::Duration::from_secs(10), "the check took {took:?}");
}
