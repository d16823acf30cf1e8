//! What every backend's dialect shares: a plan [`Step`] of a [`FlowQuery`]
//! rendered into query text for a [`Target`]. Pure. Each language lives in
//! its backend's folder (`backends/<name>/`); nothing else knows its syntax.

use crate::model::{Filter, FlowQuery, NO_VALUE};
use crate::plan::Step;
use crate::schema::RecordSchema;
use crate::selector::StreamSelector;

/// Where the records are: the datasource's part of every query.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Which streams hold flow records.
    pub stream: &'a StreamSelector,
    /// Where record fields live.
    pub schema: &'a RecordSchema,
}

/// A query language.
pub trait Dialect {
    /// The query text for one step.
    fn render(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String;
}

/// The value sets a matching record's line must hold one of, as a whole
/// token: the interfaces and each exact (`=`, `=|`) filter whose values are
/// all single tokens (word characters, `.`, `-`, `:`, `_`, starting and
/// ending with a letter or digit). Each dialect turns them into its cheap
/// line pre-filter, checked before any parsing. Duplicates removed.
pub fn token_sets(q: &FlowQuery) -> Vec<Vec<&str>> {
    let token = |v: &str| {
        let ends_are_words = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        ends_are_words(v.chars().next())
            && ends_are_words(v.chars().last())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    };
    let mut sets: Vec<&[String]> = vec![&q.interface_ids];
    sets.extend(q.filters.iter().filter_map(|f| match f {
        Filter::Eq(_, v) => Some(std::slice::from_ref(v)),
        Filter::In(_, vs) => Some(vs.as_slice()),
        _ => None,
    }));
    let mut out: Vec<Vec<&str>> = Vec::new();
    for set in sets.into_iter().filter(|set| !set.is_empty() && set.iter().all(|v| token(v))) {
        let mut values: Vec<&str> = set.iter().map(String::as_str).collect();
        values.dedup();
        if !out.contains(&values) {
            out.push(values);
        }
    }
    out
}

/// Whether a filter value asks for "no value" (empty, or `-` as flow logs
/// write it).
pub fn is_no_value(v: &str) -> bool {
    v.is_empty() || v == NO_VALUE
}

/// A regex that must match a whole value (the model's regexes are anchored).
pub fn anchored(re: &str) -> String {
    format!("^(?:{re})$")
}
