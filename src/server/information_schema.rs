//! `information_schema` for keyspaces: the introspection queries ORMs and DBA tools send
//! (`TABLES`, `COLUMNS`, `STATISTICS`, `KEY_COLUMN_USAGE`, `TABLE_CONSTRAINTS`,
//! `REFERENTIAL_CONSTRAINTS`, `SCHEMATA`, and the schema-free `CHARACTER_SETS`, `COLLATIONS`,
//! `COLLATION_CHARACTER_SET_APPLICABILITY`, `ENGINES`) answered for one keyspace at a time.
//!
//! Like vtgate, a query is answered for the keyspace it names in a string literal
//! (`TABLE_SCHEMA = 'customer'`) or else the session's current keyspace (`DATABASE()`), on
//! that keyspace's first shard (or the targeted shard under `USE ks:shard`). Each reference to
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
//! statements that are not UTF-8, and prepared statements.

use super::connection::{ClientConn, CommandError};
use super::statement::Exec;
use crate::backend::Shard;
use crate::error::ProxyError;
use crate::sql::literal::{self, Charset};
use crate::sql::{self, Token, TokenKind};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// How a schema table is rewritten.
struct TableRule {
    /// Upper-case table name.
    name: &'static str,
    /// The column that names a row's database: filtered to the backend database. `None`: the
    /// table holds no per-database rows and passes unchanged.
    filter: Option<&'static str>,
    /// Columns that name the row's own database: answered as the keyspace.
    schema: &'static [&'static str],
    /// Columns that may name another database: the keyspace when they name the backend
    /// database, else NULL.
    referenced: &'static [&'static str],
    /// Per-shard statistics: NULL on a sharded keyspace.
    stats: &'static [&'static str],
}

const RULES: &[TableRule] = &[
    TableRule {
        name: "TABLES",
        filter: Some("TABLE_SCHEMA"),
        schema: &["TABLE_SCHEMA"],
        referenced: &[],
        stats: &[
            "TABLE_ROWS",
            "AVG_ROW_LENGTH",
            "DATA_LENGTH",
            "MAX_DATA_LENGTH",
            "INDEX_LENGTH",
            "DATA_FREE",
            "AUTO_INCREMENT",
            "CREATE_TIME",
            "UPDATE_TIME",
            "CHECK_TIME",
            "CHECKSUM",
            "MAX_INDEX_LENGTH",
        ],
    },
    TableRule {
        name: "COLUMNS",
        filter: Some("TABLE_SCHEMA"),
        schema: &["TABLE_SCHEMA"],
        referenced: &[],
        stats: &[],
    },
    TableRule {
        name: "STATISTICS",
        filter: Some("TABLE_SCHEMA"),
        schema: &["TABLE_SCHEMA", "INDEX_SCHEMA"],
        referenced: &[],
        stats: &["CARDINALITY"],
    },
    TableRule {
        name: "KEY_COLUMN_USAGE",
        filter: Some("TABLE_SCHEMA"),
        schema: &["TABLE_SCHEMA", "CONSTRAINT_SCHEMA"],
        referenced: &["REFERENCED_TABLE_SCHEMA"],
        stats: &[],
    },
    TableRule {
        name: "TABLE_CONSTRAINTS",
        filter: Some("TABLE_SCHEMA"),
        schema: &["TABLE_SCHEMA", "CONSTRAINT_SCHEMA"],
        referenced: &[],
        stats: &[],
    },
    TableRule {
        name: "REFERENTIAL_CONSTRAINTS",
        filter: Some("CONSTRAINT_SCHEMA"),
        schema: &["CONSTRAINT_SCHEMA"],
        referenced: &["UNIQUE_CONSTRAINT_SCHEMA"],
        stats: &[],
    },
    TableRule {
        name: "SCHEMATA",
        filter: Some("SCHEMA_NAME"),
        schema: &["SCHEMA_NAME"],
        referenced: &[],
        stats: &[],
    },
    TableRule {
        name: "CHARACTER_SETS",
        filter: None,
        schema: &[],
        referenced: &[],
        stats: &[],
    },
    TableRule {
        name: "COLLATIONS",
        filter: None,
        schema: &[],
        referenced: &[],
        stats: &[],
    },
    TableRule {
        name: "COLLATION_CHARACTER_SET_APPLICABILITY",
        filter: None,
        schema: &[],
        referenced: &[],
        stats: &[],
    },
    TableRule {
        name: "ENGINES",
        filter: None,
        schema: &[],
        referenced: &[],
        stats: &[],
    },
];

/// Words that may follow a table reference without being its alias.
const NOT_ALIAS: &[&str] = &[
    "where",
    "join",
    "inner",
    "left",
    "right",
    "cross",
    "natural",
    "straight_join",
    "on",
    "using",
    "group",
    "order",
    "limit",
    "having",
    "union",
    "except",
    "intersect",
    "for",
    "lock",
    "window",
    "into",
    "procedure",
    "partition",
    "use",
    "force",
    "ignore",
];

/// Column lists of the schema tables, per shard (`keyspace/shard`), read once.
static COLUMNS: LazyLock<Mutex<ColumnCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// `(shard label, table)` → the table's column names.
type ColumnCache = HashMap<(String, &'static str), Arc<Vec<String>>>;

fn not_supported(what: impl Into<String>) -> ProxyError {
    ProxyError::NotSupported(format!(
        "{} in an information_schema query through the proxy",
        what.into()
    ))
}

/// Whether `text` names `information_schema` at all (cheap pre-check on every SELECT).
pub fn mentions(text: &str) -> bool {
    text.len() >= 18
        && text
            .as_bytes()
            .windows(18)
            .any(|w| w.eq_ignore_ascii_case(b"information_schema"))
}

/// One `information_schema.<table>` reference in the statement.
struct Reference {
    /// Byte span of `information_schema . table`.
    start: usize,
    end: usize,
    rule: &'static TableRule,
    /// The table token as written (for the alias when the client gave none).
    written: String,
    /// Whether the client gave an alias.
    aliased: bool,
}

/// What the statement says, read from its significant tokens.
struct Reading {
    refs: Vec<Reference>,
    /// Spans of `DATABASE()` / `SCHEMA()` calls.
    current_db_calls: Vec<(usize, usize)>,
    /// String literal values (keyspace candidates).
    strings: Vec<String>,
    /// A schema table the proxy does not answer (`PROCESSLIST`, `VIEWS`, ...).
    unknown: Option<String>,
}

fn word_value(t: &Token, src: &str) -> Option<String> {
    match t.kind {
        TokenKind::Ident | TokenKind::QuotedIdent => Some(t.ident_value(src).into_owned()),
        _ => None,
    }
}

fn read(text: &str) -> Result<Reading, ProxyError> {
    let all = sql::tokenize(text);
    let exec_comment = all.iter().any(|t| t.kind == TokenKind::ExecComment);
    let toks: Vec<Token> = all
        .into_iter()
        .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::Directive))
        .collect();
    let is_schema_db = |i: usize| {
        toks.get(i)
            .and_then(|t| word_value(t, text))
            .is_some_and(|w| w.eq_ignore_ascii_case("information_schema"))
    };
    let mut out = Reading {
        refs: Vec::new(),
        current_db_calls: Vec::new(),
        strings: Vec::new(),
        unknown: None,
    };
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == TokenKind::String {
            out.strings.push(t.string_value(text).into_owned());
        }
        let punct = |k: usize, p: &str| toks.get(k).is_some_and(|t| t.is_punct(text, p));
        if (t.is_word(text, "database") || t.is_word(text, "schema"))
            && punct(i + 1, "(")
            && punct(i + 2, ")")
            && !(i > 0 && punct(i - 1, "."))
        {
            out.current_db_calls.push((t.start, toks[i + 2].end));
            i += 3;
            continue;
        }
        if is_schema_db(i) {
            let table = toks
                .get(i + 2)
                .filter(|_| punct(i + 1, "."))
                .and_then(|t| word_value(t, text).map(|w| (t, w)));
            let Some((table_tok, name)) = table else {
                return Err(not_supported("information_schema without a table"));
            };
            if punct(i + 3, ".") {
                return Err(not_supported(
                    "a three-part name information_schema.table.column",
                ));
            }
            let upper = name.to_ascii_uppercase();
            let Some(rule) = RULES.iter().find(|r| r.name == upper) else {
                out.unknown = Some(upper);
                i += 3;
                continue;
            };
            let next = toks.get(i + 3);
            let aliased = next.is_some_and(|n| {
                n.is_word(text, "as")
                    || n.kind == TokenKind::QuotedIdent
                    || (n.kind == TokenKind::Ident && !NOT_ALIAS.iter().any(|w| n.is_word(text, w)))
            });
            out.refs.push(Reference {
                start: t.start,
                end: table_tok.end,
                rule,
                written: table_tok.text(text).to_string(),
                aliased,
            });
            i += 3;
            continue;
        }
        i += 1;
    }
    if !out.refs.is_empty() && out.unknown.is_none() {
        if exec_comment {
            return Err(not_supported("a /*! */ comment"));
        }
        check_tables_are_schema_tables(text, &toks)?;
    }
    Ok(out)
}

/// Every table the statement reads must be a schema table (or a derived table): a keyspace
/// table mixed in would be read from one shard's database only.
fn check_tables_are_schema_tables(text: &str, toks: &[Token]) -> Result<(), ProxyError> {
    let is_source = |k: usize| {
        toks.get(k).is_some_and(|t| {
            t.is_punct(text, "(")
                || word_value(t, text).is_some_and(|w| w.eq_ignore_ascii_case("information_schema"))
        })
    };
    let mut in_from = false;
    let mut depth_at_from: Vec<i32> = Vec::new();
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate() {
        if t.is_punct(text, "(") {
            depth += 1;
        } else if t.is_punct(text, ")") {
            depth -= 1;
            while depth_at_from.last().is_some_and(|&d| d > depth) {
                depth_at_from.pop();
            }
            in_from = depth_at_from.last() == Some(&depth);
        }
        if t.is_word(text, "from") || t.is_word(text, "join") {
            if !is_source(k + 1) {
                return Err(not_supported(format!(
                    "a table other than an information_schema table (near '{}')",
                    toks.get(k + 1).map(|n| n.text(text)).unwrap_or("")
                )));
            }
            if t.is_word(text, "from") {
                depth_at_from.push(depth);
                in_from = true;
            }
        } else if in_from
            && [
                "where", "group", "order", "limit", "having", "union", "window",
            ]
            .iter()
            .any(|w| t.is_word(text, w))
        {
            depth_at_from.pop();
            in_from = false;
        } else if in_from && t.is_punct(text, ",") && !is_source(k + 1) {
            return Err(not_supported(format!(
                "a table other than an information_schema table (near '{}')",
                toks.get(k + 1).map(|n| n.text(text)).unwrap_or("")
            )));
        }
    }
    Ok(())
}

fn quote(s: &str) -> String {
    literal::string(s.as_bytes(), Charset::UTF8MB4)
}

fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// The derived table that stands for `rule`'s table in keyspace `ks` (backend `db`).
fn derived(rule: &TableRule, columns: &[String], ks: &str, db: &str, sharded: bool) -> String {
    let Some(filter) = rule.filter else {
        return format!("information_schema.{}", rule.name);
    };
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let upper = c.to_ascii_uppercase();
            if rule.schema.contains(&upper.as_str()) {
                format!("{} AS {}", quote(ks), ident(c))
            } else if rule.referenced.contains(&upper.as_str()) {
                format!(
                    "CASE WHEN {col} = {db} THEN {ks} END AS {col}",
                    col = ident(c),
                    db = quote(db),
                    ks = quote(ks)
                )
            } else if sharded && rule.stats.contains(&upper.as_str()) {
                format!("NULL AS {}", ident(c))
            } else {
                ident(c)
            }
        })
        .collect();
    format!(
        "(SELECT {} FROM information_schema.{} WHERE {} = {})",
        list.join(", "),
        rule.name,
        ident(filter),
        quote(db)
    )
}

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
        if matches!(exec, Exec::Binary(_)) {
            return Err(not_supported("a prepared statement").into());
        }
        // The rest of the statement must pass the access checks as any other (functions,
        // variables, files): checked with the schema references taken out.
        let mut neutral = String::with_capacity(text.len());
        let mut at = 0;
        for r in &reading.refs {
            neutral.push_str(&text[at..r.start]);
            neutral.push_str(&ident(r.rule.name));
            at = r.end;
        }
        neutral.push_str(&text[at..]);
        self.authorize_shard(&neutral)?;

        let ks = self.schema_keyspace(&reading)?;
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
            let mut replacement = derived(r.rule, &columns, &ks, &shard.database, sharded);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_references_aliases_and_database_calls() {
        let r = read(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
        )
        .expect("read");
        assert_eq!(r.refs.len(), 1);
        assert_eq!(r.refs[0].rule.name, "TABLES");
        assert!(!r.refs[0].aliased, "WHERE is no alias");
        assert_eq!(r.current_db_calls.len(), 1);
        let r = read(
            "SELECT kc.constraint_name FROM information_schema.key_column_usage AS kc, \
             information_schema.table_constraints c WHERE kc.table_schema = 'ks'",
        )
        .expect("read");
        assert_eq!(r.refs.len(), 2);
        assert!(r.refs.iter().all(|r| r.aliased));
        assert_eq!(r.strings, ["ks"]);
    }

    #[test]
    fn refuses_what_it_cannot_rewrite() {
        for sql in [
            "SELECT information_schema.tables.table_name FROM information_schema.tables",
            "SELECT * FROM information_schema.tables t JOIN users u ON u.name = t.table_name",
            "SELECT * FROM information_schema.tables t, users u",
            "SELECT * FROM users WHERE x IN (SELECT table_name FROM information_schema.tables)",
            "SELECT /*!50000 1 */ * FROM information_schema.tables",
        ] {
            assert!(read(sql).is_err(), "{sql}");
        }
        assert!(read(
            "SELECT * FROM information_schema.tables WHERE table_name IN \
             (SELECT table_name FROM information_schema.columns)"
        )
        .is_ok());
    }

    #[test]
    fn other_schema_tables_are_flagged() {
        let r = read("SELECT * FROM information_schema.VIEWS").expect("read");
        assert_eq!(r.unknown.as_deref(), Some("VIEWS"));
    }

    #[test]
    fn derived_tables_rename_and_filter() {
        let rule = RULES.iter().find(|r| r.name == "TABLES").expect("rule");
        let cols: Vec<String> = ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "TABLE_ROWS"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = derived(rule, &cols, "ks", "vt_ks", true);
        assert!(
            d.contains(&format!("{} AS `TABLE_SCHEMA`", quote("ks"))),
            "{d}"
        );
        assert!(d.contains("NULL AS `TABLE_ROWS`"), "{d}");
        assert!(
            d.ends_with(&format!("WHERE `TABLE_SCHEMA` = {})", quote("vt_ks"))),
            "{d}"
        );
        let d = derived(rule, &cols, "ks", "vt_ks", false);
        assert!(d.contains("`TABLE_ROWS`") && !d.contains("NULL"), "{d}");
    }
}
