//! The query model v1 (docs/query-model.md): a panel target's JSON, read
//! leniently, then validated against the datasource settings into a
//! [`FlowQuery`] that inner stages trust. Pure.

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde::Deserialize;

use crate::error::QueryError;
use crate::schema::FieldType;
use crate::settings::{parse_cidr, Settings};

/// What the panel draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One number over the whole range.
    Stat,
    /// One time series per group.
    Series,
    /// One row per group.
    Table,
    /// Raw records.
    Logs,
}

/// What is computed per group (or bucket, or range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Metric {
    /// Sum of the `bytes` field.
    Bytes,
    /// Sum of the `packets` field.
    Packets,
    /// Number of records (flows).
    Records,
    /// Number of distinct values of `FlowQuery::distinct` (records without
    /// a value of it not counted).
    Distinct,
    /// Sum of the `bytes` field priced per GB (`FlowQuery::price_per_gb`).
    Cost,
}

impl Metric {
    /// The record field summed, if any.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::Bytes | Self::Cost => Some("bytes"),
            Self::Packets => Some("packets"),
            Self::Records | Self::Distinct => None,
        }
    }

    /// The result field name (also the table column).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Packets => "packets",
            Self::Records => "records",
            Self::Distinct => "distinct",
            Self::Cost => "cost",
        }
    }

    /// Whether the values of parts add up to the value of the whole (a
    /// range's to its buckets', groups' to their total): everything but
    /// distinct counts.
    pub fn additive(self) -> bool {
        self != Self::Distinct
    }
}

/// Which price per GB `metric: cost` uses (the datasource's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Price {
    /// NAT gateway data processing (`natPricePerGb`).
    Nat,
    /// Data transfer out to the internet (`egressPricePerGb`).
    Egress,
    /// Data transfer between Availability Zones (`crossAzPricePerGb`).
    CrossAz,
}

/// Traffic direction relative to the inside CIDRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Destination inside.
    In,
    /// Source inside.
    Out,
    /// Source or destination inside.
    Any,
    /// No direction filter.
    All,
}

/// A validated filter on one canonical field.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Exact match.
    Eq(String, String),
    /// Exact mismatch.
    Ne(String, String),
    /// Whole-value regex match (the regex as the user wrote it, unanchored).
    Re(String, String),
    /// Whole-value regex mismatch.
    NotRe(String, String),
    /// Address inside a network.
    Cidr(String, IpNet),
    /// Address outside a network.
    NotCidr(String, IpNet),
    /// Number within an inclusive range (also `<`, `>`, `<=`, `>=`).
    Range(String, u64, u64),
    /// One of these values exactly (Grafana's `=|`).
    In(String, Vec<String>),
    /// None of these values (Grafana's `!=|`).
    NotIn(String, Vec<String>),
}

impl Filter {
    /// The canonical field the filter is on.
    pub fn field(&self) -> &str {
        match self {
            Self::Eq(f, _) | Self::Ne(f, _) | Self::Re(f, _) | Self::NotRe(f, _) => f,
            Self::Cidr(f, _) | Self::NotCidr(f, _) | Self::Range(f, _, _) => f,
            Self::In(f, _) | Self::NotIn(f, _) => f,
        }
    }
}

/// A half-open time range `[from_ms, to_ms)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Start, inclusive.
    pub from_ms: i64,
    /// End, exclusive.
    pub to_ms: i64,
}

/// What Grafana sends besides the target JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Dashboard time range.
    pub range: TimeRange,
    /// Grafana's `$__interval` in ms (0 if unknown).
    pub interval_ms: i64,
    /// The panel's max data points (0 if unknown).
    pub max_data_points: i64,
}

/// A validated query: every field checked against the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowQuery {
    /// Grafana's target id.
    pub ref_id: String,
    /// What the panel draws.
    pub format: Format,
    /// What is summed.
    pub metric: Metric,
    /// Direction filter.
    pub direction: Direction,
    /// Inside networks used by `direction`.
    pub inside: Vec<IpNet>,
    /// Group-by fields, in column order.
    pub group_by: Vec<String>,
    /// Top-N (series, table rows) or record count (logs); `None` for stats.
    pub limit: Option<usize>,
    /// Add an `other` group.
    pub other: bool,
    /// Series as per-second rates.
    pub rate: bool,
    /// Values as a percentage of the total over every group (the same
    /// question without `groupBy`), per bucket for series.
    pub share: bool,
    /// For [`Metric::Distinct`]: the canonical field whose values are counted.
    pub distinct: Option<String>,
    /// For [`Metric::Cost`]: USD per GB (10^9 bytes).
    pub price_per_gb: Option<f64>,
    /// Logs: the oldest records of the range first (`order: asc`), not the
    /// newest (log context after a row).
    pub oldest_first: bool,
    /// Frames for Grafana's alerting and server-side expressions (a request
    /// with `FromAlert` or `FromExpression`): one numeric field per value,
    /// group values as string labels ([`FlowQuery::for_alerting`]).
    pub alerting: bool,
    /// ANDed filters.
    pub filters: Vec<Filter>,
    /// Interface-id filter: any of these (datasource default unless the
    /// query overrides it; empty = every interface).
    pub interface_ids: Vec<String>,
    /// Addresses that are neither inside nor outside: the interface's own
    /// (a NAT gateway's private address), excluded from the inside CIDRs.
    pub own_addresses: Vec<std::net::IpAddr>,
    /// Hand-written backend query.
    pub raw_query: Option<String>,
    /// Time range.
    pub range: TimeRange,
    /// Bucket width for series, in ms.
    pub step_ms: i64,
    /// Settled buckets may come from the datasource's cache (`cache`,
    /// default true; false reads everything from the backend).
    pub cache: bool,
}

/// Default and maximum number of series for a grouped series query.
pub const SERIES_LIMIT: (usize, usize) = (10, 1_000);
/// Default and maximum number of table rows.
pub const TABLE_LIMIT: (usize, usize) = (100, 10_000);
/// Default and maximum number of raw records.
pub const LOGS_LIMIT: (usize, usize) = (1_000, 10_000);
/// Most points (series x buckets) one series query returns: 16 MB of frames.
pub const MAX_POINTS: i64 = 1_000_000;
/// Most rows read from a hand-written query before the rest is dropped.
pub const MAX_RAW_ROWS: usize = 10_000;
/// At most this many buckets per series (Grafana's own guard is 11,000).
pub const MAX_BUCKETS: i64 = 11_000;
/// Most values one list may hold: a filter's `=|`/`!=|` values, or the
/// `interfaceId` list (a multi-value variable). Longer lists are an error
/// naming the field, not a query of megabytes.
pub const MAX_LIST_VALUES: usize = 10_000;

/// The target JSON as Grafana sends it: every field optional, unknown fields
/// (`datasource`, `hide`, ...) ignored, types checked later per refId.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryJson {
    ref_id: String,
    version: Option<serde_json::Value>,
    format: Option<serde_json::Value>,
    metric: Option<serde_json::Value>,
    direction: Option<serde_json::Value>,
    group_by: Option<serde_json::Value>,
    limit: Option<serde_json::Value>,
    other: Option<serde_json::Value>,
    rate: Option<serde_json::Value>,
    share: Option<serde_json::Value>,
    distinct_field: Option<serde_json::Value>,
    price: Option<serde_json::Value>,
    order: Option<serde_json::Value>,
    filters: Option<serde_json::Value>,
    interface_id: Option<serde_json::Value>,
    raw_query: Option<serde_json::Value>,
    cache: Option<serde_json::Value>,
}

impl QueryJson {
    /// A target from JSON bytes.
    fn read(json: &[u8]) -> Result<Self, QueryError> {
        let value: serde_json::Value = serde_json::from_slice(json)
            .map_err(|e| QueryError::plugin(format!("the query is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(QueryError::plugin(format!("the query is not a JSON object: {value}")));
        }
        serde_json::from_value(value).map_err(|e| QueryError::plugin(format!("the query is not valid: {e}")))
    }

    /// An error naming the first template variable in a value of the target.
    fn no_variables(&self) -> Result<(), QueryError> {
        fn strings(v: &serde_json::Value) -> Vec<&str> {
            match v {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(items) => items.iter().flat_map(strings).collect(),
                _ => Vec::new(),
            }
        }
        let filters = self.filters.iter().flat_map(|f| f.as_array().into_iter().flatten());
        let values: Vec<(&str, &str)> = [
            ("rawQuery", &self.raw_query),
            ("interfaceId", &self.interface_id),
            ("groupBy", &self.group_by),
            ("distinctField", &self.distinct_field),
        ]
        .into_iter()
        .flat_map(|(what, v)| v.iter().flat_map(strings).map(move |s| (what, s)))
        .chain(filters.flat_map(|f| [&f["field"], &f["value"]]).flat_map(strings).map(|s| ("filters", s)))
        .collect();
        for (what, value) in values {
            if let Some(v) = template_variable(value) {
                return Err(QueryError::plugin(format!(
                    "`{what}`: `{v}` is a dashboard variable that was not replaced; alert rules and server-side expressions run the query as saved (Grafana replaces variables only in dashboards and Explore), so write the value itself"
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
struct FilterJson {
    field: String,
    op: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// Reads one optional field with a typed error naming it.
fn typed<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &Option<serde_json::Value>,
    valid: &str,
) -> Result<Option<T>, QueryError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| QueryError::plugin(format!("`{name}`: {v} is not valid; expected {valid}"))),
    }
}

impl FlowQuery {
    /// Parses and validates a target. Errors name the field and what is valid.
    pub fn parse(json: &[u8], req: &Request, settings: &Settings) -> Result<Self, QueryError> {
        Self::from_json(QueryJson::read(json)?, req, settings)
    }

    /// Parses a target of Grafana's alerting or server-side expressions,
    /// which send it as saved: a template variable left in it is an error
    /// (in a dashboard, the frontend replaced every variable it knows, and
    /// what looks like one is data). Logs cannot be a condition.
    pub fn parse_for_alerting(json: &[u8], req: &Request, settings: &Settings) -> Result<Self, QueryError> {
        let q = QueryJson::read(json)?;
        q.no_variables()?;
        Self::from_json(q, req, settings)?.for_alerting()
    }

    /// Validates an already deserialized target.
    pub fn from_json(q: QueryJson, req: &Request, settings: &Settings) -> Result<Self, QueryError> {
        if let Some(v) = typed::<u32>("version", &q.version, "1")? {
            if v != 1 {
                return Err(QueryError::plugin(format!(
                    "`version`: {v} is not supported; this plugin reads version 1"
                )));
            }
        }
        let raw_query: Option<String> = typed::<String>("rawQuery", &q.raw_query, "a string")?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let format = typed("format", &q.format, "stat, series, table or logs")?.unwrap_or(if raw_query.is_some() {
            Format::Table
        } else {
            Format::Series
        });
        let metric = typed("metric", &q.metric, "bytes, packets, records, distinct or cost")?.unwrap_or(Metric::Bytes);
        let direction = typed("direction", &q.direction, "in, out, any or all")?
            .unwrap_or(if settings.inside.is_empty() { Direction::All } else { Direction::Any });
        if direction != Direction::All && settings.inside.is_empty() && raw_query.is_none() {
            return Err(QueryError::plugin(format!(
                "`direction`: {} needs the datasource's inside CIDRs (insideCidrs, e.g. the pod subnet); set them or use direction `all`",
                serde_json::to_string(&direction).unwrap_or_default()
            )));
        }
        let schema = &settings.schema;
        let require_field = |what: &str, f: &str| -> Result<(), QueryError> {
            if schema.has(f) {
                Ok(())
            } else {
                Err(QueryError::plugin(format!(
                    "`{what}`: `{f}` is not a field of the records; available: {}",
                    schema.available_fields().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                )))
            }
        };
        let sided = |what: &str, f: &str| -> Result<String, QueryError> {
            let inside_side = match direction {
                Direction::In => "dst",
                Direction::Out => "src",
                Direction::Any if what == "filters" => return Ok(f.to_string()), // resolved per side by the dialect
                _ => {
                    let need = if what == "filters" { "in, out or any" } else { "in or out" };
                    return Err(QueryError::plugin(format!(
                        "`{what}`: `{f}` is relative to the direction; use direction {need}"
                    )));
                }
            };
            Ok(resolve_side(schema, f, inside_side).to_string())
        };
        let group_by: Vec<String> = typed("groupBy", &q.group_by, "a list of field names")?.unwrap_or_default();
        let group_by = group_by
            .into_iter()
            .map(|f| if is_sided(&f) { sided("groupBy", &f) } else { Ok(f) })
            .collect::<Result<Vec<_>, _>>()?;
        for (i, f) in group_by.iter().enumerate() {
            require_field("groupBy", f)?;
            if group_by[..i].contains(f) {
                return Err(QueryError::plugin(format!("`groupBy`: `{f}` is listed twice")));
            }
        }
        if raw_query.is_none() {
            if let Some(m) = metric.field() {
                require_field("metric", m)?;
            }
            match direction {
                Direction::In => {
                    require_field("direction", "pkt_dstaddr").or_else(|_| require_field("direction", "dstaddr"))?
                }
                Direction::Out => {
                    require_field("direction", "pkt_srcaddr").or_else(|_| require_field("direction", "srcaddr"))?
                }
                Direction::Any => {
                    require_field("direction", address_field(schema, "src"))?;
                    require_field("direction", address_field(schema, "dst"))?;
                }
                Direction::All => {}
            }
        }
        let (default_limit, max_limit) = match format {
            Format::Series => SERIES_LIMIT,
            Format::Table => TABLE_LIMIT,
            Format::Logs => LOGS_LIMIT,
            Format::Stat => (0, 0),
        };
        let limit = match typed::<usize>("limit", &q.limit, "a whole number")? {
            _ if format == Format::Stat => None,
            Some(0) | None if format == Format::Series && group_by.is_empty() => None,
            Some(0) | None => Some(default_limit),
            Some(n) if n > max_limit => {
                return Err(QueryError::plugin(format!(
                    "`limit`: {n} is more than the maximum of {max_limit} for format {format:?}"
                )))
            }
            Some(n) => Some(n),
        };
        let other = typed::<bool>("other", &q.other, "true or false")?.unwrap_or(false);
        let rate = typed::<bool>("rate", &q.rate, "true or false")?.unwrap_or(false);
        let share = typed::<bool>("share", &q.share, "true or false")?.unwrap_or(false);
        let cache = typed::<bool>("cache", &q.cache, "true or false")?.unwrap_or(true);
        if rate && format != Format::Series {
            return Err(QueryError::plugin("`rate`: only series can be rates; use format `series` or turn rate off"));
        }
        let distinct = match typed::<String>("distinctField", &q.distinct_field, "a field name")? {
            // Kept by an editor that switched metric: not asked.
            _ if metric != Metric::Distinct || raw_query.is_some() => None,
            None => {
                return Err(QueryError::plugin(
                    "`distinctField`: metric distinct counts the distinct values of a field; name it, e.g. dstport",
                ))
            }
            Some(f) => {
                let f = if is_sided(&f) { sided("distinctField", &f)? } else { f };
                require_field("distinctField", &f)?;
                Some(f)
            }
        };
        if raw_query.is_none() {
            let plain = |what: &str, why: &str| Err(QueryError::plugin(format!("`{what}`: {why}")));
            match metric {
                Metric::Distinct if other => {
                    plain("other", "distinct counts do not add up; `other` needs bytes, packets, records or cost")?
                }
                Metric::Distinct if share => plain(
                    "share",
                    "distinct counts do not add up to a total; a share needs bytes, packets, records or cost",
                )?,
                Metric::Distinct | Metric::Cost if rate => {
                    plain("rate", "only bytes, packets and records are rates; turn rate off")?
                }
                _ => {}
            }
            if share && (group_by.is_empty() || !matches!(format, Format::Table | Format::Series)) {
                plain("share", "a share is each group's part of the total; use format table or series with groupBy")?;
            }
            if share && rate {
                plain("share", "a share is already per bucket; turn rate off")?;
            }
        }
        let oldest_first = match typed::<String>("order", &q.order, "asc or desc")?.as_deref() {
            None | Some("desc") => false,
            Some("asc") if format == Format::Logs => true,
            Some("asc") => return Err(QueryError::plugin("`order`: only logs have an order; use format logs")),
            Some(other) => {
                return Err(QueryError::plugin(format!("`order`: \"{other}\" is not valid; expected asc or desc")))
            }
        };
        let price = typed::<Price>("price", &q.price, "nat, egress or crossAz")?.unwrap_or(Price::Nat);
        let price_per_gb = match metric {
            Metric::Cost => Some(match price {
                Price::Nat => settings.prices.nat,
                Price::Egress => settings.prices.egress.ok_or_else(|| {
                    QueryError::plugin("`price`: egress has no price; set egressPricePerGb in the datasource")
                })?,
                Price::CrossAz => settings.prices.cross_az.ok_or_else(|| {
                    QueryError::plugin("`price`: crossAz has no price; set crossAzPricePerGb in the datasource")
                })?,
            }),
            _ => None,
        };
        let filters_json: Vec<FilterJson> =
            typed("filters", &q.filters, "a list of {field, op, value}")?.unwrap_or_default();
        let mut filters = Vec::new();
        for mut f in filters_json {
            if is_sided(&f.field) {
                f.field = sided("filters", &f.field)?;
            } else {
                require_field("filters", &f.field)?;
            }
            if let Some(filter) = validate_filter(f)? {
                filters.push(filter);
            }
        }
        if let Some(f) = &distinct {
            // Records without a value of the field have nothing to count.
            filters.push(Filter::NotIn(f.clone(), vec![NO_VALUE.to_string()]));
        }
        let interface_ids: Vec<String> =
            match typed::<StringOrList>("interfaceId", &q.interface_id, "a string or a list of strings")? {
                None => settings.interface_id.iter().cloned().collect(),
                Some(v) => v.into_vec().into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            };
        if interface_ids.len() > MAX_LIST_VALUES {
            return Err(QueryError::plugin(format!(
                "`interfaceId`: {} interfaces are more than the maximum of {MAX_LIST_VALUES}; name fewer, or leave it empty for every interface",
                interface_ids.len()
            )));
        }
        if !interface_ids.is_empty() && raw_query.is_none() {
            require_field("interfaceId", "interface_id")?;
        }
        let range = checked_range(req.range)?;
        let step_ms = step_ms(req);
        if format == Format::Series && raw_query.is_none() {
            let series = limit.unwrap_or(1) + usize::from(other);
            let points = series as i64 * bucket_count(range, step_ms);
            if points > MAX_POINTS {
                return Err(QueryError::plugin(format!(
                    "`limit`: {series} series of {} buckets are {points} points, more than the {MAX_POINTS} a query may return; lower the limit or widen the interval",
                    bucket_count(range, step_ms)
                )));
            }
        }
        Ok(Self {
            ref_id: q.ref_id,
            format,
            metric,
            direction,
            inside: settings.inside.clone(),
            group_by,
            limit,
            other,
            rate,
            share,
            distinct,
            price_per_gb,
            oldest_first,
            alerting: false,
            filters,
            own_addresses: own_inside(settings, settings.nat_addresses.as_deref().unwrap_or_default()),
            interface_ids,
            raw_query,
            range,
            step_ms,
            cache,
        })
    }
}

/// Of an interface's own addresses, those an inside CIDR holds: only they
/// would be counted as inside and must be excluded.
pub fn own_inside(settings: &Settings, own: &[std::net::IpAddr]) -> Vec<std::net::IpAddr> {
    own.iter().copied().filter(|a| settings.inside.iter().any(|net| net.contains(a))).collect()
}

impl FlowQuery {
    /// The canonical fields the query reads: its filters' fields (a sided
    /// field as the address fields it stands for), the address of its
    /// direction's side, its metric's (not for logs), `interface_id` when it names
    /// interfaces, and its groups when `grouped`.
    pub fn fields_read(&self, schema: &crate::schema::RecordSchema, grouped: bool) -> BTreeSet<String> {
        let mut fields: BTreeSet<String> =
            self.filters.iter().map(|f| f.field().to_string()).filter(|f| !is_sided(f)).collect();
        let sides: &[&str] = match self.direction {
            Direction::In => &["dst"],
            Direction::Out => &["src"],
            Direction::Any => &["src", "dst"],
            Direction::All => &[],
        };
        fields.extend(sides.iter().map(|side| address_field(schema, side).to_string()));
        // Records are read whole (after their conditions), nothing is summed.
        fields.extend(self.metric.field().filter(|_| self.format != Format::Logs).map(String::from));
        if !self.interface_ids.is_empty() {
            fields.insert("interface_id".into());
        }
        if grouped {
            fields.extend(self.group_by.iter().cloned());
        }
        fields
    }

    /// A plain question over a range: records on every interface, no
    /// direction, no filter, no groups. The plugin's own probes (health
    /// checks, address detection) start from it.
    pub fn probe(range: TimeRange) -> Self {
        Self {
            ref_id: String::new(),
            format: Format::Table,
            metric: Metric::Records,
            direction: Direction::All,
            inside: Vec::new(),
            group_by: Vec::new(),
            limit: None,
            other: false,
            rate: false,
            share: false,
            distinct: None,
            price_per_gb: None,
            oldest_first: false,
            alerting: false,
            filters: Vec::new(),
            interface_ids: Vec::new(),
            own_addresses: Vec::new(),
            raw_query: None,
            range,
            step_ms: (range.to_ms - range.from_ms).max(1),
            cache: false,
        }
    }
}

/// What AWS writes for a field without a value.
pub const NO_VALUE: &str = "-";

impl FlowQuery {
    /// The query as Grafana's alerting and server-side expressions read
    /// it: alert-ready frames; logs cannot be a condition.
    fn for_alerting(mut self) -> Result<Self, QueryError> {
        if self.format == Format::Logs && self.raw_query.is_none() {
            return Err(QueryError::plugin(
                "`format`: logs cannot be an alert condition; alert on a stat, table or series (metric records counts flows)",
            ));
        }
        self.alerting = true;
        Ok(self)
    }
}

/// A Grafana template variable in a value (`$pod`, `${pod}`, `${pod:regex}`,
/// `[[pod]]`, `$__interval`): Grafana replaces them in dashboards and
/// Explore, never in alert rules, recorded queries or API calls.
pub fn template_variable(text: &str) -> Option<&str> {
    static VARIABLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:^|[^\\])(\$\w+|\$\{\w+(?:[.:][^}]*)?\}|\[\[\w+(?::\w+)?\]\])").expect("valid regex")
    });
    VARIABLE.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// The address on the inside (pod) side of a flow, whichever direction it goes.
pub const INSIDE_ADDR: &str = "inside_addr";
/// The address on the other (remote) side of a flow.
pub const OUTSIDE_ADDR: &str = "outside_addr";

/// Whether a field is relative to the direction (`inside_addr`, `outside_addr`).
pub fn is_sided(field: &str) -> bool {
    field == INSIDE_ADDR || field == OUTSIDE_ADDR
}

/// The record field a direction-relative field stands for when the
/// `inside_side` address (`src` or `dst`) is the inside one; other fields
/// are returned unchanged.
pub fn resolve_side<'a>(schema: &crate::schema::RecordSchema, field: &'a str, inside_side: &str) -> &'a str {
    let other_side = if inside_side == "src" { "dst" } else { "src" };
    match field {
        INSIDE_ADDR => address_field(schema, inside_side),
        OUTSIDE_ADDR => address_field(schema, other_side),
        f => f,
    }
}

/// The address field a direction filter looks at: `pkt_srcaddr`/`pkt_dstaddr`
/// where the records have them (they hold the original addresses through a
/// NAT gateway), else `srcaddr`/`dstaddr`.
pub fn address_field(schema: &crate::schema::RecordSchema, side: &str) -> &'static str {
    match (side, schema.has("pkt_srcaddr") && schema.has("pkt_dstaddr")) {
        ("src", true) => "pkt_srcaddr",
        ("src", false) => "srcaddr",
        (_, true) => "pkt_dstaddr",
        (_, false) => "dstaddr",
    }
}

/// A string, or a list of strings (a multi-value variable).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

fn validate_filter(f: FilterJson) -> Result<Option<Filter>, QueryError> {
    let field = f.field;
    let bad = |what: String| QueryError::plugin(format!("`filters`: {what}"));
    if matches!(f.op.as_str(), "=|" | "!=|") {
        let values = match f.value {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Ok(s),
                    serde_json::Value::Number(n) => Ok(n.to_string()),
                    other => Err(bad(format!("the values for `{field}` must be strings, not {other}"))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            serde_json::Value::String(s) => vec![s],
            other => {
                return Err(bad(format!(
                    "the value of `{}` for `{field}` must be a list of strings, not {other}",
                    f.op
                )))
            }
        };
        if values.is_empty() {
            return Err(bad(format!("`{}` for `{field}` needs at least one value", f.op)));
        }
        if values.len() > MAX_LIST_VALUES {
            return Err(bad(format!(
                "`{}` for `{field}` has {} values, more than the maximum of {MAX_LIST_VALUES}; filter on fewer values, or use a regex (=~) or a CIDR",
                f.op,
                values.len()
            )));
        }
        return Ok(Some(if f.op == "=|" { Filter::In(field, values) } else { Filter::NotIn(field, values) }));
    }
    let value = match &f.value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        other => {
            return Err(QueryError::plugin(format!("`filters`: the value for `{field}` must be a string, not {other}")))
        }
    };
    let ftype =
        if is_sided(&field) { FieldType::Ip } else { crate::schema::field_type(&field).unwrap_or(FieldType::String) };
    Ok(Some(match f.op.as_str() {
        "=" => Filter::Eq(field, value),
        "!=" => Filter::Ne(field, value),
        "=~" | "!~" => {
            if value == ".*" && f.op == "=~" {
                // Grafana's "All": matches every value; dropping it is exact.
                return Ok(None);
            }
            // Checked alone first: `a)|(b` is only valid once wrapped, and
            // would then escape the anchors.
            regex::Regex::new(&value).map_err(|e| bad(format!("the regex for `{field}` is invalid: {e}")))?;
            if let Some(p) = crate::re2::problem(&value) {
                return Err(bad(format!(
                    "the regex for `{field}` uses {p}, which the log database's regex syntax (RE2) does not support"
                )));
            }
            if f.op == "=~" {
                Filter::Re(field, value)
            } else {
                Filter::NotRe(field, value)
            }
        }
        "cidr" | "!cidr" => {
            if ftype != FieldType::Ip {
                return Err(bad(format!(
                    "`{field}` is not an address field; cidr needs one of srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr"
                )));
            }
            let net = parse_cidr(&value).map_err(|e| bad(format!("`{field}`: {e}")))?;
            if f.op == "cidr" {
                Filter::Cidr(field, net)
            } else {
                Filter::NotCidr(field, net)
            }
        }
        "range" => {
            if ftype != FieldType::Number {
                return Err(bad(format!("`{field}` is not numeric; range works on ports and counters")));
            }
            let parse = |s: &str| s.trim().parse::<u64>().ok();
            let (lo, hi) = match value.split_once('-') {
                Some((a, b)) => (parse(a), parse(b)),
                None => (parse(&value), parse(&value)),
            };
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo <= hi => Filter::Range(field, lo, hi),
                _ => return Err(bad(format!("`{value}` for `{field}` is not a range such as 1024-65535"))),
            }
        }
        op @ ("<" | ">" | "<=" | ">=") => {
            if ftype != FieldType::Number {
                return Err(bad(format!("`{field}` is not numeric; `{op}` works on ports and counters")));
            }
            let n: u64 = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{value}` for `{field} {op}` is not a whole number such as 1024")))?;
            match op {
                "<" if n == 0 => return Err(bad(format!("`{field} < 0` matches nothing; no value is negative"))),
                "<" => Filter::Range(field, 0, n - 1),
                "<=" => Filter::Range(field, 0, n),
                ">" if n == u64::MAX => return Err(bad(format!("`{field} > {n}` matches nothing"))),
                ">" => Filter::Range(field, n + 1, u64::MAX),
                _ => Filter::Range(field, n, u64::MAX),
            }
        }
        op => {
            return Err(bad(format!(
                "op `{op}` for `{field}` is not valid; use =, !=, =~, !~, =|, !=|, <, >, <=, >=, cidr, !cidr or range"
            )))
        }
    }))
}

/// How many step-aligned buckets cover a range.
pub fn bucket_count(range: TimeRange, step_ms: i64) -> i64 {
    let first = range.from_ms.div_euclid(step_ms);
    let last = (range.to_ms - 1).div_euclid(step_ms);
    last - first + 1
}

/// The earliest and latest supported times (1700-01-01, 2250-01-01):
/// backends store nanoseconds since 1970 in 64 bits (1677 to 2262) and
/// silently find nothing outside, and buckets of [`MAX_STEP_MS`] stay inside.
pub const TIME_LIMITS_MS: (i64, i64) = (-8_520_336_000_000, 8_835_955_200_000);
/// The widest bucket (about ten years).
pub const MAX_STEP_MS: i64 = 315_360_000_000;

/// The range if it is non-empty and within [`TIME_LIMITS_MS`].
fn checked_range(range: TimeRange) -> Result<TimeRange, QueryError> {
    let show = |ms: i64| {
        if (TIME_LIMITS_MS.0..=TIME_LIMITS_MS.1).contains(&ms) {
            crate::time::rfc3339(ms)
        } else {
            format!("{ms} ms since 1970")
        }
    };
    let (from, to) = (show(range.from_ms), show(range.to_ms));
    if range.to_ms <= range.from_ms {
        return Err(QueryError::plugin(format!(
            "the time range is empty or inverted: from {from} is not before to {to}; choose a range whose start is before its end"
        )));
    }
    if range.from_ms < TIME_LIMITS_MS.0 || range.to_ms > TIME_LIMITS_MS.1 {
        return Err(QueryError::plugin(format!(
            "the time range {from} .. {to} reaches outside {} .. {}, the times the log database can hold; choose a range within them",
            show(TIME_LIMITS_MS.0),
            show(TIME_LIMITS_MS.1)
        )));
    }
    Ok(range)
}

/// The bucket width: Grafana's `$__interval`, at least 1 s, whole seconds
/// from 1 s up, never more than [`MAX_BUCKETS`] buckets nor wider than
/// [`MAX_STEP_MS`]. The range is checked already (non-empty, bounded).
fn step_ms(req: &Request) -> i64 {
    let span = req.range.to_ms - req.range.from_ms;
    let mut step = req.interval_ms.clamp(1_000, MAX_STEP_MS);
    if req.interval_ms <= 0 && req.max_data_points > 0 {
        step = (span / req.max_data_points).max(1_000);
    }
    let ceil = |a: i64, b: i64| (a + b - 1) / b;
    step = ceil(step, 1_000) * 1_000;
    let floor = ceil(ceil(span, MAX_BUCKETS), 1_000) * 1_000;
    step.max(floor).min(MAX_STEP_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::InstanceSettings;

    pub(crate) fn settings() -> Settings {
        Settings::from_instance(&InstanceSettings {
            url: "http://127.0.0.1:9428",
            json_data: br#"{"insideCidrs":["10.0.32.0/20"],"interfaceId":"eni-0352f8c82da6aa229",
              "recordFormat":"${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}"}"#,
            ..Default::default()
        })
        .unwrap()
    }

    fn req() -> Request {
        Request { range: TimeRange { from_ms: 0, to_ms: 86_400_000 }, interval_ms: 60_000, max_data_points: 1_000 }
    }

    fn parse(json: &str) -> Result<FlowQuery, QueryError> {
        FlowQuery::parse(json.as_bytes(), &req(), &settings())
    }

    #[test]
    fn defaults_and_grafana_extras() {
        let q = parse(r#"{"refId":"A","datasource":{"uid":"x"},"hide":false,"intervalMs":5}"#).unwrap();
        assert_eq!((q.format, q.metric, q.direction), (Format::Series, Metric::Bytes, Direction::Any));
        assert_eq!(q.interface_ids, vec!["eni-0352f8c82da6aa229"]);
        assert_eq!(q.limit, None);
        assert_eq!(q.step_ms, 60_000);
        let q = parse(r#"{"format":"series","groupBy":["pkt_srcaddr"]}"#).unwrap();
        assert_eq!(q.limit, Some(10));
        let q = parse(r#"{"format":"table","groupBy":["pkt_srcaddr"],"interfaceId":""}"#).unwrap();
        assert_eq!((q.limit, q.interface_ids.len()), (Some(100), 0));
        let q = parse(r#"{"interfaceId":["eni-a"," eni-b "]}"#).unwrap();
        assert_eq!(q.interface_ids, vec!["eni-a", "eni-b"]);
    }

    #[test]
    fn sided_fields_resolve_by_direction() {
        let q = parse(r#"{"direction":"out","groupBy":["inside_addr"],"filters":[{"field":"outside_addr","op":"cidr","value":"52.0.0.0/8"}]}"#).unwrap();
        assert_eq!(q.group_by, vec!["pkt_srcaddr"]);
        assert_eq!(q.filters, vec![Filter::Cidr("pkt_dstaddr".into(), "52.0.0.0/8".parse().unwrap())]);
        let q =
            parse(r#"{"direction":"any","filters":[{"field":"inside_addr","op":"=","value":"10.0.32.7"}]}"#).unwrap();
        assert_eq!(q.filters, vec![Filter::Eq(INSIDE_ADDR.into(), "10.0.32.7".into())]);
    }

    #[test]
    fn set_and_comparison_ops() {
        let q = parse(r#"{"filters":[{"field":"action","op":"=|","value":["ACCEPT","REJECT"]},
            {"field":"dstport","op":"!=|","value":"443"},{"field":"srcport","op":"<","value":"1024"},
            {"field":"bytes","op":">","value":9},{"field":"packets","op":">=","value":"2"},{"field":"dstport","op":"<=","value":"80"}]}"#)
        .unwrap();
        assert_eq!(
            q.filters,
            vec![
                Filter::In("action".into(), vec!["ACCEPT".into(), "REJECT".into()]),
                Filter::NotIn("dstport".into(), vec!["443".into()]),
                Filter::Range("srcport".into(), 0, 1023),
                Filter::Range("bytes".into(), 10, u64::MAX),
                Filter::Range("packets".into(), 2, u64::MAX),
                Filter::Range("dstport".into(), 0, 80),
            ]
        );
    }

    #[test]
    fn all_regex_is_dropped() {
        let q = parse(r#"{"filters":[{"field":"pkt_srcaddr","op":"=~","value":".*"},{"field":"dstport","op":"range","value":"1024-65535"}]}"#).unwrap();
        assert_eq!(q.filters, vec![Filter::Range("dstport".into(), 1024, 65535)]);
    }

    #[test]
    fn errors_name_the_field() {
        for (json, want) in [
            (r#"{"format":"graph"}"#, "`format`: \"graph\" is not valid; expected stat, series, table or logs"),
            (r#"{"metric":7}"#, "`metric`"),
            (r#"{"groupBy":"pkt_srcaddr"}"#, "`groupBy`"),
            (r#"{"groupBy":["pod"]}"#, "`groupBy`: `pod` is not a field"),
            (r#"{"groupBy":["srcport","srcport"]}"#, "twice"),
            (r#"{"format":"table","limit":100000}"#, "maximum"),
            (r#"{"format":"series","groupBy":["srcport"],"limit":1000}"#, "1000 series of 1440 buckets"),
            (r#"{"filters":[{"field":"srcport","op":"<","value":"0"}]}"#, "matches nothing"),
            (r#"{"filters":[{"field":"srcport","op":">","value":"1.5"}]}"#, "whole number"),
            (r#"{"filters":[{"field":"action","op":">","value":"1"}]}"#, "not numeric"),
            (r#"{"filters":[{"field":"action","op":"=|","value":[]}]}"#, "at least one value"),
            (r#"{"filters":[{"field":"action","op":"=|","value":[{}]}]}"#, "must be strings"),
            (r#"{"filters":[{"field":"pod","op":"=","value":"x"}]}"#, "`pod` is not a field"),
            (r#"{"interfaceId":7}"#, "`interfaceId`"),
            (r#"{"format":"table","rate":true}"#, "`rate`"),
            (r#"{"cache":"no"}"#, "`cache`: \"no\" is not valid; expected true or false"),
            (r#"{"filters":[{"field":"srcport","op":"like","value":"1"}]}"#, "op `like`"),
            (r#"{"filters":[{"field":"srcport","op":"cidr","value":"10.0.0.0/8"}]}"#, "not an address"),
            (r#"{"filters":[{"field":"srcaddr","op":"cidr","value":"10.0.0.1/8"}]}"#, "host bits"),
            (r#"{"filters":[{"field":"srcaddr","op":"=~","value":"(10"}]}"#, "regex for `srcaddr` is invalid"),
            (r#"{"filters":[{"field":"dstport","op":"range","value":"9-1"}]}"#, "not a range"),
            (r#"{"filters":[{"field":"srcaddr","op":"=~","value":"a)|(b"}]}"#, "regex for `srcaddr` is invalid"),
            (r#"{"filters":[{"field":"dstport","op":"=","value":[1]}]}"#, "must be a string"),
            (r#"{"version":2}"#, "`version`"),
            (
                r#"{"direction":"all","filters":[{"field":"inside_addr","op":"=","value":"1"}]}"#,
                "use direction in, out or any",
            ),
            (r#"{"direction":"any","groupBy":["outside_addr"]}"#, "use direction in or out"),
            (r#"[]"#, "not a JSON object"),
        ] {
            let e = parse(json).unwrap_err().to_string();
            assert!(e.contains(want), "{json}: {e}");
        }
    }

    #[test]
    fn value_lists_are_capped() {
        let list = |n: usize| -> Vec<String> { (0..n).map(|i| format!("eni-{i}")).collect() };
        let filter = |op: &str, n: usize| {
            serde_json::json!({"filters": [{"field": "interface_id", "op": op, "value": list(n)}]}).to_string()
        };
        let interfaces = |n: usize| serde_json::json!({"interfaceId": list(n)}).to_string();
        for json in [filter("=|", MAX_LIST_VALUES), filter("!=|", MAX_LIST_VALUES), interfaces(MAX_LIST_VALUES)] {
            assert!(parse(&json).is_ok(), "{} values are allowed", MAX_LIST_VALUES);
        }
        let over = MAX_LIST_VALUES + 1;
        for (json, want) in [
            (filter("=|", over), "`filters`: `=|` for `interface_id` has 10001 values, more than the maximum of 10000"),
            (
                filter("!=|", over),
                "`filters`: `!=|` for `interface_id` has 10001 values, more than the maximum of 10000",
            ),
            (interfaces(over), "`interfaceId`: 10001 interfaces are more than the maximum of 10000"),
            (interfaces(100_000), "`interfaceId`: 100000 interfaces"),
        ] {
            let e = parse(&json).unwrap_err();
            assert!(e.to_string().contains(want), "{e}");
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn distinct_share_and_cost() {
        let q = parse(r#"{"format":"table","metric":"distinct","distinctField":"dstport","groupBy":["pkt_srcaddr"],"direction":"all"}"#).unwrap();
        assert_eq!((q.metric, q.distinct.as_deref()), (Metric::Distinct, Some("dstport")));
        assert_eq!(q.filters, vec![Filter::NotIn("dstport".into(), vec!["-".into()])], "no value is not a value");
        assert!(q.fields_read(&settings().schema, true).contains("dstport"));
        let q = parse(r#"{"metric":"distinct","distinctField":"outside_addr","direction":"in"}"#).unwrap();
        assert_eq!(q.distinct.as_deref(), Some("pkt_srcaddr"));
        let q = parse(r#"{"metric":"bytes","distinctField":"dstport"}"#).unwrap();
        assert_eq!(q.distinct, None, "kept by an editor that switched metric");
        let q = parse(r#"{"metric":"cost","format":"stat"}"#).unwrap();
        assert_eq!((q.metric.field(), q.price_per_gb), (Some("bytes"), Some(0.045)));
        let q = parse(r#"{"format":"series","groupBy":["action"],"share":true}"#).unwrap();
        assert!(q.share);
        assert!(parse(r#"{"format":"logs","order":"asc"}"#).unwrap().oldest_first);
        assert!(!parse(r#"{"format":"logs","order":"desc"}"#).unwrap().oldest_first);
        for (json, want) in [
            (r#"{"metric":"distinct"}"#, "`distinctField`: metric distinct counts"),
            (r#"{"metric":"distinct","distinctField":"pod"}"#, "`distinctField`: `pod` is not a field"),
            (r#"{"metric":"distinct","distinctField":"inside_addr"}"#, "use direction in or out"),
            (
                r#"{"metric":"distinct","distinctField":"dstport","groupBy":["srcaddr"],"format":"table","other":true}"#,
                "`other`: distinct counts do not add up",
            ),
            (
                r#"{"metric":"distinct","distinctField":"dstport","groupBy":["srcaddr"],"format":"table","share":true}"#,
                "`share`: distinct",
            ),
            (r#"{"metric":"cost","rate":true}"#, "`rate`: only bytes, packets and records"),
            (r#"{"metric":"cost","price":"egress"}"#, "set egressPricePerGb"),
            (r#"{"metric":"cost","price":"gold"}"#, "`price`: \"gold\" is not valid; expected nat, egress or crossAz"),
            (r#"{"format":"stat","groupBy":["action"],"share":true}"#, "use format table or series with groupBy"),
            (r#"{"format":"series","share":true}"#, "use format table or series with groupBy"),
            (r#"{"format":"series","groupBy":["action"],"share":true,"rate":true}"#, "turn rate off"),
            (r#"{"format":"stat","order":"asc"}"#, "`order`: only logs have an order"),
            (r#"{"format":"logs","order":"up"}"#, "`order`: \"up\" is not valid; expected asc or desc"),
        ] {
            let e = parse(json).unwrap_err().to_string();
            assert!(e.contains(want), "{json}: {e}");
        }
    }

    #[test]
    fn template_variables_left_in_a_query_are_errors() {
        for (text, variable) in [
            ("$pod", Some("$pod")),
            ("10.0.${octet}.1", Some("${octet}")),
            ("${pod:regex}", Some("${pod:regex}")),
            ("[[pod]]", Some("[[pod]]")),
            ("sum by (_time:$__interval)", Some("$__interval")),
            (r"^10\.0\.32\.1$", None),
            (r"price \$5", None),
            ("a$", None),
            ("(a$)|b", None),
        ] {
            assert_eq!(template_variable(text), variable, "{text}");
        }
        let alerting = |json: &str| FlowQuery::parse_for_alerting(json.as_bytes(), &req(), &settings());
        // On a dashboard, what looks like a variable after the frontend's interpolation is data.
        assert!(parse(r#"{"filters":[{"field":"action","op":"=","value":"$x"}]}"#).is_ok());
        for (json, want) in [
            (
                r#"{"filters":[{"field":"pkt_dstaddr","op":"=~","value":"$kubernetes_pod_ip"}]}"#,
                "`filters`: `$kubernetes_pod_ip` is a dashboard variable that was not replaced",
            ),
            (r#"{"filters":[{"field":"$field","op":"=","value":"1"}]}"#, "`filters`: `$field`"),
            (r#"{"metric":"distinct","distinctField":"${f}"}"#, "`distinctField`: `${f}`"),
            (r#"{"filters":[{"field":"action","op":"=|","value":["ACCEPT","$action"]}]}"#, "`$action`"),
            (r#"{"interfaceId":"${eni}"}"#, "`interfaceId`: `${eni}`"),
            (r#"{"groupBy":["$group"]}"#, "`groupBy`: `$group`"),
            (r#"{"rawQuery":"* | stats by (_time:$__interval) count()"}"#, "`rawQuery`: `$__interval`"),
        ] {
            let e = alerting(json).unwrap_err().to_string();
            assert!(e.contains(want), "{json}: {e}");
        }
    }

    #[test]
    fn alerting_refuses_logs() {
        let alerting = |json: &str| FlowQuery::parse_for_alerting(json.as_bytes(), &req(), &settings());
        assert!(alerting(r#"{"format":"logs"}"#)
            .unwrap_err()
            .to_string()
            .contains("logs cannot be an alert condition"));
        assert!(alerting(r#"{"format":"stat"}"#).unwrap().alerting);
        assert!(!parse(r#"{"format":"stat"}"#).unwrap().alerting);
    }

    #[test]
    fn time_ranges_are_bounded() {
        let at = |from_ms, to_ms| Request { range: TimeRange { from_ms, to_ms }, ..req() };
        let parse_at = |r: Request| FlowQuery::parse(b"{}", &r, &settings()).map(|q| q.step_ms);
        let e = parse_at(at(5, 5)).unwrap_err().to_string();
        assert!(e.contains("empty or inverted") && e.contains("1970-01-01T00:00:00.005Z"), "{e}");
        assert!(parse_at(at(9, 5)).unwrap_err().to_string().contains("inverted"));
        for (from, to) in [(-62_135_596_800_000, 0), (0, 253_402_300_799_999), (0, i64::MAX), (i64::MIN, 0)] {
            let e = parse_at(at(from, to)).unwrap_err().to_string();
            assert!(e.contains("reaches outside 1700-01-01T00:00:00Z .. 2250-01-01T00:00:00Z"), "{e}");
        }
        let (lo, hi) = TIME_LIMITS_MS;
        assert_eq!(parse_at(at(lo, hi)).unwrap(), ceil_to_seconds((hi - lo) / MAX_BUCKETS + 1));
        let huge = Request { interval_ms: i64::MAX, ..at(lo, hi) };
        assert_eq!(parse_at(huge).unwrap(), MAX_STEP_MS);
    }

    fn ceil_to_seconds(ms: i64) -> i64 {
        (ms + 999) / 1_000 * 1_000
    }

    #[test]
    fn steps_follow_grafana_and_cap_buckets() {
        let mut r = req();
        assert_eq!(step_ms(&r), 60_000);
        r.interval_ms = 200;
        assert_eq!(step_ms(&r), 8_000); // 86400 s / 11000 buckets, rounded up to whole seconds
        r.range.to_ms = 60_000;
        assert_eq!(step_ms(&r), 1_000);
        r.interval_ms = 0;
        r.max_data_points = 10;
        assert_eq!(step_ms(&r), 6_000);
    }
}
