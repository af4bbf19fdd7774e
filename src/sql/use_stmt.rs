//! Parsing `USE` targets.
//!
//! Clients pick a keyspace, and optionally one shard of it, with `USE` (Vitess syntax:
//! `USE ks:-80`, `USE ks/-80`, ``USE `ks:-80` ``). sqlparser cannot read the shard suffix, so the
//! session layer uses this instead.

use super::significant::Significant;
use super::tokenizer::TokenKind;

/// The target of a `USE` statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UseTarget {
    /// Keyspace (database) name, unquoted, case as written.
    pub keyspace: String,
    /// Shard name after `:` or `/`, e.g. `-80`, `80-`, `40-80`, `0`.
    pub shard: Option<String>,
}

/// Parses `USE ks`, ``USE `ks` ``, `USE ks:-80`, `USE ks/-80`, ``USE `ks:-80` ``, ``USE `ks`:-80 ``
/// (trailing `;`, whitespace and comments allowed). Returns `None` when the statement is not a
/// `USE` or its target is malformed (missing, empty, spaces inside a bare target, bad shard name).
pub fn parse_use(stmt: &str) -> Option<UseTarget> {
    let mut it = Significant::new(stmt).take_while(|t| t.kind != TokenKind::Semicolon);
    if !it.next()?.is_word(stmt, "use") {
        return None;
    }
    let first = it.next()?;
    let base = match first.kind {
        TokenKind::Ident => first.ident_value(stmt),
        TokenKind::QuotedIdent if first.is_terminated(stmt) => first.ident_value(stmt),
        _ => return None,
    };
    // A bare target must be one contiguous run of tokens (`ks:-80`); remember where it ends.
    let mut end = first.end;
    for tok in it {
        if tok.start != end {
            return None;
        }
        end = tok.end;
    }
    let suffix = &stmt[first.end..end];
    let (keyspace, shard) = match suffix.chars().next() {
        None => match base.find([':', '/']) {
            Some(i) if first.kind == TokenKind::QuotedIdent => {
                (base[..i].to_string(), Some(base[i + 1..].to_string()))
            }
            _ => (base.into_owned(), None),
        },
        Some(':' | '/') if !base.contains([':', '/']) => {
            (base.into_owned(), Some(suffix[1..].to_string()))
        }
        _ => return None,
    };
    if keyspace.is_empty() {
        return None;
    }
    if let Some(s) = &shard {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if s.is_empty() || !s.chars().all(valid) {
            return None;
        }
    }
    Some(UseTarget { keyspace, shard })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ks: &str, shard: Option<&str>) -> Option<UseTarget> {
        Some(UseTarget {
            keyspace: ks.into(),
            shard: shard.map(Into::into),
        })
    }

    #[test]
    fn parses_keyspace_and_shard_forms() {
        let cases = [
            ("USE ks", target("ks", None)),
            ("use `ks`", target("ks", None)),
            ("use `my ks`", target("my ks", None)),
            ("use `a``b`", target("a`b", None)),
            ("USE ks:-80", target("ks", Some("-80"))),
            ("USE ks/-80", target("ks", Some("-80"))),
            ("USE ks:80-", target("ks", Some("80-"))),
            ("USE ks:40-80", target("ks", Some("40-80"))),
            ("USE ks:80-c0", target("ks", Some("80-c0"))),
            ("USE ks:-", target("ks", Some("-"))),
            ("USE ks/0", target("ks", Some("0"))),
            ("USE `ks:-80`", target("ks", Some("-80"))),
            ("USE `ks/80-`", target("ks", Some("80-"))),
            ("USE `ks`:-80", target("ks", Some("-80"))),
            ("use ks;", target("ks", None)),
            ("use ks ;  ", target("ks", None)),
            ("  use ks -- comment\n", target("ks", None)),
            (
                "/* c */ USE /* c */ ks:-80 /* c */ ;",
                target("ks", Some("-80")),
            ),
            ("use Commerce", target("Commerce", None)),
            ("use kéy", target("kéy", None)),
            ("use 1ks", target("1ks", None)),
            ("/*!40101 use ks */", target("ks", None)),
        ];
        for (sql, want) in cases {
            assert_eq!(parse_use(sql), want, "{sql}");
        }
    }

    #[test]
    fn rejects_non_use_and_malformed() {
        for sql in [
            "",
            "USE",
            "use ;",
            "use ``",
            "use `:-80`",
            "use ks:",
            "use `ks:`",
            "use ks :-80",
            "use ks: -80",
            "use ks.t",
            "use ks:-80 extra",
            "use ks other",
            "use 'ks'",
            "use 123",
            "use ks:-8'0",
            "use `ks:-80`:-40",
            "use ks@primary",
            "select 1",
            "user ks",
            "use `ks",
        ] {
            assert_eq!(parse_use(sql), None, "{sql:?}");
        }
    }
}
