//! Plans: which backend-neutral steps answer a [`FlowQuery`], and the shapes
//! of their results. Pure. Exact top-N is a two-step plan: rank the groups
//! over the whole range, then fetch buckets for exactly those keys, because
//! ranking per bucket (what `topk` in a range query and VictoriaLogs'
//! `stats_query_range` do) gives more than N series.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::error::QueryError;
use crate::model::{FlowQuery, Format};

/// One request to the backend, before rendering into a dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The metric over the whole range.
    Total,
    /// The metric per group over the whole range, largest first, at most
    /// `limit` groups (ties broken by key, ascending).
    Rank {
        /// Maximum groups.
        limit: usize,
    },
    /// The metric per bucket of `FlowQuery::step_ms`, per group. `keys`
    /// restricts the groups (from a previous `Rank`); `grouped: false` sums
    /// every group together (for totals and `other`).
    Buckets {
        /// Group by the query's `groupBy` fields or not at all.
        grouped: bool,
        /// Only these group keys.
        keys: Option<Vec<Vec<String>>>,
    },
    /// Raw records, newest first.
    Records {
        /// Maximum records.
        limit: usize,
    },
    /// The user's hand-written query, as is.
    Raw,
    /// The streams that hold the most records, over every stream (not only
    /// the selector's): for the health check's hint.
    Streams {
        /// Maximum streams.
        limit: usize,
    },
}

impl Step {
    /// The question this step answers within a panel query: what the
    /// frames stage asks [`Answers`] for.
    pub fn question(&self) -> Question {
        match self {
            Self::Total => Question::Total,
            Self::Rank { .. } => Question::Ranking,
            Self::Buckets { grouped: true, .. } => Question::GroupBuckets,
            Self::Buckets { grouped: false, .. } => Question::TotalBuckets,
            Self::Records { .. } => Question::Records,
            Self::Raw => Question::Raw,
            Self::Streams { .. } => Question::Streams,
        }
    }
}

/// What a step's answer means to the panel: the key of [`Answers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Question {
    /// The metric over the whole range, over every group ([`Step::Total`]):
    /// a stat, or the total a table's `other` and shares are of.
    Total,
    /// The groups ranked over the whole range ([`Step::Rank`]).
    Ranking,
    /// The ranked groups per bucket ([`Step::Buckets`], grouped).
    GroupBuckets,
    /// Every group together per bucket ([`Step::Buckets`], ungrouped): an
    /// ungrouped series, or the total a series' `other` and shares are of.
    TotalBuckets,
    /// Raw records ([`Step::Records`]).
    Records,
    /// A hand-written query's rows or series ([`Step::Raw`]).
    Raw,
    /// The busiest streams ([`Step::Streams`]; no panel asks it).
    Streams,
}

impl Question {
    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Total => "the total",
            Self::Ranking => "the ranking",
            Self::GroupBuckets => "the ranked groups' buckets",
            Self::TotalBuckets => "the total's buckets",
            Self::Records => "the records",
            Self::Raw => "the hand-written query",
            Self::Streams => "the streams",
        }
    }
}

/// A value of a builder metric: an additive whole number (a sum of bytes
/// or packets, a count of records, a count of distinct values), 8 bytes
/// wherever it is held: step outputs, bucket maps, the reuse cache,
/// merged Loki answers. The parts of a sum add up to it, which is what lets
/// `reuse/` rebuild totals and rankings from cached buckets and Loki's
/// answers be split and added. A float statistic (an average, a percentile)
/// does not widen this type (an enum of both would double every bucket
/// map); it gets outputs of its own (ARCHITECTURE.md, "Values").
pub type Value = u64;

/// A group key: the group-by values in `groupBy` order.
pub type Key = Vec<String>;

/// A labelled series of (time ms, value) points, from a hand-written query.
pub type LabelledSeries = (BTreeMap<String, String>, Vec<(i64, f64)>);

/// The answer to one step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutput {
    /// For [`Step::Total`].
    Total(Value),
    /// For [`Step::Rank`], ordered; for [`Step::Streams`], keyed by the stream.
    Ranked(Vec<(Key, Value)>),
    /// For [`Step::Buckets`]: key -> bucket start (ms) -> value. Buckets
    /// with no records are absent here and filled with 0 by the frames stage.
    Buckets(BucketMap),
    /// For [`Step::Records`].
    Records(Vec<Record>),
    /// For [`Step::Raw`]: rows of fields as the backend returned them, as
    /// columns.
    Rows(Columns),
    /// For [`Step::Raw`] as series: labels -> (time ms, value) points.
    Series(Vec<LabelledSeries>),
}

/// Per group key, per bucket start (ms): the metric, as a
/// [`StepOutput::Buckets`] holds it.
pub type BucketMap = BTreeMap<Key, BTreeMap<i64, Value>>;

/// A hand-written query's answer: rows, or labelled series.
#[derive(Debug, Clone, PartialEq)]
pub enum RawAnswer {
    /// Rows of fields ([`StepOutput::Rows`]).
    Rows(Columns),
    /// Labelled series ([`StepOutput::Series`]).
    Series(Vec<LabelledSeries>),
}

/// A panel query's answers, keyed by the question each step answers
/// ([`Step::question`]), not by the order the steps ran in. The frames
/// stage takes what its panel needs by name; an answer of the wrong kind or
/// a second answer to one question is refused when pushed, and what no
/// frame took is reported by [`Answers::unused`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    total: Option<Value>,
    ranking: Option<Vec<(Key, Value)>>,
    group_buckets: Option<BucketMap>,
    total_buckets: Option<BucketMap>,
    records: Option<Vec<Record>>,
    raw: Option<RawAnswer>,
}

impl Answers {
    /// No answers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers from (step, output) pairs, in any order.
    pub fn of(pairs: impl IntoIterator<Item = (Step, StepOutput)>) -> Result<Self, QueryError> {
        let mut answers = Self::new();
        for (step, output) in pairs {
            answers.push(&step, output)?;
        }
        Ok(answers)
    }

    /// Keeps `output` as the answer to `step`'s question. An output of
    /// another kind than the step asks for, a second answer to the same
    /// question, or a question no panel asks is an internal error.
    pub fn push(&mut self, step: &Step, output: StepOutput) -> Result<(), QueryError> {
        let question = step.question();
        fn put<T>(slot: &mut Option<T>, value: T, question: Question) -> Result<(), QueryError> {
            if slot.is_some() {
                return Err(QueryError::internal(format!("{} was answered twice", question.describe())));
            }
            *slot = Some(value);
            Ok(())
        }
        match (question, output) {
            (Question::Total, StepOutput::Total(v)) => put(&mut self.total, v, question),
            (Question::Ranking, StepOutput::Ranked(r)) => put(&mut self.ranking, r, question),
            (Question::GroupBuckets, StepOutput::Buckets(b)) => put(&mut self.group_buckets, b, question),
            (Question::TotalBuckets, StepOutput::Buckets(b)) => put(&mut self.total_buckets, b, question),
            (Question::Records, StepOutput::Records(r)) => put(&mut self.records, r, question),
            (Question::Raw, StepOutput::Rows(c)) => put(&mut self.raw, RawAnswer::Rows(c), question),
            (Question::Raw, StepOutput::Series(s)) => put(&mut self.raw, RawAnswer::Series(s), question),
            (question, output) => {
                Err(QueryError::internal(format!("{} was answered with {}", question.describe(), output.kind())))
            }
        }
    }

    /// Takes the total over the whole range.
    pub fn take_total(&mut self) -> Option<Value> {
        self.total.take()
    }

    /// Takes the ranking.
    pub fn take_ranking(&mut self) -> Option<Vec<(Key, Value)>> {
        self.ranking.take()
    }

    /// Takes the ranked groups' buckets.
    pub fn take_group_buckets(&mut self) -> Option<BucketMap> {
        self.group_buckets.take()
    }

    /// Takes the buckets of every group together (keyed by the empty key).
    pub fn take_total_buckets(&mut self) -> Option<BucketMap> {
        self.total_buckets.take()
    }

    /// Takes the raw records.
    pub fn take_records(&mut self) -> Option<Vec<Record>> {
        self.records.take()
    }

    /// Takes a hand-written query's answer.
    pub fn take_raw(&mut self) -> Option<RawAnswer> {
        self.raw.take()
    }

    /// The first question answered but not taken, if any.
    pub fn unused(&self) -> Option<Question> {
        [
            (self.total.is_some(), Question::Total),
            (self.ranking.is_some(), Question::Ranking),
            (self.group_buckets.is_some(), Question::GroupBuckets),
            (self.total_buckets.is_some(), Question::TotalBuckets),
            (self.records.is_some(), Question::Records),
            (self.raw.is_some(), Question::Raw),
        ]
        .into_iter()
        .find_map(|(held, q)| held.then_some(q))
    }
}

/// An error for an answer the panel needs that its plan did not produce.
pub fn missing(question: Question) -> QueryError {
    QueryError::internal(format!("{} was not answered", question.describe()))
}

impl StepOutput {
    /// What kind of answer it is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Total(_) => "a total",
            Self::Ranked(_) => "a ranking",
            Self::Buckets(_) => "buckets",
            Self::Records(_) => "records",
            Self::Rows(_) => "rows",
            Self::Series(_) => "series",
        }
    }
}

/// Rows of a hand-written query held as columns, filled as each row
/// arrives (no row is kept as a map): names in order of first appearance,
/// one value per row in every column, `None` where a row has no such field
/// or its value is null; other values as text (JSON numbers and booleans as
/// they were written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    names: Vec<String>,
    values: Vec<Vec<Option<String>>>,
    index: std::collections::HashMap<String, usize>,
    rows: usize,
}

impl Columns {
    /// Adds one row of (field, value) pairs: a field not seen before becomes
    /// a new column, null in the rows before; a field the row lacks is null.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = (String, serde_json::Value)>) {
        for (name, value) in row {
            let i = match self.index.get(&name) {
                Some(&i) => i,
                None => {
                    let i = self.names.len();
                    self.index.insert(name.clone(), i);
                    self.names.push(name);
                    self.values.push(vec![None; self.rows]);
                    i
                }
            };
            let column = &mut self.values[i];
            // A field twice in one row: the last value, as a JSON map keeps.
            column.truncate(self.rows);
            column.push(text(value));
        }
        self.rows += 1;
        for column in &mut self.values {
            column.resize(self.rows, None);
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The columns, (name, one value per row), in order of first appearance.
    pub fn into_columns(self) -> impl Iterator<Item = (String, Vec<Option<String>>)> {
        self.names.into_iter().zip(self.values)
    }
}

/// A row's value as a column holds it.
fn text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        v => Some(v.to_string()),
    }
}

/// One raw flow record for the logs view.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Timestamp in ns.
    pub time_ns: i64,
    /// The log line.
    pub body: String,
    /// Stream labels and parsed fields.
    pub labels: Labels,
}

/// A record's labels (stream labels and parsed fields) as the one JSON
/// object the logs frame sends, keys sorted: one allocation per record
/// instead of a map of strings (10,000 records of 25 labels: about 7 MiB
/// instead of about 30).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels(Box<[u8]>);

impl Labels {
    /// Labels from name-value pairs; a later value of a name wins.
    pub fn new<K: Ord + serde::Serialize, V: serde::Serialize>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self::from(&pairs.into_iter().collect::<BTreeMap<K, V>>())
    }

    /// The JSON object.
    pub fn into_json(self) -> Vec<u8> {
        self.0.into_vec()
    }

    /// The labels as a map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        serde_json::from_slice(&self.0).expect("labels are a JSON object of strings")
    }
}

impl<K: serde::Serialize, V: serde::Serialize> From<&BTreeMap<K, V>> for Labels {
    fn from(map: &BTreeMap<K, V>) -> Self {
        Self(serde_json::to_vec(map).expect("labels serialize").into_boxed_slice())
    }
}

/// The first step of a query's plan. Later steps depend on its result (see
/// [`follow_up`]).
pub fn first_step(q: &FlowQuery) -> Step {
    if q.raw_query.is_some() {
        return Step::Raw;
    }
    match (q.format, q.group_by.is_empty()) {
        (Format::Stat, _) | (Format::Table | Format::Nodegraph, true) => Step::Total,
        (Format::Table | Format::Nodegraph, false) => Step::Rank { limit: q.limit.unwrap_or(usize::MAX) },
        (Format::Series, true) => Step::Buckets { grouped: false, keys: None },
        (Format::Series, false) => Step::Rank { limit: q.limit.unwrap_or(usize::MAX) },
        (Format::Logs, _) => Step::Records { limit: q.limit.unwrap_or(crate::model::LOGS_LIMIT.0) },
    }
}

/// A follow-up step that does not depend on the first step's answer, so it
/// can be asked alongside it: the total per bucket a ranked series' `other`
/// is of (the same question as the refresh's ungrouped series, with which
/// it then shares a scan or a request in flight). [`follow_up`] lists it
/// too, when the ranking found groups.
pub fn alongside(q: &FlowQuery) -> Option<Step> {
    (q.format == Format::Series && !q.group_by.is_empty() && q.other && q.raw_query.is_none())
        .then_some(Step::Buckets { grouped: false, keys: None })
}

/// The steps that follow the first one, given its output: the series of the
/// top keys, and the totals that `other` is computed from.
pub fn follow_up(q: &FlowQuery, first: &StepOutput) -> Vec<Step> {
    let StepOutput::Ranked(ranked) = first else { return Vec::new() };
    let mut steps = Vec::new();
    // Fewer groups than the limit are every group: their sum is the total
    // a share is of.
    let some_groups = q.limit.is_some_and(|n| ranked.len() >= n);
    if q.format == Format::Series {
        if ranked.is_empty() {
            return steps;
        }
        steps.push(Step::Buckets { grouped: true, keys: Some(ranked.iter().map(|(k, _)| k.clone()).collect()) });
        if q.other || (q.share && some_groups) {
            steps.push(Step::Buckets { grouped: false, keys: None });
        }
    } else if (q.other || q.share) && some_groups {
        steps.push(Step::Total);
    }
    steps
}

/// Keys compared value by value with [`natural`]: the order of ties in
/// every ranking, whichever backend answered.
pub fn natural_keys(a: &[String], b: &[String]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| natural(x, y)).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Two numbers compare numerically, two IPv4 addresses numerically,
/// anything else byte-wise.
pub fn natural(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<u64>(), b.parse::<u64>()) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
        return x.cmp(&y);
    }
    a.as_bytes().cmp(b.as_bytes())
}
