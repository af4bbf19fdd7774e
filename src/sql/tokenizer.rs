//! Byte-level MySQL tokenizer.
//!
//! Every statement passes through here before anything else looks at it, so the scanner is a single
//! forward pass over bytes: no regex, no allocation per token, and no input can make it panic.
//! Tokens carry byte offsets into the original text so callers can splice edits without re-printing.
//! Unterminated strings, quoted identifiers and comments extend to the end of the text.

use std::borrow::Cow;

use super::quoting::{closing_quote, unquote};

/// What a [`Token`] is; callers decide meaning (keywords are plain [`TokenKind::Ident`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Bare identifier or keyword (`select`, `t1`, `$x`, `né`, `1abc`).
    Ident,
    /// Backtick-quoted identifier; `` `a``b` `` is one token.
    QuotedIdent,
    /// `'...'` or `"..."` string with backslash escapes and doubled quotes.
    String,
    /// `x'..'`, `0x..`, `b'..'`, `0b..`.
    HexOrBit,
    /// Integer, decimal or exponent number (`1`, `1.5`, `.5`, `1e-3`).
    Number,
    /// `?` placeholder.
    Param,
    /// `@x`, `@@x`, `@@session.x`, `@'quoted'`.
    Variable,
    /// `-- ...`, `# ...` or `/* ... */`: ignorable by MySQL.
    Comment,
    /// `/*! ... */` or `/*M! ... */`: MySQL executes the content, so it is not ignorable.
    ExecComment,
    /// `/*vt+ ... */` query directive for the proxy.
    Directive,
    /// Operator or other punctuation; multi-byte operators like `<=>` and `->>` are one token.
    Punct,
    /// `;` statement terminator.
    Semicolon,
}

/// One lexical token: its kind and byte span `start..end` in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// What was scanned.
    pub kind: TokenKind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Token {
    /// The token's text, so callers never index the source by hand.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }

    /// The identifier the token names: backticks removed and doubled backticks collapsed for
    /// [`TokenKind::QuotedIdent`]; any other token's text is returned unchanged.
    pub fn ident_value<'a>(&self, src: &'a str) -> Cow<'a, str> {
        match self.kind {
            TokenKind::QuotedIdent => unquote(self.text(src)),
            _ => Cow::Borrowed(self.text(src)),
        }
    }

    /// The content of a [`TokenKind::String`] with quotes removed and MySQL escapes applied
    /// (`\n`, `\0`, `''`, ...); any other token's text is returned unchanged.
    pub fn string_value<'a>(&self, src: &'a str) -> Cow<'a, str> {
        match self.kind {
            TokenKind::String => unquote(self.text(src)),
            _ => Cow::Borrowed(self.text(src)),
        }
    }

    /// Whether a quoted token or block comment has its closing delimiter (unterminated ones run to
    /// the end of the text). Other kinds are always terminated.
    pub fn is_terminated(&self, src: &str) -> bool {
        let text = self.text(src).as_bytes();
        match self.kind {
            TokenKind::String | TokenKind::QuotedIdent => match text.first() {
                Some(&q) => closing_quote(&text[1..], q).is_some(),
                None => false,
            },
            TokenKind::HexOrBit if text.get(1) == Some(&b'\'') => {
                text.len() >= 3 && text.ends_with(b"'")
            }
            TokenKind::ExecComment | TokenKind::Directive => text.ends_with(b"*/"),
            TokenKind::Comment if text.starts_with(b"/*") => {
                text.len() >= 4 && text.ends_with(b"*/")
            }
            _ => true,
        }
    }

    /// Whether this is a bare word equal to `word`, ignoring ASCII case (keyword test).
    pub fn is_word(&self, src: &str, word: &str) -> bool {
        self.kind == TokenKind::Ident && self.text(src).eq_ignore_ascii_case(word)
    }

    /// Whether this is punctuation exactly equal to `p`.
    pub fn is_punct(&self, src: &str, p: &str) -> bool {
        self.kind == TokenKind::Punct && self.text(src) == p
    }
}

const IDENT: u8 = 1;
const SPACE: u8 = 2;

/// Byte classes, so the hot loops test one table entry instead of a chain of ranges.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 {
            t[i] = IDENT;
        } else if b.is_ascii_whitespace() || b == 0x0b {
            t[i] = SPACE;
        }
        i += 1;
    }
    t
};

/// Whether `b` may appear in a bare identifier (digits included; bytes >= 0x80 are UTF-8 letters).
#[inline]
pub(crate) fn is_ident_byte(b: u8) -> bool {
    CLASS[b as usize] == IDENT
}

/// Streaming tokenizer over `src[start..end]`; offsets are always relative to the whole `src`.
///
/// Use [`tokenize`] for a `Vec`; iterate this directly when only the first few tokens matter.
#[derive(Debug, Clone, Copy)]
pub struct Tokenizer<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    /// Set after a `.` glued to an identifier: MySQL then reads `t.1a` as identifier `1a`.
    after_ident_dot: bool,
    /// Kind and end of the previous token, for the rule above.
    prev: Option<(TokenKind, usize)>,
}

impl<'a> Tokenizer<'a> {
    /// Tokenizes the whole text.
    pub fn new(src: &'a str) -> Self {
        Self::with_range(src, 0, src.len())
    }

    /// Tokenizes only `src[start..end]` (clamped); used to look inside `/*! ... */` comments while
    /// keeping offsets valid for `src`.
    pub fn with_range(src: &'a str, start: usize, end: usize) -> Self {
        let end = end.min(src.len());
        Tokenizer {
            bytes: src.as_bytes(),
            pos: start.min(end),
            end,
            after_ident_dot: false,
            prev: None,
        }
    }

    #[inline]
    fn peek(&self, at: usize) -> Option<u8> {
        if at < self.end {
            self.bytes.get(at).copied()
        } else {
            None
        }
    }

    fn skip_ident(&self, mut i: usize) -> usize {
        while self.peek(i).is_some_and(is_ident_byte) {
            i += 1;
        }
        i
    }

    fn skip_digits(&self, mut i: usize, pred: fn(&u8) -> bool) -> usize {
        while self.peek(i).as_ref().is_some_and(pred) {
            i += 1;
        }
        i
    }

    /// Returns the index just past the closing `quote` (or the end) for a quoted run starting at
    /// `i` (the opening quote).
    fn skip_quoted(&self, i: usize, quote: u8, backslash: bool) -> usize {
        let mut i = i + 1;
        while let Some(b) = self.peek(i) {
            if b == b'\\' && backslash {
                i = (i + 2).min(self.end);
            } else if b == quote {
                if self.peek(i + 1) == Some(quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i += 1;
            }
        }
        self.end
    }

    fn skip_block_comment(&self, i: usize) -> usize {
        let mut i = i + 2;
        while i < self.end {
            if self.bytes[i] == b'*' && self.peek(i + 1) == Some(b'/') {
                return i + 2;
            }
            i += 1;
        }
        self.end
    }

    fn skip_line(&self, mut i: usize) -> usize {
        while self.peek(i).is_some_and(|b| b != b'\n') {
            i += 1;
        }
        i
    }

    /// Scans a token starting with a digit, or `.` followed by a digit.
    fn scan_number(&self, s: usize) -> (TokenKind, usize) {
        let b1 = self.peek(s + 1);
        if self.bytes[s] == b'0' && matches!(b1, Some(b'x' | b'X' | b'b' | b'B')) {
            let hex = matches!(b1, Some(b'x' | b'X'));
            let pred: fn(&u8) -> bool = if hex {
                u8::is_ascii_hexdigit
            } else {
                |b| *b == b'0' || *b == b'1'
            };
            let e = self.skip_digits(s + 2, pred);
            if e > s + 2 && !self.peek(e).is_some_and(is_ident_byte) {
                return (TokenKind::HexOrBit, e);
            }
            return (TokenKind::Ident, self.skip_ident(s));
        }
        let mut i = self.skip_digits(s, u8::is_ascii_digit);
        let int_part = i > s;
        let mut plain = true;
        if self.peek(i) == Some(b'.') {
            plain = false;
            i = self.skip_digits(i + 1, u8::is_ascii_digit);
        }
        if matches!(self.peek(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(self.peek(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let k = self.skip_digits(j, u8::is_ascii_digit);
            if k > j {
                plain = false;
                i = k;
            }
        }
        if plain && int_part && self.peek(i).is_some_and(is_ident_byte) {
            // `123abc` is an identifier in MySQL.
            return (TokenKind::Ident, self.skip_ident(i));
        }
        (TokenKind::Number, i)
    }

    fn scan_variable(&self, s: usize) -> usize {
        let mut i = s + 1;
        if self.peek(i) == Some(b'@') {
            i += 1;
        }
        if let Some(q @ (b'\'' | b'"' | b'`')) = self.peek(i) {
            return self.skip_quoted(i, q, q != b'`');
        }
        loop {
            i = self.skip_ident(i);
            if self.peek(i) == Some(b'.') && self.peek(i + 1).is_some_and(is_ident_byte) {
                i += 1;
            } else {
                return i;
            }
        }
    }

    fn scan_punct(&self, s: usize) -> usize {
        let b0 = self.bytes[s];
        let b1 = self.peek(s + 1).unwrap_or(0);
        let b2 = self.peek(s + 2).unwrap_or(0);
        match (b0, b1, b2) {
            (b'<', b'=', b'>') | (b'-', b'>', b'>') => s + 3,
            (b'<', b'=' | b'>' | b'<', _)
            | (b'>', b'=' | b'>', _)
            | (b'!' | b':', b'=', _)
            | (b'|', b'|', _)
            | (b'&', b'&', _)
            | (b'-', b'>', _) => s + 2,
            _ => s + 1,
        }
    }

    /// Whether an identifier ends exactly at `s` (so a `.` there is a qualifier separator).
    fn ident_before(&self, s: usize) -> bool {
        matches!(self.prev, Some((TokenKind::Ident | TokenKind::QuotedIdent, e)) if e == s)
    }

    /// Scans the token at `s` (not whitespace); returns its kind and end.
    fn scan_token(&self, s: usize) -> (TokenKind, usize) {
        let b = self.bytes[s];
        let b1 = self.peek(s + 1);
        if self.after_ident_dot && is_ident_byte(b) {
            return (TokenKind::Ident, self.skip_ident(s));
        }
        match b {
            b'\'' | b'"' => (TokenKind::String, self.skip_quoted(s, b, true)),
            b'`' => (TokenKind::QuotedIdent, self.skip_quoted(s, b, false)),
            b'x' | b'X' | b'b' | b'B' if b1 == Some(b'\'') => {
                (TokenKind::HexOrBit, self.skip_quoted(s + 1, b'\'', false))
            }
            b'0'..=b'9' => self.scan_number(s),
            b'.' if b1.is_some_and(|c| c.is_ascii_digit()) && !self.ident_before(s) => {
                self.scan_number(s)
            }
            _ if is_ident_byte(b) => (TokenKind::Ident, self.skip_ident(s)),
            b'?' => (TokenKind::Param, s + 1),
            b';' => (TokenKind::Semicolon, s + 1),
            b'@' => (TokenKind::Variable, self.scan_variable(s)),
            b'#' => (TokenKind::Comment, self.skip_line(s)),
            b'-' if b1 == Some(b'-') && self.peek(s + 2).is_none_or(|c| c <= b' ') => {
                (TokenKind::Comment, self.skip_line(s))
            }
            b'/' if b1 == Some(b'*') => {
                let e = self.skip_block_comment(s);
                let rest = &self.bytes[s + 2..self.end];
                let kind = if rest.starts_with(b"!") || rest.starts_with(b"M!") {
                    TokenKind::ExecComment
                } else if rest.starts_with(b"vt+") {
                    TokenKind::Directive
                } else {
                    TokenKind::Comment
                };
                (kind, e)
            }
            _ => (TokenKind::Punct, self.scan_punct(s)),
        }
    }
}

impl Iterator for Tokenizer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        while self
            .peek(self.pos)
            .is_some_and(|b| CLASS[b as usize] == SPACE)
        {
            self.pos += 1;
        }
        if self.pos >= self.end {
            return None;
        }
        let start = self.pos;
        let (kind, end) = self.scan_token(start);
        // Every branch consumes at least one byte; the max guards the loop regardless.
        let end = end.clamp(start + 1, self.end);
        self.pos = end;
        self.after_ident_dot =
            kind == TokenKind::Punct && self.bytes[start] == b'.' && self.ident_before(start);
        self.prev = Some((kind, end));
        Some(Token { kind, start, end })
    }
}

/// Most tokens [`tokenize`] reserves room for before it has seen them.
pub const RESERVED_TOKENS: usize = 64 * 1024;

/// Splits `text` into tokens, skipping whitespace. Never panics; unterminated constructs run to the end.
pub fn tokenize(text: &str) -> Vec<Token> {
    // Typical SQL has a token every 4-6 bytes; reserving up front avoids repeated regrowth
    // (up to 64 Ki tokens: a statement of one huge literal must not reserve six times its
    // size; longer token lists grow as they fill).
    let mut out = Vec::with_capacity((text.len() / 4 + 1).min(RESERVED_TOKENS));
    out.extend(Tokenizer::new(text));
    out
}

#[cfg(test)]
#[path = "tokenizer_tests.rs"]
mod tests;
