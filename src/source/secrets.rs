//! A datasource's secrets, and every form a backend may quote them in,
//! taken out of text before it reaches a message or a log.

use std::sync::Arc;

use crate::settings::{Auth, Settings};

/// A datasource's secrets as they go on the wire: the password, the
/// basic-auth header's base64 `user:password`, the bearer token, the custom
/// header values. A backend or proxy may quote them back, in an error body
/// (for example vmauth's `cannot authorize request with auth tokens
/// ["http_auth:Basic ..."]) or in a successful answer that echoes the
/// request, raw, JSON-escaped or percent-encoded; every text from the
/// backend that reaches a message or a log goes through [`Secrets::scrub`].
/// Values under 4 characters (tenant ids like `7`) are left: taking them out
/// would garble every message. `Debug` never shows them.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, as characters.
    values: Arc<[Vec<char>]>,
    /// The longest in bytes.
    longest: usize,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values, <redacted>)", self.values.len())
    }
}

impl Secrets {
    /// The secrets of a datasource's settings.
    pub fn of(settings: &Settings) -> Self {
        use base64::Engine;
        let mut forms: Vec<String> = settings.headers.iter().map(|(_, v)| v.expose().to_string()).collect();
        // The rollup store's (its section may be invalid: then the
        // datasource never opens, but its secrets are still taken out).
        let rollups = crate::rollups::RollupSettings::of(settings).ok().flatten().map(|r| r.auth);
        forms.extend(settings.section_secrets.values().map(|v| v.expose().to_string()));
        for auth in std::iter::once(&settings.auth).chain(rollups.as_ref()) {
            match auth {
                Auth::None => {}
                Auth::Basic { user, password } => {
                    forms.push(password.expose().to_string());
                    let pair = format!("{user}:{}", password.expose());
                    forms.push(base64::engine::general_purpose::STANDARD.encode(pair));
                }
                Auth::Bearer(token) => forms.push(token.expose().to_string()),
            }
        }
        forms.retain(|f| f.chars().count() >= 4);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        let longest = forms.first().map_or(0, String::len);
        Self { values: forms.iter().map(|f| f.chars().collect()).collect(), longest }
    }

    /// How many bytes of text one secret may take at most in the forms
    /// recognised (each byte percent-encoded, each character `\uXXXX`),
    /// for reading and cutting text so that none is kept in part.
    pub fn reach(&self) -> usize {
        self.longest * 6
    }

    /// `text` with every secret replaced by `<redacted>`, in any of the forms
    /// a backend may quote it: as sent; JSON-escaped, also nested (`\"`,
    /// `\\\"`, `\/`, `\n`, `\u0022`, `\u003c` as Go writes `<`, surrogate
    /// pairs); percent-encoded in either case, a space also as `+`; or any mix
    /// of these, character by character. Linear in the text for each secret
    /// (a secret is only tried where one of its first character's forms starts).
    pub fn scrub(&self, text: &str) -> String {
        if self.values.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        'text: while i < text.len() {
            let b = text.as_bytes()[i];
            for secret in self.values.iter() {
                let first = secret[0];
                let may_start = matches!(b, b'\\' | b'%' | b'+') || text[i..].starts_with(first);
                if let Some(end) = may_start.then(|| match_secret(text, i, secret)).flatten() {
                    out.push_str("<redacted>");
                    i = end;
                    continue 'text;
                }
            }
            let c = text[i..].chars().next().expect("at a character boundary");
            out.push(c);
            i += c.len_utf8();
        }
        out
    }

    /// The start of `text`, scrubbed, cut to at most `max` bytes (marked
    /// ` …` when cut); a secret that starts before the cut is taken out whole.
    pub fn quote(&self, text: &str, max: usize) -> String {
        let window = floor_char_boundary(text, max + self.reach() + 1);
        cut_text(self.scrub(&text[..window]), max, window < text.len())
    }

    /// [`Self::quote`] of bytes read as UTF-8 (invalid sequences replaced).
    pub fn quote_bytes(&self, bytes: &[u8], max: usize) -> String {
        let window = bytes.len().min(max + self.reach() + 4);
        let text = String::from_utf8_lossy(&bytes[..window]);
        let quoted = self.quote(&text, max);
        if window < bytes.len() && !quoted.ends_with(" …") {
            format!("{quoted} …")
        } else {
            quoted
        }
    }
}

/// The end of the secret `secret` if one of its forms starts at byte `i`;
/// the end of the text if the text ends in a form of its first 4 or more
/// characters (a quote cut short elsewhere keeps no part of a secret).
fn match_secret(text: &str, mut i: usize, secret: &[char]) -> Option<usize> {
    for (n, &c) in secret.iter().enumerate() {
        i = match match_char(text, i, c) {
            Some(end) => end,
            None if n >= 4 && cut_in_a_form(&text.as_bytes()[i..]) => return Some(text.len()),
            None => return None,
        };
    }
    Some(i)
}

/// Whether `rest` is nothing or the start of an escape cut short: `\`s,
/// then perhaps `u` and up to 3 hex digits, or `%` and up to 1.
fn cut_in_a_form(rest: &[u8]) -> bool {
    let hex = |b: &[u8], most: usize| b.len() <= most && b.iter().all(u8::is_ascii_hexdigit);
    let run = rest.iter().take_while(|&&b| b == b'\\').count();
    match &rest[run..] {
        [] => true,
        [b'u', digits @ ..] if run > 0 => hex(digits, 3),
        [b'%', digits @ ..] if run == 0 => hex(digits, 1),
        _ => false,
    }
}

/// The end of one form of the character `c` starting at byte `i`: itself
/// (after any run of JSON escaping backslashes), a JSON escape of it, its
/// UTF-8 bytes percent-encoded, or `+` for a space.
fn match_char(text: &str, i: usize, c: char) -> Option<usize> {
    let rest = &text.as_bytes()[i..];
    let run = escapes(rest);
    if c == '\\' && run > 0 {
        // A backslash, escaped once or more: the whole run.
        return Some(i + run);
    }
    let after = &rest[run..];
    let mut buf = [0u8; 4];
    let literal = c.encode_utf8(&mut buf).as_bytes();
    if after.starts_with(literal) {
        return Some(i + run + literal.len());
    }
    if run > 0 {
        let short = match c {
            '\n' => Some(b'n'),
            '\r' => Some(b'r'),
            '\t' => Some(b't'),
            '\u{8}' => Some(b'b'),
            '\u{c}' => Some(b'f'),
            _ => None,
        };
        if short.is_some() && after.first() == short.as_ref() {
            return Some(i + run + 1);
        }
        let unit = |at: &[u8]| -> Option<u32> {
            let hex = at.strip_prefix(b"u")?.get(..4)?;
            u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
        };
        let high = unit(after)?;
        if high == u32::from(c) {
            return Some(i + run + 5);
        }
        // A character beyond the BMP: `\\uD83D\\uDE00`.
        let code = u32::from(c);
        if code > 0xFFFF && high == 0xD800 + ((code - 0x10000) >> 10) {
            let low_at = &after[5..];
            let low_run = escapes(low_at);
            if low_run > 0 && unit(&low_at[low_run..])? == 0xDC00 + ((code - 0x10000) & 0x3FF) {
                return Some(i + run + 5 + low_run + 5);
            }
        }
        return None;
    }
    if c == ' ' && after.first() == Some(&b'+') {
        return Some(i + 1);
    }
    let mut at = 0;
    for &byte in literal {
        let hex = rest.get(at..at + 3).filter(|h| h[0] == b'%')?;
        let value = u8::from_str_radix(std::str::from_utf8(&hex[1..]).ok()?, 16).ok()?;
        if value != byte {
            return None;
        }
        at += 3;
    }
    Some(i + at)
}

/// How many backslashes (JSON escaping, nested at most 16 deep) `at` starts with.
fn escapes(at: &[u8]) -> usize {
    at.iter().take(16).take_while(|&&b| b == b'\\').count()
}

/// The largest character boundary of `text` at or below `at`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` cut to at most `max` bytes at a character boundary, marked when
/// cut (or when `more` followed it).
pub(super) fn cut_text(mut text: String, max: usize, more: bool) -> String {
    if text.len() > max || more {
        text.truncate(floor_char_boundary(&text, max));
        text.push_str(" …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_taken_out_in_every_form_a_backend_may_quote_them() {
        let secrets = Secrets { values: vec![r#"tok"5ECR/3t é+&<x> 😀"#.chars().collect()].into(), longest: 26 };
        let forms = [
            r#"tok"5ECR/3t é+&<x> 😀"#,
            r#"tok\"5ECR/3t é+&<x> 😀"#,
            r#"tok\"5ECR\/3t \u00e9+\u0026\u003cx\u003e \ud83d\ude00"#,
            r#"tok\\\"5ECR/3t é+&<x> 😀"#,
            "tok%225ECR%2F3t%20%C3%A9%2B%26%3Cx%3E%20%F0%9F%98%80",
            "tok%225ECR%2f3t+%c3%a9%2b%26%3cx%3e+%f0%9f%98%80",
            "tok%225ECR/3t+%C3%A9%2B&<x>%20😀",
        ];
        for form in forms {
            let text = format!("before {form} after");
            assert_eq!(secrets.scrub(&text), "before <redacted> after", "{form}");
        }
        // A quote cut short elsewhere, ending in the first characters of a secret.
        for cut in [r#"tok"5EC"#, r#"tok\"5ECR\/"#, r#"tok\"5ECR\/3t \u0"#, "tok%225ECR%2", r#"tok"5ECR/3t é+&<x> \"#]
        {
            assert_eq!(secrets.scrub(&format!("quoted: {cut}")), "quoted: <redacted>", "{cut}");
        }
        for kept in ["tok\"5ECR/3t and more", "tok", "nothing here", "%%%\\\\\\u12", "tok%2", "é"] {
            assert_eq!(secrets.scrub(kept), kept);
        }
        // A backslash in a secret, escaped once or twice.
        let secrets = Secrets { values: vec![r#"a\b"c"#.chars().collect()].into(), longest: 5 };
        for form in [r#"a\b"c"#, r#"a\\b\"c"#, r#"a\\\\b\\\"c"#, "a%5Cb%22c"] {
            assert_eq!(secrets.scrub(form), "<redacted>", "{form}");
        }
    }

    #[test]
    fn quotes_are_cut_after_scrubbing() {
        let secrets = Secrets { values: vec!["5ecr3t-token".chars().collect()].into(), longest: 12 };
        let text = format!("{}5ecr3t%2Dtoken and more", "x".repeat(295));
        let quoted = secrets.quote(&text, 300);
        assert!(!quoted.contains("5ecr") && quoted.ends_with(" …"), "{quoted}");
        let quoted = secrets.quote_bytes(text.as_bytes(), 300);
        assert!(!quoted.contains("5ecr") && quoted.ends_with(" …"), "{quoted}");
        assert_eq!(secrets.quote("short", 300), "short");
    }
}
