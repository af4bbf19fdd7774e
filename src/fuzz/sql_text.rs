//! Fuzz target for the cheap SQL layer (`crate::sql`): tokenizer, statement splitting,
//! classification, `SET`/`USE` parsing, qualifier rewrites, fingerprints, the bounds
//! pre-check and the parameterizer, each over whatever text a client may send.
//!
//! Besides "no panic", the target checks the invariants the proxy relies on: tokens tile the
//! text in order on character boundaries, and a parameterized statement's template with its
//! literals bound back ([`crate::planner::bind_text`]) is the client's text byte for byte.

use crate::planner::{bind_text, literal_class, literal_value, BoundLiteral};
use crate::sql::{self, Charset, SqlMode, StatementBounds};
use std::borrow::Cow;

/// The statement text the proxy analyses for raw client bytes (invalid UTF-8 mapped byte for
/// byte, so offsets are kept), as the server does.
pub fn analysis_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(
            bytes
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { 'a' })
                .collect(),
        ),
    }
}

/// The fuzz target: `data` is a COM_QUERY's text.
pub fn target(data: &[u8]) {
    analyse(data);
}

/// Everything the proxy does to a statement's text before planning it.
pub fn analyse(bytes: &[u8]) {
    let text = analysis_text(bytes);
    let text = text.as_ref();
    check_tokens(text);
    let _ = sql::bounds::check(text, &StatementBounds::default());
    let tight = StatementBounds {
        max_nesting_depth: 3,
        max_expression_depth: 4,
        max_tokens: 64,
        max_list_items: 4,
    };
    let _ = sql::bounds::check(text, &tight);
    for piece in sql::split_statements(text) {
        statement(piece);
    }
    // Raw bytes in string literals, rewritten as hex literals (the result must be UTF-8).
    for mode in ["", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"] {
        if let Some(out) = sql::binary_strings::hex_invalid_strings(bytes, SqlMode::parse(mode)) {
            statement(&out);
        }
    }
}

/// One statement of a split text.
fn statement(stmt: &str) {
    let kind = sql::classify(stmt);
    let _ = sql::parse_set(stmt);
    let _ = sql::parse_use(stmt);
    let quals = sql::qualifiers(stmt);
    for q in &quals {
        assert!(q.start <= q.end && q.end <= stmt.len(), "qualifier span");
    }
    let _ = sql::rewrite_qualifiers(stmt, |ks| (ks.len() % 2 == 0).then(|| format!("vt_{ks}")));
    let _ = sql::fingerprint(stmt);
    let _ = sql::literals(stmt);
    for mode in [
        "",
        "ANSI_QUOTES,NO_BACKSLASH_ESCAPES",
        "PIPES_AS_CONCAT,HIGH_NOT_PRECEDENCE",
    ] {
        let _ = sql::misread_reason(stmt, Some(SqlMode::parse(mode)), Some(Charset::UTF8MB4));
    }
    let _ = sql::misread_reason(stmt, None, Charset::from_name("latin1"));
    for tok in sql::Significant::new(stmt) {
        let _ = tok.text(stmt);
    }
    if let Some(p) = sql::parameterize(stmt, kind) {
        let literals: Vec<BoundLiteral<'_>> = p
            .literals
            .iter()
            .map(|l| BoundLiteral {
                raw: l.raw(stmt),
                value: literal_value(stmt, l),
            })
            .collect();
        for l in &literals {
            let _ = literal_class(&l.value);
        }
        let bound = bind_text(&p.template, &literals);
        assert_eq!(
            bound.as_deref(),
            Some(stmt),
            "template {:?} with its literals bound is not the statement",
            p.template
        );
    }
}

/// Tokens are in order, do not overlap, stay inside the text and on character boundaries.
fn check_tokens(text: &str) {
    let mut at = 0;
    for t in sql::Tokenizer::new(text) {
        assert!(
            t.start >= at && t.start <= t.end,
            "token order {t:?} after {at}"
        );
        assert!(t.end <= text.len(), "token past the end {t:?}");
        assert!(
            text.is_char_boundary(t.start) && text.is_char_boundary(t.end),
            "token not on character boundaries {t:?}"
        );
        let _ = t.ident_value(text);
        let _ = t.string_value(text);
        let _ = t.is_terminated(text);
        at = t.end;
    }
}
