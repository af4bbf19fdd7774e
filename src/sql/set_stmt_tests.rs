//! Tests for `SET` parsing: one table of statements and the items they must give.

use super::SetScope::*;
use super::*;

fn it(scope: SetScope, name: &str, value: SetValue) -> SetItem {
    SetItem {
        scope,
        name: name.into(),
        value,
    }
}

fn int(v: i64) -> SetValue {
    SetValue::Int(v)
}

fn s(v: &str) -> SetValue {
    SetValue::Str(v.into())
}

fn id(v: &str) -> SetValue {
    SetValue::Ident(v.into())
}

fn ex(v: &str) -> SetValue {
    SetValue::Expr(v.into())
}

#[test]
fn parses_common_shapes() {
    let cases: Vec<(&str, Vec<SetItem>)> = vec![
        ("SET autocommit=0", vec![it(Session, "autocommit", int(0))]),
        (
            "set AutoCommit = ON",
            vec![it(Session, "autocommit", id("ON"))],
        ),
        (
            "SET @@autocommit = 1",
            vec![it(Session, "autocommit", int(1))],
        ),
        (
            "SET @@session.sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE'",
            vec![it(
                Session,
                "sql_mode",
                s("STRICT_TRANS_TABLES,NO_ZERO_DATE"),
            )],
        ),
        (
            "SET @@GLOBAL.max_connections = 10",
            vec![it(Global, "max_connections", int(10))],
        ),
        ("SET @@local.x = 1", vec![it(Session, "x", int(1))]),
        ("SET @@persist_only.x = 1", vec![it(Persist, "x", int(1))]),
        (
            "SET SESSION time_zone = '+00:00'",
            vec![it(Session, "time_zone", s("+00:00"))],
        ),
        ("SET LOCAL x=1", vec![it(Session, "x", int(1))]),
        ("SET GLOBAL x=1", vec![it(Global, "x", int(1))]),
        ("SET PERSIST x=-1", vec![it(Persist, "x", int(-1))]),
        (
            "SET @a = 1, @b := 'x'",
            vec![it(User, "a", int(1)), it(User, "b", s("x"))],
        ),
        ("SET @A = 1", vec![it(User, "a", int(1))]),
        ("SET @'my var' = 2", vec![it(User, "my var", int(2))]),
        ("SET @`q` = 2", vec![it(User, "q", int(2))]),
        ("SET NAMES utf8mb4", vec![it(Names, "names", id("utf8mb4"))]),
        ("SET NAMES 'utf8'", vec![it(Names, "names", s("utf8"))]),
        ("set names default", vec![it(Names, "names", id("default"))]),
        (
            "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci",
            vec![
                it(Names, "names", id("utf8mb4")),
                it(Names, "collate", id("utf8mb4_general_ci")),
            ],
        ),
        (
            "SET CHARACTER SET latin1",
            vec![it(CharacterSet, "charset", id("latin1"))],
        ),
        (
            "SET CHARSET 'utf8'",
            vec![it(CharacterSet, "charset", s("utf8"))],
        ),
        (
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            vec![it(
                Transaction,
                "session",
                ex("ISOLATION LEVEL READ COMMITTED"),
            )],
        ),
        (
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY",
            vec![it(
                Transaction,
                "transaction",
                ex("ISOLATION LEVEL SERIALIZABLE, READ ONLY"),
            )],
        ),
        (
            "set global transaction read write",
            vec![it(Transaction, "global", ex("read write"))],
        ),
        (
            "set local transaction read only",
            vec![it(Transaction, "session", ex("read only"))],
        ),
        (
            "SET transaction_mode = 'single'",
            vec![it(Session, "transaction_mode", s("single"))],
        ),
        (
            "SET @a = CONCAT('x', 'y'), @b = 2",
            vec![it(User, "a", ex("CONCAT('x', 'y')")), it(User, "b", int(2))],
        ),
        (
            "SET @a = (SELECT max(id) FROM t WHERE a IN (1, 2)), b = @a + 1",
            vec![
                it(User, "a", ex("(SELECT max(id) FROM t WHERE a IN (1, 2))")),
                it(Session, "b", ex("@a + 1")),
            ],
        ),
        ("SET x = DEFAULT", vec![it(Session, "x", id("DEFAULT"))]),
        ("SET x = 1.5", vec![it(Session, "x", ex("1.5"))]),
        ("SET x = 0x1F", vec![it(Session, "x", ex("0x1F"))]),
        (
            "SET x = @@global.x",
            vec![it(Session, "x", ex("@@global.x"))],
        ),
        (
            "SET x = - 9223372036854775808",
            vec![it(Session, "x", int(i64::MIN))],
        ),
        (
            "SET x = 99999999999999999999",
            vec![it(Session, "x", ex("99999999999999999999"))],
        ),
        ("SET x = _utf8mb4'abc'", vec![it(Session, "x", s("abc"))]),
        ("SET x = N'abc'", vec![it(Session, "x", s("abc"))]),
        ("SET x = 'a' 'b' \"c\"", vec![it(Session, "x", s("abc"))]),
        ("SET x = 'it''s \\n'", vec![it(Session, "x", s("it's \n"))]),
        ("SET x = `ANSI`", vec![it(Session, "x", id("ANSI"))]),
        (
            "SET `Weird Name` = 1",
            vec![it(Session, "weird name", int(1))],
        ),
        (
            "SET key_cache.key_buffer_size = 8",
            vec![it(Session, "key_cache.key_buffer_size", int(8))],
        ),
        ("SET session = 1", vec![it(Session, "session", int(1))]),
        ("SET names = 1", vec![it(Session, "names", int(1))]),
        (
            "SET sql_mode = ''; SELECT 1",
            vec![it(Session, "sql_mode", s(""))],
        ),
        ("SET x = 1 -- trailing\n", vec![it(Session, "x", int(1))]),
        (
            "/* c */ SET /* c */ x /* c */ = /* c */ 1 ;",
            vec![it(Session, "x", int(1))],
        ),
        (
            "/*!40101 SET NAMES utf8 */",
            vec![it(Names, "names", id("utf8"))],
        ),
        (
            "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
            vec![
                it(User, "old_sql_mode", ex("@@SQL_MODE")),
                it(Session, "sql_mode", s("NO_AUTO_VALUE_ON_ZERO")),
            ],
        ),
        ("SET", vec![]),
        ("set ;", vec![]),
    ];
    for (sql, want) in cases {
        assert_eq!(parse_set(sql), Some(want), "{sql}");
    }
}

#[test]
fn unknown_shapes_become_expr() {
    let cases: Vec<(&str, Vec<SetItem>)> = vec![
        ("SET ROLE r1, r2", vec![it(Session, "", ex("ROLE r1, r2"))]),
        (
            "SET PASSWORD FOR u = 'x'",
            vec![it(Session, "", ex("PASSWORD FOR u = 'x'"))],
        ),
        (
            "SET STATEMENT max_statement_time=1 FOR SELECT 1",
            vec![it(
                Session,
                "",
                ex("STATEMENT max_statement_time=1 FOR SELECT 1"),
            )],
        ),
        (
            "SET a = 1, b",
            vec![it(Session, "a", int(1)), it(Session, "", ex("b"))],
        ),
        ("SET x = ", vec![it(Session, "x", ex(""))]),
        ("SET x = 1,", vec![it(Session, "x", int(1))]),
        ("SET 'x' = 1", vec![it(Session, "", ex("'x' = 1"))]),
        ("SET @ = 1", vec![it(Session, "", ex("@ = 1"))]),
        ("SET GLOBAL", vec![it(Session, "", ex("GLOBAL"))]),
        ("SET GLOBAL x", vec![it(Global, "", ex("GLOBAL x"))]),
        (
            "SET x = 'unterminated",
            vec![it(Session, "x", s("unterminated"))],
        ),
        ("SET x = (1, 2", vec![it(Session, "x", ex("(1, 2"))]),
        (
            "SET x = 1), y = 2",
            vec![it(Session, "x", ex("1)")), it(Session, "y", int(2))],
        ),
        ("SET NAMES", vec![it(Names, "names", ex(""))]),
        (
            "SET TRANSACTION",
            vec![it(Transaction, "transaction", ex(""))],
        ),
        (
            "SET CHARACTER SET",
            vec![it(CharacterSet, "charset", ex(""))],
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(parse_set(sql), Some(want), "{sql}");
    }
}

#[test]
fn not_a_set_statement() {
    for sql in [
        "",
        ";",
        "select 1",
        "/* set x=1 */ select 1",
        "'set'",
        "settle x = 1",
        "-- set x=1",
    ] {
        assert_eq!(parse_set(sql), None, "{sql:?}");
    }
}
