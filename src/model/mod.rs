//! The query model v1 (docs/query-model.md): a panel target's JSON, read
//! leniently, then validated against the datasource settings into a
//! [`FlowQuery`] that inner stages trust. Pure. This file holds the types;
//! `wire.rs` reads a target's JSON, `validate.rs` checks it against the
//! settings.

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde::Deserialize;

use crate::schema::FieldType;
use crate::settings::Settings;

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
    /// A node graph (Grafana's node graph panel): the top pairs of the two
    /// `groupBy` fields as edges between their values, ranked like a table
    /// (validated into [`Format::Table`] with [`FlowQuery::node_graph`]).
    Nodegraph,
}

/// What is computed per group (or bucket, or range), with the options only
/// it has: a distinct count names its field, a cost its price.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Sum of the `bytes` field.
    Bytes,
    /// Sum of the `packets` field.
    Packets,
    /// Number of records (flows).
    Records,
    /// Number of distinct values of a field (records without a value of it
    /// not counted).
    Distinct {
        /// The canonical field whose values are counted.
        field: String,
    },
    /// Sum of the `bytes` field priced per GB.
    Cost {
        /// USD per GB (10^9 bytes).
        price_per_gb: f64,
    },
}

/// The metric a target names (`metric`), before its options are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MetricName {
    /// [`Metric::Bytes`].
    Bytes,
    /// [`Metric::Packets`].
    Packets,
    /// [`Metric::Records`].
    Records,
    /// [`Metric::Distinct`] (`distinctField` names the field).
    Distinct,
    /// [`Metric::Cost`] (`price` names the price).
    Cost,
}

impl Metric {
    /// The record field summed, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Bytes | Self::Cost { .. } => Some("bytes"),
            Self::Packets => Some("packets"),
            Self::Records | Self::Distinct { .. } => None,
        }
    }

    /// The result field name (also the table column).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Packets => "packets",
            Self::Records => "records",
            Self::Distinct { .. } => "distinct",
            Self::Cost { .. } => "cost",
        }
    }

    /// The field whose distinct values are counted, for a distinct count.
    pub fn distinct_field(&self) -> Option<&str> {
        match self {
            Self::Distinct { field } => Some(field),
            _ => None,
        }
    }

    /// The price per GB, for a cost.
    pub fn price_per_gb(&self) -> Option<f64> {
        match self {
            Self::Cost { price_per_gb } => Some(*price_per_gb),
            _ => None,
        }
    }

    /// What the backend is asked for: the metric itself, except a cost,
    /// which is bytes below the frames (priced in `frames.rs`), so it shares
    /// cached buckets and requests in flight with bytes.
    pub fn asked(&self) -> Self {
        match self {
            Self::Cost { .. } => Self::Bytes,
            m => m.clone(),
        }
    }

    /// Whether the values of parts add up to the value of the whole (a
    /// range's to its buckets', groups' to their total): everything but
    /// distinct counts.
    pub fn additive(&self) -> bool {
        !matches!(self, Self::Distinct { .. })
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
    /// What is computed, with its options.
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
    /// Frames as a node graph: nodes and edges of the ranked pairs of the
    /// two `groupBy` fields (a table query otherwise).
    pub node_graph: bool,
    /// The names it groups by or filters on (`crate::names`), each with the
    /// address field it names: (name, address field). Empty for most.
    pub names: Vec<(String, String)>,
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
            oldest_first: false,
            alerting: false,
            filters: Vec::new(),
            interface_ids: Vec::new(),
            own_addresses: Vec::new(),
            raw_query: None,
            range,
            step_ms: (range.to_ms - range.from_ms).max(1),
            cache: false,
            node_graph: false,
            names: Vec::new(),
        }
    }
}

/// What AWS writes for a field without a value.
pub const NO_VALUE: &str = "-";

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

mod validate;
mod wire;

pub use wire::{template_variable, QueryJson};

#[cfg(test)]
mod tests;
