//! The tokens MySQL actually acts on.
//!
//! Classification, `USE`/`SET` parsing and qualifier rewriting all need the same view of a statement:
//! plain comments and `/*vt+ */` directives skipped, and `/*! ... */` / `/*M! ... */` comments opened
//! up, because MySQL executes their content (mysqldump's `/*!40101 SET NAMES utf8 */`). Tokens from
//! inside such comments keep offsets into the original text, so spans stay valid for splicing.

use super::tokenizer::{Token, TokenKind, Tokenizer};

/// How deeply `/*!` comments are opened; deeper ones are yielded whole. MySQL does not nest them, so
/// this only bounds work on hostile input.
const MAX_DEPTH: usize = 4;

/// Iterator over significant tokens: no `Comment`/`Directive`, `ExecComment` content expanded.
#[derive(Debug, Clone)]
pub struct Significant<'a> {
    src: &'a str,
    levels: [Tokenizer<'a>; MAX_DEPTH],
    depth: usize,
}

impl<'a> Significant<'a> {
    /// Starts at the beginning of `src`.
    pub fn new(src: &'a str) -> Self {
        let empty = Tokenizer::with_range(src, 0, 0);
        let mut levels = [empty; MAX_DEPTH];
        levels[0] = Tokenizer::new(src);
        Significant {
            src,
            levels,
            depth: 0,
        }
    }
}

/// The byte range of an exec comment's content: after `/*!` or `/*M!` and an optional version
/// number, up to a closing `*/` when present.
pub(crate) fn exec_comment_body(src: &str, tok: &Token) -> (usize, usize) {
    let text = tok.text(src).as_bytes();
    let mut start = if text.starts_with(b"/*M!") { 4 } else { 3 };
    let digits = text
        .get(start..)
        .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
    // MySQL versions are 5 digits (`40101`); MariaDB's `/*M!` uses 6 (`100101`).
    start += match digits {
        0..=4 => 0,
        6 => 6,
        _ => 5,
    };
    let mut end = text.len();
    if end >= start + 2 && text.ends_with(b"*/") {
        end -= 2;
    }
    (tok.start + start.min(end), tok.start + end)
}

impl Iterator for Significant<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            let Some(tok) = self.levels[self.depth].next() else {
                if self.depth == 0 {
                    return None;
                }
                self.depth -= 1;
                continue;
            };
            match tok.kind {
                TokenKind::Comment | TokenKind::Directive => continue,
                TokenKind::ExecComment if self.depth + 1 < MAX_DEPTH => {
                    let (start, end) = exec_comment_body(self.src, &tok);
                    self.depth += 1;
                    self.levels[self.depth] = Tokenizer::with_range(self.src, start, end);
                }
                _ => return Some(tok),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        Significant::new(src).map(|t| t.text(src)).collect()
    }

    #[test]
    fn skips_comments_and_directives() {
        assert_eq!(
            texts("/* a */ select -- x\n 1 # y\n /*vt+ Q=1 */ from t"),
            ["select", "1", "from", "t"]
        );
    }

    #[test]
    fn opens_exec_comments() {
        let src = "/*!40101 SET NAMES utf8 */;";
        assert_eq!(texts(src), ["SET", "NAMES", "utf8", ";"]);
        assert_eq!(texts("/*M!100101 SET x=1*/"), ["SET", "x", "=", "1"]);
        assert_eq!(texts("/*!SELECT*/ 1"), ["SELECT", "1"]);
        assert_eq!(texts("/*!999999 a */"), ["a"]);
        assert_eq!(texts("/*!1234 a */"), ["1234", "a"]);
        assert_eq!(texts("/*!40101 unterminated"), ["unterminated"]);
        assert_eq!(texts("/*!*/ x"), ["x"]);
        assert_eq!(texts("/*!"), Vec::<&str>::new());
        assert_eq!(texts("/*M!"), Vec::<&str>::new());
    }

    #[test]
    fn nesting_is_bounded() {
        let src = "/*!".repeat(1000);
        assert!(Significant::new(&src).count() <= 1);
        let src = "/*! /*! /*! /*! /*! /*! x";
        let toks: Vec<_> = Significant::new(src).collect();
        assert_eq!(toks.len(), 1);
        assert_eq!(toks[0].kind, TokenKind::ExecComment);
    }
}
