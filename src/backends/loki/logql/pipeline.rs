//! The part of every LogQL query after the stream selector: line filters,
//! the parser (`pattern`, `json`, `logfmt` or none), label filters for
//! every filter kind and direction, `unwrap`; every value quoted as data.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::super::settings::LokiFields;
use super::NO_VALUE;
use crate::dialect::anchored;
use crate::error::QueryError;
use crate::model::FlowQuery;
use crate::plan::Key;
use crate::predicate::{self, Member, Pred};
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
    let mut predicates = predicate::lower(q, schema);
    predicates.extend(keys.map(|keys| predicate::keys(&q.group_by, keys)));
    // Numeric filters flag values that are no number; `ip()` may flag values
    // that are no address on some engines (see `ip_leaf`).
    let mut may_error = predicates
        .iter()
        .any(|p| p.contains(&|p| matches!(p, Pred::Inside { .. } | Pred::InNet { .. } | Pred::Range { .. })));
    let none = no_value_spellings(schema);
    let label = |canonical: &str| names.label(canonical);
    let conditions = predicates.iter().map(|p| cond(p, false, &label, none)).collect::<Result<Vec<_>, _>>()?;
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

/// A predicate as a label filter, or (`negated`) its negation: LogQL has no
/// `not`, so a negation is pushed inward (`and` and `or` swapped, `=` and
/// `!=`, `=~` and `!~`). `label` names a canonical field's label; `none` are
/// the spellings of no value a field can have, tested before every `ip()`.
fn cond(
    p: &Pred,
    negated: bool,
    label: &dyn Fn(&str) -> Result<String, QueryError>,
    none: &[&str],
) -> Result<Cond, QueryError> {
    let (eq, ne, re) = if negated { ("!=", "=", "!~") } else { ("=", "!=", "=~") };
    let each = |items: &[Pred]| items.iter().map(|p| cond(p, negated, label, none)).collect::<Result<Vec<_>, _>>();
    Ok(match p {
        Pred::All(items) if negated => Cond::Any(each(items)?),
        Pred::All(items) => Cond::All(each(items)?),
        Pred::Any(items) if negated => Cond::All(each(items)?),
        Pred::Any(items) => Cond::Any(each(items)?),
        Pred::Not(p) => cond(p, !negated, label, none)?,
        Pred::In { field, members } => {
            let label = label(field)?;
            // No value is `-` then `""` (the pair below depends on it).
            let spellings: Vec<&str> = members
                .iter()
                .flat_map(|m| match m {
                    Member::NoValue => vec![NO_VALUE, ""],
                    Member::Is(v) => vec![v.as_str()],
                })
                .collect();
            match spellings.as_slice() {
                [one] => leaf(&label, eq, one),
                [NO_VALUE, ""] if negated => Cond::All(vec![leaf(&label, "!=", ""), leaf(&label, "!=", NO_VALUE)]),
                [NO_VALUE, ""] => Cond::Any(vec![leaf(&label, "=", ""), leaf(&label, "=", NO_VALUE)]),
                many => {
                    leaf(&label, re, &anchored(&many.iter().map(|v| regex_escape(v)).collect::<Vec<_>>().join("|")))
                }
            }
        }
        Pred::Is { field, literal } => leaf(&label(field)?, eq, literal),
        Pred::Matches { field, re: anchored_re } => leaf(&label(field)?, re, anchored_re),
        Pred::Inside { field, nets, own } => {
            // In an inside network and none of the own addresses.
            let label = label(field)?;
            let mut parts: Vec<Cond> = none.iter().map(|s| leaf(&label, ne, s)).collect();
            let nets: Vec<Cond> = nets.iter().map(|net| ip_leaf(&label, eq, net)).collect();
            parts.push(if negated { Cond::all(nets) } else { Cond::any(nets) });
            parts.extend(own.iter().map(|a| leaf(&label, ne, &a.to_string())));
            if negated {
                Cond::any(parts)
            } else {
                Cond::all(parts)
            }
        }
        Pred::InNet { field, net } => {
            let label = label(field)?;
            let mut parts: Vec<Cond> = none.iter().map(|s| leaf(&label, ne, s)).collect();
            parts.push(ip_leaf(&label, eq, net));
            if negated {
                Cond::Any(parts)
            } else {
                Cond::All(parts)
            }
        }
        Pred::Range { .. } if negated => {
            // A number outside the range, or no number: a comparison flags
            // the latter with `__error__`, which drops the line.
            return Err(QueryError::plugin("a range filter cannot be negated in LogQL"));
        }
        Pred::Range { field, lo: 0, hi } => Cond::Leaf(format!("{}<={hi}", label(field)?)),
        Pred::Range { field, lo, hi: u64::MAX } => Cond::Leaf(format!("{}>={lo}", label(field)?)),
        Pred::Range { field, lo, hi } => {
            let label = label(field)?;
            Cond::All(vec![Cond::Leaf(format!("{label}>={lo}")), Cond::Leaf(format!("{label}<={hi}"))])
        }
    })
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
        let print = |p: Pred| cond(&p, false, &|f| Ok(f.to_string()), &[NO_VALUE]).unwrap().render();
        let one_of = |values: &[&str]| Pred::one_of("k", values);
        assert_eq!(print(one_of(&["a.b", "-"])), r#"k=~"^(?:a\\.b|-|)$""#);
        assert_eq!(print(one_of(&[""])), r#"(k="" or k="-")"#);
        assert_eq!(print(one_of(&["x\"y"]).not()), r#"k!="x\"y""#);
        assert_eq!(print(one_of(&["a", "b"]).not()), r#"k!~"^(?:a|b)$""#);
        assert_eq!(print(one_of(&["-"]).not()), r#"(k!="" and k!="-")"#);
        // A regex that matches the empty string matches no value; one that matches `-` does not.
        assert_eq!(print(predicate::regex("k", "a|")), r#"(k=~"^(?:a|)$" or k="-")"#);
        assert_eq!(print(predicate::regex("k", "-|a")), r#"(k=~"^(?:-|a)$" and k!="-")"#);
        assert_eq!(print(predicate::regex("k", "a|").not()), r#"(k!~"^(?:a|)$" and k!="-")"#);
        assert_eq!(print(predicate::regex("k", "-|a").not()), r#"(k!~"^(?:-|a)$" or k="-")"#);
    }

    #[test]
    fn negation_is_pushed_inward() {
        let print = |p: Pred| cond(&p, false, &|f| Ok(f.to_string()), &[NO_VALUE]).map(|c| c.render());
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        let in_net = || Pred::InNet { field: "k".into(), net };
        assert_eq!(print(in_net()).unwrap(), r#"(k!="-" and k=ip("10.0.0.0/8"))"#);
        assert_eq!(print(in_net().not()).unwrap(), r#"(k="-" or k!=ip("10.0.0.0/8"))"#);
        assert_eq!(print(in_net().not().not()).unwrap(), r#"(k!="-" and k=ip("10.0.0.0/8"))"#);
        let both = Pred::All(vec![in_net(), Pred::Any(vec![Pred::one_of("a", &["1"]), Pred::one_of("b", &["2"])])]);
        assert_eq!(print(both.not()).unwrap(), r#"((k="-" or k!=ip("10.0.0.0/8")) or (a!="1" and b!="2"))"#);
        assert!(print(Pred::Range { field: "k".into(), lo: 1, hi: 2 }.not()).is_err());
    }
}
