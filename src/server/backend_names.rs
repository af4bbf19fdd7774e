//! Backend database names never reach clients: a shard's error and warning messages
//! (`Table 'vt_commerce.t' doesn't exist`) and the `Table` cells of table-maintenance results
//! (`CHECK/ANALYZE/OPTIMIZE/REPAIR/CHECKSUM TABLE` answer `vt_commerce.t`) name the keyspace
//! instead, as every column definition's schema already does (see `relay.rs`).
//!
//! The sinks rename, so no path that builds a message can leak one: every ERR packet
//! ([`rename_in_text`] in `ClientConn::write_error`) and every diagnostics row `SHOW WARNINGS`
//! / `SHOW ERRORS` answers from the session (warnings collected from shards, errors of
//! post-transaction statements, the last error).

use crate::backend::wire::packets;
use crate::backend::Backends;
use crate::protocol::writer;
use crate::sql;
use std::borrow::Cow;

/// `(backend database, keyspace)` for every shard whose database is not named as its keyspace,
/// and for its file-system form when that differs (`t_customer_@002d80`, as MariaDB names
/// files in `./db/t.frm` messages), longest first (so `t_customer_-80` is matched before a
/// shorter prefix).
fn renames(backends: &Backends) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = Vec::new();
    for ks in &backends.keyspace_order {
        for shard in backends.keyspace(ks).into_iter().flatten() {
            let db = shard.database.as_str();
            for name in [db.to_string(), file_name(db)] {
                if name != *ks && !out.iter().any(|(d, _)| *d == name) {
                    out.push((name, ks.as_str()));
                }
            }
        }
    }
    out.sort_by_key(|(db, _)| std::cmp::Reverse(db.len()));
    out
}

/// A database name as MariaDB writes it in file paths: ASCII letters, digits and `_` as they
/// are, any other character as `@` and four hex digits of its code point (`-` → `@002d`).
fn file_name(db: &str) -> String {
    let mut out = String::with_capacity(db.len());
    for c in db.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push_str(&format!("@{:04x}", c as u32));
        }
    }
    out
}

/// Whether `c` may continue a database name (so a match next to it is part of a longer word).
fn name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'-') || c >= 0x80
}

/// `msg` with every backend database name replaced by its keyspace, where the message names it
/// as a database: before a `.` (`'vt_x.t'`) or quoted alone (`'vt_x'`, `` `vt_x` ``).
pub fn rename_in_text<'a>(backends: &Backends, msg: &'a str) -> Cow<'a, str> {
    let renames = renames(backends);
    let borrowed: Vec<(&str, &str)> = renames.iter().map(|(d, k)| (d.as_str(), *k)).collect();
    rename_with(&borrowed, msg)
}

fn rename_with<'a>(renames: &[(&str, &str)], msg: &'a str) -> Cow<'a, str> {
    if !renames.iter().any(|(db, _)| msg.contains(db)) {
        return Cow::Borrowed(msg);
    }
    let bytes = msg.as_bytes();
    let mut out = String::with_capacity(msg.len());
    let mut at = 0;
    let mut copied = 0;
    while at < bytes.len() {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let hit = before
            .is_none_or(|c| !name_char(c) && c != b'.')
            .then(|| {
                renames.iter().find(|(db, _)| {
                    if !bytes[at..].starts_with(db.as_bytes()) {
                        return false;
                    }
                    // A database as messages name one: `db.table`, quoted alone ('db',
                    // `db`), or a directory in a file path (`./db/t.frm`); a table or column
                    // that happens to share the name is left alone.
                    match bytes.get(at + db.len()) {
                        Some(b'.') => true,
                        Some(b'/') | Some(b'\\') => matches!(before, Some(b'/' | b'\\')),
                        Some(&q) if matches!(q, b'\'' | b'`' | b'"') => before == Some(q),
                        _ => false,
                    }
                })
            })
            .flatten();
        match hit {
            Some((db, ks)) => {
                out.push_str(&msg[copied..at]);
                out.push_str(ks);
                at += db.len();
                copied = at;
            }
            None => at += 1,
        }
    }
    out.push_str(&msg[copied..]);
    Cow::Owned(out)
}

/// Whether `text` is a table-maintenance statement, whose result rows name `db.table`.
pub fn is_table_maintenance(text: &str) -> bool {
    let mut toks = sql::Significant::new(text);
    toks.next().is_some_and(|t| {
        ["check", "analyze", "optimize", "repair", "checksum"]
            .iter()
            .any(|w| t.is_word(text, w))
    })
}

/// A result row whose first cell is `db.table`, with `db` mapped to its keyspace. `binary`:
/// a binary-protocol row of `columns` columns (header byte and NULL bitmap before the cells).
/// Rows that do not have that shape are returned unchanged.
pub fn rename_first_cell<'a>(
    backends: &Backends,
    row: &'a [u8],
    binary: bool,
    columns: u64,
) -> Cow<'a, [u8]> {
    let start = if binary {
        let bitmap = (columns as usize + 7 + 2) / 8;
        // NULL bit of column 0 is bit 2 of the first bitmap byte.
        if row.get(1).is_none_or(|b| b & 0b100 != 0) {
            return Cow::Borrowed(row);
        }
        1 + bitmap
    } else {
        0
    };
    let mut at = start;
    let Some(len) = packets::lenenc(row, &mut at) else {
        return Cow::Borrowed(row);
    };
    let Some(end) = at.checked_add(len as usize).filter(|&e| e <= row.len()) else {
        return Cow::Borrowed(row);
    };
    let cell = &row[at..end];
    let Some(dot) = cell.iter().position(|&b| b == b'.') else {
        return Cow::Borrowed(row);
    };
    let Some(ks) = std::str::from_utf8(&cell[..dot])
        .ok()
        .and_then(|db| backends.keyspace_of_database(db))
    else {
        return Cow::Borrowed(row);
    };
    let mut out = Vec::with_capacity(row.len());
    out.extend_from_slice(&row[..start]);
    let mut renamed = ks.as_bytes().to_vec();
    renamed.extend_from_slice(&cell[dot..]);
    writer::put_lenenc_bytes(&mut out, &renamed);
    out.extend_from_slice(&row[end..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_databases_where_messages_name_them() {
        let r = [("vt_customer_-80", "customer"), ("vt_c", "commerce")];
        assert_eq!(
            rename_with(&r, "Table 'vt_c.t' doesn't exist"),
            "Table 'commerce.t' doesn't exist"
        );
        assert_eq!(
            rename_with(&r, "Unknown database 'vt_customer_-80'"),
            "Unknown database 'customer'"
        );
        assert_eq!(rename_with(&r, "in `vt_c`.`t`"), "in `commerce`.`t`");
        // File paths, with MariaDB's file-name form of the name.
        let r = [
            ("vt_customer_@002d80", "customer"),
            ("vt_customer_-80", "customer"),
        ];
        assert_eq!(
            rename_with(
                &r,
                "Can't find file: './vt_customer_@002d80/t.frm' (errno: 2)"
            ),
            "Can't find file: './customer/t.frm' (errno: 2)"
        );
        assert_eq!(file_name("vt_customer_-80"), "vt_customer_@002d80");
        assert_eq!(file_name("vt_c"), "vt_c");
        let r = [("vt_c", "commerce")];
        // A qualified table that shares the name, or a longer name, is not a database (a
        // quoted column alone of the same name would be renamed: it reads like a database).
        for kept in [
            "Table 'commerce.vt_c' doesn't exist",
            "Table 'vt_cx.t' doesn't exist",
            "vt_c is here",
        ] {
            assert_eq!(rename_with(&r, kept), kept);
        }
    }

    #[test]
    fn maintenance_statements_are_recognised() {
        assert!(is_table_maintenance("CHECK TABLE t"));
        assert!(is_table_maintenance("/* x */ analyze table t"));
        assert!(is_table_maintenance("CHECKSUM TABLE t"));
        assert!(!is_table_maintenance("SELECT 'check'"));
    }
}
