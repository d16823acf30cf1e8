//! Loki as deployed: the plugin binary over gRPC against the contract
//! server answering through a model of Loki 3's query frontend
//! (`tests/common/loki_frontend.rs`: split by interval, the sharded merge's
//! exact step matching, results-cache extents, instant queries split by the
//! hour with `max_query_series` per piece), every panel of both shipped
//! dashboards equal to the reference, with sharding and the results cache
//! each on and off, over an hour, a day and a week; records stamped on
//! whole milliseconds (many sharing one) and, with `lokiTimestamps:
//! nanoseconds`, records stamped anywhere inside their millisecond, one in
//! five 1 ns before the next. First, the model reproduces the failure the
//! plugin had before: `offset 1ns` behind the frontend reads nothing.

mod common;

use common::dashboards::{every_cost_panel, every_panel, provisioned_datasource};
use common::data;
use common::harness::{Instance, Plugin};
use common::logql::{render_requests, settings};
use common::logql_model::Store;
use common::loki::{nanosecond_stamps, raw_lines};
use common::loki_contract::{ContractServer, Limits};
use common::loki_frontend::Frontend;
use flowlens::backends::loki::logql::RequestKind;
use flowlens_devtools::gen::FlowRecord;
use serde_json::json;

const HOUR_MS: i64 = 3_600_000;
const DAY: (i64, i64) = (data::FROM_MS, data::TO_MS);
/// An hour that starts and ends inside minutes.
const HOUR: (i64, i64) = (data::FROM_MS + 13 * HOUR_MS + 433_000, data::FROM_MS + 14 * HOUR_MS + 433_000);

fn store(lines: Vec<(i64, String)>) -> Store {
    let mut store = Store::default();
    store.push(&data::RAW_STREAM, lines);
    store.seal();
    store
}

/// The sum of every point of a model answer.
fn sum(series: &common::logql_model::Series) -> f64 {
    series.values().flatten().map(|p| p.1).sum()
}

/// Before the fix the dialect read every window `offset 1ns` at the
/// window's end: Loki stamps those points 1 ms before the step time, so
/// behind the sharded merge a series never matches its step and the answer
/// is empty; behind the results cache each sub-query loses its first point
/// and an instant answer is dropped. The same questions read `offset 1ms`
/// (today's dialect) come back whole through every frontend.
#[test]
fn the_frontend_model_reproduces_the_offset_1ns_failure_and_passes_its_fix() {
    let store = store(raw_lines(data::records()));
    let s = settings("raw");
    let series = render_requests(&s, json!({"format": "series", "direction": "in"}), None);
    let range = series.iter().find(|r| r.kind == RequestKind::Range).expect("a range query");
    let param = |name: &str| range.param(name).unwrap().parse::<i64>().unwrap();
    let step = 300_000_000_000;
    let (start, end) = (param("start"), param("end"));
    assert!(range.query.contains("offset 1ms"), "{}", range.query);
    let old = range.query.replace("offset 1ms", "offset 1ns");
    let direct = sum(&Frontend::NONE.range(&store, &old, start, end, step).unwrap());
    assert!(direct > 1e9, "the day has traffic: {direct}");

    // The old form: nothing through the sharded merge, the first point of
    // every hour lost through the results cache.
    assert_eq!(sum(&Frontend::LOKI3.range(&store, &old, start, end, step).unwrap()), 0.0, "stat 0, as reported");
    let cache_only = Frontend { sharding: false, ..Frontend::LOKI3 };
    let cached = cache_only.range(&store, &old, start, end, step).unwrap();
    let points: usize = cached.values().map(Vec::len).sum();
    let direct_points: usize =
        Frontend::NONE.range(&store, &old, start, end, step).unwrap().values().map(Vec::len).sum();
    assert!(points < direct_points && sum(&cached) < direct, "{points} of {direct_points} points");

    // Today's form: the same numbers through every frontend.
    let no_sharding = Frontend { sharding: false, ..Frontend::LOKI3 };
    let no_cache = Frontend { results_cache: false, ..Frontend::LOKI3 };
    let want = Frontend::NONE.range(&store, &range.query, start, end, step).unwrap();
    assert_eq!(sum(&want), direct, "offset 1ms reads the same records (whole-ms stamps)");
    for frontend in [Frontend::LOKI3, no_sharding, no_cache] {
        assert_eq!(frontend.range(&store, &range.query, start, end, step).unwrap(), want, "{frontend:?}");
    }

    // An instant total: `offset 1ns` at the end is dropped by the instant
    // results cache; `offset 1ms` at 1 ms - 1 ns after the end is kept.
    let total = &render_requests(&s, json!({"format": "stat", "direction": "in"}), None)[0];
    let time = total.param("time").unwrap().parse::<i64>().unwrap();
    assert_eq!(time % 1_000_000, 999_999, "{time}");
    let old_total = total.query.replace("offset 1ms", "offset 1ns");
    let old_direct = Frontend::NONE.instant(&store, &old_total, time - 999_999).unwrap();
    assert!(sum(&old_direct) > 1e9);
    assert!(Frontend::LOKI3.instant(&store, &old_total, time - 999_999).unwrap().is_empty(), "dropped by the cache");
    assert_eq!(
        Frontend::LOKI3.instant(&store, &total.query, time).unwrap().values().flatten().map(|p| p.1).sum::<f64>(),
        sum(&old_direct)
    );
}

/// The provisioned datasource on Loki, pointed at `url` (`uid` keeps each
/// frontend's instance, and its bucket cache, apart).
fn loki_datasource(url: &str, uid: &str) -> Instance {
    let mut ds = provisioned_datasource(url);
    ds.json_data["backend"] = json!("loki");
    ds.json_data["timeoutSeconds"] = json!(600);
    ds.uid = uid.into();
    ds
}

async fn both_dashboards(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], window: (i64, i64)) {
    every_panel(plugin, ds, records, window).await;
    every_cost_panel(plugin, ds, records, window).await;
}

/// Every panel of both dashboards over `windows` of the week's records,
/// behind `frontend`.
async fn every_panel_behind(name: &str, frontend: Frontend, windows: &[(i64, i64)]) {
    let plugin = Plugin::start().await;
    let records = data::week_records();
    let server = ContractServer::behind(store(raw_lines(&records)), Limits::default(), frontend).await;
    let ds = loki_datasource(&server.url, name);
    for &window in windows {
        let started = std::time::Instant::now();
        both_dashboards(&plugin, &ds, &records, window).await;
        eprintln!("{name} {window:?}: every panel in {:?}", started.elapsed());
    }
}

/// Behind a default Loki 3 (split by the hour, sharding, the results
/// cache, instant queries split by the hour): an hour, the day, the week.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_behind_a_default_loki_3_equals_the_reference() {
    every_panel_behind("loki3", Frontend::LOKI3, &[HOUR, DAY, (data::WEEK_FROM_MS, data::TO_MS)]).await;
}

/// Without sharding (the results cache still on): the day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_without_sharding_equals_the_reference() {
    every_panel_behind("no-sharding", Frontend { sharding: false, ..Frontend::LOKI3 }, &[DAY]).await;
}

/// Without the results cache (sharding on): the day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_without_the_results_cache_equals_the_reference() {
    every_panel_behind("no-cache", Frontend { results_cache: false, ..Frontend::LOKI3 }, &[DAY]).await;
}

/// Records on bucket edges (every 7th on a 10-minute boundary, every 11th
/// in the millisecond before one) over an hour, behind a default Loki 3:
/// stamped on whole milliseconds with the default `lokiTimestamps`, and
/// stamped inside their millisecond (1 ns before a boundary, exactly on
/// one, one in five others at a millisecond's last nanosecond) with
/// `lokiTimestamps: nanoseconds`, each bucket its own instant query. Every
/// panel of both dashboards exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_on_bucket_edges_are_exact_at_either_timestamp_precision() {
    let plugin = Plugin::start().await;
    let records = data::on_edges(data::records());
    let edges = records.iter().filter(|r| r.time_ms.rem_euclid(600_000) == 0).count();
    assert!(edges > 1_000, "records on edges: {edges}");
    for (name, lines, precision) in
        [("ms", raw_lines(&records), "milliseconds"), ("ns", nanosecond_stamps(raw_lines(&records)), "nanoseconds")]
    {
        let server = ContractServer::behind(store(lines), Limits::default(), Frontend::LOKI3).await;
        let mut ds = loki_datasource(&server.url, name);
        ds.json_data["lokiTimestamps"] = json!(precision);
        eprintln!("records on edges, {precision}");
        both_dashboards(&plugin, &ds, &records, HOUR).await;
    }
}

/// Records of the last three hours (the health check reads the present),
/// stamped on whole milliseconds.
fn recent_store() -> Store {
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = flowlens_devtools::gen::GenConfig {
        connections: 600,
        from_ms: now - 3 * HOUR_MS,
        to_ms: now - 60_000,
        ..data::config()
    };
    store(raw_lines(&flowlens_devtools::gen::generate(&cfg)))
}

/// A backend whose range and instant answers disagree (the plugin's old
/// `offset 1ns` re-introduced behind the frontend) is caught by Save &
/// test, by `flowlens check`, and by the gate of the bucket cache; a
/// default Loki 3 passes all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_check_catches_a_backend_whose_range_and_instant_answers_disagree() {
    let plugin = Plugin::start().await;
    // Sharded, without the results cache: the instant totals survive the old
    // stamps (the cache would drop them too), the range queries do not.
    let broken = Frontend { old_offset: true, results_cache: false, ..Frontend::LOKI3 };
    for (name, frontend) in [("loki3", Frontend::LOKI3), ("broken", broken)] {
        let server = ContractServer::behind(recent_store(), Limits::default(), frontend).await;
        let mut ds = data::raw_instance(&server.url, name);
        ds.json_data["backend"] = json!("loki");
        let (ok, message) = plugin.check_health(&ds).await;
        if frontend.old_offset {
            assert!(!ok, "{message}");
            assert!(
                message.contains("DIFFERS: records")
                    && message.contains("the buckets add up to 0 but ")
                    && message.contains("query frontend dropped the range query's points")
                    && message.contains("flowlens check"),
                "{message}"
            );
        } else {
            assert!(ok && message.contains("Self-check: the last settled hour's "), "{message}");
        }

        // `flowlens check` over the last whole hour.
        let settings = ds.json_data.to_string();
        let (success, stdout, stderr) = common::harness::flowlens_cli(&[
            "check",
            "--url",
            &server.url,
            "--settings",
            &settings,
            "--at",
            "now",
            "--hours",
            "2",
        ]);
        let lines = stdout.lines().filter(|l| l.starts_with("ok: ") || l.starts_with("DIFFERS: ")).count();
        assert_eq!(lines, 8, "a verdict per question, twice: {stdout}\n{stderr}");
        if frontend.old_offset {
            assert!(!success, "{stdout}");
            assert!(
                stdout.contains("DIFFERS: records, ") && stderr.contains("Likely cause: Loki's query frontend"),
                "{stdout}\n{stderr}"
            );
        } else {
            assert!(success, "{stdout}\n{stderr}");
            assert!(stdout.contains("verdict: Loki answers every question the same two ways"), "{stdout}");
        }

        // A stat over the last three hours, with the bucket cache: kept only
        // from the backend that passed, said so on the frames of the other.
        let now = chrono::Utc::now().timestamp_millis();
        let answer = plugin
            .query(
                &ds,
                (now - 3 * HOUR_MS, now),
                60_000,
                &[json!({"refId": "A", "format": "stat", "direction": "any"})],
            )
            .await;
        let notices = answer["A"].frames[0].meta["notices"].to_string();
        assert_eq!(
            notices.contains("failed flowlens' self-check, so none of its answers are cached"),
            frontend.old_offset,
            "{notices}"
        );
    }
}

/// Records stamped inside their millisecond, read with the default
/// `lokiTimestamps`: Save & test says to set it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_test_names_the_setting_for_nanosecond_timestamps() {
    let plugin = Plugin::start().await;
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = flowlens_devtools::gen::GenConfig {
        connections: 300,
        from_ms: now - HOUR_MS,
        to_ms: now - 60_000,
        ..data::config()
    };
    let store = store(nanosecond_stamps(raw_lines(&flowlens_devtools::gen::generate(&cfg))));
    let server = ContractServer::behind(store, Limits::default(), Frontend::LOKI3).await;
    let mut ds = data::raw_instance(&server.url, "ns-health");
    ds.json_data["backend"] = json!("loki");
    let (ok, message) = plugin.check_health(&ds).await;
    assert!(
        !ok && message.contains("stamped inside a millisecond")
            && message.contains("set Timestamps (loki.timestamps) to \"nanoseconds\""),
        "{message}"
    );
    ds.json_data["lokiTimestamps"] = json!("nanoseconds");
    let (ok, message) = plugin.check_health(&ds).await;
    assert!(ok, "{message}");
}

/// Log paging when many lines share one timestamp (whole-second stamps):
/// 3,000 lines in one nanosecond are each read once, no line lost; 6,000
/// (more than Loki's 5,000-line page) give the first page of them, every
/// other line once, and a notice, and the paging ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_page_past_lines_that_share_a_timestamp() {
    use common::reference::{self as r, Dir, RefQuery};
    let plugin = Plugin::start().await;
    // From 06:00, as many whole hours as hold more than 7,000 matching lines.
    let from = data::FROM_MS + 6 * HOUR_MS;
    let matching_in = |to: i64| {
        let reference = RefQuery::new(Dir::Any, data::POD_CIDR, Some(data::NAT_ENI), from, to);
        r::matching(data::records(), &reference).count()
    };
    let to = (1..=18).map(|h| from + h * HOUR_MS).find(|&to| matching_in(to) > 7_000).expect("a busy enough day");
    let records: Vec<FlowRecord> =
        data::records().iter().filter(|r| (from..to).contains(&r.time_ms)).cloned().collect();
    let reference = RefQuery::new(Dir::Any, data::POD_CIDR, Some(data::NAT_ENI), from, to);
    let matching: std::collections::HashSet<String> =
        r::matching(&records, &reference).map(|r| r.render(flowlens_devtools::gen::MISSION_FORMAT)).collect();
    for crowd in [3_000, 6_000] {
        // `crowd` matching lines from the middle restamped to one nanosecond.
        let mut lines = raw_lines(&records);
        let crowded: Vec<usize> =
            (0..lines.len()).filter(|&i| matching.contains(&lines[i].1)).skip(1_000).take(crowd).collect();
        let at = lines[crowded[0]].0;
        for &i in &crowded {
            lines[i].0 = at;
        }
        // What Loki holds: a line repeated in one nanosecond is one entry.
        lines.sort();
        lines.dedup();
        let held: std::collections::BTreeSet<(i64, &String)> =
            lines.iter().filter(|l| matching.contains(&l.1)).map(|l| (l.0, &l.1)).collect();
        let in_crowd = held.iter().filter(|(t, _)| *t == at).count();
        let mut want: Vec<String> = held.into_iter().map(|(_, l)| l.clone()).collect();
        want.sort();
        assert!(want.len() <= 10_000, "at most a logs panel's limit: {}", want.len());
        let server = ContractServer::behind(store(lines), Limits::default(), Frontend::LOKI3).await;
        let ds = loki_datasource(&server.url, &format!("crowd-{crowd}"));
        let target = json!({"refId": "L", "format": "logs", "limit": 10_000});
        let answer = plugin.query(&ds, (from, to), 60_000, &[target]).await;
        let frame = &answer["L"].frames[0];
        let mut got: Vec<String> = frame.field("body").values.iter().map(|v| v.as_str().unwrap().to_string()).collect();
        got.sort();
        let notices = frame.meta["notices"].to_string();
        if crowd <= 5_000 {
            assert_eq!(got.len(), want.len(), "every line once");
            assert!(got == want, "every line once");
            assert!(!notices.contains("share the timestamp"), "{notices}");
        } else {
            // Each line at most as often as Loki holds it (identical lines at other times are other entries).
            let mut left: std::collections::BTreeMap<&String, usize> = std::collections::BTreeMap::new();
            for l in &want {
                *left.entry(l).or_default() += 1;
            }
            for l in &got {
                let n = left.get_mut(l).unwrap_or_else(|| panic!("not a matching line: {l}"));
                assert!(*n > 0, "a line more often than Loki holds it: {l}");
                *n -= 1;
            }
            assert_eq!(got.len(), want.len() - (in_crowd - 5_000), "all but the crowd's lines past one page");
            assert!(notices.contains(&format!("share the timestamp {at} ns")), "{notices}");
        }
    }
}

/// Distinct counts (the fan-out table, a stat, a series) where each hourly
/// piece of Loki's split instant queries holds more (source, port) pairs
/// than `max_query_series`: asked in parts of the counted field, exact,
/// said so; the records of the parts add up to the whole's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_counts_past_the_series_limit_of_each_hourly_piece_are_exact() {
    use common::panels::{reference_for, Checker, Window};
    use common::reference as r;
    let plugin = Plugin::start().await;
    let records = data::records();
    let ds = loki_datasource("http://127.0.0.1:1", "probe");
    let fan_out = json!({"refId": "A", "format": "table", "metric": "distinct", "direction": "all",
        "groupBy": ["srcaddr"], "limit": 10, "distinctField": "dstport"});
    // The most (source, port) pairs an hour of the day holds.
    let pairs = (0..24)
        .map(|h| {
            let w = Window { from_ms: DAY.0 + h * HOUR_MS, to_ms: DAY.0 + (h + 1) * HOUR_MS, interval_ms: 60_000 };
            let q = reference_for(&fan_out, &ds, &w);
            r::distinct(records, &q, &["srcaddr"], "dstport").iter().map(|(_, n)| *n).sum::<u64>()
        })
        .max()
        .unwrap();
    let limit = (pairs / 4) as usize;
    assert!(limit >= 10, "the day has pairs to split: {pairs}");
    let frontend = Frontend { max_query_series: Some(limit), ..Frontend::LOKI3 };
    let server = ContractServer::behind(store(raw_lines(records)), Limits::default(), frontend).await;
    let ds = loki_datasource(&server.url, "series-limit");
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 3_600_000 };
    let check = Checker { plugin: &plugin, ds: &ds, records, w };
    let stat =
        json!({"refId": "A", "format": "stat", "metric": "distinct", "direction": "all", "distinctField": "dstport"});
    let series =
        json!({"refId": "A", "format": "series", "metric": "distinct", "direction": "all", "distinctField": "dstport"});
    for target in [&fan_out, &stat, &series] {
        let rows = check.check_target(target, &reference_for(target, &ds, &w)).await;
        assert!(!rows.is_empty(), "{target}");
    }
    let frames = check.frames(&fan_out).await;
    let notices = frames[0].meta["notices"].to_string();
    assert!(
        notices.contains("Counted by `dstport` in ") && notices.contains(&format!("max_query_series ({limit})")),
        "{notices}"
    );
    let refused = server.seen().iter().filter(|s| s.status == 400).count();
    assert!(refused > 0, "each hour's whole count was refused first");
}

/// Fields parsed at ingest (structured metadata, JSON lines, logfmt lines)
/// through a default Loki 3's frontend: every panel of the NAT dashboard
/// over the day, exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_parsed_at_ingest_through_the_query_frontend_equal_the_reference() {
    use common::loki::{json_lines, labelled_records, logfmt_lines};
    let plugin = Plugin::start().await;
    let records = data::records();
    let mut store = Store::default();
    store.push_with_metadata(
        &[("logtype", "flowsm")],
        labelled_records(records, &[("logtype", "flowsm")], &data::field_name),
    );
    store.push(&[("logtype", "flowjson")], json_lines(records, &data::field_name));
    store.push(&[("logtype", "flowlogfmt")], logfmt_lines(records, &data::field_name));
    store.seal();
    let server = ContractServer::behind(store, Limits::default(), Frontend::LOKI3).await;
    for (logtype, loki_fields) in [("flowsm", "structured-metadata"), ("flowjson", "json"), ("flowlogfmt", "logfmt")] {
        let mut ds = loki_datasource(&server.url, loki_fields);
        let mapping: serde_json::Map<String, serde_json::Value> =
            data::FIELD_MAPPING.iter().map(|(c, f)| (c.to_string(), json!(f))).collect();
        let json_data = ds.json_data.as_object_mut().unwrap();
        json_data.insert("streamSelector".into(), json!(format!("{{logtype=\"{logtype}\"}}")));
        json_data.insert("recordMode".into(), json!("fields"));
        json_data.insert("lokiFields".into(), json!(loki_fields));
        json_data.insert("fieldMapping".into(), json!(mapping));
        every_panel(&plugin, &ds, records, DAY).await;
    }
}

/// A ranking's series for many keys (an `or` of a hundred conjunctions)
/// is sent as a POST form, past gateways' URL limits; shorter queries stay
/// GETs, as Grafana's Loki datasource sends them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_queries_are_sent_as_post_forms() {
    use common::panels::{reference_for, Checker, Window};
    let plugin = Plugin::start().await;
    let records = data::records();
    let server = ContractServer::behind(store(raw_lines(records)), Limits::default(), Frontend::LOKI3).await;
    let ds = loki_datasource(&server.url, "post");
    let w = Window { from_ms: HOUR.0, to_ms: HOUR.1, interval_ms: 300_000 };
    let check = Checker { plugin: &plugin, ds: &ds, records, w };
    let target = json!({"refId": "A", "format": "table", "direction": "in", "limit": 100,
        "groupBy": ["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"]});
    check.check_target(&target, &reference_for(&target, &ds, &w)).await;
    server.clear();
    check.top_series(100).await;
    let seen = server.seen();
    let long = |s: &common::loki_contract::Seen| {
        let form = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&s.params).finish();
        form.len() > flowlens::backends::loki::client::MAX_GET_QUERY
    };
    assert!(seen.iter().any(|s| s.method == "POST" && long(s)), "a long query POSTed");
    assert!(seen.iter().filter(|s| s.method == "GET").all(|s| !long(s)), "no long GET");
    assert!(seen.iter().any(|s| s.method == "GET"), "short queries stay GETs");
}

/// Streams that carry labels named like record fields (a CloudWatch-style
/// `interface_id` holding the log stream's name, a `pkt_srcaddr`): Loki
/// stores a parser's capture of such a name as `<name>_extracted`
/// (`pkg/logql/log/parser.go`), so a filter on the plain name reads the
/// stream label and matches nothing. The dialect's extracted labels are
/// `flow_<field>`: every panel exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_labels_named_like_fields_do_not_shadow_them() {
    let plugin = Plugin::start().await;
    let records = data::records();
    let mut labels = data::RAW_STREAM.to_vec();
    labels.extend([("interface_id", "vpc-flow-logs/eni-stream"), ("pkt_srcaddr", "cloudwatch")]);
    let mut store = Store::default();
    store.push(&labels, raw_lines(records));
    store.seal();
    // The old names (no prefix) read the stream label: nothing matches.
    let s = settings("raw");
    let total = &render_requests(&s, json!({"format": "stat", "direction": "in"}), None)[0];
    let time = total.param("time").unwrap().parse::<i64>().unwrap();
    let now = sum(&Frontend::NONE.instant(&store, &total.query, time).unwrap());
    let old = sum(&Frontend::NONE.instant(&store, &total.query.replace("flow_", ""), time).unwrap());
    assert!(now > 1e9 && old == 0.0, "today {now}, unprefixed {old}");
    let server = ContractServer::behind(store, Limits::default(), Frontend::LOKI3).await;
    let ds = loki_datasource(&server.url, "shadowed");
    both_dashboards(&plugin, &ds, records, DAY).await;
}
