//! Cheap statement classification from the first few keywords.
//!
//! The session layer must know whether a statement starts or ends a transaction, changes the target
//! or session state, or is ordinary DML before (and often instead of) a full parse. This looks at
//! the first significant tokens only: comments and `/*vt+ */` directives are skipped, `/*! */`
//! comments are looked into, and leading `(` are ignored.

use super::significant::Significant;
use super::tokenizer::{Token, TokenKind};

/// The broad kind of one statement, as far as session handling and routing care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `SELECT`, `VALUES`, `TABLE`, `WITH ... SELECT`.
    Select,
    /// `INSERT`.
    Insert,
    /// `REPLACE`.
    Replace,
    /// `UPDATE`, `WITH ... UPDATE`.
    Update,
    /// `DELETE`, `WITH ... DELETE`.
    Delete,
    /// `BEGIN [WORK]`, `START TRANSACTION ...`.
    Begin,
    /// `COMMIT ...`.
    Commit,
    /// `ROLLBACK ...` (not to a savepoint).
    Rollback,
    /// `SAVEPOINT x`.
    Savepoint,
    /// `RELEASE SAVEPOINT x`.
    ReleaseSavepoint,
    /// `ROLLBACK [WORK] TO [SAVEPOINT] x`.
    RollbackToSavepoint,
    /// `SET ...`.
    Set,
    /// `USE ...`.
    Use,
    /// `SHOW ...`.
    Show,
    /// `CREATE`, `ALTER`, `DROP`, `TRUNCATE`, `RENAME`.
    Ddl,
    /// `EXPLAIN`, `DESC`, `DESCRIBE`.
    Explain,
    /// `CALL`.
    Call,
    /// `LOCK TABLE[S]`.
    Lock,
    /// `UNLOCK TABLE[S]`.
    Unlock,
    /// Anything else (including empty or comment-only text).
    Other,
}

/// Significant tokens of one statement: stops at the first `;`.
struct Words<'a> {
    src: &'a str,
    it: Significant<'a>,
}

impl Words<'_> {
    fn next(&mut self) -> Option<Token> {
        self.it.next().filter(|t| t.kind != TokenKind::Semicolon)
    }

    /// Consumes the next token if it is the keyword `word`.
    fn eat(&mut self, word: &str) -> bool {
        let mut ahead = self.it.clone();
        match ahead.next() {
            Some(t) if t.is_word(self.src, word) => {
                self.it = ahead;
                true
            }
            _ => false,
        }
    }

    fn at_end(&mut self) -> bool {
        self.next().is_none()
    }
}

/// Classifies one statement by its leading keywords, case-insensitively. Never panics.
pub fn classify(stmt: &str) -> StatementKind {
    use StatementKind as K;
    let mut w = Words {
        src: stmt,
        it: Significant::new(stmt),
    };
    let first = loop {
        match w.next() {
            Some(t) if t.is_punct(stmt, "(") => continue,
            Some(t) if t.kind == TokenKind::Ident => break t,
            _ => return K::Other,
        }
    };
    let word = first.text(stmt);
    let is = |kw: &str| word.eq_ignore_ascii_case(kw);
    if is("select") || is("values") || is("table") {
        K::Select
    } else if is("insert") {
        K::Insert
    } else if is("replace") {
        K::Replace
    } else if is("update") {
        K::Update
    } else if is("delete") {
        K::Delete
    } else if is("with") {
        classify_with(&mut w)
    } else if is("begin") {
        w.eat("work");
        if w.at_end() {
            K::Begin
        } else {
            // `BEGIN NOT ATOMIC ...` is a MariaDB compound statement, not a transaction.
            K::Other
        }
    } else if is("start") {
        if w.eat("transaction") {
            K::Begin
        } else {
            K::Other
        }
    } else if is("commit") {
        K::Commit
    } else if is("rollback") {
        w.eat("work");
        if w.eat("to") {
            K::RollbackToSavepoint
        } else {
            K::Rollback
        }
    } else if is("savepoint") {
        K::Savepoint
    } else if is("release") {
        if w.eat("savepoint") {
            K::ReleaseSavepoint
        } else {
            K::Other
        }
    } else if is("create") || is("alter") || is("drop") || is("truncate") || is("rename") {
        K::Ddl
    } else if is("explain") || is("describe") || is("desc") {
        K::Explain
    } else if is("lock") || is("unlock") {
        if w.eat("tables") || w.eat("table") {
            if is("lock") {
                K::Lock
            } else {
                K::Unlock
            }
        } else {
            K::Other
        }
    } else if is("show") {
        K::Show
    } else if is("use") {
        K::Use
    } else if is("set") {
        K::Set
    } else if is("call") {
        K::Call
    } else {
        K::Other
    }
}

/// After `WITH`: the first DML keyword outside parentheses decides; a parenthesized main query
/// (`WITH c AS (...) (SELECT ...)`) is a select.
fn classify_with(w: &mut Words<'_>) -> StatementKind {
    let mut depth = 0usize;
    while let Some(t) = w.next() {
        if t.is_punct(w.src, "(") {
            depth += 1;
        } else if t.is_punct(w.src, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.kind == TokenKind::Ident {
            let word = t.text(w.src);
            let is = |kw: &str| word.eq_ignore_ascii_case(kw);
            if is("select") || is("values") || is("table") {
                return StatementKind::Select;
            } else if is("update") {
                return StatementKind::Update;
            } else if is("delete") {
                return StatementKind::Delete;
            } else if is("insert") {
                return StatementKind::Insert;
            } else if is("replace") {
                return StatementKind::Replace;
            }
        }
    }
    StatementKind::Select
}

#[cfg(test)]
mod tests {
    use super::StatementKind::*;
    use super::*;

    #[test]
    fn classifies_examples() {
        let cases = [
            ("select 1", Select),
            ("  SeLeCt * from t", Select),
            ("(select 1) union (select 2)", Select),
            ("((SELECT 1))", Select),
            ("values row(1)", Select),
            ("TABLE t", Select),
            ("with c as (select 1) select * from c", Select),
            (
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c) SELECT n FROM c",
                Select,
            ),
            (
                "with c as (select id from t) update t join c using(id) set x=1",
                Update,
            ),
            ("with c as (select 1) delete from t", Delete),
            ("with c as (select 1) (select * from c)", Select),
            ("insert into t values (1)", Insert),
            ("replace into t values (1)", Replace),
            ("update t set a=1", Update),
            ("delete from t", Delete),
            ("begin", Begin),
            ("BEGIN WORK;", Begin),
            ("begin not atomic select 1; end", Other),
            ("start transaction read only", Begin),
            ("START TRANSACTION WITH CONSISTENT SNAPSHOT", Begin),
            ("start slave", Other),
            ("commit", Commit),
            ("COMMIT WORK AND NO CHAIN", Commit),
            ("rollback", Rollback),
            ("rollback work", Rollback),
            ("ROLLBACK AND CHAIN", Rollback),
            ("rollback to sp1", RollbackToSavepoint),
            ("ROLLBACK WORK TO SAVEPOINT sp1", RollbackToSavepoint),
            ("savepoint sp1", Savepoint),
            ("release savepoint sp1", ReleaseSavepoint),
            ("release", Other),
            ("create table t (a int)", Ddl),
            ("ALTER TABLE t ADD c INT", Ddl),
            ("drop table t", Ddl),
            ("truncate t", Ddl),
            ("rename table a to b", Ddl),
            ("desc t", Explain),
            ("DESCRIBE t", Explain),
            ("explain select 1", Explain),
            ("lock tables t read", Lock),
            ("LOCK TABLE t WRITE", Lock),
            ("unlock tables", Unlock),
            ("lock instance for backup", Other),
            ("show tables", Show),
            ("use ks", Use),
            ("set autocommit=0", Set),
            ("call p()", Call),
            ("do 1", Other),
            ("xa start 'x'", Other),
        ];
        for (sql, want) in cases {
            assert_eq!(classify(sql), want, "{sql}");
        }
    }

    #[test]
    fn skips_comments_and_opens_exec_comments() {
        assert_eq!(classify("/* hi */ -- x\n # y\n select 1"), Select);
        assert_eq!(
            classify("/*vt+ QUERY_TIMEOUT_MS=10 */ update t set a=1"),
            Update
        );
        assert_eq!(classify("/*!40101 SET NAMES utf8 */"), Set);
        assert_eq!(classify("/*!40101 SET @x = 1 */;"), Set);
        assert_eq!(classify("/*M!100101 SET x=1 */"), Set);
        assert_eq!(classify("/*!40000 ALTER TABLE t DISABLE KEYS */"), Ddl);
        assert_eq!(classify("/*!*/ select 1"), Select);
        assert_eq!(classify("/*!40101 */ delete from t"), Delete);
        assert_eq!(classify("/*!40101 begin */ work"), Begin);
    }

    #[test]
    fn odd_input_is_other() {
        for sql in [
            "",
            " ",
            ";",
            "/* only */",
            "-- x",
            "'select'",
            "`select`",
            "(",
            "1",
            "@a",
            "é",
        ] {
            assert_eq!(classify(sql), Other, "{sql:?}");
        }
        assert_eq!(classify("select"), Select);
        assert_eq!(classify("begin;select 1"), Begin);
        assert_eq!(classify("with"), Select);
    }
}
