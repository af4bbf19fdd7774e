//! `information_schema` for keyspaces: the introspection queries ORMs and DBA tools send
//! (`TABLES`, `COLUMNS`, `STATISTICS`, `KEY_COLUMN_USAGE`, `TABLE_CONSTRAINTS`,
//! `REFERENTIAL_CONSTRAINTS`, `SCHEMATA`, and the schema-free `CHARACTER_SETS`, `COLLATIONS`,
//! `COLLATION_CHARACTER_SET_APPLICABILITY`, `ENGINES`) answered for keyspaces.
//!
//! `SCHEMATA` has one row per keyspace the user is granted (each read from that keyspace's
//! first shard). For the other tables, like vtgate, a query is answered for the keyspace it
//! names in a string literal (`TABLE_SCHEMA = 'customer'`) or else the session's current
//! keyspace (`DATABASE()`), on that keyspace's first shard (or the targeted shard under `USE ks:shard`). Each reference to
//! a schema table becomes a derived table over that shard's backend database only, with every
//! schema-name column (`TABLE_SCHEMA`, `SCHEMA_NAME`, `INDEX_SCHEMA`, `CONSTRAINT_SCHEMA` ...)
//! answering the keyspace name, so the client's own predicates and joins on them read as
//! written:
//!
//! ```text
//! information_schema.TABLES t  →  (SELECT `TABLE_CATALOG`, 'customer' AS `TABLE_SCHEMA`, ...
//!                                  FROM information_schema.TABLES
//!                                  WHERE `TABLE_SCHEMA` = 'vt_customer') t
//! DATABASE()                   →  'customer'
//! ```
//!
//! Rows of any other backend database (other keyspaces' shards, `mysql`, ...) are never read.
//! On a sharded keyspace the per-shard statistics columns (`TABLE_ROWS`, `DATA_LENGTH`,
//! `AUTO_INCREMENT`, `CARDINALITY` ...) are NULL: one shard's values would be wrong for the
//! keyspace. Other `information_schema` tables (`PROCESSLIST`, `VIEWS`, `ROUTINES`, ...: server
//! state, or definitions naming backend databases) stay refused as before (1044, access denied
//! to the database). Anything the rewrite cannot make exact is refused with 1235: several
//! keyspaces in one query, user tables mixed in, `/*! */` comments, three-part names,
//! statements that are not UTF-8. Prepared statements are answered with their parameters
//! written in as literals.

mod rewrite;

use super::connection::{ClientConn, CommandError};
use super::statement::Exec;
use crate::backend::Shard;
use crate::error::ProxyError;
use crate::sql;
use crate::sql::literal::{self, Charset};
use rewrite::{derived, ident, not_supported, quote, read, Reading};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

pub use rewrite::mentions;

/// Column lists of the schema tables, per shard (`keyspace/shard`), read once.
static COLUMNS: LazyLock<Mutex<ColumnCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// `(shard label, table)` → the table's column names.
type ColumnCache = HashMap<(String, &'static str), Arc<Vec<String>>>;

impl ClientConn {
    /// Answers a SELECT on `information_schema` for one keyspace (see the module header).
    pub(super) async fn information_schema(
        &mut self,
        bytes: &[u8],
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let reading = read(text)?;
        if let Some(table) = &reading.unknown {
            // Server state and definitions (PROCESSLIST, VIEWS, ROUTINES ...) stay out of
            // reach as the rest of information_schema was: access denied to the database.
            self.authorize_shard(text)?;
            return Err(not_supported(format!("information_schema.{table}")).into());
        }
        if reading.refs.is_empty() {
            // Only a string or a comment said information_schema: an ordinary statement.
            return self
                .passthrough(bytes, text, sql::StatementKind::Select, exec, more)
                .await;
        }
        if std::str::from_utf8(bytes).is_err() {
            return Err(not_supported("text that is not valid UTF-8").into());
        }
        if let Exec::Binary(params) = exec {
            if !params.is_empty() {
                // A prepared statement's parameters become literals first (the keyspace a
                // `TABLE_SCHEMA = ?` names decides the shard); its rows stay binary.
                let charset = self.session.charset.unwrap_or(sql::Charset::UTF8MB4);
                let text =
                    crate::exec::interpolate(text, params, charset).map_err(ProxyError::from)?;
                let no_params = Exec::Binary(Vec::new());
                return Box::pin(self.information_schema(text.as_bytes(), &text, &no_params, more))
                    .await;
            }
        }
        self.authorize_schema_query(text, &reading)?;

        // SCHEMATA lists every granted keyspace (its rows are read from each keyspace's
        // shard); the other tables answer for one keyspace.
        let keyspace_bound = reading
            .refs
            .iter()
            .any(|r| r.rule.filter.is_some() && r.rule.name != "SCHEMATA");
        let ks = if keyspace_bound {
            self.schema_keyspace(&reading)?
        } else {
            match self.session.target.as_ref() {
                Some(t) => t.keyspace.clone(),
                None => self
                    .granted_keyspaces()
                    .into_iter()
                    .next()
                    .ok_or_else(|| not_supported("a query without any granted keyspace"))?,
            }
        };
        let shard = match self.session.target.as_ref() {
            Some(t) if t.keyspace == ks && t.shard.is_some() => {
                let name = t.shard.as_deref().unwrap_or_default();
                self.state
                    .backends
                    .shard(&ks, name)
                    .cloned()
                    .ok_or_else(|| ProxyError::UnknownDatabase(format!("{ks}:{name}")))?
            }
            _ => self.shard_at(&ks, 0)?,
        };
        let sharded = self.state.vschema.load().is_sharded(&ks)
            && !self
                .session
                .target
                .as_ref()
                .is_some_and(|t| t.keyspace == ks && t.shard.is_some());
        let current = self.session.target.as_ref().map(|t| t.keyspace.clone());

        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        for r in &reading.refs {
            let columns = match r.rule.filter {
                Some(_) => self.schema_columns(&shard, r.rule.name).await?,
                None => Arc::new(Vec::new()),
            };
            let mut replacement = if r.rule.name == "SCHEMATA" {
                self.schemata_rows(&columns).await?
            } else {
                derived(r.rule, &columns, &ks, &shard.database, sharded)
            };
            if r.rule.filter.is_some() && !r.aliased {
                replacement.push_str(" AS ");
                replacement.push_str(&ident(&r.written));
            }
            edits.push((r.start, r.end, replacement));
        }
        for &(start, end) in &reading.current_db_calls {
            let value = match &current {
                Some(k) => quote(k),
                None => "NULL".to_string(),
            };
            edits.push((start, end, value));
        }
        edits.sort_by_key(|e| e.0);
        let mut sql = String::with_capacity(text.len() + 512);
        let mut at = 0;
        for (start, end, replacement) in edits {
            sql.push_str(&text[at..start]);
            sql.push_str(&replacement);
            at = end;
        }
        sql.push_str(&text[at..]);
        self.run_on_shard(
            &shard,
            Cow::Owned(sql.into_bytes()),
            sql::StatementKind::Select,
            text,
            exec,
            more,
        )
        .await
    }

    /// The rest of a schema query must pass the access checks as any other statement
    /// (functions, variables, files): checked with the schema references taken out.
    fn authorize_schema_query(&self, text: &str, reading: &Reading) -> Result<(), ProxyError> {
        let mut neutral = String::with_capacity(text.len());
        let mut at = 0;
        for r in &reading.refs {
            neutral.push_str(&text[at..r.start]);
            neutral.push_str(&ident(r.rule.name));
            at = r.end;
        }
        neutral.push_str(&text[at..]);
        self.authorize_shard(&neutral)
    }

    /// COM_STMT_PREPARE of a query on the schema tables the proxy answers: the shard that
    /// describes its parameters and columns (the statement as written, prepared and never
    /// executed there; each execution is rewritten as a text query is). None when the text
    /// is no such query.
    pub(super) fn schema_query_metadata_shard(
        &self,
        kind: sql::StatementKind,
        text: &str,
    ) -> Result<Option<Arc<Shard>>, ProxyError> {
        if kind != sql::StatementKind::Select || !mentions(text) {
            return Ok(None);
        }
        let reading = read(text)?;
        if let Some(table) = &reading.unknown {
            self.authorize_shard(text)?;
            return Err(not_supported(format!("information_schema.{table}")));
        }
        if reading.refs.is_empty() {
            return Ok(None);
        }
        self.authorize_schema_query(text, &reading)?;
        let ks = match self.session.target.as_ref() {
            Some(t) => t.keyspace.clone(),
            None => self
                .granted_keyspaces()
                .into_iter()
                .next()
                .ok_or_else(|| not_supported("a query without any granted keyspace"))?,
        };
        self.shard_at(&ks, 0).map(Some)
    }

    /// The keyspaces the session's user is granted, in config order.
    fn granted_keyspaces(&self) -> Vec<String> {
        self.state
            .backends
            .keyspace_order
            .iter()
            .filter(|k| self.authorize_keyspace(k).is_ok())
            .cloned()
            .collect()
    }

    /// `SCHEMATA` as a derived table of one row per granted keyspace: each keyspace's row as
    /// its first shard's server has it for the backend database, named as the keyspace.
    async fn schemata_rows(&mut self, columns: &[String]) -> Result<String, ProxyError> {
        let list: Vec<String> = columns.iter().map(|c| ident(c)).collect();
        let mut rows: Vec<String> = Vec::new();
        for ks in self.granted_keyspaces() {
            let shard = self.shard_at(&ks, 0)?;
            let sql = format!(
                "SELECT {} FROM information_schema.SCHEMATA WHERE `SCHEMA_NAME` = {}",
                list.join(", "),
                quote(&shard.database)
            );
            let mut sc = self.acquire(&shard, false).await?;
            let res = sc.conn.query_result(&sql).await;
            let res = sc.check(res);
            self.put_back(sc).await;
            for row in res?.rows {
                let cells: Vec<String> = row
                    .iter()
                    .zip(columns)
                    .map(|(v, c)| {
                        let value = if c.eq_ignore_ascii_case("SCHEMA_NAME") {
                            quote(&ks)
                        } else {
                            match v {
                                mysql_common::Value::Bytes(b) => {
                                    literal::string(b, Charset::UTF8MB4)
                                }
                                _ => "NULL".to_string(),
                            }
                        };
                        format!("{value} AS {}", ident(c))
                    })
                    .collect();
                rows.push(format!("SELECT {}", cells.join(", ")));
            }
        }
        if rows.is_empty() {
            return Ok(format!(
                "(SELECT {} FROM information_schema.SCHEMATA WHERE FALSE)",
                list.join(", ")
            ));
        }
        Ok(format!("({})", rows.join(" UNION ALL ")))
    }

    /// The keyspace the query is about: the one granted keyspace its string literals name,
    /// else the session's current keyspace (which `DATABASE()` also names).
    fn schema_keyspace(&self, reading: &Reading) -> Result<String, ProxyError> {
        let current = self.session.target.as_ref().map(|t| t.keyspace.clone());
        let mut named: Vec<String> = Vec::new();
        for s in &reading.strings {
            if self.state.backends.keyspace(s).is_some()
                && self.authorize_keyspace(s).is_ok()
                && !named.contains(s)
            {
                named.push(s.clone());
            }
        }
        if !reading.current_db_calls.is_empty() {
            if let Some(c) = &current {
                if !named.contains(c) {
                    named.push(c.clone());
                }
            }
        }
        match named.as_slice() {
            [one] => Ok(one.clone()),
            [] => current.ok_or_else(|| {
                not_supported("a query without a current keyspace or a keyspace named as a string")
            }),
            many => Err(not_supported(format!(
                "more than one keyspace ({})",
                many.join(", ")
            ))),
        }
    }

    /// The columns of `information_schema.<table>` on `shard`'s server, in order (read once
    /// per shard).
    async fn schema_columns(
        &mut self,
        shard: &Arc<Shard>,
        table: &'static str,
    ) -> Result<Arc<Vec<String>>, ProxyError> {
        let key = (shard.label.clone(), table);
        if let Some(cols) = COLUMNS.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(cols);
        }
        let sql = format!(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \
             'information_schema' AND TABLE_NAME = {} ORDER BY ORDINAL_POSITION",
            quote(table)
        );
        let mut sc = self.acquire(shard, false).await?;
        let res = sc.conn.query_result(&sql).await;
        let res = sc.check(res);
        self.put_back(sc).await;
        let rows = res?.rows;
        let cols: Vec<String> = rows
            .iter()
            .filter_map(|r| match r.first() {
                Some(mysql_common::Value::Bytes(b)) => {
                    Some(String::from_utf8_lossy(b).into_owned())
                }
                _ => None,
            })
            .collect();
        if cols.is_empty() {
            return Err(not_supported(format!(
                "information_schema.{table}, which the shard does not have"
            )));
        }
        let cols = Arc::new(cols);
        if let Ok(mut m) = COLUMNS.lock() {
            m.insert(key, cols.clone());
        }
        Ok(cols)
    }
}
