//! String literals that carry raw bytes, as text-protocol drivers write binary parameters:
//! mysqlclient and mysql-connector-python (`_binary'…'`), Connector/J's client-side prepared
//! statements, PHP's `real_escape_string` and PDO's emulated prepares (`'…'`) put a BLOB's
//! bytes, escaped but not encoded, between quotes. Such a statement is not valid UTF-8, which
//! the planner of a sharded keyspace needs. [`hex_invalid_strings`] rewrites exactly those
//! literals as hex literals holding the same bytes (`_binary X'…'`, `X'…'`), which MariaDB reads
//! as the same value, so the statement plans as UTF-8 text.

use super::sql_mode::SqlMode;
use super::tokenizer::{tokenize, TokenKind};

/// `bytes` (one statement from a utf8mb4 client under `mode`) with every string literal whose
/// content is not valid UTF-8 replaced by a hex literal of its decoded bytes, keeping a
/// charset introducer before it (`_binary'\0…'` → `_binary X'00…'`). `None` when the result
/// would not be valid UTF-8 either (invalid bytes outside string literals) or when a literal
/// cannot be rewritten exactly: an unterminated one, one glued to another string (`'a' 'b'`
/// concatenates, a hex literal does not), an `N'…'` national string, a `"…"` string under
/// `ANSI_QUOTES`, or a backslash under `NO_BACKSLASH_ESCAPES` (the tokenizer reads backslash
/// escapes).
pub fn hex_invalid_strings(bytes: &[u8], mode: SqlMode) -> Option<String> {
    // The tokenizer needs &str: ASCII keeps its offsets, every other byte reads as a letter,
    // which only matters inside the literals rewritten here.
    let text: String = bytes
        .iter()
        .map(|&b| if b.is_ascii() { b as char } else { 'a' })
        .collect();
    let text = text.as_str();
    let tokens: Vec<_> = tokenize(text)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len() * 2);
    let mut at = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != TokenKind::String || std::str::from_utf8(&bytes[t.start..t.end]).is_ok() {
            continue;
        }
        let raw = &bytes[t.start..t.end];
        let quote = raw[0];
        if quote == b'"' && mode.ansi_quotes {
            return None;
        }
        let glued_string = |j: Option<usize>| {
            j.and_then(|j| tokens.get(j))
                .is_some_and(|n| n.kind == TokenKind::String)
        };
        if glued_string(i.checked_sub(1)) || glued_string(Some(i + 1)) {
            return None;
        }
        let introducer = i
            .checked_sub(1)
            .map(|j| tokens[j])
            .filter(|p| p.kind == TokenKind::Ident && p.end == t.start);
        if let Some(p) = introducer {
            if !p.text(text).starts_with('_') {
                // `N'…'` and the like: not a plain string.
                return None;
            }
        }
        let value = decode(raw, mode)?;
        out.extend_from_slice(&bytes[at..t.start]);
        if introducer.is_some() {
            out.push(b' ');
        }
        out.extend_from_slice(b"X'");
        for b in value {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
        out.push(b'\'');
        at = t.end;
    }
    if at == 0 {
        return None;
    }
    out.extend_from_slice(&bytes[at..]);
    String::from_utf8(out).ok()
}

/// The bytes of the quoted literal `raw` (quotes included) as MariaDB reads them: a doubled
/// quote is one, and backslash escapes are decoded (`\%` and `\_` keep their backslash).
fn decode(raw: &[u8], mode: SqlMode) -> Option<Vec<u8>> {
    let quote = raw[0];
    if raw.len() < 2 || raw[raw.len() - 1] != quote {
        return None;
    }
    let body = &raw[1..raw.len() - 1];
    if mode.no_backslash_escapes && body.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b == quote {
            // The tokenizer ends a literal at a lone quote: this one is doubled.
            i += 1;
            out.push(quote);
        } else if b == b'\\' {
            let e = *body.get(i)?;
            i += 1;
            match e {
                b'0' => out.push(0),
                b'b' => out.push(8),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'Z' => out.push(0x1a),
                b'%' | b'_' => out.extend_from_slice(&[b'\\', e]),
                other => out.push(other),
            }
        } else {
            out.push(b);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Option<String> {
        hex_invalid_strings(bytes, SqlMode::default())
    }

    #[test]
    fn rewrites_only_invalid_literals() {
        let sql = b"INSERT INTO t VALUES (1, 'ok\\n', _binary'\x00\xff\\0\\\\\\'''x', '\xe9t\xe9')";
        assert_eq!(
            run(sql).as_deref(),
            Some("INSERT INTO t VALUES (1, 'ok\\n', _binary X'00ff005c272778', X'e974e9')")
        );
    }

    #[test]
    fn every_escape_decodes_as_mariadb_reads_it() {
        let sql = b"SELECT '\xff\\0\\b\\n\\r\\t\\Z\\%\\_\\q\"'";
        assert_eq!(
            run(sql).as_deref(),
            Some("SELECT X'ff00080a0d091a5c255c5f7122'")
        );
        assert_eq!(
            run(b"SELECT \"\xff\"\"'\"").as_deref(),
            Some("SELECT X'ff2227'")
        );
    }

    #[test]
    fn refuses_what_it_cannot_rewrite_exactly() {
        // Invalid bytes outside a string, or nothing to rewrite.
        assert_eq!(run(b"SELECT \xff FROM t"), None);
        assert_eq!(run(b"SELECT 'ok'"), None);
        // Unterminated, concatenated, national strings.
        assert_eq!(run(b"SELECT '\xff"), None);
        assert_eq!(run(b"SELECT 'a' '\xff'"), None);
        assert_eq!(run(b"SELECT N'\xff'"), None);
        // Modes that change how the literal reads.
        let nbe = SqlMode::parse("NO_BACKSLASH_ESCAPES");
        assert_eq!(hex_invalid_strings(b"SELECT '\xff\\0'", nbe), None);
        assert_eq!(
            hex_invalid_strings(b"SELECT '\xff'", nbe).as_deref(),
            Some("SELECT X'ff'")
        );
        let ansi = SqlMode::parse("ANSI_QUOTES");
        assert_eq!(hex_invalid_strings(b"SELECT \"\xff\"", ansi), None);
    }

    #[test]
    fn never_panics_on_any_bytes() {
        // Quotes, escapes, introducers, comments and invalid bytes in every order.
        const ALPHABET: &[u8] = b"'\"\\_Nx -#/*\na\xff\xe9\x80";
        let mut seed: u64 = 0x5eed;
        for _ in 0..5000 {
            let mut input = Vec::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for k in 0..(seed >> 59) as usize + 1 {
                let r = seed.rotate_left(k as u32 * 7);
                input.push(ALPHABET[(r % ALPHABET.len() as u64) as usize]);
            }
            for mode in ["", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"] {
                let _ = hex_invalid_strings(&input, SqlMode::parse(mode));
            }
        }
    }

    #[test]
    fn comments_and_other_tokens_pass_unchanged() {
        let sql = b"/* c */ UPDATE t SET b = _binary'\x80' -- x\nWHERE id = 0x10";
        assert_eq!(
            run(sql).as_deref(),
            Some("/* c */ UPDATE t SET b = _binary X'80' -- x\nWHERE id = 0x10")
        );
    }
}
