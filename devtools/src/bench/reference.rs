//! The benchmark's own answers, computed in process from the generated
//! records with none of flowlens's query, schema or model code (a minimal
//! mirror of `tests/common/reference.rs` for the dashboard's panels): a
//! record counts when its time is in `[from, to)`, it is on the NAT
//! interface, and its `pkt_dstaddr` (in), `pkt_srcaddr` (out) or either
//! (any) is inside the pod CIDR. A field AWS writes as `-` is in no network,
//! adds 0 and groups as `""`. Answers are sums, so they are added up one
//! generated record set at a time ([`Expect::add`]): the 4x scale never
//! holds every record in memory.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::gen::{FlowRecord, Template, Value};

/// Which records count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
    Any,
}

impl Dir {
    /// The dashboard's `direction` name.
    pub fn parse(name: &str) -> Result<Dir, String> {
        match name {
            "in" => Ok(Dir::In),
            "out" => Ok(Dir::Out),
            "any" => Ok(Dir::Any),
            other => Err(format!("direction {other:?}: the benchmark knows in, out and any")),
        }
    }
}

/// What a panel target asks, as the reference computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Bytes over the range.
    Stat(Dir),
    /// Bytes/sec per bucket.
    Rate(Dir),
    /// The top `limit` groups over the range.
    Table { dir: Dir, group_by: Vec<String>, limit: usize },
    /// Bytes/sec per bucket of each of the top `limit` groups.
    TopSeries { dir: Dir, group_by: Vec<String>, limit: usize },
    /// The newest `limit` records.
    Logs { dir: Dir, limit: usize },
}

/// Where and when records count.
#[derive(Debug, Clone)]
pub struct Scope {
    pub interface_id: String,
    pub inside: IpNet,
    pub from_ms: i64,
    pub to_ms: i64,
    pub step_ms: i64,
}

impl Scope {
    fn inside(&self, record: &FlowRecord, field: &str) -> bool {
        match record.value(field) {
            Some(Value::Text(v)) => v.parse::<IpAddr>().is_ok_and(|a| self.inside.contains(&a)),
            _ => false,
        }
    }

    /// Whether the record counts in direction `dir`.
    pub fn matches(&self, record: &FlowRecord, dir: Dir) -> bool {
        (self.from_ms..self.to_ms).contains(&record.time_ms)
            && record.value("interface_id") == Some(Value::Text(&self.interface_id))
            && match dir {
                Dir::In => self.inside(record, "pkt_dstaddr"),
                Dir::Out => self.inside(record, "pkt_srcaddr"),
                Dir::Any => self.inside(record, "pkt_dstaddr") || self.inside(record, "pkt_srcaddr"),
            }
    }

    fn bucket(&self, record: &FlowRecord) -> i64 {
        record.time_ms - record.time_ms.rem_euclid(self.step_ms)
    }
}

/// A group key: the group-by values, `""` for no value.
pub type Key = Vec<String>;

/// The reference answer of one target, summed over the record sets seen.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Total(u64),
    /// Bucket start (ms) -> bytes; buckets without records absent.
    Buckets(BTreeMap<i64, u64>),
    /// Key -> bytes over the range.
    Groups(BTreeMap<Key, u64>),
    /// Key -> bucket start -> bytes.
    GroupBuckets(BTreeMap<Key, BTreeMap<i64, u64>>),
    /// The newest matching records, newest first: at least `limit` of them
    /// (all records of the oldest time kept), or every matching record.
    Newest(Vec<LogRecord>),
}

/// A matching record as both streams hold it: its time, its raw line in
/// the mission's format, and in the fields stream its summary line and its
/// fields (canonical names, as the benchmark loads them) with the stream
/// labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub time_ms: i64,
    pub line: String,
    pub summary: String,
    pub labels: BTreeMap<String, String>,
}

/// The fields stream's stream labels (see `devtools/src/bench/mod.rs`).
pub const FIELDS_STREAM: [(&str, &str); 2] = [("logtype", "flowfields"), ("environment", "ops")];

impl LogRecord {
    fn new(r: &FlowRecord, template: &Template) -> LogRecord {
        let summary = crate::load::summary(r);
        let mut labels: BTreeMap<String, String> =
            FIELDS_STREAM.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        for aws in template.fields() {
            let canonical = crate::gen::canonical(aws);
            if let Some(v) = r.value(&canonical) {
                labels.insert(canonical, v.to_string());
            }
        }
        LogRecord { time_ms: r.time_ms, line: template.render(r), summary, labels }
    }
}

fn bytes(record: &FlowRecord) -> u64 {
    match record.value("bytes") {
        Some(Value::Number(n)) => n,
        _ => 0,
    }
}

fn key(record: &FlowRecord, group_by: &[String]) -> Key {
    group_by.iter().map(|f| record.value(f).map(|v| v.to_string()).unwrap_or_default()).collect()
}

impl Expect {
    /// The empty answer of a kind.
    pub fn new(kind: &Kind) -> Expect {
        match kind {
            Kind::Stat(_) => Expect::Total(0),
            Kind::Rate(_) => Expect::Buckets(BTreeMap::new()),
            Kind::Table { .. } => Expect::Groups(BTreeMap::new()),
            Kind::TopSeries { .. } => Expect::GroupBuckets(BTreeMap::new()),
            Kind::Logs { .. } => Expect::Newest(Vec::new()),
        }
    }

    /// Adds the matching records of one record set.
    pub fn add(&mut self, kind: &Kind, scope: &Scope, records: &[FlowRecord], template: &Template) {
        let dir = match kind {
            Kind::Stat(d) | Kind::Rate(d) => *d,
            Kind::Table { dir, .. } | Kind::TopSeries { dir, .. } | Kind::Logs { dir, .. } => *dir,
        };
        let matching = records.iter().filter(|r| scope.matches(r, dir));
        match (self, kind) {
            (Expect::Total(total), _) => *total += matching.map(bytes).sum::<u64>(),
            (Expect::Buckets(buckets), _) => {
                for r in matching {
                    *buckets.entry(scope.bucket(r)).or_default() += bytes(r);
                }
            }
            (Expect::Groups(groups), Kind::Table { group_by, .. }) => {
                for r in matching {
                    *groups.entry(key(r, group_by)).or_default() += bytes(r);
                }
            }
            (Expect::GroupBuckets(series), Kind::TopSeries { group_by, .. }) => {
                for r in matching {
                    *series.entry(key(r, group_by)).or_default().entry(scope.bucket(r)).or_default() += bytes(r);
                }
            }
            (Expect::Newest(newest), Kind::Logs { limit, .. }) => {
                let mut times: Vec<i64> = matching.clone().map(|r| r.time_ms).collect();
                times.sort_unstable_by(|a, b| b.cmp(a));
                let Some(&cut) = times.get(limit.saturating_sub(1)).or(times.last()) else { return };
                newest.extend(matching.filter(|r| r.time_ms >= cut).map(|r| LogRecord::new(r, template)));
                newest.sort_by_key(|b| std::cmp::Reverse(b.time_ms));
                if let Some(cut) = newest.get(limit.saturating_sub(1)).map(|r| r.time_ms) {
                    newest.retain(|r| r.time_ms >= cut);
                }
            }
            _ => unreachable!("an answer is made by Expect::new for its kind"),
        }
    }
}

/// Groups largest first; ties by keys in natural order.
pub fn ranked(groups: &BTreeMap<Key, u64>) -> Vec<(Key, u64)> {
    let mut ranked: Vec<(Key, u64)> = groups.iter().map(|(k, v)| (k.clone(), *v)).collect();
    ranked.sort_by(|(ka, va), (kb, vb)| vb.cmp(va).then_with(|| natural_keys(ka, kb)));
    ranked
}

/// Per-key totals of per-key buckets.
pub fn totals(series: &BTreeMap<Key, BTreeMap<i64, u64>>) -> BTreeMap<Key, u64> {
    series.iter().map(|(k, b)| (k.clone(), b.values().sum())).collect()
}

fn natural_keys(a: &[String], b: &[String]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| natural(x, y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Numbers numerically, IPv4 addresses numerically, anything else byte-wise.
fn natural(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<u64>(), b.parse::<u64>()) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
        return x.cmp(&y);
    }
    a.as_bytes().cmp(b.as_bytes())
}
