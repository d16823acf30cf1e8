//! Stream selectors (`{logtype="flow", environment=~"ops|prod"}`), parsed once
//! from settings into label matchers so each dialect renders them with its own
//! quoting. The syntax is the one Loki and VictoriaLogs share. Pure.

use std::fmt;

/// How a label matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~`
    Re,
    /// `!~`
    NotRe,
}

impl MatchOp {
    /// The operator as written in a selector.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Re => "=~",
            Self::NotRe => "!~",
        }
    }
}

/// One `label op "value"` of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// Label name (`[A-Za-z_][A-Za-z0-9_]*`).
    pub label: String,
    /// Comparison.
    pub op: MatchOp,
    /// Unquoted value.
    pub value: String,
}

/// A parsed stream selector; empty means every stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSelector {
    /// The matchers, in the order written.
    pub matchers: Vec<Matcher>,
}

/// Why a selector did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stream selector: {0}")]
pub struct SelectorError(String);

impl StreamSelector {
    /// Parses `{label="value", ...}`; an empty string or `{}` selects all
    /// streams.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::default());
        }
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(|| SelectorError(format!("`{text}` must be enclosed in braces, e.g. {{logtype=\"flow\"}}")))?;
        let mut rest = inner.trim_start();
        let mut matchers = Vec::new();
        while !rest.is_empty() {
            let name_len = rest
                .char_indices()
                .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
                .map_or(rest.len(), |(i, _)| i);
            if name_len == 0 {
                return Err(SelectorError(format!("expected a label name at `{rest}`")));
            }
            let label = rest[..name_len].to_string();
            rest = rest[name_len..].trim_start();
            let op = [MatchOp::Ne, MatchOp::Re, MatchOp::NotRe, MatchOp::Eq]
                .into_iter()
                .find(|op| rest.starts_with(op.as_str()))
                .ok_or_else(|| SelectorError(format!("expected =, !=, =~ or !~ after `{label}`")))?;
            rest = rest[op.as_str().len()..].trim_start();
            let (value, after) = parse_quoted(rest)
                .ok_or_else(|| SelectorError(format!("the value of `{label}` must be a quoted string")))?;
            if matches!(op, MatchOp::Re | MatchOp::NotRe) {
                regex::Regex::new(&value)
                    .map_err(|e| SelectorError(format!("the regex of `{label}` is invalid: {e}")))?;
                if let Some(p) = crate::re2::problem(&value) {
                    return Err(SelectorError(format!("the regex of `{label}` uses {p}, which RE2 does not support")));
                }
            }
            matchers.push(Matcher { label, op, value });
            rest = after.trim_start();
            if let Some(after_comma) = rest.strip_prefix(',') {
                rest = after_comma.trim_start();
            } else if !rest.is_empty() {
                return Err(SelectorError(format!("expected `,` or `}}` at `{rest}`")));
            }
        }
        Ok(Self { matchers })
    }
}

/// Parses a double-quoted (JSON/Go escapes) or backtick-quoted string at the
/// start of `s`; returns the value and the rest.
fn parse_quoted(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('`') {
        let end = body.find('`')?;
        return Some((body[..end].to_string(), &body[end + 1..]));
    }
    let body = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => {
                let value: String = serde_json::from_str(&s[..i + 2]).ok()?;
                return Some((value, &body[i + 1..]));
            }
            _ => {}
        }
    }
    None
}

impl fmt::Display for StreamSelector {
    /// Canonical form: `{label="value", ...}` with JSON escaping.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            self.matchers.iter().map(|m| format!("{}{}{}", m.label, m.op.as_str(), quote(&m.value))).collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}

/// Quotes a value as a double-quoted string with JSON escapes, which both
/// LogsQL and LogQL (Go `strconv.Unquote`) read back unchanged.
pub fn quote(value: &str) -> String {
    serde_json::to_string(value).expect("a string always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selectors() {
        let s = StreamSelector::parse(r#"{logtype="flow", environment=~"ops|prod" ,x!=`a"b`, y!~"\\d+"}"#).unwrap();
        assert_eq!(s.matchers.len(), 4);
        assert_eq!(s.matchers[1].op, MatchOp::Re);
        assert_eq!(s.matchers[2].value, "a\"b");
        assert_eq!(s.matchers[3].value, "\\d+");
        assert_eq!(s.to_string(), r#"{logtype="flow", environment=~"ops|prod", x!="a\"b", y!~"\\d+"}"#);
        assert!(StreamSelector::parse("").unwrap().matchers.is_empty());
        assert!(StreamSelector::parse("{}").unwrap().matchers.is_empty());
    }

    #[test]
    fn rejects_bad_selectors() {
        for (text, want) in [
            ("logtype=\"flow\"", "braces"),
            ("{logtype=flow}", "quoted string"),
            ("{logtype==\"flow\"}", "quoted string"),
            ("{\"a\"=\"b\"}", "label name"),
            ("{a=\"b\" c=\"d\"}", "expected `,`"),
            ("{a=~\"(\"}", "regex"),
            ("{a=\"unterminated}", "quoted string"),
        ] {
            let e = StreamSelector::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
