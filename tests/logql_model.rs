//! A model of Loki's documented query semantics (`tests/common/logql_model.rs`,
//! parsing the emitted LogQL itself with `logql_syntax.rs`): every dashboard
//! panel and filter kind, in raw mode and the three `lokiFields` modes, over
//! an aligned day and an unaligned hour, whole and split at the hour: the
//! dialect's requests (follow-up steps and log pages included) answered by
//! the model and merged by `dialect::logql::merge` equal the independent
//! reference exactly. Unit tests pin each rule of the model (windows,
//! offset, stamps, pattern, absent labels, `ip()`, `unwrap`, errors), and
//! one test shows the model answers the dialect's requests exactly as
//! oteldb's LogQL engine does (in CI the engine must be there).

mod common;

use std::collections::BTreeMap;

use common::data::{self, NAT_ENI, POD_CIDR};
use common::logql::{self as cases, MODES};
use common::logql_model::{answer_json, pattern_captures, Labels, Refusal, Request, Store};
use common::logql_syntax::{parse, PatternPart, Query};
use common::loki::{json_lines, labelled_records, logfmt_lines, raw_lines, Engine};
use common::reference::{self as r, Dir, RefFilter, RefQuery};
use flowlens::backends::loki::logql::{merge, Answer, LogQl, LokiRequest};
use flowlens::dialect::Target;
use flowlens::model::{FlowQuery, Request as PanelRequest, TimeRange};
use flowlens::plan::{first_step, follow_up, Step, StepOutput};
use flowlens::settings::Settings;
use flowlens_devtools::gen::FlowRecord;
use serde_json::{json, Value};

/// The stream every mode's records are in (the selector of `common::logql`).
const STREAM: [(&str, &str); 3] = [("logtype", "flow"), ("environment", "ops"), ("component", "devops")];

/// The field names of `common::logql::settings(mode)`'s mapping.
fn field_name(mode: &str, canonical: &str) -> String {
    match (mode, canonical) {
        (_, "pkt_srcaddr") => "pkt_src_addr".into(),
        (_, "pkt_dstaddr") => "pkt_dst_addr".into(),
        ("json", "interface_id") => "interface id".into(),
        (_, "interface_id") => "eni_id".into(),
        (_, f) => f.into(),
    }
}

/// The fixture stored as a mode holds it.
fn store(mode: &'static str, records: &[FlowRecord]) -> Store {
    let name = move |f: &str| field_name(mode, f);
    let mut store = Store::default();
    match mode {
        "raw" => store.push(&STREAM, raw_lines(records)),
        "json" => store.push(&STREAM, json_lines(records, &name)),
        "logfmt" => store.push(&STREAM, logfmt_lines(records, &name)),
        _ => store.push_with_metadata(&STREAM, labelled_records(records, &STREAM, &name)),
    }
    store.seal();
    store
}

/// A time window and Grafana's `$__interval` for it.
#[derive(Debug, Clone, Copy)]
struct Window {
    from_ms: i64,
    to_ms: i64,
    interval_ms: i64,
}

const DAY: Window = Window { from_ms: data::FROM_MS, to_ms: data::TO_MS, interval_ms: 300_000 };
/// Starts and ends inside buckets and inside hours.
const HOUR: Window = Window {
    from_ms: data::FROM_MS + 13 * 3_600_000 + 433_000,
    to_ms: data::FROM_MS + 14 * 3_600_000 + 433_000,
    interval_ms: 300_000,
};

/// Answers requests: the model, or the engine.
trait Answerer {
    async fn answer(&self, request: &LokiRequest) -> Answer;
}

impl Answerer for Store {
    async fn answer(&self, request: &LokiRequest) -> Answer {
        self.answer_request(request).unwrap_or_else(|e| panic!("{}: {e:?}", request.query))
    }
}

impl Answerer for Engine {
    async fn answer(&self, request: &LokiRequest) -> Answer {
        self.run(request).await
    }
}

/// A step's requests answered (log queries paged as the client pages them),
/// with the answers merged.
async fn run_step(
    by: &impl Answerer,
    dialect: LogQl,
    s: &Settings,
    q: &FlowQuery,
    step: &Step,
) -> (StepOutput, Vec<(LokiRequest, Answer)>) {
    let target = Target { stream: &s.stream, schema: &s.schema };
    let requests = dialect.requests(&target, q, step).unwrap_or_else(|e| panic!("{step:?}: {e}"));
    let mut answers: Vec<(LokiRequest, Answer)> = Vec::new();
    for request in requests {
        let mut held = 0;
        let mut next = Some(request);
        while let Some(request) = next.take() {
            let answer = by.answer(&request).await;
            if let Answer::Streams(streams) = &answer {
                held += streams.iter().map(|s| s.entries.len()).sum::<usize>();
            }
            next = request.next_page(&answer, held);
            answers.push((request, answer));
        }
    }
    (merge(q, step, &answers), answers)
}

/// A target's plan: its first step, then the follow-ups from its answer.
async fn run_plan(by: &impl Answerer, dialect: LogQl, s: &Settings, w: Window, target: &Value) -> Vec<StepOutput> {
    let req = PanelRequest {
        range: TimeRange { from_ms: w.from_ms, to_ms: w.to_ms },
        interval_ms: w.interval_ms,
        max_data_points: 0,
    };
    let q = FlowQuery::parse(&serde_json::to_vec(target).unwrap(), &req, s).unwrap();
    let mut outputs = vec![run_step(by, dialect, s, &q, &first_step(&q)).await.0];
    for step in follow_up(&q, &outputs[0]) {
        outputs.push(run_step(by, dialect, s, &q, &step).await.0);
    }
    outputs
}

fn reference(w: Window, direction: Dir) -> RefQuery {
    RefQuery::new(direction, POD_CIDR, Some(NAT_ENI), w.from_ms, w.to_ms)
}

/// Every dashboard panel in one mode, window and split, equal to the reference.
async fn dashboard(store: &Store, dialect: LogQl, s: &Settings, w: Window, records: &[FlowRecord], what: &str) {
    let what = |panel: &str| format!("{what} {panel} {w:?} split {}", dialect.split_ms);
    for (direction, dir) in [("any", Dir::Any), ("in", Dir::In), ("out", Dir::Out)] {
        let out = run_plan(store, dialect, s, w, &json!({"format": "stat", "direction": direction})).await;
        let expected = r::total(records, &reference(w, dir));
        assert!(expected > 0, "{}", what("traffic"));
        assert_eq!(out, vec![StepOutput::Total(expected)], "{}", what(&format!("stat {direction}")));
    }
    for (direction, dir) in [("in", Dir::In), ("out", Dir::Out)] {
        let target = json!({"format": "series", "direction": direction, "rate": true});
        let out = run_plan(store, dialect, s, w, &target).await;
        let expected = r::buckets(records, &reference(w, dir), &[], w.interval_ms);
        assert_eq!(out, vec![StepOutput::Buckets(expected)], "{}", what(&format!("rate series {direction}")));
    }
    for group_by in [vec!["pkt_srcaddr"], vec!["pkt_dstaddr"], vec!["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"]]
    {
        let target = json!({"format": "table", "direction": "in", "groupBy": group_by, "limit": 10});
        let out = run_plan(store, dialect, s, w, &target).await;
        let expected: Vec<_> = r::groups(records, &reference(w, Dir::In), &group_by).into_iter().take(10).collect();
        assert_eq!(expected.len(), 10, "{}", what("more than 10 groups"));
        assert_eq!(out, vec![StepOutput::Ranked(expected)], "{}", what(&format!("top table {group_by:?}")));
    }
    let target = json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "rate": true, "other": true});
    let out = run_plan(store, dialect, s, w, &target).await;
    let reference_in = reference(w, Dir::In);
    let top: Vec<_> = r::groups(records, &reference_in, &["pkt_srcaddr"]).into_iter().take(5).collect();
    let per_key = r::buckets(records, &reference_in, &["pkt_srcaddr"], w.interval_ms);
    let top_buckets: BTreeMap<_, _> = top.iter().map(|(k, _)| (k.clone(), per_key[k].clone())).collect();
    let totals = r::buckets(records, &reference_in, &[], w.interval_ms);
    let want = vec![StepOutput::Ranked(top), StepOutput::Buckets(top_buckets), StepOutput::Buckets(totals)];
    assert_eq!(out, want, "{}", what("top series"));
    // Logs past one page: newest first, none twice, the records' own times.
    for limit in [25, 7000] {
        let out = run_plan(store, dialect, s, w, &json!({"format": "logs", "limit": limit, "direction": "all"})).await;
        let [StepOutput::Records(got)] = out.as_slice() else { panic!("{}: {out:?}", what("logs")) };
        let mut times: Vec<i64> = r::matching(records, &reference(w, Dir::All)).map(|r| r.time_ms).collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.truncate(limit);
        let got: Vec<i64> = got.iter().map(|r| r.time_ns / 1_000_000).collect();
        assert_eq!(got, times, "{}", what(&format!("logs {limit}")));
    }
}

#[test]
fn dashboard_panels_on_the_model_equal_the_reference() {
    let records = data::records();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for mode in MODES {
        let started = std::time::Instant::now();
        let store = store(mode, records);
        let s = cases::settings(mode);
        for (split_ms, w) in [(0, DAY), (0, HOUR), (3_600_000, HOUR)] {
            let dialect = LogQl { split_ms, ..LogQl::of(&s).unwrap() };
            runtime.block_on(dashboard(&store, dialect, &s, w, records, mode));
        }
        if mode == "raw" {
            let dialect = LogQl { split_ms: 3_600_000, ..LogQl::of(&s).unwrap() };
            runtime.block_on(dashboard(&store, dialect, &s, DAY, records, mode));
        }
        eprintln!("{mode}: {:?}", started.elapsed());
    }
}

/// Filters of every kind (and the filter cases of `logql_engine.rs`) on the
/// model, in every mode, equal to the reference.
#[test]
fn filters_on_the_model_equal_the_reference() {
    let records = data::records();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let w =
        Window { from_ms: data::FROM_MS + 9 * 3_600_000, to_ms: data::FROM_MS + 15 * 3_600_000, interval_ms: 300_000 };
    let mut filter_cases = cases::filter_cases();
    filter_cases.extend([
        (
            json!([{"field": "srcaddr", "op": "cidr", "value": "10.0.0.0/16"}, {"field": "dstport", "op": ">=", "value": "1024"}]),
            vec![RefFilter::cidr("srcaddr", "10.0.0.0/16"), RefFilter::range("dstport", 1024, u64::MAX)],
            Dir::Any,
        ),
        (
            json!([{"field": "inside_addr", "op": "=~", "value": "10\\.0\\.3[2-3]\\..*"}, {"field": "outside_addr", "op": "cidr", "value": "52.0.0.0/8"}]),
            vec![RefFilter::regex("inside_addr", "10\\.0\\.3[2-3]\\..*"), RefFilter::cidr("outside_addr", "52.0.0.0/8")],
            Dir::Any,
        ),
    ]);
    for mode in MODES {
        let store = store(mode, records);
        let s = cases::settings(mode);
        let dialect = LogQl { split_ms: 0, ..LogQl::of(&s).unwrap() };
        for metric in ["bytes", "records", "packets"] {
            for (filters, ref_filters, dir) in &filter_cases {
                let direction = match dir {
                    Dir::In => "in",
                    Dir::Out => "out",
                    _ => "any",
                };
                let target = json!({"format": "stat", "metric": metric, "direction": direction, "filters": filters});
                let out = runtime.block_on(run_plan(&store, dialect, &s, w, &target));
                let mut q = reference(w, *dir);
                q.metric = match metric {
                    "bytes" => r::Metric::Bytes,
                    "packets" => r::Metric::Packets,
                    _ => r::Metric::Records,
                };
                q.filters = ref_filters.clone();
                let expected = r::total(records, &q);
                assert_eq!(out, vec![StepOutput::Total(expected)], "{mode} {target}");
                let hostile = filters.to_string().contains("delete");
                q.filters.clear();
                assert!(hostile || (expected > 0 && expected < r::total(records, &q)), "{target}: discriminates");
            }
        }
    }
}

/// The model answers the dialect's requests for every panel over the day
/// exactly as oteldb's LogQL engine does (raw lines; answers compared after
/// merging, since the engine stamps points and orders series its own way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_agrees_with_a_real_logql_engine() {
    let Some(engine) = Engine::start().await else { return };
    let records = data::records();
    engine.push(&STREAM, raw_lines(records)).await;
    let model = store("raw", records);
    let s = cases::settings("raw");
    let dialect = LogQl { split_ms: 3_600_000, ..LogQl::of(&s).unwrap() };
    let targets = [
        json!({"format": "stat", "direction": "any"}),
        json!({"format": "series", "direction": "out", "rate": true}),
        json!({"format": "table", "direction": "in", "groupBy": ["pkt_srcaddr", "srcport", "pkt_dstaddr", "dstport"], "limit": 10}),
        json!({"format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": 5, "rate": true, "other": true}),
        json!({"format": "stat", "metric": "packets", "direction": "all", "filters": [
            {"field": "dstaddr", "op": "!cidr", "value": "10.0.32.0/20"}, {"field": "srcport", "op": "range", "value": "1024-65535"}]}),
        json!({"format": "logs", "limit": 6000, "direction": "in"}),
    ];
    for target in targets {
        for w in [DAY, HOUR] {
            let from_model = run_plan(&model, dialect, &s, w, &target).await;
            let from_engine = run_plan(&engine, dialect, &s, w, &target).await;
            assert_eq!(from_model, from_engine, "{target} {w:?}");
        }
    }
}

// ---- the model's rules, one by one ----

fn one_stream(entries: &[(i64, &str)]) -> Store {
    let mut store = Store::default();
    store.push(&[("job", "x")], entries.iter().map(|(t, l)| (*t, l.to_string())).collect());
    store.seal();
    store
}

fn instant(store: &Store, query: &str, time_ns: i64) -> Result<Vec<(Labels, f64)>, Refusal> {
    let answer = store.answer(&Request::Instant { query: query.into(), time_ns })?;
    let Answer::Series(series) = answer else { panic!("{query}: not a vector") };
    Ok(series.into_iter().map(|s| (s.labels, s.points[0].1)).collect())
}

fn total(store: &Store, query: &str, time_ns: i64) -> f64 {
    instant(store, query, time_ns).unwrap().iter().map(|(_, v)| v).sum()
}

/// Windows are `(t - R, t]`; `offset` moves them back; points are stamped
/// `(t - offset) / 1e6 + offset / 1e6` ms.
#[test]
fn windows_exclude_their_start_and_include_their_end() {
    let store = one_stream(&[(1_000_000_000, "a"), (2_000_000_000, "b"), (2_000_000_001, "c")]);
    assert_eq!(total(&store, r#"sum(count_over_time({job="x"} [1s]))"#, 2_000_000_000), 1.0, "t - R is out, t is in");
    assert_eq!(total(&store, r#"sum(count_over_time({job="x"} [1s]))"#, 2_000_000_001), 2.0);
    assert_eq!(total(&store, r#"sum(count_over_time({job="x"} [1s] offset 1ns))"#, 2_000_000_001), 1.0, "offset");
    assert_eq!(total(&store, r#"sum(count_over_time({job="x"} [1s] offset 1ns))"#, 1_000_000_001), 1.0);
    let answer = store
        .answer(&Request::Range {
            query: r#"sum(count_over_time({job="x"} [1s] offset 1ns))"#.into(),
            start_ns: 1_000_000_001,
            end_ns: 3_500_000_000,
            step_ns: 1_000_000_000,
        })
        .unwrap();
    let Answer::Series(series) = answer else { panic!() };
    // Evaluated at 1.000000001 s, 2.000000001 s, 3.000000001 s (≤ end); stamped t - 1 ns, in ms.
    assert_eq!(series[0].points, vec![(1_000, 1.0), (2_000, 1.0), (3_000, 1.0)]);
    let json = answer_json(&Answer::Series(series), false);
    assert_eq!(json["data"]["resultType"], "matrix");
    assert_eq!(json["data"]["result"][0]["values"][0], json!([1.0, "1"]));
}

/// Log queries read `[start, end)`, newest first, at most `limit`.
#[test]
fn log_queries_read_start_to_end_exclusive_newest_first() {
    let store = one_stream(&[(10, "a"), (20, "b"), (30, "c"), (40, "d")]);
    let logs = |start_ns, end_ns, limit, backward| {
        let request = Request::Logs { query: r#"{job="x"}"#.into(), start_ns, end_ns, limit, backward };
        let Answer::Streams(streams) = store.answer(&request).unwrap() else { panic!() };
        streams.into_iter().flat_map(|s| s.entries).map(|(_, l)| l).collect::<Vec<_>>()
    };
    assert_eq!(logs(10, 40, 100, true), ["c", "b", "a"]);
    assert_eq!(logs(10, 41, 2, true), ["d", "c"]);
    assert_eq!(logs(10, 41, 2, false), ["a", "b"]);
}

/// A pattern's captures: `<_>` skips; a trailing capture takes the rest of
/// the line, a trailing `<_>` leaves it; a missing literal ends the match.
#[test]
fn pattern_captures_follow_loki() {
    let Query::Log(log) = parse(r#"{job="x"} | pattern "<_> <b> <_>""#).unwrap() else { panic!() };
    let common::logql_syntax::Stage::Pattern(parts) = &log.stages[0] else { panic!() };
    assert_eq!(pattern_captures(parts, "1 2 3 4"), [("b", "2")]);
    let rest = [PatternPart::Capture(None), PatternPart::Literal(" ".into()), PatternPart::Capture(Some("b".into()))];
    assert_eq!(pattern_captures(&rest, "1 2 3 4"), [("b", "2 3 4")]);
    assert!(pattern_captures(&rest, "1").is_empty(), "the literal is not found: `<_>` took the line");
    let store = one_stream(&[(1, "eni-1 100"), (2, "eni-2 -"), (3, "eni-1 x")]);
    let q = r#"sum by (i) (sum_over_time({job="x"} [1s] | pattern "<i> <b>" | unwrap b | __error__=""))"#;
    // unwrap of "-" and "x" sets __error__, and `__error__=""` drops them.
    assert_eq!(instant(&store, q, 10).unwrap(), vec![(Labels::from([("i".into(), "eni-1".into())]), 100.0)]);
    let unfiltered = r#"sum(sum_over_time({job="x"} [1s] | pattern "<i> <b>" | unwrap b))"#;
    let e = instant(&store, unfiltered, 10).unwrap_err();
    assert!(e.status == 400 && e.message.contains("SampleExtractionErr"), "{e:?}");
}

/// Label filters: an absent label reads "" in string filters (not "-");
/// numeric filters on no number set `__error__` and pass; `ip()` is false
/// for an absent label either way and `!= ip()` is true for a value that is
/// no address.
#[test]
fn label_filters_on_absent_values_and_non_addresses() {
    let mut store = Store::default();
    let entry = |ns: i64, meta: &[(&str, &str)]| {
        let labels: Labels = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        (labels, ns, format!("line {ns}"))
    };
    let entries = vec![entry(1, &[("a", "10.0.0.1"), ("n", "5")]), entry(2, &[("a", "-"), ("n", "-")]), entry(3, &[])];
    store.push_with_metadata(&[("job", "x")], entries);
    store.seal();
    let count = |filters: &str| total(&store, &format!(r#"sum(count_over_time({{job="x"}} [1s] {filters}))"#), 10);
    assert_eq!(count(r#"| a="""#), 1.0, "absent is \"\"");
    assert_eq!(count(r#"| a="-""#), 1.0, "\"-\" is a value");
    assert_eq!(count(r#"| a!="""#), 2.0);
    assert_eq!(count(r#"| a=~"^$|-""#), 2.0, "regexes are anchored");
    assert_eq!(count(r#"| a=ip("10.0.0.0/8")"#), 1.0);
    assert_eq!(count(r#"| a!=ip("10.0.0.0/8")"#), 1.0, "\"-\" is no address: != ip() is true; absent: false");
    assert_eq!(count(r#"| a=ip("10.0.0.1-10.0.0.9")"#), 1.0, "a range");
    assert_eq!(count(r#"| n>=5 | __error__="""#), 1.0, "absent is false, \"-\" an error");
    let request =
        Request::Logs { query: r#"{job="x"} | n>=5"#.into(), start_ns: 0, end_ns: 10, limit: 10, backward: true };
    let Answer::Streams(streams) = store.answer(&request).unwrap() else { panic!() };
    let errors: Vec<Option<&String>> = streams.iter().map(|s| s.labels.get("__error__")).collect();
    assert_eq!(errors, [Some(&"LabelFilterErr".to_string()), None], "the error passes the filter");
    let e = instant(&store, r#"sum(count_over_time({job="x"} [1s] | n>=5))"#, 10).unwrap_err();
    assert!(e.message.contains("LabelFilterErr"), "a metric query fails on it: {e:?}");
    assert_eq!(count(r#"| (n>=5 or a="") | __error__="""#), 2.0);
    assert_eq!(count(r#"| a!="", a!="-""#), 1.0, "`,` is and");
    assert_eq!(count(r#"| n>=6 or a=ip("10.0.0.0/8") | __error__="""#), 1.0);
}

/// JSON and logfmt parameters: a key not in the line reads "", a stream
/// label's name gets `_extracted`, a line that is no JSON sets JSONParserErr.
#[test]
fn parsers_with_parameters() {
    let store = one_stream(&[(1, r#"{"a":{"b":"x y"},"n":7,"job":"j"}"#), (2, "not json"), (3, r#"{"n":null}"#)]);
    let labels =
        |pairs: &[(&str, &str)]| -> Labels { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
    let query = r#"{job="x"} | json v="a[\"b\"]", job="job", n="n""#;
    let request = Request::Logs { query: query.into(), start_ns: 0, end_ns: 10, limit: 10, backward: true };
    let Answer::Streams(streams) = store.answer(&request).unwrap() else { panic!() };
    let got: Vec<Labels> = streams.into_iter().map(|s| s.labels).collect();
    assert_eq!(
        got,
        vec![
            labels(&[("__error__", "JSONParserErr"), ("job", "x")]),
            labels(&[("job", "x"), ("job_extracted", ""), ("n", ""), ("v", "")]),
            labels(&[("job", "x"), ("job_extracted", "j"), ("n", "7"), ("v", "x y")]),
        ]
    );
    // A metric query fails on a sample that still has an error.
    let e = instant(&store, r#"sum(count_over_time({job="x"} [1s] | json n="n"))"#, 10).unwrap_err();
    assert!(e.message.contains("JSONParserErr"), "{e:?}");
    let store = one_stream(&[(1, r#"a=1 b="x \"y\"" c"#), (2, "a=2")]);
    let q = r#"sum by (b) (sum_over_time({job="x"} [1s] | logfmt a="a", b="b" | unwrap a))"#;
    assert_eq!(instant(&store, q, 10).unwrap(), vec![(labels(&[("b", "")]), 2.0), (labels(&[("b", "x \"y\"")]), 1.0)]);
}

/// Strings are Go literals; anything outside the subset is a parse error.
#[test]
fn the_subset_and_nothing_else() {
    let Query::Log(log) = parse(r#"{job="a\"b\\c\n\u00e9\x41", k=~`a\d`} |= "x""#).unwrap() else { panic!() };
    assert_eq!(log.matchers[0].value, "a\"b\\c\né\x41");
    assert_eq!(log.matchers[1].value, "a\\d");
    for query in [
        r#"{job="x"} | line_format "{{.a}}""#,
        r#"rate({job="x"} [1m])"#,
        r#"sum(count_over_time({job="x"} | json [1m]))"#,
        r#"{job="x"} | json"#,
        r#"{job="x"} | n > 10ms"#,
        r#"{job="x"} | a="b" c="d""#,
        r#"{job='x'}"#,
        r#"{job="x\'"}"#,
        r#"sum(sum_over_time({job="x"} [1m]))"#,
        r#"avg(count_over_time({job="x"} [1m]))"#,
        r#"sum(count_over_time({job="x"} [1ns]))"#,
        r#"{job="x"} | pattern "<a><b>""#,
    ] {
        assert!(parse(query).is_err(), "{query} must not parse");
    }
    let store = one_stream(&[(1, "a")]);
    let e = instant(&store, r#"sum(count_over_time({job=~".*"} [1s]))"#, 10).unwrap_err();
    assert!(e.message.contains("at least one regexp or equality matcher"), "{e:?}");
    let e = Request::parse("/loki/api/v1/query", &[("query".into(), r#"{job="x"}"#.into())], 0).unwrap_err();
    assert!(e.message.contains("log queries are not supported as an instant query"), "{e:?}");
}

/// Every golden LogQL query the dialect writes parses in the model, except
/// hand-written raw queries with stages outside the subset (none today).
#[test]
fn every_golden_query_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/logql");
    let mut n = 0;
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for query in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
            n += 1;
        }
    }
    assert!(n >= 100, "{n}");
}
