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
//! ```
#![allow(dead_code)] // each test crate uses a different part

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

/// Parses a whole query; `Err` says where and what was not in the subset.
pub fn parse(text: &str) -> Result<Query, String> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    let q = if p.peek_char() == Some('{') { Query::Log(p.log_expr(false)?.0) } else { Query::Metric(p.metric()?) };
    p.ws();
    if p.i != text.len() {
        return Err(p.error("end of query"));
    }
    Ok(q)
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, wanted: &str) -> String {
        let near: String = self.rest().chars().take(30).collect();
        format!("parse error at col {}: expected {wanted}, found {near:?}", self.i + 1)
    }

    fn ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.i = self.s.len() - trimmed.len();
    }

    /// Eats `token` (after white space) if it is next.
    fn eat(&mut self, token: &str) -> bool {
        self.ws();
        if self.rest().starts_with(token) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    /// Eats a keyword: `word` not followed by an identifier character.
    fn keyword(&mut self, word: &str) -> bool {
        self.ws();
        let after = self.rest().strip_prefix(word);
        if after.is_some_and(|a| !a.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("{token:?}")))
        }
    }

    /// A label name: `[a-zA-Z_][a-zA-Z0-9_]*` (Prometheus label names).
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        let len = self
            .rest()
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit())))
            .map_or(self.rest().len(), |(i, _)| i);
        if len == 0 {
            return Err(self.error("a label name"));
        }
        let name = self.rest()[..len].to_string();
        self.i += len;
        Ok(name)
    }

    /// A string literal: Go's `"…"` (strconv.Unquote: `lex.go` unquotes
    /// every string token) or a raw `` `…` ``.
    fn string(&mut self) -> Result<String, String> {
        self.ws();
        let (value, len) = unquote(self.rest()).map_err(|why| format!("{}: {why}", self.error("a string")))?;
        self.i += len;
        Ok(value)
    }

    /// A number literal (a float; no duration or bytes units).
    fn number(&mut self) -> Result<f64, String> {
        self.ws();
        let len = self
            .rest()
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
            .map_or(self.rest().len(), |(i, _)| i);
        let text = &self.rest()[..len];
        let value: f64 = text.parse().map_err(|_| self.error("a number"))?;
        if self.rest()[len..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.error("a number without a unit (durations and bytes are outside the subset)"));
        }
        self.i += len;
        Ok(value)
    }

    fn metric(&mut self) -> Result<MetricExpr, String> {
        let count = self.keyword("count");
        if count || self.keyword("sum") {
            let by = if self.keyword("by") {
                self.expect("(")?;
                let mut names = vec![self.ident()?];
                while self.eat(",") {
                    names.push(self.ident()?);
                }
                self.expect(")")?;
                Some(names)
            } else {
                None
            };
            self.expect("(")?;
            let inner = self.metric()?;
            self.expect(")")?;
            return Ok(MetricExpr::Sum { by, inner: Box::new(inner), count });
        }
        if self.keyword("topk") {
            self.expect("(")?;
            let k = self.number()?;
            if k.fract() != 0.0 || k < 1.0 {
                return Err(self.error("a whole k"));
            }
            self.expect(",")?;
            let inner = self.metric()?;
            self.expect(")")?;
            return Ok(MetricExpr::TopK { k: k as usize, inner: Box::new(inner) });
        }
        let func = if self.keyword("count_over_time") {
            RangeFn::Count
        } else if self.keyword("sum_over_time") {
            RangeFn::Sum
        } else {
            return Err(self.error("sum, count, topk, count_over_time or sum_over_time"));
        };
        self.expect("(")?;
        let matchers = self.selector()?;
        // `selector RANGE offsetExpr pipelineExpr unwrapExpr` (syntax.y).
        self.expect("[")?;
        let close = self.rest().find(']').ok_or_else(|| self.error("]"))?;
        let range_ns = prometheus_duration(&self.rest()[..close]).map_err(|e| self.error(&e))?;
        self.i += close + 1;
        let offset_ns = if self.keyword("offset") { self.offset()? } else { 0 };
        let (stages, unwrap_next) = self.stages(true)?;
        let mut unwrap = None;
        let mut post = Vec::new();
        if unwrap_next {
            unwrap = Some(self.ident()?);
            while self.eat("|") {
                post.push(self.filter()?);
            }
        }
        if func == RangeFn::Sum && unwrap.is_none() {
            return Err(self.error("| unwrap (sum_over_time needs one)"));
        }
        if func == RangeFn::Count && unwrap.is_some() {
            return Err("count_over_time does not take unwrap".into());
        }
        self.expect(")")?;
        Ok(MetricExpr::Range(RangeAgg { func, log: LogExpr { matchers, stages }, range_ns, offset_ns, unwrap, post }))
    }

    /// `offset` takes a Prometheus duration or, failing that, Go's
    /// `time.ParseDuration` (`lex.go`), so `1ns` is valid.
    fn offset(&mut self) -> Result<i64, String> {
        self.ws();
        let len = self.rest().find(|c: char| !(c.is_alphanumeric() || c == '.')).unwrap_or(self.rest().len());
        let text = &self.rest()[..len];
        let ns = prometheus_duration(text).or_else(|_| go_duration(text)).map_err(|e| self.error(&e))?;
        self.i += len;
        Ok(ns)
    }

    fn log_expr(&mut self, metric: bool) -> Result<(LogExpr, bool), String> {
        let matchers = self.selector()?;
        let (stages, unwrap) = self.stages(metric)?;
        Ok((LogExpr { matchers, stages }, unwrap))
    }

    fn selector(&mut self) -> Result<Vec<Matcher>, String> {
        self.expect("{")?;
        let mut matchers = Vec::new();
        loop {
            let name = self.ident()?;
            let op = self.str_op().ok_or_else(|| self.error("=, !=, =~ or !~"))?;
            let value = self.string()?;
            let re = anchored_regex(op, &value)?;
            matchers.push(Matcher { name, op, value, re });
            if !self.eat(",") {
                break;
            }
        }
        self.expect("}")?;
        Ok(matchers)
    }

    fn str_op(&mut self) -> Option<StrOp> {
        for (token, op) in [("=~", StrOp::Re), ("!~", StrOp::NotRe), ("!=", StrOp::Ne), ("=", StrOp::Eq)] {
            if self.eat(token) {
                return Some(op);
            }
        }
        None
    }

    /// The stages; `true` when they stopped at `| unwrap` (metric only).
    fn stages(&mut self, metric: bool) -> Result<(Vec<Stage>, bool), String> {
        let mut stages = Vec::new();
        loop {
            let line = [("|=", false, false), ("!=", true, false), ("|~", false, true), ("!~", true, true)]
                .into_iter()
                .find(|(token, ..)| self.eat(token));
            if let Some((_, negated, regex)) = line {
                let s = self.string()?;
                let needle = if regex {
                    Needle::Re(Regex::new(&s).map_err(|e| format!("bad line regex {s:?}: {e}"))?)
                } else {
                    Needle::Text(s)
                };
                stages.push(Stage::Line { negated, needle });
                continue;
            }
            if !self.eat("|") {
                return Ok((stages, false));
            }
            if self.keyword("unwrap") {
                return if metric { Ok((stages, true)) } else { Err("unwrap outside a range aggregation".into()) };
            }
            let stage = if self.keyword("pattern") {
                Stage::Pattern(pattern(&self.string()?)?)
            } else if self.keyword("json") {
                let params = self.params()?;
                let params = params.into_iter().map(|(l, e)| Ok((l, json_path(&e)?))).collect::<Result<_, String>>()?;
                Stage::Json(params)
            } else if self.keyword("logfmt") {
                Stage::Logfmt(self.params()?)
            } else {
                Stage::Filter(self.filter()?)
            };
            stages.push(stage);
        }
    }

    /// `label="expression", …` (at least one: a parser without parameters
    /// is outside the subset).
    fn params(&mut self) -> Result<Vec<(String, String)>, String> {
        let mut params = Vec::new();
        loop {
            let label = self.ident()?;
            self.expect("=")?;
            params.push((label, self.string()?));
            if !self.eat(",") {
                return Ok(params);
            }
        }
    }

    fn filter(&mut self) -> Result<LabelFilter, String> {
        let mut left = self.and_filter()?;
        while self.keyword("or") {
            left = LabelFilter::Or(Box::new(left), Box::new(self.and_filter()?));
        }
        Ok(left)
    }

    fn and_filter(&mut self) -> Result<LabelFilter, String> {
        let mut left = self.primary_filter()?;
        while self.keyword("and") || self.eat(",") {
            left = LabelFilter::And(Box::new(left), Box::new(self.primary_filter()?));
        }
        Ok(left)
    }

    fn primary_filter(&mut self) -> Result<LabelFilter, String> {
        if self.eat("(") {
            let inner = self.filter()?;
            self.expect(")")?;
            return Ok(inner);
        }
        let name = self.ident()?;
        for (token, op) in [(">=", NumOp::Ge), ("<=", NumOp::Le), (">", NumOp::Gt), ("<", NumOp::Lt), ("==", NumOp::Eq)]
        {
            if self.eat(token) {
                return Ok(LabelFilter::Num { name, op, value: self.number()? });
            }
        }
        let op = self.str_op().ok_or_else(|| self.error("a label filter operator"))?;
        self.ws();
        if matches!(op, StrOp::Eq | StrOp::Ne) && self.keyword("ip") {
            self.expect("(")?;
            let pattern = self.string()?;
            self.expect(")")?;
            return Ok(LabelFilter::Ip { name, negated: op == StrOp::Ne, pattern });
        }
        if matches!(op, StrOp::Eq | StrOp::Ne) && self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
            let value = self.number()?;
            return Ok(LabelFilter::Num { name, op: if op == StrOp::Eq { NumOp::Eq } else { NumOp::Ne }, value });
        }
        let value = self.string()?;
        let re = anchored_regex(op, &value)?;
        Ok(LabelFilter::Str { name, op, value, re })
    }
}

/// `=~`/`!~` regexes match whole values (Prometheus matchers; Loki's label
/// filters too, `log/label_filter.go` via `labels.NewMatcher`).
fn anchored_regex(op: StrOp, value: &str) -> Result<Option<Regex>, String> {
    match op {
        StrOp::Re | StrOp::NotRe => {
            Regex::new(&format!("^(?:{value})$")).map(Some).map_err(|e| format!("bad regex {value:?}: {e}"))
        }
        _ => Ok(None),
    }
}

/// Loki's pattern syntax (docs: log queries, "Pattern"): `<name>` captures,
/// `<_>` skips, anything else is literal; two captures may not be adjacent
/// and at least one must be named (`log/pattern`, `ErrNoCapture`).
fn pattern(text: &str) -> Result<Vec<PatternPart>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(capture) = rest
            .strip_prefix('<')
            .and_then(|r| r.split_once('>'))
            .filter(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            let (name, after) = capture;
            if matches!(parts.last(), Some(PatternPart::Capture(_))) {
                return Err(format!("pattern {text:?}: consecutive captures"));
            }
            parts.push(PatternPart::Capture((name != "_").then(|| name.to_string())));
            rest = after;
        } else {
            let c = rest.chars().next().expect("not empty");
            match parts.last_mut() {
                Some(PatternPart::Literal(l)) => l.push(c),
                _ => parts.push(PatternPart::Literal(c.to_string())),
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    if !parts.iter().any(|p| matches!(p, PatternPart::Capture(Some(_)))) {
        return Err(format!("pattern {text:?}: at least one capture is required"));
    }
    Ok(parts)
}

/// A json parameter's expression (`log/jsonexpr`): `a.b`, `a["b c"]`,
/// `["b c"]`; array indices are outside the subset.
fn json_path(expr: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut rest = expr;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[\"") {
            let end = after.find("\"]").ok_or_else(|| format!("json expression {expr:?}: unclosed [\""))?;
            keys.push(after[..end].to_string());
            rest = &after[end + 2..];
        } else {
            let after = rest.strip_prefix('.').unwrap_or(rest);
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("json expression {expr:?}: bad key {key:?}"));
            }
            keys.push(key.to_string());
            rest = &after[end..];
        }
    }
    if keys.is_empty() {
        return Err(format!("json expression {expr:?} is empty"));
    }
    Ok(keys)
}

/// Go's `strconv.Unquote` of the literal at the start of `text`: the value
/// and the literal's length. `"…"` takes `\a \b \f \n \r \t \v \\ \"`,
/// `\xHH`, `\OOO`, `\uHHHH`, `\UHHHHHHHH` (not `\'`), and no raw newline;
/// `` `…` `` takes everything up to the next backtick.
pub fn unquote(text: &str) -> Result<(String, usize), String> {
    if let Some(raw) = text.strip_prefix('`') {
        let end = raw.find('`').ok_or("unterminated raw string")?;
        return Ok((raw[..end].to_string(), end + 2));
    }
    let body = text.strip_prefix('"').ok_or("not a string literal")?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 2)),
            '\n' => return Err("newline in string".into()),
            '\\' => {
                let (_, e) = chars.next().ok_or("unterminated string")?;
                let mut hex = |n: usize| -> Result<u32, String> {
                    let digits: String = (0..n).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                    u32::from_str_radix(&digits, 16).map_err(|_| format!("bad \\{e} escape"))
                };
                let code = match e {
                    'a' => 7,
                    'b' => 8,
                    'f' => 12,
                    'n' => 10,
                    'r' => 13,
                    't' => 9,
                    'v' => 11,
                    '\\' => 92,
                    '"' => 34,
                    'x' => hex(2)?,
                    'u' => hex(4)?,
                    'U' => hex(8)?,
                    '0'..='7' => {
                        let more: String = (0..2).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                        u32::from_str_radix(&format!("{e}{more}"), 8).map_err(|_| "bad octal escape")?
                    }
                    other => return Err(format!("unknown escape \\{other}")),
                };
                out.push(char::from_u32(code).ok_or("escape is no character")?);
            }
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

/// Prometheus' `model.ParseDuration` (what `[range]` takes): units `y w d
/// h m s ms`, each at most once, largest first, whole numbers.
pub fn prometheus_duration(text: &str) -> Result<i64, String> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    if text == "0" {
        return Ok(0);
    }
    let mut rest = text;
    let mut ms = 0i64;
    let mut last = None;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let n: i64 = rest[..digits].parse().map_err(|_| format!("not a Prometheus duration: {text:?}"))?;
        rest = &rest[digits..];
        let unit = ["ms", "y", "w", "d", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u))
            .ok_or_else(|| format!("not a Prometheus duration: {text:?}"))?;
        let index = UNITS.iter().position(|(u, _)| *u == unit).expect("a unit");
        if last.is_some_and(|l| index <= l) {
            return Err(format!("not a Prometheus duration: {text:?}"));
        }
        last = Some(index);
        ms += n * UNITS[index].1;
        rest = &rest[unit.len()..];
    }
    if last.is_none() {
        return Err(format!("not a Prometheus duration: {text:?}"));
    }
    Ok(ms * 1_000_000)
}

/// Go's `time.ParseDuration` for whole numbers: `ns us µs ms s m h`.
pub fn go_duration(text: &str) -> Result<i64, String> {
    let mut rest = text;
    let mut ns = 0i64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let n: i64 = rest[..digits].parse().map_err(|_| format!("not a Go duration: {text:?}"))?;
        rest = &rest[digits..];
        let (unit, size) = [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)]
            .into_iter()
            .chain([("m", 60_000_000_000), ("h", 3_600_000_000_000)])
            .find(|(u, _)| rest.starts_with(u))
            .ok_or_else(|| format!("not a Go duration: {text:?}"))?;
        ns += n * size;
        rest = &rest[unit.len()..];
    }
    if text.is_empty() {
        return Err("empty duration".into());
    }
    Ok(ns)
}
