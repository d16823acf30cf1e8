//! VictoriaLogs LogsQL. Every query has the same shape:
//!
//! ```text
//! _time:[from, to) {stream} <cheap pre-filters>
//! | extract "<plain:_> <plain:interface_id> ..."  (raw records only: just the needed fields)
//! | filter <field conditions>
//! | stats by (<_time:step>, <groupBy>) sum(bytes) as value
//! | math max(value, 0) as value | sort by (value desc, <groupBy>) limit N  (ranking only)
//! ```
//!
//! Every user value is a quoted string literal; regexes are anchored so they
//! match whole values, as Grafana's and Loki's matchers do.

use std::collections::BTreeSet;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::dialect::{Dialect, Target};
use crate::model::{FlowQuery, TimeRange, NO_VALUE};
use crate::plan::Step;
use crate::predicate::{self, Member, Pred};
use crate::schema::{RecordFormat, RecordSchema};
use crate::selector::quote;
use crate::time::rfc3339;

/// The LogsQL dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogsQl;

/// Result field name of every aggregate.
pub const VALUE: &str = "value";

impl Dialect for LogsQl {
    fn render(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String {
        render(target, q, step, true)
    }
}

/// Rollup rules: vmalert's `type: vlogs` recording rules add the time
/// filter themselves (and, replaying, group by the step), so a rule is the
/// question asked as buckets without either.
impl LogsQl {
    /// A rule summing `q` per interval, grouped by its fields; `None` when
    /// a group field's name is no label name.
    pub fn render_rule(target: &Target<'_>, q: &FlowQuery) -> Option<String> {
        let labels_ok = q.group_by.iter().all(|f| crate::rollups::label_name_ok(target.schema.log_field(f)));
        labels_ok.then(|| render(target, q, &Step::Buckets { grouped: !q.group_by.is_empty(), keys: None }, false))
    }

    /// The rule counting the stream's records per interval.
    pub fn render_evaluated(target: &Target<'_>) -> String {
        let stream = if target.stream.matchers.is_empty() { "*".to_string() } else { target.stream.to_string() };
        format!("{stream} | stats count() as {VALUE}")
    }
}

/// A step's LogsQL; without the time filter and time buckets unless `timed`.
fn render(target: &Target<'_>, q: &FlowQuery, step: &Step, timed: bool) -> String {
    {
        if let (Step::Raw, Some(raw)) = (step, &q.raw_query) {
            return raw.clone();
        }
        if let Step::Streams { limit } = step {
            return format!(
                "{} * | stats by (_stream) count() as {VALUE} | sort by ({VALUE} desc) limit {limit}",
                time_filter(q.range)
            );
        }
        let schema = target.schema;
        let mut conditions = conditions(q, schema);
        if let Step::Buckets { grouped: true, keys: Some(keys) } = step {
            conditions.push(condition(&predicate::keys(&q.group_by, keys), schema));
        }
        // Records are extracted whole before `sort ... limit`: extracting only
        // the conditions' fields first, and the whole record after the limit,
        // was 5x slower (flowlens bench: the `extract if` pair's regex on
        // every record costs more than naming every field).
        let all = matches!(step, Step::Records { .. });
        let mut stages = scan(target, q, &q.fields_read(schema, true), all, conditions, timed);
        let by = |time: bool, grouped: bool| {
            let mut fields: Vec<String> = Vec::new();
            if time {
                fields.push(format!("_time:{}", duration(q.step_ms)));
            }
            if grouped {
                fields.extend(q.group_by.iter().map(|f| field_name(schema.log_field(f))));
            }
            if fields.is_empty() {
                String::new()
            } else {
                format!("by ({}) ", fields.join(", "))
            }
        };
        // Group keys without a value: `-` and a missing field are one group, "".
        if matches!(step, Step::Rank { .. } | Step::Buckets { grouped: true, .. }) {
            for f in &q.group_by {
                stages.push(blank_no_value(schema.log_field(f)));
            }
        }
        let aggregate = format!("{} as {VALUE}", aggregate(q, schema));
        match step {
            Step::Total => stages.push(format!("stats {aggregate}")),
            Step::Rank { limit } => {
                stages.push(format!("stats {}{aggregate}", by(false, true)));
                if q.metric.field().is_some() {
                    // A group with no numeric value sums to NaN, which
                    // `sort ... desc` puts first: it would take a top-N slot.
                    stages.push(format!("math max({VALUE}, 0) as {VALUE}"));
                }
                let mut order = vec![format!("{VALUE} desc")];
                order.extend(q.group_by.iter().map(|f| field_name(schema.log_field(f))));
                let limit = if *limit == usize::MAX { String::new() } else { format!(" limit {limit}") };
                stages.push(format!("sort by ({}){limit}", order.join(", ")));
            }
            Step::Buckets { grouped, .. } => stages.push(format!("stats {}{aggregate}", by(timed, *grouped))),
            Step::Records { limit } => {
                let order = if q.oldest_first { "_time" } else { "_time desc" };
                stages.push(format!("sort by ({order}) limit {limit}"));
            }
            Step::Raw | Step::Streams { .. } => {}
        }
        stages.join("\n| ")
    }
}

/// Coalescing: questions that read the same records over the same range
/// and differ only in their conditions and metric (totals, and series
/// summed over every group) are answered by one scan with one aggregate
/// each, `sum(bytes) if (<its own conditions>) as value_<i>`.
impl LogsQl {
    /// What questions must share to be asked in one scan; `None` for a step
    /// that cannot be.
    pub fn coalesce_key(target: &Target<'_>, q: &FlowQuery, step: &Step) -> Option<String> {
        if q.raw_query.is_some() || !q.metric.additive() {
            return None;
        }
        let schema = target.schema;
        let base = base_terms(target, q, true).join(" ");
        let by = match step {
            Step::Total => String::new(),
            Step::Buckets { grouped: false, keys: None } => duration(q.step_ms),
            // Rankings asked as buckets: the same records and metric, each
            // question its own group fields.
            Step::Buckets { grouped: true, keys: None }
                if q.group_by.iter().all(|f| placeholder_safe(schema.log_field(f))) =>
            {
                let conditions = conditions(q, schema).join(" ");
                return Some(format!("{base}|{conditions}|{}|{}|grouped", aggregate(q, schema), duration(q.step_ms)));
            }
            _ => return None,
        };
        // VictoriaLogs (v1.52.1) matches a regex inside a pipe (`stats ... if
        // (f:~"re")`) against a field parsed at ingest and stored as numbers
        // on fewer records than the same filter before the first pipe
        // (tests/reuse.rs found it): with fields parsed at ingest only
        // questions without filters share a scan, so their `if` holds
        // direction conditions (address ranges) alone.
        if matches!(schema, RecordSchema::Fields(_)) && !q.filters.is_empty() {
            return None;
        }
        Some(format!("{base}|{by}"))
    }

    /// One query answering every question of `qs` (which share a
    /// [`LogsQl::coalesce_key`]): the conditions they all have filter the
    /// records, each one's others condition its aggregate, [`column`] `i`.
    pub fn render_coalesced(target: &Target<'_>, qs: &[FlowQuery], step: &Step) -> String {
        let schema = target.schema;
        if let Step::Buckets { grouped: true, .. } = step {
            return render_unrolled(target, qs);
        }
        let conditions: Vec<Vec<String>> = qs.iter().map(|q| conditions(q, schema)).collect();
        let common: Vec<String> =
            conditions[0].iter().filter(|c| conditions.iter().all(|cs| cs.contains(c))).cloned().collect();
        let needed: BTreeSet<String> = qs.iter().flat_map(|q| q.fields_read(schema, true)).collect();
        let mut stages = scan(target, &qs[0], &needed, false, common.clone(), true);
        let aggregates: Vec<String> = qs
            .iter()
            .zip(&conditions)
            .enumerate()
            .map(|(i, (q, own))| {
                let rest: Vec<&str> = own.iter().filter(|c| !common.contains(c)).map(String::as_str).collect();
                let only = if rest.is_empty() { String::new() } else { format!(" if ({})", rest.join(" ")) };
                format!("{}{only} as {}", aggregate(q, schema), column(i))
            })
            .collect();
        let by = match step {
            Step::Buckets { .. } => format!("by (_time:{}) ", duration(qs[0].step_ms)),
            _ => String::new(),
        };
        stages.push(format!("stats {by}{}", aggregates.join(", ")));
        stages.join("\n| ")
    }
}

/// Grouped buckets of several questions with the same records and metric
/// in one scan: each record's key of question `i` formatted as `i` and a
/// JSON array of its group values (`<q:f>` quotes each), the keys of all
/// questions unrolled into one row each, and one `stats by (_time, key)`.
/// [`unrolled_key`] reads a key back.
fn render_unrolled(target: &Target<'_>, qs: &[FlowQuery]) -> String {
    let schema = target.schema;
    let needed: BTreeSet<String> = qs.iter().flat_map(|q| q.fields_read(schema, true)).collect();
    let mut stages = scan(target, &qs[0], &needed, false, conditions(&qs[0], schema), true);
    let mut fields: Vec<String> =
        qs.iter().flat_map(|q| q.group_by.iter().map(|f| schema.log_field(f).to_string())).collect();
    fields.sort();
    fields.dedup();
    stages.extend(fields.iter().map(|name| blank_no_value(name)));
    for (i, q) in qs.iter().enumerate() {
        let values: Vec<String> = q.group_by.iter().map(|f| format!("<q:{}>", schema.log_field(f))).collect();
        stages.push(format!("format {} as {UNROLLED}_{i}", quote(&format!("{i}[{}]", values.join(",")))));
    }
    let keys: Vec<String> = (0..qs.len()).map(|i| format!("<q:{UNROLLED}_{i}>")).collect();
    stages.push(format!("format {} as {UNROLLED}", quote(&format!("[{}]", keys.join(",")))));
    stages.push(format!("unroll by ({UNROLLED})"));
    stages.push(format!(
        "stats by (_time:{}, {UNROLLED}) {} as {VALUE}",
        duration(qs[0].step_ms),
        aggregate(&qs[0], schema)
    ));
    stages.join("\n| ")
}

/// Group keys without a value: `-` and a missing field are one group, "".
fn blank_no_value(name: &str) -> String {
    let name = field_name(name);
    format!("replace if ({name}:={}) ({}, \"\") at {name}", quote(NO_VALUE), quote(NO_VALUE))
}

/// The field holding the unrolled keys of a grouped coalesced query.
pub const UNROLLED: &str = "flowlens_key";

/// A key of [`render_unrolled`]'s answer: the question's index and its
/// group values.
pub fn unrolled_key(text: &str) -> Option<(usize, Vec<String>)> {
    let open = text.find('[')?;
    let i = text[..open].parse().ok()?;
    let values = serde_json::from_str(&text[open..]).ok()?;
    Some((i, values))
}

/// Whether a field name can stand in a `format` placeholder (`<q:name>`)
/// as it is.
fn placeholder_safe(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
}

/// The result field of the `i`th question of a coalesced query.
pub fn column(i: usize) -> String {
    format!("{VALUE}_{i}")
}

/// The metric's aggregate, unnamed.
fn aggregate(q: &FlowQuery, schema: &RecordSchema) -> String {
    match (q.metric.field(), q.metric.distinct_field()) {
        (Some(f), _) => format!("sum({})", field_name(schema.log_field(f))),
        (None, Some(f)) => format!("count_uniq({})", field_name(schema.log_field(f))),
        (None, None) => "count()".to_string(),
    }
}

/// What a query reads before any condition: the time range, the stream
/// and, for raw records, the header line excluded (unless an interface
/// condition excludes it) and the word pre-filters.
fn base_terms(target: &Target<'_>, q: &FlowQuery, timed: bool) -> Vec<String> {
    let mut base = if timed { vec![time_filter(q.range)] } else { Vec::new() };
    if !target.stream.matchers.is_empty() {
        base.push(target.stream.to_string());
    }
    if let RecordSchema::Raw(format) = target.schema {
        // An S3 header line holds each field's name: an interface condition
        // (`interface_id:="eni-…"`) rejects it anyway, for a few percent of
        // the scan less than matching every line against it.
        let header_token = "interface-id".to_string();
        if q.interface_ids.is_empty() || q.interface_ids.contains(&header_token) {
            base.push(format!("!_msg:={}", quote(&format.header_line())));
        }
        base.extend(prefilter_phrases(q));
    }
    base
}

/// The stages up to the aggregation: what is read, the `needed` fields
/// extracted from raw records (every field for `all`), the conditions.
fn scan(
    target: &Target<'_>,
    q: &FlowQuery,
    needed: &BTreeSet<String>,
    all: bool,
    conditions: Vec<String>,
    timed: bool,
) -> Vec<String> {
    let mut base = base_terms(target, q, timed);
    if base.is_empty() && conditions.is_empty() {
        base.push("*".to_string());
    }
    match target.schema {
        RecordSchema::Raw(format) => {
            let mut stages = vec![base.join(" ")];
            if all || !needed.is_empty() {
                stages.extend(extract(format, needed, all));
            }
            if !conditions.is_empty() {
                stages.push(format!("filter {}", conditions.join(" ")));
            }
            stages
        }
        RecordSchema::Fields(_) => {
            base.extend(conditions);
            vec![base.join(" ")]
        }
    }
}

fn time_filter(range: TimeRange) -> String {
    format!("_time:[{}, {})", rfc3339(range.from_ms), rfc3339(range.to_ms))
}

/// A step as a LogsQL duration: whole seconds where possible.
pub fn duration(ms: i64) -> String {
    if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// A field name, bare when it is a plain identifier, else quoted.
fn field_name(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !matches!(name.to_ascii_lowercase().as_str(), "and" | "or" | "not" | "by" | "in" | "as");
    if plain {
        name.to_string()
    } else {
        quote(name)
    }
}

/// The `extract` pipes reading the needed fields of a raw record (all
/// fields for `all`), stopping after the last one. Named fields are
/// `plain:` (otherwise VictoriaLogs unquotes a token that starts with a
/// quote: `"a"` reads as `a`). A skipped field is `<_>`, which VictoriaLogs
/// does not store (`<plain:_>` makes a field named `_` on every record:
/// about a third of the scan), but which unquotes too, so a record holding
/// a quote, apostrophe or backtick (`"a` and `b"` in two fields would read
/// as one) is read by a second pattern skipping with `<plain:_>`.
fn extract(format: &RecordFormat, needed: &BTreeSet<String>, all: bool) -> Vec<String> {
    let fast = extract_pattern(format, needed, all, "<_>");
    let safe = extract_pattern(format, needed, all, "<plain:_>");
    if fast == safe {
        return vec![format!("extract {}", quote(&safe))];
    }
    let quoted = format!("_msg:~{}", quote("[\"'`]"));
    vec![format!("extract if (!({quoted})) {}", quote(&fast)), format!("extract if ({quoted}) {}", quote(&safe))]
}

/// An `extract` pattern naming the needed fields, `skip` elsewhere, ending
/// after the last needed one.
fn extract_pattern(format: &RecordFormat, needed: &BTreeSet<String>, all: bool, skip: &str) -> String {
    let names = format.fields();
    let wanted = |f: &String| all || needed.contains(f);
    let last = names.iter().rposition(wanted);
    let Some(last) = last else { return "<plain:_>".into() };
    let mut pattern = String::new();
    for (i, f) in names.iter().enumerate().take(last + 1) {
        if i > 0 {
            pattern.push(' ');
        }
        if wanted(f) {
            pattern.push_str(&format!("<plain:{f}>"));
        } else {
            pattern.push_str(skip);
        }
    }
    if last + 1 < names.len() {
        pattern.push(' ');
    }
    pattern
}

/// Word pre-filters on the raw message: an exact match on a value that is one
/// token implies the message contains that phrase, which VictoriaLogs checks
/// with its word index before any parsing. A set of values gives an `or` of
/// phrases, when every value is one token.
fn prefilter_phrases(q: &FlowQuery) -> Vec<String> {
    crate::dialect::token_sets(q)
        .into_iter()
        .map(|values| match values.as_slice() {
            [one] => quote(one),
            many => format!("({})", many.iter().map(|v| quote(v)).collect::<Vec<_>>().join(" or ")),
        })
        .collect()
}

/// Field conditions (ANDed): the query's predicates ([`predicate::lower`])
/// printed.
fn conditions(q: &FlowQuery, schema: &RecordSchema) -> Vec<String> {
    predicate::lower(q, schema).iter().map(|p| condition(p, schema)).collect()
}

/// A predicate as a LogsQL condition on the schema's field names.
fn condition(p: &Pred, schema: &RecordSchema) -> String {
    print(p, &|canonical| field_name(schema.log_field(canonical)))
}

/// A predicate in LogsQL, `name` giving a canonical field's name: `!` for
/// not, `(a b)` for all, `(a or b)` for any. A field without a value (AWS
/// writes `-`; a parsed record may lack the field, which LogsQL reads as
/// `""`) is asked for as both spellings.
fn print(p: &Pred, name: &dyn Fn(&str) -> String) -> String {
    let join = |items: &[Pred], sep: &str| items.iter().map(|p| print(p, name)).collect::<Vec<_>>().join(sep);
    match p {
        Pred::All(items) => format!("({})", join(items, " ")),
        Pred::Any(items) => format!("({})", join(items, " or ")),
        Pred::Not(p) => format!("!{}", print(p, name)),
        Pred::In { field, members } => set_condition(&name(field), members),
        Pred::Is { field, literal } => format!("{}:={}", name(field), quote(literal)),
        Pred::Matches { field, re } => format!("{}:~{}", name(field), quote(re)),
        Pred::Inside { field, nets, own } => {
            let field = name(field);
            let terms: Vec<String> = nets.iter().map(|net| cidr_condition(&field, net)).collect();
            let mut inside = if terms.len() == 1 { terms[0].clone() } else { format!("({})", terms.join(" or ")) };
            if !own.is_empty() {
                let own: Vec<String> = own.iter().map(|a| a.to_string()).collect();
                inside = format!("({inside} !{})", set_condition(&field, &predicate::members(&own)));
            }
            inside
        }
        Pred::InNet { field, net } => cidr_condition(&name(field), net),
        Pred::Range { field, lo: 0, hi } => format!("{}:<={hi}", name(field)),
        Pred::Range { field, lo, hi: u64::MAX } => format!("{}:>={lo}", name(field)),
        Pred::Range { field, lo, hi } => format!("{}:range[{lo}, {hi}]", name(field)),
    }
}

/// `name:="v"` for one value, `name:in("a", "b")` for several; no value is
/// both of its spellings, `""` then `-`.
fn set_condition(name: &str, members: &[Member]) -> String {
    let literals: Vec<String> = members
        .iter()
        .flat_map(|m| match m {
            Member::NoValue => vec![quote(""), quote(NO_VALUE)],
            Member::Is(v) => vec![quote(v)],
        })
        .collect();
    match literals.as_slice() {
        [one] => format!("{name}:={one}"),
        _ => format!("{name}:in({})", literals.join(", ")),
    }
}

fn cidr_condition(field: &str, net: &IpNet) -> String {
    let func = match net.addr() {
        IpAddr::V4(_) => "ipv4_range",
        IpAddr::V6(_) => "ipv6_range",
    };
    format!("{field}:{func}({})", quote(&net.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set of values printed on a plain field name.
    fn set_condition(name: &str, values: &[&str]) -> String {
        print(&Pred::one_of(name, values), &|f| f.to_string())
    }

    #[test]
    fn set_conditions_keep_the_first_of_repeated_values_in_order() {
        assert_eq!(set_condition("dstport", &["443", "443"]), r#"dstport:="443""#);
        assert_eq!(
            set_condition("action", &["REJECT", "ACCEPT", "REJECT", "NODATA", "ACCEPT"]),
            r#"action:in("REJECT", "ACCEPT", "NODATA")"#
        );
        // "No value" is both of its spellings, each once wherever it is asked.
        assert_eq!(set_condition("f", &["b", "-", "a", "", "b", "-"]), r#"f:in("b", "", "-", "a")"#);
        assert_eq!(set_condition("f", &["-", ""]), r#"f:in("", "-")"#);
    }

    #[test]
    fn long_value_lists_are_asked_whole_and_once() {
        // Every value twice, interleaved: each appears once, in first-seen order.
        let values: Vec<String> = (0..20_000).map(|i| format!("v{}", i % 10_000)).collect();
        let text = print(&Pred::one_of("f", &values), &|f| f.to_string());
        let want: Vec<String> = (0..10_000).map(|i| format!("\"v{i}\"")).collect();
        assert_eq!(text, format!("f:in({})", want.join(", ")));
    }

    #[test]
    fn negation_is_a_prefix_and_nesting_is_parenthesised() {
        let p = predicate::regex("f", "-|a").not();
        assert_eq!(print(&p, &|f| f.to_string()), r#"!(f:~"^(?:-|a)$" !f:="-")"#);
        let p = predicate::regex("f", "a|");
        assert_eq!(print(&p, &|f| f.to_string()), r#"(f:~"^(?:a|)$" or f:="-")"#);
    }
}
