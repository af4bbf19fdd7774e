//! Splitting a multi-statement query (`COM_QUERY` with `CLIENT_MULTI_STATEMENTS`) into statements.
//!
//! Only top-level `;` separates statements: semicolons inside strings, quoted identifiers and
//! comments (including `/*! */`) are part of their token. `DELIMITER` is a client-side command and
//! never reaches the proxy, so it is not supported.

use super::tokenizer::{TokenKind, Tokenizer};

/// Splits `text` on top-level `;`, trimming (ASCII) whitespace and dropping pieces that are empty or consist
/// only of comments (`/*vt+ */` directives count as comments; `/*! */` ones do not, MySQL runs
/// them). The pieces borrow from `text` and keep any comments inside them.
pub fn split_statements(text: &str) -> Vec<&str> {
    match single_statement(text) {
        Some("") => Vec::new(),
        Some(piece) => vec![piece],
        None => split_tokens(text),
    }
}

/// The one statement of a text that cannot hold a `;` or a comment, trimmed, without
/// tokenizing it (most COM_QUERYs); None when the text needs [`split_tokens`]. Trailing
/// whitespace is only trimmed this way when no quote could have left it inside an
/// unterminated string.
fn single_statement(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    if memchr::memchr3(b';', b'#', b'/', bytes).is_some()
        || memchr::memmem::find(bytes, b"--").is_some()
    {
        return None;
    }
    let space = |b: &u8| b.is_ascii_whitespace() || *b == 0x0b;
    let end = bytes.iter().rposition(|b| !space(b)).map_or(0, |i| i + 1);
    if end < bytes.len() && memchr::memchr3(b'\'', b'"', b'`', bytes).is_some() {
        return None;
    }
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(end);
    text.get(start.min(end)..end)
}

/// [`split_statements`] by the tokenizer.
fn split_tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // Span of the current piece's tokens (whitespace is never inside a token, so this trims it)
    // and whether any of them is more than a comment.
    let mut span: Option<(usize, usize)> = None;
    let mut has_content = false;
    for tok in Tokenizer::new(text) {
        if tok.kind == TokenKind::Semicolon {
            if let (Some((start, end)), true) = (span.take(), has_content) {
                out.push(&text[start..end]);
            }
            has_content = false;
            continue;
        }
        span = Some((span.map_or(tok.start, |(s, _)| s), tok.end));
        has_content |= !matches!(tok.kind, TokenKind::Comment | TokenKind::Directive);
    }
    if let (Some((start, end)), true) = (span, has_content) {
        out.push(&text[start..end]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_top_level_semicolons() {
        assert_eq!(
            split_statements("select 1; select 2 ;\n  select 3"),
            ["select 1", "select 2", "select 3"]
        );
        assert_eq!(split_statements("select 1;"), ["select 1"]);
    }

    #[test]
    fn ignores_semicolons_in_strings_and_comments() {
        let sql = "select ';', \"a;b\", `c;d` -- x;y\n from t /* ; */ where a = 'it''s;' # ;\n; x";
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with("select ';'"));
        assert!(parts[0].ends_with("# ;"));
        assert_eq!(parts[1], "x");
        assert_eq!(
            split_statements("select 'a\\';b'; x"),
            ["select 'a\\';b'", "x"]
        );
    }

    #[test]
    fn drops_empty_and_comment_only_pieces() {
        assert!(split_statements("").is_empty());
        assert!(split_statements(" ; ;;\n\t; ").is_empty());
        assert!(split_statements("/* c */ ; -- x\n; # y").is_empty());
        assert_eq!(
            split_statements("; /* c */ select 1 ;;"),
            ["/* c */ select 1"]
        );
    }

    #[test]
    fn keeps_exec_comments_drops_lone_directives() {
        assert_eq!(
            split_statements("/*!40101 SET NAMES utf8 */; /*vt+ X=1 */; /*vt+ Y=1 */ select 1"),
            ["/*!40101 SET NAMES utf8 */", "/*vt+ Y=1 */ select 1"]
        );
        assert_eq!(split_statements("/*!40101 a; b */"), ["/*!40101 a; b */"]);
    }

    #[test]
    fn the_quick_path_agrees_with_the_tokenizer() {
        for text in [
            "SELECT c FROM sbtest1 WHERE id=5",
            "  select 1 \n",
            "\x0b select 'a' ",
            "select 'unterminated  ",
            "select `q  ",
            "select \"x\" from t\t",
            "select 1 - -1",
            "",
            " \t\n",
            "select 'a\\' ",
        ] {
            assert_eq!(split_statements(text), split_tokens(text), "{text:?}");
        }
        assert!(single_statement("select 1 -- c").is_none());
        assert!(single_statement("select 1; select 2").is_none());
        assert!(single_statement("select 'a' ").is_none());
        assert_eq!(single_statement(" select 1 "), Some("select 1"));
    }

    #[test]
    fn unterminated_input_runs_to_end() {
        assert_eq!(split_statements("select 'abc; def"), ["select 'abc; def"]);
        assert_eq!(split_statements("a; /* x; y"), ["a"]);
        assert_eq!(split_statements("a; select `x;"), ["a", "select `x;"]);
        assert_eq!(split_statements("é;ü"), ["é", "ü"]);
    }
}
