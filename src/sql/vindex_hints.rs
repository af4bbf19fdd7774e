//! Vitess's vindex hints: `FROM t [AS a] USE VINDEX (v, ...)` / `IGNORE VINDEX (v, ...)`.
//!
//! MariaDB and sqlparser know only index hints, so the proxy takes vindex hints out of the text
//! before anything parses it: [`vindex_hints`] finds them with the tokenizer (string literals,
//! quoted identifiers and comments are never looked into) and [`blank`] overwrites each hint
//! with spaces, byte for byte, so every other token keeps its offset (spans computed on the
//! original text stay valid, and a template keeps its `?` positions). A hint belongs to the
//! table expression it follows: the identifier before it (the alias, else the table name), after
//! any MySQL index hints (`USE INDEX (..)`, `FORCE KEY FOR JOIN (..)`) written between the two.

use super::{contains_ignore_ascii_case, Significant, Token, TokenKind};
use std::borrow::Cow;

/// One vindex hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VindexHint {
    /// The name the hinted table is qualified with: its alias, else its table name.
    pub table: String,
    /// `IGNORE VINDEX` (else `USE VINDEX`).
    pub ignore: bool,
    /// The vindex names listed.
    pub vindexes: Vec<String>,
    /// Byte range of the hint (`USE` .. `)`).
    pub span: (usize, usize),
}

/// Words that may sit between a table and its vindex hint as part of MySQL index hints.
const INDEX_HINT_WORDS: &[&str] = &[
    "use", "ignore", "force", "index", "key", "for", "join", "order", "group", "by",
];

/// Every vindex hint of `sql`, in text order (empty when there is none).
pub fn vindex_hints(sql: &str) -> Vec<VindexHint> {
    if !contains_ignore_ascii_case(sql.as_bytes(), b"vindex") {
        return Vec::new();
    }
    let toks: Vec<Token> = Significant::new(sql).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < toks.len() {
        let t = toks[i];
        let ignore = t.is_word(sql, "ignore");
        if !(ignore || t.is_word(sql, "use")) || !toks[i + 1].is_word(sql, "vindex") {
            i += 1;
            continue;
        }
        let Some((vindexes, close)) = name_list(sql, &toks, i + 2) else {
            i += 1;
            continue;
        };
        let Some(table) = table_before(sql, &toks, i) else {
            i += 1;
            continue;
        };
        out.push(VindexHint {
            table,
            ignore,
            vindexes,
            span: (t.start, toks[close].end),
        });
        i = close + 1;
    }
    out
}

/// `( name, ... )` starting at token `open`: the names and the index of `)`.
fn name_list(sql: &str, toks: &[Token], open: usize) -> Option<(Vec<String>, usize)> {
    if !toks.get(open)?.is_punct(sql, "(") {
        return None;
    }
    let mut names = Vec::new();
    let mut j = open + 1;
    loop {
        let name = toks.get(j)?;
        if !matches!(name.kind, TokenKind::Ident | TokenKind::QuotedIdent) {
            return None;
        }
        names.push(name.ident_value(sql).into_owned());
        let sep = toks.get(j + 1)?;
        if sep.is_punct(sql, ")") {
            return Some((names, j + 1));
        }
        if !sep.is_punct(sql, ",") {
            return None;
        }
        j += 2;
    }
}

/// The identifier the hint at token `at` follows, stepping back over MySQL index hints.
fn table_before(sql: &str, toks: &[Token], at: usize) -> Option<String> {
    let mut j = at.checked_sub(1)?;
    loop {
        let t = toks.get(j)?;
        if t.is_punct(sql, ")") {
            // An index hint's column list: back to its `(`.
            let mut depth = 0usize;
            loop {
                let u = toks.get(j)?;
                if u.is_punct(sql, ")") {
                    depth += 1;
                } else if u.is_punct(sql, "(") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j = j.checked_sub(1)?;
            }
            j = j.checked_sub(1)?;
            continue;
        }
        let hint_word = t.kind == TokenKind::Ident
            && INDEX_HINT_WORDS.iter().any(|w| t.is_word(sql, w))
            && toks.get(j + 1).is_some_and(|n| {
                n.is_punct(sql, "(") || INDEX_HINT_WORDS.iter().any(|w| n.is_word(sql, w))
            });
        if hint_word {
            j = j.checked_sub(1)?;
            continue;
        }
        return matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent)
            .then(|| t.ident_value(sql).into_owned());
    }
}

/// `bytes` with every vindex hint found in `text` (its analysis text: same byte offsets)
/// overwritten by spaces. Borrowed when there is none.
pub fn blank<'a>(bytes: &'a [u8], text: &str) -> Cow<'a, [u8]> {
    let hints = vindex_hints(text);
    if hints.is_empty() {
        return Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    for h in &hints {
        if let Some(range) = out.get_mut(h.span.0..h.span.1) {
            range.iter_mut().for_each(|b| *b = b' ');
        }
    }
    Cow::Owned(out)
}

/// `sql` with its vindex hints blanked, and the hints. Borrowed when there is none.
pub fn strip(sql: &str) -> (Cow<'_, str>, Vec<VindexHint>) {
    let hints = vindex_hints(sql);
    if hints.is_empty() {
        return (Cow::Borrowed(sql), hints);
    }
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for h in &hints {
        // Spans are token boundaries, so char boundaries of `sql`.
        out.push_str(sql.get(at..h.span.0).unwrap_or(""));
        let hint = sql.get(h.span.0..h.span.1).unwrap_or("");
        out.extend(std::iter::repeat_n(' ', hint.len()));
        at = h.span.1;
    }
    out.push_str(sql.get(at..).unwrap_or(""));
    (Cow::Owned(out), hints)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> VindexHint {
        let mut h = vindex_hints(sql);
        assert_eq!(h.len(), 1, "{sql}: {h:?}");
        h.remove(0)
    }

    #[test]
    fn finds_hints_after_tables_and_aliases() {
        let h = one("select * from user use vindex (hash) where id = 1");
        assert_eq!(h.table, "user");
        assert!(!h.ignore);
        assert_eq!(h.vindexes, vec!["hash"]);
        let h = one("SELECT * FROM ks.`user` AS u IGNORE VINDEX (`name_lookup`, hash)");
        assert_eq!(h.table, "u");
        assert!(h.ignore);
        assert_eq!(h.vindexes, vec!["name_lookup", "hash"]);
        let h = one("select * from user u use index (primary) force key for join (a, b) use /* c */ vindex (v)");
        assert_eq!(h.table, "u");
        assert_eq!(h.vindexes, vec!["v"]);
    }

    #[test]
    fn strips_to_the_same_length_and_leaves_literals_and_comments() {
        let sql =
            "select 'use vindex (x)' from t use vindex (hash) /* use vindex (y) */ where a = ?";
        let (out, hints) = strip(sql);
        assert_eq!(hints.len(), 1);
        assert_eq!(out.len(), sql.len());
        assert_eq!(
            out,
            "select 'use vindex (x)' from t                   /* use vindex (y) */ where a = ?"
        );
        for untouched in [
            "select 'use vindex (x)' from t",
            "select * from t -- use vindex (a)",
            "select `use vindex (a)` from t",
            "select * from t use vindex",
            "select * from t use vindex ()",
            "use vindex (a)",
        ] {
            let (out, hints) = strip(untouched);
            assert!(hints.is_empty(), "{untouched}");
            assert_eq!(out, untouched);
        }
    }

    #[test]
    fn blanks_bytes_in_any_charset() {
        let bytes = b"select '\xe9' from t ignore vindex (v) where x = 1";
        let text: String = bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { 'a' })
            .collect();
        let out = blank(bytes, &text);
        assert_eq!(out.len(), bytes.len());
        let mut expected = b"select '\xe9' from t ".to_vec();
        expected.extend([b' '; 17]);
        expected.extend(b" where x = 1");
        assert_eq!(&out[..], &expected[..]);
        assert!(matches!(blank(b"select 1", "select 1"), Cow::Borrowed(_)));
    }
}
