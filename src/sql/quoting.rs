//! Quoting and unquoting of MySQL identifiers and strings.
//!
//! The tokenizer keeps tokens as raw spans; these helpers turn a quoted span into its value
//! (`` `a``b` `` → ``a`b``, `'it''s\n'` → `it's` + newline) and quote names the proxy splices into
//! statements.

use std::borrow::Cow;

/// Index in `body` of the quote closing a run opened by `quote` (backslash escapes for `'`/`"`).
pub(crate) fn closing_quote(body: &[u8], quote: u8) -> Option<usize> {
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        if b == b'\\' && quote != b'`' {
            i += 2;
        } else if b == quote {
            if body.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Removes the quote character that `text` starts with (`` ` ``, `'` or `"`) and its closing twin,
/// collapsing doubled quotes; for `'`/`"` backslash escapes are decoded too. Text that does not start
/// with a quote is returned unchanged. Unterminated text has no closing quote to remove.
pub(crate) fn unquote(text: &str) -> Cow<'_, str> {
    let quote = match text.chars().next() {
        Some(q @ ('`' | '\'' | '"')) => q,
        _ => return Cow::Borrowed(text),
    };
    let body = &text[1..];
    let backslash = quote != '`';
    if !body.contains(|c| c == '\\' && backslash) {
        // Fast path: borrowed when there is nothing to collapse.
        match body.find(quote) {
            None => return Cow::Borrowed(body),
            Some(i) if body.len() == i + 1 => return Cow::Borrowed(&body[..i]),
            Some(_) => {}
        }
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            if chars.peek() == Some(&quote) {
                chars.next();
                out.push(quote);
                continue;
            }
            break;
        }
        if c == '\\' && backslash {
            match chars.next() {
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('Z') => out.push('\u{1a}'),
                // LIKE wildcards keep their backslash, as in MySQL.
                Some(e @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(e);
                }
                Some(e) => out.push(e),
                None => {}
            }
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// Backtick-quotes `name` for MySQL, doubling any backtick inside, so any database name can be
/// spliced into SQL text safely.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('`');
    for c in name.chars() {
        if c == '`' {
            out.push('`');
        }
        out.push(c);
    }
    out.push('`');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes() {
        assert_eq!(unquote("`a``b`"), "a`b");
        assert_eq!(unquote("'a\\'b'"), "a'b");
        assert_eq!(unquote("\"x\"\"y\""), "x\"y");
        assert_eq!(unquote("`a` junk"), "a");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote(""), "");
        assert_eq!(unquote("'"), "");
        assert!(matches!(unquote("'abc'"), Cow::Borrowed("abc")));
    }

    #[test]
    fn closing_quotes() {
        assert_eq!(closing_quote(b"ab'", b'\''), Some(2));
        assert_eq!(closing_quote(b"a''b'", b'\''), Some(4));
        assert_eq!(closing_quote(b"a\\'", b'\''), None);
        assert_eq!(closing_quote(b"a\\`", b'`'), Some(2));
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("vt_ks"), "`vt_ks`");
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_ident(""), "``");
    }
}
