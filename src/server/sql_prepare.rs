//! SQL-level prepared statements on sharded keyspaces: `PREPARE s FROM '…'` (or `FROM @v`),
//! `EXECUTE s [USING @a, …]`, `DEALLOCATE PREPARE s` / `DROP PREPARE s`.
//!
//! MariaDB keeps such statements on the connection that prepared them; a sharded keyspace has
//! no such connection, so the proxy keeps the text per session ([`SqlLevel`]) and, at
//! EXECUTE, runs it as a text statement through the normal path with each `?` replaced by
//! the SQL literal of its user variable's value (strings as hex literals with the session's
//! character-set introducer, [`crate::sql::literal`]), as Vitess binds user variables.
//!
//! * **Which statements.** The proxy takes a PREPARE whose statement routes to a sharded
//!   keyspace (no single shard); any other PREPARE goes to its shard as before, and EXECUTE /
//!   DEALLOCATE of a name the proxy does not hold too.
//! * **User variables.** They live on the backend connections (a SET is replayed on each), so
//!   the proxy knows a value only when `SET @v = <literal>` gave it: an integer, a decimal or
//!   approximate number, a quoted string (without backslashes unless the `sql_mode` is known),
//!   `NULL`, `TRUE`, `FALSE`. Any other SET of `@v`, and any statement that may assign user
//!   variables (`:=`, `INTO @…`, `CALL`, an EXECUTE the proxy does not run), forgets values.
//!   EXECUTE USING a variable whose value is not known is refused (1235), never run with a
//!   guess.
//! * **Errors as MariaDB.** A statement the planner refuses or cannot parse fails at PREPARE;
//!   a wrong number of variables is 1210; an unknown name on a sharded keyspace is 1243;
//!   PREPARE of PREPARE/EXECUTE/DEALLOCATE is 1295.

use super::connection::{ClientConn, CommandError};
use super::routing::{self, Decision};
use super::statement::Exec;
use crate::error::ProxyError;
use crate::protocol::writer::OkInfo;
use crate::session::{Session, UserValue};
use crate::sql::{self, Significant, SqlMode, StatementKind, Token, TokenKind};

/// A recognised SQL-level prepared-statement command (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SqlCommand {
    /// `PREPARE name FROM source`.
    Prepare {
        /// Statement name.
        name: String,
        /// Where the text comes from.
        source: Source,
    },
    /// `EXECUTE name [USING @a, ...]`.
    Execute {
        /// Statement name.
        name: String,
        /// The user variables, in order.
        using: Vec<String>,
    },
    /// `DEALLOCATE PREPARE name` / `DROP PREPARE name`.
    Deallocate {
        /// Statement name.
        name: String,
    },
}

/// The text of a PREPARE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    /// A string literal's content.
    Text(String),
    /// A user variable.
    Var(String),
}

/// The command `text` is, if it is one of them and the proxy reads it exactly under `mode`
/// (None: not known).
pub(super) fn recognize(text: &str, mode: Option<SqlMode>) -> Option<SqlCommand> {
    let toks: Vec<Token> = Significant::new(text)
        .take_while(|t| t.kind != TokenKind::Semicolon)
        .collect();
    let word = |i: usize, w: &str| toks.get(i).is_some_and(|t| t.is_word(text, w));
    let name_at = |i: usize| {
        toks.get(i)
            .filter(|t| matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent))
            .map(|t| t.ident_value(text).to_lowercase())
    };
    if word(0, "prepare") && word(2, "from") && toks.len() == 4 {
        let name = name_at(1)?;
        let source = match toks[3].kind {
            TokenKind::Variable => Source::Var(var_name(toks[3].text(text))?),
            TokenKind::String => Source::Text(string_value(toks[3].text(text), mode)?),
            _ => return None,
        };
        return Some(SqlCommand::Prepare { name, source });
    }
    if word(0, "execute") {
        let name = name_at(1)?;
        let mut using = Vec::new();
        if toks.len() > 2 {
            if !word(2, "using") {
                return None;
            }
            for (k, t) in toks[3..].iter().enumerate() {
                match (k % 2, t.kind) {
                    (0, TokenKind::Variable) => using.push(var_name(t.text(text))?),
                    (1, TokenKind::Punct) if t.text(text) == "," => {}
                    _ => return None,
                }
            }
            if using.is_empty() || !toks.len().is_multiple_of(2) {
                return None;
            }
        }
        return Some(SqlCommand::Execute { name, using });
    }
    if (word(0, "deallocate") || word(0, "drop")) && word(1, "prepare") && toks.len() == 3 {
        return Some(SqlCommand::Deallocate { name: name_at(2)? });
    }
    None
}

/// A user variable token's name (`@x`, `` @`x` ``, `@'x'`), lower-cased; None for `@@x`.
fn var_name(token: &str) -> Option<String> {
    let body = token.strip_prefix('@')?;
    if body.starts_with('@') || body.is_empty() {
        return None;
    }
    Some(sql::quoting::unquote(body).to_lowercase())
}

/// A string literal's value as MariaDB reads it under `mode`; None when the proxy cannot be
/// sure (a backslash or a double quote under an unknown mode, `"…"` under ANSI_QUOTES).
fn string_value(token: &str, mode: Option<SqlMode>) -> Option<String> {
    let quote = token.chars().next()?;
    if quote == '"' && mode.is_none_or(|m| m.ansi_quotes) {
        return None;
    }
    if !token.contains('\\') {
        return Some(sql::quoting::unquote(token).into_owned());
    }
    match mode {
        Some(m) if !m.no_backslash_escapes => Some(sql::quoting::unquote(token).into_owned()),
        Some(_) => {
            let body = token.get(1..token.len().checked_sub(1)?)?;
            let doubled = format!("{quote}{quote}");
            Some(body.replace(&doubled, &quote.to_string()))
        }
        None => None,
    }
}

/// Records the user variables a successful `SET` gave literal values, and forgets the ones
/// it gave anything else (`bytes`: the statement as sent, `text` its analysis text).
pub(super) fn track_set(session: &mut Session, bytes: &[u8], text: &str, mode: Option<SqlMode>) {
    let toks: Vec<Token> = Significant::new(text)
        .take_while(|t| t.kind != TokenKind::Semicolon)
        .collect();
    let Some((first, rest)) = toks.split_first() else {
        return;
    };
    if !first.is_word(text, "set") {
        return;
    }
    // Strings keep the client's bytes only when the text is those bytes.
    let exact_text = std::str::from_utf8(bytes).is_ok_and(|s| s == text);
    let mut depth = 0i32;
    let mut items: Vec<Vec<Token>> = vec![Vec::new()];
    for t in rest {
        match (t.kind, t.text(text)) {
            (TokenKind::Punct, "(") => depth += 1,
            (TokenKind::Punct, ")") => depth -= 1,
            (TokenKind::Punct, ",") if depth == 0 => {
                items.push(Vec::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = items.last_mut() {
            last.push(*t);
        }
    }
    for item in items {
        let Some(var) = item.first().filter(|t| t.kind == TokenKind::Variable) else {
            continue;
        };
        let Some(name) = var_name(var.text(text)) else {
            continue;
        };
        let assigns = item
            .get(1)
            .is_some_and(|t| t.is_punct(text, "=") || t.is_punct(text, ":="));
        let value = match item.get(2..) {
            Some(v) if assigns => literal_value(v, text, mode, exact_text, session),
            _ => None,
        };
        match value {
            Some(v) => session.sql_level.user_vars.insert(name, v),
            None => session.sql_level.user_vars.remove(&name),
        };
    }
}

/// The value of a SET item's value tokens when they are one literal the proxy reads exactly.
fn literal_value(
    toks: &[Token],
    text: &str,
    mode: Option<SqlMode>,
    exact_text: bool,
    session: &Session,
) -> Option<UserValue> {
    let (negative, toks) = match toks {
        [sign, rest @ ..] if sign.is_punct(text, "-") => (true, rest),
        _ => (false, toks),
    };
    let [t] = toks else { return None };
    let body = t.text(text);
    match t.kind {
        TokenKind::Number => {
            let signed = if negative {
                format!("-{body}")
            } else {
                body.to_string()
            };
            if body.bytes().all(|b| b.is_ascii_digit()) {
                signed.parse().ok().map(UserValue::Int)
            } else {
                Some(UserValue::Number(signed))
            }
        }
        TokenKind::Ident if !negative => match body.to_ascii_lowercase().as_str() {
            "null" => Some(UserValue::Null),
            "true" => Some(UserValue::Int(1)),
            "false" => Some(UserValue::Int(0)),
            _ => None,
        },
        TokenKind::String if !negative && exact_text && session.charset.is_some() => {
            string_value(body, mode).map(|s| UserValue::Text(s.into_bytes()))
        }
        _ => None,
    }
}

/// Forgets the known user variables when a statement may assign some.
pub(super) fn forget_assigned(session: &mut Session, kind: StatementKind, text: &str) {
    if session.sql_level.user_vars.is_empty() {
        return;
    }
    let assigns = text.contains('@') && {
        let toks = sql::tokenize(text);
        toks.iter().any(|t| t.is_punct(text, ":="))
            || toks.windows(2).any(|w| {
                w[0].is_word(text, "into")
                    && w[1].kind == TokenKind::Variable
                    && !w[1].text(text).starts_with("@@")
            })
    };
    if assigns || kind == StatementKind::Call {
        session.sql_level.user_vars.clear();
    }
}

/// `text` with its k-th `?` replaced by `literals[k]`.
fn substitute(text: &str, literals: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * literals.len());
    let mut at = 0;
    let mut k = 0;
    for t in sql::tokenize(text) {
        if t.kind == TokenKind::Param {
            if let Some(l) = literals.get(k) {
                out.push_str(text.get(at..t.start).unwrap_or(""));
                out.push_str(l);
                at = t.end;
            }
            k += 1;
        }
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// Whether `text` is itself a PREPARE, EXECUTE or DEALLOCATE (which cannot be prepared).
fn is_prepared_statement_command(text: &str) -> bool {
    let mut toks = Significant::new(text);
    let first = toks.next();
    let second = toks.next();
    let is = |t: Option<Token>, w: &str| t.is_some_and(|t| t.is_word(text, w));
    ["prepare", "execute", "deallocate"]
        .iter()
        .any(|w| is(first, w))
        || (is(first, "drop") && is(second, "prepare"))
}

/// Whether a SELECT's top-level select list has an item with a `?` and no `AS` alias: MariaDB
/// names that column by its text (`?`), a substituted literal would rename it.
fn unaliased_select_placeholder(text: &str) -> bool {
    let toks: Vec<Token> = Significant::new(text)
        .take_while(|t| t.kind != TokenKind::Semicolon)
        .collect();
    let Some(select) = toks.iter().position(|t| t.is_word(text, "select")) else {
        return false;
    };
    let mut depth = 0i32;
    let mut item: Vec<Token> = Vec::new();
    let unaliased = |item: &[Token]| {
        let has_param = item.iter().any(|t| t.kind == TokenKind::Param);
        let aliased = item.len() >= 2
            && item[item.len() - 2].is_word(text, "as")
            && matches!(
                item[item.len() - 1].kind,
                TokenKind::Ident | TokenKind::QuotedIdent | TokenKind::String
            );
        has_param && !aliased
    };
    for t in &toks[select + 1..] {
        match (t.kind, t.text(text)) {
            (TokenKind::Punct, "(") => depth += 1,
            (TokenKind::Punct, ")") => depth -= 1,
            _ => {}
        }
        if depth == 0 && t.is_punct(text, ",") {
            if unaliased(&item) {
                return true;
            }
            item.clear();
            continue;
        }
        if depth == 0
            && [
                "from", "where", "group", "having", "order", "limit", "union", "into", "for",
            ]
            .iter()
            .any(|w| t.is_word(text, w))
        {
            break;
        }
        item.push(*t);
    }
    unaliased(&item)
}

/// How many `?` placeholders `text` has.
fn placeholders(text: &str) -> usize {
    sql::tokenize(text)
        .iter()
        .filter(|t| t.kind == TokenKind::Param)
        .count()
}

/// MariaDB's error for an unknown statement name.
fn unknown_statement(name: &str, command: &str) -> ProxyError {
    ProxyError::Limit {
        code: crate::error::codes::UNKNOWN_STMT_HANDLER,
        state: "HY000",
        message: format!("Unknown prepared statement handler ({name}) given to {command}"),
    }
}

impl ClientConn {
    /// Runs a SQL-level PREPARE / EXECUTE / DEALLOCATE on a sharded keyspace and writes its
    /// response; `Ok(false)` when `text` is not one the proxy takes (it then runs as before).
    pub(super) async fn sql_prepare(
        &mut self,
        text: &str,
        more: bool,
    ) -> Result<bool, CommandError> {
        let mode = self
            .session
            .sql_mode_flags(self.state.server_sql_mode.get().copied());
        let Some(command) = recognize(text, mode) else {
            return Ok(false);
        };
        match command {
            SqlCommand::Prepare { name, source } => {
                let inner = match source {
                    Source::Text(t) => t,
                    Source::Var(v) => match self.session.sql_level.user_vars.get(&v) {
                        Some(UserValue::Text(b)) if self.session.charset.is_some_and(|c| c.is_utf8()) => {
                            match String::from_utf8(b.clone()) {
                                Ok(s) => s,
                                Err(_) => return Ok(false),
                            }
                        }
                        _ if !self.routes_sharded(text) => return Ok(false),
                        _ => {
                            return Err(ProxyError::NotSupported(format!(
                                "PREPARE ... FROM @{v} on a sharded keyspace when the proxy does not know @{v} as a string (set it with SET @{v} = '...')"
                            ))
                            .into())
                        }
                    },
                };
                let Some(keyspace) = self.sharded_keyspace(&inner) else {
                    // MariaDB prepares it on the shard; a statement of that name here is
                    // replaced.
                    self.session.sql_level.statements.remove(&name);
                    return Ok(false);
                };
                // A failed PREPARE leaves no statement of that name.
                self.session.sql_level.statements.remove(&name);
                if is_prepared_statement_command(&inner) {
                    return Err(ProxyError::Limit {
                        code: 1295,
                        state: "HY000",
                        message:
                            "This command is not supported in the prepared statement protocol yet"
                                .into(),
                    }
                    .into());
                }
                // Errors at PREPARE, as MariaDB reports them: the planner's, and a syntax
                // error (MariaDB judges what the proxy's parser cannot read).
                let kind = sql::classify(&inner);
                let checked = match kind {
                    StatementKind::Other => Err(ProxyError::Parse(format!(
                        "statement '{}' cannot be prepared on a sharded keyspace",
                        inner.split_whitespace().next().unwrap_or("")
                    ))),
                    _ => self.check_plannable(&inner, kind),
                };
                if let Err(e) = checked {
                    return Err(self.judge_parse_failure(&keyspace, &inner, e).await.into());
                }
                if kind == StatementKind::Select && unaliased_select_placeholder(&inner) {
                    return Err(ProxyError::NotSupported(
                        "PREPARE on a sharded keyspace of a SELECT with a ? in its select list without an AS alias (MariaDB names that column '?')".into(),
                    )
                    .into());
                }
                self.session.sql_level.statements.insert(name, inner);
                self.write_ok_more(
                    &OkInfo {
                        info: "Statement prepared".into(),
                        ..OkInfo::default()
                    },
                    more,
                );
                Ok(true)
            }
            SqlCommand::Execute { name, using } => {
                let Some(inner) = self.session.sql_level.statements.get(&name).cloned() else {
                    if self.routes_sharded(text) {
                        return Err(unknown_statement(&name, "EXECUTE").into());
                    }
                    // A statement prepared on a shard may assign user variables.
                    self.session.sql_level.user_vars.clear();
                    return Ok(false);
                };
                if placeholders(&inner) != using.len() {
                    return Err(ProxyError::WrongArguments("EXECUTE".into()).into());
                }
                let mut literals = Vec::with_capacity(using.len());
                for v in &using {
                    let literal = match self.session.sql_level.user_vars.get(v) {
                        Some(UserValue::Null) => "NULL".to_string(),
                        Some(UserValue::Int(i)) => i.to_string(),
                        Some(UserValue::Number(n)) => n.clone(),
                        Some(UserValue::Text(b)) => match self.session.charset {
                            Some(cs) => sql::literal::string(b, cs),
                            None => return Err(unknown_value(v).into()),
                        },
                        None => return Err(unknown_value(v).into()),
                    };
                    literals.push(literal);
                }
                let sql = substitute(&inner, &literals);
                Box::pin(self.run_statement_unguarded(sql.as_bytes(), &sql, &Exec::Text, more))
                    .await?;
                Ok(true)
            }
            SqlCommand::Deallocate { name } => {
                if self.session.sql_level.statements.remove(&name).is_some() {
                    self.write_ok_more(&OkInfo::default(), more);
                    return Ok(true);
                }
                if self.routes_sharded(text) {
                    return Err(unknown_statement(&name, "DEALLOCATE PREPARE").into());
                }
                Ok(false)
            }
        }
    }

    /// Whether `text` goes to a sharded keyspace's planner (not to one shard).
    fn routes_sharded(&self, text: &str) -> bool {
        self.sharded_keyspace(text).is_some()
    }

    /// The sharded keyspace whose planner `text` goes to; None when it goes to one shard.
    fn sharded_keyspace(&self, text: &str) -> Option<String> {
        match routing::route(
            &self.state,
            self.session.target.as_ref(),
            text.as_bytes(),
            text,
            "statement",
        ) {
            Ok(Decision::Sharded { keyspace }) => Some(keyspace),
            _ => None,
        }
    }
}

/// The refusal of EXECUTE USING a variable whose value the proxy does not know.
fn unknown_value(var: &str) -> ProxyError {
    ProxyError::NotSupported(format!(
        "EXECUTE ... USING @{var} on a sharded keyspace: the proxy knows user variables only as set by SET @{var} = <literal> is not supported"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Option<SqlMode> {
        Some(SqlMode::default())
    }

    #[test]
    fn recognizes_the_three_commands() {
        assert_eq!(
            recognize("PREPARE s1 FROM 'SELECT * FROM t WHERE id = ?'", known()),
            Some(SqlCommand::Prepare {
                name: "s1".into(),
                source: Source::Text("SELECT * FROM t WHERE id = ?".into())
            })
        );
        assert_eq!(
            recognize("prepare `S` from @Q", None),
            Some(SqlCommand::Prepare {
                name: "s".into(),
                source: Source::Var("q".into())
            })
        );
        assert_eq!(
            recognize("EXECUTE s USING @a, @B", None),
            Some(SqlCommand::Execute {
                name: "s".into(),
                using: vec!["a".into(), "b".into()]
            })
        );
        assert_eq!(
            recognize("execute s", None),
            Some(SqlCommand::Execute {
                name: "s".into(),
                using: vec![]
            })
        );
        assert_eq!(
            recognize("DROP PREPARE s", None),
            Some(SqlCommand::Deallocate { name: "s".into() })
        );
        assert_eq!(
            recognize("DEALLOCATE PREPARE s", None),
            Some(SqlCommand::Deallocate { name: "s".into() })
        );
        for not in [
            "EXECUTE s USING @a,",
            "EXECUTE s USING @@x",
            "EXECUTE s USING 5",
            "PREPARE s FROM CONCAT('a')",
            "EXECUTE IMMEDIATE 'x'",
        ] {
            assert_eq!(recognize(not, None), None, "{not}");
        }
    }

    #[test]
    fn string_escapes_follow_the_sql_mode() {
        let text = r"PREPARE s FROM 'SELECT \'a\', ''b'''";
        assert_eq!(recognize(text, None), None, "unknown mode, backslash");
        let Some(SqlCommand::Prepare {
            source: Source::Text(t),
            ..
        }) = recognize(text, known())
        else {
            panic!("prepare");
        };
        assert_eq!(t, "SELECT 'a', 'b'");
        let nbe = SqlMode {
            no_backslash_escapes: true,
            ..SqlMode::default()
        };
        let Some(SqlCommand::Prepare {
            source: Source::Text(t),
            ..
        }) = recognize(r"PREPARE s FROM 'SELECT ''\n'''", Some(nbe))
        else {
            panic!("prepare");
        };
        assert_eq!(t, r"SELECT '\n'");
        assert_eq!(recognize("PREPARE s FROM \"SELECT 1\"", None), None);
    }

    fn session() -> Session {
        Session::new(
            1,
            "u".into(),
            false,
            "peer".into(),
            mysql_common::constants::CapabilityFlags::empty(),
        )
    }

    #[test]
    fn set_tracks_literals_and_forgets_the_rest() {
        let mut s = session();
        let sql = "SET @a = 5, @b := -2.50, @c = 'x''y', @d = NULL, @e = TRUE, sql_mode = ''";
        track_set(&mut s, sql.as_bytes(), sql, known());
        let vars = &s.sql_level.user_vars;
        assert_eq!(vars.get("a"), Some(&UserValue::Int(5)));
        assert_eq!(vars.get("b"), Some(&UserValue::Number("-2.50".into())));
        assert_eq!(vars.get("c"), Some(&UserValue::Text(b"x'y".to_vec())));
        assert_eq!(vars.get("d"), Some(&UserValue::Null));
        assert_eq!(vars.get("e"), Some(&UserValue::Int(1)));
        let sql = "SET @a = @a + 1, @c = CONCAT('a', 'b'), @b = (SELECT 1)";
        track_set(&mut s, sql.as_bytes(), sql, known());
        assert!(["a", "b", "c"]
            .iter()
            .all(|v| !s.sql_level.user_vars.contains_key(*v)));
        forget_assigned(&mut s, StatementKind::Insert, "INSERT INTO t VALUES (@d)");
        assert!(s.sql_level.user_vars.contains_key("d"));
        forget_assigned(&mut s, StatementKind::Select, "SELECT 1 INTO @d");
        assert!(s.sql_level.user_vars.is_empty());
    }

    #[test]
    fn unaliased_placeholders_in_the_select_list_are_found() {
        for yes in [
            "SELECT ? FROM t",
            "SELECT id, ? + 1 FROM t WHERE a = ?",
            "SELECT COALESCE(?, 1)",
            "SELECT ? x FROM t",
        ] {
            assert!(unaliased_select_placeholder(yes), "{yes}");
        }
        for no in [
            "SELECT id FROM t WHERE a = ?",
            "SELECT ? AS tag, id FROM t",
            "SELECT (SELECT ? AS a) AS b FROM t LIMIT ?",
            "SELECT id FROM t ORDER BY ? LIMIT ?",
        ] {
            assert!(!unaliased_select_placeholder(no), "{no}");
        }
    }

    #[test]
    fn placeholders_are_replaced_in_order() {
        let lits = vec!["1".to_string(), "_utf8mb4 X'78'".to_string()];
        assert_eq!(
            substitute("SELECT '?' FROM t WHERE a = ? AND b = ? -- ?", &lits),
            "SELECT '?' FROM t WHERE a = 1 AND b = _utf8mb4 X'78' -- ?"
        );
        assert_eq!(placeholders("SELECT '?', ? /* ? */"), 1);
    }
}
