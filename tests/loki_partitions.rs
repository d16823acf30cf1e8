//! Exact top-N under Loki's `max_query_series`: a loopback proxy in front of
//! a real LogQL engine (oteldb's, `../shared/tools/oteldb-mem`, see
//! `tests/common/loki.rs`) loaded with the generated fixture enforces a
//! series limit the way Loki words it: an instant query whose answer holds
//! more than `LIMIT` series is answered with Loki's plain-text error
//! "maximum number of series (LIMIT) reached for a single query" (Loki
//! counts the series it builds; the answer's series are a lower bound of
//! them, so the proxy is no stricter than Loki). The plugin binary over gRPC
//! must rank in disjoint parts (address ranges, port ranges) and give the
//! reference's exact top N, with a notice saying so; a ranking that cannot be
//! partitioned fails with an error that names the limit and what to change.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use common::data;
use common::harness::Plugin;
use common::loki::{raw_lines, Engine};
use common::panels::{Checker, Window};
use common::reference::{self as r, Dir};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const RAW_STREAM: [(&str, &str); 3] = [("logtype", "flow"), ("environment", "ops"), ("component", "devops")];
const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };

/// What the proxy saw: each instant query's text and whether it was refused.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// A proxy to `engine` that refuses instant queries (those that contain
/// `only`) answering more than `limit` series with Loki's series-limit
/// error (HTTP 400, plain text).
async fn series_limited_proxy(engine: String, limit: usize, only: &'static str) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let client = reqwest::Client::new();
    let seen_by_proxy = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (engine, client, seen) = (engine.clone(), client.clone(), seen_by_proxy.clone());
            tokio::spawn(async move {
                let Some(head) = common::loki::read_request_head(&mut socket).await else { return };
                let target = head.split(' ').nth(1).unwrap_or("/").to_string();
                let answer = client.get(format!("{engine}{target}")).send().await.expect("the engine answers");
                let mut status = answer.status().as_u16();
                let mut body = answer.text().await.unwrap();
                if target.starts_with("/loki/api/v1/query?") && status == 200 {
                    let v: Value = serde_json::from_str(&body).unwrap();
                    let series = v["data"]["result"].as_array().map_or(0, Vec::len);
                    let url = reqwest::Url::parse(&format!("http://x{target}")).unwrap();
                    let query = url.query_pairs().find(|(k, _)| k == "query").map(|(_, v)| v.into_owned());
                    let query = query.unwrap_or_default();
                    let refused = series > limit && query.contains(only);
                    seen.lock().unwrap().push((query, refused));
                    if refused {
                        status = 400;
                        body = format!("maximum number of series ({limit}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()");
                    }
                }
                let kind = if body.starts_with('{') { "application/json" } else { "text/plain; charset=utf-8" };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, seen)
}

fn notices(frame: &common::harness::DecodedFrame) -> String {
    frame.meta["notices"].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rankings_over_the_series_limit_are_ranked_in_parts_and_stay_exact() {
    let Some(engine) = Engine::start().await else { return };
    let records = data::records();
    engine.push(&RAW_STREAM, raw_lines(records)).await;
    let reference = DAY.reference(Dir::In);
    let fields = [("pkt_srcaddr", "address ranges"), ("srcport", "number ranges")];
    let groups: Vec<usize> = fields.iter().map(|(f, _)| r::groups(records, &reference, &[f]).len()).collect();
    // Low enough that ranking any of them whole is refused.
    let limit = (groups.iter().min().unwrap() / 3).max(2);
    assert!(groups.iter().all(|n| *n > limit), "the fixture must have more groups ({groups:?}) than {limit}");
    let (url, seen) = series_limited_proxy(engine.url.clone(), limit, "").await;
    let plugin = Plugin::start().await;
    let mut ds = data::raw_instance(&url, "loki-limited");
    ds.json_data["backend"] = json!("loki");
    // The whole day as one query: hour-long sub-ranges (the default) hold
    // too few groups each to reach the limit.
    ds.json_data["lokiSplitInterval"] = json!("0");
    let check = Checker { plugin: &plugin, ds: &ds, records, w: DAY };

    for (group_by, kind) in fields {
        seen.lock().unwrap().clear();
        let target = json!({"refId": "T", "format": "table", "direction": "in", "groupBy": [group_by], "limit": 10});
        let frames = check.frames(&target).await;
        check.verify_top_table(&target, &reference, &frames);
        let text = notices(&frames[0]);
        assert!(text.contains(&format!("Ranked by `{group_by}` in ")), "{group_by}: {text}");
        assert!(text.contains(kind) && text.contains(&format!("max_query_series ({limit})")), "{text}");
        let label = format!("{}{group_by}", flowlens::backends::loki::logql::EXTRACTED);
        let by = format!("sum by ({label}) ");
        let seen: Vec<(String, bool)> = seen.lock().unwrap().iter().filter(|(q, _)| q.contains(&by)).cloned().collect();
        assert!(seen[0].1, "{group_by}: the whole ranking was refused first: {seen:?}");
        // A part is ranked when none of its requests was refused.
        let refused: BTreeSet<&String> = seen.iter().filter(|(_, refused)| *refused).map(|(q, _)| q).collect();
        let answered: BTreeSet<&String> = seen.iter().map(|(q, _)| q).filter(|q| !refused.contains(q)).collect();
        assert!(answered.len() >= 2, "{group_by}: ranked in parts: {seen:?}");
        let narrowing = if kind == "address ranges" { "ip(\"".to_string() } else { format!("{label}<=") };
        assert!(
            answered.iter().all(|q| q.contains(&narrowing) || q.contains(&format!("{label}=\"-\""))),
            "{group_by}: every answered part is narrowed: {answered:?}"
        );
        assert!(
            text.contains(&format!("in {} parts", answered.len())),
            "{group_by}: the notice counts the parts: {text}, {answered:?}"
        );
    }

    // Destination ports are many and dense: halving 0..=65535 would need
    // more than 64 parts at this limit, so the error says what to change.
    let target = json!({"refId": "T", "format": "table", "direction": "in", "groupBy": ["dstport"], "limit": 10});
    let answer = plugin
        .query(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, std::slice::from_ref(&target))
        .await
        .remove("T")
        .expect("an answer for T");
    assert_eq!((answer.status, answer.error_source.as_str()), (422, "downstream"), "{answer:?}");
    for part in [
        format!("max_query_series = {limit}"),
        "more than 64 ranges would be needed".to_string(),
        "raise max_query_series".to_string(),
    ] {
        assert!(answer.error.contains(&part), "{part:?} missing in: {}", answer.error);
    }

    // The top series panel ranks in parts, then fetches exactly the N keys.
    check.top_series(10).await;

    // A field that is no address or number cannot be split into ranges:
    // the error names the limit, the field and what to change.
    let (url, _) = series_limited_proxy(engine.url.clone(), 0, "sum by (flow_action)").await;
    let mut ds = data::raw_instance(&url, "loki-limited-0");
    ds.json_data["backend"] = json!("loki");
    let target = json!({"refId": "T", "format": "table", "groupBy": ["action"], "limit": 10});
    let answer = plugin
        .query(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, std::slice::from_ref(&target))
        .await
        .remove("T")
        .expect("an answer for T");
    assert_eq!((answer.status, answer.error_source.as_str()), (422, "downstream"), "{answer:?}");
    for part in ["max_query_series = 0", "`action` is neither an address nor a number", "raise max_query_series"] {
        assert!(answer.error.contains(part), "{part:?} missing in: {}", answer.error);
    }
}
