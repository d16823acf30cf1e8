//! The plugin binary over gRPC with `backend: loki` against a loopback
//! server that answers Loki's documented HTTP API from the LogQL model
//! (`tests/common/loki_contract.rs`, `logql_model.rs`) with Loki's limits:
//! a week of generated records (the fixture's day and six more), every
//! dashboard panel over an hour, a day and the week equal to the reference,
//! with `lokiSplitInterval: 1h` (one request per hour the range touches,
//! counted), `max_query_series` low enough that rankings are refused whole
//! and ranked in parts, `max_query_length` shorter than the week (which
//! works only because the plugin splits it; unsplit it is refused with the
//! plugin's message), and logs paged past 5000 lines under
//! `max_entries_limit_per_query`. Also: the entries limit and the query
//! timeout as the plugin's errors, and `/labels`, `/label/…/values`,
//! `/series`, `/ready` in Loki's shapes.

mod common;

use std::collections::BTreeSet;

use common::data::{self, NAT_ENI, POD_CIDR};
use common::harness::{Instance, Plugin};
use common::logql_model::Store;
use common::logql_syntax::prometheus_duration;
use common::loki::raw_lines;
use common::loki_contract::{go_duration_text, prometheus_duration_text, ContractServer, Limits, Seen};
use common::panels::{Checker, Window};
use common::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::gen::{FlowRecord, MISSION_FORMAT};
use serde_json::{json, Value};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const RAW_STREAM: [(&str, &str); 3] = [("logtype", "flow"), ("environment", "ops"), ("component", "devops")];

/// One hour that starts and ends inside minutes and hours.
const ONE_HOUR: Window = Window {
    from_ms: data::FROM_MS + 13 * HOUR_MS + 433_000,
    to_ms: data::FROM_MS + 14 * HOUR_MS + 433_000,
    interval_ms: 60_000,
};
const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };
const WEEK: Window = Window { from_ms: data::WEEK_FROM_MS, to_ms: data::TO_MS, interval_ms: HOUR_MS };

fn raw_store(records: &[FlowRecord]) -> Store {
    let mut store = Store::default();
    store.push(&RAW_STREAM, raw_lines(records));
    store.seal();
    store
}

/// The user's raw-records datasource on Loki, split at `split`, without the
/// cache: the requests counted here are the plan's own (a cached stat is
/// asked as 10-minute buckets; tests/dashboard.rs and tests/loki_e2e.rs run
/// Loki with the cache).
fn instance(url: &str, split: &str) -> Instance {
    let mut ds = data::raw_instance(url, &format!("contract-{split}"));
    ds.json_data["backend"] = json!("loki");
    ds.json_data["lokiSplitInterval"] = json!(split);
    ds.json_data["cacheMaxMiB"] = json!(0);
    // A week of sub-queries on the test's engine: correctness, not speed, is
    // checked here, so a busy machine must not turn it into a timeout.
    ds.json_data["timeoutSeconds"] = json!(600);
    ds
}

/// The hours `[from, to)` touches.
fn hours(w: &Window) -> i64 {
    (w.to_ms - 1).div_euclid(HOUR_MS) - w.from_ms.div_euclid(HOUR_MS) + 1
}

/// How many ms a request reads: `end - start`, or an instant query's window.
fn span_ms(s: &Seen) -> i64 {
    match (s.time_ms("start"), s.time_ms("end")) {
        (Some(start), Some(end)) => end - start,
        _ => {
            let q = s.param("query").unwrap_or_default();
            let window = q.split(" [").nth(1).and_then(|w| w.split(']').next()).unwrap_or_default();
            prometheus_duration(window).map_or(i64::MAX, |ns| ns / 1_000_000)
        }
    }
}

/// The queries the server answered (`/query`, `/query_range`).
fn queries(server: &ContractServer) -> Vec<Seen> {
    server.seen().into_iter().filter(|s| s.path.starts_with("/loki/api/v1/query")).collect()
}

/// Checks a panel's requests: each reads at most an hour and stays inside
/// one hour of the epoch, and none asks for more than 5000 lines.
fn within_hours(seen: &[Seen], what: &str) {
    for s in seen {
        let span = span_ms(s);
        assert!(span <= HOUR_MS, "{what}: a request reads {span} ms: {s:?}");
        if let (Some(start), Some(end)) = (s.time_ms("start"), s.time_ms("end")) {
            if s.param("step").is_none() {
                assert_eq!(start.div_euclid(HOUR_MS), (end - 1).div_euclid(HOUR_MS), "{what}: one hour: {s:?}");
            }
        }
        if let Some(limit) = s.param("limit") {
            assert!(limit.parse::<usize>().unwrap() <= 5000, "{what}: {s:?}");
        }
    }
}

/// Checks a stat's requests: each step (a query text, its window aside)
/// asks only in hours of the range, and the first, the total, in every
/// hour the range touches. (The first query of an interface also detects
/// its own addresses, whose total can be the same text, and a ranking
/// refused whole over `max_query_series` adds a step per part in the hours
/// it was refused in.)
fn every_hour_asked(seen: &[Seen], w: &Window, what: &str) {
    let step = |s: &Seen| {
        let q = s.param("query").unwrap_or_default();
        match q.split_once(" [") {
            Some((head, rest)) => format!("{head} {}", rest.split_once(']').map_or("", |(_, tail)| tail)),
            None => q.to_string(),
        }
    };
    let range_hours = (w.from_ms.div_euclid(HOUR_MS)..=(w.to_ms - 1).div_euclid(HOUR_MS)).collect::<BTreeSet<i64>>();
    let mut asked: std::collections::BTreeMap<String, BTreeSet<i64>> = Default::default();
    for s in seen {
        let end = s.time_ms("time").or(s.time_ms("end")).expect("a time or an end");
        asked.entry(step(s)).or_default().insert((end - 1).div_euclid(HOUR_MS));
    }
    assert!(asked.values().all(|hours| hours.is_subset(&range_hours)), "{what}: {asked:?}");
    let first = step(seen.first().unwrap_or_else(|| panic!("{what}: no request")));
    assert_eq!(asked[&first], range_hours, "{what}: the total in every hour: {first}");
    assert!(seen.iter().all(|s| s.path == "/loki/api/v1/query" && s.status < 500), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_over_an_hour_a_day_and_a_week_equals_the_reference() {
    let records = data::week_records();
    let days: BTreeSet<i64> = records.iter().map(|r| r.time_ms.div_euclid(DAY_MS)).collect();
    assert_eq!(days.len(), 7, "the week holds records on every day");
    // Low enough that the busiest hour's ranking by remote address is refused whole.
    let busiest = (0..hours(&WEEK))
        .map(|h| {
            let from = WEEK.from_ms + h * HOUR_MS;
            let q = RefQuery::new(Dir::In, POD_CIDR, Some(NAT_ENI), from, from + HOUR_MS);
            r::groups(&records, &q, &["pkt_srcaddr"]).len()
        })
        .max()
        .unwrap();
    let max_series = busiest / 2;
    let limits =
        Limits { max_query_series: Some(max_series), max_query_length_ms: Some(2 * DAY_MS), ..Limits::default() };
    let server = ContractServer::start(raw_store(&records), limits).await;
    let plugin = Plugin::start().await;
    let ds = instance(&server.url, "1h");
    for w in [ONE_HOUR, DAY, WEEK] {
        let started = std::time::Instant::now();
        let check = Checker { plugin: &plugin, ds: &ds, records: &records, w };
        let what = |panel: &str| format!("{panel} {w:?}");
        for direction in ["any", "in", "out"] {
            server.clear();
            check.stat(direction).await;
            let seen = queries(&server);
            every_hour_asked(&seen, &w, &what("stat"));
            within_hours(&seen, &what("stat"));
        }
        for direction in ["in", "out"] {
            server.clear();
            check.rate_series(direction).await;
            let seen = queries(&server);
            let buckets = w.buckets();
            let whole: BTreeSet<i64> = buckets
                .iter()
                .filter(|(start, time, width)| start == time && *width == w.interval_ms)
                .map(|(start, ..)| start.div_euclid(HOUR_MS))
                .collect();
            let edges = buckets.iter().filter(|(start, time, width)| start != time || *width != w.interval_ms).count();
            let ranges = seen.iter().filter(|s| s.path.ends_with("query_range")).count();
            assert_eq!(ranges, whole.len(), "{}: one range query per hour of whole buckets", what("rate series"));
            assert_eq!(seen.len() - ranges, edges, "{}: one instant query per edge bucket", what("rate series"));
            within_hours(&seen, &what("rate series"));
        }
        for group_by in
            [vec!["pkt_srcaddr"], vec!["pkt_dstaddr"], vec!["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"]]
        {
            server.clear();
            let target = json!({"refId": "T", "format": "table", "direction": "in", "groupBy": group_by, "limit": 10});
            let frames = check.frames(&target).await;
            check.verify_top_table(&target, &w.reference(Dir::In), &frames);
            let seen = queries(&server);
            within_hours(&seen, &what("top table"));
            if seen.iter().any(|s| s.status == 400) {
                let notice = frames[0].meta["notices"].to_string();
                assert!(
                    notice.contains(&format!("Ranked by `{}` in ", group_by[0])),
                    "{}: {notice}",
                    what("top table")
                );
                assert!(notice.contains(&format!("max_query_series ({max_series})")), "{notice}");
            }
            if w.to_ms - w.from_ms >= DAY_MS && group_by == ["pkt_srcaddr"] {
                assert!(seen.iter().any(|s| s.status == 400), "{}: refused whole, ranked in parts", what("top table"));
            }
        }
        server.clear();
        check.top_series(10).await;
        within_hours(&queries(&server), &what("top series"));
        check.logs(MISSION_FORMAT).await;
        // More lines than one page: paged newest hour first, at most 5000 a request.
        server.clear();
        let target = json!({"refId": "L", "format": "logs", "limit": 7000});
        let matching = r::matching(&records, &w.reference(Dir::Any)).count();
        check.check_logs(target, &w.reference(Dir::Any), MISSION_FORMAT).await;
        let seen = queries(&server);
        within_hours(&seen, &what("logs"));
        let ends: Vec<i64> = seen.iter().map(|s| s.time_ms("end").unwrap()).collect();
        assert!(ends.windows(2).all(|p| p[0] >= p[1]), "{}: newest first: {ends:?}", what("logs"));
        if matching > 7000 {
            assert!(seen.len() >= 2, "{}: paged", what("logs"));
        }
        eprintln!("{w:?}: every panel in {:?}", started.elapsed());
    }

    // Unsplit, the week is longer than max_query_length: the plugin says so.
    let unsplit = instance(&server.url, "0");
    let answer = plugin
        .query(&unsplit, (WEEK.from_ms, WEEK.to_ms), WEEK.interval_ms, &[json!({"refId": "A", "format": "stat"})])
        .await
        .remove("A")
        .unwrap();
    assert_eq!(answer.error_source, "downstream", "{answer:?}");
    for part in ["max_query_length (2d)", "(168h0m0s)", "loki.splitInterval"] {
        assert!(answer.error.contains(part), "{part:?} missing in: {}", answer.error);
    }
}

/// `max_entries_limit_per_query` below the plugin's page and the query
/// timeout, each as the plugin's error that names the limit; the
/// metadata endpoints in Loki's shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_metadata_endpoints_as_loki_answers_them() {
    let records = data::records();
    let plugin = Plugin::start().await;
    let run = |server: &ContractServer, target: Value| {
        let ds = instance(&server.url, "1h");
        let plugin = &plugin;
        async move { plugin.query(&ds, (DAY.from_ms, DAY.to_ms), DAY.interval_ms, &[target]).await.remove("A").unwrap() }
    };
    let entries = Limits { max_entries_limit_per_query: 1000, ..Limits::default() };
    let server = ContractServer::start(raw_store(records), entries).await;
    let logs = run(&server, json!({"refId": "A", "format": "logs", "limit": 3000})).await;
    assert_eq!(logs.error_source, "downstream", "{logs:?}");
    assert!(logs.error.contains("max_entries_limit_per_query (1000)"), "{}", logs.error);
    let timeout = Limits { timeout_over_ms: Some(30 * 60_000), ..Limits::default() };
    let slow = ContractServer::start(raw_store(records), timeout).await;
    let stat = run(&slow, json!({"refId": "A", "format": "stat", "direction": "in"})).await;
    assert_eq!((stat.status, stat.error_source.as_str()), (504, "downstream"), "{stat:?}");
    assert!(stat.error.contains("query timeout") && stat.error.contains("context deadline exceeded"), "{}", stat.error);

    let client = reqwest::Client::new();
    let get = |path: &str, params: Vec<(&str, String)>| {
        let request = client.get(format!("{}{path}", server.url)).query(&params);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (from, to) = ((DAY.from_ms * 1_000_000).to_string(), (DAY.to_ms * 1_000_000).to_string());
    let range = || vec![("start", from.clone()), ("end", to.clone())];
    assert_eq!(get("/ready", vec![]).await, (200, "ready".to_string()));
    let (code, body) = get("/loki/api/v1/labels", range()).await;
    assert_eq!(
        (code, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"status": "success", "data": ["component", "environment", "logtype"]}))
    );
    let (code, body) = get("/loki/api/v1/label/logtype/values", range()).await;
    assert_eq!(
        (code, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"status": "success", "data": ["flow"]}))
    );
    let mut series = range();
    series.push(("match[]", "{logtype=\"flow\"}".into()));
    series.push(("match[]", "{logtype=\"none\"}".into()));
    let (code, body) = get("/loki/api/v1/series", series).await;
    let want = json!({"status": "success", "data": [{"component": "devops", "environment": "ops", "logtype": "flow"}]});
    assert_eq!((code, serde_json::from_str::<Value>(&body).unwrap()), (200, want));
    let (code, body) = get("/loki/api/v1/labels", vec![("start", "1".into()), ("end", "2".into())]).await;
    assert_eq!((code, body.as_str()), (200, r#"{"data":[],"status":"success"}"#), "no stream in range");
    // Instant and range answers in Loki's shapes.
    let q = "sum by (action) (count_over_time({logtype=\"flow\"} [1h] offset 1ns))";
    let (code, body) = get("/loki/api/v1/query", vec![("query", q.into()), ("time", to.clone())]).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((code, &v["status"], &v["data"]["resultType"]), (200, &json!("success"), &json!("vector")), "{body}");
    assert_eq!(v["data"]["result"][0]["value"][0], json!((DAY.to_ms - 1) as f64 / 1000.0), "stamped t - 1 ms: {body}");
    let (code, body) = get("/loki/api/v1/query", vec![("query", "{logtype=\"flow\"}".into())]).await;
    assert!(code == 400 && body.contains("instant query"), "{code} {body}");
    assert_eq!(get("/loki/api/v1/nothing", vec![]).await.0, 404);
    assert_eq!(go_duration_text(168 * HOUR_MS * 1_000_000), "168h0m0s");
    assert_eq!(go_duration_text(90_500_000_000), "1m30.5s");
    assert_eq!(prometheus_duration_text(721 * HOUR_MS), "30d1h");
    assert_eq!(prometheus_duration_text(7 * DAY_MS), "1w");
}
