//! Recognizing admin statements in the client's text.
//!
//! Works on [`crate::sql::tokenize`] tokens: keywords match case-insensitively, plain comments and
//! `/*vt+ */` directives are skipped (a directive right after `VEXPLAIN` is read for
//! `EXECUTE_DML_QUERIES`), trailing `;` are allowed. Grammar (Vitess's, plus two extensions
//! marked *):
//!
//! ```text
//! SHOW VITESS_SHARDS [LIKE 'pat']
//! SHOW {KEYSPACES | VITESS_KEYSPACES} [LIKE 'pat']
//! SHOW VITESS_TARGET
//! SHOW {VITESS_GATEWAYS | PROXIES} [LIKE 'pat']
//! SHOW VSCHEMA KEYSPACES
//! RELOAD VSCHEMA*
//! ALTER VSCHEMA ...                      (see `alter_vschema`)
//! SHOW VSCHEMA TABLES [{FROM | IN} ks]*
//! SHOW VSCHEMA VINDEXES [{ON | FROM} [ks.]tbl | IN ks*]
//! VEXPLAIN [/*vt+ EXECUTE_DML_QUERIES */] [PLAN | QUERIES | ALL] <stmt>
//! ```
//!
//! As in Vitess, `FROM` after `VINDEXES` names a *table*; a keyspace filter is spelled `IN ks`.
//! Other `SHOW VITESS_*` statements, `SHOW GLOBAL [V]GTID_EXECUTED` and the `TRACE`, `KEYS` and
//! `MYSQLPLAN` modes of `VEXPLAIN` are recognised and refused as unsupported, since no backend
//! could answer them either.

use super::{AdminError, AdminStatement, VExplainMode};
use crate::sql::{tokenize, Token, TokenKind};

/// Recognises an admin statement: `None` when `sql` is not one (send it on as usual),
/// `Some(Err)` when it is one but malformed or unsupported, `Some(Ok)` otherwise.
pub fn parse_admin(sql: &str) -> Option<Result<AdminStatement, AdminError>> {
    if let Some(w) = super::parse_workflow(sql) {
        return Some(w.map(AdminStatement::Workflow));
    }
    if let Some(a) = super::alter_vschema::parse_alter_vschema(sql) {
        return Some(a.map(AdminStatement::AlterVSchema));
    }
    let all = tokenize(sql);
    let mut p = Parser {
        src: sql,
        toks: all
            .iter()
            .copied()
            .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::Directive))
            .collect(),
        pos: 0,
    };
    let first = p.peek()?;
    if first.is_word(sql, "show") {
        p.pos += 1;
        parse_show(&mut p)
    } else if first.is_word(sql, "reload")
        && p.peek_at(1).is_some_and(|t| t.is_word(sql, "vschema"))
    {
        p.pos += 2;
        Some(p.expect_end().map(|()| AdminStatement::ReloadVSchema))
    } else if first.is_word(sql, "vexplain") {
        p.pos += 1;
        Some(parse_vexplain(&mut p, &all, first))
    } else {
        None
    }
}

/// A cursor over the significant tokens of one statement.
pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    toks: Vec<Token>,
    pub(super) pos: usize,
}

impl<'a> Parser<'a> {
    /// The significant tokens of `sql` (comments and directives skipped).
    pub(super) fn new(sql: &'a str) -> Parser<'a> {
        Parser {
            src: sql,
            toks: tokenize(sql)
                .into_iter()
                .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::Directive))
                .collect(),
            pos: 0,
        }
    }
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, ahead: usize) -> Option<Token> {
        self.toks.get(self.pos + ahead).copied()
    }

    /// The current token as a lower-cased bare word, if it is one.
    pub(super) fn peek_word(&self) -> Option<String> {
        self.peek()
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(self.src).to_ascii_lowercase())
    }

    pub(super) fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_word(self.src, word));
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// A syntax error at the current token (or at the end of the text).
    pub(super) fn error_here(&self) -> AdminError {
        match self.peek() {
            Some(t) => AdminError::Syntax {
                position: t.end,
                near: Some(t.text(self.src).to_string()),
            },
            None => AdminError::Syntax {
                position: self.src.len(),
                near: None,
            },
        }
    }

    /// Only `;` may follow.
    pub(super) fn expect_end(&mut self) -> Result<(), AdminError> {
        while self.peek().is_some_and(|t| t.kind == TokenKind::Semicolon) {
            self.pos += 1;
        }
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error_here()),
        }
    }

    /// A bare or backquoted identifier.
    pub(super) fn ident(&mut self) -> Result<String, AdminError> {
        match self.peek() {
            Some(t)
                if t.kind == TokenKind::Ident
                    || (t.kind == TokenKind::QuotedIdent && t.is_terminated(self.src)) =>
            {
                self.pos += 1;
                let name = t.ident_value(self.src).into_owned();
                if name.is_empty() {
                    return Err(AdminError::Syntax {
                        position: t.end,
                        near: Some(t.text(self.src).to_string()),
                    });
                }
                Ok(name)
            }
            _ => Err(self.error_here()),
        }
    }

    /// `[ks.]tbl`.
    pub(super) fn qualified(&mut self) -> Result<(Option<String>, String), AdminError> {
        let first = self.ident()?;
        if self.peek().is_some_and(|t| t.is_punct(self.src, ".")) {
            self.pos += 1;
            let table = self.ident()?;
            return Ok((Some(first), table));
        }
        Ok((None, first))
    }

    /// `[LIKE 'pattern']`; `WHERE` is refused (Vitess only filters these with LIKE).
    fn like_opt(&mut self, statement: &str) -> Result<Option<String>, AdminError> {
        if self.eat_word("like") {
            return match self.peek() {
                Some(t) if t.kind == TokenKind::String && t.is_terminated(self.src) => {
                    self.pos += 1;
                    Ok(Some(t.string_value(self.src).into_owned()))
                }
                _ => Err(self.error_here()),
            };
        }
        if self.peek().is_some_and(|t| t.is_word(self.src, "where")) {
            return Err(AdminError::Unsupported(format!(
                "WHERE in {statement}, use LIKE"
            )));
        }
        Ok(None)
    }
}

fn parse_show(p: &mut Parser) -> Option<Result<AdminStatement, AdminError>> {
    let word = p.peek_word()?;
    let stmt = match word.as_str() {
        "vitess_shards" => {
            p.pos += 1;
            p.like_opt("SHOW VITESS_SHARDS")
                .map(|like| AdminStatement::ShowVitessShards { like })
        }
        "keyspaces" | "vitess_keyspaces" => {
            p.pos += 1;
            p.like_opt("SHOW KEYSPACES")
                .map(|like| AdminStatement::ShowKeyspaces { like })
        }
        "vitess_target" => {
            p.pos += 1;
            Ok(AdminStatement::ShowVitessTarget)
        }
        "pools" => {
            p.pos += 1;
            p.like_opt("SHOW POOLS")
                .map(|like| AdminStatement::ShowPools { like })
        }
        "vschema" => {
            p.pos += 1;
            parse_show_vschema(p)
        }
        "vitess_gateways" | "proxies" => {
            p.pos += 1;
            p.like_opt("SHOW VITESS_GATEWAYS")
                .map(|like| AdminStatement::ShowGateways { like })
        }
        w if w.starts_with("vitess_") => Err(AdminError::Unsupported(format!(
            "SHOW {}",
            w.to_ascii_uppercase()
        ))),
        "global" => {
            let next = p.peek_at(1).filter(|t| t.kind == TokenKind::Ident)?;
            let name = next.text(p.src).to_ascii_uppercase();
            if name != "GTID_EXECUTED" && name != "VGTID_EXECUTED" {
                return None;
            }
            Err(AdminError::Unsupported(format!("SHOW GLOBAL {name}")))
        }
        _ => return None,
    };
    Some(stmt.and_then(|s| p.expect_end().map(|()| s)))
}

fn parse_show_vschema(p: &mut Parser) -> Result<AdminStatement, AdminError> {
    let Some(word) = p.peek_word() else {
        return Err(p.error_here());
    };
    match word.as_str() {
        "keyspaces" => {
            p.pos += 1;
            Ok(AdminStatement::ShowVSchemaKeyspaces)
        }
        "tables" => {
            p.pos += 1;
            let keyspace = if p.eat_word("from") || p.eat_word("in") {
                Some(p.ident()?)
            } else {
                None
            };
            Ok(AdminStatement::ShowVSchemaTables { keyspace })
        }
        "vindexes" => {
            p.pos += 1;
            let (mut table, mut keyspace) = (None, None);
            if p.eat_word("on") || p.eat_word("from") {
                table = Some(p.qualified()?);
            } else if p.eat_word("in") {
                keyspace = Some(p.ident()?);
            }
            Ok(AdminStatement::ShowVSchemaVindexes { table, keyspace })
        }
        _ => Err(p.error_here()),
    }
}

fn parse_vexplain(
    p: &mut Parser,
    all: &[Token],
    vexplain: Token,
) -> Result<AdminStatement, AdminError> {
    // Directives between VEXPLAIN and the next significant token belong to VEXPLAIN.
    let boundary = p.peek().map_or(p.src.len(), |t| t.start);
    let execute_dml = all
        .iter()
        .filter(|t| t.kind == TokenKind::Directive && t.start >= vexplain.end)
        .take_while(|t| t.end <= boundary)
        .any(|t| directive_sets(t.text(p.src), "EXECUTE_DML_QUERIES"));
    let mode = match p.peek_word().as_deref() {
        Some("plan") => Some(VExplainMode::Plan),
        Some("queries") => Some(VExplainMode::Queries),
        Some("all") => Some(VExplainMode::All),
        Some(w @ ("trace" | "keys" | "mysqlplan")) => {
            return Err(AdminError::Unsupported(format!(
                "VEXPLAIN {}",
                w.to_ascii_uppercase()
            )))
        }
        _ => None,
    };
    if mode.is_some() {
        p.pos += 1;
    }
    let rest = p.toks.get(p.pos..).unwrap_or_default();
    let body_len = rest.len()
        - rest
            .iter()
            .rev()
            .take_while(|t| t.kind == TokenKind::Semicolon)
            .count();
    let (Some(first), Some(last)) = (rest.first(), rest.get(body_len.wrapping_sub(1))) else {
        return Err(AdminError::Syntax {
            position: p.src.len(),
            near: None,
        });
    };
    Ok(AdminStatement::VExplain {
        mode: mode.unwrap_or(VExplainMode::Plan),
        execute_dml,
        statement: p.src.get(first.start..last.end).unwrap_or("").to_string(),
    })
}

/// Whether a `/*vt+ ... */` directive sets `key` (bare, or `=true`/`=1`; keys ignore case, as
/// Vitess lower-cases them).
fn directive_sets(text: &str, key: &str) -> bool {
    let body = text.get(5..).unwrap_or("");
    let body = body.strip_suffix("*/").unwrap_or(body);
    body.split_whitespace().any(|item| {
        let (k, v) = item.split_once('=').unwrap_or((item, "true"));
        k.eq_ignore_ascii_case(key) && ["true", "1", "t"].iter().any(|t| v.eq_ignore_ascii_case(t))
    })
}
