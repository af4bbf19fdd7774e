//! `LAST_INSERT_ID(expr)`: a statement calling it with an argument sets the value the
//! session's next `LAST_INSERT_ID()` returns (MySQL: `SELECT LAST_INSERT_ID(42)`,
//! `UPDATE t SET c = LAST_INSERT_ID(c + 1)`, `INSERT … VALUES (…, LAST_INSERT_ID(3))`,
//! `SET @x = LAST_INSERT_ID(n)`, and the same in WHERE clauses).
//!
//! The proxy answers `LAST_INSERT_ID()` from the session (backend connections are pooled), so
//! it must learn the new value. The backend connection that runs such a statement is first
//! primed with the session's value (`SELECT LAST_INSERT_ID(<session value>)`, so a value left by
//! another session cannot be mistaken for a new one) and read back afterwards
//! (`SELECT LAST_INSERT_ID()`): an unchanged value means the statement did not set it (an
//! UPDATE matching no row). Only one shard may run such a statement: the value MySQL keeps
//! depends on the order rows are visited, which a multi-shard statement does not have.

use crate::backend::{BackendError, ShardConn};
use crate::sql::{self, TokenKind};
use mysql_async::Value;

/// Whether `text` calls `LAST_INSERT_ID` with an argument (outside strings and comments).
pub fn sets_last_insert_id(text: &str) -> bool {
    if !text
        .as_bytes()
        .windows(14)
        .any(|w| w.eq_ignore_ascii_case(b"last_insert_id"))
    {
        return false;
    }
    let tokens = sql::tokenize(text);
    tokens.iter().enumerate().any(|(i, t)| {
        t.kind == TokenKind::Ident
            && t.text(text).eq_ignore_ascii_case("last_insert_id")
            && tokens.get(i + 1).is_some_and(|n| n.text(text) == "(")
            && tokens.get(i + 2).is_some_and(|n| n.text(text) != ")")
            && !(i > 0 && tokens[i - 1].text(text) == ".")
    })
}

/// Sets the backend connection's LAST_INSERT_ID to `value` (the session's).
pub async fn prime(sc: &mut ShardConn, value: u64) -> Result<(), BackendError> {
    sc.run(&format!("SELECT LAST_INSERT_ID({value})")).await
}

/// The backend connection's LAST_INSERT_ID.
pub async fn read_back(sc: &mut ShardConn) -> Result<u64, BackendError> {
    let res = sc.conn.query_result("SELECT LAST_INSERT_ID()").await;
    let result = sc.check(res)?;
    let value = result.rows.first().and_then(|r| r.first());
    Ok(match value {
        Some(Value::Bytes(b)) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        Some(Value::UInt(u)) => *u,
        Some(Value::Int(i)) => u64::try_from(*i).unwrap_or(0),
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_calls_with_an_argument() {
        assert!(sets_last_insert_id("SELECT LAST_INSERT_ID(42)"));
        assert!(sets_last_insert_id(
            "update t set c = last_insert_id(c + 1)"
        ));
        assert!(sets_last_insert_id("SET @x = Last_Insert_Id( 5 )"));
        assert!(!sets_last_insert_id("SELECT LAST_INSERT_ID()"));
        assert!(!sets_last_insert_id("SELECT 'LAST_INSERT_ID(4)'"));
        assert!(!sets_last_insert_id("SELECT 1 /* LAST_INSERT_ID(4) */"));
        assert!(!sets_last_insert_id("SELECT t.last_insert_id(4)"));
        assert!(!sets_last_insert_id("SELECT 1"));
    }
}
