//! Vitess's `SELECT NEXT n VALUES FROM seq` (and `SELECT NEXT VALUE FROM seq`; `FOR` may stand
//! for `FROM`), answered by the proxy: `n` consecutive ids reserved from a sequence table of an
//! unsharded keyspace's VSchema, through the same cache the sharded INSERTs draw from (ids never
//! collide). One row, column `nextval`: the first reserved id.

use super::connection::ClientConn;
use super::statement::Exec;
use crate::error::ProxyError;
use crate::protocol::writer;
use crate::sql::{Significant, StatementKind, Token, TokenKind};
use crate::vschema::TableKind;
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// A parsed `SELECT NEXT … FROM [ks.]table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NextValues {
    /// The keyspace qualifier, when written.
    pub keyspace: Option<String>,
    /// The sequence table as written.
    pub table: String,
    /// How many ids to reserve, as written (`NEXT VALUE` is 1); checked positive later.
    pub count: u64,
}

/// Whether `text` starts `SELECT NEXT VALUE` or `SELECT NEXT <number>` (cheap: only such
/// statements go to [`parse`]; `SELECT next FROM t` reads a column called `next`).
pub(super) fn asks(kind: StatementKind, text: &str) -> bool {
    if kind != StatementKind::Select {
        return false;
    }
    let mut toks = Significant::new(text);
    matches!(toks.next(), Some(t) if t.is_word(text, "select"))
        && matches!(toks.next(), Some(t) if t.is_word(text, "next"))
        && matches!(toks.next(), Some(t) if t.is_word(text, "value") || t.kind == TokenKind::Number)
}

fn syntax(text: &str, at: Option<Token>) -> ProxyError {
    let near = at.map_or("", |t| text.get(t.start..).unwrap_or(""));
    ProxyError::Parse(format!(
        "You have an error in your SQL syntax; NEXT expects `NEXT VALUE` or `NEXT <positive integer> VALUES` FROM a sequence table near '{}'",
        near.chars().take(40).collect::<String>()
    ))
}

/// Parses a statement [`asks`] accepted; a syntax error (1064) when it is not exactly
/// `SELECT NEXT {VALUE | <integer> VALUES} {FROM | FOR} [ks.]table [;]`.
pub(super) fn parse(text: &str) -> Result<NextValues, ProxyError> {
    let mut toks = Significant::new(text).filter(|t| t.kind != TokenKind::Semicolon);
    let _select = toks.next();
    let _next = toks.next();
    let t = toks.next();
    let count = match t {
        Some(t) if t.is_word(text, "value") => 1,
        Some(t) if t.kind == TokenKind::Number => {
            let n: u64 = t.text(text).parse().map_err(|_| syntax(text, Some(t)))?;
            match toks.next() {
                Some(v) if v.is_word(text, "values") => n,
                other => return Err(syntax(text, other)),
            }
        }
        other => return Err(syntax(text, other)),
    };
    match toks.next() {
        Some(t) if t.is_word(text, "from") || t.is_word(text, "for") => {}
        other => return Err(syntax(text, other)),
    }
    let name = |t: Option<Token>| match t {
        Some(t) if matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent) => {
            Ok(t.ident_value(text).into_owned())
        }
        other => Err(syntax(text, other)),
    };
    let first = name(toks.next())?;
    let (keyspace, table) = match toks.next() {
        None => (None, first),
        Some(dot) if dot.is_punct(text, ".") => {
            let table = name(toks.next())?;
            (Some(first), table)
        }
        other => return Err(syntax(text, other)),
    };
    if let Some(extra) = toks.next() {
        return Err(syntax(text, Some(extra)));
    }
    Ok(NextValues {
        keyspace,
        table,
        count,
    })
}

/// `(errno 1146)` for a name no VSchema lists as a table.
fn unknown_table(table: &str) -> ProxyError {
    ProxyError::Limit {
        code: 1146,
        state: "42S02",
        message: format!("table {table} not found"),
    }
}

/// The result column: a BIGINT, as vtgate types `nextval` (INT64).
pub(super) fn nextval_column() -> Column {
    Column::new(ColumnType::MYSQL_TYPE_LONGLONG)
        .with_name(b"nextval")
        .with_character_set(writer::BINARY_COLLATION)
        .with_column_length(20)
        .with_flags(ColumnFlags::NOT_NULL_FLAG | ColumnFlags::BINARY_FLAG)
        .with_decimals(0)
}

impl ClientConn {
    /// Resolves the sequence table of `next` to `(keyspace, table)` as the VSchema names it.
    fn sequence_of(&self, next: &NextValues) -> Result<(String, String), ProxyError> {
        let vschema = self.state.vschema.load();
        let found = match &next.keyspace {
            Some(ks) => {
                if vschema.keyspace(ks).is_none() {
                    return Err(ProxyError::UnknownDatabase(ks.clone()));
                }
                vschema.table(ks, &next.table)
            }
            None => {
                let current = self
                    .session
                    .target
                    .as_ref()
                    .and_then(|t| vschema.table(&t.keyspace, &next.table));
                match current {
                    Some(t) => Some(t),
                    None => match vschema.find_table(&next.table) {
                        Ok((_, t)) => Some(t),
                        Err(crate::vschema::FindTableError::NotFound(_)) => None,
                        Err(e) => return Err(ProxyError::Internal(e.to_string())),
                    },
                }
            }
        };
        let t = found.ok_or_else(|| unknown_table(&next.table))?;
        if t.kind != TableKind::Sequence {
            return Err(ProxyError::Internal(format!(
                "NEXT used on a non-sequence table `{}`",
                t.name
            )));
        }
        if vschema.is_sharded(&t.keyspace) {
            return Err(ProxyError::NotSupported(format!(
                "NEXT VALUES from sequence table `{}` of sharded keyspace `{}` (only sequences of unsharded keyspaces)",
                t.name, t.keyspace
            )));
        }
        Ok((t.keyspace.clone(), t.name.clone()))
    }

    /// Answers `SELECT NEXT … FROM seq` (see the module header).
    pub(super) async fn next_values(
        &mut self,
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), ProxyError> {
        let next = parse(text)?;
        let (keyspace, table) = self.sequence_of(&next)?;
        self.authorize_keyspace(&keyspace)?;
        if next.count < 1 {
            return Err(ProxyError::Internal(format!(
                "invalid increment for sequence {table}: {}",
                next.count
            )));
        }
        let shard = self
            .state
            .backends
            .keyspace(&keyspace)
            .and_then(|s| s.first())
            .cloned()
            .ok_or_else(|| ProxyError::UnknownDatabase(keyspace.clone()))?;
        let first = self
            .state
            .sequences
            .reserve(&shard, &table, next.count)
            .await?;
        let first = i64::try_from(first).map_err(|_| {
            ProxyError::Internal(format!("sequence {table} is past the BIGINT range"))
        })?;
        let answer = super::local_answers::LocalResult {
            columns: vec![nextval_column()],
            rows: vec![vec![Value::Int(first)]],
        };
        self.write_local_result(&answer, exec, more);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<NextValues, ProxyError> {
        assert!(asks(StatementKind::Select, text), "{text}");
        parse(text)
    }

    #[test]
    fn parses_vitess_forms() {
        let n = p("select next 5 values from user_seq").unwrap();
        assert_eq!(
            (n.keyspace, n.table.as_str(), n.count),
            (None, "user_seq", 5)
        );
        let n = p("SELECT NEXT VALUE FROM `commerce`.`user_seq`;").unwrap();
        assert_eq!(
            (n.keyspace.as_deref(), n.table.as_str(), n.count),
            (Some("commerce"), "user_seq", 1)
        );
        let n = p("select /* c */ next 0 values for commerce.s").unwrap();
        assert_eq!(n.count, 0);
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "select next 5 value from s",
            "select next 1.5 values from s",
            "select next 2 values from s where id = 1",
            "select next value from a.b.c",
            "select next 99999999999999999999999 values from s",
        ] {
            let e = p(bad).unwrap_err();
            assert_eq!(e.to_wire().0, 1064, "{bad}");
        }
        assert!(!asks(StatementKind::Select, "select next from t"));
        assert!(!asks(StatementKind::Select, "select next values from t"));
        assert!(!asks(StatementKind::Select, "select next - 1 from t"));
        assert!(!asks(StatementKind::Select, "select 1"));
    }
}
