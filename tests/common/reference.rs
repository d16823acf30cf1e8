//! Independent reference answers: totals, top-N groups and time buckets
//! computed directly from generated records, without any flowlens query,
//! schema or model code, to check what the plugin gets from a backend.
//!
//! Semantics: a record counts when its time is in `[from_ms, to_ms)`, its
//! interface matches (when one is given), its direction matches and every
//! filter holds. A field AWS writes as `-` has no value, as AWS means it:
//! it equals only the filter values `""` and `-` (which ask for "no
//! value"), a regex matches it when it matches the empty string, it is in no
//! network and no range; group keys show it as `""`; it adds 0 to sums (the
//! record still counts for `Records`). Addresses are IPv4 or IPv6.
#![allow(dead_code)] // each test crate uses a different part

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use flowlens_devtools::gen::FlowRecord;
use regex::Regex;

/// What is summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Bytes,
    Packets,
    /// One per record.
    Records,
}

/// Which records count, relative to the inside CIDRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `pkt_dstaddr` inside.
    In,
    /// `pkt_srcaddr` inside.
    Out,
    /// Either inside.
    Any,
    /// No direction check.
    All,
}

/// An IPv4 or IPv6 network, as 128-bit numbers (IPv4 mapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    v6: bool,
    base: u128,
    prefix: u8,
}

fn as_bits(addr: IpAddr) -> (bool, u128) {
    match addr {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

impl Cidr {
    /// `"10.0.32.0/20"`, `"2001:db8::/32"`, or a bare address.
    pub fn parse(text: &str) -> Cidr {
        let (addr, prefix) = text.split_once('/').map_or((text, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = addr.parse().unwrap_or_else(|_| panic!("bad CIDR address in {text:?}"));
        let (v6, bits) = as_bits(addr);
        let width = if v6 { 128 } else { 32 };
        let prefix: u8 = prefix
            .map_or(Some(width), |p| p.parse().ok())
            .filter(|p| *p <= width)
            .unwrap_or_else(|| panic!("bad prefix in {text:?}"));
        Cidr { v6, base: bits & mask(v6, prefix), prefix }
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `value` is an address (of the same family) inside the network.
    pub fn contains(&self, value: &str) -> bool {
        value.parse::<IpAddr>().is_ok_and(|a| {
            let (v6, bits) = as_bits(a);
            v6 == self.v6 && bits & mask(v6, self.prefix) == self.base
        })
    }
}

fn mask(v6: bool, prefix: u8) -> u128 {
    let (width, all) = if v6 { (128, u128::MAX) } else { (32, u128::from(u32::MAX)) };
    let host_bits = width - u32::from(prefix);
    let host = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    all & !host
}

/// A condition on one canonical field.
#[derive(Debug, Clone)]
pub enum RefFilter {
    Eq(String, String),
    Ne(String, String),
    /// Anchored: the whole value must match (see [`anchored`]).
    Regex(String, Regex),
    NotRegex(String, Regex),
    Cidr(String, Cidr),
    /// True for missing and non-IPv4 values.
    NotCidr(String, Cidr),
    /// Inclusive; false for missing and non-numeric values.
    Range(String, u64, u64),
    /// Equal to one of the values.
    In(String, Vec<String>),
    /// Equal to none of the values.
    NotIn(String, Vec<String>),
}

impl RefFilter {
    /// `field =~ re` (anchored).
    pub fn regex(field: &str, re: &str) -> RefFilter {
        RefFilter::Regex(field.to_string(), anchored(re))
    }

    /// `field = value`.
    pub fn eq(field: &str, value: &str) -> RefFilter {
        RefFilter::Eq(field.to_string(), value.to_string())
    }

    /// `field` inside `cidr`.
    pub fn cidr(field: &str, cidr: &str) -> RefFilter {
        RefFilter::Cidr(field.to_string(), Cidr::parse(cidr))
    }

    /// `field` in `lo..=hi`.
    pub fn range(field: &str, lo: u64, hi: u64) -> RefFilter {
        RefFilter::Range(field.to_string(), lo, hi)
    }

    /// Whether the filter holds; `inside_addr`/`outside_addr` read the
    /// address fields of `reading`.
    fn holds(&self, record: &FlowRecord, reading: Option<(&str, &str)>, namer: Option<&Namer>) -> bool {
        let value = |field: &str| {
            if let (Some(namer), Some(reading)) = (namer, reading) {
                if let Some(name) = (namer.0)(record, field, reading) {
                    return Some(name);
                }
            }
            let field = match (field, reading) {
                ("inside_addr", Some((inside, _))) => inside,
                ("outside_addr", Some((_, outside))) => outside,
                ("inside_addr" | "outside_addr", None) => panic!("{field} needs a direction"),
                (f, _) => f,
            };
            record.get(field)
        };
        // "No value" is asked for as "" or "-".
        let equals = |value: &Option<String>, v: &str| match value {
            Some(x) => x == v,
            None => v.is_empty() || v == "-",
        };
        match self {
            RefFilter::Eq(f, v) => equals(&value(f), v),
            RefFilter::Ne(f, v) => !equals(&value(f), v),
            RefFilter::Regex(f, re) => re.is_match(value(f).as_deref().unwrap_or("")),
            RefFilter::NotRegex(f, re) => !re.is_match(value(f).as_deref().unwrap_or("")),
            RefFilter::Cidr(f, c) => value(f).is_some_and(|v| c.contains(&v)),
            RefFilter::NotCidr(f, c) => !value(f).is_some_and(|v| c.contains(&v)),
            RefFilter::Range(f, lo, hi) => {
                value(f).and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| (*lo..=*hi).contains(&n))
            }
            RefFilter::In(f, vs) => {
                let value = value(f);
                vs.iter().any(|v| equals(&value, v))
            }
            RefFilter::NotIn(f, vs) => {
                let value = value(f);
                !vs.iter().any(|v| equals(&value, v))
            }
        }
    }
}

/// `re` compiled to match whole values only.
pub fn anchored(re: &str) -> Regex {
    Regex::new(&format!("^(?:{re})$")).unwrap_or_else(|e| panic!("bad regex {re:?}: {e}"))
}

/// A question to answer from records.
#[derive(Debug, Clone)]
pub struct RefQuery {
    pub metric: Metric,
    pub direction: Dir,
    pub inside: Vec<Cidr>,
    pub interface_id: Option<String>,
    /// The interface's own addresses: never inside, whatever the CIDRs say.
    pub own: Vec<String>,
    pub filters: Vec<RefFilter>,
    pub from_ms: i64,
    /// Exclusive.
    pub to_ms: i64,
    /// Names (`workload`, `remote_service`): the name a field gives a
    /// record read one way round ((inside, outside) address fields), `None`
    /// for a field that is not a name.
    pub namer: Option<Namer>,
}

/// What names a record's address, for [`RefQuery::namer`].
#[derive(Clone)]
pub struct Namer(pub std::sync::Arc<NameOf>);

/// A record, a field and the (inside, outside) address fields -> the name.
pub type NameOf = dyn Fn(&FlowRecord, &str, (&str, &str)) -> Option<String> + Send + Sync;

impl std::fmt::Debug for Namer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Namer")
    }
}

impl RefQuery {
    /// Bytes in `direction` on `interface_id` (the NAT ENI in most tests),
    /// pods in `inside`, over `[from_ms, to_ms)`, no filters.
    pub fn new(direction: Dir, inside: &str, interface_id: Option<&str>, from_ms: i64, to_ms: i64) -> RefQuery {
        RefQuery {
            metric: Metric::Bytes,
            direction,
            inside: vec![Cidr::parse(inside)],
            interface_id: interface_id.map(str::to_string),
            own: Vec::new(),
            filters: Vec::new(),
            from_ms,
            to_ms,
            namer: None,
        }
    }

    /// In the time window, on the interface, and for some way round the
    /// record can be read in this direction (which of its addresses is the
    /// inside one), the inside address is inside and every filter holds.
    fn matches(&self, record: &FlowRecord) -> bool {
        (self.from_ms..self.to_ms).contains(&record.time_ms)
            && self.interface_id.as_ref().is_none_or(|id| record.get("interface_id").as_ref() == Some(id))
            && self.readings().iter().any(|reading| {
                reading.is_none_or(|(inside_field, _)| {
                    record.get(inside_field).is_some_and(|value| {
                        self.inside.iter().any(|c| c.contains(&value)) && !self.own.contains(&value)
                    })
                }) && self.filters.iter().all(|f| f.holds(record, *reading, self.namer.as_ref()))
            })
    }

    /// The ways round a record is read: (inside address field, outside
    /// address field), or `None` for no direction.
    fn readings(&self) -> Vec<Option<(&'static str, &'static str)>> {
        const IN: (&str, &str) = ("pkt_dstaddr", "pkt_srcaddr");
        const OUT: (&str, &str) = ("pkt_srcaddr", "pkt_dstaddr");
        match self.direction {
            Dir::In => vec![Some(IN)],
            Dir::Out => vec![Some(OUT)],
            Dir::Any => vec![Some(OUT), Some(IN)],
            Dir::All => vec![None],
        }
    }

    fn value(&self, record: &FlowRecord) -> u64 {
        let number = |field: &str| record.get(field).and_then(|v| v.parse().ok()).unwrap_or(0);
        match self.metric {
            Metric::Bytes => number("bytes"),
            Metric::Packets => number("packets"),
            Metric::Records => 1,
        }
    }
}

/// The records the query counts, in their order (e.g. for raw-log checks).
pub fn matching<'a>(records: &'a [FlowRecord], query: &'a RefQuery) -> impl Iterator<Item = &'a FlowRecord> + 'a {
    records.iter().filter(|r| query.matches(r))
}

/// The metric summed over every matching record.
pub fn total(records: &[FlowRecord], query: &RefQuery) -> u64 {
    matching(records, query).map(|r| query.value(r)).sum()
}

/// The group key of a record: the values of `group_by` (names by the
/// query's namer, read in its direction), `""` for missing.
fn key(record: &FlowRecord, query: &RefQuery, group_by: &[&str]) -> Vec<String> {
    let reading = query.readings().first().copied().flatten();
    let name = |f: &str| query.namer.as_ref().zip(reading).and_then(|(namer, reading)| (namer.0)(record, f, reading));
    group_by.iter().map(|f| name(f).or_else(|| record.get(f)).unwrap_or_default()).collect()
}

/// The metric per group, largest first; ties by keys in natural order (first
/// key first). Every group with a matching record is listed, even at 0.
pub fn groups(records: &[FlowRecord], query: &RefQuery, group_by: &[&str]) -> Vec<(Vec<String>, u64)> {
    let mut sums: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for record in matching(records, query) {
        *sums.entry(key(record, query, group_by)).or_default() += query.value(record);
    }
    // A group whose metric sums to 0 (the bytes of records without any) is
    // no group: Loki drops those records at `unwrap` and never sees it.
    let mut groups: Vec<(Vec<String>, u64)> = sums.into_iter().filter(|(_, v)| *v > 0).collect();
    groups.sort_by(|(ka, va), (kb, vb)| vb.cmp(va).then_with(|| natural_keys(ka, kb)));
    groups
}

/// The metric per group and per bucket of `step_ms` (bucket starts are
/// multiples of `step_ms` since the epoch). Only buckets with a matching
/// record are present.
pub fn buckets(
    records: &[FlowRecord],
    query: &RefQuery,
    group_by: &[&str],
    step_ms: i64,
) -> BTreeMap<Vec<String>, BTreeMap<i64, u64>> {
    let mut series: BTreeMap<Vec<String>, BTreeMap<i64, u64>> = BTreeMap::new();
    for record in matching(records, query) {
        let bucket = record.time_ms - record.time_ms.rem_euclid(step_ms);
        *series.entry(key(record, query, group_by)).or_default().entry(bucket).or_default() += query.value(record);
    }
    series
}

/// Keys compared value by value with [`natural`].
pub fn natural_keys(a: &[String], b: &[String]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| natural(x, y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Two numbers compare numerically, two IPv4 addresses numerically, anything
/// else byte-wise.
pub fn natural(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<u64>(), b.parse::<u64>()) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
        return x.cmp(&y);
    }
    a.as_bytes().cmp(b.as_bytes())
}

/// The number of distinct values of `field` per group over the matching
/// records that have a value of it, largest first, ties by key in natural
/// order; with `step_ms`, per bucket instead (bucket start -> count).
pub fn distinct(records: &[FlowRecord], query: &RefQuery, group_by: &[&str], field: &str) -> Vec<(Vec<String>, u64)> {
    let mut sets: BTreeMap<Vec<String>, std::collections::HashSet<String>> = BTreeMap::new();
    for record in matching(records, query) {
        if let Some(value) = record.get(field) {
            sets.entry(key(record, query, group_by)).or_default().insert(value);
        }
    }
    let mut groups: Vec<(Vec<String>, u64)> = sets.into_iter().map(|(k, s)| (k, s.len() as u64)).collect();
    groups.sort_by(|(ka, va), (kb, vb)| vb.cmp(va).then_with(|| natural_keys(ka, kb)));
    groups
}

/// Distinct values of `field` per bucket of `step_ms`, over every group.
pub fn distinct_buckets(records: &[FlowRecord], query: &RefQuery, field: &str, step_ms: i64) -> BTreeMap<i64, u64> {
    let mut sets: BTreeMap<i64, std::collections::HashSet<String>> = BTreeMap::new();
    for record in matching(records, query) {
        if let Some(value) = record.get(field) {
            sets.entry(record.time_ms - record.time_ms.rem_euclid(step_ms)).or_default().insert(value);
        }
    }
    sets.into_iter().map(|(t, s)| (t, s.len() as u64)).collect()
}
