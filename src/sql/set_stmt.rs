//! Parsing `SET` statements into items.
//!
//! The session layer tracks what a client changed (autocommit, `transaction_mode`, `sql_mode`, user
//! variables, character set) so it can answer locally, replay state on new shard connections and
//! reset only dirty ones. sqlparser rewrites some `SET` forms when printing them, so the proxy reads
//! them from the tokens instead. Tokens inside `/*! ... */` count (mysqldump's
//! `/*!40101 SET NAMES utf8 */`).
//!
//! Shapes and the items they produce:
//! - `SET [GLOBAL|SESSION|LOCAL|PERSIST|PERSIST_ONLY] name = v`, `SET @@[scope.]name = v`,
//!   `SET @user = v` / `:= v`: one item per comma-separated assignment; `LOCAL` and a missing scope
//!   are [`SetScope::Session`], `PERSIST_ONLY` is [`SetScope::Persist`]. Dotted names
//!   (`key_cache.key_buffer_size`) keep their dot.
//! - `SET NAMES cs [COLLATE coll]`: item `names` (scope `Names`) and, when present, a second item
//!   `collate` (scope `Names`) holding the collation.
//! - `SET CHARACTER SET cs` / `SET CHARSET cs`: item `charset` (scope `CharacterSet`).
//! - `SET [scope] TRANSACTION ...`: one item with scope `Transaction`, value [`SetValue::Expr`] with
//!   the characteristics text (commas included), and `name` recording the scope keyword:
//!   `"transaction"` when none (next transaction only), else `"session"` (also for `LOCAL`),
//!   `"global"`, `"persist"` or `"persist_only"`.
//! - Anything else (`SET ROLE r`, `SET PASSWORD FOR u = ...`, `SET STATEMENT ... FOR ...`): an item
//!   with an empty `name`, scope `Session` (or the scope keyword given) and an `Expr` holding the rest
//!   of the statement from where understanding stopped; parsing ends there.

use super::quoting::unquote;
use super::significant::Significant;
use super::tokenizer::{Token, TokenKind};

/// Which namespace a `SET` item writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetScope {
    /// Session system variable (`SET x`, `SET SESSION x`, `SET LOCAL x`, `SET @@x`, `@@session.x`).
    Session,
    /// Global system variable (`SET GLOBAL x`, `@@global.x`).
    Global,
    /// Persisted system variable (`SET PERSIST x`, `SET PERSIST_ONLY x`, `@@persist.x`).
    Persist,
    /// User variable `@x`.
    User,
    /// `SET NAMES` (items `names` and `collate`).
    Names,
    /// `SET CHARACTER SET` / `SET CHARSET` (item `charset`).
    CharacterSet,
    /// `SET [scope] TRANSACTION ...`.
    Transaction,
}

/// The value assigned by one `SET` item, pre-digested where simple.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetValue {
    /// Integer literal, optionally signed (`0`, `-5`).
    Int(i64),
    /// String literal content, unquoted and unescaped (adjacent literals and an introducer such as
    /// `_utf8mb4'x'` or `N'x'` are folded in).
    Str(String),
    /// Bare word as written (`ON`, `utf8mb4`, `DEFAULT`); backticks removed if quoted.
    Ident(String),
    /// Raw text of any other expression, exactly as in the statement.
    Expr(String),
}

/// One assignment (or `NAMES` / `CHARACTER SET` / `TRANSACTION` clause) of a `SET` statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetItem {
    /// Where the value goes.
    pub scope: SetScope,
    /// Lowercased name without `@`, `@@` or scope prefix (see the module docs for special items).
    pub name: String,
    /// The assigned value.
    pub value: SetValue,
}

/// Parses a `SET` statement into its items. Returns `None` only when the statement is not a `SET`;
/// a bare `SET` gives `Some(vec![])` and shapes it does not understand give `Expr` items.
pub fn parse_set(stmt: &str) -> Option<Vec<SetItem>> {
    let toks: Vec<Token> = Significant::new(stmt)
        .take_while(|t| t.kind != TokenKind::Semicolon)
        .collect();
    let (first, rest) = toks.split_first()?;
    if !first.is_word(stmt, "set") {
        return None;
    }
    Some(parse_items(stmt, rest))
}

fn parse_items(src: &str, toks: &[Token]) -> Vec<SetItem> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let rest = &toks[i..];
        let n = item_len(src, rest);
        let item = &rest[..n];
        let (explicit, j) = scope_keyword(src, item);
        let word = |k: usize, w: &str| item.get(k).is_some_and(|t| t.is_word(src, w));
        let assigns = item.get(j + 1).is_some_and(|t| is_assign(src, t));
        if word(j, "transaction") && !assigns {
            let name = match (explicit, item.first()) {
                (Some(_), Some(kw)) => scope_name(&kw.text(src).to_ascii_lowercase()),
                _ => "transaction".to_string(),
            };
            let value = SetValue::Expr(raw(src, rest.get(j + 1..).unwrap_or(&[])).to_string());
            items.push(item_of(SetScope::Transaction, &name, value));
            break;
        }
        if explicit.is_none() && word(0, "names") && !assigns {
            let collate = item.iter().position(|t| t.is_word(src, "collate"));
            let cs_end = collate.unwrap_or(n);
            items.push(item_of(
                SetScope::Names,
                "names",
                value_of(src, &item[1..cs_end]),
            ));
            if let Some(c) = collate {
                items.push(item_of(
                    SetScope::Names,
                    "collate",
                    value_of(src, &item[c + 1..]),
                ));
            }
        } else if explicit.is_none() && word(0, "charset") && !assigns {
            items.push(item_of(
                SetScope::CharacterSet,
                "charset",
                value_of(src, &item[1..]),
            ));
        } else if explicit.is_none() && word(0, "character") && word(1, "set") {
            let v = value_of(src, item.get(2..).unwrap_or(&[]));
            items.push(item_of(SetScope::CharacterSet, "charset", v));
        } else if let Some(parsed) = parse_assignment(src, item, j, explicit) {
            items.push(parsed);
        } else {
            let value = SetValue::Expr(raw(src, rest).to_string());
            items.push(item_of(explicit.unwrap_or(SetScope::Session), "", value));
            break;
        }
        i += n + 1;
    }
    items
}

fn item_of(scope: SetScope, name: &str, value: SetValue) -> SetItem {
    SetItem {
        scope,
        name: name.to_string(),
        value,
    }
}

/// Number of tokens up to (not including) the next top-level `,`.
fn item_len(src: &str, toks: &[Token]) -> usize {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokenKind::Punct {
            continue;
        }
        match t.text(src) {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "," if depth == 0 => return i,
            _ => {}
        }
    }
    toks.len()
}

fn is_assign(src: &str, t: &Token) -> bool {
    t.is_punct(src, "=") || t.is_punct(src, ":=")
}

/// Maps a lowercased scope keyword to its scope; `None` for other words.
fn scope_of_word(w: &str) -> Option<SetScope> {
    match w {
        "session" | "local" => Some(SetScope::Session),
        "global" => Some(SetScope::Global),
        "persist" | "persist_only" => Some(SetScope::Persist),
        _ => None,
    }
}

fn scope_name(w: &str) -> String {
    if w == "local" { "session" } else { w }.to_string()
}

/// A leading `GLOBAL`/`SESSION`/... keyword (not itself being assigned): its scope and the index of
/// the token after it.
fn scope_keyword(src: &str, item: &[Token]) -> (Option<SetScope>, usize) {
    match item {
        [kw, next, ..] if kw.kind == TokenKind::Ident && !is_assign(src, next) => {
            match scope_of_word(&kw.text(src).to_ascii_lowercase()) {
                Some(scope) => (Some(scope), 1),
                None => (None, 0),
            }
        }
        _ => (None, 0),
    }
}

/// `name = value` starting at `item[j]`; `None` if the item does not have that shape.
fn parse_assignment(
    src: &str,
    item: &[Token],
    j: usize,
    explicit: Option<SetScope>,
) -> Option<SetItem> {
    let head = item.get(j)?;
    let mut k = j + 1;
    let (scope, name) = match head.kind {
        TokenKind::Variable => {
            let text = head.text(src);
            if let Some(sys) = text.strip_prefix("@@") {
                let lower = unquote(sys).to_lowercase();
                let (scope, name) = match lower.split_once('.') {
                    Some((pre, name)) => match scope_of_word(pre) {
                        Some(scope) => (scope, name.to_string()),
                        None => (SetScope::Session, lower.clone()),
                    },
                    None => (SetScope::Session, lower.clone()),
                };
                (scope, name)
            } else {
                (SetScope::User, unquote(&text[1..]).to_lowercase())
            }
        }
        TokenKind::Ident | TokenKind::QuotedIdent => {
            let mut name = head.ident_value(src).to_lowercase();
            while let [dot, part, ..] = item.get(k..).unwrap_or(&[]) {
                if !dot.is_punct(src, ".")
                    || !matches!(part.kind, TokenKind::Ident | TokenKind::QuotedIdent)
                {
                    break;
                }
                name.push('.');
                name.push_str(&part.ident_value(src).to_lowercase());
                k += 2;
            }
            (explicit.unwrap_or(SetScope::Session), name)
        }
        _ => return None,
    };
    if name.is_empty() || !is_assign(src, item.get(k)?) {
        return None;
    }
    Some(SetItem {
        scope,
        name,
        value: value_of(src, &item[k + 1..]),
    })
}

/// The source text spanned by `toks` (first start to last end).
fn raw<'a>(src: &'a str, toks: &[Token]) -> &'a str {
    match (toks.first(), toks.last()) {
        (Some(a), Some(b)) => src.get(a.start..b.end).unwrap_or(""),
        _ => "",
    }
}

fn value_of(src: &str, toks: &[Token]) -> SetValue {
    let text = |t: &Token| t.text(src);
    match toks {
        [t] => match t.kind {
            TokenKind::Number => text(t)
                .parse()
                .map_or_else(|_| SetValue::Expr(text(t).to_string()), SetValue::Int),
            TokenKind::String => SetValue::Str(t.string_value(src).into_owned()),
            TokenKind::Ident | TokenKind::QuotedIdent => {
                SetValue::Ident(t.ident_value(src).into_owned())
            }
            _ => SetValue::Expr(text(t).to_string()),
        },
        [sign, n]
            if n.kind == TokenKind::Number
                && (sign.is_punct(src, "-") || sign.is_punct(src, "+")) =>
        {
            match format!("{}{}", text(sign), text(n)).parse() {
                Ok(v) => SetValue::Int(v),
                Err(_) => SetValue::Expr(raw(src, toks).to_string()),
            }
        }
        [intro, s]
            if intro.kind == TokenKind::Ident
                && s.kind == TokenKind::String
                && intro.end == s.start
                && (text(intro).starts_with('_') || text(intro).eq_ignore_ascii_case("n")) =>
        {
            SetValue::Str(s.string_value(src).into_owned())
        }
        [_, _, ..] if toks.iter().all(|t| t.kind == TokenKind::String) => {
            SetValue::Str(toks.iter().map(|t| t.string_value(src)).collect())
        }
        _ => SetValue::Expr(raw(src, toks).to_string()),
    }
}

#[cfg(test)]
#[path = "set_stmt_tests.rs"]
mod tests;
