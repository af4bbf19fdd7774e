//! ORDER BY over ENUM and SET columns: MySQL sorts them by member index (ENUM) or by the SET's
//! bit value, not by text. Result metadata only flags such a column (ENUM_FLAG / SET_FLAG);
//! the members come from the column's definition (`information_schema.COLUMNS.COLUMN_TYPE`,
//! e.g. `enum('b','a','c')`), which [`Members::parse`] reads. [`rank_keys`] then appends one
//! unsigned rank column per such sort key and points the key at it, so the ordinary sort and
//! k-way merge give MySQL's order; the caller drops the appended columns afterwards.

use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

use super::compare::OrderBy;
use super::rows::Row;
use super::EngineError;

/// Whether MySQL orders `column` by member index rather than by text.
pub fn orders_by_member(column: &Column) -> bool {
    column
        .flags()
        .intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG)
        || matches!(
            column.column_type(),
            ColumnType::MYSQL_TYPE_ENUM | ColumnType::MYSQL_TYPE_SET
        )
}

/// The members of an ENUM or SET column, in definition order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    values: Vec<Vec<u8>>,
    set: bool,
}

impl Members {
    /// Parses a COLUMN_TYPE such as `enum('b','a','c')` or `set('x','y')` (`''` inside a
    /// member is a quote). None for anything else, or a member with a backslash (whose
    /// spelling in COLUMN_TYPE is not certain).
    pub fn parse(column_type: &[u8]) -> Option<Members> {
        let lower = column_type.to_ascii_lowercase();
        let (set, rest) = if lower.starts_with(b"enum(") {
            (false, &column_type[5..])
        } else if lower.starts_with(b"set(") {
            (true, &column_type[4..])
        } else {
            return None;
        };
        let mut values = Vec::new();
        let mut at = 0;
        loop {
            if rest.get(at) != Some(&b'\'') {
                return None;
            }
            at += 1;
            let mut member = Vec::new();
            loop {
                match rest.get(at)? {
                    b'\'' if rest.get(at + 1) == Some(&b'\'') => {
                        member.push(b'\'');
                        at += 2;
                    }
                    b'\'' => {
                        at += 1;
                        break;
                    }
                    b'\\' => return None,
                    &c => {
                        member.push(c);
                        at += 1;
                    }
                }
            }
            values.push(member);
            match rest.get(at)? {
                b',' => at += 1,
                b')' if at + 1 == rest.len() => return Some(Members { values, set }),
                _ => return None,
            }
        }
    }

    /// The value MySQL sorts `v` by: the 1-based member index of an ENUM (0 for the error
    /// value `''`), the bit value of a SET. None for NULL or a value that is not a member.
    pub fn rank(&self, v: &Value) -> Option<u64> {
        let bytes: &[u8] = match v {
            Value::Bytes(b) => b,
            _ => return None,
        };
        let index = |m: &[u8]| self.values.iter().position(|x| x == m);
        if self.set {
            if bytes.is_empty() {
                return Some(0);
            }
            let mut bits = 0u64;
            for part in bytes.split(|&c| c == b',') {
                bits |= 1u64.checked_shl(u32::try_from(index(part)?).ok()?)?;
            }
            Some(bits)
        } else if bytes.is_empty() && index(b"").is_none() {
            Some(0)
        } else {
            index(bytes).map(|i| i as u64 + 1)
        }
    }
}

/// Appends to every row one rank column per `(key index, members)` in `ranked` and returns the
/// keys rewritten to sort by those columns (and the extended column metadata). Keys not in
/// `ranked` are unchanged. A value that is not a member cannot be ranked: error.
pub fn rank_keys(
    rows: &mut [Row],
    columns: &mut Vec<Column>,
    keys: &[OrderBy],
    ranked: &[(usize, Members)],
) -> Result<Vec<OrderBy>, EngineError> {
    let mut keys = keys.to_vec();
    for (k, members) in ranked {
        let Some(key) = keys.get_mut(*k) else {
            continue;
        };
        let source = key.column;
        let target = columns.len();
        for row in rows.iter_mut() {
            let v = row.get(source).cloned().unwrap_or(Value::NULL);
            let rank = match &v {
                Value::NULL => Value::NULL,
                other => Value::UInt(members.rank(other).ok_or_else(|| {
                    EngineError::Unsupported(format!(
                        "ORDER BY an ENUM or SET value {} that is not a member",
                        other.as_sql(true)
                    ))
                })?),
            };
            row.push(rank);
        }
        columns.push(
            Column::new(ColumnType::MYSQL_TYPE_LONGLONG)
                .with_flags(ColumnFlags::UNSIGNED_FLAG | ColumnFlags::BINARY_FLAG)
                .with_character_set(63),
        );
        key.column = target;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_enum_and_set_definitions() {
        let e = Members::parse(b"enum('b','a','it''s','')").expect("enum");
        assert_eq!(e.rank(&b("b")), Some(1));
        assert_eq!(e.rank(&b("a")), Some(2));
        assert_eq!(e.rank(&b("it's")), Some(3));
        assert_eq!(e.rank(&b("")), Some(4));
        assert_eq!(e.rank(&b("zz")), None);
        assert_eq!(e.rank(&Value::NULL), None);
        let e = Members::parse(b"enum('b','a')").expect("enum");
        assert_eq!(e.rank(&b("")), Some(0), "the error value sorts first");
        let s = Members::parse(b"set('x','y','z')").expect("set");
        assert_eq!(s.rank(&b("")), Some(0));
        assert_eq!(s.rank(&b("x,z")), Some(5));
        assert_eq!(s.rank(&b("y")), Some(2));
        assert_eq!(s.rank(&b("q")), None);
        assert!(Members::parse(b"varchar(10)").is_none());
        assert!(Members::parse(b"enum('a\\\\b')").is_none());
        assert!(Members::parse(b"enum('a'").is_none());
    }

    #[test]
    fn rank_keys_points_the_key_at_a_rank_column() {
        let members = Members::parse(b"enum('c','a','b')").expect("enum");
        let mut rows = vec![vec![b("a")], vec![Value::NULL], vec![b("c")]];
        let mut columns =
            vec![Column::new(ColumnType::MYSQL_TYPE_STRING).with_flags(ColumnFlags::ENUM_FLAG)];
        let keys = rank_keys(&mut rows, &mut columns, &[OrderBy::asc(0)], &[(0, members)])
            .expect("ranked");
        assert_eq!(keys, vec![OrderBy::asc(1)]);
        assert_eq!(columns.len(), 2);
        let sorted = crate::engine::sort_rows(rows, &keys, &columns).expect("sorted");
        let firsts: Vec<Value> = sorted.into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(firsts, vec![Value::NULL, b("c"), b("a")]);
    }
}
