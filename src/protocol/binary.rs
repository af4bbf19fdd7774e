//! The binary protocol of prepared statements: COM_STMT_EXECUTE parameters and binary rows.
//!
//! Parameter types arrive only when the client sets `new_params_bound` (sysbench sends them on
//! the first execute only), so the caller keeps the last types per statement and passes them in.

use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::io::ParseBuf;
use mysql_common::packets::Column;
use mysql_common::proto::MySerialize;
use mysql_common::value::{BinValue, Value, ValueDeserializer};

/// A parameter's wire type: column type plus the unsigned flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamType {
    /// MySQL column type of the value.
    pub ty: ColumnType,
    /// Whether an integer is unsigned.
    pub unsigned: bool,
}

/// A decoded COM_STMT_EXECUTE (after the command byte).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteRequest {
    /// Client-side statement id.
    pub stmt_id: u32,
    /// Cursor flags (`CURSOR_TYPE_READ_ONLY` etc.: see `server/cursor.rs`).
    pub flags: u8,
    /// Parameter values in order.
    pub params: Vec<Value>,
    /// Types sent with this execute, if the client bound new ones.
    pub new_types: Option<Vec<ParamType>>,
}

/// Why an execute packet could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BinaryError {
    /// The packet ended early or a value was malformed.
    #[error("malformed COM_STMT_EXECUTE: {0}")]
    Malformed(String),
    /// Parameters need types but none were ever sent.
    #[error("COM_STMT_EXECUTE without parameter types for statement {0}")]
    MissingTypes(u32),
}

fn malformed(what: impl Into<String>) -> BinaryError {
    BinaryError::Malformed(what.into())
}

/// Reads the statement id of an execute packet (to find its parameter count first).
pub fn execute_stmt_id(body: &[u8]) -> Option<u32> {
    body.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes an execute packet body (without the 0x17 byte).
///
/// `param_count` comes from the prepare; `known_types` are the types bound by an earlier execute;
/// `long_data[i]` holds data sent with COM_STMT_SEND_LONG_DATA for parameter `i`, which replaces
/// the inline value.
pub fn parse_execute(
    body: &[u8],
    param_count: usize,
    known_types: Option<&[ParamType]>,
    long_data: &[Option<Vec<u8>>],
) -> Result<ExecuteRequest, BinaryError> {
    let stmt_id = execute_stmt_id(body).ok_or_else(|| malformed("too short"))?;
    let flags = *body.get(4).ok_or_else(|| malformed("no flags"))?;
    // 4 bytes iteration count follow (always 1).
    let mut pos = 9;
    if body.len() < pos {
        return Err(malformed("no iteration count"));
    }
    if param_count == 0 {
        return Ok(ExecuteRequest {
            stmt_id,
            flags,
            params: Vec::new(),
            new_types: None,
        });
    }
    let bitmap_len = param_count.div_ceil(8);
    let bitmap = body
        .get(pos..pos + bitmap_len)
        .ok_or_else(|| malformed("no null bitmap"))?;
    pos += bitmap_len;
    let bound = *body
        .get(pos)
        .ok_or_else(|| malformed("no new-params-bound flag"))?;
    pos += 1;
    let mut new_types = None;
    if bound == 1 {
        let raw = body
            .get(pos..pos + 2 * param_count)
            .ok_or_else(|| malformed("parameter types cut short"))?;
        pos += 2 * param_count;
        let mut types = Vec::with_capacity(param_count);
        for pair in raw.chunks_exact(2) {
            let ty = ColumnType::try_from(pair[0])
                .map_err(|_| malformed(format!("unknown parameter type {}", pair[0])))?;
            types.push(ParamType {
                ty,
                unsigned: pair[1] & 0x80 != 0,
            });
        }
        new_types = Some(types);
    }
    let types: &[ParamType] = match (&new_types, known_types) {
        (Some(t), _) => t,
        (None, Some(t)) if t.len() == param_count => t,
        _ => return Err(BinaryError::MissingTypes(stmt_id)),
    };
    let mut buf = ParseBuf(&body[pos..]);
    let mut params = Vec::with_capacity(param_count);
    for (i, t) in types.iter().enumerate() {
        if let Some(Some(data)) = long_data.get(i) {
            params.push(Value::Bytes(data.clone()));
            continue;
        }
        if bitmap[i / 8] & (1 << (i % 8)) != 0 || t.ty == ColumnType::MYSQL_TYPE_NULL {
            params.push(Value::NULL);
            continue;
        }
        let flags = if t.unsigned {
            ColumnFlags::UNSIGNED_FLAG
        } else {
            ColumnFlags::empty()
        };
        let v: ValueDeserializer<BinValue> = buf
            .parse((wire_type(t.ty), flags))
            .map_err(|e| malformed(format!("parameter {i}: {e}")))?;
        params.push(v.0);
    }
    Ok(ExecuteRequest {
        stmt_id,
        flags,
        params,
        new_types,
    })
}

/// The type a parameter value of type `ty` is read as. The types of table columns that never
/// travel as values (`TIME2`, `DATETIME2`, `TIMESTAMP2`, typed arrays) are read as a
/// length-encoded string, as the server reads any type it does not list; mysql_common's
/// reader panics on them (found by fuzzing).
fn wire_type(ty: ColumnType) -> ColumnType {
    match ty {
        ColumnType::MYSQL_TYPE_TIME2
        | ColumnType::MYSQL_TYPE_DATETIME2
        | ColumnType::MYSQL_TYPE_TIMESTAMP2
        | ColumnType::MYSQL_TYPE_TYPED_ARRAY
        | ColumnType::MYSQL_TYPE_UNKNOWN => ColumnType::MYSQL_TYPE_STRING,
        other => other,
    }
}

fn float_value(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f as f64,
        Value::Double(d) => *d,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(0.0),
        other => int_value(other) as f64,
    }
}

/// Parses `[-]HHH:MM:SS[.ffffff]` into the binary TIME value (days split out of the hours).
fn parse_time(text: &str) -> Option<Value> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut parts = hms.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let s: u8 = parts.next()?.parse().ok()?;
    let us = micros(frac)?;
    Some(Value::Time(neg, h / 24, (h % 24) as u8, m, s, us))
}

/// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` into the binary DATE/DATETIME value.
fn parse_datetime(text: &str) -> Option<Value> {
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let mut d = date.split('-');
    let y: u16 = d.next()?.parse().ok()?;
    let mo: u8 = d.next()?.parse().ok()?;
    let da: u8 = d.next()?.parse().ok()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let h: u8 = t.next()?.parse().ok()?;
    let mi: u8 = t.next()?.parse().ok()?;
    let se: u8 = t.next()?.parse().ok()?;
    Some(Value::Date(y, mo, da, h, mi, se, micros(frac)?))
}

fn micros(frac: &str) -> Option<u32> {
    if frac.is_empty() {
        return Some(0);
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = frac.parse().ok()?;
    Some(n * 10u32.pow(6 - frac.len() as u32))
}

/// A text-protocol value (merged results, proxy-built rows) in the form the binary protocol
/// needs for temporal columns; other values are returned as they are.
fn temporal_value(ty: ColumnType, v: &Value) -> Option<Value> {
    let Value::Bytes(b) = v else {
        return None;
    };
    let text = std::str::from_utf8(b).ok()?;
    match ty {
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => parse_time(text),
        ColumnType::MYSQL_TYPE_DATE
        | ColumnType::MYSQL_TYPE_NEWDATE
        | ColumnType::MYSQL_TYPE_DATETIME
        | ColumnType::MYSQL_TYPE_DATETIME2
        | ColumnType::MYSQL_TYPE_TIMESTAMP
        | ColumnType::MYSQL_TYPE_TIMESTAMP2 => parse_datetime(text),
        _ => None,
    }
}

fn int_value(v: &Value) -> i128 {
    match v {
        Value::Int(i) => *i as i128,
        Value::UInt(u) => *u as i128,
        Value::Float(f) => *f as i128,
        Value::Double(d) => *d as i128,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse::<i128>().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// Appends one binary-protocol row for `columns`, encoding each value at its column's width.
pub fn binary_row(buf: &mut Vec<u8>, columns: &[Column], values: &[Value]) {
    buf.push(0x00);
    let bitmap_at = buf.len();
    let bitmap_len = (columns.len() + 7 + 2) / 8;
    buf.resize(bitmap_at + bitmap_len, 0);
    for (i, (col, v)) in columns.iter().zip(values).enumerate() {
        if matches!(v, Value::NULL) {
            let bit = i + 2;
            buf[bitmap_at + bit / 8] |= 1 << (bit % 8);
            continue;
        }
        match col.column_type() {
            ColumnType::MYSQL_TYPE_TINY => buf.push(int_value(v) as u8),
            ColumnType::MYSQL_TYPE_SHORT | ColumnType::MYSQL_TYPE_YEAR => {
                buf.extend_from_slice(&(int_value(v) as u16).to_le_bytes())
            }
            ColumnType::MYSQL_TYPE_LONG | ColumnType::MYSQL_TYPE_INT24 => {
                buf.extend_from_slice(&(int_value(v) as u32).to_le_bytes())
            }
            ColumnType::MYSQL_TYPE_LONGLONG => {
                buf.extend_from_slice(&(int_value(v) as u64).to_le_bytes())
            }
            ColumnType::MYSQL_TYPE_FLOAT => {
                let f = match v {
                    Value::Float(f) => *f,
                    other => float_value(other) as f32,
                };
                buf.extend_from_slice(&f.to_le_bytes());
            }
            ColumnType::MYSQL_TYPE_DOUBLE => {
                buf.extend_from_slice(&float_value(v).to_le_bytes());
            }
            ty => match temporal_value(ty, v) {
                Some(t) => t.serialize(buf),
                None => v.serialize(buf),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execute_packet(types: Option<&[(u8, u8)]>, nulls: u8, values: &[u8], n: usize) -> Vec<u8> {
        let mut b = vec![5, 0, 0, 0, 0, 1, 0, 0, 0];
        if n > 0 {
            b.push(nulls);
            match types {
                Some(t) => {
                    b.push(1);
                    for (ty, fl) in t {
                        b.push(*ty);
                        b.push(*fl);
                    }
                }
                None => b.push(0),
            }
        }
        b.extend_from_slice(values);
        b
    }

    #[test]
    fn decodes_typed_then_remembered_params() {
        let mut vals = 42i64.to_le_bytes().to_vec();
        vals.extend_from_slice(&[3, b'a', b'b', b'c']);
        let first = execute_packet(Some(&[(8, 0), (253, 0)]), 0, &vals, 2);
        let req = parse_execute(&first, 2, None, &[]).expect("decode");
        assert_eq!(
            req.params,
            vec![Value::Int(42), Value::Bytes(b"abc".to_vec())]
        );
        let types = req.new_types.expect("types");
        let again = execute_packet(None, 0, &vals, 2);
        let req2 = parse_execute(&again, 2, Some(&types), &[]).expect("decode");
        assert_eq!(req2.params, req.params);
        assert_eq!(
            parse_execute(&again, 2, None, &[]),
            Err(BinaryError::MissingTypes(5))
        );
    }

    #[test]
    fn nulls_long_data_and_truncation() {
        let p = execute_packet(Some(&[(8, 0), (252, 0)]), 0b01, &[], 2);
        let req = parse_execute(&p, 2, None, &[None, Some(b"blob".to_vec())]).expect("ok");
        assert_eq!(
            req.params,
            vec![Value::NULL, Value::Bytes(b"blob".to_vec())]
        );
        let cut = execute_packet(Some(&[(8, 0)]), 0, &[1, 2], 1);
        assert!(parse_execute(&cut, 1, None, &[]).is_err());
        assert!(parse_execute(&[1, 2], 1, None, &[]).is_err());
    }

    #[test]
    fn column_only_types_are_read_as_strings() {
        // TIMESTAMP2, DATETIME2, TIME2, TYPED_ARRAY, UNKNOWN: mysql_common's reader panicked.
        for ty in [17u8, 18, 19, 20, 243] {
            let p = execute_packet(Some(&[(ty, 0)]), 0, &[3, b'a', b'b', b'c'], 1);
            let req = parse_execute(&p, 1, None, &[]).expect("decode");
            assert_eq!(req.params, vec![Value::Bytes(b"abc".to_vec())], "type {ty}");
        }
    }

    #[test]
    fn text_values_are_encoded_in_binary_form() {
        let cols = vec![
            Column::new(ColumnType::MYSQL_TYPE_DATE),
            Column::new(ColumnType::MYSQL_TYPE_DATETIME),
            Column::new(ColumnType::MYSQL_TYPE_TIME),
            Column::new(ColumnType::MYSQL_TYPE_DOUBLE),
        ];
        let mut b = Vec::new();
        binary_row(
            &mut b,
            &cols,
            &[
                Value::Bytes(b"2024-02-29".to_vec()),
                Value::Bytes(b"2024-02-29 13:14:15.5".to_vec()),
                Value::Bytes(b"-26:03:04".to_vec()),
                Value::Bytes(b"2.25".to_vec()),
            ],
        );
        let mut expected = vec![0u8, 0];
        Value::Date(2024, 2, 29, 0, 0, 0, 0).serialize(&mut expected);
        Value::Date(2024, 2, 29, 13, 14, 15, 500_000).serialize(&mut expected);
        Value::Time(true, 1, 2, 3, 4, 0).serialize(&mut expected);
        expected.extend_from_slice(&2.25f64.to_le_bytes());
        assert_eq!(b, expected);
    }

    #[test]
    fn binary_row_widths() {
        let cols = vec![
            Column::new(ColumnType::MYSQL_TYPE_LONG),
            Column::new(ColumnType::MYSQL_TYPE_VAR_STRING),
            Column::new(ColumnType::MYSQL_TYPE_LONGLONG),
        ];
        let mut b = Vec::new();
        binary_row(
            &mut b,
            &cols,
            &[Value::Int(7), Value::NULL, Value::UInt(u64::MAX)],
        );
        assert_eq!(b[0], 0);
        assert_eq!(b[1], 0b1000, "third bit (index 1 + 2) marks the NULL");
        assert_eq!(&b[2..6], &7u32.to_le_bytes());
        assert_eq!(&b[6..14], &u64::MAX.to_le_bytes());
    }
}
