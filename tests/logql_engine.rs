//! A real LogQL engine: the dialect's requests for every dashboard panel,
//! run on oteldb's LogQL engine (`../shared/tools/oteldb-mem`, not Loki)
//! loaded with the generated fixture the Loki way, merged by
//! `dialect::logql::merge`, equal to the independent reference to the byte,
//! over a 24 h day and an unaligned hour, for raw lines, JSON lines and
//! fields as labels (what structured metadata queries read; oteldb's push
//! takes no structured metadata).
//!
//! The engine is not Loki; where it differs (`../shared/tools/README.md`),
//! the queries follow Loki's documented semantics and are exact on both
//! (e.g. `unwrap` of `-` and `!= ip()` of `-`, see the dialect's docs). In
//! CI the test fails without the engine; elsewhere its message says where
//! to point `OTELDB_MEM`.

mod common;

use std::collections::BTreeMap;

use common::data::{self, field_name, FIELD_MAPPING, NAT_ENI, POD_CIDR};
use common::logql::filter_cases;
use common::loki::{json_lines, labelled_records, logfmt_lines, raw_lines, Engine};
use common::reference::{self as r, Dir, RefQuery};
use flowlens::backends::loki::logql::{merge, Answer, LogQl};
use flowlens::dialect::Target;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::{first_step, follow_up, Answers, Step, StepOutput};
use flowlens::settings::{InstanceSettings, Settings};
use flowlens_devtools::gen::{FlowRecord, Template, MISSION_FORMAT};
use serde_json::{json, Value};

/// Raw mission-format lines, as Lambda Promtail pushes them.
const RAW_STREAM: [(&str, &str); 3] = [("logtype", "flow"), ("environment", "ops"), ("component", "devops")];
/// The same records as JSON lines (fields parsed at ingest).
const JSON_STREAM: [(&str, &str); 2] = [("logtype", "flowjson"), ("environment", "ops")];
/// The same records as logfmt lines.
const LOGFMT_STREAM: [(&str, &str); 2] = [("logtype", "flowlogfmt"), ("environment", "ops")];
/// The same records with their fields as labels (as structured metadata).
const LABELLED_STREAM: [(&str, &str); 1] = [("logtype", "flowsm")];

/// A time window and Grafana's `$__interval` for it.
#[derive(Debug, Clone, Copy)]
struct Window {
    from_ms: i64,
    to_ms: i64,
    interval_ms: i64,
}

const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };
/// One hour that starts and ends inside buckets: both edge buckets partial.
const HOUR: Window = Window {
    from_ms: data::FROM_MS + 13 * 3_600_000 + 433_000,
    to_ms: data::FROM_MS + 14 * 3_600_000 + 433_000,
    interval_ms: 300_000,
};

/// A record mode of the fixture: its datasource settings and how a record's
/// line reads.
struct Mode {
    name: &'static str,
    settings: Settings,
    line: fn(&FlowRecord) -> String,
}

fn loki_settings(url: &str, json_data: Value) -> Settings {
    let json = serde_json::to_vec(&json_data).unwrap();
    Settings::from_instance(&InstanceSettings { url, json_data: &json, ..Default::default() }).unwrap()
}

fn modes(url: &str) -> Vec<Mode> {
    let mapping: serde_json::Map<String, Value> =
        FIELD_MAPPING.iter().map(|(c, f)| (c.to_string(), json!(f))).collect();
    vec![
        Mode {
            name: "raw",
            settings: loki_settings(
                url,
                json!({"backend": "loki", "streamSelector": "{logtype=\"flow\", environment=\"ops\"}",
                    "recordFormat": MISSION_FORMAT, "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI}),
            ),
            line: |r| Template::parse(MISSION_FORMAT).render(r),
        },
        Mode {
            name: "json",
            settings: loki_settings(
                url,
                json!({"backend": "loki", "streamSelector": "{logtype=\"flowjson\"}", "recordMode": "fields",
                    "lokiFields": "json", "fieldMapping": mapping, "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI}),
            ),
            line: |r| json_lines(std::slice::from_ref(r), &field_name)[0].1.clone(),
        },
        Mode {
            name: "logfmt",
            settings: loki_settings(
                url,
                json!({"backend": "loki", "streamSelector": "{logtype=\"flowlogfmt\"}", "recordMode": "fields",
                    "lokiFields": "logfmt", "fieldMapping": mapping, "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI}),
            ),
            line: |r| logfmt_lines(std::slice::from_ref(r), &field_name)[0].1.clone(),
        },
        Mode {
            name: "structured-metadata",
            settings: loki_settings(
                url,
                json!({"backend": "loki", "streamSelector": "{logtype=\"flowsm\"}", "recordMode": "fields",
                    "lokiFields": "structured-metadata", "fieldMapping": mapping, "insideCidrs": [POD_CIDR], "interfaceId": NAT_ENI}),
            ),
            line: |r| Template::parse(MISSION_FORMAT).render(r),
        },
    ]
}

/// Runs a step's requests on the engine (log queries paged as a client
/// would) and merges the answers.
async fn run_step(engine: &Engine, s: &Settings, q: &FlowQuery, step: &Step) -> StepOutput {
    let target = Target { stream: &s.stream, schema: &s.schema };
    let requests = LogQl { split_ms: 0, ..LogQl::of(s).unwrap() }
        .requests(&target, q, step)
        .unwrap_or_else(|e| panic!("{step:?}: {e}"));
    let mut answers = Vec::new();
    for request in requests {
        let mut next = Some(request);
        while let Some(request) = next.take() {
            let answer = engine.run(&request).await;
            let held =
                answers.iter().map(|(_, a): &(_, Answer)| count_entries(a)).sum::<usize>() + count_entries(&answer);
            next = request.next_page(&answer, held);
            answers.push((request, answer));
        }
    }
    merge(q, step, &answers)
}

fn count_entries(a: &Answer) -> usize {
    match a {
        Answer::Streams(streams) => streams.iter().map(|s| s.entries.len()).sum(),
        Answer::Series(_) => 0,
    }
}

/// The plan of a target: its first step, then the follow-ups from its answer.
async fn run_plan(engine: &Engine, s: &Settings, w: Window, target: Value) -> (FlowQuery, Vec<StepOutput>) {
    let req = Request {
        range: TimeRange { from_ms: w.from_ms, to_ms: w.to_ms },
        interval_ms: w.interval_ms,
        max_data_points: 0,
    };
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &req, s).unwrap();
    assert_eq!(q.step_ms, w.interval_ms);
    let first = run_step(engine, s, &q, &first_step(&q)).await;
    let mut outputs = vec![first];
    for step in follow_up(&q, &outputs[0]) {
        outputs.push(run_step(engine, s, &q, &step).await);
    }
    (q, outputs)
}

/// A plan's outputs keyed by the question each step answers, as the frames
/// stage reads them.
fn answers(q: &FlowQuery, outputs: &[StepOutput]) -> Answers {
    let steps = std::iter::once(first_step(q)).chain(follow_up(q, &outputs[0]));
    Answers::of(steps.zip(outputs.iter().cloned())).unwrap()
}

fn reference(w: Window, direction: Dir) -> RefQuery {
    RefQuery::new(direction, POD_CIDR, Some(NAT_ENI), w.from_ms, w.to_ms)
}

/// Every panel of the NAT-gateway dashboard in one mode and window.
async fn dashboard(engine: &Engine, mode: &Mode, w: Window, records: &[FlowRecord]) {
    let s = &mode.settings;
    let what = |panel: &str| format!("{} {panel} {w:?}", mode.name);
    for (direction, dir) in [("any", Dir::Any), ("in", Dir::In), ("out", Dir::Out)] {
        let (_, out) = run_plan(engine, s, w, json!({"format": "stat", "direction": direction})).await;
        let expected = r::total(records, &reference(w, dir));
        assert!(expected > 0, "the fixture has traffic {direction}");
        assert_eq!(out, vec![StepOutput::Total(expected)], "{}", what(&format!("stat {direction}")));
    }
    for (direction, dir) in [("in", Dir::In), ("out", Dir::Out)] {
        let (q, out) = run_plan(engine, s, w, json!({"format": "series", "direction": direction, "rate": true})).await;
        let expected = r::buckets(records, &reference(w, dir), &[], w.interval_ms);
        assert_eq!(out, vec![StepOutput::Buckets(expected.clone())], "{}", what(&format!("rate series {direction}")));
        // The frames stage turns these into one series over every bucket of the range.
        let frames = flowlens::frames::shape(&q, s, answers(&q, &out), "").unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].fields[0].values.len(), flowlens::frames::buckets(&q).len());
    }
    for group_by in [vec!["pkt_srcaddr"], vec!["pkt_dstaddr"], vec!["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"]]
    {
        let target = json!({"format": "table", "direction": "in", "groupBy": group_by, "limit": 10});
        let (_, out) = run_plan(engine, s, w, target).await;
        let expected: Vec<(Vec<String>, u64)> =
            r::groups(records, &reference(w, Dir::In), &group_by).into_iter().take(10).collect();
        assert_eq!(expected.len(), 10, "the fixture has more than 10 groups");
        assert_eq!(out, vec![StepOutput::Ranked(expected)], "{}", what(&format!("top table {group_by:?}")));
    }
    // Top series with other: exactly N, the N largest over the whole range.
    let target = json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "rate": true, "other": true});
    let (q, out) = run_plan(engine, s, w, target).await;
    let reference_in = reference(w, Dir::In);
    let top: Vec<(Vec<String>, u64)> =
        r::groups(records, &reference_in, &["pkt_srcaddr"]).into_iter().take(5).collect();
    let per_key = r::buckets(records, &reference_in, &["pkt_srcaddr"], w.interval_ms);
    let top_buckets: BTreeMap<Vec<String>, BTreeMap<i64, u64>> =
        top.iter().map(|(k, _)| (k.clone(), per_key[k].clone())).collect();
    let totals = r::buckets(records, &reference_in, &[], w.interval_ms);
    assert_eq!(
        out,
        vec![StepOutput::Ranked(top.clone()), StepOutput::Buckets(top_buckets), StepOutput::Buckets(totals)],
        "{}",
        what("top series")
    );
    assert_eq!(
        flowlens::frames::shape(&q, s, answers(&q, &out), "").unwrap().len(),
        6,
        "{}: 5 series and other",
        what("top series")
    );
    // Logs: newest first, the records' own lines, parsed fields as labels.
    let (_, out) = run_plan(engine, s, w, json!({"format": "logs", "limit": 25})).await;
    let [StepOutput::Records(got)] = out.as_slice() else { panic!("{}: {out:?}", what("logs")) };
    let reference_any = reference(w, Dir::Any);
    let matching: Vec<&FlowRecord> = r::matching(records, &reference_any).collect();
    let mut times: Vec<i64> = matching.iter().map(|r| r.time_ms).collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    times.truncate(25);
    assert_eq!(got.iter().map(|r| r.time_ns / 1_000_000).collect::<Vec<_>>(), times, "{}", what("logs"));
    let oldest = *times.last().unwrap();
    let lines: std::collections::HashSet<String> =
        matching.iter().filter(|r| r.time_ms >= oldest).map(|r| (mode.line)(r)).collect();
    for record in got {
        assert!(lines.contains(&record.body), "{}: not a matching record: {}", what("logs"), record.body);
        assert_eq!(record.labels.to_map()["interface_id"], NAT_ENI, "{}", what("logs"));
    }
}

async fn loaded_engine() -> Option<(Engine, &'static [FlowRecord])> {
    let engine = Engine::start().await?;
    let records = data::records();
    engine.push(&RAW_STREAM, raw_lines(records)).await;
    engine.push(&JSON_STREAM, json_lines(records, &field_name)).await;
    engine.push(&LOGFMT_STREAM, logfmt_lines(records, &field_name)).await;
    engine.push_labelled(labelled_records(records, &LABELLED_STREAM, &field_name)).await;
    Some((engine, records))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_panels_equal_the_reference_on_a_real_logql_engine() {
    let Some((engine, records)) = loaded_engine().await else { return };
    for mode in modes(&engine.url) {
        for w in [DAY, HOUR] {
            let started = std::time::Instant::now();
            dashboard(&engine, &mode, w, records).await;
            eprintln!("{} {w:?}: {:?}", mode.name, started.elapsed());
        }
    }
}

/// Filters of every kind, fields without a value, hostile values and logs
/// past one page, on the engine, equal to the reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_paging_equal_the_reference_on_a_real_logql_engine() {
    let Some((engine, records)) = loaded_engine().await else { return };
    // Six hours of the day: every case has traffic in it, and the engine reads a quarter of the records.
    let w =
        Window { from_ms: data::FROM_MS + 9 * 3_600_000, to_ms: data::FROM_MS + 15 * 3_600_000, interval_ms: 300_000 };
    let cases = filter_cases();
    for mode in modes(&engine.url) {
        for metric in ["bytes", "records"] {
            for (filters, ref_filters, dir) in &cases {
                let direction = match dir {
                    Dir::In => "in",
                    Dir::Out => "out",
                    _ => "any",
                };
                let target = json!({"format": "stat", "metric": metric, "direction": direction, "filters": filters});
                let (_, out) = run_plan(&engine, &mode.settings, w, target.clone()).await;
                let mut q = reference(w, *dir);
                q.metric = if metric == "bytes" { r::Metric::Bytes } else { r::Metric::Records };
                q.filters = ref_filters.clone();
                let expected = r::total(records, &q);
                assert_eq!(out, vec![StepOutput::Total(expected)], "{} {target}", mode.name);
                let hostile = filters.to_string().contains("delete");
                q.filters.clear();
                let unfiltered = r::total(records, &q);
                assert!(hostile || (expected > 0 && expected < unfiltered), "{target}: the filter must discriminate");
            }
        }
        // More records than one page (5000): paged backwards, none twice.
        let (_, out) =
            run_plan(&engine, &mode.settings, w, json!({"format": "logs", "limit": 7000, "direction": "all"})).await;
        let [StepOutput::Records(got)] = out.as_slice() else { panic!("{out:?}") };
        let q = reference(w, Dir::All);
        let mut times: Vec<i64> = r::matching(records, &q).map(|r| r.time_ms).collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.truncate(7000);
        assert_eq!(got.len(), 7000, "{}", mode.name);
        assert_eq!(got.iter().map(|r| r.time_ns / 1_000_000).collect::<Vec<_>>(), times, "{} logs paged", mode.name);
    }
}

/// The reference's step outputs of a metric target of the split test
/// (direction `in`): a stat's total; a series' buckets; a table's top N;
/// top series' top N, their buckets, and the totals' buckets.
fn reference_outputs(records: &[FlowRecord], w: Window, target: &Value) -> Vec<StepOutput> {
    let q = reference(w, Dir::In);
    let grouped = target["groupBy"].as_array().is_some_and(|g| !g.is_empty());
    let limit = target["limit"].as_u64().unwrap_or(0) as usize;
    match (target["format"].as_str().unwrap(), grouped) {
        ("stat", _) => vec![StepOutput::Total(r::total(records, &q))],
        ("series", false) => vec![StepOutput::Buckets(r::buckets(records, &q, &[], w.interval_ms))],
        ("table", true) => {
            vec![StepOutput::Ranked(r::groups(records, &q, &["pkt_srcaddr"]).into_iter().take(limit).collect())]
        }
        ("series", true) => {
            let top: Vec<(Vec<String>, u64)> =
                r::groups(records, &q, &["pkt_srcaddr"]).into_iter().take(limit).collect();
            let per_key = r::buckets(records, &q, &["pkt_srcaddr"], w.interval_ms);
            let top_buckets = top.iter().map(|(k, _)| (k.clone(), per_key[k].clone())).collect();
            vec![
                StepOutput::Ranked(top),
                StepOutput::Buckets(top_buckets),
                StepOutput::Buckets(r::buckets(records, &q, &[], w.interval_ms)),
            ]
        }
        (format, _) => panic!("{format}: teach reference_outputs"),
    }
}

/// Long ranges split at the hour (Loki's default `split_queries_by_interval`):
/// every metric step's split requests, run on the engine and merged, equal
/// the unsplit answer and the reference, over an aligned
/// day and a day that starts and ends inside hours and buckets; the number
/// of requests is one per hour touched (series: one range query per hour of
/// whole buckets, plus the edge buckets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_queries_split_at_the_hour_equal_the_unsplit_answers() {
    const HOUR_MS: i64 = 3_600_000;
    let Some((engine, records)) = loaded_engine().await else { return };
    let mode = modes(&engine.url).remove(0);
    let s = &mode.settings;
    let odd = Window { from_ms: data::FROM_MS + 433_000, to_ms: data::TO_MS - 17_000, interval_ms: 300_000 };
    for w in [DAY, odd] {
        let req = Request {
            range: TimeRange { from_ms: w.from_ms, to_ms: w.to_ms },
            interval_ms: w.interval_ms,
            max_data_points: 0,
        };
        let hours = ((w.to_ms - 1).div_euclid(HOUR_MS) - w.from_ms.div_euclid(HOUR_MS) + 1) as usize;
        let targets = [
            json!({"format": "stat", "direction": "in"}),
            json!({"format": "series", "direction": "in", "rate": true}),
            json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 10}),
            json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "rate": true, "other": true}),
        ];
        let mut steps_seen = 0;
        for target in targets {
            let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &req, s).unwrap();
            let tgt = Target { stream: &s.stream, schema: &s.schema };
            let mut outputs: Vec<StepOutput> = Vec::new();
            let mut step = Some(first_step(&q));
            while let Some(this) = step.take() {
                let whole = LogQl { split_ms: 0, ..LogQl::of(s).unwrap() }.requests(&tgt, &q, &this).unwrap();
                let split = LogQl { split_ms: HOUR_MS, ..LogQl::of(s).unwrap() }.requests(&tgt, &q, &this).unwrap();
                let what = format!("{target} {this:?} {w:?}");
                let edges = whole
                    .iter()
                    .filter(|r| matches!(r.covers, flowlens::backends::loki::logql::Covers::Bucket { .. }))
                    .count();
                let whole_hours: usize = whole
                    .iter()
                    .map(|r| match r.covers {
                        flowlens::backends::loki::logql::Covers::Buckets { first_ms, last_ms, .. } => {
                            (last_ms.div_euclid(HOUR_MS) - first_ms.div_euclid(HOUR_MS) + 1) as usize
                        }
                        _ => 0,
                    })
                    .sum();
                let want = match this {
                    Step::Total | Step::Rank { .. } => hours,
                    _ => whole_hours + edges,
                };
                assert_eq!(
                    split.len(),
                    want,
                    "{what}: requests {:#?}",
                    split.iter().map(|r| (&r.params, r.covers)).collect::<Vec<_>>()
                );
                let mut answers = Vec::new();
                for r in &split {
                    answers.push((r.clone(), engine.run(r).await));
                }
                let got = merge(&q, &this, &answers);
                let unsplit = run_step(&engine, s, &q, &this).await;
                assert_eq!(got, unsplit, "{what}: split equals unsplit");
                steps_seen += 1;
                outputs.push(got);
                step = follow_up(&q, &outputs[0]).into_iter().nth(outputs.len() - 1);
            }
            // The split answers against the independent reference, not only
            // against the unsplit ones (both this code's).
            assert_eq!(outputs, reference_outputs(records, w, &target), "{target} {w:?}: split equals the reference");
        }
        assert!(steps_seen >= 5, "{steps_seen}");
    }
}
