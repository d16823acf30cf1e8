//! The plugin binary over gRPC with `backend: loki`, pointed at a real LogQL
//! engine (oteldb's, `../shared/tools/oteldb-mem`, or `OTELDB_MEM`; not
//! Loki, see `tests/common/loki.rs`) loaded with the generated fixture the
//! Loki way: every panel of the NAT-gateway dashboard over an aligned day, an
//! unaligned window and (raw records) seven days in hour-long sub-ranges, raw records and fields parsed at ingest (structured
//! metadata, JSON lines, logfmt lines), each
//! equal to the independent reference; Save & test; the `render`, `values`
//! and `fields` resources; bad queries. Every answer is also read by
//! Grafana's Go SDK (`tests/common/harness.rs`). In CI the engine must be
//! there; elsewhere the message says to set `OTELDB_MEM`.

mod common;

use common::data::{self, field_name, FIELD_MAPPING, NAT_ENI, POD_CIDR};
use common::harness::{Instance, Plugin};
use common::loki::{json_lines, labelled_records, logfmt_lines, raw_lines, Engine};
use common::panels::{Checker, Window};
use common::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::gen::{generate, FlowRecord, GenConfig, MISSION_FORMAT};
use serde_json::{json, Value};

/// Raw mission-format lines, as Lambda Promtail pushes them.
const RAW_STREAM: [(&str, &str); 3] = [("logtype", "flow"), ("environment", "ops"), ("component", "devops")];
/// The same records with their fields as labels (as structured metadata).
const LABELLED_STREAM: [(&str, &str); 1] = [("logtype", "flowsm")];
/// The same records as JSON lines and as logfmt lines (fields parsed at ingest).
const JSON_STREAM: [(&str, &str); 1] = [("logtype", "flowjson")];
const LOGFMT_STREAM: [(&str, &str); 1] = [("logtype", "flowlogfmt")];
/// Recent records, for Save & test (it reads the last hour).
const RECENT_STREAM: [(&str, &str); 2] = [("logtype", "recent"), ("environment", "ops")];

const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };
/// Not aligned to buckets at either end; the first and last buckets are partial.
const ODD: Window =
    Window { from_ms: data::FROM_MS + 433_000, to_ms: data::TO_MS - 3 * 3_600_000 - 17_000, interval_ms: 600_000 };

/// Seven days that end with the fixture's day and start mid-hour: 168
/// hour-long sub-ranges (and a partial one) per metric query.
const WEEK: Window =
    Window { from_ms: data::TO_MS - 7 * 86_400_000 + 1_800_000, to_ms: data::TO_MS, interval_ms: 3_600_000 };

/// The user's raw-records datasource, on Loki.
fn raw_instance(url: &str) -> Instance {
    let mut ds = data::raw_instance(url, "loki-raw");
    ds.json_data["backend"] = json!("loki");
    ds
}

/// Fields parsed at ingest on `logtype`, held as `loki_fields` says
/// (structured metadata, JSON lines, logfmt lines).
fn fields_instance(url: &str, logtype: &str, loki_fields: &str) -> Instance {
    let mapping: serde_json::Map<String, Value> =
        FIELD_MAPPING.iter().map(|(c, f)| (c.to_string(), json!(f))).collect();
    Instance {
        url: url.into(),
        uid: format!("loki-{loki_fields}"),
        json_data: json!({"backend": "loki", "streamSelector": format!("{{logtype=\"{logtype}\"}}"), "recordMode": "fields",
            "lokiFields": loki_fields, "fieldMapping": mapping, "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI}),
        ..Default::default()
    }
}

async fn loaded_engine() -> Option<(Engine, &'static [FlowRecord])> {
    let engine = Engine::start().await?;
    let records = data::records();
    engine.push(&RAW_STREAM, raw_lines(records)).await;
    engine.push_labelled(labelled_records(records, &LABELLED_STREAM, &field_name)).await;
    engine.push(&JSON_STREAM, json_lines(records, &field_name)).await;
    engine.push(&LOGFMT_STREAM, logfmt_lines(records, &field_name)).await;
    Some((engine, records))
}

async fn dashboard(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], with_logs: bool) {
    dashboard_over(plugin, ds, records, with_logs, &[DAY, ODD]).await;
}

async fn dashboard_over(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], with_logs: bool, windows: &[Window]) {
    for &w in windows {
        let check = Checker { plugin, ds, records, w };
        for direction in ["any", "in", "out"] {
            check.stat(direction).await;
        }
        check.rate_series("in").await;
        check.rate_series("out").await;
        check.top_table(&["pkt_srcaddr"], 10).await;
        check.top_table(&["pkt_dstaddr"], 10).await;
        check.top_table(&["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], 10).await;
        check.top_series(10).await;
        if with_logs {
            check.logs(MISSION_FORMAT).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_panels_on_loki_equal_the_reference() {
    let Some((engine, records)) = loaded_engine().await else { return };
    let plugin = Plugin::start().await;
    let started = std::time::Instant::now();
    dashboard(&plugin, &raw_instance(&engine.url), records, true).await;
    eprintln!("raw: {:?}", started.elapsed());
    let started = std::time::Instant::now();
    dashboard_over(&plugin, &raw_instance(&engine.url), records, true, &[WEEK]).await;
    eprintln!("raw, 7 days: {:?}", started.elapsed());
    let started = std::time::Instant::now();
    // The raw lines of the structured-metadata stream are the mission format too.
    dashboard(&plugin, &fields_instance(&engine.url, "flowsm", "structured-metadata"), records, true).await;
    eprintln!("structured metadata: {:?}", started.elapsed());
    for (logtype, loki_fields) in [("flowjson", "json"), ("flowlogfmt", "logfmt")] {
        let started = std::time::Instant::now();
        dashboard(&plugin, &fields_instance(&engine.url, logtype, loki_fields), records, false).await;
        eprintln!("{loki_fields}: {:?}", started.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_resources_cli_and_errors_on_loki() {
    let Some((engine, records)) = loaded_engine().await else { return };
    // Recent records: Save & test reads the last hour (then day) only.
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = GenConfig { connections: 300, from_ms: now - 50 * 60_000, to_ms: now - 10 * 60_000, ..data::config() };
    let recent = generate(&cfg);
    engine.push(&RECENT_STREAM, raw_lines(&recent)).await;
    let plugin = Plugin::start().await;

    // Save & test: the same questions as on VictoriaLogs, named for Loki.
    let mut good = raw_instance(&engine.url);
    good.json_data["streamSelector"] = json!("{logtype=\"recent\"}");
    let (ok, message) = plugin.check_health(&good).await;
    assert!(ok, "{message}");
    assert!(
        message.starts_with("Connected to Loki: ")
            && message.contains(&format!("{} records of the last hour match {{logtype=\"recent\"}}", recent.len()))
            && message.contains("record format (19 fields)"),
        "{message}"
    );
    let mut wrong = good.clone();
    wrong.json_data["streamSelector"] = json!("{logtype=\"nothing\"}");
    let (ok, message) = plugin.check_health(&wrong).await;
    assert!(!ok, "{message}");
    assert!(
        message.starts_with(&format!("Connected to Loki at {}", engine.url))
            && message.contains("no records of the last 24 hours match the stream selector {logtype=\"nothing\"}")
            && message.contains("logtype=\"recent\""),
        "{message}"
    );
    // A label no stream has: found from Loki's index (`/series`), said so.
    wrong.json_data["streamSelector"] = json!("{log_type=\"flow\"}");
    let (ok, message) = plugin.check_health(&wrong).await;
    assert!(
        !ok && message
            .contains("no stream of the last 24 hours has the label log_type; the labels it has: environment, logtype"),
        "{message}"
    );
    let mut bad_format = good.clone();
    bad_format.json_data["recordFormat"] = json!("${version} ${account-id} ${interface-id} ${srcaddr}");
    bad_format.json_data.as_object_mut().unwrap().remove("dataLinks");
    bad_format.json_data.as_object_mut().unwrap().remove("insideCidrs");
    let (ok, message) = plugin.check_health(&bad_format).await;
    assert!(!ok && message.contains("The record format has 4 fields but a record has 19"), "{message}");
    let mut unreachable = good.clone();
    unreachable.url = "http://127.0.0.1:9".into();
    let (ok, message) = plugin.check_health(&unreachable).await;
    assert!(!ok && message.contains("cannot connect to Loki at http://127.0.0.1:9/"), "{message}");

    let ds = raw_instance(&engine.url);
    // The editor's preview: LogQL.
    let (code, body) = plugin
        .resource(
            &ds,
            "POST",
            "render",
            json!({"query": {"format": "stat", "direction": "in"}, "range": {"from": DAY.from_ms, "to": DAY.to_ms}}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let logql = body["queries"][0].as_str().unwrap();
    assert!(
        logql.starts_with("sum(sum_over_time({logtype=\"flow\", environment=\"ops\"} [24h] offset 1ms |= \"eni-")
            && logql.contains("pkt_dstaddr=ip(\"10.0.32.0/20\")")
            && logql.ends_with("| unwrap flow_bytes | __error__=\"\"))"),
        "{logql}"
    );
    // Variable values: the top pods, as ranked by the reference.
    let (code, body) = plugin
        .resource(&ds, "POST", "values", json!({"field": "pkt_dstaddr", "query": {"direction": "in"}, "range": {"from": DAY.from_ms, "to": DAY.to_ms}, "limit": 5}))
        .await;
    assert_eq!(code, 200, "{body}");
    let top_pods: Vec<String> =
        r::groups(records, &RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms), &["pkt_dstaddr"])
            .into_iter()
            .take(5)
            .map(|(k, _)| k[0].clone())
            .collect();
    assert_eq!(body["values"], json!(top_pods));
    let (code, body) = plugin.resource(&ds, "GET", "fields", Value::Null).await;
    assert_eq!(code, 200);
    assert_eq!(body["fields"].as_array().unwrap().len(), 21, "19 record fields and inside_addr, outside_addr");

    // Bad queries: the model's errors are the plugin's, Loki's refusal is downstream and says so.
    let answers = plugin
        .query(
            &ds,
            (DAY.from_ms, DAY.to_ms),
            DAY.interval_ms,
            &[
                json!({"refId": "good", "format": "stat", "direction": "in"}),
                json!({"refId": "bad-op", "filters": [{"field": "pkt_srcaddr", "op": "like", "value": "x"}]}),
                json!({"refId": "bad-raw", "rawQuery": "sum(count_over_time({logtype=\"flow\"} | nonsense ("}),
            ],
        )
        .await;
    assert!(answers["good"].error.is_empty(), "{:?}", answers["good"]);
    assert_eq!(
        answers["good"].frames[0].field("bytes").values,
        vec![json!(r::total(records, &RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), DAY.from_ms, DAY.to_ms)))]
    );
    assert!(answers["bad-op"].error.contains("op `like`"), "{:?}", answers["bad-op"]);
    assert_eq!((answers["bad-op"].status, answers["bad-op"].error_source.as_str()), (400, "plugin"));
    assert!(answers["bad-raw"].error.starts_with("Loki rejected the query (HTTP 400): "), "{:?}", answers["bad-raw"]);
    assert_eq!(answers["bad-raw"].error_source, "downstream");
    let mut plugin = plugin;
    assert!(plugin.alive(), "the plugin keeps serving");

    cli_compare(&ds, records);
}

/// `flowlens query --backend loki --compare`: the plugin's frames, then each
/// step sent whole with the engine's raw answer, compared equal; the numbers
/// printed are the reference's.
fn cli_compare(ds: &Instance, records: &[FlowRecord]) {
    let rfc = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339();
    let run = |query: Value| {
        let settings = serde_json::to_string(&ds.json_data).unwrap();
        let (query, from, to) = (query.to_string(), rfc(ODD.from_ms), rfc(ODD.to_ms));
        let interval = (ODD.interval_ms / 1000).to_string();
        let (success, stdout, stderr) = common::harness::flowlens_cli(&[
            "query",
            "--backend",
            "loki",
            "--url",
            &ds.url,
            "--settings",
            &settings,
            "--query",
            &query,
            "--from",
            &from,
            "--to",
            &to,
            "--interval",
            &interval,
            "--compare",
        ]);
        assert!(success, "{query}: {stderr}\n{stdout}");
        stdout
    };
    let reference = ODD.reference(Dir::In);
    let out = run(json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 3, "other": true}));
    assert!(out.starts_with("== flowlens: the plugin's frames\n"), "{out}");
    assert!(out.contains("== step 1: Rank { limit: 3 }, sent whole to Loki\nGET /loki/api/v1/query time="), "{out}");
    assert!(out.contains(r#"{"status":"success","data":{"resultType":"vector""#), "the raw answer: {out}");
    let top: Vec<String> = r::groups(records, &reference, &["pkt_srcaddr"])
        .into_iter()
        .take(3)
        .map(|(k, v)| format!("{} = {v}", k[0]))
        .collect();
    assert!(out.contains(&format!("-- equal: 3 ranked: {}", top.join(", "))), "{top:?}\n{out}");
    assert!(out.contains("== step 2: Total"), "other needs the total: {out}");
    assert!(out.contains(&format!("-- equal: total {}", r::total(records, &reference))), "{out}");
    // A series: whole buckets in one range query, the edges as instant queries.
    let out = run(json!({"format": "series", "direction": "in"}));
    assert!(out.contains("GET /loki/api/v1/query_range start=") && out.contains(r#""resultType":"matrix""#), "{out}");
    assert_eq!(out.matches("-- equal: 1 series").count(), 1, "{out}");
}
