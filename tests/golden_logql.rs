//! Golden tests: a query in, the exact Loki requests out (LogQL, endpoint,
//! parameters, what each answer covers), for the cases of the table both
//! dialects render (`common/golden_cases.rs`, with `golden_logsql.rs`):
//! every panel of the NAT-gateway dashboard, every filter kind, hostile
//! values, each plan step, in raw-record mode and in the three ways Loki
//! can hold fields parsed at ingest. Run with `UPDATE_GOLDEN=1` to rewrite
//! the files, then read the diff.

mod common;

use common::golden_cases;
use common::logql::{describe, render_requests, settings, settings_with, MODES};
use flowlens::backends::loki::logql::{Covers, LogQl, RequestKind};
use flowlens::dialect::Target;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::{first_step, Step};

fn check(name: &str, actual: &str) {
    let path = format!("{}/tests/golden/logql/{name}.logql", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        refuse_update_in_ci();
        std::fs::write(&path, format!("{actual}\n")).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden file {path}; run with UPDATE_GOLDEN=1"));
    pretty_assertions::assert_eq!(expected.trim_end(), actual, "golden file {name}");
}

#[test]
fn every_case_in_every_mode_golden() {
    for mode in MODES {
        for (name, query, step) in golden_cases::logql() {
            check(&format!("{mode}-{name}"), &describe(&render_requests(&settings(mode), query, step)));
        }
    }
}

/// Inside CIDRs that hold the NAT gateway's own address (the whole VPC):
/// the address is excluded from the inside side of every direction.
#[test]
fn nat_address_excluded_golden() {
    use serde_json::json;
    for mode in ["raw", "structured-metadata"] {
        let s = settings_with(mode, json!({"insideCidrs": ["10.0.0.0/16"], "natAddresses": ["10.0.0.57"]}));
        for direction in ["any", "in"] {
            let requests = render_requests(&s, json!({"format": "stat", "direction": direction}), None);
            check(&format!("{mode}-vpc-cidr-nat-excluded-{direction}"), &describe(&requests));
        }
    }
}

/// The shared examples render in every mode, each request with a query.
#[test]
fn shared_examples_render() {
    let text = std::fs::read_to_string(format!("{}/examples/queries.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let examples: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for mode in MODES {
        for example in &examples {
            let requests = render_requests(&settings(mode), example["query"].clone(), None);
            assert!(!requests.is_empty() && requests.iter().all(|r| !r.query.is_empty()), "{}", example["name"]);
        }
    }
}

/// Windows at the edges of what a range can be: a series whose range is
/// one partial bucket, one that starts on a bucket and ends inside one,
/// and a total over a range of odd milliseconds.
#[test]
fn windows_cover_exactly_the_buckets() {
    let s = settings("raw");
    let target = Target { stream: &s.stream, schema: &s.schema };
    let series = serde_json::json!({"format": "series", "direction": "in"});
    let query = |from_ms: i64, to_ms: i64, interval_ms: i64| {
        let req = Request { range: TimeRange { from_ms, to_ms }, interval_ms, max_data_points: 0 };
        FlowQuery::parse(&serde_json::to_vec(&series).unwrap(), &req, &s).unwrap()
    };
    let day = 1_795_132_800_000;
    // Inside one bucket: one instant query over exactly the range.
    let q = query(day + 1_000, day + 61_500, 300_000);
    let r = LogQl::default().requests(&target, &q, &first_step(&q)).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].kind, RequestKind::Instant);
    assert_eq!(r[0].params, vec![("time", format!("{}", (day + 61_500) * 1_000_000 + 999_999))]);
    assert!(r[0].query.contains("[60500ms] offset 1ms"), "{}", r[0].query);
    assert_eq!(
        r[0].covers,
        Covers::Bucket { start_ms: day, read: TimeRange { from_ms: day + 1_000, to_ms: day + 61_500 } }
    );
    // Aligned start, partial end: a range query for the whole buckets, then the edge.
    let q = query(day, day + 3_600_000 + 7_000, 600_000);
    let r = LogQl::default().requests(&target, &q, &first_step(&q)).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].kind, RequestKind::Range);
    let ns = |ms: i64| (ms * 1_000_000).to_string();
    assert_eq!(
        r[0].params,
        vec![("start", ns(day + 600_000)), ("end", ns(day + 3_600_000)), ("step", "10m".to_string())]
    );
    assert_eq!(r[0].covers, Covers::Buckets { step_ms: 600_000, first_ms: day, last_ms: day + 3_000_000 });
    assert_eq!(r[1].params, vec![("time", format!("{}", (day + 3_607_000) * 1_000_000 + 999_999))]);
    assert!(r[1].query.contains("[7s] offset 1ms"), "{}", r[1].query);
    // Points stamped at the evaluation time (Loki) or 1 ms before it (an engine that stamps
    // `t - offset`) are the bucket that ends there.
    for stamp in [day + 600_000, day + 599_999] {
        assert_eq!(r[0].covers.bucket_of(stamp), Some(day));
    }
    assert_eq!(r[0].covers.bucket_of(day + 4_200_000), None, "a point past the end is no bucket of this request");
    // A total over odd milliseconds reads exactly [from, to).
    let stat = serde_json::json!({"format": "stat", "direction": "in"});
    let req =
        Request { range: TimeRange { from_ms: day + 1, to_ms: day + 1_500 }, interval_ms: 1_000, max_data_points: 0 };
    let q = FlowQuery::parse(&serde_json::to_vec(&stat).unwrap(), &req, &s).unwrap();
    let r = LogQl::default().requests(&target, &q, &Step::Total).unwrap();
    assert!(r[0].query.contains("[1499ms] offset 1ms"), "{}", r[0].query);
    assert_eq!(r[0].params, vec![("time", format!("{}", (day + 1_500) * 1_000_000 + 999_999))]);
}

/// `lokiSplitInterval` (1 h): a total, a series and a log query over an
/// unaligned window of three hours and fifty minutes, as the plugin sends
/// them: one instant query per sub-range, range queries for the whole
/// buckets of each sub-range plus the edge buckets, logs from the newest
/// sub-range.
#[test]
fn split_sub_ranges_golden() {
    use serde_json::json;
    let s = settings("raw");
    let target = Target { stream: &s.stream, schema: &s.schema };
    let day = 1_795_132_800_000;
    let req = Request {
        range: TimeRange { from_ms: day + 1_200_000, to_ms: day + 4 * 3_600_000 - 600_000 },
        interval_ms: 900_000,
        max_data_points: 0,
    };
    let dialect = LogQl { split_ms: 3_600_000, ..LogQl::of(&s).unwrap() };
    for (name, query) in [
        ("stat", json!({"format": "stat", "direction": "in"})),
        ("series", json!({"format": "series", "direction": "in"})),
        ("logs", json!({"format": "logs"})),
    ] {
        let q = FlowQuery::parse(&serde_json::to_vec(&query).unwrap(), &req, &s).unwrap();
        let requests = dialect.requests(&target, &q, &first_step(&q)).unwrap();
        check(&format!("raw-split-{name}"), &describe(&requests));
    }
}

/// `UPDATE_GOLDEN` rewrites the expected files and so cannot fail: refused in CI
/// (`CI` set, as every CI service sets it), where it would pass whatever
/// the code produces.
fn refuse_update_in_ci() {
    if let Some(ci) = std::env::var_os("CI").filter(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!(
            "UPDATE_GOLDEN is set in CI (CI={}): it rewrites the expected files and passes whatever the code produces; \
             run it locally, read the diff and commit it",
            ci.to_string_lossy()
        );
    }
}
