//! Step outputs shaped into the frames panels draw as they are (the frame
//! contract in ARCHITECTURE.md): named, typed, ordered, with units, display
//! names that are bare values, empty buckets as 0, and data links. Pure.

use std::collections::BTreeMap;

use serde_json::json;

use crate::error::QueryError;
use crate::frame::{Field, FieldConfig, Frame, FrameMeta, Link, Notice, Values};
use crate::model::{Direction, FlowQuery, Format, Metric, MAX_RAW_ROWS};
use crate::plan::{missing, Answers, BucketMap, Columns, Key, LabelledSeries, Question, RawAnswer};
use crate::schema::{field_type, FieldType};
use crate::settings::Settings;
use crate::time::parse_time_ns;

/// Label and display value of the `other` group.
pub const OTHER: &str = "other";

/// Builds the frames for a query from its answers.
pub fn shape(q: &FlowQuery, settings: &Settings, answers: Answers, executed: &str) -> Result<Vec<Frame>, QueryError> {
    shape_noted(q, settings, answers, executed, &[])
}

/// [`shape`], with the backend's notices (info) on every frame. Records and
/// rows are moved into the frames, not copied. An answer the panel needs
/// that is missing, or one it does not use, is an internal error.
pub fn shape_noted(
    q: &FlowQuery,
    settings: &Settings,
    mut answers: Answers,
    executed: &str,
    backend_notices: &[String],
) -> Result<Vec<Frame>, QueryError> {
    let meta = |kind: Option<(&str, [u32; 2])>, vis: &str| FrameMeta {
        kind: kind.map(|(k, _)| k.to_string()),
        type_version: kind.map(|(_, v)| v),
        preferred_visualisation_type: Some(vis.to_string()),
        executed_query_string: Some(executed.to_string()),
        custom: (q.format == Format::Series).then(|| json!({"stepMs": q.step_ms})),
        ..Default::default()
    };
    let mut limit = None;
    let mut frames = if q.raw_query.is_some() {
        match answers.take_raw().ok_or_else(|| missing(Question::Raw))? {
            RawAnswer::Rows(rows) => {
                limit = rows_limit_notice(&rows);
                let vis = if q.format == Format::Logs { "logs" } else { "table" };
                vec![rows_frame(rows, meta(None, vis))]
            }
            RawAnswer::Series(series) => raw_series_frames(&series, &meta(Some(("timeseries-multi", [0, 1])), "graph")),
        }
    } else {
        match q.format {
            Format::Logs => {
                let records = answers.take_records().ok_or_else(|| missing(Question::Records))?;
                limit = records_limit_notice(q, &records);
                vec![logs_frame(records, settings, meta(Some(("log-lines", [0, 0])), "logs"))]
            }
            Format::Stat | Format::Table if q.group_by.is_empty() || q.format == Format::Stat => {
                let total = answers.take_total().ok_or_else(|| missing(Question::Total))?;
                let vis = if q.format == Format::Stat { "graph" } else { "table" };
                vec![total_frame(q, settings, total, meta(Some(("numeric-wide", [0, 1])), vis))]
            }
            Format::Table | Format::Nodegraph if q.node_graph => {
                let ranked = answers.take_ranking().ok_or_else(|| missing(Question::Ranking))?;
                node_graph_frames(q, settings, &ranked, &meta(None, "nodeGraph"))
            }
            Format::Table | Format::Stat | Format::Nodegraph => {
                let ranked = answers.take_ranking().ok_or_else(|| missing(Question::Ranking))?;
                let total = answers.take_total();
                let kind = q.alerting.then_some(("numeric-long", [0, 1]));
                vec![table_frame(q, settings, &ranked, total, meta(kind, "table"))]
            }
            Format::Series => {
                series_frames(q, settings, &mut answers, &meta(Some(("timeseries-multi", [0, 1])), "graph"))?
            }
        }
    };
    if let Some(question) = answers.unused() {
        return Err(QueryError::internal(format!(
            "{} was answered but this panel does not use it",
            question.describe()
        )));
    }
    let mut notices: Vec<Notice> =
        limit.take().map(|text| Notice { severity: "warning".into(), text }).into_iter().collect();
    if !q.own_addresses.is_empty() {
        let own: Vec<String> = q.own_addresses.iter().map(|a| a.to_string()).collect();
        notices.push(Notice {
            severity: "info".into(),
            text: format!(
                "The inside CIDRs hold {}, the interface's own address: it is counted as neither inside nor outside, so each byte through it is counted once.",
                own.join(", ")
            ),
        });
    }
    notices.extend(backend_notices.iter().map(|text| Notice { severity: "info".into(), text: text.clone() }));
    for f in &mut frames {
        f.meta.notices.extend(notices.iter().cloned());
    }
    for f in &mut frames {
        f.ref_id = q.ref_id.clone();
    }
    Ok(frames)
}

/// Says so when a hand-written query's answer stopped at the row limit, so
/// nobody takes a cut-off answer for the whole one.
fn rows_limit_notice(rows: &Columns) -> Option<String> {
    (rows.len() >= MAX_RAW_ROWS).then(|| {
        format!(
            "Only the first {MAX_RAW_ROWS} rows of the query's answer are shown; aggregate with `stats` or narrow the query."
        )
    })
}

/// Says so when the records stopped at the query's limit.
fn records_limit_notice(q: &FlowQuery, records: &[crate::plan::Record]) -> Option<String> {
    q.limit.is_some_and(|n| records.len() >= n).then(|| {
        format!(
            "Showing the newest {} records of the time range; raise the limit (at most {}) or narrow the range to see more.",
            records.len(),
            crate::model::LOGS_LIMIT.1
        )
    })
}

/// "bytes in", "packets/sec out", "records", "distinct dstport", "bytes share".
fn metric_label(q: &FlowQuery) -> String {
    let mut label = match &q.metric {
        Metric::Distinct { field } => format!("distinct {field}"),
        m => m.name().to_string(),
    };
    if q.rate {
        label.push_str("/sec");
    }
    if q.share {
        label.push_str(" share");
    }
    match q.direction {
        Direction::In => label.push_str(" in"),
        Direction::Out => label.push_str(" out"),
        Direction::Any | Direction::All => {}
    }
    label
}

/// The unit of a metric's values (not of a share).
fn unit(metric: &Metric, rate: bool) -> &'static str {
    match (metric, rate) {
        (Metric::Bytes, false) => "decbytes",
        (Metric::Bytes, true) => "Bps",
        (Metric::Packets, true) => "pps",
        (Metric::Records, true) => "cps",
        (Metric::Cost { .. }, _) => COST_UNIT,
        (_, _) => "short",
    }
}

/// Grafana's unit of a share (0 to 100).
const SHARE_UNIT: &str = "percent";
/// Grafana's unit of a cost.
const COST_UNIT: &str = "currencyUSD";

/// A value field's display name and unit: the share's, or the metric's.
fn value_config(q: &FlowQuery, display: String) -> FieldConfig {
    let unit = if q.share { SHARE_UNIT } else { unit(&q.metric, q.rate) };
    FieldConfig { display_name_from_ds: Some(display), unit: Some(unit.into()), ..Default::default() }
}

/// The name of a frame's value field: the metric's, or `share`.
fn value_name(q: &FlowQuery) -> &'static str {
    if q.share {
        "share"
    } else {
        q.metric.name()
    }
}

/// A sum as the metric's value: counts and sums as they are, cost priced
/// per GB (10^9 bytes).
fn metric_values(q: &FlowQuery, sums: impl Iterator<Item = u64>) -> Values {
    match q.metric.price_per_gb() {
        Some(price) => Values::F64(sums.map(|bytes| Some(bytes as f64 / 1e9 * price)).collect()),
        None => Values::U64(sums.map(Some).collect()),
    }
}

/// A part of a total in percent (0 when the total is 0).
pub fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

/// Shares of `total`, in percent.
fn share_values(parts: impl Iterator<Item = u64>, total: u64) -> Values {
    Values::F64(parts.map(|p| Some(share(p, total))).collect())
}

/// A readable column header for a canonical field.
pub fn header(field: &str) -> String {
    let known = match field {
        "srcaddr" => "Source address",
        "dstaddr" => "Destination address",
        "pkt_srcaddr" => "Source address (packet)",
        "pkt_dstaddr" => "Destination address (packet)",
        "inside_addr" => "Inside address",
        "outside_addr" => "Outside address",
        "srcport" => "Source port",
        "dstport" => "Destination port",
        "interface_id" => "Interface",
        "bytes" => "Bytes",
        "packets" => "Packets",
        "records" => "Records",
        "protocol" => "Protocol",
        "action" => "Action",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let mut words = field.replace('_', " ");
    if let Some(first) = words.get(0..1) {
        words.replace_range(0..1, &first.to_uppercase());
    }
    words
}

fn links(settings: &Settings, field: &str) -> Vec<Link> {
    settings
        .data_links
        .iter()
        .filter(|l| l.field == field)
        .map(|l| Link { title: l.title.clone(), url: l.url.clone(), internal: None })
        .collect()
}

/// A name column's drill-down: Explore, with the panel's range, on the
/// addresses that got the name (a table of the address and the name,
/// filtered to the name), on this datasource. None without its uid.
fn name_links(q: &FlowQuery, settings: &Settings, field: &str) -> Vec<Link> {
    let Some((_, address)) = q.names.iter().find(|(name, _)| name == field) else { return Vec::new() };
    if settings.uid.is_empty() {
        return Vec::new();
    }
    let query = json!({
        "refId": "A",
        "format": "table",
        "metric": q.metric.asked().name(),
        "direction": q.direction,
        "groupBy": [address, field],
        "filters": [{"field": field, "op": "=", "value": "${__value.raw}"}],
        "interfaceId": q.interface_ids,
        "limit": 100,
    });
    vec![Link {
        title: format!("Addresses of this {}", header(field).to_lowercase()),
        url: String::new(),
        internal: Some(crate::frame::InternalLink {
            query,
            datasource_uid: settings.uid.clone(),
            datasource_name: settings.name.clone(),
        }),
    }]
}

/// One number: numeric-wide, one numeric field (and the `costColumn`
/// column, except for alerting: one value per alert instance).
fn total_frame(q: &FlowQuery, settings: &Settings, total: u64, meta: FrameMeta) -> Frame {
    let label = metric_label(q);
    let mut fields = vec![Field::new(q.metric.name(), metric_values(q, std::iter::once(total)))
        .with_config(value_config(q, label.clone()))];
    fields.extend(cost_field(q, settings, &[total]));
    Frame { name: label, fields, meta, ..Default::default() }
}

/// Cost of the bytes at the NAT price, when the datasource's `costColumn`
/// is on (not for alerting, whose frames hold one value each: alert on
/// `metric: cost`).
fn cost_field(q: &FlowQuery, settings: &Settings, bytes: &[u64]) -> Option<Field> {
    let price =
        Some(settings.prices.nat).filter(|_| settings.cost_column && q.metric == Metric::Bytes && !q.alerting)?;
    Some(priced("cost", bytes, price))
}

/// Bytes priced per GB (10^9 bytes), a field named `name` headed Cost.
fn priced(name: &str, bytes: &[u64], price_per_gb: f64) -> Field {
    let values = bytes.iter().map(|b| Some(*b as f64 / 1e9 * price_per_gb)).collect();
    Field::new(name, Values::F64(values)).with_config(FieldConfig {
        display_name_from_ds: Some("Cost".into()),
        unit: Some(COST_UNIT.into()),
        ..Default::default()
    })
}

/// What a table shows for the group of records without a value in a
/// numeric group-by column (Grafana's `noValue`).
const NO_VALUE_TEXT: &str = "(no value)";

fn table_frame(
    q: &FlowQuery,
    settings: &Settings,
    ranked: &[(Key, u64)],
    total: Option<u64>,
    meta: FrameMeta,
) -> Frame {
    let mut rows: Vec<(Vec<Option<String>>, u64)> =
        ranked.iter().map(|(k, v)| (k.iter().map(|s| Some(s.clone())).collect(), *v)).collect();
    if q.other {
        let shown: u64 = ranked.iter().map(|(_, v)| v).sum();
        let other = total.map_or(0, |t| t.saturating_sub(shown));
        // Alerting labels the row as series label `other`: every group field.
        let mut key = vec![q.alerting.then(|| OTHER.to_string()); q.group_by.len()];
        key[0] = Some(OTHER.to_string());
        rows.push((key, other));
    }
    let mut fields: Vec<Field> = q
        .group_by
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let column = rows.iter().map(|(k, _)| k[i].clone());
            // The first column holds the `other` label: text, even for ports;
            // for alerting every group column is text: the labels of its value.
            let labelled = (q.other && i == 0) || q.alerting;
            let numbers = field_type(name) == Some(FieldType::Number) && !labelled;
            let values = if numbers {
                Values::U64(column.map(|v| v.and_then(|s| s.parse().ok())).collect())
            } else {
                Values::Str(column.collect())
            };
            let mut field_links = links(settings, name);
            field_links.extend(name_links(q, settings, name));
            Field::new(name.clone(), values).with_config(FieldConfig {
                display_name_from_ds: Some(header(name)),
                links: field_links,
                // The group of records without a value (a NODATA record's port) is a null cell.
                no_value: numbers.then(|| NO_VALUE_TEXT.to_string()),
                ..Default::default()
            })
        })
        .collect();
    let values: Vec<u64> = rows.iter().map(|(_, v)| *v).collect();
    let metric_header = match &q.metric {
        Metric::Distinct { field } => format!("Distinct {}", header(field).to_lowercase()),
        m => header(m.name()),
    };
    let metric_config = FieldConfig {
        display_name_from_ds: Some(metric_header),
        unit: Some(unit(&q.metric, false).into()),
        ..Default::default()
    };
    // Alerting reads one value per row: the share when asked, else the metric.
    if !(q.alerting && q.share) {
        fields.push(Field::new(q.metric.name(), metric_values(q, values.iter().copied())).with_config(metric_config));
    }
    if q.share {
        // Every group was ranked when fewer than the limit came back.
        let total = total.unwrap_or_else(|| ranked.iter().map(|(_, v)| v).sum());
        fields.push(
            Field::new("share", share_values(values.iter().copied(), total))
                .with_config(value_config(q, "Share".into())),
        );
    }
    fields.extend(cost_field(q, settings, &values));
    Frame { name: metric_label(q), fields, meta, ..Default::default() }
}

/// A node graph (Grafana's node graph panel, its `nodes` and `edges`
/// frames): an edge per ranked pair of the two group fields' values, its
/// main stat the metric and, for bytes, its secondary stat the cost at the
/// NAT price; a node per value of a field (ids `field:value`, so one value
/// on both sides is two nodes), its stats the sums of its edges.
fn node_graph_frames(q: &FlowQuery, settings: &Settings, ranked: &[(Key, u64)], meta: &FrameMeta) -> Vec<Frame> {
    let node_id = |i: usize, key: &Key| format!("{}:{}", q.group_by[i], key[i]);
    let mut nodes: Vec<(String, usize, String, u64)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (key, value) in ranked {
        for i in 0..2 {
            let id = node_id(i, key);
            let n = *index.entry(id.clone()).or_insert_with(|| {
                nodes.push((id, i, key[i].clone(), 0));
                nodes.len() - 1
            });
            nodes[n].3 += value;
        }
    }
    let price = (q.metric == Metric::Bytes).then_some(settings.prices.nat);
    let stats = |values: Vec<u64>| -> Vec<Field> {
        let mut fields = vec![Field::new("mainstat", metric_values(q, values.iter().copied()))
            .with_config(value_config(q, header(q.metric.name())))];
        fields.extend(price.map(|price| priced("secondarystat", &values, price)));
        fields
    };
    let text = |values: Vec<String>| Values::Str(values.into_iter().map(Some).collect());
    let mut node_fields = vec![
        Field::new("id", text(nodes.iter().map(|n| n.0.clone()).collect())),
        Field::new("title", text(nodes.iter().map(|n| n.2.clone()).collect())),
        Field::new("subtitle", text(nodes.iter().map(|n| header(&q.group_by[n.1])).collect())),
    ];
    node_fields.extend(stats(nodes.iter().map(|n| n.3).collect()));
    let mut edge_fields = vec![
        Field::new("id", text((0..ranked.len()).map(|i| format!("edge-{i}")).collect())),
        Field::new("source", text(ranked.iter().map(|(k, _)| node_id(0, k)).collect())),
        Field::new("target", text(ranked.iter().map(|(k, _)| node_id(1, k)).collect())),
    ];
    edge_fields.extend(stats(ranked.iter().map(|(_, v)| *v).collect()));
    vec![
        Frame { name: "nodes".into(), fields: node_fields, meta: meta.clone(), ..Default::default() },
        Frame { name: "edges".into(), fields: edge_fields, meta: meta.clone(), ..Default::default() },
    ]
}

/// One point of a series: the bucket `[start, start + step)` (aligned to
/// multiples of the step since the epoch, as VictoriaLogs' `_time:step` and
/// Grafana's `$__interval` are) clipped to the range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// The aligned start, the key of the backend's answer.
    pub start_ms: i64,
    /// The point's time: the start, or `from` for a first bucket that
    /// begins before the range.
    pub time_ms: i64,
    /// How much of the bucket lies inside the range: the step, or less at
    /// the range's edges. A rate divides by this, never by time not read.
    pub width_ms: i64,
}

/// The buckets covering the range, in time order.
pub fn buckets(q: &FlowQuery) -> Vec<Bucket> {
    let first = q.range.from_ms.div_euclid(q.step_ms) * q.step_ms;
    (0..)
        .map(|i| first + i * q.step_ms)
        .take_while(|t| *t < q.range.to_ms)
        .map(|start_ms| {
            let time_ms = start_ms.max(q.range.from_ms);
            Bucket { start_ms, time_ms, width_ms: (start_ms + q.step_ms).min(q.range.to_ms) - time_ms }
        })
        .collect()
}

fn series_frames(
    q: &FlowQuery,
    settings: &Settings,
    answers: &mut Answers,
    meta: &FrameMeta,
) -> Result<Vec<Frame>, QueryError> {
    let points = buckets(q);
    let empty = BTreeMap::new();
    // Per bucket, the total over every group: asked (for `other`, and for a
    // share of the top groups), else the sum of every group there is.
    let asked: Option<BucketMap> = answers.take_total_buckets();
    let (ranked, grouped): (Vec<(Key, u64)>, Option<BucketMap>) = if q.group_by.is_empty() {
        if asked.is_none() {
            return Err(missing(Question::TotalBuckets));
        }
        (Vec::new(), None)
    } else {
        let ranked = answers.take_ranking().ok_or_else(|| missing(Question::Ranking))?;
        let grouped = answers.take_group_buckets();
        // No group ranked: no buckets asked for them.
        if grouped.is_none() && !ranked.is_empty() {
            return Err(missing(Question::GroupBuckets));
        }
        (ranked, grouped)
    };
    let asked_totals = asked.as_ref().and_then(|t| t.get(&Vec::new()));
    let no_groups = BTreeMap::new();
    let grouped = grouped.as_ref().unwrap_or(&no_groups);
    let summed;
    let totals = match asked_totals {
        Some(t) => t,
        None => {
            summed = points
                .iter()
                .map(|b| (b.start_ms, grouped.values().filter_map(|g| g.get(&b.start_ms)).sum()))
                .collect::<BTreeMap<i64, u64>>();
            &summed
        }
    };
    let at = |sums: &BTreeMap<i64, u64>, b: &Bucket| sums.get(&b.start_ms).copied().unwrap_or(0);
    let series_frame =
        |labels: BTreeMap<String, String>, display: String, sums: &BTreeMap<i64, u64>, link_field: Option<&str>| {
            let values = if q.share {
                Values::F64(points.iter().map(|b| Some(share(at(sums, b), at(totals, b)))).collect())
            } else if q.rate {
                Values::F64(points.iter().map(|b| Some(rate(at(sums, b), b.width_ms))).collect())
            } else {
                metric_values(q, points.iter().map(|b| at(sums, b)))
            };
            let mut config = value_config(q, display.clone());
            if let Some(f) = link_field {
                config.links = links(settings, f);
            }
            let value = Field { name: value_name(q).to_string(), labels, config: Some(config), values };
            Frame {
                name: display,
                fields: vec![
                    Field::new("time", Values::Time(points.iter().map(|b| b.time_ms * 1_000_000).collect())),
                    value,
                ],
                meta: meta.clone(),
                ..Default::default()
            }
        };
    if q.group_by.is_empty() {
        return Ok(vec![series_frame(BTreeMap::new(), metric_label(q), totals, None)]);
    }
    let mut frames: Vec<Frame> = ranked
        .iter()
        .map(|(key, _)| {
            let labels: BTreeMap<String, String> = q.group_by.iter().cloned().zip(key.iter().cloned()).collect();
            // A key without a value reads as AWS writes it, `-`.
            let display =
                key.iter().map(|v| if v.is_empty() { "-" } else { v.as_str() }).collect::<Vec<_>>().join(", ");
            series_frame(
                labels,
                display,
                grouped.get(key).unwrap_or(&empty),
                (q.group_by.len() == 1).then(|| q.group_by[0].as_str()),
            )
        })
        .collect();
    if q.other {
        let other: BTreeMap<i64, u64> = points
            .iter()
            .map(|b| {
                let top: u64 = grouped.values().filter_map(|g| g.get(&b.start_ms)).sum();
                (b.start_ms, at(totals, b).saturating_sub(top))
            })
            .collect();
        let labels = q.group_by.iter().map(|g| (g.clone(), OTHER.to_string())).collect();
        frames.push(series_frame(labels, OTHER.to_string(), &other, None));
    }
    Ok(frames)
}

/// A bucket's sum per second of its width (the part inside the range).
pub fn rate(sum: u64, width_ms: i64) -> f64 {
    sum as f64 / (width_ms as f64 / 1000.0)
}

/// Raw records as Grafana's log-lines frame: `labels` (stream labels and
/// parsed fields, the fields "filter for value" acts on), `timestamp`,
/// `body`, a stable `id` per line, and one field per data link setting (its
/// values from the labels, the links on it), as Explore's log details show
/// links.
fn logs_frame(records: Vec<crate::plan::Record>, settings: &Settings, meta: FrameMeta) -> Frame {
    let n = records.len();
    let (mut labels, mut times, mut bodies, mut ids) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut linked: Vec<(&str, Vec<Option<String>>)> = Vec::new();
    for l in &settings.data_links {
        if !linked.iter().any(|(f, _)| *f == l.field) {
            linked.push((&l.field, Vec::with_capacity(n)));
        }
    }
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in records {
        if !linked.is_empty() {
            let map = r.labels.to_map();
            for (field, values) in &mut linked {
                values.push(map.get(*field).cloned());
            }
        }
        ids.push(Some(line_id(&mut seen, r.time_ns, &r.body)));
        labels.push(r.labels.into_json());
        times.push(r.time_ns);
        bodies.push(Some(r.body));
    }
    let mut fields = vec![
        Field::new("labels", Values::Json(labels)),
        Field::new("timestamp", Values::Time(times)),
        Field::new("body", Values::Str(bodies)),
        Field::new("id", Values::Str(ids)),
    ];
    fields.extend(linked.into_iter().map(|(field, values)| {
        Field::new(field, Values::Str(values)).with_config(FieldConfig {
            display_name_from_ds: Some(header(field)),
            links: links(settings, field),
            ..Default::default()
        })
    }));
    Frame { name: "flow records".into(), fields, meta, ..Default::default() }
}

/// A log line's id: its time and a hash of its text (the same line at the
/// same time in every answer), and a count for repeats within one answer.
fn line_id(seen: &mut std::collections::HashMap<String, usize>, time_ns: i64, body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    let id = format!("{time_ns}_{:016x}", h.finish());
    let count = seen.entry(id.clone()).or_default();
    *count += 1;
    if *count == 1 {
        id
    } else {
        format!("{id}_{count}")
    }
}

/// Rows of a hand-written query: columns in first-seen order; `_time` as a
/// time column; columns whose every value is a number as numbers.
fn rows_frame(rows: Columns, meta: FrameMeta) -> Frame {
    let any = !rows.is_empty();
    let fields = rows
        .into_columns()
        .map(|(name, column)| {
            let times: Option<Vec<i64>> = (name == "_time")
                .then(|| column.iter().map(|v| v.as_deref().and_then(parse_time_ns)).collect())
                .flatten();
            let numbers: Option<Vec<Option<f64>>> =
                column.iter().map(|v| v.as_deref().map_or(Some(None), |s| s.parse::<f64>().ok().map(Some))).collect();
            let values = match (times, numbers) {
                (Some(t), _) => Values::Time(t),
                (None, Some(n)) if any => Values::F64(n),
                _ => Values::Str(column),
            };
            Field::new(name, values)
        })
        .collect();
    Frame { name: "result".into(), fields, meta, ..Default::default() }
}

fn raw_series_frames(series: &[LabelledSeries], meta: &FrameMeta) -> Vec<Frame> {
    series
        .iter()
        .map(|(labels, points)| {
            let display = if labels.len() == 1 {
                labels.values().next().cloned().unwrap_or_default()
            } else {
                labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
            };
            Frame {
                name: display.clone(),
                fields: vec![
                    Field::new("time", Values::Time(points.iter().map(|(t, _)| t * 1_000_000).collect())),
                    Field {
                        name: "value".into(),
                        labels: labels.clone(),
                        config: Some(FieldConfig { display_name_from_ds: Some(display), ..Default::default() }),
                        values: Values::F64(points.iter().map(|(_, v)| Some(*v)).collect()),
                    },
                ],
                meta: meta.clone(),
                ..Default::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
