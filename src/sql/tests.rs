//! Cross-module robustness tests: every public function on exhaustive short inputs and on random
//! garbage built from the fragments that trip up SQL scanners. Checks invariants, not exact output.

use super::*;

/// Fragments chosen to hit every scanner branch and its unterminated form.
const FRAGMENTS: &[&str] = &[
    "'",
    "\"",
    "`",
    "\\",
    "/*",
    "*/",
    "/*!",
    "/*M!",
    "/*vt+",
    "--",
    "-- ",
    "#",
    "\n",
    ";",
    "@",
    "@@",
    "?",
    ".",
    "0x",
    "0b",
    "x'",
    "b'",
    "1",
    "1.5",
    "e",
    "E-",
    "-",
    "(",
    ")",
    ",",
    "=",
    ":=",
    "<=>",
    "->>",
    " ",
    "\t",
    "é",
    "ü中",
    "a",
    "ks",
    "select",
    "set",
    "use",
    "with",
    "begin",
    "names",
    "transaction",
    "40101",
    "\0",
    "\u{a0}",
    "*",
    ":",
    "/",
];

/// Single characters for the exhaustive short-input test.
const CHARS: &[char] = &[
    '\'', '"', '`', '\\', '/', '*', '!', '-', '#', '\n', ';', '@', '?', '.', '0', 'x', 'b', '1',
    'e', ' ', 'é', ':', '=', '(', ')', 'M', ',', '>',
];

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn check_tokens(src: &str) {
    let toks = tokenize(src);
    let mut prev_end = 0;
    for t in &toks {
        assert!(
            t.start < t.end && t.end <= src.len(),
            "{src:?}: bad span {t:?}"
        );
        assert!(
            src.is_char_boundary(t.start) && src.is_char_boundary(t.end),
            "{src:?}: {t:?}"
        );
        let gap = &src[prev_end..t.start];
        assert!(
            gap.bytes().all(|b| b.is_ascii_whitespace() || b == 0x0b),
            "{src:?}: non-space gap {gap:?}"
        );
        prev_end = t.end;
        let _ = (
            t.ident_value(src),
            t.string_value(src),
            t.is_terminated(src),
        );
    }
    assert!(src[prev_end..]
        .bytes()
        .all(|b| b.is_ascii_whitespace() || b == 0x0b));
    assert_eq!(toks, tokenize(src));
}

fn check_all(src: &str) {
    check_tokens(src);
    let range = src.as_ptr() as usize..src.as_ptr() as usize + src.len() + 1;
    for piece in split_statements(src) {
        // Trimmed: starts at a token and ends where a token ends (an unterminated one may end in
        // whitespace).
        let toks = tokenize(piece);
        assert_eq!(toks.first().map(|t| t.start), Some(0), "{src:?}: {piece:?}");
        assert_eq!(
            toks.last().map(|t| t.end),
            Some(piece.len()),
            "{src:?}: {piece:?}"
        );
        assert!(
            range.contains(&(piece.as_ptr() as usize)),
            "{src:?}: piece not borrowed"
        );
    }
    let _ = (classify(src), parse_use(src), parse_set(src));
    for q in qualifiers(src) {
        assert!(src.is_char_boundary(q.start) && src.is_char_boundary(q.end));
        let tok = tokenize(&src[q.start..q.end]);
        assert_eq!(tok.len(), 1, "{src:?}: qualifier {q:?}");
    }
    let none = rewrite_qualifiers(src, |_| None);
    assert!(matches!(none, std::borrow::Cow::Borrowed(s) if s == src));
    let rewritten = rewrite_qualifiers(src, |n| Some(format!("db_{n}")));
    assert!(rewritten.len() >= src.len());
    let fp = fingerprint(src);
    assert_eq!(fp, fingerprint(src));
    assert!(literals(src).len() <= fp.normalized.matches('?').count());
    for (i, _) in src.char_indices().step_by(3) {
        let _ = Tokenizer::with_range(src, i, src.len()).count();
        let _ = Tokenizer::with_range(src, i + 1, i + 7).count();
    }
}

#[test]
fn exhaustive_short_inputs() {
    let mut buf = String::new();
    for &a in CHARS {
        for &b in CHARS {
            for &c in CHARS {
                buf.clear();
                buf.extend([a, b, c]);
                check_all(&buf);
                check_all(&buf[..a.len_utf8()]);
                check_all(&buf[..a.len_utf8() + b.len_utf8()]);
            }
        }
    }
    check_all("");
}

#[test]
fn random_fragment_soup() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut src = String::new();
    for round in 0..4000 {
        src.clear();
        let n = 1 + rng.below(if round % 10 == 0 { 200 } else { 24 });
        for _ in 0..n {
            src.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
        check_all(&src);
    }
}

#[test]
fn realistic_statements_survive_truncation() {
    let stmts = [
        "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;",
        "SET @a = CONCAT('x;', \"y\\\"\"), @@session.sql_mode := 'ANSI'",
        "USE `ks:-80`; select ks.t.c from ks.t where s = 'it''s' -- done",
        "WITH c AS (SELECT id FROM ks.t) UPDATE ks.t JOIN c USING (id) SET x = x'0F'",
        "select `a``b`.c, 1.5e-3, 0b101, @x, ? /*vt+ A=1 */ from dual # end",
        "insert into t (a) values (_utf8mb4'é中', N'ü', -5, 0xFF);",
    ];
    for stmt in stmts {
        for (i, _) in stmt.char_indices() {
            check_all(&stmt[..i]);
            check_all(&stmt[i..]);
        }
    }
}

#[test]
fn large_and_deep_inputs_are_fine() {
    let big = "select 'a;b', `c`, 1.5, @x /* y */ from ks.t where z = ?;\n".repeat(20_000);
    assert_eq!(split_statements(&big).len(), 20_000);
    assert_eq!(qualifiers(&big).len(), 20_000);
    let nested = "/*!".repeat(50_000) + &"(".repeat(50_000);
    check_tokens(&nested);
    assert_eq!(classify(&nested), StatementKind::Other);
    assert_eq!(parse_set(&nested), None);
    let parens = format!("set @a = {}1{}", "(".repeat(50_000), ")".repeat(50_000));
    assert_eq!(parse_set(&parens).map(|v| v.len()), Some(1));
    let open = "'".to_string() + &"\\".repeat(10_001);
    assert_eq!(tokenize(&open).len(), 1);
}

#[test]
fn reexports_work_together() {
    let sql = "/* c */ SET NAMES utf8mb4; USE ks:-80; select ks.t.a from ks.t where id = 7";
    let parts = split_statements(sql);
    assert_eq!(parts.len(), 3);
    assert_eq!(classify(parts[0]), StatementKind::Set);
    assert_eq!(
        parse_use(parts[1]).and_then(|u| u.shard),
        Some("-80".to_string())
    );
    assert_eq!(classify(parts[2]), StatementKind::Select);
    let out = rewrite_qualifiers(parts[2], |n| (n == "ks").then(|| "vt_ks".to_string()));
    assert_eq!(out, "select `vt_ks`.t.a from `vt_ks`.t where id = 7");
    assert_eq!(
        fingerprint(parts[2]).normalized,
        "select ks . t . a from ks . t where id = ?"
    );
}
