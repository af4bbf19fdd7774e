//! Column metadata of merged aggregates, as MariaDB 10.11 reports it.
//!
//! Measured on the server (`mariadb --column-type-info`):
//!
//! | expression | type | decimals | length |
//! |---|---|---|---|
//! | `COUNT(x)` | LONGLONG, NOT NULL | 0 | 21 |
//! | `SUM(int or decimal(p,s))` | NEWDECIMAL | s | min(p+22, 65) + (s>0) + 1 |
//! | `AVG(int or decimal(p,s))` | NEWDECIMAL | min(s+4, 38) | min(p+4, 65) + 2 |
//! | `SUM`/`AVG` of FLOAT, DOUBLE or strings | DOUBLE | 31 | 23 |
//! | `MIN`/`MAX`/group keys | the column itself | | |
//!
//! `p` is the argument's precision: `length - (s>0) - (unsigned ? 0 : 1)`. Computed columns
//! have flags `BINARY` (none in a grouped query), character set 63, and the name of the shard column they were
//! computed from (the planner renames them, e.g. the SUM half of an AVG to `avg(x)`).

use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// MariaDB's maximum DECIMAL precision.
const MAX_PRECISION: u32 = 65;
/// MariaDB's maximum DECIMAL scale.
pub(super) const MAX_SCALE: u8 = 38;
/// Digits a SUM adds to its argument's precision (DECIMAL_LONGLONG_DIGITS).
const SUM_EXTRA_DIGITS: u32 = 22;
/// `div_precision_increment`: digits AVG adds to its argument's scale.
pub(super) const AVG_EXTRA_SCALE: u8 = 4;

/// A computed column named like `source`, with new type metadata.
fn retyped(
    source: &Column,
    kind: ColumnType,
    length: u32,
    decimals: u8,
    flags: ColumnFlags,
) -> Column {
    // An aggregate is no table column: MariaDB leaves schema, tables and org_name empty.
    Column::new(kind)
        .with_name(source.name_ref())
        .with_character_set(63)
        .with_column_length(length)
        .with_decimals(decimals)
        .with_flags(flags)
}

/// MariaDB 10.11 flags computed numeric results `BINARY` in a scalar aggregate and not at all
/// in a grouped one (read back from its temporary table); it never sends NUM_FLAG.
fn numeric_flags(grouped: bool) -> ColumnFlags {
    if grouped {
        ColumnFlags::empty()
    } else {
        ColumnFlags::BINARY_FLAG
    }
}

/// `COUNT(...)`: LONGLONG NOT NULL. MariaDB 10.11 flags it `NOT_NULL BINARY` (0x81) in a
/// scalar aggregate and only `NOT_NULL` (0x01) in a grouped one (read back from its temporary
/// table); never NUM_FLAG.
pub(super) fn count_column(source: &Column, grouped: bool) -> Column {
    let flags = numeric_flags(grouped) | ColumnFlags::NOT_NULL_FLAG;
    retyped(source, ColumnType::MYSQL_TYPE_LONGLONG, 21, 0, flags)
}

/// A DOUBLE result of SUM/AVG.
pub(super) fn double_column(source: &Column, grouped: bool) -> Column {
    retyped(
        source,
        ColumnType::MYSQL_TYPE_DOUBLE,
        23,
        31,
        numeric_flags(grouped),
    )
}

/// The precision of a numeric column (see the module docs).
pub(super) fn precision(column: &Column) -> u32 {
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let overhead = u32::from(column.decimals() > 0) + u32::from(!unsigned);
    column.column_length().saturating_sub(overhead).max(1)
}

/// A NEWDECIMAL column of `precision` digits, `scale` of them after the point.
fn decimal_column(source: &Column, precision: u32, scale: u8, grouped: bool) -> Column {
    let precision = precision.min(MAX_PRECISION);
    let length = precision + u32::from(scale > 0) + 1;
    retyped(
        source,
        ColumnType::MYSQL_TYPE_NEWDECIMAL,
        length,
        scale,
        numeric_flags(grouped),
    )
}

/// `SUM(x)` where `x` is the exact (integer or decimal) column `arg`.
pub(super) fn sum_column(arg: &Column, grouped: bool) -> Column {
    decimal_column(
        arg,
        precision(arg) + SUM_EXTRA_DIGITS,
        arg.decimals().min(MAX_SCALE),
        grouped,
    )
}

/// `AVG(x)` for an exact `x` of precision `arg_precision` and scale `arg_scale`.
pub(super) fn avg_column(
    source: &Column,
    arg_precision: u32,
    arg_scale: u8,
    grouped: bool,
) -> Column {
    let scale = arg_scale.saturating_add(AVG_EXTRA_SCALE).min(MAX_SCALE);
    decimal_column(
        source,
        arg_precision + u32::from(AVG_EXTRA_SCALE),
        scale,
        grouped,
    )
}

/// `AVG(x)` computed from the shard column `sum` holding `SUM(x)` (exact).
pub(super) fn avg_from_sum_column(sum: &Column, grouped: bool) -> Column {
    // SUM added 22 digits to x's precision unless it hit the 65-digit cap.
    let sum_precision = precision(sum);
    let arg_precision = if sum_precision < MAX_PRECISION {
        sum_precision.saturating_sub(SUM_EXTRA_DIGITS).max(1)
    } else {
        MAX_PRECISION
    };
    avg_column(sum, arg_precision, sum.decimals().min(MAX_SCALE), grouped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::*;

    fn shape(c: &Column) -> (ColumnType, u32, u8) {
        (c.column_type(), c.column_length(), c.decimals())
    }

    #[test]
    fn metadata_matches_mariadb() {
        use ColumnType::*;
        // SUM(int) = DECIMAL length 33, AVG(int) length 16 decimals 4.
        assert_eq!(
            shape(&sum_column(&int_col(), false)),
            (MYSQL_TYPE_NEWDECIMAL, 33, 0)
        );
        assert_eq!(
            shape(&avg_from_sum_column(&sum_of_int_col(), false)),
            (MYSQL_TYPE_NEWDECIMAL, 16, 4)
        );
        // BIGINT UNSIGNED: SUM length 43, AVG length 26.
        assert_eq!(
            shape(&sum_column(&ubigint_col(), false)),
            (MYSQL_TYPE_NEWDECIMAL, 43, 0)
        );
        let sum_u = sum_column(&ubigint_col(), false);
        assert_eq!(
            shape(&avg_from_sum_column(&sum_u, false)),
            (MYSQL_TYPE_NEWDECIMAL, 26, 4)
        );
        // DECIMAL(10,5): SUM length 34, AVG length 16 decimals 9.
        let d = decimal_col(10, 5);
        assert_eq!(
            shape(&sum_column(&d, false)),
            (MYSQL_TYPE_NEWDECIMAL, 34, 5)
        );
        assert_eq!(
            shape(&avg_from_sum_column(&sum_column(&d, false), false)),
            (MYSQL_TYPE_NEWDECIMAL, 16, 9)
        );
        // DECIMAL(12,2): SUM length 36, AVG length 18 decimals 6.
        let d = decimal_col(12, 2);
        assert_eq!(
            shape(&sum_column(&d, false)),
            (MYSQL_TYPE_NEWDECIMAL, 36, 2)
        );
        assert_eq!(
            shape(&avg_from_sum_column(&sum_column(&d, false), false)),
            (MYSQL_TYPE_NEWDECIMAL, 18, 6)
        );
        // DECIMAL(40,36): SUM length 64, AVG length 46 decimals 38.
        let d = decimal_col(40, 36);
        assert_eq!(
            shape(&sum_column(&d, false)),
            (MYSQL_TYPE_NEWDECIMAL, 64, 36)
        );
        assert_eq!(
            shape(&avg_from_sum_column(&sum_column(&d, false), false)),
            (MYSQL_TYPE_NEWDECIMAL, 46, 38)
        );
        let count = count_column(&int_col().with_name(b"x"), false);
        assert_eq!(shape(&count), (MYSQL_TYPE_LONGLONG, 21, 0));
        assert!(count.flags().contains(ColumnFlags::NOT_NULL_FLAG));
        assert_eq!(count.name_str(), "x");
        assert_eq!(
            shape(&double_column(&double_col(), false)),
            (MYSQL_TYPE_DOUBLE, 23, 31)
        );
    }
}
