//! Executor tests with the recording cursor: exact shard traffic for routes, IN pruning,
//! INSERT splitting with sequence ids, DDL fan-out, and merging.

use super::testing::{cursor, merged, run_select, s, select_plan, vschema};
use super::*;
use crate::planner::*;
use crate::vindex::SqlValue;

fn lit(i: i64) -> RouteValue {
    RouteValue::Literal(SqlValue::int64(i))
}

#[tokio::test]
async fn in_list_is_pruned_per_shard() {
    let sql = "select * from user where id in (1, 4, 2)".to_string();
    let start = sql.find('(').expect("(") + 1;
    let end = sql.rfind(')').expect(")");
    let items = vec![
        (start, start + 1),
        (start + 3, start + 4),
        (start + 6, start + 7),
    ];
    let plan = SelectPlan {
        route: Route {
            keyspace: "customer".into(),
            opcode: RouteOpcode::In,
            vindex: Some("hash".into()),
            values: vec![lit(1), lit(4), lit(2)],
            coerce: None,
        },
        query: QueryTemplate {
            sql,
            in_list: Some(InList {
                span: (start, end),
                items,
            }),
            limit_slot: None,
        },
        merge: Some(Merge {
            aggregates: None,
            having: None,
            distinct: false,
            order_by: vec![],
            limit: None,
            visible_columns: 0,
            hidden_tail: None,
            empty_scalar: None,
            scalar_fields: Default::default(),
        }),
        empty_without_rows: true,
        fields: Default::default(),
    };
    let mut c = cursor();
    execute_select(&mut c, &plan, &[], &vschema())
        .await
        .expect("run");
    assert_eq!(
        c.log,
        vec![
            "exec customer/-80: select * from user where id in (1, 2)",
            "exec customer/80-: select * from user where id in (4)",
        ]
    );
}

#[tokio::test]
async fn insert_splits_rows_and_takes_sequence_ids() {
    let source = "insert into user (name) values ('a'), ('b'), ('c')".to_string();
    let spans: Vec<(usize, usize)> = ["('a')", "('b')", "('c')"]
        .iter()
        .map(|t| {
            let s = source.find(t).expect("tuple");
            (s, s + t.len())
        })
        .collect();
    let plan = InsertPlan {
        keyspace: "customer".into(),
        table: "user".into(),
        vindex: "hash".into(),
        prefix: "insert into user (name, id) values ".into(),
        suffix: String::new(),
        rows: spans
            .into_iter()
            .map(|span| InsertRow {
                vindex_values: vec![None],
                span,
                auto_increment_value: None,
            })
            .collect(),
        sequence: Some(("commerce".into(), "user_seq".into())),
        auto_increment_omitted: true,
        source,
        lookups: Vec::new(),
        unowned: Vec::new(),
        ignore: false,
        returning: false,
        upsert: None,
    };
    let mut c = cursor();
    c.next_id = 1;
    let r = execute_insert(&mut c, &plan, &[], &vschema())
        .await
        .expect("run");
    assert_eq!(r.last_insert_id, 1);
    // hash(1) -> -80, hash(2) -> -80, hash(3) -> -80 (4eb1..)
    assert_eq!(
        c.log,
        vec![
            "sequence commerce.user_seq: 3",
            "exec customer/-80: insert into user (name, id) values ('a', 1), ('b', 2), ('c', 3)",
        ]
    );
}

#[tokio::test]
async fn ddl_goes_to_every_shard() {
    let mut c = cursor();
    execute_all_shards(&mut c, "customer", "create table t (id int)")
        .await
        .expect("run");
    assert_eq!(
        c.log,
        vec![
            "exec customer/-80: create table t (id int)",
            "exec customer/80-: create table t (id int)",
        ]
    );
}

#[tokio::test]
async fn star_with_order_by_sorts_by_the_hidden_tail_and_drops_it() {
    use super::testing::rows::*;
    let plan = select_plan("select * from user order by name desc, id limit 3 offset 1");
    let cols = || vec![bigint(), varchar(), varchar(), bigint()];
    let shard0 = answer(
        cols(),
        vec![
            row(&[Some("3"), Some("carol"), Some("carol"), Some("3")]),
            row(&[Some("1"), Some("alice"), Some("alice"), Some("1")]),
            row(&[Some("5"), None, None, Some("5")]),
        ],
    );
    let shard1 = answer(
        cols(),
        vec![
            row(&[Some("2"), Some("Bob"), Some("Bob"), Some("2")]),
            row(&[Some("4"), Some("ALICE"), Some("ALICE"), Some("4")]),
        ],
    );
    let (r, log) = run_select(&plan, &[], vec![shard0, shard1]).await;
    let r = r.expect("merge");
    assert_eq!(
        log,
        vec![
            "exec customer/-80: SELECT *, name AS __o0, id AS __o1 FROM user ORDER BY name DESC, id LIMIT 4",
            "exec customer/80-: SELECT *, name AS __o0, id AS __o1 FROM user ORDER BY name DESC, id LIMIT 4",
        ]
    );
    assert_eq!(r.columns.len(), 2);
    let s = |x: &str| Some(x.to_string());
    // carol, Bob, alice(1), ALICE(4), NULL: skip one, keep three.
    assert_eq!(
        texts(&r),
        vec![
            vec![s("2"), s("Bob")],
            vec![s("1"), s("alice")],
            vec![s("4"), s("ALICE")],
        ]
    );
}

#[tokio::test]
async fn distinct_star_compares_only_the_columns_before_the_tail() {
    use super::testing::rows::*;
    let plan = select_plan("select distinct * from user order by id");
    let cols = || vec![bigint(), varchar(), bigint()];
    let shard0 = answer(
        cols(),
        vec![
            row(&[Some("1"), Some("a"), Some("1")]),
            row(&[Some("2"), Some("b"), Some("2")]),
        ],
    );
    let shard1 = answer(cols(), vec![row(&[Some("1"), Some("a"), Some("1")])]);
    let (r, _) = run_select(&plan, &[], vec![shard0, shard1]).await;
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        texts(&r.expect("merge")),
        vec![vec![s("1"), s("a")], vec![s("2"), s("b")]]
    );
}

#[tokio::test]
async fn a_tail_wider_than_the_rows_is_an_internal_error() {
    use super::testing::rows::*;
    let plan = select_plan("select * from user order by name, id");
    let (r, _) = run_select(&plan, &[], vec![answer(vec![bigint()], vec![])]).await;
    assert!(matches!(r, Err(ExecError::Internal(_))), "{r:?}");
}

#[tokio::test]
async fn having_filters_merged_groups_not_shard_groups() {
    use super::testing::rows::*;
    // Age 30 has 2 + 2 rows: only the merged count passes `> 3`.
    let got = merged(
        "select age, count(*) from user group by age having count(*) > 3 order by age desc",
        vec![bigint(), count()],
        &[&[Some("30"), Some("2")], &[Some("40"), Some("1")]],
        &[
            &[Some("30"), Some("2")],
            &[Some("50"), Some("4")],
            &[None, Some("9")],
        ],
    )
    .await
    .expect("merge");
    assert_eq!(
        got,
        vec![
            vec![s("50"), s("4")],
            vec![s("30"), s("4")],
            vec![None, s("9")]
        ]
    );
}

#[tokio::test]
async fn having_on_a_hidden_aggregate_with_and_or_and_nulls() {
    use super::testing::rows::*;
    // Shards: age, MIN(id) (hidden), MAX(balance) (hidden).
    let got = merged(
        "select age from user group by age having min(id) < 50 and (max(balance) > 10 or max(balance) is null)",
        vec![bigint(), bigint(), decimal(10, 2)],
        &[
            &[Some("20"), Some("60"), Some("99.00")],
            &[Some("21"), Some("10"), None],
            &[Some("22"), Some("5"), Some("3.50")],
        ],
        &[
            &[Some("20"), Some("40"), Some("1.00")],
            &[Some("23"), None, Some("11.00")],
        ],
    )
    .await
    .expect("merge");
    // 20: min 40, max 99 → kept; 21: max NULL → kept; 22: max 3.50 → dropped; 23: min NULL → NULL → dropped.
    assert_eq!(got, vec![vec![s("20")], vec![s("21")]]);
}

#[tokio::test]
async fn having_compares_numbers_exactly_against_decimal_literals() {
    use super::testing::rows::*;
    // AVG(age) from SUM(age) and COUNT(age): 91/2 = 45.5 is not > 45.5, 92/2 = 46 is.
    let got = merged(
        "select city, avg(age) from user group by city having avg(age) > 45.5",
        vec![varchar(), decimal(32, 0), count()],
        &[
            &[Some("a"), Some("45"), Some("1")],
            &[Some("b"), Some("46"), Some("1")],
        ],
        &[
            &[Some("a"), Some("46"), Some("1")],
            &[Some("b"), Some("46"), Some("1")],
        ],
    )
    .await
    .expect("merge");
    assert_eq!(got, vec![vec![s("b"), s("46.0000")]]);
    let got = merged(
        "select age, count(*) from user group by age having count(*) >= 2.5",
        vec![bigint(), count()],
        &[&[Some("1"), Some("2")], &[Some("2"), Some("3")]],
        &[],
    )
    .await
    .expect("merge");
    assert_eq!(got, vec![vec![s("2"), s("3")]]);
}

#[tokio::test]
async fn having_strings_use_the_collation_and_dates_their_calendar() {
    use super::testing::rows::*;
    let got = merged(
        "select city, count(*) from user group by city having city <> 'paris' and city not in ('LIMA')",
        vec![varchar(), count()],
        &[&[Some("Paris"), Some("1")], &[Some("Lima"), Some("1")]],
        &[&[Some("Berlin"), Some("2")], &[None, Some("1")]],
    )
    .await
    .expect("merge");
    assert_eq!(got, vec![vec![s("Berlin"), s("2")]]);
    let got = merged(
        "select created, count(*) from user group by created having created >= '2023-6-1'",
        vec![date(), count()],
        &[
            &[Some("2023-05-31"), Some("1")],
            &[Some("2023-06-01"), Some("1")],
        ],
        &[&[Some("2024-01-01"), Some("1")]],
    )
    .await
    .expect("merge");
    assert_eq!(
        got,
        vec![vec![s("2023-06-01"), s("1")], vec![s("2024-01-01"), s("1")]]
    );
}

#[tokio::test]
async fn having_null_safe_equality_and_not_of_null() {
    use super::testing::rows::*;
    let got = merged(
        "select city, max(age) from user group by city having city <=> null or not max(age) > 30",
        vec![varchar(), bigint()],
        &[&[None, Some("50")], &[Some("x"), None]],
        &[&[Some("y"), Some("20")], &[Some("z"), Some("40")]],
    )
    .await
    .expect("merge");
    // NULL city: kept by <=>; x: NOT NULL is NULL → dropped; y kept; z dropped.
    assert_eq!(got, vec![vec![None, s("50")], vec![s("y"), s("20")]]);
}

#[tokio::test]
async fn having_refuses_comparisons_it_cannot_make_exactly() {
    use super::testing::rows::*;
    for (sql, columns) in [
        (
            "select city, count(*) from user group by city having city > 5",
            vec![varchar(), count()],
        ),
        (
            "select age, count(*) from user group by age having count(*) > '2'",
            vec![bigint(), count()],
        ),
        (
            "select created, count(*) from user group by created having created > 'soon'",
            vec![date(), count()],
        ),
        (
            "select age, max(name), min(created) from user group by age having max(name) > min(created)",
            vec![bigint(), varchar(), date()],
        ),
    ] {
        // Refused even without rows: the check reads only the column types.
        let r = merged(sql, columns, &[], &[]).await;
        assert!(matches!(r, Err(ExecError::NotSupported(_))), "{sql}: {r:?}");
    }
    let got = merged(
        "select age, max(balance), min(balance) from user group by age having max(balance) > min(balance)",
        vec![bigint(), double(), decimal(10, 2)],
        &[&[Some("1"), Some("2.5"), Some("2.50")], &[Some("2"), Some("3"), Some("1.00")]],
        &[],
    )
    .await
    .expect("numbers compare with numbers");
    assert_eq!(got, vec![vec![s("2"), s("3"), s("1.00")]]);
}

#[tokio::test]
async fn limit_parameters_fill_the_slot_and_limit_the_merge() {
    use super::testing::rows::*;
    use mysql_async::Value;
    let plan = select_plan("select id from user where age > ? order by id limit ?, ?");
    let shard = |ids: &[&str]| {
        answer(
            vec![bigint()],
            ids.iter().map(|i| row(&[Some(*i)])).collect(),
        )
    };
    let params = [Value::Int(30), Value::Int(1), Value::UInt(2)];
    let (r, log) = run_select(&plan, &params, vec![shard(&["1", "4"]), shard(&["2", "3"])]).await;
    assert_eq!(
        log,
        vec![
            "exec customer/-80: SELECT id FROM user WHERE age > ? ORDER BY id LIMIT 3",
            "exec customer/80-: SELECT id FROM user WHERE age > ? ORDER BY id LIMIT 3",
        ]
    );
    assert_eq!(texts(&r.expect("merge")), vec![vec![s("2")], vec![s("3")]]);

    // `LIMIT ?` alone stays for the server to fill; the proxy applies the bound count.
    let plan = select_plan("select id from user order by id limit ?");
    let (r, log) = run_select(
        &plan,
        &[Value::Int(3)],
        vec![shard(&["1", "4"]), shard(&["2", "3"])],
    )
    .await;
    assert_eq!(
        log[0],
        "exec customer/-80: select id from user order by id limit ?"
    );
    assert_eq!(
        texts(&r.expect("merge")),
        vec![vec![s("1")], vec![s("2")], vec![s("3")]]
    );

    // A scatter aggregate: no LIMIT on the shards, the bound one on the merged groups.
    let plan = select_plan("select age, count(*) from user group by age order by age limit ?, ?");
    let counts = |rows: &[(&str, &str)]| {
        answer(
            vec![bigint(), count()],
            rows.iter()
                .map(|(a, c)| row(&[Some(*a), Some(*c)]))
                .collect(),
        )
    };
    let (r, log) = run_select(
        &plan,
        &[Value::Int(1), Value::Int(1)],
        vec![counts(&[("20", "1"), ("30", "2")]), counts(&[("30", "1")])],
    )
    .await;
    assert_eq!(
        log[1],
        "exec customer/80-: SELECT age, count(*) FROM user GROUP BY age"
    );
    assert_eq!(texts(&r.expect("merge")), vec![vec![s("30"), s("3")]]);
}

#[tokio::test]
async fn limit_parameters_that_are_not_counts_are_refused() {
    use mysql_async::Value;
    let plan = select_plan("select id from user order by id limit ?, ?");
    for params in [
        vec![Value::Int(-1), Value::Int(2)],
        vec![Value::Bytes(b"1".to_vec()), Value::Int(2)],
    ] {
        let (r, log) = run_select(&plan, &params, vec![]).await;
        assert!(matches!(r, Err(ExecError::NotSupported(_))), "{r:?}");
        assert!(log.is_empty(), "nothing is sent: {log:?}");
    }
    let (r, _) = run_select(&plan, &[Value::Int(1)], vec![]).await;
    assert!(matches!(r, Err(ExecError::Internal(_))), "{r:?}");
}

#[tokio::test]
async fn prepared_merges_return_temporal_columns() {
    use super::testing::rows::*;
    use mysql_async::Value;
    let plan = select_plan("select id, created from user where age > ? order by id limit ?");
    let shard = || {
        answer(
            vec![bigint(), date()],
            vec![row(&[Some("1"), Some("2021-09-24")])],
        )
    };
    let (r, _) = run_select(
        &plan,
        &[Value::Int(1), Value::Int(2)],
        vec![shard(), shard()],
    )
    .await;
    // The binary row writer encodes the merged text dates (protocol::binary tests).
    let rows = r.expect("prepared merge").rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][1], Value::Bytes(b"2021-09-24".to_vec()));
    let plan = select_plan("select id, created from user order by id limit 2");
    let (r, _) = run_select(&plan, &[], vec![shard(), shard()]).await;
    assert_eq!(r.expect("text protocol").rows.len(), 2);
}

#[tokio::test]
async fn insert_returning_rows_come_back_in_statement_order() {
    use super::testing::rows::{answer, bigint, row, texts};
    // Ids 3, 4, 5 from the sequence: hash(3) and hash(5) are on -80, hash(4) on 80-.
    let source = "insert into user (name) values ('a'), ('b'), ('c') returning id".to_string();
    let spans: Vec<(usize, usize)> = ["('a')", "('b')", "('c')"]
        .iter()
        .map(|t| {
            let s = source.find(t).expect("tuple");
            (s, s + t.len())
        })
        .collect();
    let plan = InsertPlan {
        keyspace: "customer".into(),
        table: "user".into(),
        vindex: "hash".into(),
        prefix: "insert into user (name, id) values ".into(),
        suffix: " returning id".into(),
        rows: spans
            .into_iter()
            .map(|span| InsertRow {
                vindex_values: vec![None],
                span,
                auto_increment_value: None,
            })
            .collect(),
        sequence: Some(("commerce".into(), "user_seq".into())),
        auto_increment_omitted: true,
        source,
        lookups: Vec::new(),
        unowned: Vec::new(),
        ignore: false,
        returning: true,
        upsert: None,
    };
    let mut c = cursor();
    c.next_id = 3;
    c.answers_by_text.push((
        "('a', 3), ('c', 5)".into(),
        Ok(answer(
            vec![bigint()],
            vec![row(&[Some("3")]), row(&[Some("5")])],
        )),
    ));
    c.answers_by_text.push((
        "('b', 4)".into(),
        Ok(answer(vec![bigint()], vec![row(&[Some("4")])])),
    ));
    let r = execute_insert(&mut c, &plan, &[], &vschema())
        .await
        .expect("run");
    assert_eq!(
        c.log,
        vec![
            "sequence commerce.user_seq: 3",
            "exec customer/-80: insert into user (name, id) values ('a', 3), ('c', 5) returning id",
            "exec customer/80-: insert into user (name, id) values ('b', 4) returning id",
        ]
    );
    assert_eq!(texts(&r), vec![vec![s("3")], vec![s("4")], vec![s("5")]]);
    assert_eq!(r.columns.len(), 1);
    assert_eq!(r.affected_rows, 3);
    // A shard answering fewer rows than it was sent is an error, never a short answer.
    let mut c = cursor();
    c.next_id = 3;
    c.answers_by_text.push((
        "('a', 3), ('c', 5)".into(),
        Ok(answer(vec![bigint()], vec![row(&[Some("3")])])),
    ));
    assert!(execute_insert(&mut c, &plan, &[], &vschema())
        .await
        .is_err());
}
