//! Per-user grants from the config: which keyspaces a user may reach and whether it may write.
//!
//! Like vtgate's table ACLs and ProxySQL's per-user rules, but per keyspace: a user without a
//! `keyspaces` list reaches every keyspace; a `read_only` user may run statements that read
//! only (no DML, DDL, `CALL`, `LOCK TABLES ... WRITE`, maintenance that changes tables).

use super::Denial;
use crate::config::UserConfig;
use crate::sql::{self, StatementKind, TokenKind};

/// Whether a statement reads only or may change data or schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteNeed {
    /// The statement only reads.
    Read,
    /// The statement may change data or schema.
    Write,
}

/// One user's grants, borrowed from its config entry.
#[derive(Debug, Clone, Copy)]
pub struct Grants<'a> {
    user: &'a UserConfig,
}

impl<'a> Grants<'a> {
    /// The grants of a configured user.
    pub fn of(user: &'a UserConfig) -> Self {
        Grants { user }
    }

    /// Whether the user may reach `keyspace`.
    pub fn keyspace_allowed(&self, keyspace: &str) -> bool {
        match &self.user.keyspaces {
            None => true,
            Some(list) => list.iter().any(|k| k == keyspace),
        }
    }

    /// Refuses `keyspace` unless granted (ER_DBACCESS_DENIED_ERROR, 1044).
    pub fn check_keyspace(&self, keyspace: &str) -> Result<(), Denial> {
        if self.keyspace_allowed(keyspace) {
            Ok(())
        } else {
            Err(Denial::Database(keyspace.to_string()))
        }
    }

    /// Refuses a statement that writes when the user is read-only (1142).
    pub fn check_write(&self, kind: StatementKind, text: &str) -> Result<(), Denial> {
        if self.user.read_only && write_need(kind, text, 0) == WriteNeed::Write {
            return Err(Denial::Command(kind_word(kind).to_string()));
        }
        Ok(())
    }
}

/// What a statement needs: DML, DDL, `CALL` and unknown statements write; `LOCK TABLES` writes
/// when it takes a write lock; `PREPARE` / `EXECUTE IMMEDIATE` need what their text needs.
pub fn write_need(kind: StatementKind, text: &str, depth: usize) -> WriteNeed {
    use StatementKind as K;
    match kind {
        K::Select
        | K::Show
        | K::Explain
        | K::Set
        | K::Use
        | K::Begin
        | K::Commit
        | K::Rollback
        | K::Savepoint
        | K::ReleaseSavepoint
        | K::RollbackToSavepoint
        | K::Unlock => WriteNeed::Read,
        K::Insert | K::Replace | K::Update | K::Delete | K::Ddl | K::Call => WriteNeed::Write,
        K::Lock => {
            let writes = sql::Significant::new(text)
                .any(|t| t.is_word(text, "write") || t.is_word(text, "low_priority_write"));
            if writes {
                WriteNeed::Write
            } else {
                WriteNeed::Read
            }
        }
        K::Other => other_write_need(text, depth),
    }
}

fn other_write_need(text: &str, depth: usize) -> WriteNeed {
    let toks: Vec<sql::Token> = sql::Significant::new(text).collect();
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(text).to_ascii_lowercase())
            .unwrap_or_default()
    };
    let nested = |i: usize| match toks.get(i) {
        Some(t) if t.kind == TokenKind::String && depth < 2 => {
            let inner = t.string_value(text);
            write_need(sql::classify(&inner), &inner, depth + 1)
        }
        _ => WriteNeed::Write,
    };
    match word(0).as_str() {
        "do" | "help" | "xa" | "signal" | "resignal" | "get" | "check" | "checksum"
        | "deallocate" | "execute"
            if word(1) != "immediate" =>
        {
            WriteNeed::Read
        }
        "execute" => nested(2),
        "prepare" => match (1..4).find(|&i| word(i) == "from") {
            Some(i) => nested(i + 1),
            None => WriteNeed::Write,
        },
        // ANALYZE SELECT/UPDATE ... runs the statement; ANALYZE TABLE only updates statistics.
        "analyze" => match toks.get(1) {
            Some(t) => {
                let rest = text.get(t.start..).unwrap_or("");
                match sql::classify(rest) {
                    StatementKind::Other => WriteNeed::Read,
                    k if depth < 2 => write_need(k, rest, depth + 1),
                    _ => WriteNeed::Write,
                }
            }
            None => WriteNeed::Read,
        },
        _ => WriteNeed::Write,
    }
}

/// The statement name MariaDB puts in "... command denied" messages.
fn kind_word(kind: StatementKind) -> &'static str {
    use StatementKind as K;
    match kind {
        K::Insert => "INSERT",
        K::Replace => "REPLACE",
        K::Update => "UPDATE",
        K::Delete => "DELETE",
        K::Ddl => "DDL",
        K::Call => "EXECUTE",
        K::Lock => "LOCK TABLES",
        _ => "write",
    }
}
