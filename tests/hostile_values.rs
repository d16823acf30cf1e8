//! Property tests: hostile values are data, never query syntax. A real
//! VictoriaLogs is loaded once per test with records whose values (and, for
//! fields parsed at ingest, whose field names) are hostile: quotes,
//! backslashes, `|`, backticks, newlines, NUL, unicode, long strings. Then
//! generated queries (filters `=`, `!=`, `=~`, `!~`, cidr, range,
//! direction-relative fields, group-by keys, interface ids, stream
//! selectors) run through `Datasource::query` in process, and some through
//! the plugin binary over gRPC. Each answer must be exactly what a direct
//! computation over the loaded records gives, group keys byte for byte, and
//! the query text for a hostile value must be the text for a plain value
//! with only the string literal changed.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::harness::{Instance, Plugin};
use common::hostile::{self, draw, json_inner, Mix, CURATED};
use flowlens::datasource::Datasource;
use flowlens::frame::{Frame, Values};
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::plan::{first_step, Step};
use flowlens::settings::{InstanceSettings, Settings};
use flowlens_devtools::gen::{FlowRecord, DEFAULT_V2_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use ipnet::IpNet;
use proptest::prelude::*;
use serde_json::{json, Value};

/// 2026-11-20T00:00:00Z, one hour.
const FROM_MS: i64 = 1_795_132_800_000;
const TO_MS: i64 = FROM_MS + 3_600_000;
const INTERVAL_MS: i64 = 60_000;
const INSIDE: [&str; 2] = ["10.0.32.0/20", "2001:db8:32::/48"];
/// VictoriaLogs' default `-search.maxQueryLen`.
const MAX_QUERY_LEN: usize = 16_384;

/// Addresses in the records: inside and outside both inside networks, at
/// their edges, IPv6 in several spellings, and strings that are no address.
/// (No leading-zero IPv4 forms: VictoriaLogs reads `010.0.32.5` as an
/// address, AWS never writes one.)
const ADDRESSES: &[&str] = &[
    "10.0.32.0",
    "10.0.32.1",
    "10.0.32.15",
    "10.0.40.7",
    "10.0.47.255",
    "10.0.31.255",
    "10.0.48.0",
    "110.0.32.1",
    "52.216.8.5",
    "0.0.0.0",
    "255.255.255.255",
    "2001:db8:32::1",
    "2001:db8:32:ffff::7",
    "2001:DB8:32::2",
    "2001:db8:33::1",
    "2600:1f18:4a3:6900::1",
    "::1",
    "::ffff:10.0.32.7",
    "10.0.32.5 ",
    "x\"y|z",
    "-",
];
const PORTS: [u64; 7] = [0, 22, 53, 443, 1024, 8080, 65535];

/// A loaded record: canonical field -> value (absent: no such field).
#[derive(Debug, Clone)]
struct Rec {
    time_ms: i64,
    fields: BTreeMap<&'static str, String>,
}

impl Rec {
    /// The value as a query sees it: a missing field and AWS's `-` are
    /// "no value" and read as "".
    fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", |v| if v == "-" { "" } else { v.as_str() })
    }
}

/// What a fixture holds and which fields a generated query may use.
struct Fixture {
    records: Vec<Rec>,
    /// String fields holding hostile values.
    text: Vec<&'static str>,
    /// Address fields; the first two are the ones `direction` reads (src, dst).
    addresses: Vec<&'static str>,
    numbers: Vec<&'static str>,
    /// Hostile values in the records.
    values: Vec<String>,
    /// Datasources over the same records, differing in log field names.
    datasources: Vec<(Value, Datasource)>,
    /// Whether the structure check applies (no value-dependent pre-filters).
    fields_mode: bool,
}

/// A filter as generated: what the target says.
#[derive(Debug, Clone)]
enum Spec {
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
struct Case {
    variant: usize,
    format: &'static str,
    metric: &'static str,
    direction: &'static str,
    filters: Vec<Spec>,
    group_by: Vec<&'static str>,
    interface_id: Option<String>,
}

fn is_sided(f: &str) -> bool {
    f == "inside_addr" || f == "outside_addr"
}

impl Case {
    fn target(&self) -> Value {
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
    fn placeholders(&self) -> (Case, Vec<String>) {
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
    fn readings(&self, fx: &Fixture) -> Vec<Option<(&'static str, &'static str)>> {
        let (src, dst) = (fx.addresses[0], fx.addresses[1]);
        match self.direction {
            "in" => vec![Some((dst, src))],
            "out" => vec![Some((src, dst))],
            "any" => vec![Some((src, dst)), Some((dst, src))],
            _ => vec![None],
        }
    }

    /// The group fields as record fields (direction-relative ones resolved).
    fn resolved_group(&self, fx: &Fixture) -> Vec<&'static str> {
        let reading = self.readings(fx)[0];
        self.group_by.iter().map(|g| resolve(g, reading)).collect()
    }
}

fn resolve(field: &'static str, reading: Option<(&'static str, &'static str)>) -> &'static str {
    match (field, reading) {
        ("inside_addr", Some((inside, _))) => inside,
        ("outside_addr", Some((_, outside))) => outside,
        (f, _) => f,
    }
}

fn inside_nets() -> Vec<IpNet> {
    INSIDE.iter().map(|n| n.parse().unwrap()).collect()
}

fn in_net(value: &str, net: &IpNet) -> bool {
    value.parse::<IpAddr>().is_ok_and(|a| net.contains(&a))
}

/// The regex as VictoriaLogs applies it: the whole value, and `.` also
/// matches a newline (its regexes run in dotall mode, like Prometheus'
/// label matchers).
fn anchored(re: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?s:{re})$")).unwrap()
}

/// The case's regexes, compiled once.
type Regexes = BTreeMap<String, regex::Regex>;

fn regexes(case: &Case) -> Regexes {
    case.filters
        .iter()
        .filter_map(|f| match f {
            Spec::Text { op: "=~" | "!~", value, .. } => Some((value.clone(), anchored(value))),
            _ => None,
        })
        .collect()
}

/// The oracle: whether a record counts, straight from the loaded values.
fn matches(case: &Case, fx: &Fixture, regexes: &Regexes, inside: &[IpNet], r: &Rec) -> bool {
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

fn metric_of(case: &Case, r: &Rec) -> u64 {
    match case.metric {
        "records" => 1,
        m => r.get(m).parse().unwrap_or(0),
    }
}

/// Group key -> bucket start -> sum, from the records (buckets with 0 left
/// out; ungrouped queries always have the key `[]`).
type Buckets = BTreeMap<Vec<String>, BTreeMap<i64, u64>>;

fn expected(case: &Case, fx: &Fixture) -> Buckets {
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
struct Simple {
    fields: Vec<(String, BTreeMap<String, String>, Vec<Value>)>,
}

fn simple(frame: &Frame) -> Simple {
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

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What the frames say, in the oracle's shape.
fn observed(case: &Case, fx: &Fixture, frames: &[Simple]) -> Result<Buckets, String> {
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

fn request() -> Request {
    Request { range: TimeRange { from_ms: FROM_MS, to_ms: TO_MS }, interval_ms: INTERVAL_MS, max_data_points: 1_000 }
}

fn datasource(url: &str, json_data: &Value) -> Datasource {
    let bytes = serde_json::to_vec(json_data).unwrap();
    let settings = Settings::from_instance(&InstanceSettings { url, json_data: &bytes, ..Default::default() })
        .unwrap_or_else(|e| panic!("settings {json_data}: {e}"));
    Datasource::new(settings).unwrap()
}

/// The longest query text the case needs (first step, and the per-key
/// buckets of a grouped series with the expected keys).
fn longest_query(case: &Case, ds: &Datasource, q: &FlowQuery, want: &Buckets) -> usize {
    let mut len = ds.render_step(q, &first_step(q)).len();
    if case.format == "series" && !case.group_by.is_empty() && !want.is_empty() {
        let keys = Some(want.keys().cloned().collect());
        len = len.max(ds.render_step(q, &Step::Buckets { grouped: true, keys }).len());
    }
    len
}

/// Checks that a hostile value never changes a query's structure: the text
/// equals the text for plain placeholders with only the literals swapped
/// (JSON escaping is compositional, so a value inside a longer literal, such
/// as an anchored regex, is swapped the same way). Group keys are values
/// too: the per-key buckets step is rendered with the values as keys.
fn check_structure(case: &Case, ds: &Datasource) -> Result<(), String> {
    let (plain, actual) = case.placeholders();
    // "No value" is the one documented value-dependent form: asking for ""
    // or `-` asks for both spellings, and a regex that matches one of them
    // but not the other gets the other added or excluded (ARCHITECTURE.md).
    let no_value = |v: &str| v.is_empty() || v == "-";
    let regex_splits = |re: &str| anchored(re).is_match("") != anchored(re).is_match("-");
    let value_dependent = case.filters.iter().any(|f| match f {
        Spec::Text { op: "=" | "!=", value, .. } => no_value(value),
        Spec::Text { op: "=~" | "!~", value, .. } => value != ".*" && regex_splits(value),
        _ => false,
    }) || actual.iter().take(case.group_by.len()).any(|v| no_value(v))
        || case.interface_id.as_deref().is_some_and(|id| id.trim() == "-");
    if value_dependent {
        return Ok(());
    }
    let parse = |c: &Case| FlowQuery::parse(&serde_json::to_vec(&c.target()).unwrap(), &request(), &ds.settings);
    let (q, p) = (parse(case).map_err(|e| e.message)?, parse(&plain).map_err(|e| e.message)?);
    let placeholder = regex::Regex::new("PH([0-9]+)Z").unwrap();
    let swap = |s: &str| {
        placeholder
            .replace_all(s, |c: &regex::Captures| json_inner(&actual[c[1].parse::<usize>().unwrap()]))
            .to_string()
    };
    let mut steps = vec![(first_step(&q), first_step(&p))];
    let n = q.group_by.len();
    if n > 0 && actual.len() >= n {
        let keys = vec![actual[..n].to_vec()];
        let ph_keys = vec![(0..n).map(|i| format!("PH{i}Z")).collect()];
        steps.push((
            Step::Buckets { grouped: true, keys: Some(keys) },
            Step::Buckets { grouped: true, keys: Some(ph_keys) },
        ));
    }
    for (step, ph_step) in steps {
        let got = ds.render_step(&q, &step);
        let want = swap(&ds.render_step(&p, &ph_step));
        if got != want {
            return Err(format!("a value changed the query's structure:\n{got}\n-- expected --\n{want}"));
        }
    }
    Ok(())
}

/// Tallies, to show the cases were not vacuous.
#[derive(Default)]
struct Tally {
    cases: AtomicUsize,
    with_matches: AtomicUsize,
    without_matches: AtomicUsize,
    too_long: AtomicUsize,
}

impl Tally {
    fn count(&self, want: &Buckets, too_long: bool) {
        self.cases.fetch_add(1, Ordering::Relaxed);
        let any = want.values().any(|b| !b.is_empty());
        let counter = if too_long {
            &self.too_long
        } else if any {
            &self.with_matches
        } else {
            &self.without_matches
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn report(&self, what: &str) -> (usize, usize, usize) {
        let (c, w, wo, tl) = (
            self.cases.load(Ordering::Relaxed),
            self.with_matches.load(Ordering::Relaxed),
            self.without_matches.load(Ordering::Relaxed),
            self.too_long.load(Ordering::Relaxed),
        );
        eprintln!(
            "{what}: {c} cases, {w} with matching records, {wo} with none, {tl} over VictoriaLogs' query length limit"
        );
        (c, w, wo)
    }
}

/// Runs one case in process and compares with the oracle.
async fn check_in_process(case: &Case, fx: &Fixture, tally: &Tally) -> Result<(), String> {
    let (json_data, ds) = &fx.datasources[case.variant];
    let target = case.target();
    let what = format!("target {target}\nsettings {json_data}");
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings)
        .map_err(|e| format!("{what}: the model rejected a valid target: {}", e.message))?;
    if fx.fields_mode {
        check_structure(case, ds).map_err(|e| format!("{what}: {e}"))?;
    }
    let want = expected(case, fx);
    let too_long = longest_query(case, ds, &q, &want) > MAX_QUERY_LEN - 200;
    tally.count(&want, too_long);
    match ds.query(&q).await {
        Ok(frames) => {
            let frames: Vec<Simple> = frames.iter().map(simple).collect();
            let got = observed(case, fx, &frames).map_err(|e| format!("{what}: {e}"))?;
            if got != want {
                return Err(format!("{what}\nexecuted: {}\ngot  {got:?}\nwant {want:?}", ds.render(&q).join("\n")));
            }
            Ok(())
        }
        // The only acceptable failure: VictoriaLogs' own query length limit,
        // reported as its rejection with its text.
        Err(e) if too_long && e.message.contains("maxQueryLen") && e.status == 400 => Ok(()),
        Err(e) => Err(format!(
            "{what}\nexecuted: {}\nVictoriaLogs did not accept it: {}",
            ds.render(&q).join("\n"),
            e.message
        )),
    }
}

/// Runs one case through the plugin binary and compares with the oracle.
async fn check_grpc(case: &Case, fx: &Fixture, plugin: &Plugin, url: &str) -> Result<(), String> {
    let (json_data, ds) = &fx.datasources[case.variant];
    let target = case.target();
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
    let want = expected(case, fx);
    let too_long = longest_query(case, ds, &q, &want) > MAX_QUERY_LEN - 200;
    let instance =
        Instance { url: url.into(), uid: "hostile".into(), json_data: json_data.clone(), ..Default::default() };
    let mut answers = plugin.query(&instance, (FROM_MS, TO_MS), INTERVAL_MS, std::slice::from_ref(&target)).await;
    let answer = answers.remove("H").ok_or("no answer for refId H")?;
    if !answer.error.is_empty() {
        if too_long && answer.error.contains("maxQueryLen") {
            return Ok(());
        }
        return Err(format!("target {target}: {}", answer.error));
    }
    let frames: Vec<Simple> = answer
        .frames
        .iter()
        .map(|f| Simple {
            fields: f.fields.iter().map(|x| (x.name.clone(), x.labels.clone(), x.values.clone())).collect(),
        })
        .collect();
    let got = observed(case, fx, &frames)?;
    if got != want {
        return Err(format!("over gRPC, target {target}\ngot  {got:?}\nwant {want:?}"));
    }
    Ok(())
}

// ---------------------------------------------------------------- strategies

/// A filter value: one the records hold, a near miss of one, or fresh.
fn value_strategy(values: &[String]) -> BoxedStrategy<String> {
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
fn regex_strategy(values: &[String]) -> BoxedStrategy<String> {
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

fn net_strategy() -> BoxedStrategy<IpNet> {
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

fn case_strategy(fx: &Fixture) -> BoxedStrategy<Case> {
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
fn run_cases(fx: &Fixture, cases: u32, what: &str, check: impl Fn(Case) -> Result<(), String>) {
    let result = hostile::runner(cases).run(&case_strategy(fx), |case| check(case).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{what}: {e}");
    }
}

// ------------------------------------------------------------------ fixtures

/// Hostile values for the records: the curated ones, drawn ones and a long one.
fn loaded_values() -> Vec<String> {
    let mut values: Vec<String> = CURATED.iter().map(|s| s.to_string()).collect();
    values.extend(draw(hostile::hostile_string(), 16, 1).into_iter().filter(|v| v.len() < 200));
    values.push(hostile::FRAGMENTS[..12].concat().repeat(40));
    values.push(String::new());
    values.sort();
    values.dedup();
    values
}

/// Log field names in fields mode: hostile and distinct; none that the
/// settings reject (a trailing `*`, `value`, VictoriaLogs' own fields).
const BASE_NAMES: [(&str, &str); 14] = [
    ("action", "act\"ion|x"),
    ("region", "ré gion\nx"),
    ("vpc_id", "in"),
    ("flow_direction", "or"),
    ("pkt_src_aws_service", "tick`n\\"),
    ("interface_id", "eni:id (x)"),
    ("pkt_srcaddr", "pkt src\"addr"),
    ("pkt_dstaddr", "pkt|dst"),
    ("srcaddr", "ü名"),
    ("dstaddr", "dstaddr"),
    ("srcport", "a*b"),
    ("dstport", "by"),
    ("bytes", "b y|tes"),
    ("packets", "nul\0n"),
];

fn base_name(canonical: &str) -> &'static str {
    BASE_NAMES.iter().find(|(c, _)| *c == canonical).map(|(_, n)| *n).unwrap()
}

/// Records for fields mode: every field sometimes missing.
fn field_records(values: &[String]) -> Vec<Rec> {
    let mut mix = Mix(7);
    (0..240)
        .map(|i| {
            let mut fields = BTreeMap::new();
            let mut put = |mix: &mut Mix, name: &'static str, value: String| {
                if mix.below(10) > 0 {
                    fields.insert(name, value);
                }
            };
            for f in ["action", "region", "vpc_id", "flow_direction", "pkt_src_aws_service", "interface_id"] {
                let v = mix.pick(values).clone();
                put(&mut mix, f, v);
            }
            for f in ["pkt_srcaddr", "pkt_dstaddr", "srcaddr", "dstaddr"] {
                let v = mix.pick(ADDRESSES).to_string();
                put(&mut mix, f, v);
            }
            for f in ["srcport", "dstport"] {
                let v = mix.pick(&PORTS).to_string();
                put(&mut mix, f, v);
            }
            let (bytes, packets) = (mix.below(100_000).to_string(), mix.below(100).to_string());
            put(&mut mix, "bytes", bytes);
            put(&mut mix, "packets", packets);
            Rec { time_ms: FROM_MS + i * 14_000 + mix.below(1_000) as i64, fields }
        })
        .collect()
}

async fn push_jsonline(url: &str, lines: &[Value], stream_fields: &str) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let response = reqwest::Client::new()
        .post(format!("{url}/insert/jsonline?_stream_fields={stream_fields}&_time_field=_time&_msg_field=_msg"))
        .header("Content-Type", "application/stream+json")
        .body(body)
        .send()
        .await
        .expect("push jsonline");
    assert!(response.status().is_success(), "jsonline push: {}", response.text().await.unwrap());
    Loader::new(url).force_flush().await.expect("force flush");
}

fn rfc3339(ms: i64) -> String {
    flowlens::time::rfc3339(ms)
}

/// The fields-mode fixture: records under hostile log field names, plus the
/// action values again under each of several alternative hostile names
/// (one datasource per name).
async fn fields_fixture(url: &str) -> Fixture {
    let values = loaded_values();
    let records = field_records(&values);
    let mut alt_names: Vec<String> = draw(hostile::hostile_string(), 30, 2)
        .into_iter()
        .map(|n| n.chars().take(80).collect::<String>())
        .filter(|n| !n.trim().is_empty() && flowlens::schema::unusable_log_field(n).is_none())
        .filter(|n| !BASE_NAMES.iter().any(|(_, b)| b == n) && n != "logtype")
        .collect();
    alt_names.sort();
    alt_names.dedup();
    alt_names.truncate(10);
    let lines: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut line = serde_json::Map::new();
            line.insert("_time".into(), json!(rfc3339(r.time_ms)));
            line.insert("_msg".into(), json!("hostile record"));
            line.insert("logtype".into(), json!("hostile"));
            for (f, v) in &r.fields {
                line.insert(base_name(f).into(), json!(v));
            }
            if let Some(action) = r.fields.get("action") {
                for n in &alt_names {
                    line.insert(n.clone(), json!(action));
                }
            }
            Value::Object(line)
        })
        .collect();
    push_jsonline(url, &lines, "logtype").await;
    let mapping: serde_json::Map<String, Value> = BASE_NAMES.iter().map(|(c, n)| (c.to_string(), json!(n))).collect();
    let settings = |mapping: &serde_json::Map<String, Value>| json!({"streamSelector": "{logtype=\"hostile\"}", "recordMode": "fields", "fieldMapping": mapping, "insideCidrs": INSIDE});
    let mut datasources = vec![settings(&mapping)];
    for n in &alt_names {
        let mut m = mapping.clone();
        m.insert("action".into(), json!(n));
        datasources.push(settings(&m));
    }
    Fixture {
        records,
        text: vec!["action", "region", "vpc_id", "flow_direction", "pkt_src_aws_service", "interface_id"],
        addresses: vec!["pkt_srcaddr", "pkt_dstaddr", "srcaddr", "dstaddr"],
        numbers: vec!["srcport", "dstport", "bytes", "packets"],
        values,
        datasources: datasources.into_iter().map(|j| (j.clone(), datasource(url, &j))).collect(),
        fields_mode: true,
    }
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn fields_parsed_at_ingest_hostile_values_and_names_match_exactly() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let fx = rt.block_on(fields_fixture(&server.url));
    let tally = Tally::default();
    run_cases(&fx, 300, "fields mode, in process", |case| rt.block_on(check_in_process(&case, &fx, &tally)));
    let (counted, with, without) = tally.report("fields mode");
    assert!(counted >= 300, "the cases ran: {counted}");
    assert!(with >= 100 && without >= 30, "both matching and non-matching cases: {with} / {without}");

    // The same kind of cases through the plugin binary, as Grafana sends them.
    let plugin = rt.block_on(Plugin::start());
    run_cases(&fx, 40, "fields mode, over gRPC", |case| rt.block_on(check_grpc(&case, &fx, &plugin, &server.url)));
}

/// Values that fit a raw record: one space-separated token, not AWS's `-`.
fn raw_token(v: &str) -> bool {
    !v.is_empty() && v != "-" && !v.chars().any(char::is_whitespace)
}

/// Raw default-v2 lines with hostile tokens, in one stream per hostile
/// `environment` label value, pushed through the Loki endpoint.
async fn raw_fixture(url: &str) -> (Fixture, Vec<(String, usize)>) {
    let values: Vec<String> = loaded_values().into_iter().filter(|v| raw_token(v)).collect();
    let addresses: Vec<&str> = ADDRESSES.iter().copied().filter(|a| raw_token(a)).collect();
    let mut labels: Vec<String> = CURATED.iter().map(|s| s.to_string()).filter(|s| !s.trim().is_empty()).collect();
    labels.extend(draw(hostile::hostile_string(), 6, 3).into_iter().filter(|v| !v.trim().is_empty() && v.len() < 200));
    labels.sort();
    labels.dedup();
    let mut mix = Mix(11);
    let mut records = Vec::new();
    let mut streams = Vec::new();
    let loader = Loader::new(url);
    for (s, label) in labels.iter().enumerate() {
        let n = 4 + mix.below(12);
        let mut flow = Vec::new();
        for i in 0..n {
            let time_ms = FROM_MS + ((s * 17 + i) as i64 * 9_973) % 3_500_000 + mix.below(999) as i64;
            let text = |mix: &mut Mix| Some(mix.pick(&values).clone());
            let addr = |mix: &mut Mix| Some(mix.pick(&addresses).to_string());
            let r = FlowRecord {
                time_ms,
                version: Some(2),
                account_id: text(&mut mix),
                interface_id: text(&mut mix),
                srcaddr: addr(&mut mix),
                dstaddr: addr(&mut mix),
                srcport: Some(*mix.pick(&PORTS)),
                dstport: Some(*mix.pick(&PORTS)),
                protocol: Some(6),
                packets: Some(mix.below(100) as u64),
                bytes: Some(mix.below(100_000) as u64),
                start: Some((time_ms / 1000) as u64),
                end: Some((time_ms / 1000) as u64 + 60),
                action: text(&mut mix),
                log_status: text(&mut mix),
                ..Default::default()
            };
            flow.push(r);
        }
        flow.sort_by_key(|r| r.time_ms);
        loader
            .push_raw(&flow, DEFAULT_V2_FORMAT, &[("logtype", "hxraw"), ("environment", label)])
            .await
            .expect("push raw lines");
        streams.push((label.clone(), flow.len()));
        for r in flow {
            let mut fields = BTreeMap::new();
            for f in [
                "account_id",
                "interface_id",
                "srcaddr",
                "dstaddr",
                "srcport",
                "dstport",
                "packets",
                "bytes",
                "action",
                "log_status",
            ] {
                fields.insert(f, r.get(f).unwrap());
            }
            records.push(Rec { time_ms: r.time_ms, fields });
        }
    }
    loader.force_flush().await.expect("force flush");
    let json_data =
        json!({"streamSelector": "{logtype=\"hxraw\"}", "recordFormat": DEFAULT_V2_FORMAT, "insideCidrs": INSIDE});
    let fx = Fixture {
        records,
        text: vec!["account_id", "interface_id", "action", "log_status"],
        addresses: vec!["srcaddr", "dstaddr"],
        numbers: vec!["srcport", "dstport", "bytes", "packets"],
        values,
        datasources: vec![(json_data.clone(), datasource(url, &json_data))],
        fields_mode: false,
    };
    (fx, streams)
}

/// A stream selector with a hostile label value, as a user types it.
#[derive(Debug, Clone)]
struct SelectorCase {
    op: &'static str,
    /// The label value (for `=~`/`!~`: a regex).
    value: String,
    backticks: bool,
}

impl SelectorCase {
    fn text(&self, value: &str) -> String {
        let literal = if self.backticks && !value.contains('`') {
            format!("`{value}`")
        } else {
            serde_json::to_string(value).unwrap()
        };
        format!("{{logtype=\"hxraw\", environment{}{literal}}}", self.op)
    }

    fn holds(&self, label: &str) -> bool {
        match self.op {
            "=" => label == self.value,
            "!=" => label != self.value,
            "=~" => anchored(&self.value).is_match(label),
            _ => !anchored(&self.value).is_match(label),
        }
    }
}

#[test]
fn raw_records_and_stream_labels_hostile_values_match_exactly() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let (fx, streams) = rt.block_on(raw_fixture(&server.url));
    let tally = Tally::default();
    run_cases(&fx, 200, "raw mode, in process", |case| rt.block_on(check_in_process(&case, &fx, &tally)));
    let (_, with, without) = tally.report("raw mode");
    assert!(with >= 60 && without >= 20, "both matching and non-matching cases: {with} / {without}");

    // Stream selectors: the label value is data too.
    let labels: Vec<String> = streams.iter().map(|(l, _)| l.clone()).collect();
    let strategy = (
        prop::sample::select(vec!["=", "!=", "=~", "!~", "=~re"]),
        value_strategy(&labels),
        regex_strategy(&labels),
        any::<bool>(),
    )
        .prop_map(|(op, value, re, backticks)| match op {
            "=~re" => SelectorCase { op: "=~", value: re, backticks },
            "=~" | "!~" => SelectorCase { op, value: regex::escape(&value), backticks },
            _ => SelectorCase { op, value, backticks },
        });
    let hits = AtomicUsize::new(0);
    let result = hostile::runner(120).run(&strategy, |case| {
        let selector = case.text(&case.value);
        let json_data = json!({"streamSelector": selector, "recordFormat": DEFAULT_V2_FORMAT});
        let ds = datasource(&server.url, &json_data);
        let target = json!({"refId": "S", "format": "stat", "metric": "records", "direction": "all"});
        let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
        // Structure: the same text as for a plain value, literal swapped.
        let plain =
            datasource(&server.url, &json!({"streamSelector": case.text("PH0Z"), "recordFormat": DEFAULT_V2_FORMAT}));
        let want_text = plain.render(&q)[0].replace("PH0Z", &json_inner(&case.value));
        let got_text = ds.render(&q)[0].clone();
        prop_assert_eq!(&got_text, &want_text, "selector {}", selector);
        let want: u64 = streams.iter().filter(|(l, _)| case.holds(l)).map(|(_, n)| *n as u64).sum();
        if want > 0 {
            hits.fetch_add(1, Ordering::Relaxed);
        }
        let frames =
            rt.block_on(ds.query(&q)).map_err(|e| TestCaseError::fail(format!("{selector}: {}", e.message)))?;
        let got = simple(&frames[0]).fields[0].2[0].as_u64().unwrap();
        prop_assert_eq!(got, want, "selector {}\nexecuted {}", selector, got_text);
        Ok(())
    });
    if let Err(e) = result {
        panic!("stream selectors: {e}");
    }
    assert!(hits.load(Ordering::Relaxed) >= 40, "selectors that match streams: {}", hits.load(Ordering::Relaxed));
}

#[test]
fn an_overlong_value_is_the_backends_clear_rejection() {
    // Shown once here with the real numbers; the properties above accept it
    // only where the text really exceeds the limit.
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let ds = datasource(&server.url, &json!({"recordMode": "fields"}));
    let value = "\0\"".repeat(3_000);
    let target = json!({"refId": "L", "format": "stat", "direction": "all", "filters": [{"field": "action", "op": "=", "value": value}]});
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
    let e = rt.block_on(ds.query(&q)).unwrap_err();
    assert_eq!(e.status, 400, "{e:?}");
    assert!(
        e.message.contains("VictoriaLogs rejected the query") && e.message.contains("maxQueryLen"),
        "{}",
        e.message
    );
}

/// Pieces of regexes where Rust's regex and RE2 (VictoriaLogs) disagree,
/// and ordinary ones.
const REGEX_PIECES: &[&str] = &[
    "a",
    "10\\.0",
    ".",
    "*",
    "+",
    "?",
    "{2,3}",
    "{1000}",
    "{1001}",
    "{0,5000}",
    "**",
    "|",
    "(",
    ")",
    "(?:",
    "[",
    "]",
    "[a-z]",
    "[^0-9]",
    "&&",
    "--",
    "~~",
    "[[:alpha:]]",
    "[a[bc]]",
    "\\d",
    "\\w",
    "\\s",
    "\\pL",
    "\\p{Greek}",
    "\\b",
    "\\B",
    "\\<",
    "\\>",
    "\\b{start}",
    "\\u0041",
    "\\U{41}",
    "\\x{41}",
    "\\x41",
    "\\A",
    "\\z",
    "^",
    "$",
    "(?i)",
    "(?x)",
    "(?u)",
    "(?R)",
    "(?s)",
    "(?m)",
    "(?U)",
    "(?P<n>",
    "(?<n>",
    "\\Q",
    "\\E",
    "\\",
    "\\.",
    "\\-",
    "\\#",
    "\\&",
    "\\~",
    "\"",
    "`",
    "\0",
    "é",
];

/// The `action` values the regexes of [`REGEX_PIECES`] run on: pieces of
/// them, text around them, non-ASCII letters and digits.
const REGEX_VALUES: &[&str] = &[
    "a",
    "aa",
    "aaa",
    "ab",
    "10.0",
    "10x0",
    "A",
    "ACCEPT",
    "REJECT",
    "é",
    "Ωμέγα",
    "٣",
    "7",
    "a b",
    "a\nb",
    "\"",
    "`",
    "a{2,3}",
    "*",
    "&&",
    "[a]",
    "\\",
    "x-y",
    "_",
    "#~",
];

/// `re` with RE2's meaning of the Perl classes and word boundaries, which
/// are ASCII there (`\\d` is `[0-9]`, `\\w` `[0-9A-Za-z_]`) and Unicode in
/// Rust's regex: `(?-u:\\d)`, and `[:digit:]` inside a class. The model
/// (`src/re2.rs`) accepts them as they are, so a `\\d` matches `٣` in its
/// check and not in VictoriaLogs: a known difference, named here, not
/// hidden (the values hold non-ASCII digits and letters).
fn re2_classes(re: &str) -> String {
    let (mut out, mut chars, mut depth) = (String::new(), re.chars(), 0usize);
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('d' | 'D' | 'w' | 'W' | 's' | 'S')) if depth > 0 => out.push_str(match e {
                    'd' => "[:digit:]",
                    'D' => "[:^digit:]",
                    'w' => "[:word:]",
                    'W' => "[:^word:]",
                    's' => "[:space:]",
                    _ => "[:^space:]",
                }),
                Some(e @ ('d' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B')) => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '[' => {
                depth += 1;
                out.push(c);
            }
            ']' if depth > 0 => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every regex the model accepts runs in VictoriaLogs, and selects there
/// exactly the records it selects here (Rust's regex, anchored, dotall).
#[test]
fn every_regex_the_model_accepts_victorialogs_accepts() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    // The stream the regexes run on: one record per value, so that an
    // accepted regex must also mean in VictoriaLogs what it means here.
    let lines: Vec<Value> = REGEX_VALUES
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"_time": rfc3339(FROM_MS + i as i64 * 1_000), "_msg": "regex record", "logtype": "re", "action": v}))
        .collect();
    rt.block_on(push_jsonline(&server.url, &lines, "logtype"));
    let ds = datasource(&server.url, &json!({"recordMode": "fields", "streamSelector": "{logtype=\"re\"}"}));
    let accepted = AtomicUsize::new(0);
    let (matched_some, missed_some) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let strategy = prop::collection::vec(prop::sample::select(REGEX_PIECES), 1..6).prop_map(|p| p.concat());
    let result = hostile::runner(250).run(&strategy, |re| {
        let target = json!({"refId": "R", "format": "stat", "metric": "records", "direction": "all",
            "filters": [{"field": "action", "op": "!~", "value": re}]});
        match FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings) {
            Err(e) => prop_assert!(e.message.contains("regex for `action`"), "{}", e.message),
            Ok(q) => {
                accepted.fetch_add(1, Ordering::Relaxed);
                let answer = rt.block_on(ds.query(&q));
                prop_assert!(answer.is_ok(), "{re:?} passed the model but not VictoriaLogs: {:?}", answer.err());
                let frames = answer.unwrap();
                let got = simple(&frames[0]).fields[0].2[0].as_u64().unwrap();
                let matching = anchored(&re2_classes(&re));
                let want = REGEX_VALUES.iter().filter(|v| !matching.is_match(v)).count() as u64;
                if want < REGEX_VALUES.len() as u64 {
                    matched_some.fetch_add(1, Ordering::Relaxed);
                }
                if want > 0 {
                    missed_some.fetch_add(1, Ordering::Relaxed);
                }
                let differing: Vec<&&str> = REGEX_VALUES.iter().filter(|v| matching.is_match(v)).collect::<Vec<_>>();
                prop_assert_eq!(got, want, "{:?}: records not matching it; matching here: {:?}", re, differing);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("regexes: {e}");
    }
    assert!(accepted.load(Ordering::Relaxed) >= 50, "accepted regexes: {accepted:?}");
    let (matched_some, missed_some) = (matched_some.into_inner(), missed_some.into_inner());
    assert!(
        matched_some >= 10 && missed_some >= 10,
        "regexes matching some values: {matched_some}, missing some: {missed_some}"
    );

    // What the check keeps out: VictoriaLogs rejects these outright ...
    for re in ["a{1001}", "\\u0041", "a**", "(?x)a b"] {
        let target = json!({"refId": "R", "format": "stat", "filters": [{"field": "action", "op": "=~", "value": re}]});
        let e = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap_err();
        assert!(e.message.contains("RE2") && e.message.contains("`action`"), "{re}: {}", e.message);
        let raw =
            json!({"refId": "R", "rawQuery": format!("* | filter action:~{}", serde_json::to_string(re).unwrap())});
        let q = FlowQuery::parse(&serde_json::to_vec(&raw).unwrap(), &request(), &ds.settings).unwrap();
        let e = rt.block_on(ds.query(&q)).unwrap_err();
        assert!(e.message.contains("VictoriaLogs rejected the query"), "{re} as LogsQL: {}", e.message);
    }
    // ... and reads these as something else (`\<` as `<`, `[a&&b]` as a set
    // of `a`, `&`, `b`), so they would silently match other values.
    for re in ["\\<10", "[a-z&&[^aeiou]]", "[a[bc]]"] {
        let target = json!({"refId": "R", "format": "stat", "filters": [{"field": "action", "op": "=~", "value": re}]});
        let e = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap_err();
        assert!(e.message.contains("RE2"), "{re}: {}", e.message);
    }
}

/// A skipped field that opens a quote and a later one that closes it (`"a`
/// … `b"`, and the same with backticks and apostrophes) must not read as one field and
/// shift every field after it: the records' totals and rankings
/// equal the sums over the records, byte for byte.
#[test]
fn quotes_across_skipped_fields_do_not_shift_the_fields_after_them() {
    let rt = multi_thread();
    let server = rt.block_on(VlServer::start(VlOptions::default())).expect("VictoriaLogs must start");
    let pairs = [("\"a", "b\""), ("`c", "d`"), ("\"e\"", "f"), ("plain", "eni-1"), ("\"g", "h`"), ("'i", "j'")];
    let records: Vec<FlowRecord> = pairs
        .iter()
        .enumerate()
        .map(|(i, (account, interface))| FlowRecord {
            time_ms: FROM_MS + 60_000 * i as i64,
            version: Some(2),
            account_id: Some(account.to_string()),
            interface_id: Some(interface.to_string()),
            srcaddr: Some(format!("10.0.32.{}", i + 1)),
            dstaddr: Some("52.216.8.5".into()),
            srcport: Some(443),
            dstport: Some(50_000 + i as u64),
            protocol: Some(6),
            packets: Some(1),
            bytes: Some(1_000 * (i as u64 + 1)),
            start: Some((FROM_MS / 1000) as u64),
            end: Some((FROM_MS / 1000) as u64 + 60),
            action: Some("ACCEPT".into()),
            log_status: Some("OK".into()),
            ..Default::default()
        })
        .collect();
    rt.block_on(async {
        let loader = Loader::new(&server.url);
        loader.push_raw(&records, DEFAULT_V2_FORMAT, &[("logtype", "hxquote")]).await.expect("push raw lines");
        loader.force_flush().await.expect("force flush");
    });
    let ds = datasource(
        &server.url,
        &json!({"streamSelector": "{logtype=\"hxquote\"}", "recordFormat": DEFAULT_V2_FORMAT, "insideCidrs": INSIDE}),
    );
    let run = |target: Value| {
        let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
        let frames = rt.block_on(ds.query(&q)).unwrap_or_else(|e| panic!("{target}: {}", e.message));
        frames.iter().map(simple).collect::<Vec<_>>()
    };
    let total: u64 = records.iter().map(|r| r.bytes.unwrap()).sum();
    let stat = run(json!({"refId": "A", "format": "stat", "direction": "out", "cache": false}));
    assert_eq!(stat[0].fields[0].2[0].as_u64(), Some(total), "bytes out: {stat:?}");
    let table = run(json!({"refId": "B", "format": "table", "direction": "out", "groupBy": ["dstport"], "limit": 10}));
    let mut want: Vec<(String, u64)> =
        records.iter().map(|r| (r.dstport.unwrap().to_string(), r.bytes.unwrap())).collect();
    want.sort_by_key(|w| std::cmp::Reverse(w.1));
    let got: Vec<(String, u64)> =
        table[0].fields[0].2.iter().zip(&table[0].fields[1].2).map(|(k, v)| (text(k), v.as_u64().unwrap())).collect();
    assert_eq!(got, want, "bytes out by destination port");
}
