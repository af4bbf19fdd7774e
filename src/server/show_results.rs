//! `SHOW` results name databases in their headers and cells: `Tables_in_vt_customer`, the
//! `Database` column of `SHOW CREATE DATABASE` / `SHOW OPEN TABLES`, `` `vt_customer`.`t` ``
//! inside a view or trigger definition. A relayed `SHOW` result has each of those backend
//! database names replaced by its keyspace (text rows; every other byte is the backend's), so a
//! client never learns the backend's names and reads the keyspace it asked about.

use super::backend_names::rename_in_text;
use crate::backend::wire::packets;
use crate::backend::Backends;
use crate::protocol::writer::put_lenenc_bytes;
use std::borrow::Cow;

/// Columns whose cells are a database name alone: renamed when the whole cell is a backend
/// database (elsewhere only qualified or quoted mentions are, see [`rename_in_text`]).
const DATABASE_COLUMNS: [&str; 4] = ["database", "db", "schema", "table_schema"];

/// What the column definitions of one `SHOW` result said about its cells.
#[derive(Debug, Default)]
pub struct ShowColumns {
    /// Per column: whether its cells are database names alone.
    database_cell: Vec<bool>,
    /// Per column: its type byte (`MYSQL_TYPE_*`), to walk binary-protocol rows.
    types: Vec<u8>,
}

/// Reads the lenenc string at `at` (moving past it): its byte range in `buf`.
fn lenenc_str(buf: &[u8], at: &mut usize) -> Option<std::ops::Range<usize>> {
    let len = usize::try_from(packets::lenenc(buf, at)?).ok()?;
    let start = *at;
    let end = start.checked_add(len).filter(|&e| e <= buf.len())?;
    *at = end;
    Some(start..end)
}

/// The size of a binary-protocol cell of column type `t` that is not length-prefixed (None:
/// a length-encoded string, or a temporal value with its one-byte length, read as one).
fn fixed_width(t: u8) -> Option<usize> {
    match t {
        0x01 => Some(1),               // TINY
        0x02 | 0x0d => Some(2),        // SHORT, YEAR
        0x03 | 0x09 | 0x04 => Some(4), // LONG, INT24, FLOAT
        0x05 | 0x08 => Some(8),        // DOUBLE, LONGLONG
        _ => None,
    }
}

/// The header `Tables_in_<db>[ (pattern)]` with the backend database made the keyspace.
fn renamed_header(backends: &Backends, name: &[u8]) -> Option<Vec<u8>> {
    let rest = name.strip_prefix(b"Tables_in_")?;
    let db_end = rest
        .windows(2)
        .position(|w| w == b" (")
        .unwrap_or(rest.len());
    let ks = backends.keyspace_of_database(std::str::from_utf8(&rest[..db_end]).ok()?)?;
    let mut out = b"Tables_in_".to_vec();
    out.extend_from_slice(ks.as_bytes());
    out.extend_from_slice(&rest[db_end..]);
    Some(out)
}

impl ShowColumns {
    /// Appends a column definition of a `SHOW` result to `buf`: schema and the `Tables_in_`
    /// header (name and original name) renamed; notes whether the column holds database names.
    pub fn relay_column(&mut self, backends: &Backends, buf: &mut Vec<u8>, payload: &[u8]) {
        let mut at = 0;
        let fields: Option<Vec<_>> = (0..6).map(|_| lenenc_str(payload, &mut at)).collect();
        let Some(fields) = fields else {
            self.database_cell.push(false);
            self.types.push(0xFF);
            buf.extend_from_slice(payload);
            return;
        };
        // After the names: 0x0c, charset (2), length (4), then the type.
        self.types
            .push(payload.get(at + 7).copied().unwrap_or(0xFF));
        let name = &payload[fields[4].clone()];
        self.database_cell.push(
            DATABASE_COLUMNS
                .iter()
                .any(|c| name.eq_ignore_ascii_case(c.as_bytes())),
        );
        let mut copied = 0;
        for (i, range) in fields.iter().enumerate() {
            let value = &payload[range.clone()];
            let renamed: Option<Vec<u8>> = match i {
                1 => std::str::from_utf8(value)
                    .ok()
                    .filter(|s| !s.is_empty())
                    .and_then(|s| backends.keyspace_of_database(s))
                    .map(|k| k.as_bytes().to_vec()),
                4 | 5 => renamed_header(backends, value),
                _ => None,
            };
            if let Some(new) = renamed {
                // Back up over the length prefix of this field (from the end of the previous).
                let field_start = if i == 0 { 0 } else { fields[i - 1].end };
                buf.extend_from_slice(&payload[copied..field_start]);
                put_lenenc_bytes(buf, &new);
                copied = range.end;
            }
        }
        buf.extend_from_slice(&payload[copied..]);
    }

    /// A row of the result (`binary`: in the binary protocol) with backend database names
    /// made keyspaces; rows that need no change (or do not parse) are returned as they are.
    pub fn rename_row<'a>(
        &self,
        backends: &Backends,
        row: &'a [u8],
        binary: bool,
    ) -> Cow<'a, [u8]> {
        let columns = self.database_cell.len();
        // Binary rows: a 0x00 header and a NULL bitmap (offset 2) precede the non-NULL cells.
        let bitmap = (columns + 7 + 2) / 8;
        let mut at = if binary { 1 + bitmap } else { 0 };
        if row.len() < at {
            return Cow::Borrowed(row);
        }
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        for column in 0..columns {
            let null = if binary {
                let bit = column + 2;
                row[1 + bit / 8] & (1 << (bit % 8)) != 0
            } else {
                row.get(at) == Some(&0xFB)
            };
            if null {
                at += usize::from(!binary);
                continue;
            }
            if binary {
                let t = self.types[column];
                if let Some(width) = fixed_width(t) {
                    at += width;
                    continue;
                }
                if matches!(t, 0x07 | 0x0a | 0x0b | 0x0c) {
                    // TIMESTAMP, DATE, TIME, DATETIME: a length byte, then no text.
                    at += 1 + usize::from(row.get(at).copied().unwrap_or(0));
                    continue;
                }
            }
            let cell_start = at;
            let Some(range) = lenenc_str(row, &mut at) else {
                return Cow::Borrowed(row);
            };
            let Ok(cell) = std::str::from_utf8(&row[range.clone()]) else {
                continue;
            };
            let renamed: Option<Cow<'_, str>> = if self.database_cell[column] {
                backends.keyspace_of_database(cell).map(Cow::Borrowed)
            } else {
                match rename_in_text(backends, cell) {
                    Cow::Owned(s) => Some(Cow::Owned(s)),
                    Cow::Borrowed(_) => None,
                }
            };
            if let Some(new) = renamed {
                let buf = out.get_or_insert_with(|| Vec::with_capacity(row.len() + 16));
                buf.extend_from_slice(&row[copied..cell_start]);
                put_lenenc_bytes(buf, new.as_bytes());
                copied = range.end;
            }
        }
        match out {
            Some(mut buf) => {
                buf.extend_from_slice(&row[copied..]);
                Cow::Owned(buf)
            }
            None => Cow::Borrowed(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lenenc_strings() {
        let buf = [3, b'a', b'b', b'c', 0, 1, b'x'];
        let mut at = 0;
        assert_eq!(lenenc_str(&buf, &mut at), Some(1..4));
        assert_eq!(lenenc_str(&buf, &mut at), Some(5..5));
        assert_eq!(lenenc_str(&buf, &mut at), Some(6..7));
        assert_eq!(lenenc_str(&buf, &mut at), None);
        let short = [5, b'a'];
        assert_eq!(lenenc_str(&short, &mut 0), None);
    }
}
