//! What sits inside a query: string literals as Go unquotes them,
//! Prometheus and Go durations, patterns, JSON paths, anchored regexes.

use regex::Regex;

use super::{PatternPart, StrOp};

/// `=~`/`!~` regexes match whole values (Prometheus matchers; Loki's label
/// filters too, `log/label_filter.go` via `labels.NewMatcher`).
pub(super) fn anchored_regex(op: StrOp, value: &str) -> Result<Option<Regex>, String> {
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
pub(super) fn pattern(text: &str) -> Result<Vec<PatternPart>, String> {
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
pub(super) fn json_path(expr: &str) -> Result<Vec<String>, String> {
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
