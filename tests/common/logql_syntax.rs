//! The LogQL subset that `src/backends/loki/logql/` emits, parsed from its text
//! by hand for the test model (`logql_model.rs`), written from Loki's
//! documentation (<https://grafana.com/docs/loki/latest/query/>) and its
//! grammar (`pkg/logql/syntax/syntax.y`, `lex.go`), not from the dialect's
//! code. Anything outside the subset is a parse error, so the model never
//! silently accepts a query it does not understand.
//!
//! ```text
//! query   = metric | log
//! metric  = ("sum" | "count") ["by" "(" names ")"] "(" metric ")" | "topk" "(" int "," metric ")"
//!         | ("count_over_time" | "sum_over_time") "(" selector "[" range "]" ["offset" dur]
//!             stages ["|" "unwrap" name {"|" filter}] ")"
//! log     = selector stages
//! stages  = { ("|=" | "!=" | "|~" | "!~") string
//!           | "|" ("pattern" string | "json" params | "logfmt" params | filter) }
//! filter  = and {"or" and};  and = primary {("and" | ",") primary}
//! primary = "(" filter ")" | name ("=" | "!=" | "=~" | "!~") string
//!         | name ("=" | "!=") "ip(" string ")" | name ("==" | "=" | "!=" | ">" | ">=" | "<" | "<=") number
//! ```//!
//! `parser.rs` reads a query into the types below; `literals.rs` reads
//! what sits inside it (strings as Go unquotes them, durations, patterns,
//! JSON paths, anchored regexes).
#![allow(dead_code)] // each test crate uses a different part

mod literals;
mod parser;

#[allow(unused_imports)] // each test crate uses a different part
pub use literals::{go_duration, prometheus_duration, unquote};
pub use parser::parse;

use regex::Regex;

/// A parsed query.
#[derive(Debug, Clone)]
pub enum Query {
    Log(LogExpr),
    Metric(MetricExpr),
}

/// A stream selector and its pipeline.
#[derive(Debug, Clone)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
}

/// A stream matcher; regexes are anchored (Prometheus label matchers).
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: StrOp,
    pub value: String,
    pub re: Option<Regex>,
}

impl Matcher {
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            StrOp::Eq => v == self.value,
            StrOp::Ne => v != self.value,
            StrOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            StrOp::NotRe => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

/// A pipeline stage.
#[derive(Debug, Clone)]
pub enum Stage {
    /// `|= "s"`, `!= "s"` (substring), `|~ "re"`, `!~ "re"` (unanchored).
    Line {
        negated: bool,
        needle: Needle,
    },
    /// `pattern "<_> <a> …"`: literals and captures (`None` for `<_>`).
    Pattern(Vec<PatternPart>),
    /// `json label="path"`: the path as keys.
    Json(Vec<(String, Vec<String>)>),
    /// `logfmt label="key"`.
    Logfmt(Vec<(String, String)>),
    Filter(LabelFilter),
}

#[derive(Debug, Clone)]
pub enum Needle {
    Text(String),
    Re(Regex),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternPart {
    Literal(String),
    Capture(Option<String>),
}

/// A label filter expression.
#[derive(Debug, Clone)]
pub enum LabelFilter {
    Str { name: String, op: StrOp, value: String, re: Option<Regex> },
    Ip { name: String, negated: bool, pattern: String },
    Num { name: String, op: NumOp, value: f64 },
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A metric query.
#[derive(Debug, Clone)]
pub enum MetricExpr {
    Range(RangeAgg),
    /// `sum [by (…)] (…)`, or with `count` `count [by (…)] (…)` (each
    /// series counts 1); `None`: no grouping (one series, no labels).
    Sum {
        by: Option<Vec<String>>,
        inner: Box<MetricExpr>,
        count: bool,
    },
    TopK {
        k: usize,
        inner: Box<MetricExpr>,
    },
}

impl MetricExpr {
    /// The range aggregation at the bottom.
    pub fn range(&self) -> &RangeAgg {
        match self {
            MetricExpr::Range(r) => r,
            MetricExpr::Sum { inner, .. } | MetricExpr::TopK { inner, .. } => inner.range(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    Count,
    Sum,
}

/// `fn({…} [range] offset d | stages | unwrap l | post)`.
#[derive(Debug, Clone)]
pub struct RangeAgg {
    pub func: RangeFn,
    pub log: LogExpr,
    pub range_ns: i64,
    pub offset_ns: i64,
    pub unwrap: Option<String>,
    /// Label filters after `unwrap` (e.g. `__error__=""`).
    pub post: Vec<LabelFilter>,
}
