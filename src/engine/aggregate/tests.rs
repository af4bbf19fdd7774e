//! Aggregate merge tests; expected values are what MariaDB returns for the same query over the
//! union of the shards' data.

use mysql_async::Value;
use mysql_common::constants::ColumnType;

use super::*;
use crate::engine::test_support::*;

use AggregateSpec::*;

fn values(rs: &ResultSet) -> Vec<Vec<Option<String>>> {
    rs.rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Value::NULL => None,
                    Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                    other => Some(format!("{other:?}")),
                })
                .collect()
        })
        .collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

#[test]
fn sum_of_ints_is_decimal_text() {
    // SELECT SUM(x) over x in {1, 2}, one row per shard.
    let columns = vec![sum_of_int_col()];
    let rs = merge_aggregates(
        vec![vec![row(&["1"])], vec![row(&["2"])]],
        &columns,
        &[Sum { column: 0 }],
    )
    .unwrap();
    assert_eq!(values(&rs), vec![vec![s("3")]]);
    assert_eq!(
        rs.columns[0].column_type(),
        ColumnType::MYSQL_TYPE_NEWDECIMAL
    );
    assert_eq!(rs.columns[0].decimals(), 0);
}

#[test]
fn avg_of_ints_has_scale_four() {
    // SELECT AVG(x) over {1, 2}: shards send SUM(x), COUNT(x).
    let columns = vec![sum_of_int_col(), count_col()];
    let spec = [Avg {
        sum_column: 0,
        count_column: 1,
    }];
    let shards = vec![vec![row(&["1", "1"])], vec![row(&["2", "1"])]];
    let rs = merge_aggregates(shards, &columns, &spec).unwrap();
    assert_eq!(values(&rs), vec![vec![s("1.5000")]]);
    assert_eq!(
        rs.columns[0].column_type(),
        ColumnType::MYSQL_TYPE_NEWDECIMAL
    );
    assert_eq!(rs.columns[0].decimals(), 4);
    assert_eq!(rs.columns[0].column_length(), 16);
    // {1, 1, 0}: 2/3 rounds to 0.6667; {-1, 0, 0}: -0.3333.
    let shards = vec![vec![row(&["2", "2"])], vec![row(&["0", "1"])]];
    assert_eq!(
        values(&merge_aggregates(shards, &columns, &spec).unwrap()),
        vec![vec![s("0.6667")]]
    );
    let shards = vec![vec![row(&["-1", "3"])]];
    assert_eq!(
        values(&merge_aggregates(shards, &columns, &spec).unwrap()),
        vec![vec![s("-0.3333")]]
    );
}

#[test]
fn avg_of_decimal_and_double() {
    // AVG(DECIMAL(10,5)) over {0.00001, 0.00001, 0}: MariaDB says 0.000006666 (truncated).
    let columns = vec![sum_of_decimal_col(10, 5), count_col()];
    let spec = [Avg {
        sum_column: 0,
        count_column: 1,
    }];
    let shards = vec![vec![row(&["0.00002", "2"])], vec![row(&["0.00000", "1"])]];
    let rs = merge_aggregates(shards, &columns, &spec).unwrap();
    assert_eq!(values(&rs), vec![vec![s("0.000006666")]]);
    assert_eq!(rs.columns[0].decimals(), 9);
    // AVG(DOUBLE) over {1, 0, 0} = 0.3333333333333333, typed DOUBLE.
    let columns = vec![sum_of_double_col(), count_col()];
    let shards = vec![vec![row(&["1", "1"])], vec![row(&["0", "2"])]];
    let rs = merge_aggregates(shards, &columns, &spec).unwrap();
    assert_eq!(values(&rs), vec![vec![s("0.3333333333333333")]]);
    assert_eq!(rs.columns[0].column_type(), ColumnType::MYSQL_TYPE_DOUBLE);
}

#[test]
fn scalar_over_no_rows_is_one_row() {
    let columns = vec![
        count_col(),
        sum_of_int_col(),
        int_col(),
        int_col(),
        sum_of_int_col(),
        count_col(),
        general_col(),
        general_col(),
    ];
    let specs = [
        Count { column: 0 },
        Sum { column: 1 },
        Min { column: 2 },
        Max { column: 3 },
        Avg {
            sum_column: 4,
            count_column: 5,
        },
        CountDistinct { column: 6 },
        AnyValue { column: 7 },
    ];
    let want = vec![vec![s("0"), None, None, None, None, s("0"), None]];
    // No shard queried at all.
    assert_eq!(
        values(&merge_aggregates(vec![], &columns, &specs).unwrap()),
        want
    );
    // Shards with empty results.
    assert_eq!(
        values(&merge_aggregates(vec![vec![], vec![]], &columns, &specs).unwrap()),
        want
    );
    // Shards that ran the scalar aggregate over no rows: (0, NULL, NULL, NULL, NULL, 0, ...).
    let empty_row = vec![
        t("0"),
        Value::NULL,
        Value::NULL,
        Value::NULL,
        Value::NULL,
        t("0"),
        Value::NULL,
        Value::NULL,
    ];
    let shards = vec![vec![empty_row.clone()], vec![empty_row]];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(values(&rs), want);
    assert_eq!(rs.columns[0].column_type(), ColumnType::MYSQL_TYPE_LONGLONG);
}

#[test]
fn grouped_over_no_rows_is_empty() {
    let columns = vec![general_col(), count_col()];
    let specs = [GroupKey { column: 0 }, Count { column: 1 }];
    let rs = merge_aggregates(vec![vec![], vec![]], &columns, &specs).unwrap();
    assert!(rs.rows.is_empty());
    assert_eq!(rs.columns.len(), 2);
}

#[test]
fn group_by_is_collation_aware_and_sorted() {
    // SELECT name, COUNT(*), SUM(n) FROM t GROUP BY name (utf8mb4_general_ci).
    let columns = vec![general_col(), count_col(), sum_of_int_col()];
    let specs = [
        GroupKey { column: 0 },
        Count { column: 1 },
        Sum { column: 2 },
    ];
    let shards = vec![
        vec![
            row(&["b", "1", "10"]),
            row(&["a", "2", "-5"]),
            vec![Value::NULL, t("1"), Value::NULL],
        ],
        vec![row(&["A", "3", "1"]), row(&["c", "1", "7"])],
        vec![row(&["á", "1", "2"]), row(&["B ", "2", "3"])],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(
        values(&rs),
        vec![
            vec![None, s("1"), None],
            vec![s("a"), s("6"), s("-2")],
            vec![s("b"), s("3"), s("13")],
            vec![s("c"), s("1"), s("7")],
        ]
    );
}

#[test]
fn group_by_numbers_sorts_numerically() {
    let columns = vec![int_col(), count_col()];
    let specs = [GroupKey { column: 0 }, Count { column: 1 }];
    let shards = vec![
        vec![row(&["10", "1"]), row(&["9", "1"])],
        vec![row(&["-1", "1"]), row(&["10", "2"])],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(
        values(&rs),
        vec![
            vec![s("-1"), s("1")],
            vec![s("9"), s("1")],
            vec![s("10"), s("3")]
        ]
    );
}

#[test]
fn min_max_are_type_and_collation_aware() {
    let columns = vec![
        int_col(),
        int_col(),
        general_col(),
        general_col(),
        decimal_col(10, 2),
    ];
    let specs = [
        Min { column: 0 },
        Max { column: 1 },
        Min { column: 2 },
        Max { column: 3 },
        Max { column: 4 },
    ];
    let shards = vec![
        vec![vec![t("9"), t("9"), t("b"), t("b"), t("9.75")]],
        vec![vec![t("-10"), t("10"), t("A"), t("B"), t("10.50")]],
        vec![vec![Value::NULL, Value::NULL, t("a"), t("a"), Value::NULL]],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    // MIN(name) is 'A' (first of the equal 'A'/'a'); MAX is 'b' (first of 'b'/'B').
    assert_eq!(
        values(&rs),
        vec![vec![s("-10"), s("10"), s("A"), s("b"), s("10.50")]]
    );
    assert_eq!(rs.columns[4], columns[4]);
}

#[test]
fn sums_keep_their_type() {
    let columns = vec![
        sum_of_decimal_col(10, 2),
        sum_of_double_col(),
        sum_of_int_col(),
        sum_of_int_col(),
    ];
    let specs = [
        Sum { column: 0 },
        Sum { column: 1 },
        Sum { column: 2 },
        Sum { column: 3 },
    ];
    let shards = vec![
        vec![vec![
            t("1.50"),
            t("0.1"),
            t("18446744073709551615"),
            Value::NULL,
        ]],
        vec![vec![
            t("2.50"),
            t("0.2"),
            t("18446744073709551615"),
            Value::NULL,
        ]],
        vec![vec![t("-0.25"), Value::NULL, t("-5"), Value::NULL]],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(
        values(&rs),
        vec![vec![
            s("3.75"),
            s("0.30000000000000004"),
            s("36893488147419103225"),
            None
        ]]
    );
    let shards = vec![
        vec![vec![t("1.50"), t("1e300"), t("1"), t("1")]],
        vec![vec![t("2.50"), t("1e300"), t("1"), t("2")]],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(
        values(&rs),
        vec![vec![s("4.00"), s("2e300"), s("2"), s("3")]]
    );
}

#[test]
fn count_distinct_across_shards() {
    // SELECT g, COUNT(DISTINCT x), SUM(y) GROUP BY g → shards: SELECT g, x, SUM(y) GROUP BY g, x.
    let columns = vec![int_col(), general_col(), sum_of_int_col()];
    let specs = [
        GroupKey { column: 0 },
        CountDistinct { column: 1 },
        Sum { column: 2 },
    ];
    let shards = vec![
        vec![
            row(&["1", "a", "1"]),
            row(&["1", "b", "2"]),
            row(&["2", "z", "5"]),
        ],
        vec![
            vec![t("1"), Value::NULL, t("4")],
            row(&["1", "A", "3"]),
            row(&["1", "c", "1"]),
        ],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(
        values(&rs),
        vec![vec![s("1"), s("3"), s("11")], vec![s("2"), s("1"), s("5")]]
    );
    assert_eq!(rs.columns[1].column_type(), ColumnType::MYSQL_TYPE_LONGLONG);
}

#[test]
fn sum_and_avg_distinct() {
    let columns = vec![int_col(), decimal_col(10, 2), double_col()];
    let specs = [
        SumDistinct { column: 0 },
        AvgDistinct { column: 0 },
        AvgDistinct { column: 1 },
        SumDistinct { column: 2 },
    ];
    let shards = vec![
        vec![row(&["1", "1.50", "0.5"]), row(&["2", "2.00", "0.25"])],
        vec![
            row(&["2", "1.5", "0.5"]),
            vec![Value::NULL, Value::NULL, Value::NULL],
        ],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    // SUM(DISTINCT int) = 3 (DECIMAL), AVG(DISTINCT int) = 1.5000, AVG(DISTINCT dec(10,2)) over
    // {1.50, 2.00} = 1.750000, SUM(DISTINCT double) over {0.5, 0.25} = 0.75.
    assert_eq!(
        values(&rs),
        vec![vec![s("3"), s("1.5000"), s("1.750000"), s("0.75")]]
    );
    let shapes: Vec<(ColumnType, u8)> = rs
        .columns
        .iter()
        .map(|c| (c.column_type(), c.decimals()))
        .collect();
    assert_eq!(
        shapes,
        vec![
            (ColumnType::MYSQL_TYPE_NEWDECIMAL, 0),
            (ColumnType::MYSQL_TYPE_NEWDECIMAL, 4),
            (ColumnType::MYSQL_TYPE_NEWDECIMAL, 6),
            (ColumnType::MYSQL_TYPE_DOUBLE, 31),
        ]
    );
}

#[test]
fn any_value_is_first_seen() {
    let columns = vec![int_col(), general_col()];
    let specs = [GroupKey { column: 0 }, AnyValue { column: 1 }];
    let shards = vec![vec![row(&["1", "first"])], vec![row(&["1", "second"])]];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(values(&rs), vec![vec![s("1"), s("first")]]);
}

#[test]
fn errors_for_bad_plans() {
    let columns = vec![int_col()];
    assert_eq!(
        merge_aggregates(
            vec![],
            &columns,
            &[Avg {
                sum_column: 0,
                count_column: 3
            }]
        ),
        Err(EngineError::ColumnOutOfRange { index: 3, width: 1 })
    );
    let date = vec![temporal_col(ColumnType::MYSQL_TYPE_DATE)];
    assert!(matches!(
        merge_aggregates(vec![], &date, &[SumDistinct { column: 0 }]),
        Err(EngineError::Unsupported(_))
    ));
}

#[test]
fn binary_protocol_partials_are_understood() {
    let columns = vec![count_col(), sum_of_int_col()];
    let specs = [Count { column: 0 }, Sum { column: 1 }];
    let shards = vec![
        vec![vec![Value::Int(2), Value::Int(-7)]],
        vec![vec![Value::UInt(3), Value::Bytes(b"10".to_vec())]],
    ];
    let rs = merge_aggregates(shards, &columns, &specs).unwrap();
    assert_eq!(values(&rs), vec![vec![s("5"), s("3")]]);
}

#[test]
fn scalar_over_no_rows_takes_constant_items_from_the_empty_row() {
    // SELECT COUNT(*), 2 + 3, name … matching nothing: the empty-set row says (0, 5, NULL).
    let columns = vec![count_col(), int_col(), varchar_col(45)];
    let specs = [
        Count { column: 0 },
        AnyValue { column: 1 },
        AnyValue { column: 2 },
    ];
    let empty = vec![
        Value::Bytes(b"0".to_vec()),
        Value::Bytes(b"5".to_vec()),
        Value::NULL,
    ];
    let rs = merge_aggregates_with(vec![vec![], vec![]], &columns, &specs, Some(&empty)).unwrap();
    assert_eq!(values(&rs), vec![vec![s("0"), s("5"), None]]);
    // Rows from the shards win over the empty row.
    let rs = merge_aggregates_with(
        vec![vec![row(&["2", "5", "ann"])]],
        &columns,
        &specs,
        Some(&empty),
    )
    .unwrap();
    assert_eq!(values(&rs), vec![vec![s("2"), s("5"), s("ann")]]);
}
