//! What a statement names: databases (through qualifiers and `SHOW ... FROM db`), functions
//! that read files, `INTO OUTFILE/DUMPFILE`, and server variables that reveal backend paths.
//!
//! A qualifier `a.b` is a database when it cannot be anything else: three parts (`a.b.c`), a
//! stored function call (`a.f()`), or a table position (after `FROM`, `JOIN`, `INTO`, `UPDATE`,
//! `TABLE`, `TO`, `LIKE`, `ON`, `REFERENCES`, or a comma in a `FROM` list). Elsewhere `a` may be
//! a table or alias, which the statement then names bare somewhere (`FROM t a`); a qualifier that
//! is neither a keyspace nor such a name is taken for a database and refused. System databases
//! (`mysql`, `sys`, `performance_schema`, `information_schema`) are refused in any position.

use super::statements::Cursor;
use super::Denial;
use crate::sql::{Token, TokenKind};

/// Server variables whose value is a backend file-system path, host or file.
const PATH_VARS: &[&str] = &[
    "datadir",
    "basedir",
    "plugin_dir",
    "secure_file_priv",
    "tmpdir",
    "slave_load_tmpdir",
    "log_error",
    "general_log_file",
    "slow_query_log_file",
    "pid_file",
    "character_sets_dir",
    "lc_messages_dir",
    "innodb_data_home_dir",
    "innodb_log_group_home_dir",
    "innodb_tmpdir",
    "innodb_undo_directory",
    "log_bin_basename",
    "log_bin_index",
    "relay_log",
    "relay_log_basename",
    "relay_log_index",
    "aria_log_dir_path",
    "hostname",
    "init_file",
    "ssl_ca",
    "ssl_capath",
    "ssl_cert",
    "ssl_key",
    "ssl_crl",
    "ssl_crlpath",
    "wsrep_data_home_dir",
];

/// Whether `name` (lower-case, no `@@`) is a server variable holding a backend path, host or
/// file, which no client may read.
pub(crate) fn is_path_variable(name: &str) -> bool {
    PATH_VARS.contains(&name)
}

/// Databases of the server itself; never reachable through the proxy.
const SYSTEM_DATABASES: &[&str] = &["mysql", "sys", "performance_schema", "information_schema"];

/// Words after which an identifier names a table (so a qualifier there is a database).
const TABLE_POSITION: &[&str] = &[
    "from",
    "join",
    "straight_join",
    "into",
    "update",
    "table",
    "tables",
    "to",
    "rename",
    "exists",
    "call",
    "references",
    "describe",
    "desc",
    "explain",
    "truncate",
];

/// Words that end a `FROM` list at their parenthesis depth.
const CLAUSE_WORDS: &[&str] = &[
    "where",
    "on",
    "using",
    "group",
    "order",
    "having",
    "limit",
    "set",
    "select",
    "values",
    "union",
    "except",
    "intersect",
    "window",
    "for",
    "lock",
    "returning",
    "partition",
    "into",
];

/// Parser state of one parenthesis depth.
#[derive(Clone, Copy)]
struct Frame {
    statement: bool,
    from_list: bool,
    /// A query has begun in this frame (`SELECT`, `JOIN`, `WHERE`): `ON`/`LIKE` are no longer
    /// DDL table positions.
    query: bool,
}

fn is_name(t: &Token) -> bool {
    matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent)
}

/// Checks every database, file function, `INTO OUTFILE` and path variable the statement names.
pub(super) fn check_references(
    src: &str,
    toks: &[Token],
    is_keyspace: &dyn Fn(&str) -> bool,
) -> Result<(), Denial> {
    let c = Cursor { src, toks };
    // Names not followed by `.` (`t`, `a` in `FROM t a`, `t` in `ks.t`): the tables and
    // aliases a two-part qualifier may mean.
    // (Only needed, and so only built, when a qualifier is not a keyspace.)
    let bare_names = || -> Vec<(usize, String)> {
        toks.iter()
            .enumerate()
            .filter(|(k, t)| is_name(t) && !toks.get(k + 1).is_some_and(|n| n.is_punct(src, ".")))
            .map(|(k, t)| (k, t.ident_value(src).to_ascii_lowercase()))
            .collect()
    };
    let mut bare: Option<Vec<(usize, String)>> = None;
    // DDL (`CREATE INDEX i ON t`, `CREATE TRIGGER ... ON t`, `CREATE TABLE t LIKE u`): `ON` and
    // `LIKE` name tables there until the statement turns into a query.
    let ddl = matches!(
        c.word(0).as_deref(),
        Some("create" | "alter" | "drop" | "rename" | "truncate")
    );
    // One frame per parenthesis depth: whether it holds a statement (a subquery, not a function
    // call such as `EXTRACT(YEAR FROM t.d)`) and whether a `FROM` list is open in it.
    let mut frames: Vec<Frame> = vec![Frame {
        statement: true,
        from_list: false,
        query: false,
    }];
    for (k, t) in toks.iter().enumerate() {
        let word = c.word(k);
        match t.kind {
            TokenKind::Variable => {
                // `@@global.x` may come as one token or as `@@global` `.` `` `x` ``.
                let mut name = t.text(src).to_string();
                let mut n = k + 1;
                // `@ @x` and `@@ x`: MariaDB's grammar takes the parts as separate tokens.
                if !name.starts_with("@@") && k > 0 && toks[k - 1].text(src) == "@" {
                    name.insert(0, '@');
                }
                if name == "@@" {
                    if let Some(part) = toks.get(n).filter(|p| is_name(p)) {
                        name.push_str(&part.ident_value(src));
                        n += 1;
                    }
                }
                if !name.ends_with('.') && toks.get(n).is_some_and(|d| d.is_punct(src, ".")) {
                    name.push('.');
                    n += 1;
                }
                if name.ends_with('.') {
                    if let Some(part) = toks.get(n).filter(|p| is_name(p)) {
                        name.push_str(&part.ident_value(src));
                    }
                }
                check_variable(&name)?
            }
            TokenKind::Ident => {
                let w = word.as_deref().unwrap_or("");
                if w == "load_file" && toks.get(k + 1).is_some_and(|n| n.is_punct(src, "(")) {
                    return Err(Denial::Privilege {
                        privilege: "FILE",
                        what: "LOAD_FILE()".into(),
                    });
                }
                if w == "into" && matches!(c.word(k + 1).as_deref(), Some("outfile" | "dumpfile")) {
                    return Err(Denial::Privilege {
                        privilege: "FILE",
                        what: "SELECT ... INTO OUTFILE/DUMPFILE".into(),
                    });
                }
            }
            _ => {}
        }
        let on_duplicate_key = k > 0 && c.word(k - 1).as_deref() == Some("key");
        if let (Some(w), Some(top)) = (word.as_deref(), frames.last_mut()) {
            if matches!(
                w,
                "select" | "with" | "values" | "table" | "delete" | "update" | "insert" | "replace"
            ) {
                top.statement = true;
            }
            if matches!(w, "select" | "join" | "straight_join" | "where" | "values") {
                top.query = true;
            }
            if matches!(
                w,
                "from" | "join" | "straight_join" | "update" | "table" | "tables"
            ) && top.statement
                && !on_duplicate_key
            {
                top.from_list = true;
            } else if CLAUSE_WORDS.contains(&w) {
                top.from_list = false;
            }
        }
        if t.is_punct(src, "(") {
            frames.push(Frame {
                statement: false,
                from_list: false,
                query: false,
            });
        } else if t.is_punct(src, ")") && frames.len() > 1 {
            frames.pop();
        }
        let qualifier = is_name(t)
            && toks.get(k + 1).is_some_and(|n| n.is_punct(src, "."))
            && toks
                .get(k + 2)
                .is_some_and(|n| is_name(n) || n.is_punct(src, "*"))
            && !(k > 0 && toks[k - 1].is_punct(src, "."));
        if !qualifier {
            continue;
        }
        let name = t.ident_value(src).into_owned();
        if is_keyspace(&name) {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let denied = || Err(Denial::Database(name.clone()));
        if SYSTEM_DATABASES.contains(&lower.as_str()) {
            return denied();
        }
        let three_part = toks.get(k + 3).is_some_and(|n| n.is_punct(src, "."));
        let call = toks.get(k + 3).is_some_and(|n| n.is_punct(src, "("));
        let prev = k.checked_sub(1).and_then(|p| toks.get(p));
        let frame = frames.last().copied().unwrap_or(Frame {
            statement: true,
            from_list: false,
            query: true,
        });
        let prev_word = k.checked_sub(1).and_then(|p| c.word(p));
        let before_prev = k.checked_sub(2).and_then(|p| c.word(p));
        let after_table_word = frame.statement
            && prev_word
                .as_deref()
                .is_some_and(|w| TABLE_POSITION.contains(&w))
            && !(prev_word.as_deref() == Some("update") && before_prev.as_deref() == Some("key"));
        let ddl_table_word =
            ddl && !frame.query && matches!(prev_word.as_deref(), Some("on" | "like"));
        let in_from_list =
            prev.is_some_and(|p| p.is_punct(src, ",") || p.is_punct(src, "(")) && frame.from_list;
        if three_part || call || after_table_word || ddl_table_word || in_from_list {
            return denied();
        }
        // Bound elsewhere: `X.X` does not bind `X` by its own second part.
        let bound = bare
            .get_or_insert_with(bare_names)
            .iter()
            .any(|(m, n)| *m != k + 2 && *n == lower);
        if !(bound || lower == "new" || lower == "old") {
            return denied();
        }
    }
    check_show_database(&c, is_keyspace)
}

/// `@@datadir`, `@@global.basedir` ...: backend paths are not the client's business.
fn check_variable(text: &str) -> Result<(), Denial> {
    let lower = text.to_ascii_lowercase();
    let Some(name) = lower.strip_prefix("@@") else {
        return Ok(());
    };
    let name = name
        .trim_start_matches("global.")
        .trim_start_matches("session.")
        .trim_start_matches("local.")
        .trim_matches('`');
    if PATH_VARS.contains(&name) {
        return Err(Denial::Privilege {
            privilege: "SUPER",
            what: format!("@@{name}"),
        });
    }
    Ok(())
}

/// `SHOW TABLES FROM db`, `SHOW COLUMNS FROM t FROM db` ...: the database must be a keyspace.
fn check_show_database(c: &Cursor<'_>, is_keyspace: &dyn Fn(&str) -> bool) -> Result<(), Denial> {
    match crate::sql::show_database(c.src) {
        Some(db) if !is_keyspace(&db.name) => Err(Denial::Database(db.name)),
        _ => Ok(()),
    }
}
