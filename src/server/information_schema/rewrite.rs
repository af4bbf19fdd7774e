//! The rewrite behind [`super`]: which schema tables are answered and how (their rules), what a
//! statement names (schema table references, `DATABASE()`, string literals), the check that
//! it reads no other table, and the derived table that stands for a schema table.

use crate::error::ProxyError;
use crate::sql::literal::{self, Charset};
use crate::sql::{self, Needles, Token, TokenKind};
use std::sync::LazyLock;

/// How a schema table is rewritten.
pub(super) struct TableRule {
    /// Upper-case table name.
    pub(super) name: &'static str,
    /// The column that names a row's database: filtered to the backend database. `None`: the
    /// table holds no per-database rows and passes unchanged.
    pub(super) filter: Option<&'static str>,
    /// Columns that name the row's own database: answered as the keyspace.
    pub(super) schema: &'static [&'static str],
    /// Columns that may name another database: the keyspace when they name the backend
    /// database, else NULL.
    pub(super) referenced: &'static [&'static str],
    /// Per-shard statistics: NULL on a sharded keyspace.
    pub(super) stats: &'static [&'static str],
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

pub(super) fn not_supported(what: impl Into<String>) -> ProxyError {
    ProxyError::NotSupported(format!(
        "{} in an information_schema query through the proxy",
        what.into()
    ))
}

/// Whether `text` names `information_schema` at all (cheap pre-check on every SELECT).
pub fn mentions(text: &str) -> bool {
    static WORD: LazyLock<Needles> = LazyLock::new(|| Needles::new(&["information_schema"]));
    WORD.found_in(text.as_bytes()) != 0
}

/// One `information_schema.<table>` reference in the statement.
pub(super) struct Reference {
    /// Byte span of `information_schema . table`.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) rule: &'static TableRule,
    /// The table token as written (for the alias when the client gave none).
    pub(super) written: String,
    /// Whether the client gave an alias.
    pub(super) aliased: bool,
}

/// What the statement says, read from its significant tokens.
pub(super) struct Reading {
    pub(super) refs: Vec<Reference>,
    /// Spans of `DATABASE()` / `SCHEMA()` calls.
    pub(super) current_db_calls: Vec<(usize, usize)>,
    /// String literal values (keyspace candidates).
    pub(super) strings: Vec<String>,
    /// A schema table the proxy does not answer (`PROCESSLIST`, `VIEWS`, ...).
    pub(super) unknown: Option<String>,
}

fn word_value(t: &Token, src: &str) -> Option<String> {
    match t.kind {
        TokenKind::Ident | TokenKind::QuotedIdent => Some(t.ident_value(src).into_owned()),
        _ => None,
    }
}

pub(super) fn read(text: &str) -> Result<Reading, ProxyError> {
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
        } else if let Some(s) = hex_string(t.text(text)) {
            // `X'..'`, as the proxy writes a prepared statement's string parameters.
            out.strings.push(s);
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

/// The UTF-8 text of a hex string literal `X'..'` (None for other tokens or other bytes).
fn hex_string(token: &str) -> Option<String> {
    let digits = token
        .strip_prefix("X'")
        .or_else(|| token.strip_prefix("x'"))?
        .strip_suffix('\'')?;
    if digits.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

pub(super) fn quote(s: &str) -> String {
    literal::string(s.as_bytes(), Charset::UTF8MB4)
}

pub(super) fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// The derived table that stands for `rule`'s table in keyspace `ks` (backend `db`).
pub(super) fn derived(
    rule: &TableRule,
    columns: &[String],
    ks: &str,
    db: &str,
    sharded: bool,
) -> String {
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
        assert_eq!(hex_string("X'6b73'").as_deref(), Some("ks"));
        assert_eq!(hex_string("x'6B'").as_deref(), Some("k"));
        assert_eq!(hex_string("X'6'"), None);
        assert_eq!(hex_string("0x6b73"), None);
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
    fn mentions_in_any_case() {
        assert!(mentions("select * from INFORMATION_SCHEMA.tables"));
        assert!(mentions("select * from `Information_Schema`.tables"));
        assert!(!mentions("select * from information.schema"));
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
