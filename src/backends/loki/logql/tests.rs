//! The LogQL dialect's unit tests: requests, windows, pages, selectors.

use std::collections::BTreeMap;

use super::*;
use crate::plan::StepOutput;
use crate::schema::{RecordFormat, RecordSchema};

fn stream() -> StreamSelector {
    StreamSelector::parse("{logtype=\"flow\"}").unwrap()
}

fn series(from_ms: i64, to_ms: i64, step_ms: i64) -> FlowQuery {
    FlowQuery { format: Format::Series, step_ms, ..FlowQuery::probe(TimeRange { from_ms, to_ms }) }
}

fn requests(q: &FlowQuery, step: &Step) -> Vec<LokiRequest> {
    let schema = RecordSchema::Raw(RecordFormat::default());
    LogQl::default().requests(&Target { stream: &stream(), schema: &schema }, q, step).unwrap()
}

#[test]
fn durations_are_prometheus_durations() {
    assert_eq!(duration(86_400_000), "24h");
    assert_eq!(duration(300_000), "5m");
    assert_eq!(duration(433_000), "433s");
    assert_eq!(duration(1_499), "1499ms");
}

/// Over many ranges and steps, the requests of a series step cover every
/// bucket of the range once, and read exactly `[from, to)`.
#[test]
fn series_requests_cover_each_bucket_once_and_the_range_exactly() {
    let day = 1_795_132_800_000;
    for step_ms in [1_000, 60_000, 300_000, 3_600_000] {
        for from_off in [0, 1, 999, 59_000, 433_000] {
            for len in [1, 1_000, 299_999, 300_000, 3_600_000, 86_400_000 + 17] {
                let q = series(day + from_off, day + from_off + len, step_ms);
                if crate::model::bucket_count(q.range, step_ms) > crate::model::MAX_BUCKETS {
                    continue;
                }
                let mut covered: Vec<(i64, TimeRange)> = Vec::new();
                for r in requests(&q, &Step::Buckets { grouped: false, keys: None }) {
                    match r.covers {
                        Covers::Bucket { start_ms, read } => {
                            assert_eq!(r.kind, RequestKind::Instant);
                            assert_eq!(r.param("time"), Some(instant_time(read.to_ms).as_str()));
                            assert!(r.query.contains(&format!("[{}] offset 1ms", duration(read.to_ms - read.from_ms))));
                            covered.push((start_ms, read));
                        }
                        Covers::Buckets { step_ms: s, first_ms, last_ms } => {
                            assert_eq!((r.kind, s), (RequestKind::Range, step_ms));
                            let (start, end): (i64, i64) =
                                (r.param("start").unwrap().parse().unwrap(), r.param("end").unwrap().parse().unwrap());
                            assert_eq!((start, end), ((first_ms + s) * 1_000_000, (last_ms + s) * 1_000_000));
                            assert_eq!(start % (s * 1_000_000), 0, "start on a multiple of the step");
                            let mut b = first_ms;
                            while b <= last_ms {
                                assert_eq!(r.covers.bucket_of(b + s), Some(b));
                                assert_eq!(r.covers.bucket_of(b + s - 1), Some(b), "stamped 1 ms early");
                                covered.push((b, TimeRange { from_ms: b, to_ms: b + s }));
                                b += s;
                            }
                            assert_eq!(r.covers.bucket_of(last_ms + 2 * s), None, "a point past the end");
                            assert_eq!(r.covers.bucket_of(first_ms), None, "a point before the start");
                        }
                        other => panic!("{other:?}"),
                    }
                }
                covered.sort_by_key(|(b, _)| *b);
                let want: Vec<i64> = buckets(&q).iter().map(|b| b.start_ms).collect();
                assert_eq!(covered.iter().map(|(b, _)| *b).collect::<Vec<_>>(), want, "{q:?}");
                assert_eq!(covered[0].1.from_ms, q.range.from_ms);
                assert_eq!(covered.last().unwrap().1.to_ms, q.range.to_ms);
                assert!(covered.windows(2).all(|w| w[0].1.to_ms == w[1].1.from_ms), "contiguous reads");
            }
        }
    }
}

/// With nanosecond timestamps every bucket is one instant query reading
/// exactly its part of the range; past the cap, an error naming the setting.
#[test]
fn nanosecond_timestamps_ask_each_bucket_alone() {
    let schema = RecordSchema::Raw(RecordFormat::default());
    let dialect = LogQl { timestamps: LokiTimestamps::Nanoseconds, split_ms: 3_600_000, ..Default::default() };
    let target = Target { stream: &stream(), schema: &schema };
    let q = series(500, 3_600_000 + 1_500, 60_000);
    let r = dialect.requests(&target, &q, &Step::Buckets { grouped: false, keys: None }).unwrap();
    let want = buckets(&q);
    assert_eq!(r.len(), want.len());
    for (r, b) in r.iter().zip(&want) {
        let read = TimeRange { from_ms: b.time_ms, to_ms: b.time_ms + b.width_ms };
        assert_eq!(r.covers, Covers::Bucket { start_ms: b.start_ms, read });
        assert_eq!(r.param("time"), Some(instant_time(read.to_ms).as_str()));
    }
    let long = series(0, 86_400_000, 1_000);
    let e = dialect.requests(&target, &long, &Step::Buckets { grouped: false, keys: None }).unwrap_err();
    assert!(e.message.contains("loki.timestamps") && e.message.contains("86400 buckets"), "{e}");
}

#[test]
fn totals_read_the_range() {
    let q = FlowQuery::probe(TimeRange { from_ms: 1_000, to_ms: 86_401_000 });
    let r = requests(&q, &Step::Total);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].params, vec![("time", "86401000999999".to_string())], "1 ms - 1 ns after the end");
    assert_eq!(r[0].covers, Covers::Range(q.range));
    assert!(r[0].query.starts_with("sum(count_over_time({logtype=\"flow\"} [24h] offset 1ms"), "{}", r[0].query);
}

#[test]
fn selectors_loki_rejects_are_errors() {
    let schema = RecordSchema::Raw(RecordFormat::default());
    let q = FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1_000 });
    for (text, ok) in [
        ("", false),
        ("{a=\"\"}", false),
        ("{a=~\".*\"}", false),
        ("{a!~\"x\"}", false),
        ("{a!=\"\"}", true),
        ("{a=~\".+\"}", true),
        ("{a=~\".*\", b=\"flow\"}", true),
    ] {
        let stream = StreamSelector::parse(text).unwrap();
        let result = LogQl::default().requests(&Target { stream: &stream, schema: &schema }, &q, &Step::Total);
        assert_eq!(result.is_ok(), ok, "{text}: {result:?}");
        if let Err(e) = result {
            assert!(e.message.contains("streamSelector") && e.message.contains("at least one matcher"), "{e}");
        }
    }
}

#[test]
fn field_names_loki_cannot_say_are_errors() {
    let q =
        FlowQuery { interface_ids: vec!["eni-1".into()], ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1_000 }) };
    for (fields, name, ok, want) in [
        (LokiFields::StructuredMetadata, "interface id", false, "which LogQL cannot name"),
        (LokiFields::StructuredMetadata, "offset", false, "no LogQL keyword"),
        (LokiFields::StructuredMetadata, "eni_id", true, ""),
        (LokiFields::Json, "a\"b", false, "json parser cannot select"),
        (LokiFields::Json, "a]b", false, "json parser cannot select"),
        (LokiFields::Json, "interface id", true, "[\\\"interface id\\\"]"),
        (LokiFields::Json, "meta.eni", true, "flow_interface_id=\"meta.eni\""),
        (LokiFields::Logfmt, "a.b", false, "logfmt parser cannot select"),
        (LokiFields::Logfmt, "eni", true, "logfmt flow_interface_id=\"eni\""),
    ] {
        let schema = RecordSchema::Fields(BTreeMap::from([("interface_id".to_string(), name.to_string())]));
        let result = LogQl { fields, ..Default::default() }.requests(
            &Target { stream: &stream(), schema: &schema },
            &q,
            &Step::Total,
        );
        match result {
            Ok(r) => {
                assert!(ok, "{name}: {:?}", r[0].query);
                assert!(r[0].query.contains(want), "{name}: {}", r[0].query);
            }
            Err(e) => {
                assert!(!ok, "{name}: {e}");
                assert!(e.message.contains(want) && e.message.contains(name), "{name}: {e}");
            }
        }
    }
}

fn sample(labels: &[(&str, &str)], points: &[(i64, f64)]) -> Sample {
    Sample { labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), points: points.to_vec() }
}

#[test]
fn rankings_sort_client_side_with_the_reference_tie_break() {
    let q = FlowQuery { group_by: vec!["srcaddr".into()], ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1_000 }) };
    let request = requests(&q, &Step::Rank { limit: 3 }).remove(0);
    assert_eq!(request.key_labels, vec!["flow_srcaddr"]);
    let answer = Answer::Series(vec![
        sample(&[("flow_srcaddr", "10.0.0.10")], &[(999, 5.0)]),
        sample(&[("flow_srcaddr", "10.0.0.9")], &[(999, 5.0)]),
        sample(&[("flow_srcaddr", "-")], &[(999, 2.0)]),
        sample(&[], &[(999, 4.0)]),
        sample(&[("flow_srcaddr", "10.0.0.1")], &[(999, 1.0)]),
    ]);
    let out = merge(&q, &Step::Rank { limit: 3 }, &[(request, answer)]);
    let key = |s: &str| vec![s.to_string()];
    // `-` and an absent label are both no value, read as "" and added;
    // equal values sort by address, numerically.
    assert_eq!(out, StepOutput::Ranked(vec![(key(""), 6), (key("10.0.0.9"), 5), (key("10.0.0.10"), 5)]));
}

#[test]
fn buckets_merge_each_once_and_drop_what_a_request_does_not_cover() {
    let q = FlowQuery { group_by: vec!["srcaddr".into()], ..series(500, 3_500, 1_000) };
    let step = Step::Buckets { grouped: true, keys: Some(vec![vec!["a".into()]]) };
    let r = requests(&q, &step);
    assert_eq!(r.len(), 3, "a range query for [1000, 3000) and the edges [500, 1000), [3000, 3500)");
    assert!(r[0].query.contains(r#"flow_srcaddr="a""#), "{}", r[0].query);
    let answers = vec![
        // Points stamped 1 ms early, as Loki stamps `offset` queries, and one past `end`.
        (
            r[0].clone(),
            Answer::Series(vec![sample(&[("flow_srcaddr", "a")], &[(1_999, 3.0), (2_999, 4.0), (3_999, 9.0)])]),
        ),
        (r[1].clone(), Answer::Series(vec![sample(&[("flow_srcaddr", "a")], &[(999, 1.0)])])),
        (r[2].clone(), Answer::Series(vec![sample(&[("flow_srcaddr", "a")], &[(3_499, 2.0)])])),
    ];
    let out = merge(&q, &step, &answers);
    let want = BTreeMap::from([(vec!["a".to_string()], BTreeMap::from([(0, 1), (1_000, 3), (2_000, 4), (3_000, 2)]))]);
    assert_eq!(out, StepOutput::Buckets(want));
}

/// A page of `n` lines (none when 0), the oldest at `oldest_ns`.
fn page(n: usize, oldest_ns: i64) -> Answer {
    let entries = (0..n as i64).map(|i| (oldest_ns + i, "line".to_string())).collect();
    Answer::Streams(vec![LogStream { labels: BTreeMap::new(), entries }])
}

#[test]
fn records_page_backwards_newest_first_each_once() {
    let q = FlowQuery { format: Format::Logs, ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 10_000 }) };
    let step = Step::Records { limit: 7_000 };
    let first = requests(&q, &step).remove(0);
    assert_eq!(first.param("limit"), Some("5000"));
    assert_eq!(first.param("direction"), Some("backward"));
    assert_eq!(first.next_page(&page(4_999, 5), 4_999), None, "Loki had no more");
    let next = first.next_page(&page(5_000, 1_234_000_000), 5_000).unwrap();
    assert_eq!(next.param("end"), Some("1234000001"), "the oldest nanosecond again");
    assert_eq!(next.param("limit"), Some("2001"));
    assert_eq!(next.param("start"), first.param("start"));
    let stream = |entries: &[(i64, &str)]| LogStream {
        labels: BTreeMap::from([("logtype".to_string(), "flow".to_string())]),
        entries: entries.iter().map(|(t, l)| (*t, l.to_string())).collect(),
    };
    let answers = vec![
        (first.clone(), Answer::Streams(vec![stream(&[(3, "c"), (5, "e")])])),
        (next, Answer::Streams(vec![stream(&[(1, "a"), (3, "c"), (3, "b")])])),
    ];
    let StepOutput::Records(records) = merge(&q, &Step::Records { limit: 3 }, &answers) else { panic!() };
    let got: Vec<(i64, &str)> = records.iter().map(|r| (r.time_ns, r.body.as_str())).collect();
    assert_eq!(got, vec![(5, "e"), (3, "b"), (3, "c")]);
}

#[test]
fn split_records_page_newest_sub_range_first() {
    let q = FlowQuery { format: Format::Logs, ..FlowQuery::probe(TimeRange { from_ms: 500, to_ms: 3_500 }) };
    let step = Step::Records { limit: 7_000 };
    let dialect = LogQl { split_ms: 1_000, ..Default::default() };
    let schema = RecordSchema::Raw(RecordFormat::default());
    let target = Target { stream: &stream(), schema: &schema };
    let first = dialect.requests(&target, &q, &step).unwrap().remove(0);
    let range = |r: &LokiRequest| (r.param("start").unwrap().to_string(), r.param("end").unwrap().to_string());
    assert_eq!(range(&first), ("3000000000".into(), "3500000000".into()), "the newest sub-range first");
    // A full page stays in its sub-range; one that was not full moves to the one before.
    let full = first.next_page(&page(5_000, 3_100_000_000), 5_000).unwrap();
    assert_eq!(range(&full), ("3000000000".into(), "3100000001".into()));
    assert_eq!(full.param("limit"), Some("2001"));
    let before = full.next_page(&page(10, 3_000_000_000), 5_010).unwrap();
    assert_eq!(range(&before), ("2000000000".into(), "3000000000".into()));
    assert_eq!(before.param("limit"), Some("1990"), "no line is asked for twice across sub-ranges");
    let none = page(0, 0);
    let last = before.next_page(&none, 5_010).unwrap().next_page(&none, 5_010).unwrap();
    assert_eq!(range(&last), ("500000000".into(), "1000000000".into()), "clipped to the range's start");
    assert_eq!(last.next_page(&none, 5_010), None, "the range is read");
    assert_eq!(before.next_page(&page(1_990, 2_500_000_000), 7_000), None, "the step has what it asked for");
}

#[test]
fn records_oldest_first_page_forward_from_the_range_start() {
    let q = FlowQuery {
        format: Format::Logs,
        oldest_first: true,
        ..FlowQuery::probe(TimeRange { from_ms: 500, to_ms: 3_500 })
    };
    let step = Step::Records { limit: 7_000 };
    let dialect = LogQl { split_ms: 1_000, ..Default::default() };
    let schema = RecordSchema::Raw(RecordFormat::default());
    let target = Target { stream: &stream(), schema: &schema };
    let first = dialect.requests(&target, &q, &step).unwrap().remove(0);
    let range = |r: &LokiRequest| (r.param("start").unwrap().to_string(), r.param("end").unwrap().to_string());
    assert_eq!(first.param("direction"), Some("forward"));
    assert_eq!(range(&first), ("500000000".into(), "1000000000".into()), "the oldest sub-range first");
    // A full page goes on from its newest line; one that was not full moves to the next sub-range.
    let full = first.next_page(&page(5_000, 600_000_000), 5_000).unwrap();
    assert_eq!(range(&full), ("600004999".into(), "1000000000".into()), "the newest nanosecond again");
    assert_eq!(full.param("limit"), Some("2001"));
    let after = full.next_page(&page(10, 900_000_000), 5_010).unwrap();
    assert_eq!(range(&after), ("1000000000".into(), "2000000000".into()));
    let none = page(0, 0);
    let last = after.next_page(&none, 5_010).unwrap().next_page(&none, 5_010).unwrap();
    assert_eq!(range(&last), ("3000000000".into(), "3500000000".into()), "clipped to the range's end");
    assert_eq!(last.next_page(&none, 5_010), None, "the range is read");
    let answers = vec![(first, page(3, 700)), (full, page(2, 701))];
    let StepOutput::Records(records) = merge(&q, &Step::Records { limit: 3 }, &answers) else { panic!() };
    assert_eq!(records.iter().map(|r| r.time_ns).collect::<Vec<_>>(), vec![700, 701, 702], "oldest first, once");
}

#[test]
fn answers_fold_in_any_order_and_lines_are_cut_oldest_first() {
    let q = FlowQuery { format: Format::Logs, ..FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 10_000 }) };
    let request = requests(&q, &Step::Records { limit: 7_000 }).remove(0);
    let stream = |labels: &str, entries: &[(i64, &str)]| LogStream {
        labels: BTreeMap::from([("logtype".to_string(), labels.to_string())]),
        entries: entries.iter().map(|(t, l)| (*t, l.to_string())).collect(),
    };
    let answers = vec![
        (request.clone(), Answer::Streams(vec![stream("a", &[(3, "c"), (5, "e")]), stream("b", &[(5, "e")])])),
        (request.clone(), Answer::Streams(vec![stream("a", &[(1, "a"), (3, "c"), (3, "b"), (9, "z")])])),
        (request.clone(), Answer::Streams(vec![stream("b", &[(2, "x"), (5, "e")])])),
    ];
    for limit in [1, 3, 5, 100] {
        let step = Step::Records { limit };
        let forward = merge(&q, &step, &answers);
        let mut reversed = answers.clone();
        reversed.reverse();
        assert_eq!(forward, merge(&q, &step, &reversed), "limit {limit}");
        // Folded in two halves and absorbed: the same.
        let mut one = Merger::new(&q, &step);
        let mut two = Merger::new(&q, &step);
        one.add(&answers[0].0, answers[0].1.clone());
        two.add(&answers[1].0, answers[1].1.clone());
        two.add(&answers[2].0, answers[2].1.clone());
        one.absorb(two);
        assert_eq!(forward, one.finish(), "limit {limit}");
    }
    let mut merger = Merger::new(&q, &Step::Records { limit: 100 });
    for (request, answer) in &answers {
        merger.add(request, answer.clone());
    }
    assert_eq!(merger.lines(), 7, "each (time, line, labels) once");
    let per_line = merger.line_bytes() / 7;
    assert_eq!(merger.cut_lines_to(per_line * 2), 5);
    let StepOutput::Records(kept) = merger.finish() else { panic!() };
    assert_eq!(kept.iter().map(|r| (r.time_ns, r.body.as_str())).collect::<Vec<_>>(), vec![(9, "z"), (5, "e")]);
}
