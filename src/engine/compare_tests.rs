//! Tests of type-aware comparison and ORDER BY (expected orders are MySQL's).

use super::*;
use crate::engine::test_support::*;

fn ord(a: Option<&str>, b: Option<&str>, column: &Column) -> Ordering {
    compare_values(&v(a), &v(b), column)
}

#[test]
fn null_is_smallest() {
    for column in [
        int_col(),
        general_col(),
        double_col(),
        temporal_col(ColumnType::MYSQL_TYPE_DATE),
    ] {
        assert_eq!(ord(None, Some("0"), &column), Ordering::Less);
        assert_eq!(ord(Some("-5"), None, &column), Ordering::Greater);
        assert_eq!(ord(None, None, &column), Ordering::Equal);
    }
}

#[test]
fn integers_compare_numerically_not_textually() {
    let c = int_col();
    assert_eq!(ord(Some("9"), Some("10"), &c), Ordering::Less);
    assert_eq!(ord(Some("-10"), Some("-9"), &c), Ordering::Less);
    assert_eq!(ord(Some("-1"), Some("0"), &c), Ordering::Less);
    let u = ubigint_col();
    assert_eq!(
        ord(Some("18446744073709551615"), Some("1"), &u),
        Ordering::Greater
    );
    assert_eq!(
        compare_values(&Value::UInt(u64::MAX), &Value::Int(-1), &u),
        Ordering::Greater
    );
    assert_eq!(compare_values(&Value::Int(7), &t("7"), &c), Ordering::Equal);
}

#[test]
fn decimals_compare_exactly() {
    let c = decimal_col(65, 30);
    assert_eq!(ord(Some("10.5"), Some("9.75"), &c), Ordering::Greater);
    assert_eq!(ord(Some("-10.5"), Some("-9.75"), &c), Ordering::Less);
    assert_eq!(ord(Some("1.50"), Some("1.5"), &c), Ordering::Equal);
    // Equal as doubles, different as decimals.
    let a = "0.100000000000000000000000000001";
    assert_eq!(ord(Some(a), Some("0.1"), &c), Ordering::Greater);
    let big = "12345678901234567890123456789012345.123456789012345678901234567891";
    let bigger = "12345678901234567890123456789012345.123456789012345678901234567892";
    assert_eq!(ord(Some(big), Some(bigger), &c), Ordering::Less);
}

#[test]
fn doubles_compare_numerically() {
    let c = double_col();
    assert_eq!(
        ord(Some("1e15"), Some("999999999999999"), &c),
        Ordering::Greater
    );
    assert_eq!(ord(Some("-0"), Some("0"), &c), Ordering::Equal);
    assert_eq!(ord(Some("-1.5e-7"), Some("0"), &c), Ordering::Less);
    assert_eq!(
        compare_values(&Value::Double(2.5), &t("2.5"), &c),
        Ordering::Equal
    );
}

#[test]
fn dates_and_times_compare_chronologically() {
    let date = temporal_col(ColumnType::MYSQL_TYPE_DATE);
    assert_eq!(
        ord(Some("0000-00-00"), Some("1000-01-01"), &date),
        Ordering::Less
    );
    assert_eq!(
        ord(Some("2024-02-01"), Some("2024-10-01"), &date),
        Ordering::Less
    );
    let dt = temporal_col(ColumnType::MYSQL_TYPE_DATETIME);
    assert_eq!(
        ord(
            Some("2024-01-01 10:00:00.5"),
            Some("2024-01-01 10:00:00.49"),
            &dt
        ),
        Ordering::Greater
    );
    assert_eq!(
        compare_values(
            &Value::Date(2024, 1, 1, 10, 0, 0, 0),
            &t("2024-01-01 10:00:00"),
            &dt
        ),
        Ordering::Equal
    );
    let time = temporal_col(ColumnType::MYSQL_TYPE_TIME);
    assert_eq!(
        ord(Some("-01:00:00"), Some("00:00:00"), &time),
        Ordering::Less
    );
    assert_eq!(
        ord(Some("-10:00:00"), Some("-09:00:00"), &time),
        Ordering::Less
    );
    assert_eq!(
        ord(Some("100:00:00"), Some("99:59:59"), &time),
        Ordering::Greater
    );
    assert_eq!(
        ord(Some("838:59:59.000000"), Some("-838:59:59"), &time),
        Ordering::Greater
    );
    assert_eq!(
        compare_values(&Value::Time(true, 1, 2, 0, 0, 0), &t("-26:00:00"), &time),
        Ordering::Equal
    );
}

#[test]
fn strings_follow_the_collation() {
    let ci = general_col();
    assert_eq!(ord(Some("a"), Some("A"), &ci), Ordering::Equal);
    assert_eq!(ord(Some("a"), Some("á"), &ci), Ordering::Equal);
    assert_eq!(ord(Some("abc"), Some("ABC  "), &ci), Ordering::Equal);
    assert_eq!(ord(Some("a"), Some("B"), &ci), Ordering::Less);
    let bin = varchar_bin_col();
    assert_eq!(ord(Some("a"), Some("B"), &bin), Ordering::Greater);
    assert_eq!(ord(Some("a"), Some("a "), &bin), Ordering::Equal);
    let binary = varbinary_col();
    assert_eq!(ord(Some("a"), Some("a "), &binary), Ordering::Less);
}

#[test]
fn enum_order_is_flagged_inexact() {
    let e = Column::new(ColumnType::MYSQL_TYPE_STRING).with_flags(ColumnFlags::ENUM_FLAG);
    assert!(!order_is_exact(&e));
    assert!(order_is_exact(&general_col()));
}

fn people() -> (Vec<Column>, Vec<Row>) {
    let columns = vec![int_col(), general_col()];
    let rows = vec![
        vec![t("2"), t("b")],
        vec![Value::NULL, t("a")],
        vec![t("10"), t("B")],
        vec![t("-1"), Value::NULL],
        vec![t("2"), t("A")],
    ];
    (columns, rows)
}

#[test]
fn sort_rows_asc_nulls_first_and_stable() {
    let (columns, rows) = people();
    let sorted = sort_rows(rows, &[OrderBy::asc(0)], &columns).unwrap();
    let firsts: Vec<Value> = sorted.iter().map(|r| r[0].clone()).collect();
    assert_eq!(firsts, vec![Value::NULL, t("-1"), t("2"), t("2"), t("10")]);
    // The two 2s keep input order: "b" then "A".
    assert_eq!(sorted[2][1], t("b"));
    assert_eq!(sorted[3][1], t("A"));
}

#[test]
fn sort_rows_desc_puts_nulls_last() {
    let (columns, rows) = people();
    let sorted = sort_rows(rows, &[OrderBy::desc(1), OrderBy::asc(0)], &columns).unwrap();
    let seconds: Vec<Value> = sorted.iter().map(|r| r[1].clone()).collect();
    // b = B (tie broken by column 0 ascending: 2 then 10), then a = A (NULL id first), then NULL.
    assert_eq!(seconds, vec![t("b"), t("B"), t("a"), t("A"), Value::NULL]);
    assert_eq!(sorted[2][0], Value::NULL);
}

#[test]
fn bad_key_is_an_error() {
    let (columns, rows) = people();
    assert_eq!(
        sort_rows(rows, &[OrderBy::asc(2)], &columns),
        Err(EngineError::ColumnOutOfRange { index: 2, width: 2 })
    );
}
