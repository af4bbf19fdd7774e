//! Tests for the tokenizer: token kinds and spans on hand-picked input.

use super::TokenKind::*;
use super::*;

fn toks(src: &str) -> Vec<(TokenKind, &str)> {
    tokenize(src)
        .iter()
        .map(|t| (t.kind, t.text(src)))
        .collect()
}

fn kinds(src: &str) -> Vec<TokenKind> {
    tokenize(src).iter().map(|t| t.kind).collect()
}

#[test]
fn identifiers_and_keywords() {
    assert_eq!(
        toks("SELECT a_1, $x, _y, né, 1abc, 123e"),
        [
            (Ident, "SELECT"),
            (Ident, "a_1"),
            (Punct, ","),
            (Ident, "$x"),
            (Punct, ","),
            (Ident, "_y"),
            (Punct, ","),
            (Ident, "né"),
            (Punct, ","),
            (Ident, "1abc"),
            (Punct, ","),
            (Ident, "123e"),
        ]
    );
    assert_eq!(
        toks("`a``b` `x"),
        [(QuotedIdent, "`a``b`"), (QuotedIdent, "`x")]
    );
    assert_eq!(
        toks("t.1a t.`c`"),
        [
            (Ident, "t"),
            (Punct, "."),
            (Ident, "1a"),
            (Ident, "t"),
            (Punct, "."),
            (QuotedIdent, "`c`")
        ]
    );
    assert_eq!(toks("t .5"), [(Ident, "t"), (Number, ".5")]);
}

#[test]
fn strings() {
    assert_eq!(
        toks(r#"'a''b' "c\"d" 'e\\' 'f;--' "#),
        [
            (String, "'a''b'"),
            (String, r#""c\"d""#),
            (String, r"'e\\'"),
            (String, "'f;--'")
        ]
    );
    assert_eq!(
        toks("_utf8mb4'x' N'y'"),
        [
            (Ident, "_utf8mb4"),
            (String, "'x'"),
            (Ident, "N"),
            (String, "'y'")
        ]
    );
    assert_eq!(
        toks("'unterminated \\' more"),
        [(String, "'unterminated \\' more")]
    );
    assert_eq!(toks("'a\\"), [(String, "'a\\")]);
    assert_eq!(toks("'ü\\ü'"), [(String, "'ü\\ü'")]);
}

#[test]
fn numbers_hex_bits() {
    assert_eq!(
        toks("1 1.5 .5 1. 1e3 1.5E-3 2e+7 0x1F X'0a' x'' b'01' 0b101 0xZZ 0b2"),
        [
            (Number, "1"),
            (Number, "1.5"),
            (Number, ".5"),
            (Number, "1."),
            (Number, "1e3"),
            (Number, "1.5E-3"),
            (Number, "2e+7"),
            (HexOrBit, "0x1F"),
            (HexOrBit, "X'0a'"),
            (HexOrBit, "x''"),
            (HexOrBit, "b'01'"),
            (HexOrBit, "0b101"),
            (Ident, "0xZZ"),
            (Ident, "0b2"),
        ]
    );
    assert_eq!(toks("1e"), [(Ident, "1e")]);
    assert_eq!(toks("1.5.6"), [(Number, "1.5"), (Number, ".6")]);
    assert_eq!(toks("-5"), [(Punct, "-"), (Number, "5")]);
    assert_eq!(toks("x'4"), [(HexOrBit, "x'4")]);
}

#[test]
fn variables_and_params() {
    assert_eq!(
        toks("@x @@y @@session.sql_mode @'q q' @`b` @\"d\" @a.b @ ? @x:=1"),
        [
            (Variable, "@x"),
            (Variable, "@@y"),
            (Variable, "@@session.sql_mode"),
            (Variable, "@'q q'"),
            (Variable, "@`b`"),
            (Variable, "@\"d\""),
            (Variable, "@a.b"),
            (Variable, "@"),
            (Param, "?"),
            (Variable, "@x"),
            (Punct, ":="),
            (Number, "1"),
        ]
    );
    assert_eq!(toks("'u'@'h'"), [(String, "'u'"), (Variable, "@'h'")]);
}

#[test]
fn comments() {
    assert_eq!(
        toks("a -- c;\nb #x\nc /* m\n */ d /*! e */ /*M!100000 f */ /*vt+ g */ /*+ h */ --x"),
        [
            (Ident, "a"),
            (Comment, "-- c;"),
            (Ident, "b"),
            (Comment, "#x"),
            (Ident, "c"),
            (Comment, "/* m\n */"),
            (Ident, "d"),
            (ExecComment, "/*! e */"),
            (ExecComment, "/*M!100000 f */"),
            (Directive, "/*vt+ g */"),
            (Comment, "/*+ h */"),
            (Punct, "-"),
            (Punct, "-"),
            (Ident, "x"),
        ]
    );
    assert_eq!(toks("a--"), [(Ident, "a"), (Comment, "--")]);
    assert_eq!(toks("a--\tb"), [(Ident, "a"), (Comment, "--\tb")]);
    assert_eq!(toks("/* open"), [(Comment, "/* open")]);
    assert_eq!(toks("/*! open"), [(ExecComment, "/*! open")]);
    assert_eq!(toks("/**/x"), [(Comment, "/**/"), (Ident, "x")]);
    assert_eq!(toks("/*/ x"), [(Comment, "/*/ x")]);
}

#[test]
fn operators() {
    assert_eq!(kinds("a<=>b"), [Ident, Punct, Ident],);
    let src = "<=> ->> <= >= <> != := || && -> << >> < > = ! : | & - + * / % ^ ~ ( ) , . ;";
    let texts: Vec<&str> = tokenize(src).iter().map(|t| t.text(src)).collect();
    assert_eq!(texts, src.split(' ').collect::<Vec<_>>());
    assert_eq!(kinds("a;b"), [Ident, Semicolon, Ident]);
}

#[test]
fn whitespace_and_empty() {
    assert!(tokenize("").is_empty());
    assert!(tokenize(" \t\r\n\x0b\x0c").is_empty());
    assert_eq!(toks("\u{a0}"), [(Ident, "\u{a0}")]);
    assert_eq!(toks("\0"), [(Punct, "\0")]);
}

#[test]
fn spans_are_offsets() {
    let src = "  select `a`";
    let t = tokenize(src);
    assert_eq!((t[0].start, t[0].end), (2, 8));
    assert_eq!((t[1].start, t[1].end), (9, 12));
}

#[test]
fn ident_and_string_values() {
    let v = |s: &str| tokenize(s)[0].ident_value(s).into_owned();
    assert_eq!(v("`a``b`"), "a`b");
    assert_eq!(v("`plain`"), "plain");
    assert_eq!(v("`open"), "open");
    assert_eq!(v("`open``"), "open`");
    assert_eq!(v("bare"), "bare");
    assert!(matches!(
        tokenize("`x`")[0].ident_value("`x`"),
        Cow::Borrowed("x")
    ));
    let s = |s: &str| tokenize(s)[0].string_value(s).into_owned();
    assert_eq!(s(r"'a\nb\tc\0\Z\\\'\%\_\q'"), "a\nb\tc\0\u{1a}\\'\\%\\_q");
    assert_eq!(s("'it''s'"), "it's");
    assert_eq!(s(r#""say ""hi""""#), "say \"hi\"");
    assert_eq!(s("'é\\é'"), "éé");
    assert_eq!(s("'open\\"), "open");
    assert_eq!(s("'"), "");
}

#[test]
fn termination() {
    let term = |s: &str| tokenize(s)[0].is_terminated(s);
    for s in [
        "'a'", "'a'''", "`a`", "\"\"", "x'00'", "/**/", "/*! x */", "/*vt+ */", "-- x", "a", "@'x'",
    ] {
        assert!(term(s), "{s}");
    }
    for s in [
        "'a", "'a''", "'a\\'", "`a``", "x'0", "/* x", "/*! x", "/*vt+", "/*/",
    ] {
        assert!(!term(s), "{s}");
    }
}

#[test]
fn tokenizer_over_range() {
    let src = "xx select 1 yy";
    let t: Vec<Token> = Tokenizer::with_range(src, 3, 11).collect();
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].text(src), "1");
    assert_eq!(Tokenizer::with_range(src, 50, 60).count(), 0);
    assert_eq!(Tokenizer::with_range(src, 9, 3).count(), 0);
}
