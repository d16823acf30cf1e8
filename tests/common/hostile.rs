//! Hostile strings for the property tests: quotes, backslashes, pipes,
//! backticks, control characters, NUL, unicode (combining, bidi, line
//! separators, astral), LogsQL words and Grafana variable syntax, and very
//! long strings; plus a proptest runner with a bounded number of cases and
//! a seed new every run (printed; `PROPTEST_SEED` replays a run), so that
//! each run tries other cases. Fixture values ([`draw`]) stay fixed.
#![allow(dead_code)] // each test crate uses a different part

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Pieces hostile strings are made of.
pub const FRAGMENTS: &[&str] = &[
    "\"",
    "\\",
    "|",
    "`",
    "'",
    "\n",
    "\r",
    "\t",
    "\0",
    "\u{1}",
    "\u{7f}",
    ":",
    "=",
    "~",
    "!",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    " ",
    "*",
    "^",
    "$",
    ".",
    "-",
    "_",
    "é",
    "e\u{301}",
    "日本",
    "😀",
    "\u{202e}",
    "\u{2028}",
    "\u{feff}",
    "\u{ffff}",
    "or",
    "and",
    "not",
    " or ",
    "in(",
    "| stats count()",
    "_time",
    "_msg",
    "_stream",
    "value",
    "$__all",
    "${var}",
    "${var:regex}",
    "{a,b}",
    "a,b",
    "%22",
    "\\\"",
    "\\u0000",
    "\\n",
    "\"|\"",
    "10.0.32.1",
    "a",
    "B",
    "7",
];

/// Values no test should doubt are hostile, one of each kind.
pub const CURATED: &[&str] = &[
    "a\"b",
    "back\\slash",
    "pi|pe",
    "tick`x",
    "new\nline",
    "nul\0x",
    "ünï😀",
    "x\" or action:=\"ACCEPT",
    "\"quoted\"",
    "'single'",
    "`backticked`",
    "a:b",
    "*",
    "in(\"x\")",
    "-",
    "or",
    "\u{2028}",
    "tab\there",
    " lead",
    "trail ",
    "\\\"",
    "$__all",
    "${region:regex}",
    "\u{202e}evil",
    "e\u{301}",
];

/// This process's property-test seed: `PROPTEST_SEED` if set (to replay a
/// failure), else new each run (from the clock), so that every run tries
/// other cases.
pub fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("PROPTEST_SEED") {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| panic!("PROPTEST_SEED={text} is not a number")),
        Err(_) => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
            now.as_secs() ^ u64::from(now.subsec_nanos()) << 20 ^ u64::from(std::process::id()) << 48
        }
    })
}

/// The ChaCha seed of a property-test seed.
pub fn rng_seed(seed: u64) -> [u8; 32] {
    let mut bytes = *b"flowlens: values are data. seed!";
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}

/// A runner seeded by [`seed`] (printed, so that a failing run's output
/// says how to replay it): `cases` cases (or `PROPTEST_CASES`), no failure
/// files, bounded shrinking.
pub fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 256, ..Config::default() };
    let seed = seed();
    eprintln!("property tests: seed {seed}; replay with PROPTEST_SEED={seed}");
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed(seed)))
}

/// A hostile string: mostly fragments glued together, sometimes arbitrary
/// characters (control characters included), sometimes a long repetition.
pub fn hostile_string() -> BoxedStrategy<String> {
    prop_oneof![
        8 => prop::collection::vec(prop::sample::select(FRAGMENTS), 1..7).prop_map(|v| v.concat()),
        3 => prop::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        1 => long_string(600..3_000),
    ]
    .boxed()
}

/// A long string of `len` bytes or a little more, made of fragments.
pub fn long_string(len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    (prop::collection::vec(prop::sample::select(FRAGMENTS), 1..4), len)
        .prop_map(|(parts, len)| {
            let unit = parts.concat();
            unit.repeat(len / unit.len().max(1) + 1)
        })
        .boxed()
}

/// A hostile string that is nearly `base`: one fragment added or one
/// character dropped or changed, so exact matching is really exact.
pub fn near(base: String) -> BoxedStrategy<String> {
    let b = base.clone();
    prop_oneof![
        prop::sample::select(FRAGMENTS).prop_map(move |f| format!("{b}{f}")),
        {
            let b = base.clone();
            prop::sample::select(FRAGMENTS).prop_map(move |f| format!("{f}{b}"))
        },
        {
            let b = base.clone();
            Just(()).prop_map(move |_| {
                let mut s = b.clone();
                s.pop();
                s
            })
        },
        {
            let b = base;
            Just(()).prop_map(move |_| b.to_uppercase())
        },
    ]
    .boxed()
}

/// `n` values drawn from `strategy` with the fixed seed (for fixtures).
pub fn draw<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, n: usize, salt: u8) -> Vec<T> {
    let mut seed = *b"flowlens fixture values, fixed.0";
    seed[31] = salt;
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    (0..n).map(|_| strategy.new_tree(&mut runner).expect("a value").current()).collect()
}

/// The text between the quotes of `value` as a JSON (and LogsQL) string literal.
pub fn json_inner(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap();
    quoted[1..quoted.len() - 1].to_string()
}

/// A small deterministic generator (SplitMix64) for fixtures.
pub struct Mix(pub u64);

impl Mix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
