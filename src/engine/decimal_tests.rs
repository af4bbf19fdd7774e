//! Tests of exact decimals and double formatting (expected texts checked against MariaDB 10.11).

use super::*;

fn d(text: &str) -> Decimal {
    Decimal::parse(text.as_bytes()).unwrap()
}

#[test]
fn parse_normalises() {
    assert_eq!(d("007.50"), d("7.5"));
    assert_eq!(d("-0.000"), d("0"));
    assert!(!d("-0.000").is_negative());
    assert_eq!(d(".5"), d("0.5"));
    assert_eq!(d("5."), d("5"));
    assert_eq!(d("+12"), d("12"));
    assert_eq!(d("1.5e3"), d("1500"));
    assert_eq!(d("25e-3"), d("0.025"));
    assert_eq!(d(" 42 "), d("42"));
    for bad in ["", "-", ".", "1.2.3", "abc", "1e", "--1", "1e999999"] {
        assert_eq!(Decimal::parse(bad.as_bytes()), None, "{bad}");
    }
}

#[test]
fn ordering_is_numeric_and_exact() {
    assert!(d("10.5") > d("9.75"));
    assert!(d("-10.5") < d("-9.75"));
    assert!(d("-1") < d("0"));
    assert!(d("0.1") < d("0.10000000000000000000000000000000001"));
    assert!(d("18446744073709551615") > d("18446744073709551614.999999"));
    assert_eq!(d("1.10").cmp(&d("1.1")), Ordering::Equal);
    assert!(d("0.05") < d("0.5"));
    let big = "9".repeat(65);
    assert!(d(&big) > d(&big[1..]));
}

#[test]
fn addition_with_signs_and_carries() {
    assert_eq!(d("1.50").add(&d("2.25")), d("3.75"));
    assert_eq!(d("999.99").add(&d("0.01")), d("1000"));
    assert_eq!(d("-5").add(&d("3.5")), d("-1.5"));
    assert_eq!(d("5").add(&d("-5")), d("0"));
    assert_eq!(d("-0.25").add(&d("-0.75")), d("-1"));
    assert_eq!(d("0.1").add(&d("-0.35")), d("-0.25"));
    let max = Decimal::from_i128(i128::from(u64::MAX));
    assert_eq!(max.add(&max).to_text(0), "36893488147419103230");
}

#[test]
fn text_uses_the_column_scale() {
    assert_eq!(d("4").to_text(2), "4.00");
    assert_eq!(d("-0.5").to_text(0), "-1");
    assert_eq!(d("0.00004").to_text(4), "0.0000");
    assert_eq!(d("-0.00004").to_text(4), "0.0000");
    assert_eq!(d("-0.00005").to_text(4), "-0.0001");
    assert_eq!(d("0.99995").to_text(4), "1.0000");
    assert_eq!(
        d("12345678901234567890.5").to_text(0),
        "12345678901234567891"
    );
    assert_eq!(Decimal::from_i128(-42).to_text(0), "-42");
}

#[test]
fn avg_matches_mariadb_rounding() {
    // Integers: scale 0 → 4, rounded.
    assert_eq!(d("3").avg(2, 0, 4).unwrap().to_text(4), "1.5000");
    assert_eq!(d("2").avg(3, 0, 4).unwrap().to_text(4), "0.6667");
    assert_eq!(d("-1").avg(3, 0, 4).unwrap().to_text(4), "-0.3333");
    assert_eq!(d("-5").avg(100_000, 0, 4).unwrap().to_text(4), "-0.0001");
    assert_eq!(d("-1").avg(100_000, 0, 4).unwrap().to_text(4), "0.0000");
    // DECIMAL(10,5): MariaDB truncates at 9 digits (SELECT AVG → 0.000006666).
    assert_eq!(d("0.00002").avg(3, 5, 9).unwrap().to_text(9), "0.000006666");
    // DECIMAL(10,6): computed to 18 digits, then rounded (0.0000006667).
    assert_eq!(
        d("0.000002").avg(3, 6, 10).unwrap().to_text(10),
        "0.0000006667"
    );
    assert_eq!(d("2").avg(3, 5, 9).unwrap().to_text(9), "0.666666666");
    // Scale capped at 38.
    let one = d("1");
    assert_eq!(
        one.avg(1, 36, 38).unwrap().to_text(38),
        format!("1.{}", "0".repeat(38))
    );
    assert_eq!(one.avg(0, 0, 4), None);
}

#[test]
fn doubles_print_like_mariadb() {
    let cases: &[(f64, &str)] = &[
        (1e14, "100000000000000"),
        (1e15, "1e15"),
        (1e16, "1e16"),
        (0.1 + 0.2, "0.30000000000000004"),
        (123456789012345678.0, "1.2345678901234568e17"),
        (1e-4, "0.0001"),
        (1e-5, "0.00001"),
        (1.5e300, "1.5e300"),
        (-2.5e-7, "-0.00000025"),
        (1.0 / 3.0, "0.3333333333333333"),
        (100.0, "100"),
        (1234567.125, "1234567.125"),
        (12345678901234567.0, "1.2345678901234568e16"),
        (2.0 / 3.0 * 1e15, "666666666666666.6"),
        (1e-15, "0.000000000000001"),
        (1e-16, "1e-16"),
        (-1e15, "-1e15"),
        (-123.0, "-123"),
        (0.0, "0"),
        (-0.0, "0"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
    ];
    for &(value, text) in cases {
        assert_eq!(format_double(value), text, "{value:e}");
    }
}

#[test]
fn from_f64_is_exact_on_shortest_text() {
    assert_eq!(Decimal::from_f64(0.1).unwrap(), d("0.1"));
    assert_eq!(Decimal::from_f64(-2.5e-7).unwrap(), d("-0.00000025"));
    assert_eq!(Decimal::from_f64(f64::NAN), None);
    assert_eq!(d("-1.25").to_f64(), -1.25);
}
