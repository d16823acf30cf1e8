//! The part of every LogQL query after the stream selector: line filters,
//! the parser (`pattern`, `json`, `logfmt` or none), label filters for
//! every filter kind and direction, `unwrap`; every value quoted as data.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::super::settings::LokiFields;
use super::NO_VALUE;
use crate::dialect::{anchored, is_no_value};
use crate::error::QueryError;
use crate::model::{address_field, is_sided, resolve_side, Direction, Filter, FlowQuery};
use crate::plan::Key;
use crate::schema::{RecordFormat, RecordSchema};
use crate::selector::quote;

/// LogQL keywords that Grafana's grammar does not take as label names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "unwrap",
    "json",
    "logfmt",
    "pattern",
    "regexp",
    "unpack",
    "label_format",
    "line_format",
    "label_replace",
    "vector",
    "decolorize",
    "drop",
    "keep",
    "ip",
];

fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The prefix of every label a parser extracts (`pattern`, `json`,
/// `logfmt`): `flow_pkt_srcaddr`, never a stream label's name. When a
/// stream label (a CloudWatch-style `interface_id`) or structured metadata
/// already has an extracted label's name, Loki stores the capture as
/// `<name>_extracted` (`pkg/logql/log/parser.go`, `BaseHas`), and filters,
/// `sum by` and `unwrap` on the name read the stream label instead.
pub const EXTRACTED: &str = "flow_";

/// Where the labels of canonical fields come from.
pub(super) struct Names<'a> {
    pub(super) fields: LokiFields,
    pub(super) schema: &'a RecordSchema,
}

impl Names<'_> {
    /// The label that holds a canonical field in the query: the canonical
    /// name after [`EXTRACTED`] where the query extracts it (pattern, json,
    /// logfmt), the mapped name for structured metadata.
    pub(super) fn label(&self, canonical: &str) -> Result<String, QueryError> {
        match (self.schema, self.fields) {
            (RecordSchema::Fields(_), LokiFields::StructuredMetadata) => {
                let name = self.schema.log_field(canonical);
                if is_identifier(name) && !KEYWORDS.contains(&name) {
                    Ok(name.to_string())
                } else {
                    Err(QueryError::plugin(format!(
                        "fieldMapping: `{canonical}` maps to the structured metadata `{name}`, which LogQL cannot name: use a name of letters, digits and `_` that starts with a letter or `_` and is no LogQL keyword (Loki's own OTLP ingest writes such names)"
                    )))
                }
            }
            _ => Ok(format!("{EXTRACTED}{canonical}")),
        }
    }

    /// The parser parameter that extracts a canonical field as its label:
    /// `pkt_srcaddr="pkt_src_addr"`.
    fn extraction(&self, canonical: &str) -> Result<String, QueryError> {
        let name = self.schema.log_field(canonical);
        let expression = match self.fields {
            LokiFields::Json => {
                let path = !name.is_empty() && name.split('.').all(is_identifier);
                if path {
                    name.to_string()
                } else if !name.contains(['"', ']', '\0']) {
                    format!("[\"{name}\"]")
                } else {
                    return Err(QueryError::plugin(format!(
                        "fieldMapping: `{canonical}` maps to the JSON key `{name}`, which Loki's json parser cannot select (a key with `\"` or `]`); rename the key at ingest"
                    )));
                }
            }
            LokiFields::Logfmt if is_identifier(name) => name.to_string(),
            LokiFields::Logfmt => {
                return Err(QueryError::plugin(format!(
                    "fieldMapping: `{canonical}` maps to the logfmt key `{name}`, which Loki's logfmt parser cannot select; use keys of letters, digits and `_`"
                )))
            }
            LokiFields::StructuredMetadata => unreachable!("structured metadata needs no extraction"),
        };
        Ok(format!("{EXTRACTED}{canonical}={}", quote(&expression)))
    }
}

/// The part of every query after the selector.
pub(super) struct Pipeline {
    /// `|= "…"`, `!= "…"`: before any parsing.
    pub(super) line_filters: Vec<String>,
    /// The parser, if any: `pattern "…"`, `json a="b"`, `logfmt a="b"`.
    pub(super) parser: Option<String>,
    /// Label filters, one stage each (ANDed).
    pub(super) filters: Vec<String>,
    /// The label summed, if any.
    pub(super) unwrap: Option<String>,
    /// Whether a stage may set `__error__` (a parser or numeric filter).
    pub(super) may_error: bool,
}

impl Pipeline {
    fn stages(&self) -> String {
        let mut text = String::new();
        for f in &self.line_filters {
            text.push(' ');
            text.push_str(f);
        }
        for stage in self.parser.iter().chain(&self.filters) {
            text.push_str(" | ");
            text.push_str(stage);
        }
        text
    }

    /// The stages of a log query.
    pub(super) fn log_stages(&self) -> String {
        let mut text = self.stages();
        if self.may_error {
            text.push_str(" | __error__=\"\"");
        }
        text
    }

    /// The stages of a metric query: every sample with an error dropped
    /// (Loki fails a metric query on one).
    pub(super) fn metric_stages(&self) -> String {
        let mut text = self.stages();
        if let Some(label) = &self.unwrap {
            text.push_str(&format!(" | unwrap {label} | __error__=\"\""));
        } else if self.may_error {
            text.push_str(" | __error__=\"\"");
        }
        text
    }
}

/// The stages of a step's query; `grouped` says whether the groups are read.
pub(super) fn pipeline(
    names: &Names<'_>,
    q: &FlowQuery,
    grouped: bool,
    keys: Option<&[Key]>,
    all_fields: bool,
) -> Result<Pipeline, QueryError> {
    let schema = names.schema;
    let needed = q.fields_read(schema, grouped);
    let mut conditions = conditions(names, q)?;
    if let Some(keys) = keys {
        conditions.push(key_condition(names, &q.group_by, keys)?);
    }
    // Numeric filters flag values that are no number; `ip()` may flag values
    // that are no address on some engines (see `ip_leaf`).
    let mut may_error = q.direction != Direction::All
        || q.filters.iter().any(|f| matches!(f, Filter::Range(..) | Filter::Cidr(..) | Filter::NotCidr(..)));
    let (line_filters, parser) = match (schema, names.fields) {
        (RecordSchema::Raw(format), _) => {
            let mut line = prefilters(q);
            line.push(format!("!= {}", quote(&format.header_line())));
            let parser = pattern(format, &needed, all_fields).map(|p| format!("pattern {}", quote(&p)));
            (line, parser)
        }
        (RecordSchema::Fields(_), LokiFields::StructuredMetadata) => (Vec::new(), None),
        (RecordSchema::Fields(_), fields) => {
            let ordered: Vec<String> =
                crate::schema::all_fields().map(|(f, _)| f).filter(|f| needed.contains(f)).collect();
            let parser = if ordered.is_empty() {
                None
            } else {
                may_error = true;
                let params = ordered.iter().map(|f| names.extraction(f)).collect::<Result<Vec<_>, _>>()?;
                let name = if fields == LokiFields::Json { "json" } else { "logfmt" };
                Some(format!("{name} {}", params.join(", ")))
            };
            (prefilters(q), parser)
        }
    };
    let unwrap = q.metric.field().map(|f| names.label(f)).transpose()?;
    Ok(Pipeline {
        line_filters,
        parser,
        filters: conditions.into_iter().flat_map(Cond::stages).collect(),
        unwrap,
        may_error,
    })
}

/// The `pattern` naming only the needed fields (`<_>` elsewhere), ending
/// with `<_>` after the last one unless it is the record's last field (a
/// pattern's last capture takes the rest of the line).
fn pattern(format: &RecordFormat, needed: &BTreeSet<String>, all: bool) -> Option<String> {
    let names = format.fields();
    let wanted = |f: &String| all || needed.contains(f);
    let last = names.iter().rposition(wanted)?;
    let mut parts: Vec<String> =
        names[..=last].iter().map(|f| if wanted(f) { format!("<{EXTRACTED}{f}>") } else { "<_>".into() }).collect();
    if last + 1 < names.len() {
        parts.push("<_>".into());
    }
    Some(parts.join(" "))
}

/// Line filters implied by exact values: a record whose field equals a
/// value that is one token holds that token in its line (raw, JSON and
/// logfmt lines write such a value as it is).
fn prefilters(q: &FlowQuery) -> Vec<String> {
    crate::dialect::token_sets(q)
        .into_iter()
        .map(|values| match values.as_slice() {
            [one] => format!("|= {}", quote(one)),
            many => format!("|~ {}", quote(&many.iter().map(|v| regex_escape(v)).collect::<Vec<_>>().join("|"))),
        })
        .collect()
}

/// A label filter expression.
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    /// One comparison, e.g. `action="ACCEPT"`.
    Leaf(String),
    /// All of these.
    All(Vec<Cond>),
    /// Any of these.
    Any(Vec<Cond>),
}

impl Cond {
    fn all(mut items: Vec<Cond>) -> Cond {
        if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::All(items)
        }
    }

    fn any(mut items: Vec<Cond>) -> Cond {
        if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Any(items)
        }
    }

    /// Nested: parenthesised unless a leaf.
    fn render(&self) -> String {
        match self {
            Cond::Leaf(text) => text.clone(),
            Cond::All(items) => format!("({})", items.iter().map(Cond::render).collect::<Vec<_>>().join(" and ")),
            Cond::Any(items) => format!("({})", items.iter().map(Cond::render).collect::<Vec<_>>().join(" or ")),
        }
    }

    /// Top level: a conjunction is one stage per part.
    fn stages(self) -> Vec<String> {
        match self {
            Cond::All(items) => items.into_iter().flat_map(Cond::stages).collect(),
            other => vec![other.render()],
        }
    }
}

fn leaf(label: &str, op: &str, value: &str) -> Cond {
    Cond::Leaf(format!("{label}{op}{}", quote(value)))
}

/// Equal to one of `values`; "no value" is both of its spellings.
fn set_cond(label: &str, values: &[String]) -> Cond {
    // First-seen order (the no-value pair below depends on it), in linear time.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut spellings: Vec<&str> = Vec::new();
    for v in values {
        let these: &[&str] = if is_no_value(v) { &[NO_VALUE, ""] } else { &[v.as_str()] };
        for s in these {
            if seen.insert(s) {
                spellings.push(s);
            }
        }
    }
    match spellings.as_slice() {
        [one] => leaf(label, "=", one),
        [NO_VALUE, ""] => Cond::Any(vec![leaf(label, "=", ""), leaf(label, "=", NO_VALUE)]),
        many => leaf(label, "=~", &anchored(&many.iter().map(|v| regex_escape(v)).collect::<Vec<_>>().join("|"))),
    }
}

/// Equal to none of `values`.
fn not_set_cond(label: &str, values: &[String]) -> Cond {
    match set_cond(label, values) {
        Cond::Leaf(text) if text.starts_with(&format!("{label}=~")) => {
            Cond::Leaf(text.replacen(&format!("{label}=~"), &format!("{label}!~"), 1))
        }
        Cond::Leaf(text) => Cond::Leaf(text.replacen(&format!("{label}="), &format!("{label}!="), 1)),
        _ => Cond::All(vec![leaf(label, "!=", ""), leaf(label, "!=", NO_VALUE)]),
    }
}

/// A value as a regex that matches it literally: a backslash before each of
/// RE2's (and Rust's) metacharacters, nothing else.
fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An anchored regex match, or its negation, where `-` (no value) matches
/// exactly when the regex matches the empty string.
fn regex_cond(label: &str, re: &str, negated: bool) -> Cond {
    let anchored_re = anchored(re);
    let full = regex::Regex::new(&anchored_re).expect("validated by the model");
    let (op, eq, ne) = if negated { ("!~", "!=", "=") } else { ("=~", "=", "!=") };
    let matched = leaf(label, op, &anchored_re);
    match (full.is_match(""), full.is_match(NO_VALUE), negated) {
        (true, false, false) => Cond::Any(vec![matched, leaf(label, eq, NO_VALUE)]),
        (true, false, true) => Cond::All(vec![matched, leaf(label, eq, NO_VALUE)]),
        (false, true, false) => Cond::All(vec![matched, leaf(label, ne, NO_VALUE)]),
        (false, true, true) => Cond::Any(vec![matched, leaf(label, ne, NO_VALUE)]),
        _ => matched,
    }
}

/// The spellings of "no value" a field can have: `-` in raw records (a
/// pattern always captures), `""` (absent) or `-` in fields parsed at ingest.
fn no_value_spellings(schema: &RecordSchema) -> &'static [&'static str] {
    match schema {
        RecordSchema::Raw(_) => &[NO_VALUE],
        RecordSchema::Fields(_) => &["", NO_VALUE],
    }
}

/// An `ip()` comparison. Callers put the no-value tests before it: Loki's
/// `= ip()` is false for no value, but an engine may instead flag the line
/// with `__error__` and let it pass (oteldb does, and its `and`/`or` stop
/// before `ip()`).
fn ip_leaf(label: &str, op: &str, net: &IpNet) -> Cond {
    Cond::Leaf(format!("{label}{op}ip({})", quote(&net.to_string())))
}

/// In (or not in) a network; no value is in no network.
fn cidr_cond(label: &str, net: &IpNet, negated: bool, none: &[&str]) -> Cond {
    if negated {
        let mut any: Vec<Cond> = none.iter().map(|s| leaf(label, "=", s)).collect();
        any.push(ip_leaf(label, "!=", net));
        Cond::Any(any)
    } else {
        let mut all: Vec<Cond> = none.iter().map(|s| leaf(label, "!=", s)).collect();
        all.push(ip_leaf(label, "=", net));
        Cond::All(all)
    }
}

fn filter_cond(filter: &Filter, label: &str, none: &[&str]) -> Cond {
    match filter {
        Filter::Eq(_, v) => set_cond(label, std::slice::from_ref(v)),
        Filter::Ne(_, v) => not_set_cond(label, std::slice::from_ref(v)),
        Filter::Re(_, re) => regex_cond(label, re, false),
        Filter::NotRe(_, re) => regex_cond(label, re, true),
        Filter::Cidr(_, net) => cidr_cond(label, net, false, none),
        Filter::NotCidr(_, net) => cidr_cond(label, net, true, none),
        Filter::Range(_, 0, hi) => Cond::Leaf(format!("{label}<={hi}")),
        Filter::Range(_, lo, u64::MAX) => Cond::Leaf(format!("{label}>={lo}")),
        Filter::Range(_, lo, hi) => {
            Cond::All(vec![Cond::Leaf(format!("{label}>={lo}")), Cond::Leaf(format!("{label}<={hi}"))])
        }
        Filter::In(_, values) => set_cond(label, values),
        Filter::NotIn(_, values) => not_set_cond(label, values),
    }
}

/// Label conditions (ANDed): interface, direction, filters. With direction
/// `any`, filters on `inside_addr`/`outside_addr` hold on either side:
/// `(src inside and <filters as src/dst>) or (dst inside and <filters as dst/src>)`.
fn conditions(names: &Names<'_>, q: &FlowQuery) -> Result<Vec<Cond>, QueryError> {
    let schema = names.schema;
    let none = no_value_spellings(schema);
    let mut out = Vec::new();
    if !q.interface_ids.is_empty() {
        out.push(set_cond(&names.label("interface_id")?, &q.interface_ids));
    }
    // Inside: in an inside CIDR and not one of the interface's own addresses.
    let inside = |side: &str| -> Result<Cond, QueryError> {
        let label = names.label(address_field(schema, side))?;
        let mut parts: Vec<Cond> = none.iter().map(|s| leaf(&label, "!=", s)).collect();
        parts.push(Cond::any(q.inside.iter().map(|net| ip_leaf(&label, "=", net)).collect()));
        parts.extend(q.own_addresses.iter().map(|a| leaf(&label, "!=", &a.to_string())));
        Ok(Cond::all(parts))
    };
    let (sided, plain): (Vec<&Filter>, Vec<&Filter>) = q.filters.iter().partition(|x| is_sided(x.field()));
    let rendered = |filters: &[&Filter], inside_side: &str| -> Result<Vec<Cond>, QueryError> {
        filters
            .iter()
            .map(|x| Ok(filter_cond(x, &names.label(resolve_side(schema, x.field(), inside_side))?, none)))
            .collect()
    };
    match q.direction {
        Direction::In => out.push(inside("dst")?),
        Direction::Out => out.push(inside("src")?),
        Direction::Any if sided.is_empty() => out.push(Cond::Any(vec![inside("src")?, inside("dst")?])),
        Direction::Any => {
            let branch = |side: &str| -> Result<Cond, QueryError> {
                Ok(Cond::All([vec![inside(side)?], rendered(&sided, side)?].concat()))
            };
            out.push(Cond::Any(vec![branch("src")?, branch("dst")?]));
        }
        Direction::All => {}
    }
    out.extend(rendered(&plain, "dst")?);
    Ok(out)
}

/// Restricts to the ranked keys: an anchored alternation for one field,
/// else an `or` of per-key conjunctions.
fn key_condition(names: &Names<'_>, group_by: &[String], keys: &[Key]) -> Result<Cond, QueryError> {
    let labels = group_by.iter().map(|f| names.label(f)).collect::<Result<Vec<_>, _>>()?;
    if labels.len() == 1 {
        let values: Vec<String> = keys.iter().map(|k| k[0].clone()).collect();
        return Ok(set_cond(&labels[0], &values));
    }
    Ok(Cond::Any(
        keys.iter()
            .map(|key| Cond::All(labels.iter().zip(key).map(|(l, v)| set_cond(l, std::slice::from_ref(v))).collect()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_for_regexes_and_strings() {
        for v in ["a.b", "x\"y\\z", "(a|b)*", "[x]{2}^$", "-", "ünï 🦀", "q?+"] {
            let re = regex::Regex::new(&anchored(&regex_escape(v))).unwrap();
            assert!(re.is_match(v) && !re.is_match(&format!("{v}x")), "{v}");
        }
        assert_eq!(set_cond("k", &["a.b".into(), "-".into()]).render(), r#"k=~"^(?:a\\.b|-|)$""#);
        assert_eq!(set_cond("k", &["".into()]).render(), r#"(k="" or k="-")"#);
        assert_eq!(not_set_cond("k", &["x\"y".into()]).render(), r#"k!="x\"y""#);
        assert_eq!(not_set_cond("k", &["a".into(), "b".into()]).render(), r#"k!~"^(?:a|b)$""#);
        assert_eq!(not_set_cond("k", &["-".into()]).render(), r#"(k!="" and k!="-")"#);
        // A regex that matches the empty string matches no value; one that matches `-` does not.
        assert_eq!(regex_cond("k", "a|", false).render(), r#"(k=~"^(?:a|)$" or k="-")"#);
        assert_eq!(regex_cond("k", "-|a", false).render(), r#"(k=~"^(?:-|a)$" and k!="-")"#);
        assert_eq!(regex_cond("k", "a|", true).render(), r#"(k!~"^(?:a|)$" and k!="-")"#);
        assert_eq!(regex_cond("k", "-|a", true).render(), r#"(k!~"^(?:-|a)$" or k="-")"#);
    }
}
