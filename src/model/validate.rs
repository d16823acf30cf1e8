//! A target read by `wire.rs` validated against the datasource settings
//! into a [`FlowQuery`]: every error names the field and what is valid.

use super::wire::{typed, FilterJson, QueryJson, StringOrList};
use super::*;
use crate::error::QueryError;
use crate::settings::{parse_cidr, Settings};

/// The record field a metric sums, if any (as [`Metric::field`]).
fn summed_field(metric: MetricName) -> Option<&'static str> {
    match metric {
        MetricName::Bytes | MetricName::Cost => Some("bytes"),
        MetricName::Packets => Some("packets"),
        MetricName::Records | MetricName::Distinct => None,
    }
}

impl FlowQuery {
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
        let format = typed("format", &q.format, "stat, series, table, logs or nodegraph")?
            .unwrap_or(if raw_query.is_some() { Format::Table } else { Format::Series });
        let node_graph = format == Format::Nodegraph;
        let format = if node_graph { Format::Table } else { format };
        let metric_name =
            typed("metric", &q.metric, "bytes, packets, records, distinct or cost")?.unwrap_or(MetricName::Bytes);
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
        // A name (`crate::names`) stands for the address of its side.
        let mut names: Vec<(String, String)> = Vec::new();
        let mut name_base = |what: &str, d: &crate::names::Dim| -> Result<(), QueryError> {
            let (field, side) = match d.side {
                crate::names::Side::Inside => (INSIDE_ADDR, "inside"),
                crate::names::Side::Outside => (OUTSIDE_ADDR, "remote"),
            };
            let inside_side = match direction {
                Direction::In => "dst",
                Direction::Out => "src",
                _ => {
                    return Err(QueryError::plugin(format!(
                        "`{what}`: `{}` names the {side} address of a flow, which the direction decides; use direction in or out",
                        d.name
                    )))
                }
            };
            if !names.iter().any(|(n, _)| n == d.name) {
                names.push((d.name.to_string(), resolve_side(schema, field, inside_side).to_string()));
            }
            Ok(())
        };
        let group_by: Vec<String> = typed("groupBy", &q.group_by, "a list of field names")?.unwrap_or_default();
        let group_by = group_by
            .into_iter()
            .map(|f| if is_sided(&f) { sided("groupBy", &f) } else { Ok(f) })
            .collect::<Result<Vec<_>, _>>()?;
        for (i, f) in group_by.iter().enumerate() {
            match crate::names::dim(f) {
                Some(d) if raw_query.is_none() => name_base("groupBy", d)?,
                _ => require_field("groupBy", f)?,
            }
            if group_by[..i].contains(f) {
                return Err(QueryError::plugin(format!("`groupBy`: `{f}` is listed twice")));
            }
        }
        if raw_query.is_none() {
            if let Some(m) = summed_field(metric_name) {
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
        if node_graph && raw_query.is_none() {
            if group_by.len() != 2 {
                return Err(QueryError::plugin(
                    "`groupBy`: a node graph draws edges between the values of two fields; group by exactly two, \
                     such as workload and remote_service",
                ));
            }
            if typed::<bool>("other", &q.other, "true or false")? == Some(true)
                || typed::<bool>("share", &q.share, "true or false")? == Some(true)
            {
                return Err(QueryError::plugin("`format`: a node graph shows its top edges; turn other and share off"));
            }
        }
        let (default_limit, max_limit) = match format {
            Format::Series => SERIES_LIMIT,
            Format::Table | Format::Nodegraph => TABLE_LIMIT,
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
            _ if metric_name != MetricName::Distinct || raw_query.is_some() => None,
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
            match metric_name {
                MetricName::Distinct if other => {
                    plain("other", "distinct counts do not add up; `other` needs bytes, packets, records or cost")?
                }
                MetricName::Distinct if share => plain(
                    "share",
                    "distinct counts do not add up to a total; a share needs bytes, packets, records or cost",
                )?,
                MetricName::Distinct | MetricName::Cost if rate => {
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
        let metric = match (metric_name, distinct) {
            (MetricName::Bytes, _) => Metric::Bytes,
            (MetricName::Packets, _) => Metric::Packets,
            (MetricName::Records, _) => Metric::Records,
            (MetricName::Distinct, Some(field)) => Metric::Distinct { field },
            // A hand-written query computes its own values: no field was
            // asked for, and nothing reads its metric.
            (MetricName::Distinct, None) => Metric::Records,
            (MetricName::Cost, _) => Metric::Cost {
                price_per_gb: match price {
                    Price::Nat => settings.prices.nat,
                    Price::Egress => settings.prices.egress.ok_or_else(|| {
                        QueryError::plugin("`price`: egress has no price; set egressPricePerGb in the datasource")
                    })?,
                    Price::CrossAz => settings.prices.cross_az.ok_or_else(|| {
                        QueryError::plugin("`price`: crossAz has no price; set crossAzPricePerGb in the datasource")
                    })?,
                },
            },
        };
        let filters_json: Vec<FilterJson> =
            typed("filters", &q.filters, "a list of {field, op, value}")?.unwrap_or_default();
        let mut filters = Vec::new();
        for mut f in filters_json {
            if is_sided(&f.field) {
                f.field = sided("filters", &f.field)?;
            } else if let Some(d) = crate::names::dim(&f.field).filter(|_| raw_query.is_none()) {
                name_base("filters", d)?;
            } else {
                require_field("filters", &f.field)?;
            }
            if let Some(filter) = validate_filter(f)? {
                filters.push(filter);
            }
        }
        if let Some(f) = metric.distinct_field() {
            // Records without a value of the field have nothing to count.
            filters.push(Filter::NotIn(f.to_string(), vec![NO_VALUE.to_string()]));
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
            oldest_first,
            alerting: false,
            filters,
            own_addresses: own_inside(settings, settings.nat_addresses.as_deref().unwrap_or_default()),
            interface_ids,
            raw_query,
            range,
            step_ms,
            cache,
            node_graph,
            names,
        })
    }
}

impl FlowQuery {
    /// The query as Grafana's alerting and server-side expressions read
    /// it: alert-ready frames; logs cannot be a condition.
    pub(super) fn for_alerting(mut self) -> Result<Self, QueryError> {
        if self.format == Format::Logs && self.raw_query.is_none() {
            return Err(QueryError::plugin(
                "`format`: logs cannot be an alert condition; alert on a stat, table or series (metric records counts flows)",
            ));
        }
        self.alerting = true;
        Ok(self)
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
pub(super) fn step_ms(req: &Request) -> i64 {
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
