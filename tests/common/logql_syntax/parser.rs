//! The hand-written parser of the subset (the grammar in `logql_syntax.rs`).

use regex::Regex;

use super::literals::{anchored_regex, go_duration, json_path, pattern, prometheus_duration, unquote};
use super::{LabelFilter, LogExpr, Matcher, MetricExpr, Needle, NumOp, Query, RangeAgg, RangeFn, Stage, StrOp};

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
