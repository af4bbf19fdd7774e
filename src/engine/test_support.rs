//! Shared helpers for the engine's unit tests: column metadata like MariaDB sends it, and
//! text-protocol values.

use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// A text-protocol value (`None` → NULL).
pub fn v(text: Option<&str>) -> Value {
    text.map_or(Value::NULL, |t| Value::Bytes(t.as_bytes().to_vec()))
}

/// A non-NULL text-protocol value.
pub fn t(text: &str) -> Value {
    Value::Bytes(text.as_bytes().to_vec())
}

/// A row of non-NULL text values.
pub fn row(texts: &[&str]) -> Vec<Value> {
    texts.iter().map(|s| t(s)).collect()
}

fn numeric(kind: ColumnType, length: u32, decimals: u8) -> Column {
    Column::new(kind)
        .with_character_set(63)
        .with_flags(ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG)
        .with_column_length(length)
        .with_decimals(decimals)
}

/// `INT` (signed).
pub fn int_col() -> Column {
    numeric(ColumnType::MYSQL_TYPE_LONG, 11, 0)
}

/// `BIGINT UNSIGNED`.
pub fn ubigint_col() -> Column {
    let c = numeric(ColumnType::MYSQL_TYPE_LONGLONG, 20, 0);
    let flags = c.flags() | ColumnFlags::UNSIGNED_FLAG;
    c.with_flags(flags)
}

/// `DECIMAL(precision, scale)`.
pub fn decimal_col(precision: u32, scale: u8) -> Column {
    let length = precision + u32::from(scale > 0) + 1;
    numeric(ColumnType::MYSQL_TYPE_NEWDECIMAL, length, scale)
}

/// `DOUBLE`.
pub fn double_col() -> Column {
    numeric(ColumnType::MYSQL_TYPE_DOUBLE, 22, 31)
}

/// What a shard sends for `SUM(int_col)`: DECIMAL(32,0).
pub fn sum_of_int_col() -> Column {
    numeric(ColumnType::MYSQL_TYPE_NEWDECIMAL, 33, 0)
}

/// What a shard sends for `SUM(decimal(precision, scale))`.
pub fn sum_of_decimal_col(precision: u32, scale: u8) -> Column {
    let sum_precision = (precision + 22).min(65);
    numeric(
        ColumnType::MYSQL_TYPE_NEWDECIMAL,
        sum_precision + u32::from(scale > 0) + 1,
        scale,
    )
}

/// What a shard sends for `SUM(double)`.
pub fn sum_of_double_col() -> Column {
    numeric(ColumnType::MYSQL_TYPE_DOUBLE, 23, 31)
}

/// What a shard sends for `COUNT(...)`.
pub fn count_col() -> Column {
    let c = numeric(ColumnType::MYSQL_TYPE_LONGLONG, 21, 0);
    let flags = c.flags() | ColumnFlags::NOT_NULL_FLAG;
    c.with_flags(flags)
}

/// `VARCHAR` under collation `id` (what the client sees when the connection uses `id`).
pub fn varchar_col(id: u16) -> Column {
    Column::new(ColumnType::MYSQL_TYPE_VAR_STRING)
        .with_character_set(id)
        .with_column_length(1020)
}

/// A `utf8mb4_bin` VARCHAR as it reaches a utf8mb4_general_ci connection.
pub fn varchar_bin_col() -> Column {
    varchar_col(45).with_flags(ColumnFlags::BINARY_FLAG)
}

/// A `*_general_ci` VARCHAR on a utf8mb4 connection.
pub fn general_col() -> Column {
    varchar_col(45)
}

/// `VARBINARY`.
pub fn varbinary_col() -> Column {
    Column::new(ColumnType::MYSQL_TYPE_VAR_STRING)
        .with_character_set(63)
        .with_flags(ColumnFlags::BINARY_FLAG)
}

/// A temporal column of type `kind`.
pub fn temporal_col(kind: ColumnType) -> Column {
    Column::new(kind)
        .with_character_set(63)
        .with_flags(ColumnFlags::BINARY_FLAG)
}
