//! The statement kinds no client may send to a shard, decided on the leading keywords.
//!
//! An allowlist: a statement starts with a keyword the proxy knows, and the ones that
//! administer the server, touch files or replication are refused. Statements that create stored
//! programs (which run later, as the backend account) have every position of their body checked
//! as if a statement started there.

use super::Denial;
use crate::sql::{Token, TokenKind};

/// Leading keywords of statements a client may send (their details are checked below).
const ALLOWED_LEADS: &[&str] = &[
    "select",
    "insert",
    "replace",
    "update",
    "delete",
    "with",
    "values",
    "table",
    "begin",
    "start",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "create",
    "alter",
    "drop",
    "truncate",
    "rename",
    "explain",
    "describe",
    "desc",
    "lock",
    "unlock",
    "show",
    "use",
    "set",
    "call",
    "do",
    "prepare",
    "execute",
    "deallocate",
    "xa",
    "help",
    "analyze",
    "check",
    "checksum",
    "optimize",
    "repair",
    "signal",
    "resignal",
    "get",
];

/// Server variables a session may not set even for itself (MariaDB wants SUPER or a
/// replication/binlog privilege for them).
const PRIVILEGED_SESSION_VARS: &[&str] = &[
    "sql_log_bin",
    "sql_log_off",
    "gtid_domain_id",
    "gtid_seq_no",
    "server_id",
    "pseudo_thread_id",
    "pseudo_slave_mode",
    "skip_replication",
    "binlog_format",
    "binlog_annotate_row_events",
    "debug",
    "debug_dbug",
    "gtid_next",
    "sql_slave_skip_counter",
];

/// A cursor over the significant tokens of one statement.
pub(super) struct Cursor<'a> {
    pub(super) src: &'a str,
    pub(super) toks: &'a [Token],
}

impl Cursor<'_> {
    /// The lower-cased bare word at `i`, if that token is one.
    pub(super) fn word(&self, i: usize) -> Option<String> {
        self.toks
            .get(i)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(self.src).to_ascii_lowercase())
    }

    fn is(&self, i: usize, w: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_word(self.src, w))
    }

    fn punct(&self, i: usize, p: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_punct(self.src, p))
    }
}

fn privilege(privilege: &'static str, what: &str) -> Denial {
    Denial::Privilege {
        privilege,
        what: what.to_string(),
    }
}

/// Checks the statement kind; `nested` checks statement text held in a string literal.
pub(super) fn check_kind(
    src: &str,
    toks: &[Token],
    nested: &dyn Fn(&str) -> Result<(), Denial>,
) -> Result<(), Denial> {
    let c = Cursor { src, toks };
    let mut i = 0;
    while c.punct(i, "(") {
        i += 1;
    }
    let Some(lead) = c.word(i) else {
        return match toks.get(i) {
            None => Ok(()),
            Some(t) if t.kind == TokenKind::Semicolon => Ok(()),
            Some(t) => Err(near(src, t)),
        };
    };
    if !ALLOWED_LEADS.contains(&lead.as_str()) {
        return Err(if is_refused_lead(&lead) {
            refusal_for(&lead)
        } else {
            near(src, &toks[i])
        });
    }
    check_at(&c, i, nested)?;
    if lead == "set" && c.is(i + 1, "statement") {
        // SET STATEMENT x=1 FOR <statement>: the statement is checked as one.
        let mut depth = 0usize;
        for j in i + 2..toks.len() {
            if c.punct(j, "(") {
                depth += 1;
            } else if c.punct(j, ")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && c.is(j, "for") {
                return match toks.get(j + 1..) {
                    Some(rest) if !rest.is_empty() => check_kind(src, rest, nested),
                    _ => Err(near(src, &toks[j])),
                };
            }
        }
    }
    if creates_stored_program(&c, i) {
        // The body runs later as the backend account: no position in it may start a refused
        // statement (column names that are such keywords must be quoted there).
        for j in i + 1..toks.len() {
            if let Some(w) = c.word(j) {
                if !ALLOWED_LEADS.contains(&w.as_str()) && is_refused_lead(&w) {
                    return Err(refusal_for(&w));
                }
                check_at(&c, j, nested)?;
            }
        }
    }
    Ok(())
}

/// The syntax error for a statement that starts at `t` with nothing the proxy knows, worded
/// as MariaDB words it (`near '%-.80T' at line %d`: the rest of the statement, cut to 77 bytes
/// of whole characters and `...` when longer than 80; lines counted from the first non-blank
/// character, as MariaDB strips leading blanks before parsing).
fn near(src: &str, t: &Token) -> Denial {
    let rest = src
        .get(t.start..)
        .unwrap_or("")
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    let near = if rest.len() > 80 {
        let mut cut = 77;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &rest[..cut])
    } else {
        rest.to_string()
    };
    let before = src.get(..t.start).unwrap_or("");
    let line = 1 + before.trim_start().matches('\n').count();
    Denial::Syntax { near, line }
}

/// Leading keywords of statements that are always refused.
fn is_refused_lead(w: &str) -> bool {
    matches!(
        w,
        "shutdown"
            | "restart"
            | "grant"
            | "revoke"
            | "install"
            | "uninstall"
            | "kill"
            | "flush"
            | "reset"
            | "purge"
            | "change"
            | "stop"
            | "binlog"
            | "handler"
            | "load"
            | "backup"
            | "cache"
            | "clone"
    )
}

/// The denial for a leading keyword outside the allowlist.
fn refusal_for(lead: &str) -> Denial {
    let up = lead.to_ascii_uppercase();
    match lead {
        "shutdown" | "restart" => privilege("SHUTDOWN", &up),
        "grant" | "revoke" => privilege("GRANT OPTION", &up),
        "install" | "uninstall" => privilege("SUPER", &format!("{up} PLUGIN/SONAME")),
        // `KILL [QUERY] <proxy id>` never gets here (answered by the proxy, server/kill.rs).
        "kill" => privilege("CONNECTION ADMIN", "KILL of a backend connection"),
        "flush" | "reset" | "backup" | "cache" => privilege("RELOAD", &up),
        "purge" | "binlog" => privilege("BINLOG ADMIN", &up),
        "change" | "stop" => privilege("REPLICATION SLAVE ADMIN", &up),
        "load" => privilege("FILE", "LOAD DATA/XML"),
        "handler" => Denial::Unclassified("HANDLER".into()),
        _ => Denial::Unclassified(format!("a statement starting with '{up}'")),
    }
}

/// Whether the statement at `i` creates or changes a stored program (procedure, function,
/// trigger, event) or is a compound statement.
fn creates_stored_program(c: &Cursor<'_>, i: usize) -> bool {
    match c.word(i).as_deref() {
        Some("create") | Some("alter") => (i + 1..c.toks.len().min(i + 40)).any(|j| {
            matches!(
                c.word(j).as_deref(),
                Some("procedure" | "function" | "trigger" | "event" | "package")
            )
        }),
        Some("begin") => c.is(i + 1, "not"),
        _ => false,
    }
}

/// Checks the statement starting at token `i` (its leading word is allowed).
fn check_at(
    c: &Cursor<'_>,
    i: usize,
    nested: &dyn Fn(&str) -> Result<(), Denial>,
) -> Result<(), Denial> {
    let Some(lead) = c.word(i) else {
        return Ok(());
    };
    match lead.as_str() {
        "start" => {
            if c.is(i + 1, "transaction") {
                Ok(())
            } else if matches!(
                c.word(i + 1).as_deref(),
                Some("slave" | "replica" | "all" | "group_replication")
            ) {
                Err(privilege("REPLICATION SLAVE ADMIN", "START SLAVE"))
            } else {
                Ok(())
            }
        }
        "create" | "alter" | "drop" | "rename" => check_ddl(c, i, &lead),
        "set" => check_set(c, i),
        "show" => check_show(c, i),
        "prepare" => {
            // PREPARE s FROM 'text': the text is checked as a statement; from a variable it
            // cannot be seen, so it is refused.
            match (2..5).map(|k| i + k).find(|&j| c.is(j - 1, "from")) {
                Some(j) => nested_text(c, j, nested),
                None => Ok(()),
            }
        }
        "execute" if c.is(i + 1, "immediate") => nested_text(c, i + 2, nested),
        _ => Ok(()),
    }
}

/// The statement text of `PREPARE ... FROM` / `EXECUTE IMMEDIATE` at token `j`.
fn nested_text(
    c: &Cursor<'_>,
    j: usize,
    nested: &dyn Fn(&str) -> Result<(), Denial>,
) -> Result<(), Denial> {
    match c.toks.get(j) {
        Some(t) if t.kind == TokenKind::String => nested(&t.string_value(c.src)),
        _ => Err(Denial::Unclassified(
            "PREPARE / EXECUTE IMMEDIATE from a variable or expression".into(),
        )),
    }
}

/// `CREATE/ALTER/DROP/RENAME`: accounts, servers and databases are refused; a DEFINER other than
/// the current user is refused; `CREATE FUNCTION ... SONAME` is refused.
fn check_ddl(c: &Cursor<'_>, i: usize, lead: &str) -> Result<(), Denial> {
    let up = lead.to_ascii_uppercase();
    let mut j = i + 1;
    // Skip OR REPLACE, DEFINER = x, ALGORITHM = x, SQL SECURITY x, modifiers.
    loop {
        match c.word(j).as_deref() {
            Some("or") if c.is(j + 1, "replace") => j += 2,
            Some("definer") => {
                let k = if c.punct(j + 1, "=") { j + 2 } else { j + 1 };
                let current = c.is(k, "current_user");
                if !current {
                    return Err(privilege("SET USER", "DEFINER other than CURRENT_USER"));
                }
                j = k + 1;
                if c.punct(j, "(") && c.punct(j + 1, ")") {
                    j += 2;
                }
            }
            Some("algorithm") => j += 3,
            Some("sql") if c.is(j + 1, "security") => j += 3,
            Some(
                "temporary" | "online" | "offline" | "ignore" | "aggregate" | "unique" | "fulltext"
                | "spatial" | "nonblocking",
            ) => j += 1,
            _ => break,
        }
    }
    match c.word(j).as_deref() {
        Some("user" | "role") => Err(privilege("CREATE USER", &format!("{up} USER/ROLE"))),
        Some("server") => Err(privilege("SUPER", &format!("{up} SERVER"))),
        Some("database" | "schema") => {
            let mut k = j + 1;
            while matches!(c.word(k).as_deref(), Some("if" | "not" | "exists")) {
                k += 1;
            }
            let name = c
                .toks
                .get(k)
                .map(|t| t.ident_value(c.src).into_owned())
                .unwrap_or_default();
            Err(Denial::Database(name))
        }
        Some("function") if (j..c.toks.len()).any(|k| c.is(k, "soname")) => {
            Err(privilege("SUPER", "CREATE FUNCTION ... SONAME"))
        }
        Some("table") if lead != "drop" && lead != "rename" => check_table_options(c, j),
        Some("logfile" | "tablespace" | "resource" | "spatial") => Err(privilege(
            "SUPER",
            &format!(
                "{up} {}",
                c.word(j).unwrap_or_default().to_ascii_uppercase()
            ),
        )),
        _ => Ok(()),
    }
}

/// `SET`: global or persisted variables, passwords, roles and privileged session variables.
fn check_set(c: &Cursor<'_>, i: usize) -> Result<(), Denial> {
    match c.word(i + 1).as_deref() {
        Some("password") => return Err(privilege("CREATE USER", "SET PASSWORD")),
        Some("role") | Some("default") => return Err(privilege("CREATE USER", "SET ROLE")),
        _ => {}
    }
    let mut depth = 0usize;
    let mut item_start = true;
    for j in i + 1..c.toks.len() {
        let t = c.toks[j];
        if t.kind == TokenKind::Semicolon {
            // The end of this statement inside a stored program body.
            break;
        }
        if t.is_punct(c.src, "(") {
            depth += 1;
        } else if t.is_punct(c.src, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(c.src, ",") {
            item_start = true;
            continue;
        } else if depth == 0 && c.is(j, "for") && c.is(i + 1, "statement") {
            // SET STATEMENT x=1 FOR <statement>: the variables are checked here, the statement
            // at its own position.
            break;
        }
        if item_start && depth == 0 {
            let name = match t.kind {
                TokenKind::Ident => t.text(c.src).to_ascii_lowercase(),
                TokenKind::Variable if c.toks[j - 1].text(c.src) == "@" => {
                    format!("@{}", t.text(c.src).to_ascii_lowercase())
                }
                TokenKind::Variable => t.text(c.src).to_ascii_lowercase(),
                _ => String::new(),
            };
            if name == "@" || name == "@@" {
                // `SET @@ global.x` / `SET @ @global.x`: the name follows.
                continue;
            }
            if matches!(name.as_str(), "global" | "persist" | "persist_only")
                || name.starts_with("@@global")
                || name.starts_with("@@persist")
            {
                return Err(privilege("SUPER", "SET GLOBAL"));
            }
            if matches!(name.as_str(), "session" | "local" | "statement") {
                continue;
            }
            let bare = name
                .trim_start_matches("@@")
                .trim_start_matches("session.")
                .trim_start_matches("local.");
            if PRIVILEGED_SESSION_VARS.contains(&bare) {
                return Err(privilege("SUPER", &format!("SET {bare}")));
            }
            item_start = false;
        }
    }
    Ok(())
}

/// `SHOW`: statements about the server, other sessions, accounts and replication are refused;
/// `SHOW ... FROM db` / `IN db` must name a keyspace (checked with the references).
fn check_show(c: &Cursor<'_>, i: usize) -> Result<(), Denial> {
    let mut j = i + 1;
    while matches!(
        c.word(j).as_deref(),
        Some("global" | "session" | "full" | "extended")
    ) {
        j += 1;
    }
    let what = c.word(j).unwrap_or_default();
    let refused = match what.as_str() {
        // `SHOW [FULL] PROCESSLIST` is answered by the proxy (its own sessions, server/kill.rs)
        // before this check; a shard's list of threads is not for clients.
        "processlist" | "engine" | "engines" | "mutex" | "plugins" | "plugin" => Some("PROCESS"),
        "grants" | "privileges" => Some("SELECT on mysql"),
        "master" | "slave" | "replica" | "binary" | "binlog" | "relaylog" | "all" => {
            Some("REPLICATION CLIENT")
        }
        "variables" | "status" => Some("SUPER"),
        // The exact `SHOW DATABASES` is answered by the proxy; a filtered one would list
        // the backend's databases.
        "databases" | "schemas" => Some("SHOW DATABASES"),
        "open" => Some("PROCESS"),
        "procedure" | "function" | "package" if c.is(j + 1, "status") => Some("SELECT on mysql"),
        "create" if matches!(c.word(j + 1).as_deref(), Some("user" | "role" | "server")) => {
            Some("SELECT on mysql")
        }
        "profile" | "profiles" | "explain" | "analyze" => None,
        _ => None,
    };
    match refused {
        Some(p) => Err(privilege(p, &format!("SHOW {}", what.to_ascii_uppercase()))),
        None => Ok(()),
    }
}

/// `CREATE/ALTER TABLE` options that reach outside the shard's database: another server
/// (`CONNECTION=`, FEDERATED, SPIDER), files (`DATA/INDEX DIRECTORY`, CONNECT's `FILE_NAME`).
fn check_table_options(c: &Cursor<'_>, j: usize) -> Result<(), Denial> {
    for k in j..c.toks.len() {
        if c.toks[k].kind == TokenKind::Semicolon {
            break;
        }
        match c.word(k).as_deref() {
            Some("connection")
                if c.punct(k + 1, "=")
                    || c.toks
                        .get(k + 1)
                        .is_some_and(|t| t.kind == TokenKind::String) =>
            {
                return Err(privilege("SUPER", "a table with CONNECTION"));
            }
            Some("directory")
                if matches!(c.word(k.wrapping_sub(1)).as_deref(), Some("data" | "index")) =>
            {
                return Err(privilege("FILE", "DATA/INDEX DIRECTORY"));
            }
            Some("file_name" | "dbname" | "srcdef" | "xfile_name") => {
                return Err(privilege("FILE", "CONNECT table options"));
            }
            Some("engine") => {
                let v = if c.punct(k + 1, "=") { k + 2 } else { k + 1 };
                let engine = c
                    .toks
                    .get(v)
                    .map(|t| t.ident_value(c.src).to_ascii_lowercase())
                    .unwrap_or_default();
                if matches!(
                    engine.as_str(),
                    "connect" | "federated" | "federatedx" | "spider" | "oqgraph" | "mroonga"
                ) {
                    return Err(privilege("SUPER", &format!("ENGINE={engine}")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
