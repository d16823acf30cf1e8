//! The strategies that generate cases: filter values (held, near misses,
//! fresh), regexes with the same meaning in Rust's regex and RE2,
//! networks, and whole cases over a fixture's fields.

use std::net::IpAddr;

use ipnet::IpNet;
use proptest::prelude::*;

use crate::common::hostile;
use crate::oracle::{is_sided, resolve, Case, Fixture, Spec};
use crate::{ADDRESSES, PORTS};

/// A filter value: one the records hold, a near miss of one, or fresh.
pub fn value_strategy(values: &[String]) -> BoxedStrategy<String> {
    let pool = prop::sample::select(values.to_vec());
    prop_oneof![
        4 => pool.clone(),
        2 => pool.prop_flat_map(hostile::near),
        2 => hostile::hostile_string(),
    ]
    .boxed()
}

/// A regex built from constructs with the same meaning in Rust's regex and
/// Go's RE2 (which VictoriaLogs runs): escaped literals, `\x{..}` escapes,
/// `.`, classes, groups, alternation, repetition.
pub fn regex_strategy(values: &[String]) -> BoxedStrategy<String> {
    let hex = |s: &str| s.chars().map(|c| format!("\\x{{{:x}}}", c as u32)).collect::<String>();
    let pieces: Vec<String> = values
        .iter()
        .flat_map(|v| {
            let chars: Vec<char> = v.chars().collect();
            let half: String = chars[..chars.len() / 2].iter().collect();
            [regex::escape(v), regex::escape(&half), hex(&half)]
        })
        .filter(|p| p.len() < 300)
        .collect();
    let atom = prop_oneof![
        4 => prop::sample::select(pieces),
        1 => Just(".".to_string()),
        1 => Just(".*".to_string()),
        1 => prop::sample::select(hostile::FRAGMENTS).prop_map(move |f| format!("[{}a-c]", hex(f))),
    ];
    let quantified = (atom, prop::sample::select(vec!["", "", "", "?", "*", "+", "{0,2}"])).prop_map(|(a, q)| {
        if q.is_empty() {
            a
        } else {
            format!("(?:{a}){q}")
        }
    });
    let seq = prop::collection::vec(quantified, 1..4).prop_map(|v| v.concat());
    prop_oneof![3 => seq.clone(), 1 => (seq.clone(), seq).prop_map(|(a, b)| format!("{a}|{b}"))].boxed()
}

pub fn net_strategy() -> BoxedStrategy<IpNet> {
    let v4: Vec<IpAddr> = ADDRESSES.iter().filter_map(|a| a.parse().ok()).filter(IpAddr::is_ipv4).collect();
    let fixed: Vec<IpNet> = [
        "10.0.32.0/20",
        "10.0.32.0/24",
        "10.0.32.1/32",
        "10.0.0.0/8",
        "0.0.0.0/0",
        "110.0.0.0/8",
        "10.0.48.0/20",
        "2001:db8:32::/48",
        "2001:db8::/32",
        "2001:db8:32:ffff::/64",
        "2600::/12",
    ]
    .iter()
    .map(|n| n.parse().unwrap())
    .collect();
    // IPv6 networks that hold ::ffff:0:0/96 are left out: VictoriaLogs'
    // ipv6_range also matches plain IPv4 addresses as IPv4-mapped ones.
    prop_oneof![
        2 => prop::sample::select(fixed),
        1 => (prop::sample::select(v4), 0u8..=32).prop_map(|(a, p)| IpNet::new(a, p).unwrap().trunc()),
    ]
    .boxed()
}

pub fn case_strategy(fx: &Fixture) -> BoxedStrategy<Case> {
    let mut text_fields = fx.text.clone();
    text_fields.extend(fx.addresses.iter().copied());
    text_fields.extend(["inside_addr", "outside_addr"]);
    let addr_fields: Vec<&'static str> = fx.addresses.iter().copied().chain(["inside_addr", "outside_addr"]).collect();
    let text = (
        prop::sample::select(text_fields),
        prop::sample::select(vec!["=", "!=", "=~", "!~", "=~e", "!~e"]),
        value_strategy(&fx.values),
        regex_strategy(&fx.values),
    )
        .prop_map(|(field, op, value, re)| match op {
            "=~e" | "!~e" => Spec::Text { field, op: &op[..2], value: regex::escape(&value) },
            "=~" | "!~" => Spec::Text { field, op, value: re },
            _ => Spec::Text { field, op, value },
        });
    let cidr = (prop::sample::select(addr_fields), any::<bool>(), net_strategy())
        .prop_map(|(field, negated, net)| Spec::Cidr { field, negated, net });
    let ranges =
        (prop::sample::select(fx.numbers.clone()), 0u64..70_000, 0u64..70_000, prop::sample::select(PORTS.to_vec()))
            .prop_map(|(field, a, b, port)| {
                let (lo, hi) = if a % 3 == 0 { (port, port) } else { (a.min(b), a.max(b)) };
                Spec::Range { field, lo, hi }
            });
    let filter = prop_oneof![5 => text, 2 => cidr, 1 => ranges];
    let mut group_fields: Vec<&'static str> = fx.text.clone();
    group_fields.extend(fx.addresses.iter().copied());
    group_fields.extend(["dstport", "outside_addr", "inside_addr"]);
    let variants = fx.datasources.len();
    let addresses = fx.addresses.clone();
    let interface = prop::option::weighted(0.25, value_strategy(&fx.values));
    (
        0..variants,
        prop::sample::select(vec!["stat", "table", "table", "series"]),
        prop::sample::select(vec!["bytes", "packets", "records"]),
        prop::sample::select(vec!["all", "all", "in", "out", "any"]),
        prop::collection::vec(filter, 0..4),
        prop::sample::subsequence(group_fields, 0..3).prop_shuffle(),
        interface,
    )
        .prop_map(move |(variant, format, metric, mut direction, filters, mut group_by, interface_id)| {
            match format {
                "stat" => group_by.clear(),
                "series" => group_by.truncate(1),
                _ => {}
            }
            if group_by.iter().any(|g| is_sided(g)) && !matches!(direction, "in" | "out") {
                direction = "in";
            }
            // `outside_addr` may resolve to a field that is listed too.
            let (src, dst) = (addresses[0], addresses[1]);
            let reading = if direction == "out" { (src, dst) } else { (dst, src) };
            let mut seen = Vec::new();
            group_by.retain(|g| {
                let r = resolve(g, Some(reading));
                let fresh = !seen.contains(&r);
                seen.push(r);
                fresh
            });
            let sided_filter = filters.iter().any(|f| match f {
                Spec::Text { field, .. } | Spec::Cidr { field, .. } => is_sided(field),
                Spec::Range { .. } => false,
            });
            if sided_filter && direction == "all" {
                direction = "any";
            }
            Case { variant, format, metric, direction, filters, group_by, interface_id }
        })
        .boxed()
}

/// Runs `cases` generated cases through `check`; panics with the (shrunk)
/// failing case.
pub fn run_cases(fx: &Fixture, cases: u32, what: &str, check: impl Fn(Case) -> Result<(), String>) {
    let result = hostile::runner(cases).run(&case_strategy(fx), |case| check(case).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{what}: {e}");
    }
}
