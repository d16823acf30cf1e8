//! The filter semantics, tested once for every backend: the predicates
//! `flowlens::predicate` lowers a query to (what each dialect prints),
//! evaluated on generated records by a small evaluator written here, equal
//! record by record to the independent reference matcher
//! (`tests/common/reference.rs`) over a spread of generated queries:
//! directions (with and without the NAT's own address), interface lists,
//! sided filters, every filter kind, no-value values and regexes that match
//! `""` or `-` differently; and the ranked-keys restriction.
//!
//! The evaluator reads a field without a value as the backend would, in
//! both spellings: `-` (raw records, as AWS writes it) and `""` (a field a
//! parsed record lacks). The tree must give the reference's answer either
//! way.

#[path = "common/hostile.rs"]
mod hostile;
#[path = "common/reference.rs"]
mod reference;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;

use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::predicate::{self, Member, Pred};
use flowlens::settings::{InstanceSettings, Settings};
use flowlens_devtools::gen::{generate, FlowRecord, GenConfig, MISSION_FORMAT, NAT_PRIVATE_IP};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use reference::{Cidr, Dir, Metric, RefFilter, RefQuery};
use regex::Regex;
use serde_json::{json, Value};

const FROM_MS: i64 = 1_795_132_800_000;
const TO_MS: i64 = FROM_MS + 2 * 3_600_000;
const NAT_ENI: &str = "eni-0352f8c82da6aa229";

/// Text fields a filter may name (addresses included), numeric ones, address ones.
const TEXT: &[&str] = &[
    "action",
    "interface_id",
    "flow_direction",
    "pkt_src_aws_service",
    "pkt_dst_aws_service",
    "srcaddr",
    "pkt_dstaddr",
    "inside_addr",
    "outside_addr",
];
const NUMBERS: &[&str] = &["dstport", "srcport", "bytes", "traffic_path"];
const ADDRESSES: &[&str] = &["srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr", "inside_addr", "outside_addr"];
const NETS: &[&str] =
    &["10.0.32.0/20", "10.0.32.0/24", "10.0.0.57/32", "10.0.0.0/16", "0.0.0.0/0", "2001:db8::/32", "52.0.0.0/8"];

/// Generated records (two hours of a small NAT world), some fields taken
/// away (no value) and some addresses IPv6 or no address at all.
fn records() -> Vec<FlowRecord> {
    let config = GenConfig {
        seed: 7,
        from_ms: FROM_MS,
        to_ms: TO_MS,
        connections: 300,
        nat_eni: NAT_ENI.into(),
        pod_cidr: "10.0.32.0/20".into(),
        pods: 40,
        remotes: 60,
    };
    let mut records = generate(&config);
    for (i, r) in records.iter_mut().enumerate() {
        match i % 23 {
            0 => r.action = None,
            1 => r.pkt_srcaddr = None,
            2 => r.pkt_dstaddr = None,
            3 => r.dstport = None,
            4 => r.interface_id = None,
            5 => r.pkt_srcaddr = Some("2001:db8:32::7".into()),
            6 => r.pkt_dstaddr = Some("2001:db8:ff::1".into()),
            7 => r.srcaddr = Some("not-an-address".into()),
            8 => r.flow_direction = None,
            _ => {}
        }
    }
    records
}

/// Values the filters draw from: those the records hold, near misses and
/// the two spellings of no value.
fn values(records: &[FlowRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in TEXT.iter().chain(NUMBERS).filter(|f| !f.ends_with("side_addr")) {
        let mut seen: Vec<String> = records.iter().filter_map(|r| r.get(f)).collect();
        seen.sort();
        seen.dedup();
        out.extend(seen.into_iter().step_by(7).take(6));
    }
    out.push(NAT_PRIVATE_IP.into());
    let near: Vec<String> = out.iter().take(12).map(|v| format!("{v}x")).collect();
    out.extend(near);
    out.extend(["".into(), "-".into()]);
    out
}

#[derive(Debug, Clone)]
enum Spec {
    Text { field: &'static str, op: &'static str, value: String },
    Set { field: &'static str, negated: bool, values: Vec<String> },
    Cidr { field: &'static str, negated: bool, net: &'static str },
    Range { field: &'static str, op: &'static str, lo: u64, hi: u64 },
}

#[derive(Debug, Clone)]
struct Case {
    direction: &'static str,
    inside: Vec<&'static str>,
    nat: bool,
    interfaces: Vec<String>,
    filters: Vec<Spec>,
}

fn regex_strategy(values: &[String]) -> BoxedStrategy<String> {
    let mut pieces: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
    pieces.extend(["-", "\\-", ".", ".*", ".+", "[0-9]+", "[a-z]*", "ACC", "eni-", "10\\.0\\."].map(String::from));
    let atom = (prop::sample::select(pieces), prop::sample::select(vec!["", "", "?", "*", "+"])).prop_map(|(a, q)| {
        if q.is_empty() {
            a
        } else {
            format!("(?:{a}){q}")
        }
    });
    let seq = prop::collection::vec(atom, 1..3).prop_map(|v| v.concat());
    let alt = prop_oneof![seq.clone(), Just(String::new()), Just("-".to_string())];
    prop_oneof![2 => seq.clone(), 2 => (seq, alt).prop_map(|(a, b)| format!("{a}|{b}"))].boxed()
}

fn case_strategy(values: Vec<String>) -> BoxedStrategy<Case> {
    let value = prop::sample::select(values.clone());
    let text = (
        prop::sample::select(TEXT.to_vec()),
        prop::sample::select(vec!["=", "!=", "=~", "!~"]),
        value.clone(),
        regex_strategy(&values),
    )
        .prop_map(|(field, op, value, re)| Spec::Text {
            field,
            op,
            value: if op.contains('~') { re } else { value },
        });
    let set = (
        prop::sample::select(TEXT.iter().chain(NUMBERS).copied().collect::<Vec<_>>()),
        any::<bool>(),
        prop::collection::vec(value.clone(), 1..5),
    )
        .prop_map(|(field, negated, values)| Spec::Set { field, negated, values });
    let cidr = (prop::sample::select(ADDRESSES.to_vec()), any::<bool>(), prop::sample::select(NETS.to_vec()))
        .prop_map(|(field, negated, net)| Spec::Cidr { field, negated, net });
    let range = (
        prop::sample::select(NUMBERS.to_vec()),
        prop::sample::select(vec!["range", "<", ">", "<=", ">="]),
        prop_oneof![0u64..70_000, Just(443u64), Just(0u64), Just(1u64)],
        0u64..70_000,
    )
        .prop_map(|(field, op, a, b)| Spec::Range { field, op, lo: a.min(b), hi: a.max(b) });
    let filter = prop_oneof![4 => text, 2 => set, 2 => cidr, 1 => range];
    let interfaces = prop_oneof![
        2 => Just(Vec::new()),
        1 => Just(vec![NAT_ENI.to_string()]),
        1 => prop::collection::vec(
            prop::sample::select(vec![NAT_ENI.to_string(), "eni-0b7e4d1c9a2f63580".into(), "eni-nothing".into()]),
            1..4
        ),
    ];
    let insides = vec![
        vec!["10.0.32.0/20"],
        vec!["10.0.0.0/16"],
        vec!["10.0.32.0/20", "10.0.0.0/16"],
        vec!["10.0.0.0/8", "2001:db8::/32"],
    ];
    (
        prop::sample::select(vec!["all", "in", "out", "any", "any"]),
        prop::sample::select(insides),
        any::<bool>(),
        interfaces,
        prop::collection::vec(filter, 0..4),
    )
        .prop_map(|(mut direction, inside, nat, interfaces, filters)| {
            let sided = filters.iter().any(|f| match f {
                Spec::Text { field, .. } | Spec::Set { field, .. } | Spec::Cidr { field, .. } => {
                    field.ends_with("side_addr")
                }
                Spec::Range { .. } => false,
            });
            if sided && direction == "all" {
                direction = "any";
            }
            Case { direction, inside, nat, interfaces, filters }
        })
        .boxed()
}

impl Case {
    fn target(&self) -> Value {
        let filters: Vec<Value> = self
            .filters
            .iter()
            .map(|f| match f {
                Spec::Text { field, op, value } => json!({"field": field, "op": op, "value": value}),
                Spec::Set { field, negated, values } => {
                    json!({"field": field, "op": if *negated { "!=|" } else { "=|" }, "value": values})
                }
                Spec::Cidr { field, negated, net } => {
                    json!({"field": field, "op": if *negated { "!cidr" } else { "cidr" }, "value": net})
                }
                Spec::Range { field, op: "range", lo, hi } => {
                    json!({"field": field, "op": "range", "value": format!("{lo}-{hi}")})
                }
                Spec::Range { field, op, lo, .. } => json!({"field": field, "op": op, "value": lo.to_string()}),
            })
            .collect();
        let mut t = json!({"refId": "P", "format": "table", "metric": "records", "direction": self.direction,
            "filters": filters, "limit": 10});
        if !self.interfaces.is_empty() {
            t["interfaceId"] = json!(self.interfaces);
        }
        t
    }

    fn settings(&self, fields: bool) -> Settings {
        let mut json_data = json!({"streamSelector": "{logtype=\"flow\"}", "insideCidrs": self.inside});
        if fields {
            json_data["recordMode"] = json!("fields");
        } else {
            json_data["recordFormat"] = json!(MISSION_FORMAT);
        }
        if self.nat {
            json_data["natAddresses"] = json!([NAT_PRIVATE_IP]);
        }
        let bytes = serde_json::to_vec(&json_data).unwrap();
        Settings::from_instance(&InstanceSettings {
            url: "http://localhost:9428",
            json_data: &bytes,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("settings {json_data}: {e}"))
    }

    /// The reference's questions: one per interface of the list (a record
    /// counts when one of them counts it), or one without an interface.
    fn references(&self) -> Vec<RefQuery> {
        let direction = match self.direction {
            "in" => Dir::In,
            "out" => Dir::Out,
            "any" => Dir::Any,
            _ => Dir::All,
        };
        let filters: Vec<RefFilter> = self
            .filters
            .iter()
            .filter_map(|f| {
                let s = |f: &str| f.to_string();
                Some(match f {
                    Spec::Text { op: "=~", value, .. } if value == ".*" => return None, // Grafana's "All"
                    Spec::Text { field, op: "=", value } => RefFilter::Eq(s(field), value.clone()),
                    Spec::Text { field, op: "!=", value } => RefFilter::Ne(s(field), value.clone()),
                    Spec::Text { field, op: "=~", value } => RefFilter::regex(field, value),
                    Spec::Text { field, value, .. } => RefFilter::NotRegex(s(field), reference::anchored(value)),
                    Spec::Set { field, negated: false, values } => RefFilter::In(s(field), values.clone()),
                    Spec::Set { field, negated: true, values } => RefFilter::NotIn(s(field), values.clone()),
                    Spec::Cidr { field, negated: false, net } => RefFilter::cidr(field, net),
                    Spec::Cidr { field, negated: true, net } => RefFilter::NotCidr(s(field), Cidr::parse(net)),
                    Spec::Range { field, op: "range", lo, hi } => RefFilter::range(field, *lo, *hi),
                    Spec::Range { field, op: "<", lo, .. } => RefFilter::range(field, 0, lo - 1),
                    Spec::Range { field, op: "<=", lo, .. } => RefFilter::range(field, 0, *lo),
                    Spec::Range { field, op: ">", lo, .. } => RefFilter::range(field, lo + 1, u64::MAX),
                    Spec::Range { field, lo, .. } => RefFilter::range(field, *lo, u64::MAX),
                })
            })
            .collect();
        let query = |interface_id: Option<String>| RefQuery {
            metric: Metric::Records,
            direction,
            inside: self.inside.iter().map(|n| Cidr::parse(n)).collect(),
            interface_id,
            own: if self.nat { vec![NAT_PRIVATE_IP.to_string()] } else { Vec::new() },
            filters: filters.clone(),
            from_ms: i64::MIN,
            to_ms: i64::MAX,
            namer: None,
        };
        if self.interfaces.is_empty() {
            vec![query(None)]
        } else {
            self.interfaces.iter().map(|id| query(Some(id.clone()))).collect()
        }
    }
}

/// Whether the reference counts the record.
fn reference_counts(queries: &[RefQuery], record: &FlowRecord) -> bool {
    queries.iter().any(|q| reference::matching(std::slice::from_ref(record), q).next().is_some())
}

/// The evaluator: a predicate on one record, a field without a value read
/// as `none` (`-` or `""`).
struct Eval {
    regexes: RefCell<HashMap<String, Regex>>,
}

impl Eval {
    fn new() -> Eval {
        Eval { regexes: RefCell::new(HashMap::new()) }
    }

    fn holds(&self, p: &Pred, r: &FlowRecord, none: &str) -> bool {
        let raw = |field: &str| r.get(field).unwrap_or_else(|| none.to_string());
        let address = |field: &str| raw(field).parse::<IpAddr>().ok();
        match p {
            Pred::All(items) => items.iter().all(|p| self.holds(p, r, none)),
            Pred::Any(items) => items.iter().any(|p| self.holds(p, r, none)),
            Pred::Not(p) => !self.holds(p, r, none),
            Pred::In { field, members } => {
                let v = raw(field);
                members.iter().any(|m| match m {
                    Member::NoValue => v.is_empty() || v == "-",
                    Member::Is(x) => *x == v,
                })
            }
            Pred::Is { field, literal } => raw(field) == *literal,
            Pred::Matches { field, re } => {
                let mut regexes = self.regexes.borrow_mut();
                let re = regexes.entry(re.clone()).or_insert_with(|| Regex::new(re).expect("a valid regex"));
                re.is_match(&raw(field))
            }
            Pred::Inside { field, nets, own } => {
                address(field).is_some_and(|a| nets.iter().any(|n| n.contains(&a)) && !own.contains(&a))
            }
            Pred::InNet { field, net } => address(field).is_some_and(|a| net.contains(&a)),
            Pred::Range { field, lo, hi } => raw(field).parse::<u64>().is_ok_and(|n| (*lo..=*hi).contains(&n)),
        }
    }
}

fn request() -> Request {
    Request { range: TimeRange { from_ms: FROM_MS, to_ms: TO_MS }, interval_ms: 60_000, max_data_points: 1_000 }
}

/// One case: the lowered tree (raw records and fields parsed at ingest)
/// against the reference, record by record, both spellings of no value.
/// `Ok(false)` when the model refuses the query.
fn check(case: &Case, records: &[FlowRecord], eval: &Eval) -> Result<bool, String> {
    let target = case.target();
    let mut refs = None;
    for fields in [false, true] {
        let settings = case.settings(fields);
        let q = match FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &settings) {
            Ok(q) => q,
            Err(_) => return Ok(false),
        };
        let refs = refs.get_or_insert_with(|| case.references());
        let tree = predicate::lower(&q, &settings.schema);
        for r in records {
            let want = reference_counts(refs, r);
            for none in ["-", ""] {
                let got = tree.iter().all(|p| eval.holds(p, r, none));
                if got != want {
                    return Err(format!(
                        "target {target}\nfields mode {fields}, no value read as {none:?}\nrecord {r:?}\ntree {tree:#?}\ngot {got}, reference {want}"
                    ));
                }
            }
        }
    }
    Ok(true)
}

#[test]
fn lowered_filters_count_exactly_the_records_the_reference_counts() {
    let records = records();
    let eval = Eval::new();
    let values = values(&records);
    let parsed = std::cell::Cell::new(0u32);
    let mut runner = hostile::runner(400);
    let result = runner.run(&case_strategy(values), |case| match check(&case, &records, &eval) {
        Ok(ok) => {
            parsed.set(parsed.get() + u32::from(ok));
            Ok(())
        }
        Err(e) => Err(TestCaseError::fail(e)),
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(parsed.get() >= 200, "only {} generated queries were valid", parsed.get());
}

/// The ranked-keys restriction: a record is kept exactly when its group key
/// (no value as `""`, as the reference's groups show it) is one of the keys.
#[test]
fn ranked_keys_keep_exactly_the_records_of_the_keys() {
    let records = records();
    let eval = Eval::new();
    let everything =
        RefQuery { metric: Metric::Records, ..RefQuery::new(Dir::All, "10.0.0.0/8", None, i64::MIN, i64::MAX) };
    let key_of = |r: &FlowRecord, group_by: &[&str]| {
        reference::groups(std::slice::from_ref(r), &everything, group_by).remove(0).0
    };
    for group_by in
        [vec!["dstport"], vec!["action"], vec!["pkt_srcaddr", "dstport"], vec!["interface_id", "action", "pkt_dstaddr"]]
    {
        let mut keys: Vec<Vec<String>> = records.iter().step_by(5).map(|r| key_of(r, &group_by)).collect();
        keys.sort();
        keys.dedup();
        keys.truncate((keys.len() / 2).clamp(1, 30));
        keys.push(group_by.iter().map(|_| "nothing".to_string()).collect());
        keys.push(group_by.iter().map(|_| "-".to_string()).collect());
        let owned: Vec<String> = group_by.iter().map(|f| f.to_string()).collect();
        let tree = predicate::keys(&owned, &keys);
        let mut kept = 0;
        for r in &records {
            let key = key_of(r, &group_by);
            // A key asked as `-` asks for no value, as `""` does.
            let want = keys.iter().any(|k| k.iter().zip(&key).all(|(a, b)| a == b || (a == "-" && b.is_empty())));
            for none in ["-", ""] {
                assert_eq!(eval.holds(&tree, r, none), want, "{group_by:?} {key:?} read as {none:?}\n{tree:?}");
            }
            kept += usize::from(want);
        }
        assert!(kept > 0 && kept < records.len(), "{group_by:?}: {kept} of {} kept", records.len());
    }
}
