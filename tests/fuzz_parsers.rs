//! Fuzzing the parsers that read untrusted input, with proptest and a seed
//! new every run (printed; `PROPTEST_SEED` replays it): the query model (`FlowQuery::parse` on arbitrary bytes, on
//! arbitrary JSON and on mutated valid targets, with arbitrary time ranges
//! and intervals), the datasource settings (`Settings::from_instance` on
//! arbitrary jsonData, URLs and secrets, then `Datasource::new`), record
//! format strings and stream selectors. Nothing may panic; every rejection
//! is an error value with a message; everything accepted renders into
//! LogsQL, and formats and selectors print back to what they parse from.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::hostile::{self, hostile_string};
use flowlens::backends::victorialogs::logsql::LogsQl;
use flowlens::datasource::Datasource;
use flowlens::dialect::{Dialect, Target};
use flowlens::error::ErrorSource;
use flowlens::frames::buckets;
use flowlens::model::{FlowQuery, Request, TimeRange, MAX_BUCKETS};
use flowlens::plan::{first_step, Step};
use flowlens::schema::{all_fields, RecordFormat};
use flowlens::selector::StreamSelector;
use flowlens::settings::{InstanceSettings, Settings};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

const MISSION_FORMAT: &str = flowlens_devtools::gen::MISSION_FORMAT;

fn run<T: std::fmt::Debug>(
    what: &str,
    cases: u32,
    strategy: impl Strategy<Value = T>,
    test: impl Fn(T) -> Result<(), TestCaseError>,
) {
    if let Err(e) = hostile::runner(cases).run(&strategy, test) {
        panic!("{what}: {e}");
    }
}

// ------------------------------------------------------------- query model

fn settings(json_data: Value) -> Settings {
    let bytes = serde_json::to_vec(&json_data).unwrap();
    Settings::from_instance(&InstanceSettings { url: "http://127.0.0.1:9428", json_data: &bytes, ..Default::default() })
        .unwrap()
}

/// The settings the model is checked against: raw mission lines, and fields
/// parsed at ingest with hostile names.
fn all_settings() -> Vec<Settings> {
    vec![
        settings(json!({"streamSelector": "{logtype=\"flow\"}", "recordFormat": MISSION_FORMAT,
            "insideCidrs": ["10.0.32.0/20"], "interfaceId": "eni-0352f8c82da6aa229"})),
        settings(json!({"recordMode": "fields", "fieldMapping": {"action": "act\"ion|x", "bytes": "b y"},
            "insideCidrs": ["10.0.32.0/20", "2001:db8::/32"]})),
        settings(json!({})),
    ]
}

/// The valid targets of the shared examples.
fn examples() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/queries.json")).unwrap();
    let examples: Vec<Value> = serde_json::from_str(&text).unwrap();
    examples.into_iter().map(|e| e["query"].clone()).collect()
}

/// Arbitrary JSON, hostile strings and extreme numbers included.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            json!(-1),
            json!(0),
            json!(1.5),
            json!(1e300),
            json!(-0.0),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(10_001)
        ]),
        hostile_string().prop_map(Value::from),
        prop::sample::select(vec![
            "stat",
            "series",
            "table",
            "logs",
            "in",
            "out",
            "any",
            "all",
            "bytes",
            "packets",
            "records",
            "=",
            "!=",
            "=~",
            "!~",
            "cidr",
            "!cidr",
            "range",
            "pkt_srcaddr",
            "inside_addr",
            "outside_addr",
            "dstport",
            ".*",
            "10.0.0.0/8",
            "1-2",
            "9-1",
            "(",
            "a)|(b",
            "::/0",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec!["field", "op", "value", "refId", "format", "limit"])
                        .prop_map(String::from),
                    hostile_string(),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

const KEYS: [&str; 13] = [
    "refId",
    "version",
    "format",
    "metric",
    "direction",
    "groupBy",
    "limit",
    "other",
    "rate",
    "filters",
    "interfaceId",
    "rawQuery",
    "datasource",
];

/// A valid target with some keys replaced by arbitrary JSON or removed,
/// or a filter's parts replaced.
fn mutated_target() -> BoxedStrategy<Value> {
    let edits = prop::collection::vec((prop::sample::select(KEYS.to_vec()), prop::option::of(any_json())), 0..4);
    let filter_edit = prop::option::of((prop::sample::select(vec!["field", "op", "value"]), any_json()));
    (prop::sample::select(examples()), edits, filter_edit)
        .prop_map(|(mut target, edits, filter_edit)| {
            for (key, value) in edits {
                match value {
                    Some(v) => target[key] = v,
                    None => {
                        target.as_object_mut().unwrap().remove(key);
                    }
                }
            }
            if let Some((part, v)) = filter_edit {
                let filter = json!({"field": "pkt_srcaddr", "op": "=", "value": "10.0.32.1"});
                let mut filter = filter;
                filter[part] = v;
                target["filters"] = json!([filter]);
            }
            target
        })
        .boxed()
}

/// Grafana's request fields: ordinary, absurd and extreme.
fn any_request() -> BoxedStrategy<Request> {
    let time = prop_oneof![
        3 => Just(1_795_132_800_000i64),
        1 => any::<i64>(),
        1 => prop::sample::select(vec![
            0,
            -62_135_596_800_000, // year 1
            253_402_300_799_999, // year 9999
            -9_223_372_036_855,  // just before the earliest ns timestamp
            9_223_372_036_854,   // the latest ns timestamp, in ms
            i64::MIN,
            i64::MAX,
        ]),
    ];
    let span = prop_oneof![
        3 => Just(86_400_000i64),
        1 => any::<i64>(),
        1 => prop::sample::select(vec![0, 1, -1, 999, 315_576_000_000_000, i64::MAX]),
    ];
    let interval = prop_oneof![3 => Just(60_000i64), 1 => any::<i64>(), 1 => prop::sample::select(vec![0, 1, -1, i64::MAX, i64::MIN])];
    let points =
        prop_oneof![3 => Just(1_000i64), 1 => any::<i64>(), 1 => prop::sample::select(vec![0, 1, -1, i64::MAX])];
    (time, span, interval, points)
        .prop_map(|(from_ms, span, interval_ms, max_data_points)| Request {
            range: TimeRange { from_ms, to_ms: from_ms.saturating_add(span) },
            interval_ms,
            max_data_points,
        })
        .boxed()
}

/// Parses a target; an accepted query must be sane and render every step.
fn check_target(json: &[u8], req: &Request, all: &[Settings], accepted: &AtomicUsize) -> Result<(), TestCaseError> {
    for s in all {
        match FlowQuery::parse(json, req, s) {
            Err(e) => {
                prop_assert!(!e.message.is_empty(), "an error without a message");
                prop_assert_eq!(e.origin, ErrorSource::Plugin, "a bad query is the plugin's error: {}", e.message);
                prop_assert_eq!(e.status, 400, "{}", e.message);
            }
            Ok(q) => {
                accepted.fetch_add(1, Ordering::Relaxed);
                prop_assert!(q.range.from_ms < q.range.to_ms, "an empty range accepted: {:?}", q.range);
                prop_assert!(q.step_ms >= 1_000 && q.step_ms % 1_000 == 0, "step {}", q.step_ms);
                let buckets = buckets(&q).len() as i64;
                prop_assert!(buckets <= MAX_BUCKETS + 1, "{buckets} buckets for {:?} step {}", q.range, q.step_ms);
                let target = Target { stream: &s.stream, schema: &s.schema };
                let keys = Some(vec![q.group_by.iter().map(|_| "k\"|".to_string()).collect()]);
                for step in
                    [first_step(&q), Step::Total, Step::Buckets { grouped: true, keys }, Step::Rank { limit: 5 }]
                {
                    let text = LogsQl.render(&target, &q, &step);
                    prop_assert!(!text.is_empty());
                }
            }
        }
    }
    Ok(())
}

#[test]
fn the_query_model_never_panics_on_arbitrary_bytes() {
    let all = all_settings();
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        hostile_string().prop_map(String::into_bytes),
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ];
    let accepted = AtomicUsize::new(0);
    run("arbitrary bytes", 3_000, (bytes, any_request()), |(json, req)| check_target(&json, &req, &all, &accepted));
    assert!(accepted.load(Ordering::Relaxed) > 100, "some inputs are valid queries: {accepted:?}");
}

#[test]
fn the_query_model_never_panics_on_mutated_targets() {
    let all = all_settings();
    let accepted = AtomicUsize::new(0);
    run("mutated targets", 3_000, (mutated_target(), any_request()), |(target, req)| {
        check_target(&serde_json::to_vec(&target).unwrap(), &req, &all, &accepted)
    });
    // 3 settings per case: both accepted and rejected paths are exercised.
    let accepted = accepted.load(Ordering::Relaxed);
    assert!((500..8_000).contains(&accepted), "accepted {accepted} of 9000");
}

// ----------------------------------------------------------------- settings

const SETTINGS_KEYS: [&str; 17] = [
    "backend",
    "streamSelector",
    "recordMode",
    "recordFormat",
    "fieldMapping",
    "insideCidrs",
    "interfaceId",
    "timeoutSeconds",
    "tlsSkipVerify",
    "bearerAuth",
    "dataLinks",
    "costPerGb",
    "httpHeaderName1",
    "httpHeaderName2",
    "httpHeaderName4294967295",
    "httpHeaderName-1",
    "httpHeaderName",
];

fn valid_json_data() -> Value {
    json!({"streamSelector": "{logtype=\"flow\"}", "recordFormat": MISSION_FORMAT, "insideCidrs": ["10.0.32.0/20"],
        "interfaceId": "eni-1", "httpHeaderName1": "X-Scope-OrgID", "timeoutSeconds": 30, "bearerAuth": true,
        "dataLinks": [{"field": "pkt_srcaddr", "title": "t", "url": "u"}], "costPerGb": 0.045,
        "recordMode": "fields", "fieldMapping": {"pkt_srcaddr": "pkt_src_addr"}})
}

fn json_data_strategy() -> BoxedStrategy<Vec<u8>> {
    let edits =
        prop::collection::vec((prop::sample::select(SETTINGS_KEYS.to_vec()), prop::option::of(any_json())), 0..5);
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..100),
        1 => any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        4 => edits.prop_map(|edits| {
            let mut jd = valid_json_data();
            for (k, v) in edits {
                match v {
                    Some(v) => jd[k] = v,
                    None => {
                        jd.as_object_mut().unwrap().remove(k);
                    }
                }
            }
            serde_json::to_vec(&jd).unwrap()
        }),
    ]
    .boxed()
}

fn url_strategy() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just("http://127.0.0.1:9428".to_string()),
        1 => hostile_string(),
        1 => prop::sample::select(vec![
            "", " ", "ftp://x", "http://", "http://u:p@h", "https://[::1]:9428/prefix/", "http://h:99999", "http://%zz",
            "http://h/\0", "unix:///tmp/s", "http://ä.example/"
        ])
        .prop_map(String::from),
        1 => hostile_string().prop_map(|s| format!("http://h/{s}")),
    ]
    .boxed()
}

#[test]
fn settings_never_panic_on_arbitrary_instances() {
    let secrets = prop::collection::hash_map(
        prop::sample::select(vec!["basicAuthPassword", "bearerToken", "httpHeaderValue1", "tlsCACert", "x"])
            .prop_map(String::from),
        prop_oneof![
            hostile_string(),
            Just("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_string()),
            Just(String::new())
        ],
        0..4,
    );
    let strategy = (json_data_strategy(), url_strategy(), any::<bool>(), hostile_string(), secrets);
    let accepted = AtomicUsize::new(0);
    run(
        "settings",
        2_000,
        strategy,
        |(json_data, url, basic, user, secure): (Vec<u8>, String, bool, String, HashMap<String, String>)| {
            let instance = InstanceSettings {
                url: &url,
                basic_auth_enabled: basic,
                basic_auth_user: &user,
                json_data: &json_data,
                secure: Some(&secure),
            };
            match Settings::from_instance(&instance) {
                Err(e) => prop_assert!(e.to_string().starts_with("datasource settings: ") && e.0.len() > 3),
                Ok(s) => {
                    accepted.fetch_add(1, Ordering::Relaxed);
                    // The client builds, or says which setting is wrong.
                    if let Err(e) = Datasource::new(s) {
                        prop_assert!(!e.message.is_empty());
                        prop_assert_eq!(e.status, 400);
                    }
                }
            }
            Ok(())
        },
    );
    assert!(accepted.load(Ordering::Relaxed) > 100, "some settings are valid: {accepted:?}");
}

// ---------------------------------------------------- formats and selectors

#[test]
fn record_formats_never_panic_and_print_back() {
    let names: Vec<String> = all_fields().map(|(c, _)| c.replace('_', "-")).collect();
    let token = prop_oneof![
        4 => prop::sample::select(names).prop_map(|n| format!("${{{n}}}")),
        1 => hostile_string(),
        1 => prop::sample::select(vec!["${", "}", "$", "${}", "${pkt_srcaddr}", "${ bytes}", "${bytes", "{bytes}"]).prop_map(String::from),
    ];
    let separator = prop::sample::select(vec![" ", " ", " ", "  ", "\t", "", ",", "\n"]);
    let format = prop_oneof![
        3 => prop::collection::vec((token, separator), 0..25)
            .prop_map(|parts| parts.into_iter().map(|(t, s)| format!("{t}{s}")).collect::<String>()),
        1 => hostile_string(),
    ];
    let accepted = AtomicUsize::new(0);
    run("record formats", 5_000, format, |text| {
        match RecordFormat::parse(&text) {
            Err(e) => prop_assert!(e.to_string().starts_with("record format: ")),
            Ok(f) => {
                accepted.fetch_add(1, Ordering::Relaxed);
                prop_assert!(!f.fields().is_empty());
                prop_assert_eq!(RecordFormat::parse(&f.to_string()).unwrap(), f);
            }
        }
        Ok(())
    });
    assert!(accepted.load(Ordering::Relaxed) > 50, "some formats are valid: {accepted:?}");
}

#[test]
fn stream_selectors_never_panic_and_print_back() {
    let label = prop_oneof![
        4 => prop::sample::select(vec!["logtype", "environment", "_x", "a1", "x"]).prop_map(String::from),
        1 => hostile_string(),
    ];
    let op = prop::sample::select(vec!["=", "!=", "=~", "!~", "==", "~", ""]);
    let value = prop_oneof![
        2 => hostile_string().prop_map(|v| serde_json::to_string(&v).unwrap()),
        1 => hostile_string().prop_map(|v| format!("`{v}`")),
        1 => hostile_string(),
        1 => prop::sample::select(vec!["\"flow\"", "\"(\"", "\"a)|(b\"", "\"\\\"", "\"\\u00\"", "``", "\"\""]).prop_map(String::from),
    ];
    let matcher = (label, op, value, prop::sample::select(vec!["", " ", "  ", "\n"]))
        .prop_map(|(l, o, v, ws)| format!("{ws}{l}{ws}{o}{ws}{v}{ws}"));
    let selector = prop_oneof![
        4 => (prop::collection::vec(matcher, 0..4), prop::sample::select(vec![",", ", ", " ,", ",,", ""]))
            .prop_map(|(ms, sep)| format!("{{{}}}", ms.join(sep))),
        1 => hostile_string(),
    ];
    let accepted = AtomicUsize::new(0);
    run("stream selectors", 5_000, selector, |text| {
        match StreamSelector::parse(&text) {
            Err(e) => prop_assert!(e.to_string().starts_with("stream selector: ")),
            Ok(s) => {
                accepted.fetch_add(1, Ordering::Relaxed);
                let printed = s.to_string();
                prop_assert_eq!(StreamSelector::parse(&printed).unwrap(), s, "printed as {}", printed);
            }
        }
        Ok(())
    });
    assert!(accepted.load(Ordering::Relaxed) > 500, "some selectors are valid: {accepted:?}");
}
