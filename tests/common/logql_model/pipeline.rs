//! An entry through the stages after the selector, in Loki's order: line
//! filters, `pattern`, `json`, `logfmt`, label filters, `ip()`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::super::logql_syntax::{LabelFilter, Needle, NumOp, PatternPart, Stage, StrOp};
use super::{Entry, Labels};

/// An entry's labels while it goes through the pipeline.
pub(super) struct State<'a> {
    pub(super) labels: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    /// `__error__` (Loki's `LabelsBuilder.SetErr`).
    pub(super) error: Option<String>,
}

impl<'a> State<'a> {
    /// The labels (only `keep` when given), `__error__` among them if set.
    pub(super) fn into_labels(self, keep: Option<&[String]>) -> Labels {
        let wanted = |k: &str| keep.is_none_or(|names| names.iter().any(|n| n == k));
        let mut labels: Labels =
            self.labels.into_iter().filter(|(k, _)| wanted(k)).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if let Some(e) = self.error.filter(|_| wanted("__error__")) {
            labels.insert("__error__".into(), e);
        }
        labels
    }

    /// A parsed label: named `<name>_extracted` when a stream label already
    /// has the name (`log/parser.go`, `BaseHas` → `duplicateSuffix`).
    fn set_parsed(&mut self, stream: &Labels, name: &'a str, value: Cow<'a, str>) {
        let name =
            if stream.contains_key(name) { Cow::Owned(format!("{name}_extracted")) } else { Cow::Borrowed(name) };
        self.labels.insert(name, value);
    }

    pub(super) fn set_error(&mut self, error: &str) {
        if self.error.is_none() {
            self.error = Some(error.to_string());
        }
    }
}

/// Runs the stages left to right (Loki's pipeline order); `None` when a
/// stage drops the entry.
pub(super) fn pipeline<'a>(stream: &'a Labels, entry: &'a Entry, stages: &'a [Stage]) -> Option<State<'a>> {
    // Line filters (docs: "Line filter expression"): `|=` contains, `|~`
    // matches anywhere (RE2, unanchored); `!=`/`!~` negate. Leading ones
    // first, before any label is built (they read only the line).
    let line_holds = |negated: bool, needle: &Needle| {
        let found = match needle {
            Needle::Text(s) => entry.line.contains(s.as_str()),
            Needle::Re(re) => re.is_match(&entry.line),
        };
        found != negated
    };
    let leading = stages.iter().take_while(|s| matches!(s, Stage::Line { .. })).count();
    for stage in &stages[..leading] {
        if let Stage::Line { negated, needle } = stage {
            if !line_holds(*negated, needle) {
                return None;
            }
        }
    }
    let labels = stream.iter().chain(&entry.metadata).map(|(k, v)| (Cow::from(k.as_str()), Cow::from(v.as_str())));
    let mut state = State { labels: labels.collect(), error: None };
    for stage in &stages[leading..] {
        match stage {
            Stage::Line { negated, needle } => {
                if !line_holds(*negated, needle) {
                    return None;
                }
            }
            Stage::Pattern(parts) => {
                for (name, value) in pattern_captures(parts, &entry.line) {
                    state.set_parsed(stream, name, Cow::Borrowed(value));
                }
            }
            // `json l="path"` (docs: "JSON", with parameters): a line that is
            // no JSON object sets JSONParserErr; a path not in the line reads
            // "", strings unescaped, other values as their JSON text.
            Stage::Json(params) => match serde_json::from_str::<Value>(&entry.line) {
                Ok(v @ Value::Object(_)) => {
                    for (label, path) in params {
                        let found = path.iter().try_fold(&v, |v, key| v.get(key));
                        let text = match found {
                            None | Some(Value::Null) => String::new(),
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                        };
                        state.set_parsed(stream, label, Cow::Owned(text));
                    }
                }
                _ => state.set_error("JSONParserErr"),
            },
            // `logfmt l="key"`: every label is first set to "" (a key not in
            // the line reads ""), then from the line's pairs
            // (`log/parser.go`, `LogfmtExpressionParser.Process`).
            Stage::Logfmt(params) => {
                let pairs = logfmt_pairs(&entry.line);
                for (label, key) in params {
                    let value = pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
                    state.set_parsed(stream, label, Cow::Owned(value));
                }
            }
            Stage::Filter(f) => {
                if !filter(f, &mut state) {
                    return None;
                }
            }
        }
    }
    Some(state)
}

/// Loki's pattern matching (docs: "Pattern"; `log/pattern/pattern.go`,
/// `Matches`): a leading literal must start the line; each capture runs to
/// the next occurrence of the literal after it; a trailing capture takes
/// the rest of the line; when a literal is not found the capture before it
/// takes the rest and the later captures are not set.
pub fn pattern_captures<'a>(parts: &'a [PatternPart], line: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut rest = line;
    let mut parts = parts;
    if line.is_empty() {
        return out;
    }
    if let Some(PatternPart::Literal(l)) = parts.first() {
        match rest.strip_prefix(l.as_str()) {
            Some(after) => rest = after,
            None => return out,
        }
        parts = &parts[1..];
    }
    while let Some(PatternPart::Capture(name)) = parts.first() {
        let literal = match parts.get(1) {
            Some(PatternPart::Literal(l)) => l,
            _ => {
                out.extend(name.as_deref().map(|n| (n, rest)));
                return out;
            }
        };
        parts = &parts[2..];
        let Some(i) = rest.find(literal.as_str()) else {
            out.extend(name.as_deref().map(|n| (n, rest)));
            return out;
        };
        out.extend(name.as_deref().map(|n| (n, &rest[..i])));
        rest = &rest[i + literal.len()..];
    }
    out
}

/// A logfmt line's `key=value` pairs (go-logfmt: values bare up to a space,
/// or double-quoted with Go escapes; a key without `=` has an empty value).
pub fn logfmt_pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let key_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let key = rest[..key_end].to_string();
        rest = &rest[key_end..];
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            if after.starts_with('"') {
                match super::super::logql_syntax::unquote(after) {
                    Ok((v, len)) => {
                        value = v;
                        rest = &after[len..];
                    }
                    Err(_) => return out,
                }
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                value = after[..end].to_string();
                rest = &after[end..];
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
        rest = rest.trim_start();
    }
    out
}

/// One label filter (`log/label_filter.go`, `log/ip.go`).
pub(super) fn filter(f: &LabelFilter, state: &mut State<'_>) -> bool {
    match f {
        // `and` evaluates both sides, `or` stops at a true left side
        // (`BinaryLabelFilter.Process`).
        LabelFilter::And(a, b) => {
            let left = filter(a, state);
            let right = filter(b, state);
            left && right
        }
        LabelFilter::Or(a, b) => filter(a, state) || filter(b, state),
        // String filters compare an absent label as "" (`NewStringLabelFilter`);
        // `__error__` reads the error.
        LabelFilter::Str { name, op, value, re } => {
            let v = if name == "__error__" {
                state.error.clone().unwrap_or_default()
            } else {
                state.labels.get(name.as_str()).map(|v| v.to_string()).unwrap_or_default()
            };
            match op {
                StrOp::Eq => v == *value,
                StrOp::Ne => v != *value,
                StrOp::Re => re.as_ref().is_some_and(|r| r.is_match(&v)),
                StrOp::NotRe => !re.as_ref().is_some_and(|r| r.is_match(&v)),
            }
        }
        // Numeric filters: an absent label is false; a value that is no
        // float sets LabelFilterErr (if no error yet) and passes
        // (`NumericLabelFilter.Process`).
        LabelFilter::Num { name, op, value } => {
            let Some(raw) = state.labels.get(name.as_str()) else { return false };
            let Ok(v) = raw.parse::<f64>() else {
                state.set_error("LabelFilterErr");
                return true;
            };
            match op {
                NumOp::Eq => v == *value,
                NumOp::Ne => v != *value,
                NumOp::Gt => v > *value,
                NumOp::Ge => v >= *value,
                NumOp::Lt => v < *value,
                NumOp::Le => v <= *value,
            }
        }
        // `ip()`: true while an error is set; an absent label is false for
        // both `=` and `!=`; otherwise whether an address found in the value
        // is in the pattern (an address, a CIDR or `a-b`), negated for `!=`
        // (`IPLabelFilter.filterTy`). An invalid pattern matches nothing.
        LabelFilter::Ip { name, negated, pattern } => {
            if state.error.is_some() {
                return true;
            }
            let Some(v) = state.labels.get(name.as_str()) else { return false };
            let Some(matcher) = IpMatcher::parse(pattern) else { return false };
            matcher.found_in(v) != *negated
        }
    }
}

/// The pattern of `ip("…")`: one address, a network or a range.
#[derive(Debug, Clone, Copy)]
pub enum IpMatcher {
    Net(ipnet::IpNet),
    Range(IpAddr, IpAddr),
}

impl IpMatcher {
    pub fn parse(pattern: &str) -> Option<IpMatcher> {
        if let Ok(a) = pattern.parse::<IpAddr>() {
            return Some(IpMatcher::Range(a, a));
        }
        if let Ok(net) = pattern.parse::<ipnet::IpNet>() {
            return Some(IpMatcher::Net(net));
        }
        let (a, b) = pattern.split_once('-')?;
        let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (a.is_ipv4() == b.is_ipv4() && a <= b).then_some(IpMatcher::Range(a, b))
    }

    fn contains(&self, a: IpAddr) -> bool {
        match self {
            IpMatcher::Net(net) => net.contains(&a),
            IpMatcher::Range(lo, hi) => lo.is_ipv4() == a.is_ipv4() && *lo <= a && a <= *hi,
        }
    }

    /// Whether some address in `text` (a maximal run of address characters)
    /// is matched: Loki scans the value as it scans a line (`ipFilter.filter`).
    pub fn found_in(&self, text: &str) -> bool {
        let is_addr_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        text.split(|c: char| !is_addr_char(c)).filter_map(|run| run.parse::<IpAddr>().ok()).any(|a| self.contains(a))
    }
}
