//! A question about names asked about addresses, and the addresses' answer
//! read back as names. Pure.
//!
//! The backend groups by the address each name comes from (and by time,
//! at the names' resolution, when a name depends on it); the plugin names
//! each group, drops those a name filter refuses, and adds up the groups
//! that got the same names. The panel's own plan ([`first_step`],
//! [`follow_up`]) is then answered from those sums, so a top N, `other`,
//! shares and costs are exactly those of the named groups.

use std::collections::BTreeMap;

use crate::error::QueryError;
use crate::model::{Filter, FlowQuery, Format};
use crate::plan::{first_step, follow_up, natural_keys, Answers, BucketMap, Key, Step, StepOutput, Value};

use super::{dim, Dim};

/// How a query with names is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The question about addresses.
    pub inner: FlowQuery,
    /// Its one step.
    pub step: Step,
    /// Each of the panel's group-by fields: its field in the inner query's
    /// key, and the name it is, if one.
    columns: Vec<(usize, Option<&'static Dim>)>,
    /// The name filters: (field in the inner key, name, filter).
    filters: Vec<(usize, &'static Dim, NameFilter)>,
}

/// A filter on a name, compiled.
#[derive(Debug, Clone)]
enum NameFilter {
    Is(Vec<String>, bool),
    Matches(regex::Regex, bool),
}

impl PartialEq for NameFilter {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Is(a, x), Self::Is(b, y)) => a == b && x == y,
            (Self::Matches(a, x), Self::Matches(b, y)) => a.as_str() == b.as_str() && x == y,
            _ => false,
        }
    }
}

impl NameFilter {
    fn of(f: &Filter) -> Result<Self, QueryError> {
        let regex = |r: &str, keep: bool| {
            regex::Regex::new(&format!("^(?:{r})$"))
                .map(|re| Self::Matches(re, keep))
                .map_err(|e| QueryError::plugin(format!("`filters`: `{r}` is not a valid regex: {e}")))
        };
        match f {
            Filter::Eq(_, v) => Ok(Self::Is(vec![v.clone()], true)),
            Filter::Ne(_, v) => Ok(Self::Is(vec![v.clone()], false)),
            Filter::In(_, vs) => Ok(Self::Is(vs.clone(), true)),
            Filter::NotIn(_, vs) => Ok(Self::Is(vs.clone(), false)),
            Filter::Re(_, r) => regex(r, true),
            Filter::NotRe(_, r) => regex(r, false),
            other => Err(QueryError::plugin(format!(
                "`filters`: `{}` is a name; filter it with =, !=, =~, !~, =| or !=|",
                other.field()
            ))),
        }
    }

    fn keeps(&self, name: &str) -> bool {
        match self {
            Self::Is(values, keep) => values.iter().any(|v| v == name) == *keep,
            Self::Matches(re, keep) => re.is_match(name) == *keep,
        }
    }
}

/// The names a query uses (grouped by or filtered on), `None` when it uses
/// none: the query is then asked as it is.
pub fn ask(q: &FlowQuery, resolution_ms: i64) -> Result<Option<Asked>, QueryError> {
    if q.names.is_empty() || q.raw_query.is_some() || q.format == Format::Logs {
        return Ok(None);
    }
    if !q.metric.additive() {
        return Err(QueryError::plugin(
            "`metric`: distinct counts do not add up across the addresses a name stands for; count bytes, packets or \
             records by name",
        ));
    }
    let base = |field: &str| q.names.iter().find(|(d, _)| d == field).map(|(_, b)| b.clone());
    let mut group_by: Vec<String> = Vec::new();
    let position = |field: String, group_by: &mut Vec<String>| match group_by.iter().position(|f| *f == field) {
        Some(i) => i,
        None => {
            group_by.push(field);
            group_by.len() - 1
        }
    };
    let mut columns = Vec::new();
    for field in &q.group_by {
        let named = base(field).map(|b| (b, dim(field).expect("a validated name")));
        columns.push(match named {
            Some((b, d)) => (position(b, &mut group_by), Some(d)),
            None => (position(field.clone(), &mut group_by), None),
        });
    }
    let mut filters = Vec::new();
    let mut plain = Vec::new();
    for f in &q.filters {
        match base(f.field()) {
            Some(b) => filters.push((
                position(b, &mut group_by),
                dim(f.field()).expect("a validated name"),
                NameFilter::of(f)?,
            )),
            None => plain.push(f.clone()),
        }
    }
    let timed = columns.iter().filter_map(|(_, d)| *d).chain(filters.iter().map(|(_, d, _)| *d)).any(|d| d.timed());
    let mut inner = FlowQuery {
        group_by,
        filters: plain,
        names: Vec::new(),
        limit: None,
        other: false,
        share: false,
        rate: false,
        alerting: false,
        ..q.clone()
    };
    let step = match (q.format, timed) {
        (Format::Series, _) => {
            inner.step_ms = if timed { gcd(q.step_ms, resolution_ms) } else { q.step_ms };
            Step::Buckets { grouped: true, keys: None }
        }
        (_, true) => {
            inner.format = Format::Series;
            inner.step_ms = resolution_ms;
            Step::Buckets { grouped: true, keys: None }
        }
        (_, false) => {
            inner.format = Format::Table;
            Step::Rank { limit: usize::MAX }
        }
    };
    Ok(Some(Asked { inner, step, columns, filters }))
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Asked {
    /// The names it uses.
    pub fn dims(&self) -> Vec<&'static Dim> {
        let mut dims: Vec<&'static Dim> = self.columns.iter().filter_map(|(_, d)| *d).collect();
        dims.extend(self.filters.iter().map(|(_, d, _)| *d));
        dims.dedup_by_key(|d| d.name);
        dims
    }

    /// The inner answer named by `name(dim, address, bucket start)` and
    /// summed per named group, in the panel's buckets (one bucket, 0, for
    /// a range), as the panel's plan asks.
    pub fn answers(
        &self,
        q: &FlowQuery,
        inner: StepOutput,
        mut name: impl FnMut(&Dim, &str, i64) -> String,
    ) -> Result<Answers, QueryError> {
        let rows: Vec<(Key, Vec<(i64, Value)>)> = match inner {
            StepOutput::Ranked(ranked) => ranked.into_iter().map(|(k, v)| (k, vec![(0, v)])).collect(),
            StepOutput::Buckets(buckets) => buckets.into_iter().map(|(k, b)| (k, b.into_iter().collect())).collect(),
            other => return Err(QueryError::internal(format!("names were asked for {}", other.kind()))),
        };
        let outer_bucket = |t: i64| if q.format == Format::Series { t.div_euclid(q.step_ms) * q.step_ms } else { 0 };
        let mut sums = BucketMap::new();
        for (key, buckets) in rows {
            // A name that does not depend on time is looked up once per
            // row, not once per bucket.
            let mut fixed = |i: usize, d: &Dim| (!d.timed()).then(|| name(d, &key[i], 0));
            let fixed_filters: Vec<Option<String>> = self.filters.iter().map(|(i, d, _)| fixed(*i, d)).collect();
            let fixed_columns: Vec<Option<String>> =
                self.columns.iter().map(|(i, d)| d.and_then(|d| fixed(*i, d))).collect();
            for (t, v) in buckets {
                let mut value = |i: usize, d: &Dim, held: &Option<String>| match held {
                    Some(n) => n.clone(),
                    None => name(d, &key[i], t),
                };
                let kept =
                    self.filters.iter().zip(&fixed_filters).all(|((i, d, f), held)| f.keeps(&value(*i, d, held)));
                if !kept {
                    continue;
                }
                let outer: Key = self
                    .columns
                    .iter()
                    .zip(&fixed_columns)
                    .map(|((i, d), held)| match d {
                        Some(d) => value(*i, d, held),
                        None => key[*i].clone(),
                    })
                    .collect();
                *sums.entry(outer).or_default().entry(outer_bucket(t)).or_default() += v;
            }
        }
        answer_plan(q, &sums)
    }
}

/// The panel's plan answered from sums per group per bucket.
fn answer_plan(q: &FlowQuery, sums: &BucketMap) -> Result<Answers, QueryError> {
    let first = first_step(q);
    let first_output = run(&first, sums);
    let mut pairs = vec![(first.clone(), first_output.clone())];
    for step in follow_up(q, &first_output) {
        let output = run(&step, sums);
        pairs.push((step, output));
    }
    Answers::of(pairs)
}

/// One step answered from sums per group per bucket.
fn run(step: &Step, sums: &BucketMap) -> StepOutput {
    let whole = |buckets: &BTreeMap<i64, Value>| buckets.values().sum::<Value>();
    match step {
        Step::Total => StepOutput::Total(sums.values().map(whole).sum()),
        Step::Rank { limit } => {
            let mut ranked: Vec<(Key, Value)> =
                sums.iter().map(|(k, b)| (k.clone(), whole(b))).filter(|(_, v)| *v > 0).collect();
            ranked.sort_by(|(ka, a), (kb, b)| b.cmp(a).then_with(|| natural_keys(ka, kb)));
            ranked.truncate(*limit);
            StepOutput::Ranked(ranked)
        }
        Step::Buckets { grouped: true, keys } => StepOutput::Buckets(match keys {
            Some(keys) => keys.iter().filter_map(|k| sums.get(k).map(|b| (k.clone(), b.clone()))).collect(),
            None => sums.clone(),
        }),
        Step::Buckets { grouped: false, .. } => {
            let mut total: BTreeMap<i64, Value> = BTreeMap::new();
            for buckets in sums.values() {
                for (t, v) in buckets {
                    *total.entry(*t).or_default() += v;
                }
            }
            StepOutput::Buckets(if total.is_empty() { BucketMap::new() } else { [(Vec::new(), total)].into() })
        }
        Step::Records { .. } | Step::Raw | Step::Streams { .. } => StepOutput::Ranked(Vec::new()),
    }
}
