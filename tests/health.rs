//! "Save & test" (CheckHealth) over gRPC: each misconfiguration gets its own
//! actionable message; secrets never appear in it.

mod common;

use common::harness::{Instance, Plugin};
use flowlens::gen::{generate, GenConfig, DEFAULT_V2_FORMAT, MISSION_FORMAT};
use flowlens::load::Loader;
use flowlens::vlserver::{VlOptions, VlServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_messages_say_what_to_fix() {
    let server =
        VlServer::start(VlOptions { basic_auth: Some(("flow".into(), "s3cret-pass".into())), ..Default::default() })
            .await
            .expect("VictoriaLogs must start");
    let cfg =
        GenConfig { connections: 300, from_ms: 1_795_132_800_000, to_ms: 1_795_136_400_000, ..GenConfig::default() };
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
        message.contains(&format!("{} records match", records.len() + 1)) && message.contains("19 fields"),
        "{message}"
    );

    let mut cases: Vec<(&str, Instance, &str)> = Vec::new();
    let mut unreachable = good.clone();
    unreachable.url = "http://127.0.0.1:9".into();
    cases.push(("unreachable", unreachable, "cannot connect to VictoriaLogs at http://127.0.0.1:9/"));
    let mut wrong_password = good.clone();
    wrong_password.secure.insert("basicAuthPassword".into(), "wrong-pass".into());
    cases.push(("credentials", wrong_password, "refused the credentials (HTTP 401)"));
    let mut no_stream = good.clone();
    no_stream.json_data["streamSelector"] = json!("{logtype=\"vpcflow\"}");
    cases.push(("stream", no_stream, "no records match the stream selector {logtype=\"vpcflow\"}"));
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
