//! Checks of the NAT-gateway dashboard's panels: each target sent to the
//! plugin over gRPC, each decoded frame compared with the independent
//! reference computation, to the byte.
#![allow(dead_code)]

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use serde_json::{json, Value};

use super::data::{field_name, FIELDS_STREAM, NAT_ENI, POD_CIDR, RAW_STREAM};
use super::harness::{DecodedField, DecodedFrame, Instance, Plugin};
use super::reference::{self as r, Dir, RefQuery};
use flowlens_devtools::gen::FlowRecord;

/// A time window and Grafana's `$__interval` for it.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    pub interval_ms: i64,
}

impl Window {
    pub fn reference(&self, direction: Dir) -> RefQuery {
        RefQuery::new(direction, POD_CIDR, Some(NAT_ENI), self.from_ms, self.to_ms)
    }

    /// The buckets of the window: (aligned start, the point's time, the
    /// ms of the bucket inside the window). An edge bucket that begins
    /// before `from` is stamped at `from`; edge buckets are as wide as the
    /// part of them inside the window.
    pub fn buckets(&self) -> Vec<(i64, i64, i64)> {
        let first = self.from_ms - self.from_ms.rem_euclid(self.interval_ms);
        (0..)
            .map(|i| first + i * self.interval_ms)
            .take_while(|t| *t < self.to_ms)
            .map(|start| {
                let time = start.max(self.from_ms);
                (start, time, (start + self.interval_ms).min(self.to_ms) - time)
            })
            .collect()
    }
}

fn dir(name: &str) -> Dir {
    match name {
        "in" => Dir::In,
        "out" => Dir::Out,
        "any" => Dir::Any,
        _ => Dir::All,
    }
}

fn u64s(values: &[Value]) -> Vec<u64> {
    values.iter().map(|v| v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))).collect()
}

/// The frame names the query it ran, in the datasource's language: LogsQL
/// (a `_time` filter and `stats`, or the logs' sort) for VictoriaLogs,
/// LogQL (a range aggregation over the stream selector, read `offset 1ms`)
/// for Loki; PromQL over the question's rollup series where the datasource
/// has a rollup store.
fn assert_executed(frame: &DecodedFrame, ds: &Instance, what: &str) {
    let q = frame.meta["executedQueryString"].as_str().unwrap_or_default();
    if ds.json_data.get("rollups").is_some() && q.contains("(sum_over_time(flowlens_rollup{flowlens_rule=\"") {
        return;
    }
    let logsql = q.contains("_time:[") && q.contains("stats") || q.contains("sort by (_time desc)");
    let logql = q.contains("_over_time({") && q.contains("offset 1ms") && !q.contains("_time:[");
    let loki = ds.json_data["backend"] == "loki";
    assert!(if loki { logql } else { logsql }, "{what}: executed query missing or not in the backend's language: {q}");
}

fn check_series(f: &DecodedFrame, w: &Window, expected: &BTreeMap<i64, u64>, unit: &str, what: &str) {
    assert_eq!(f.meta["type"], "timeseries-multi", "{what}");
    let time = &f.fields[0];
    assert!(matches!(time.data_type, DataType::Timestamp(_, _)) && !time.nullable, "{what}: time field {time:?}");
    let buckets = w.buckets();
    let times: Vec<i64> = time.values.iter().map(|v| v.as_i64().unwrap() / 1_000_000).collect();
    assert_eq!(times, buckets.iter().map(|b| b.1).collect::<Vec<_>>(), "{what}: bucket times");
    assert!(times.iter().all(|t| (w.from_ms..w.to_ms).contains(t)), "{what}: no point outside the range");
    let value = &f.fields[1];
    assert_eq!(value.config["unit"], unit, "{what}");
    let got: Vec<f64> = value.values.iter().map(|v| v.as_f64().unwrap()).collect();
    let want: Vec<f64> = buckets
        .iter()
        .map(|(start, _, width)| expected.get(start).copied().unwrap_or(0) as f64 / (*width as f64 / 1000.0))
        .collect();
    assert_eq!(got, want, "{what}: values");
    assert!(expected.keys().all(|t| buckets.iter().any(|b| b.0 == *t)), "{what}: reference buckets outside the range");
}

/// What every check needs: the plugin, the datasource, the fixture's
/// records and the time window.
#[derive(Clone, Copy)]
pub struct Checker<'a> {
    pub plugin: &'a Plugin,
    pub ds: &'a Instance,
    pub records: &'a [FlowRecord],
    pub w: Window,
}

impl Checker<'_> {
    /// A stat panel: one frame, one unsigned bytes field, equal to the reference.
    pub async fn stat(&self, direction: &str) {
        let target = json!({"refId": "A", "format": "stat", "direction": direction});
        self.check_stat(target, &self.w.reference(dir(direction))).await;
    }

    /// The target's frames, queried alone; panics on a query error.
    pub async fn frames(&self, target: &Value) -> Vec<DecodedFrame> {
        let Checker { plugin, ds, w, .. } = *self;
        plugin.query_one(ds, (w.from_ms, w.to_ms), w.interval_ms, target.clone()).await
    }

    /// Checks a stat target against the reference query.
    pub async fn check_stat(&self, target: Value, reference: &RefQuery) {
        self.verify_stat(&target, reference, &self.frames(&target).await);
    }

    /// Checks a stat target's frames against the reference query.
    pub fn verify_stat(&self, target: &Value, reference: &RefQuery, frames: &[DecodedFrame]) {
        let Checker { records, w, .. } = *self;
        let what = format!("stat {target} {w:?}");
        let ref_id = target["refId"].as_str().unwrap_or("A").to_string();
        assert_eq!(frames.len(), 1, "{what}");
        let f = &frames[0];
        assert_eq!(f.ref_id, ref_id);
        assert_eq!(f.meta["type"], "numeric-wide", "{what}");
        assert_executed(f, self.ds, &what);
        let bytes = f.field("bytes");
        assert_eq!(bytes.data_type, DataType::UInt64, "{what}");
        assert_eq!(bytes.config["unit"], "decbytes", "{what}");
        let expected = r::total(records, reference);
        assert!(expected > 0, "{what}: the fixture must have traffic");
        assert_eq!(u64s(&bytes.values), vec![expected], "{what}");
    }

    /// A bytes/sec panel: one series, a value per bucket, rates from the bucket
    /// width, empty buckets 0.
    pub async fn rate_series(&self, direction: &str) {
        let target = json!({"refId": "A", "format": "series", "direction": direction, "rate": true});
        self.check_rate_series(target, &self.w.reference(dir(direction))).await;
    }

    /// Checks an ungrouped rate series target against the reference query.
    pub async fn check_rate_series(&self, target: Value, reference: &RefQuery) {
        self.verify_rate_series(&target, reference, &self.frames(&target).await);
    }

    /// Checks an ungrouped rate series target's frames against the reference query.
    pub fn verify_rate_series(&self, target: &Value, reference: &RefQuery, frames: &[DecodedFrame]) {
        let Checker { records, w, .. } = *self;
        let what = format!("rate series {target} {w:?}");
        assert_eq!(frames.len(), 1, "{what}");
        let expected = r::buckets(records, reference, &[], w.interval_ms).remove(&Vec::new()).unwrap_or_default();
        check_series(&frames[0], &w, &expected, "Bps", &what);
        assert_eq!(frames[0].meta["custom"]["stepMs"], w.interval_ms, "{what}");
    }

    /// A top-N table: exactly the reference's top N rows, typed columns,
    /// readable headers, no time column.
    pub async fn top_table(&self, group_by: &[&str], limit: usize) {
        let target = json!({"refId": "T", "format": "table", "direction": "in", "groupBy": group_by, "limit": limit});
        self.check_top_table(target, &self.w.reference(Dir::In)).await;
    }

    /// Checks a grouped table target (its `groupBy` and `limit`) against the reference query.
    pub async fn check_top_table(&self, target: Value, reference: &RefQuery) {
        self.verify_top_table(&target, reference, &self.frames(&target).await);
    }

    /// Checks a grouped table target's frames against the reference query.
    pub fn verify_top_table(&self, target: &Value, reference: &RefQuery, frames: &[DecodedFrame]) {
        let Checker { records, w, .. } = *self;
        let what = format!("top table {target} {w:?}");
        let group_by: Vec<String> = serde_json::from_value(target["groupBy"].clone()).unwrap();
        let group_by: Vec<&str> = group_by.iter().map(String::as_str).collect();
        let limit = target["limit"].as_u64().unwrap() as usize;
        assert_eq!(frames.len(), 1, "{what}");
        let f = &frames[0];
        assert_executed(f, self.ds, &what);
        let names: Vec<&str> = f.fields.iter().map(|x| x.name.as_str()).collect();
        let mut want_names = group_by.to_vec();
        want_names.push("bytes");
        assert_eq!(names, want_names, "{what}: columns in groupBy order, no time column");
        let expected: Vec<(Vec<String>, u64)> =
            r::groups(records, reference, &group_by).into_iter().take(limit).collect();
        if reference.filters.is_empty() {
            assert_eq!(expected.len(), limit, "{what}: the fixture must have more than N groups");
        }
        for (i, name) in group_by.iter().enumerate() {
            let field = &f.fields[i];
            let port = name.ends_with("port");
            assert_eq!(field.data_type, if port { DataType::UInt64 } else { DataType::Utf8 }, "{what}: type of {name}");
            assert!(
                field.config["displayNameFromDS"].as_str().is_some_and(|h| h.contains(' ')),
                "{what}: readable header {:?}",
                field.config
            );
            let got: Vec<String> =
                field.values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), String::from)).collect();
            let want: Vec<String> = expected.iter().map(|(k, _)| k[i].clone()).collect();
            assert_eq!(got, want, "{what}: column {name}");
        }
        let bytes = f.field("bytes");
        assert_eq!(bytes.config["unit"], "decbytes", "{what}");
        assert_eq!(u64s(&bytes.values), expected.iter().map(|(_, v)| *v).collect::<Vec<_>>(), "{what}: bytes");
    }

    /// Top-N series: exactly N series (plus `other`), the N largest over the
    /// whole range, display names that are bare values, per-bucket rates exact,
    /// `other` = total minus the top N per bucket.
    pub async fn top_series(&self, limit: usize) {
        let target = json!({"refId": "S", "format": "series", "direction": "in", "groupBy": ["pkt_srcaddr"], "limit": limit, "rate": true, "other": true});
        self.check_top_series(target, &self.w.reference(Dir::In)).await;
    }

    /// Checks a rate series target grouped by `pkt_srcaddr` (its `limit`, `other`) against the reference query.
    pub async fn check_top_series(&self, target: Value, reference: &RefQuery) {
        self.verify_top_series(&target, reference, &self.frames(&target).await);
    }

    /// Checks a grouped rate series target's frames against the reference query.
    pub fn verify_top_series(&self, target: &Value, reference: &RefQuery, frames: &[DecodedFrame]) {
        let Checker { records, w, .. } = *self;
        let what = format!("top series {target} {w:?}");
        let limit = target["limit"].as_u64().unwrap() as usize;
        let other = target["other"].as_bool().unwrap_or(false);
        assert_eq!(target["groupBy"], json!(["pkt_srcaddr"]), "{what}: this check knows one group field");
        let top: Vec<(Vec<String>, u64)> =
            r::groups(records, reference, &["pkt_srcaddr"]).into_iter().take(limit).collect();
        assert_eq!(
            frames.len(),
            top.len() + usize::from(other),
            "{what}: exactly N series or every group (plus other)"
        );
        let per_key = r::buckets(records, reference, &["pkt_srcaddr"], w.interval_ms);
        let totals = r::buckets(records, reference, &[], w.interval_ms).remove(&Vec::new()).unwrap_or_default();
        for (f, (key, _)) in frames.iter().zip(&top) {
            let value = &f.fields[1];
            assert_eq!(value.labels, BTreeMap::from([("pkt_srcaddr".to_string(), key[0].clone())]), "{what}");
            assert_eq!(value.config["displayNameFromDS"], key[0], "{what}: bare display name");
            check_series(f, &w, &per_key[key], "Bps", &what);
        }
        if !other {
            return;
        }
        let other: BTreeMap<i64, u64> = totals
            .iter()
            .map(|(t, total)| {
                let top_sum: u64 = top.iter().filter_map(|(k, _)| per_key[k].get(t)).sum();
                (*t, total - top_sum)
            })
            .collect();
        let other_frame = frames.last().unwrap();
        assert_eq!(other_frame.fields[1].config["displayNameFromDS"], "other", "{what}");
        check_series(other_frame, &w, &other, "Bps", &format!("{what} other"));
    }

    /// The logs panel: newest first, the records' own lines, parsed fields as labels.
    pub async fn logs(&self, format: &str) {
        let target = json!({"refId": "L", "format": "logs", "limit": 25});
        self.check_logs(target, &self.w.reference(Dir::Any), format).await;
    }

    /// Checks a logs target (its `limit`) against the reference query.
    pub async fn check_logs(&self, target: Value, reference: &RefQuery, format: &str) {
        self.verify_logs(&target, reference, format, &self.frames(&target).await);
    }

    /// Checks a logs target's frames against the reference query: exactly
    /// the newest `limit` matching records, newest first, each once. Every
    /// record newer than the oldest time shown must be there exactly as
    /// often as it was loaded; at that oldest time (the cut) any of the
    /// records sharing it may fill the remaining places, none twice. Bodies
    /// are compared in both record modes, and on VictoriaLogs the labels too
    /// (stream labels and every field, as the mode stores them).
    pub fn verify_logs(&self, target: &Value, reference: &RefQuery, format: &str, frames: &[DecodedFrame]) {
        let Checker { records, ds, .. } = *self;
        let limit = target["limit"].as_u64().unwrap() as usize;
        assert_eq!(frames.len(), 1);
        let f = &frames[0];
        assert_eq!(f.meta["type"], "log-lines");
        let mut matching: Vec<&FlowRecord> = r::matching(records, reference).collect();
        matching.sort_by_key(|r| std::cmp::Reverse(r.time_ms));
        if matching.len() > limit {
            let notice = f.meta["notices"][0]["text"].as_str().unwrap_or_default();
            assert!(notice.contains(&format!("newest {limit} records")), "a cut-off answer says so: {}", f.meta);
        }
        let loki = ds.json_data["backend"] == "loki";
        // VictoriaLogs' fields stream holds a summary line; Loki's streams
        // the record's own line in every mode.
        let fields_mode = !loki && ds.json_data["recordMode"] == "fields";
        let times: Vec<i64> = f.field("timestamp").values.iter().map(|v| v.as_i64().unwrap() / 1_000_000).collect();
        let bodies: Vec<String> = f.field("body").values.iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let labels: Vec<Option<BTreeMap<String, String>>> = f
            .field("labels")
            .values
            .iter()
            .map(|l| {
                assert_eq!(l["interface_id"], NAT_ENI, "parsed fields as labels: {l}");
                (!loki).then(|| serde_json::from_value(l.clone()).unwrap_or_else(|e| panic!("labels {l}: {e}")))
            })
            .collect();
        let want = limit.min(matching.len());
        assert_eq!(times.len(), want, "the newest {limit} of {} matching records", matching.len());
        assert!(times.windows(2).all(|p| p[0] >= p[1]), "descending: {times:?}");
        let Some(cut) = want.checked_sub(1).map(|i| matching[i].time_ms) else { return };
        let got: Vec<LogRecord> = times
            .iter()
            .zip(bodies)
            .zip(labels)
            .map(|((t, body), labels)| LogRecord { time_ms: *t, body, labels })
            .collect();
        let expected: Vec<LogRecord> = matching
            .iter()
            .take_while(|r| r.time_ms >= cut)
            .map(|r| {
                let (body, labels) =
                    if fields_mode { fields_log(r) } else { (r.render(format), raw_labels(r, format)) };
                LogRecord { time_ms: r.time_ms, body, labels: (!loki).then_some(labels) }
            })
            .collect();
        compare_newest(&got, &expected, cut);
    }
}

/// One record of a logs answer (labels: `None` where not compared).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogRecord {
    pub time_ms: i64,
    pub body: String,
    pub labels: Option<BTreeMap<String, String>>,
}

/// `got` must be `expected` (every matching record at or above `cut`, the
/// oldest time shown) as a multiset, except that at `cut` only some of the
/// records sharing it may be shown: any of them, none more often than it
/// was loaded, none that was not. Panics naming the first difference.
pub fn compare_newest(got: &[LogRecord], expected: &[LogRecord], cut: i64) {
    let count = |records: &[LogRecord], above: bool| -> BTreeMap<LogRecord, usize> {
        let mut m = BTreeMap::new();
        for r in records.iter().filter(|r| if above { r.time_ms > cut } else { r.time_ms == cut }) {
            *m.entry(r.clone()).or_insert(0) += 1;
        }
        m
    };
    assert!(got.iter().all(|r| r.time_ms >= cut), "a record older than the cut at {cut}");
    let (got_above, want_above) = (count(got, true), count(expected, true));
    for (r, n) in &want_above {
        let g = got_above.get(r).copied().unwrap_or(0);
        assert_eq!(g, *n, "record shown {g} times, loaded {n} times: {r:?}");
    }
    for (r, n) in &got_above {
        assert!(want_above.contains_key(r), "record shown {n} times, not a matching record: {r:?}");
    }
    let want_at = count(expected, false);
    for (r, n) in count(got, false) {
        let w = want_at.get(&r).copied().unwrap_or(0);
        assert!(n <= w, "record at the cut shown {n} times, loaded {w} times: {r:?}");
    }
}

/// A raw record's labels: the stream labels and every field of the format
/// parsed from the line by its canonical name (`-` where the record has no
/// value).
fn raw_labels(r: &FlowRecord, format: &str) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = RAW_STREAM.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for aws in flowlens_devtools::gen::Template::parse(format).fields() {
        let canonical = flowlens_devtools::gen::canonical(aws);
        let value = r.value(&canonical).map_or_else(|| "-".to_string(), |v| v.to_string());
        labels.insert(canonical, value);
    }
    labels
}

/// A fields-mode record as loaded (`flowlens_devtools::load::Loader::push_fields`):
/// its summary line as the body, the stream labels and each present field
/// under its log field name as labels.
fn fields_log(r: &FlowRecord) -> (String, BTreeMap<String, String>) {
    let body = flowlens_devtools::load::summary(r);
    let mut labels: BTreeMap<String, String> =
        FIELDS_STREAM.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for aws in flowlens_devtools::gen::Template::parse(flowlens_devtools::gen::MISSION_FORMAT).fields() {
        let canonical = flowlens_devtools::gen::canonical(aws);
        if let Some(v) = r.value(&canonical) {
            labels.insert(field_name(&canonical), v.to_string());
        }
    }
    (body, labels)
}

/// The reference question a builder target asks, read from the target
/// itself: direction, filters, interfaces (`""` = every interface, absent =
/// the datasource's), over the window, with the datasource's inside CIDRs.
pub fn reference_for(target: &Value, ds: &Instance, w: &Window) -> RefQuery {
    let inside = ds.json_data["insideCidrs"][0].as_str().unwrap();
    let interface = match &target["interfaceId"] {
        Value::Null => ds.json_data["interfaceId"].as_str(),
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.as_str()),
        other => panic!("interfaceId {other}: teach this check its reference"),
    };
    let mut q =
        RefQuery::new(dir(target["direction"].as_str().unwrap_or("any")), inside, interface, w.from_ms, w.to_ms);
    q.inside =
        ds.json_data["insideCidrs"].as_array().unwrap().iter().map(|c| r::Cidr::parse(c.as_str().unwrap())).collect();
    q.metric = match target["metric"].as_str().unwrap_or("bytes") {
        "packets" => r::Metric::Packets,
        "records" | "distinct" => r::Metric::Records,
        _ => r::Metric::Bytes,
    };
    for f in target["filters"].as_array().cloned().unwrap_or_default() {
        let field = f["field"].as_str().unwrap();
        let text = || f["value"].as_str().unwrap().to_string();
        q.filters.push(match f["op"].as_str().unwrap() {
            "=~" if text() == ".*" => continue,
            "=~" => r::RefFilter::regex(field, &text()),
            "!~" => r::RefFilter::NotRegex(field.into(), r::anchored(&text())),
            "=" => r::RefFilter::eq(field, &text()),
            "!=" => r::RefFilter::Ne(field.into(), text()),
            "cidr" => r::RefFilter::cidr(field, &text()),
            "=|" => r::RefFilter::In(field.into(), serde_json::from_value(f["value"].clone()).unwrap()),
            ">" => r::RefFilter::range(field, text().parse::<u64>().unwrap() + 1, u64::MAX),
            op => panic!("the target uses op {op}; teach this check its reference"),
        });
    }
    q
}

/// One number, row or series of an answer: its group values and values.
pub type Rows = Vec<(Vec<String>, Vec<f64>)>;

impl Checker<'_> {
    /// Any builder target (stat, table or series; bytes, packets, records,
    /// distinct counts or cost; groups, limit, `other`, share, rate): every
    /// value equal to the reference's, computed the plugin's way (the same
    /// floating-point operations for costs, shares and rates), and the unit.
    pub async fn check_target(&self, target: &Value, reference: &RefQuery) -> Rows {
        let frames = self.frames(target).await;
        let what = format!("{target} {:?}", self.w);
        let (want, unit) = self.expected(target, reference);
        assert_eq!(read_rows(target, reference, &frames, &what), want, "{what}");
        let value = match target["format"].as_str() {
            Some("table") => frames[0].fields.last().unwrap(),
            _ => frames.first().map_or_else(|| panic!("{what}: no frame"), |f| f.fields.last().unwrap()),
        };
        assert_eq!(value.config["unit"], unit, "{what}: unit of {}", value.name);
        for f in &frames {
            assert_executed(f, self.ds, &what);
        }
        want
    }

    /// The reference's answer to a target, and the unit of its values.
    fn expected(&self, target: &Value, q: &RefQuery) -> (Rows, &'static str) {
        let Checker { records, w, ds, .. } = *self;
        let metric = target["metric"].as_str().unwrap_or("bytes");
        let distinct = target["distinctField"].as_str().map(|f| resolve(f, q));
        let price = match target["price"].as_str().unwrap_or("nat") {
            "nat" => ds.json_data["natPricePerGb"].as_f64().unwrap_or(0.045),
            other => ds.json_data[format!("{other}PricePerGb")].as_f64().unwrap(),
        };
        let value = |v: u64| if metric == "cost" { v as f64 / 1e9 * price } else { v as f64 };
        let share = |part: u64, total: u64| if total == 0 { 0.0 } else { part as f64 * 100.0 / total as f64 };
        let (is_share, rate, other) = (target["share"] == true, target["rate"] == true, target["other"] == true);
        let group_by: Vec<String> = serde_json::from_value(target["groupBy"].clone()).unwrap_or_default();
        let group_by: Vec<String> = group_by.iter().map(|g| resolve(g, q)).collect();
        let group_by: Vec<&str> = group_by.iter().map(String::as_str).collect();
        let limit = target["limit"].as_u64().filter(|n| *n > 0).map_or(usize::MAX, |n| n as usize);
        let ranked = || match &distinct {
            Some(f) => r::distinct(records, q, &group_by, f),
            None => r::groups(records, q, &group_by),
        };
        let total = || r::total(records, q);
        let unit = match (metric, rate) {
            _ if is_share => "percent",
            ("cost", _) => "currencyUSD",
            ("bytes", false) => "decbytes",
            ("bytes", true) => "Bps",
            ("packets", true) => "pps",
            ("records", true) => "cps",
            _ => "short",
        };
        let rows = match (target["format"].as_str().unwrap(), group_by.is_empty()) {
            ("stat", _) | ("table", true) => {
                let v = match &distinct {
                    Some(f) => r::distinct(records, q, &[], f).first().map_or(0, |g| g.1),
                    None => total(),
                };
                vec![(Vec::new(), vec![value(v)])]
            }
            ("table", false) => {
                let all = ranked();
                let top: Vec<(Vec<String>, u64)> = all.into_iter().take(limit).collect();
                let mut rows: Vec<(Vec<String>, u64)> = top.clone();
                if other {
                    let mut key = vec![String::new(); group_by.len()];
                    key[0] = "other".into();
                    rows.push((key, total() - top.iter().map(|(_, v)| v).sum::<u64>()));
                }
                let total = total();
                rows.into_iter()
                    .map(|(k, v)| {
                        let mut values = vec![value(v)];
                        if is_share {
                            values.push(share(v, total));
                        }
                        (k, values)
                    })
                    .collect()
            }
            ("series", ungrouped) => {
                let buckets = w.buckets();
                let totals = r::buckets(records, q, &[], w.interval_ms).remove(&Vec::new()).unwrap_or_default();
                let points = |sums: &BTreeMap<i64, u64>| -> Vec<f64> {
                    buckets
                        .iter()
                        .map(|(start, _, width)| {
                            let v = sums.get(start).copied().unwrap_or(0);
                            match () {
                                _ if is_share => share(v, totals.get(start).copied().unwrap_or(0)),
                                _ if rate => v as f64 / (*width as f64 / 1000.0),
                                _ => value(v),
                            }
                        })
                        .collect()
                };
                if ungrouped {
                    let sums = match &distinct {
                        Some(f) => r::distinct_buckets(records, q, f, w.interval_ms),
                        None => totals.clone(),
                    };
                    vec![(Vec::new(), points(&sums))]
                } else {
                    assert!(distinct.is_none(), "grouped distinct series: teach this check");
                    let per_key = r::buckets(records, q, &group_by, w.interval_ms);
                    let top: Vec<Vec<String>> = ranked().into_iter().take(limit).map(|(k, _)| k).collect();
                    let empty = BTreeMap::new();
                    let mut rows: Rows =
                        top.iter().map(|k| (k.clone(), points(per_key.get(k).unwrap_or(&empty)))).collect();
                    if other {
                        let rest: BTreeMap<i64, u64> = totals
                            .iter()
                            .map(|(t, all)| (*t, all - top.iter().filter_map(|k| per_key[k].get(t)).sum::<u64>()))
                            .collect();
                        rows.push((vec!["other".to_string(); group_by.len()], points(&rest)));
                    }
                    rows
                }
            }
            (format, _) => panic!("format {format}: teach this check"),
        };
        (rows, unit)
    }
}

/// A direction-relative field as the record field the target's direction reads.
fn resolve(field: &str, q: &RefQuery) -> String {
    match (field, q.direction) {
        ("inside_addr", Dir::In) | ("outside_addr", Dir::Out) => "pkt_dstaddr".into(),
        ("inside_addr", Dir::Out) | ("outside_addr", Dir::In) => "pkt_srcaddr".into(),
        (f, _) => f.to_string(),
    }
}

/// The numbers, rows or series of an answer, as [`Checker::expected`] gives them.
fn read_rows(target: &Value, q: &RefQuery, frames: &[DecodedFrame], what: &str) -> Rows {
    let group_by: Vec<String> = serde_json::from_value(target["groupBy"].clone()).unwrap_or_default();
    let group_by: Vec<String> = group_by.iter().map(|g| resolve(g, q)).collect();
    let text =
        |v: &Value| v.as_str().map_or_else(|| if v.is_null() { String::new() } else { v.to_string() }, String::from);
    let number = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("{what}: not a number: {v}"));
    match target["format"].as_str().unwrap() {
        "series" => frames
            .iter()
            .map(|f| {
                let value = &f.fields[1];
                assert_eq!(value.labels.len(), group_by.len(), "{what}: labels {:?}", value.labels);
                let key = group_by.iter().map(|g| value.labels.get(g).cloned().unwrap_or_default()).collect();
                (key, value.values.iter().map(number).collect())
            })
            .collect(),
        _ => {
            assert_eq!(frames.len(), 1, "{what}");
            let f = &frames[0];
            let keys: Vec<&DecodedField> = f.fields.iter().take(group_by.len()).collect();
            let values: Vec<&DecodedField> = f.fields.iter().skip(group_by.len()).collect();
            let rows = values.first().map_or(0, |v| v.values.len());
            (0..rows)
                .map(|i| {
                    (
                        keys.iter().map(|k| text(&k.values[i])).collect(),
                        values.iter().map(|v| number(&v.values[i])).collect(),
                    )
                })
                .collect()
        }
    }
}
