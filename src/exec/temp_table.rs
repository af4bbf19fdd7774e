//! A table's temporary copy: its `SHOW CREATE TABLE` turned into `CREATE TEMPORARY TABLE`,
//! and its rows turned into the INSERTs that fill the copy.
//!
//! The copy keeps what decides answers: column types, character sets, collations, defaults,
//! the table's default character set and collation, and its indexes — primary and unique
//! keys included, since MariaDB's optimizer reads an indexed column differently with them
//! (e.g. `bigint_pk = 107.5` through a non-unique key finds the row 108). Only when rows
//! gathered from several shards repeat a unique key ([`Keys::Plain`]) are those keys made
//! plain. It drops what does not exist for temporary tables or would change rows:
//! AUTO_INCREMENT (a 0 would be replaced), foreign keys, CHECK constraints,
//! FULLTEXT/SPATIAL/hash indexes, engine and partitioning. A generated column becomes a plain
//! column holding the values read; invisible and system-versioned columns are refused.

use super::ExecError;
use crate::sql::literal;
use crate::sql::Charset;
use mysql_async::Value;
use mysql_common::constants::ColumnType;
use mysql_common::packets::Column;

/// How a copy keeps the table's primary and unique keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// As they are.
    Unique,
    /// As plain keys (the rows repeat a unique key across shards).
    Plain,
}

/// `CREATE TEMPORARY TABLE <temp> (...)` from a `SHOW CREATE TABLE` answer.
pub fn temporary_ddl(show_create: &str, temp: &str, keys: Keys) -> Result<String, ExecError> {
    let mut lines = show_create.lines();
    let head = lines.next().unwrap_or("");
    if !head.starts_with("CREATE TABLE ") || !head.trim_end().ends_with('(') {
        return Err(ExecError::Internal(format!(
            "unexpected SHOW CREATE TABLE answer: {head}"
        )));
    }
    let mut definitions = Vec::new();
    let mut options = None;
    for line in lines.by_ref() {
        if line.starts_with(')') {
            options = Some(line);
            break;
        }
        let def = line.trim().trim_end_matches(',');
        if let Some(kept) = definition(def, keys)? {
            definitions.push(format!("  {kept}"));
        }
    }
    let options = options.ok_or_else(|| {
        ExecError::Internal("SHOW CREATE TABLE answer without its closing line".into())
    })?;
    if options.contains("WITH SYSTEM VERSIONING") {
        return Err(refused("a system-versioned table"));
    }
    let mut out = format!(
        "CREATE TEMPORARY TABLE {} (\n{}\n)",
        crate::sql::quote_ident(temp),
        definitions.join(",\n")
    );
    for key in ["DEFAULT CHARSET=", "COLLATE="] {
        if let Some(value) = option_value(options, key) {
            out.push(' ');
            out.push_str(key);
            out.push_str(value);
        }
    }
    Ok(out)
}

fn refused(what: &str) -> ExecError {
    ExecError::NotSupported(format!(
        "{what} in a statement the proxy answers over copies of its tables"
    ))
}

/// One column or index definition as the copy keeps it (None: left out).
fn definition(def: &str, keys: Keys) -> Result<Option<String>, ExecError> {
    if def.starts_with('`') {
        let body = before_comment(def);
        if body.contains(" INVISIBLE") {
            return Err(refused("an invisible column"));
        }
        let def = match def.find(" GENERATED ALWAYS AS (") {
            Some(at) => without_generation(def, at)?,
            None => def.to_string(),
        };
        return Ok(Some(def.replacen(" AUTO_INCREMENT", "", 1)));
    }
    if def.contains("USING HASH") {
        return Ok(None);
    }
    if keys == Keys::Unique && (def.starts_with("PRIMARY KEY ") || def.starts_with("UNIQUE KEY ")) {
        return Ok(Some(def.to_string()));
    }
    if let Some(rest) = def.strip_prefix("PRIMARY KEY ") {
        return Ok(Some(format!("KEY {rest}")));
    }
    if let Some(rest) = def.strip_prefix("UNIQUE KEY ") {
        return Ok(Some(format!("KEY {rest}")));
    }
    if def.starts_with("KEY ") {
        return Ok(Some(def.to_string()));
    }
    // FULLTEXT / SPATIAL keys, CONSTRAINT ... FOREIGN KEY / CHECK, PERIOD FOR: left out.
    Ok(None)
}

/// A generated column's definition as a plain column's (its copy holds the values read):
/// ` GENERATED ALWAYS AS (expr) VIRTUAL|PERSISTENT|STORED` at `at` removed.
fn without_generation(def: &str, at: usize) -> Result<String, ExecError> {
    let open = at + " GENERATED ALWAYS AS ".len();
    let bytes = def.as_bytes();
    let (mut depth, mut quote, mut i) = (0usize, None::<u8>, open);
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q && bytes.get(i + 1) == Some(&q) => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) if b == b'\\' => i += 1,
            Some(_) => {}
            None if b == b'\'' || b == b'`' || b == b'"' => quote = Some(b),
            None if b == b'(' => depth += 1,
            None if b == b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            None => {}
        }
        i += 1;
    }
    let rest = def.get(i + 1..).unwrap_or("");
    let rest = ["VIRTUAL", "PERSISTENT", "STORED"]
        .iter()
        .find_map(|kind| rest.strip_prefix(' ')?.strip_prefix(kind))
        .ok_or_else(|| refused("a generated column the proxy cannot read"))?;
    Ok(format!("{}{rest}", &def[..at]))
}

/// A column definition up to its COMMENT (whose text may hold any word).
fn before_comment(def: &str) -> &str {
    def.find(" COMMENT '").map_or(def, |at| &def[..at])
}

/// The word after `key` in the table options line (`DEFAULT CHARSET=utf8mb4`).
fn option_value<'a>(options: &'a str, key: &str) -> Option<&'a str> {
    let at = options.find(key)? + key.len();
    let rest = &options[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Statements of at most about this many bytes carry the rows.
const INSERT_BYTES: usize = 1 << 20;

/// The INSERTs that put `rows` (text-protocol values of `columns`) into `temp`; strings in
/// `charset` (the connection's), numbers as their digits, everything else binary.
pub fn inserts(
    temp: &str,
    columns: &[Column],
    rows: &[Vec<Value>],
    charset: Charset,
) -> Result<Vec<String>, ExecError> {
    let head = format!("INSERT INTO {} VALUES ", crate::sql::quote_ident(temp));
    let mut out = Vec::new();
    let mut sql = String::new();
    for row in rows {
        if sql.is_empty() {
            sql.push_str(&head);
        } else {
            sql.push_str(", ");
        }
        sql.push('(');
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&cell(columns.get(i), v, charset)?);
        }
        sql.push(')');
        if sql.len() >= INSERT_BYTES {
            out.push(std::mem::take(&mut sql));
        }
    }
    if !sql.is_empty() {
        out.push(sql);
    }
    Ok(out)
}

/// One value as a literal the column reads back unchanged.
fn cell(column: Option<&Column>, v: &Value, charset: Charset) -> Result<String, ExecError> {
    let bytes = match v {
        Value::NULL => return Ok("NULL".into()),
        Value::Bytes(b) => b,
        other => {
            return Err(ExecError::Internal(format!(
                "a text-protocol row held {other:?}"
            )))
        }
    };
    let Some(column) = column else {
        return Err(ExecError::Internal("a row wider than its columns".into()));
    };
    if is_number(column.column_type())
        && !bytes.is_empty()
        && bytes.iter().all(|b| b"0123456789+-.eE".contains(b))
    {
        // (Only ASCII digits, signs, points and exponents: the text as it came.)
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    }
    if column.character_set() == 63 {
        return Ok(literal::binary(bytes));
    }
    Ok(literal::string(bytes, charset))
}

/// Whether `t` is an integer type (TINYINT … BIGINT).
pub fn is_integer_type(t: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        t,
        MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG
    )
}

/// Whether `SHOW CREATE TABLE` text declares `column` with an integer type.
pub fn is_integer_column(show_create: &str, column: &str) -> bool {
    show_create.lines().skip(1).any(|line| {
        let def = line.trim_start();
        let Some(rest) = def.strip_prefix('`') else {
            return false;
        };
        let Some(end) = rest.find('`') else {
            return false;
        };
        if !rest[..end].eq_ignore_ascii_case(column) {
            return false;
        }
        let ty = rest[end + 1..].trim_start().to_ascii_lowercase();
        ["tinyint", "smallint", "mediumint", "int", "bigint"]
            .iter()
            .any(|t| ty.starts_with(&format!("{t}(")) || ty.starts_with(&format!("{t} ")))
    })
}

/// Whether `t` is a numeric type, whose text-protocol value is its digits.
pub(crate) fn is_number(t: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        t,
        MYSQL_TYPE_DECIMAL
            | MYSQL_TYPE_NEWDECIMAL
            | MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_FLOAT
            | MYSQL_TYPE_DOUBLE
            | MYSQL_TYPE_YEAR
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOWN: &str = "CREATE TABLE `user` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `name` varchar(64) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL COMMENT 'AS (x) INVISIBLE',\n  `email` varchar(100) NOT NULL,\n  `body` text DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `email` (`email`),\n  KEY `name_idx` (`name`(10)),\n  FULLTEXT KEY `ft` (`body`),\n  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `other` (`id`),\n  CONSTRAINT `chk` CHECK (`id` > 0)\n) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='x'\n PARTITION BY HASH (`id`)\nPARTITIONS 4";

    #[test]
    fn keeps_types_and_collations_and_drops_uniqueness() {
        let ddl = temporary_ddl(SHOWN, "_shardgate_m0", Keys::Plain).unwrap();
        assert_eq!(
            ddl,
            "CREATE TEMPORARY TABLE `_shardgate_m0` (\n  `id` bigint(20) NOT NULL,\n  `name` varchar(64) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL COMMENT 'AS (x) INVISIBLE',\n  `email` varchar(100) NOT NULL,\n  `body` text DEFAULT NULL,\n  KEY (`id`),\n  KEY `email` (`email`),\n  KEY `name_idx` (`name`(10))\n) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        );
    }

    #[test]
    fn unique_keys_stay_unless_rows_repeat_them() {
        let ddl = temporary_ddl(SHOWN, "m", Keys::Unique).unwrap();
        assert!(
            ddl.contains(
                "  PRIMARY KEY (`id`),\n  UNIQUE KEY `email` (`email`),\n  KEY `name_idx`"
            ),
            "{ddl}"
        );
    }

    #[test]
    fn integer_columns_are_read_from_the_definition() {
        assert!(is_integer_column(SHOWN, "id"));
        assert!(is_integer_column(SHOWN, "ID"));
        assert!(!is_integer_column(SHOWN, "name"));
        assert!(!is_integer_column(SHOWN, "nope"));
    }

    #[test]
    fn generated_columns_become_plain_columns() {
        let generated = "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL,\n  `b` int(11) GENERATED ALWAYS AS (`a` + 1) VIRTUAL,\n  `c` enum('x','y') GENERATED ALWAYS AS (elt(1 + `a` MOD 2,'x',')(y')) STORED COMMENT 'z'\n) ENGINE=InnoDB";
        assert_eq!(
            temporary_ddl(generated, "m", Keys::Plain).unwrap(),
            "CREATE TEMPORARY TABLE `m` (\n  `a` int(11) DEFAULT NULL,\n  `b` int(11),\n  `c` enum('x','y') COMMENT 'z'\n)"
        );
    }

    #[test]
    fn refuses_columns_a_copy_would_read_differently() {
        let invisible = "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL INVISIBLE\n) ENGINE=InnoDB";
        assert!(matches!(
            temporary_ddl(invisible, "m", Keys::Plain),
            Err(ExecError::NotSupported(_))
        ));
        let versioned =
            "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL\n) ENGINE=InnoDB WITH SYSTEM VERSIONING";
        assert!(matches!(
            temporary_ddl(versioned, "m", Keys::Plain),
            Err(ExecError::NotSupported(_))
        ));
    }

    #[test]
    fn rows_become_literals_that_read_back_alike() {
        let cols = vec![
            Column::new(ColumnType::MYSQL_TYPE_LONGLONG).with_character_set(63),
            Column::new(ColumnType::MYSQL_TYPE_VAR_STRING).with_character_set(45),
            Column::new(ColumnType::MYSQL_TYPE_BLOB).with_character_set(63),
            Column::new(ColumnType::MYSQL_TYPE_DATE).with_character_set(63),
        ];
        let rows = vec![
            vec![
                Value::Bytes(b"-12".to_vec()),
                Value::Bytes("é'\\".as_bytes().to_vec()),
                Value::Bytes(vec![0, 255]),
                Value::Bytes(b"2024-01-31".to_vec()),
            ],
            vec![Value::NULL, Value::NULL, Value::NULL, Value::NULL],
        ];
        let sql = inserts("m", &cols, &rows, Charset::UTF8MB4).unwrap();
        assert_eq!(
            sql,
            vec!["INSERT INTO `m` VALUES (-12, _utf8mb4 X'c3a9275c', _binary X'00ff', _binary X'323032342d30312d3331'), (NULL, NULL, NULL, NULL)".to_string()]
        );
    }

    #[test]
    fn large_copies_are_cut_into_statements() {
        let cols = vec![Column::new(ColumnType::MYSQL_TYPE_LONGLONG)];
        let rows: Vec<Vec<Value>> = (0..300_000)
            .map(|i| vec![Value::Bytes(format!("{i}").into_bytes())])
            .collect();
        let sql = inserts("m", &cols, &rows, Charset::UTF8MB4).unwrap();
        assert!(sql.len() > 1);
        assert!(sql.iter().all(|s| s.len() < INSERT_BYTES + 64));
        let values: usize = sql.iter().map(|s| s.matches('(').count()).sum();
        assert_eq!(values, rows.len());
    }
}
