//! Regexes are checked here with Rust's `regex` syntax but run in the
//! backend's RE2 (Go's `regexp`, in VictoriaLogs and Loki). Where the two
//! differ, a regex could pass the check and then fail in the backend, or,
//! worse, match other values there than it says. This finds the constructs
//! Rust accepts that RE2 rejects or reads differently. Pure.

use regex_syntax::ast::{self, AssertionKind, Ast, ClassSetBinaryOp, ClassSetItem, LiteralKind, Visitor};

/// RE2's largest repetition count.
const MAX_REPEAT: u32 = 1_000;

/// Why `re` (already valid for Rust's `regex`) does not mean the same in
/// RE2, if it does not.
pub fn problem(re: &str) -> Option<String> {
    let ast = ast::parse::Parser::new().parse(re).ok()?;
    ast::visit(&ast, Check).err()
}

struct Check;

fn flags_problem(flags: &ast::Flags) -> Option<String> {
    flags.items.iter().find_map(|item| match item.kind {
        ast::FlagsItemKind::Flag(ast::Flag::IgnoreWhitespace) => Some("the flag `x`".to_string()),
        ast::FlagsItemKind::Flag(ast::Flag::Unicode) => Some("the flag `u`".to_string()),
        ast::FlagsItemKind::Flag(ast::Flag::CRLF) => Some("the flag `R`".to_string()),
        _ => None,
    })
}

impl Visitor for Check {
    type Output = ();
    type Err = String;

    fn finish(self) -> Result<(), String> {
        Ok(())
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), String> {
        let unsupported = match ast {
            Ast::Repetition(r) => {
                let counts = match r.op.kind {
                    ast::RepetitionKind::Range(ast::RepetitionRange::Exactly(n) | ast::RepetitionRange::AtLeast(n)) => {
                        vec![n]
                    }
                    ast::RepetitionKind::Range(ast::RepetitionRange::Bounded(m, n)) => vec![m, n],
                    _ => Vec::new(),
                };
                if counts.iter().any(|n| *n > MAX_REPEAT) {
                    Some(format!("a repetition count above {MAX_REPEAT}"))
                } else if matches!(*r.ast, Ast::Repetition(_)) {
                    Some("a repetition of a repetition (such as `a**`; group it: `(?:a*)*`)".to_string())
                } else {
                    None
                }
            }
            Ast::Literal(l) => match l.kind {
                LiteralKind::HexFixed(ast::HexLiteralKind::UnicodeShort | ast::HexLiteralKind::UnicodeLong)
                | LiteralKind::HexBrace(ast::HexLiteralKind::UnicodeShort | ast::HexLiteralKind::UnicodeLong) => {
                    Some("`\\u` and `\\U` escapes (write `\\x{...}`)".to_string())
                }
                _ => None,
            },
            Ast::Assertion(a) => match a.kind {
                AssertionKind::WordBoundaryStart
                | AssertionKind::WordBoundaryEnd
                | AssertionKind::WordBoundaryStartAngle
                | AssertionKind::WordBoundaryEndAngle
                | AssertionKind::WordBoundaryStartHalf
                | AssertionKind::WordBoundaryEndHalf => {
                    Some("word-start and word-end assertions (`\\<`, `\\>`, `\\b{start}`; use `\\b`)".to_string())
                }
                _ => None,
            },
            Ast::Flags(f) => flags_problem(&f.flags),
            Ast::Group(g) => match &g.kind {
                ast::GroupKind::NonCapturing(flags) => flags_problem(flags),
                _ => None,
            },
            _ => None,
        };
        unsupported.map_or(Ok(()), Err)
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), String> {
        match item {
            ClassSetItem::Bracketed(_) => Err("a class inside a class (such as `[a[bc]]`)".to_string()),
            _ => Ok(()),
        }
    }

    fn visit_class_set_binary_op_pre(&mut self, _: &ClassSetBinaryOp) -> Result<(), String> {
        Err("class operations (`&&`, `--`, `~~`)".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_re2_reads_otherwise() {
        for (re, want) in [
            ("a{1001}", "above 1000"),
            ("a{2,5000}", "above 1000"),
            ("a**", "repetition of a repetition"),
            ("\\u0041", "`\\u`"),
            ("\\U{41}", "`\\u`"),
            ("\\<10", "word-start"),
            ("a\\b{end}", "word-start"),
            ("[a-z&&[^aeiou]]", "class operations"),
            ("[a[bc]]", "class inside a class"),
            ("(?x) a b", "flag `x`"),
            ("(?u:a)", "flag `u`"),
        ] {
            let p = problem(re).unwrap_or_else(|| panic!("{re} has no problem"));
            assert!(p.contains(want), "{re}: {p}");
        }
        for re in [
            "10\\.0\\.32\\.1",
            "a{1000}",
            "(?:a*)*",
            "\\x{41}\\x7f",
            "\\bword\\b",
            "[a-z0-9_.-]+",
            "(?i)eni-[0-9a-f]+",
            "(?s:.)",
            "[[:alpha:]]",
            "\\pL",
            "(?P<x>a)|b",
            "^$",
        ] {
            assert_eq!(problem(re), None, "{re}");
        }
    }
}
