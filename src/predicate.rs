//! Which records a query counts, once for every backend: a [`FlowQuery`]'s
//! interface set, direction and filters lowered to a tree of [`Pred`]s on
//! canonical fields, already resolved to their side. Pure. Each dialect only
//! prints the tree in its own syntax (LogsQL with `!`, LogQL with negation
//! pushed inward); nothing in a dialect decides direction, sides or what
//! "no value" means.
//!
//! The semantics, as the reference (`tests/common/reference.rs`) states
//! them:
//!
//! - **Direction.** An address is *inside* when an inside CIDR holds it and
//!   it is none of the interface's own addresses ([`Pred::Inside`]). `in`:
//!   the destination is inside; `out`: the source; `any`: either; `all`: no
//!   condition. The address fields are [`address_field`]'s.
//! - **Sides.** With direction `any`, filters on `inside_addr`/`outside_addr`
//!   hold on either side: `(src inside and the filters read with src inside)
//!   or (dst inside and the filters read with dst inside)` ([`resolve_side`]).
//! - **No value.** A field AWS writes as `-`, or one a record lacks (read as
//!   `""`), has no value: the filter values `""` and `-` ask for it
//!   ([`Member::NoValue`]); it is in no network and no range.
//! - **Regexes** match whole values ([`anchored`]); no value matches exactly
//!   when the regex matches the empty string: where the regex reads `-`
//!   otherwise, the lowering corrects it with a raw [`Pred::Is`] on `-`.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::dialect::{anchored, is_no_value};
use crate::model::{address_field, is_sided, resolve_side, Direction, Filter, FlowQuery, NO_VALUE};
use crate::plan::Key;
use crate::schema::RecordSchema;

/// One value a field may equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Member {
    /// No value: each dialect spells it its own ways (`""`, `-`), in its
    /// own order.
    NoValue,
    /// This value exactly; never `""` or `-` (those are [`Member::NoValue`]).
    Is(String),
}

impl Member {
    /// A filter value as a member: `""` and `-` are [`Member::NoValue`].
    pub fn of(value: &str) -> Member {
        if is_no_value(value) {
            Member::NoValue
        } else {
            Member::Is(value.to_string())
        }
    }
}

/// Filter values as members, each once, in the order first given (linear
/// in the number of values: a set of those seen, not a search of the list).
pub fn members<S: AsRef<str>>(values: &[S]) -> Vec<Member> {
    let mut seen: HashSet<Member> = HashSet::with_capacity(values.len());
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let member = Member::of(v.as_ref());
        if !seen.contains(&member) {
            seen.insert(member.clone());
            out.push(member);
        }
    }
    out
}

/// A condition on a record. Fields are canonical names of record fields
/// (never `inside_addr`/`outside_addr`); dialects map them to their field
/// or label names.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    /// Every one of these (in this order).
    All(Vec<Pred>),
    /// At least one of these (in this order).
    Any(Vec<Pred>),
    /// Not this.
    Not(Box<Pred>),
    /// The field equals one of the members (no value: any spelling of it).
    /// An empty list holds for no record.
    In { field: String, members: Vec<Member> },
    /// The field's raw text is exactly `literal` (one spelling: `-` as AWS
    /// writes no value, beside a regex that reads it otherwise).
    Is { field: String, literal: String },
    /// The anchored regex `re` ([`anchored`]) matches the field's raw text.
    Matches { field: String, re: String },
    /// The address in `field` is inside: one of `nets` holds it and it is
    /// none of `own` (the interface's own addresses, neither inside nor
    /// outside). No value is not inside.
    Inside { field: String, nets: Vec<IpNet>, own: Vec<IpAddr> },
    /// The address in `field` is in `net`; no value is in no network.
    InNet { field: String, net: IpNet },
    /// The number in `field` is within `lo..=hi`; no value is in no range.
    /// `lo` 0 and `hi` `u64::MAX` are open ends.
    Range { field: String, lo: u64, hi: u64 },
}

impl Pred {
    /// The field equals one of `values` (`""` and `-` ask for no value).
    pub fn one_of<S: AsRef<str>>(field: &str, values: &[S]) -> Pred {
        Pred::In { field: field.to_string(), members: members(values) }
    }

    /// Its negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Pred {
        Pred::Not(Box::new(self))
    }

    /// Whether this node or one below it satisfies `test`.
    pub fn contains(&self, test: &impl Fn(&Pred) -> bool) -> bool {
        test(self)
            || match self {
                Pred::All(items) | Pred::Any(items) => items.iter().any(|p| p.contains(test)),
                Pred::Not(p) => p.contains(test),
                _ => false,
            }
    }
}

/// A whole-value regex match on `field` where no value matches exactly when
/// `re` matches the empty string: `re` anchored, or with `-` added (it
/// matches `""` but not `-`) or taken out (it matches `-` but not `""`).
/// `re` is valid (the model checked it).
pub fn regex(field: &str, re: &str) -> Pred {
    let re = anchored(re);
    let full = regex::Regex::new(&re).expect("validated by the model");
    let matched = Pred::Matches { field: field.to_string(), re };
    let dash = || Pred::Is { field: field.to_string(), literal: NO_VALUE.to_string() };
    match (full.is_match(""), full.is_match(NO_VALUE)) {
        (true, false) => Pred::Any(vec![matched, dash()]),
        (false, true) => Pred::All(vec![matched, dash().not()]),
        _ => matched,
    }
}

/// One filter read on `field` (the filter's own field, or the address field
/// a sided one stands for).
pub fn filter(filter: &Filter, field: &str) -> Pred {
    let field_s = || field.to_string();
    match filter {
        Filter::Eq(_, v) => Pred::one_of(field, std::slice::from_ref(v)),
        Filter::Ne(_, v) => Pred::one_of(field, std::slice::from_ref(v)).not(),
        Filter::Re(_, re) => regex(field, re),
        Filter::NotRe(_, re) => regex(field, re).not(),
        Filter::Cidr(_, net) => Pred::InNet { field: field_s(), net: *net },
        Filter::NotCidr(_, net) => Pred::InNet { field: field_s(), net: *net }.not(),
        Filter::Range(_, lo, hi) => Pred::Range { field: field_s(), lo: *lo, hi: *hi },
        Filter::In(_, values) => Pred::one_of(field, values),
        Filter::NotIn(_, values) => Pred::one_of(field, values).not(),
    }
}

/// The conditions a record must meet (ANDed, in this order): its interface
/// is one of the query's (when it names any), its direction holds, and
/// every filter holds.
pub fn lower(q: &FlowQuery, schema: &RecordSchema) -> Vec<Pred> {
    let mut out = Vec::new();
    if !q.interface_ids.is_empty() {
        out.push(Pred::one_of("interface_id", &q.interface_ids));
    }
    let inside = |side: &str| Pred::Inside {
        field: address_field(schema, side).to_string(),
        nets: q.inside.clone(),
        own: q.own_addresses.clone(),
    };
    let read = |x: &Filter, inside_side: &str| filter(x, resolve_side(schema, x.field(), inside_side));
    let (sided, plain): (Vec<&Filter>, Vec<&Filter>) = q.filters.iter().partition(|x| is_sided(x.field()));
    // The side a sided filter is read with; the model resolves them for `in`
    // and `out` and refuses them for `all` (where they read as `dst`).
    let fixed_side = match q.direction {
        Direction::Out => "src",
        _ => "dst",
    };
    match q.direction {
        Direction::In => out.push(inside("dst")),
        Direction::Out => out.push(inside("src")),
        Direction::Any if sided.is_empty() => out.push(Pred::Any(vec![inside("src"), inside("dst")])),
        Direction::Any => {
            let branch = |side: &str| {
                Pred::All(std::iter::once(inside(side)).chain(sided.iter().map(|x| read(x, side))).collect())
            };
            out.push(Pred::Any(vec![branch("src"), branch("dst")]));
        }
        Direction::All => {}
    }
    let plain: Vec<&Filter> = if q.direction == Direction::Any { plain } else { q.filters.iter().collect() };
    out.extend(plain.into_iter().map(|x| read(x, fixed_side)));
    out
}

/// The records of the ranked keys: the one group field one of the keys'
/// values, else one key's values on every field, for some key.
pub fn keys(group_by: &[String], keys: &[Key]) -> Pred {
    if let [field] = group_by {
        let values: Vec<&str> = keys.iter().map(|k| k[0].as_str()).collect();
        return Pred::one_of(field, &values);
    }
    Pred::Any(
        keys.iter()
            .map(|key| {
                Pred::All(group_by.iter().zip(key).map(|(f, v)| Pred::one_of(f, std::slice::from_ref(v))).collect())
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::INSIDE_ADDR;
    use crate::model::OUTSIDE_ADDR;
    use crate::schema::RecordFormat;

    fn schema() -> RecordSchema {
        RecordSchema::Raw(
            RecordFormat::parse("${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${action}")
                .unwrap(),
        )
    }

    fn query(direction: Direction, filters: Vec<Filter>) -> FlowQuery {
        let mut q = FlowQuery::probe(crate::model::TimeRange { from_ms: 0, to_ms: 1 });
        q.direction = direction;
        q.inside = vec!["10.0.0.0/8".parse().unwrap()];
        q.filters = filters;
        q
    }

    fn inside(field: &str) -> Pred {
        Pred::Inside { field: field.into(), nets: vec!["10.0.0.0/8".parse().unwrap()], own: vec![] }
    }

    fn is(field: &str, v: &str) -> Pred {
        Pred::In { field: field.into(), members: vec![Member::of(v)] }
    }

    #[test]
    fn members_are_deduplicated_in_first_seen_order_with_no_value_once() {
        assert_eq!(
            members(&["b", "-", "a", "", "b", "-"]),
            vec![Member::Is("b".into()), Member::NoValue, Member::Is("a".into())]
        );
        assert_eq!(members(&["-", ""]), vec![Member::NoValue]);
    }

    #[test]
    fn direction_is_the_inside_of_its_side() {
        let s = schema();
        assert_eq!(lower(&query(Direction::In, vec![]), &s), vec![inside("pkt_dstaddr")]);
        assert_eq!(lower(&query(Direction::Out, vec![]), &s), vec![inside("pkt_srcaddr")]);
        assert_eq!(
            lower(&query(Direction::Any, vec![]), &s),
            vec![Pred::Any(vec![inside("pkt_srcaddr"), inside("pkt_dstaddr")])]
        );
        assert_eq!(lower(&query(Direction::All, vec![]), &s), vec![]);
    }

    #[test]
    fn sided_filters_with_any_hold_on_either_side() {
        let s = schema();
        let q = query(
            Direction::Any,
            vec![
                Filter::Eq("action".into(), "ACCEPT".into()),
                Filter::Eq(INSIDE_ADDR.into(), "10.0.0.1".into()),
                Filter::Ne(OUTSIDE_ADDR.into(), "-".into()),
            ],
        );
        let mut q = q;
        q.interface_ids = vec!["eni-1".into(), "eni-1".into()];
        assert_eq!(
            lower(&q, &s),
            vec![
                is("interface_id", "eni-1"),
                Pred::Any(vec![
                    Pred::All(vec![
                        inside("pkt_srcaddr"),
                        is("pkt_srcaddr", "10.0.0.1"),
                        Pred::In { field: "pkt_dstaddr".into(), members: vec![Member::NoValue] }.not(),
                    ]),
                    Pred::All(vec![
                        inside("pkt_dstaddr"),
                        is("pkt_dstaddr", "10.0.0.1"),
                        Pred::In { field: "pkt_srcaddr".into(), members: vec![Member::NoValue] }.not(),
                    ]),
                ]),
                is("action", "ACCEPT"),
            ]
        );
    }

    #[test]
    fn regexes_are_corrected_for_the_dash_once() {
        let m = |re: &str| Pred::Matches { field: "f".into(), re: re.into() };
        let dash = Pred::Is { field: "f".into(), literal: "-".into() };
        assert_eq!(regex("f", "a"), m("^(?:a)$"));
        assert_eq!(regex("f", "a|-|"), m("^(?:a|-|)$"));
        assert_eq!(regex("f", "a|"), Pred::Any(vec![m("^(?:a|)$"), dash.clone()]));
        assert_eq!(regex("f", "-|a"), Pred::All(vec![m("^(?:-|a)$"), dash.clone().not()]));
        assert_eq!(filter(&Filter::NotRe("f".into(), "a|".into()), "f"), Pred::Any(vec![m("^(?:a|)$"), dash]).not());
    }

    #[test]
    fn ranked_keys_are_one_set_or_an_or_of_conjunctions() {
        let k = |vs: &[&str]| vs.iter().map(|v| v.to_string()).collect::<Key>();
        assert_eq!(
            keys(&["dstport".into()], &[k(&["443"]), k(&[""]), k(&["443"])]),
            Pred::In { field: "dstport".into(), members: vec![Member::Is("443".into()), Member::NoValue] }
        );
        assert_eq!(
            keys(&["a".into(), "b".into()], &[k(&["1", "-"])]),
            Pred::Any(vec![Pred::All(vec![is("a", "1"), is("b", "-")])])
        );
    }
}
