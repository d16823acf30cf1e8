//! The oracle: a generated case (filters, group-by, interface id) as a
//! target, and what it must answer, computed straight from the loaded
//! records; the frames the plugin answered, read back into the same shape.

use std::collections::BTreeMap;
use std::net::IpAddr;

use flowlens::datasource::Datasource;
use flowlens::frame::{Frame, Values};
use ipnet::IpNet;
use serde_json::{json, Value};

use crate::{INSIDE, INTERVAL_MS};

/// A loaded record: canonical field -> value (absent: no such field).
#[derive(Debug, Clone)]
pub struct Rec {
    pub time_ms: i64,
    pub fields: BTreeMap<&'static str, String>,
}

impl Rec {
    /// The value as a query sees it: a missing field and AWS's `-` are
    /// "no value" and read as "".
    pub fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", |v| if v == "-" { "" } else { v.as_str() })
    }
}

/// What a fixture holds and which fields a generated query may use.
pub struct Fixture {
    pub records: Vec<Rec>,
    /// String fields holding hostile values.
    pub text: Vec<&'static str>,
    /// Address fields; the first two are the ones `direction` reads (src, dst).
    pub addresses: Vec<&'static str>,
    pub numbers: Vec<&'static str>,
    /// Hostile values in the records.
    pub values: Vec<String>,
    /// Datasources over the same records, differing in log field names.
    pub datasources: Vec<(Value, Datasource)>,
    /// Whether the structure check applies (no value-dependent pre-filters).
    pub fields_mode: bool,
}

/// A filter as generated: what the target says.
#[derive(Debug, Clone)]
pub enum Spec {
    /// `=`, `!=`, `=~`, `!~` with the value as sent (for `=~` often
    /// `regex::escape` of a string, which must match exactly that string).
    Text {
        field: &'static str,
        op: &'static str,
        value: String,
    },
    Cidr {
        field: &'static str,
        negated: bool,
        net: IpNet,
    },
    Range {
        field: &'static str,
        lo: u64,
        hi: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Case {
    pub variant: usize,
    pub format: &'static str,
    pub metric: &'static str,
    pub direction: &'static str,
    pub filters: Vec<Spec>,
    pub group_by: Vec<&'static str>,
    pub interface_id: Option<String>,
}

pub fn is_sided(f: &str) -> bool {
    f == "inside_addr" || f == "outside_addr"
}

impl Case {
    pub fn target(&self) -> Value {
        let filters: Vec<Value> = self
            .filters
            .iter()
            .map(|f| match f {
                Spec::Text { field, op, value, .. } => json!({"field": field, "op": op, "value": value}),
                Spec::Cidr { field, negated, net } => {
                    json!({"field": field, "op": if *negated { "!cidr" } else { "cidr" }, "value": net.to_string()})
                }
                Spec::Range { field, lo, hi } => json!({"field": field, "op": "range", "value": format!("{lo}-{hi}")}),
            })
            .collect();
        let mut t = json!({"refId": "H", "format": self.format, "metric": self.metric, "direction": self.direction,
            "groupBy": self.group_by, "filters": filters, "other": false});
        match self.format {
            "table" => t["limit"] = json!(10_000),
            "series" => t["limit"] = json!(1_000),
            _ => {}
        }
        if let Some(id) = &self.interface_id {
            t["interfaceId"] = json!(id);
        }
        t
    }

    /// The same case with every string value replaced by a plain
    /// placeholder `PH<i>Z`, and what each placeholder stands for inside a
    /// string literal.
    pub fn placeholders(&self) -> (Case, Vec<String>) {
        let mut case = self.clone();
        let mut actual = Vec::new();
        for f in &mut case.filters {
            if let Spec::Text { value, .. } = f {
                if value == ".*" {
                    continue; // Grafana's All: dropped whatever the field
                }
                actual.push(value.clone());
                *value = format!("PH{}Z", actual.len() - 1);
            }
        }
        if let Some(id) = &mut case.interface_id {
            if !id.trim().is_empty() {
                actual.push(id.trim().to_string());
                *id = format!("PH{}Z", actual.len() - 1);
            }
        }
        (case, actual)
    }

    /// (inside field, outside field) for each way round a record may be read.
    pub fn readings(&self, fx: &Fixture) -> Vec<Option<(&'static str, &'static str)>> {
        let (src, dst) = (fx.addresses[0], fx.addresses[1]);
        match self.direction {
            "in" => vec![Some((dst, src))],
            "out" => vec![Some((src, dst))],
            "any" => vec![Some((src, dst)), Some((dst, src))],
            _ => vec![None],
        }
    }

    /// The group fields as record fields (direction-relative ones resolved).
    pub fn resolved_group(&self, fx: &Fixture) -> Vec<&'static str> {
        let reading = self.readings(fx)[0];
        self.group_by.iter().map(|g| resolve(g, reading)).collect()
    }
}

pub fn resolve(field: &'static str, reading: Option<(&'static str, &'static str)>) -> &'static str {
    match (field, reading) {
        ("inside_addr", Some((inside, _))) => inside,
        ("outside_addr", Some((_, outside))) => outside,
        (f, _) => f,
    }
}

pub fn inside_nets() -> Vec<IpNet> {
    INSIDE.iter().map(|n| n.parse().unwrap()).collect()
}

pub fn in_net(value: &str, net: &IpNet) -> bool {
    value.parse::<IpAddr>().is_ok_and(|a| net.contains(&a))
}

/// The regex as VictoriaLogs applies it: the whole value, and `.` also
/// matches a newline (its regexes run in dotall mode, like Prometheus'
/// label matchers).
pub fn anchored(re: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?s:{re})$")).unwrap()
}

/// The case's regexes, compiled once.
pub type Regexes = BTreeMap<String, regex::Regex>;

pub fn regexes(case: &Case) -> Regexes {
    case.filters
        .iter()
        .filter_map(|f| match f {
            Spec::Text { op: "=~" | "!~", value, .. } => Some((value.clone(), anchored(value))),
            _ => None,
        })
        .collect()
}

/// The oracle: whether a record counts, straight from the loaded values.
pub fn matches(case: &Case, fx: &Fixture, regexes: &Regexes, inside: &[IpNet], r: &Rec) -> bool {
    let interface_ok = match case.interface_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => r.get("interface_id") == if id == "-" { "" } else { id },
        _ => true,
    };
    interface_ok
        && case.readings(fx).into_iter().any(|reading| {
            reading.is_none_or(|(inside_field, _)| inside.iter().any(|n| in_net(r.get(inside_field), n)))
                && case.filters.iter().all(|f| match f {
                    Spec::Text { field, op, value, .. } => {
                        let v = r.get(resolve(field, reading));
                        // Asking for "" or "-" asks for no value.
                        let value_is = |v: &str| v == if value == "-" { "" } else { value.as_str() };
                        match *op {
                            "=" => value_is(v),
                            "!=" => !value_is(v),
                            "=~" => value == ".*" || regexes[value].is_match(v), // `.*`: Grafana's All
                            _ => !regexes[value].is_match(v),
                        }
                    }
                    Spec::Cidr { field, negated, net } => in_net(r.get(resolve(field, reading)), net) != *negated,
                    Spec::Range { field, lo, hi } => {
                        r.get(field).parse::<u64>().is_ok_and(|n| (*lo..=*hi).contains(&n))
                    }
                })
        })
}

pub fn metric_of(case: &Case, r: &Rec) -> u64 {
    match case.metric {
        "records" => 1,
        m => r.get(m).parse().unwrap_or(0),
    }
}

/// Group key -> bucket start -> sum, from the records (buckets with 0 left
/// out; ungrouped queries always have the key `[]`).
pub type Buckets = BTreeMap<Vec<String>, BTreeMap<i64, u64>>;

pub fn expected(case: &Case, fx: &Fixture) -> Buckets {
    let group = case.resolved_group(fx);
    let mut out: Buckets = BTreeMap::new();
    if group.is_empty() {
        out.insert(Vec::new(), BTreeMap::new());
    }
    let (regexes, inside) = (regexes(case), inside_nets());
    for r in fx.records.iter().filter(|r| matches(case, fx, &regexes, &inside, r)) {
        let key: Vec<String> = group.iter().map(|g| r.get(g).to_string()).collect();
        let bucket = if case.format == "series" { r.time_ms - r.time_ms.rem_euclid(INTERVAL_MS) } else { 0 };
        let v = metric_of(case, r);
        let buckets = out.entry(key).or_default();
        if v > 0 {
            *buckets.entry(bucket).or_default() += v;
        }
    }
    // A group whose metric sums to 0 (records without bytes) is no group
    // (no row, no series) on either backend.
    if !group.is_empty() {
        out.retain(|_, b| b.values().sum::<u64>() > 0);
    }
    out
}

/// A frame reduced to what the checks read, from either frame type.
#[derive(Debug)]
pub struct Simple {
    pub fields: Vec<(String, BTreeMap<String, String>, Vec<Value>)>,
}

pub fn simple(frame: &Frame) -> Simple {
    let fields = frame
        .fields
        .iter()
        .map(|f| {
            let values: Vec<Value> = match &f.values {
                Values::Time(v) => v.iter().map(|t| json!(t)).collect(),
                Values::U64(v) => v.iter().map(|x| json!(x)).collect(),
                Values::F64(v) => v.iter().map(|x| json!(x)).collect(),
                Values::Str(v) => v.iter().map(|x| json!(x)).collect(),
                Values::Json(v) => v.iter().map(|x| serde_json::from_slice(x).unwrap()).collect(),
            };
            (f.name.clone(), f.labels.clone(), values)
        })
        .collect();
    Simple { fields }
}

pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What the frames say, in the oracle's shape.
pub fn observed(case: &Case, fx: &Fixture, frames: &[Simple]) -> Result<Buckets, String> {
    let mut out: Buckets = BTreeMap::new();
    let group = case.resolved_group(fx);
    match (case.format, group.is_empty()) {
        ("series", _) => {
            for f in frames {
                let (_, labels, values) = &f.fields[1];
                let key: Vec<String> = group.iter().map(|g| labels.get(*g).cloned().unwrap_or_default()).collect();
                let buckets = out.entry(key.clone()).or_default();
                if !buckets.is_empty() {
                    return Err(format!("two series for the key {key:?}"));
                }
                for (t, v) in f.fields[0].2.iter().zip(values) {
                    let v = v.as_u64().ok_or_else(|| format!("a non-integer bucket value {v}"))?;
                    if v > 0 {
                        buckets.insert(t.as_i64().unwrap() / 1_000_000, v);
                    }
                }
            }
        }
        (_, true) => {
            let [f] = frames else { return Err(format!("{} frames for a total", frames.len())) };
            let v = f.fields[0].2[0].as_u64().unwrap();
            out.insert(Vec::new(), if v > 0 { BTreeMap::from([(0, v)]) } else { BTreeMap::new() });
        }
        (_, false) => {
            let [f] = frames else { return Err(format!("{} frames for a table", frames.len())) };
            let n = group.len();
            let metric = &f.fields[n].2;
            let sums: Vec<u64> = metric.iter().map(|v| v.as_u64().unwrap()).collect();
            if sums.windows(2).any(|w| w[0] < w[1]) {
                return Err(format!("table not sorted descending: {sums:?}"));
            }
            for (row, v) in sums.iter().enumerate() {
                let key: Vec<String> = (0..n).map(|i| text(&f.fields[i].2[row])).collect();
                if out.insert(key.clone(), if *v > 0 { BTreeMap::from([(0, *v)]) } else { BTreeMap::new() }).is_some() {
                    return Err(format!("two rows for the key {key:?}"));
                }
            }
        }
    }
    Ok(out)
}
