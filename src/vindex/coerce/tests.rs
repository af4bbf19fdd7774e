//! The conversions checked against what MariaDB 10.11 stores and matches (values observed on a
//! real server: `INSERT INTO t(i) VALUES (4.5e0)` stores 4, `(6.5)` 7, `('8.5')` 9, and
//! `id = 4.5` matches no integer).

use super::*;

const INT_HASH: Coercion = Coercion {
    column: Some(ColumnClass::Integer),
    integer_vindex: true,
};
const UNKNOWN_HASH: Coercion = Coercion {
    column: None,
    integer_vindex: true,
};
const TEXT_MD5: Coercion = Coercion {
    column: Some(ColumnClass::Text),
    integer_vindex: false,
};
const TEXT_HASH: Coercion = Coercion {
    column: Some(ColumnClass::Text),
    integer_vindex: true,
};

fn dbl(d: f64) -> SqlValue {
    SqlValue::float64(d)
}

fn dec(s: &str) -> SqlValue {
    SqlValue::new(SqlType::Decimal, s)
}

fn s(t: &str) -> SqlValue {
    SqlValue::varchar(t.as_bytes())
}

#[test]
fn doubles_compare_as_the_integer_they_hold() {
    for c in [INT_HASH, UNKNOWN_HASH, TEXT_HASH] {
        assert_eq!(c.compare(dbl(4.0)), Compared::Value(SqlValue::int64(4)));
        assert_eq!(
            c.compare(dbl(5559991.0)),
            Compared::Value(SqlValue::int64(5559991))
        );
        assert_eq!(c.compare(dbl(-0.0)), Compared::Value(SqlValue::int64(0)));
        assert_eq!(c.compare(dbl(4.5)), Compared::NoMatch);
        assert!(matches!(
            c.compare(dbl(9007199254740992.0)),
            Compared::Unroutable(_)
        ));
    }
    assert_eq!(
        INT_HASH.compare(SqlValue::new(SqlType::Float64, "4e0")),
        Compared::Value(SqlValue::int64(4))
    );
}

#[test]
fn decimals_compare_exactly() {
    assert_eq!(
        INT_HASH.compare(dec("4.0")),
        Compared::Value(SqlValue::int64(4))
    );
    assert_eq!(
        INT_HASH.compare(dec("-4.000")),
        Compared::Value(SqlValue::int64(-4))
    );
    assert_eq!(INT_HASH.compare(dec("4.5")), Compared::NoMatch);
    assert_eq!(
        INT_HASH.compare(dec("4.00000000000000000001")),
        Compared::NoMatch
    );
    assert_eq!(
        INT_HASH.compare(dec("18446744073709551615.0")),
        Compared::Value(SqlValue::uint64(u64::MAX))
    );
}

#[test]
fn numeric_strings_meet_integer_columns_as_numbers() {
    assert_eq!(
        INT_HASH.compare(s("4")),
        Compared::Value(SqlValue::int64(4))
    );
    assert_eq!(
        INT_HASH.compare(s("4.0")),
        Compared::Value(SqlValue::int64(4))
    );
    assert_eq!(
        INT_HASH.compare(s(" 4e0 ")),
        Compared::Value(SqlValue::int64(4))
    );
    assert_eq!(INT_HASH.compare(s("4.5")), Compared::NoMatch);
    assert!(matches!(
        INT_HASH.compare(s("4abc")),
        Compared::Unroutable(_)
    ));
    assert!(matches!(
        INT_HASH.compare(s("4.99999999999999999999")),
        Compared::Unroutable(_)
    ));
    // A string column compares strings as strings: the value stays as it is.
    assert_eq!(TEXT_HASH.compare(s("4.0")), Compared::Value(s("4.0")));
    assert_eq!(UNKNOWN_HASH.compare(s("4abc")), Compared::Value(s("4abc")));
}

#[test]
fn numbers_against_string_columns_cannot_route_a_string_vindex() {
    assert!(matches!(
        TEXT_MD5.compare(SqlValue::int64(5)),
        Compared::Unroutable(_)
    ));
    assert!(matches!(
        TEXT_MD5.compare(dbl(5.0)),
        Compared::Unroutable(_)
    ));
    assert_eq!(TEXT_MD5.compare(s("05")), Compared::Value(s("05")));
    let unknown = Coercion {
        column: None,
        integer_vindex: false,
    };
    assert_eq!(
        unknown.compare(SqlValue::int64(5)),
        Compared::Value(SqlValue::int64(5))
    );
    assert!(matches!(unknown.compare(dbl(5.0)), Compared::Unroutable(_)));
}

#[test]
fn integer_columns_store_rounded_values() {
    let stored = |v: SqlValue| INT_HASH.store(v).expect("stored");
    // DOUBLE: half to even, as MariaDB's rint.
    assert_eq!(stored(dbl(4.5)), SqlValue::int64(4));
    assert_eq!(stored(dbl(5.5)), SqlValue::int64(6));
    assert_eq!(stored(dbl(2.5)), SqlValue::int64(2));
    assert_eq!(stored(dbl(-4.5)), SqlValue::int64(-4));
    assert_eq!(stored(dbl(7.4999)), SqlValue::int64(7));
    assert_eq!(stored(dbl(5559991.0)), SqlValue::int64(5559991));
    // DECIMAL and numeric strings: half away from zero.
    assert_eq!(stored(dec("6.5")), SqlValue::int64(7));
    assert_eq!(stored(dec("-2.5")), SqlValue::int64(-3));
    assert_eq!(stored(dec("0.5")), SqlValue::int64(1));
    assert_eq!(stored(dec("0.004")), SqlValue::int64(0));
    assert_eq!(stored(s("8.5")), SqlValue::int64(9));
    assert_eq!(stored(s("12.5")), SqlValue::int64(13));
    assert_eq!(stored(s(" 13.5e0 ")), SqlValue::int64(14));
    assert_eq!(stored(s("14.49999999999999999999")), SqlValue::int64(14));
    assert_eq!(stored(s("1.5e1")), SqlValue::int64(15));
    assert_eq!(stored(s("-7")), SqlValue::int64(-7));
    // What the shard refuses in strict mode keeps its form.
    assert_eq!(stored(s("11abc")), s("11abc"));
    assert!(INT_HASH.store(dbl(1e20)).is_err());
}

#[test]
fn string_columns_store_integral_doubles_as_digits() {
    assert_eq!(TEXT_MD5.store(dbl(5559991.0)), Ok(SqlValue::int64(5559991)));
    assert_eq!(
        TEXT_MD5.store(dbl(999999999999999.0)),
        Ok(SqlValue::int64(999999999999999))
    );
    assert!(TEXT_MD5.store(dbl(1e15)).is_err());
    assert!(TEXT_MD5.store(dbl(0.1)).is_err());
    assert_eq!(TEXT_MD5.store(dec("4.50")), Ok(dec("4.50")));
    assert_eq!(TEXT_MD5.store(SqlValue::int64(5)), Ok(SqlValue::int64(5)));
    // An unknown column under hash: a fraction may round or not, so it is refused.
    assert!(UNKNOWN_HASH.store(dbl(4.5)).is_err());
    assert_eq!(UNKNOWN_HASH.store(dbl(4.0)), Ok(SqlValue::int64(4)));
    assert_eq!(UNKNOWN_HASH.store(dec("4.0")), Ok(SqlValue::int64(4)));
}

#[test]
fn column_classes() {
    assert_eq!(ColumnClass::from_data_type("bigint"), ColumnClass::Integer);
    assert_eq!(ColumnClass::from_data_type("varchar"), ColumnClass::Text);
    assert_eq!(ColumnClass::from_data_type("decimal"), ColumnClass::Other);
    assert_eq!(
        ColumnClass::from_sql_type(SqlType::Uint32),
        ColumnClass::Integer
    );
    assert_eq!(
        ColumnClass::from_sql_type(SqlType::Year),
        ColumnClass::Other
    );
    assert_eq!(
        ColumnClass::from_sql_type(SqlType::VarBinary),
        ColumnClass::Text
    );
}
