//! The streamed merge against the buffered one, on the recording cursor: same rows, same
//! order, same columns; which plans stream; LIMIT stops reading.

use super::*;
use crate::exec::testing::rows::{answer, bigint, row, texts, varchar};
use crate::exec::testing::{cursor, select_plan, vschema};
use crate::exec::{execute_select, Buffered};
use mysql_common::constants::{ColumnFlags, ColumnType};

type Rows = Vec<Vec<Option<&'static str>>>;

fn answers(columns: &[Column], shards: &[Rows]) -> Vec<ShardResult> {
    shards
        .iter()
        .map(|rows| answer(columns.to_vec(), rows.iter().map(|r| row(r)).collect()))
        .collect()
}

fn recording(answers: Vec<ShardResult>) -> crate::exec::testing::RecordingCursor {
    let mut c = cursor();
    for (i, a) in answers.into_iter().enumerate() {
        c.answers.insert(("customer".to_string(), i), a);
    }
    c
}

/// Runs `sql` both ways; returns (streamed?, streamed result, buffered result, streamed log).
async fn both(sql: &str, columns: &[Column], shards: &[Rows]) -> (bool, ShardResult, ShardResult) {
    let plan = select_plan(sql);
    let mut c = recording(answers(columns, shards));
    let buffered = execute_select(&mut c, &plan, &[], &vschema())
        .await
        .expect("buffered");
    let buffered_log = std::mem::take(&mut c.log);
    let mut c = recording(answers(columns, shards));
    let out = start_select(&mut c, &plan, &[], &vschema())
        .await
        .expect("start");
    let (streamed, result) = match out {
        SelectOutput::Whole(r) => (false, r),
        SelectOutput::Stream(mut s) => {
            let mut rows = Vec::new();
            while let Some(r) = s.next_row().await.expect("row") {
                rows.push(r);
            }
            let columns = s.columns().to_vec();
            let warnings = c.close_streams(s.into_streams(), false).await;
            (
                true,
                ShardResult {
                    columns,
                    rows,
                    warnings,
                    ..ShardResult::default()
                },
            )
        }
    };
    assert_eq!(c.log, buffered_log, "the same shard traffic");
    (streamed, result, buffered)
}

fn shards() -> Vec<Rows> {
    vec![
        vec![
            vec![Some("1"), None],
            vec![Some("3"), Some("a")],
            vec![Some("5"), Some("B")],
            vec![Some("7"), Some("c")],
        ],
        vec![
            vec![Some("2"), None],
            vec![Some("4"), Some("A")],
            vec![Some("6"), Some("b")],
            vec![Some("8"), Some("á")],
        ],
    ]
}

#[tokio::test]
async fn ordered_merges_stream_in_the_buffered_order() {
    let columns = [bigint(), varchar()];
    for sql in [
        "select id, name from user order by name, id",
        "select id, name from user order by name desc, id",
        "select id, name from user order by name limit 3",
        "select id, name from user order by name, id limit 2 offset 3",
        "select id, name from user order by name limit 5 offset 10",
        "select id, name from user",
        "select id, name from user limit 3",
    ] {
        let (streamed, s, b) = both(sql, &columns, &shards()).await;
        assert!(streamed, "{sql} streams");
        assert_eq!(texts(&s), texts(&b), "{sql}");
        assert_eq!(s.columns, b.columns, "{sql}");
    }
}

#[tokio::test]
async fn helper_columns_are_dropped() {
    // `*` with an ORDER BY expression: the planner appends a helper column.
    let columns = [bigint(), varchar(), bigint()];
    let rows = vec![
        vec![vec![Some("1"), Some("x"), Some("9")]],
        vec![
            vec![Some("2"), Some("y"), Some("3")],
            vec![Some("4"), Some("z"), Some("10")],
        ],
    ];
    let sql = "select * from user order by id + 1";
    let (streamed, s, b) = both(sql, &columns, &rows).await;
    assert!(streamed);
    assert_eq!(texts(&s), texts(&b));
    assert_eq!(s.columns.len(), b.columns.len());
}

#[tokio::test]
async fn holding_merges_stay_buffered() {
    let columns = [bigint(), varchar()];
    for sql in [
        "select count(*), name from user group by name",
        "select distinct id, name from user order by name",
    ] {
        let (streamed, s, b) = both(sql, &columns, &shards()).await;
        assert!(!streamed, "{sql} is buffered");
        assert_eq!(texts(&s), texts(&b), "{sql}");
    }
}

#[tokio::test]
async fn enum_sort_keys_fall_back_to_the_buffered_merge() {
    let e = Column::new(ColumnType::MYSQL_TYPE_STRING)
        .with_character_set(45)
        .with_flags(ColumnFlags::ENUM_FLAG)
        .with_schema(b"vt_customer")
        .with_org_table(b"user")
        .with_org_name(b"name");
    let columns = [bigint(), e];
    let rows = vec![
        vec![vec![Some("1"), Some("b")], vec![Some("3"), Some("a")]],
        vec![vec![Some("2"), Some("b")], vec![Some("4"), Some("a")]],
    ];
    let enum_answer = || {
        answer(
            vec![varchar()],
            vec![vec![Value::Bytes(b"enum('b','a')".to_vec())]],
        )
    };
    let plan = select_plan("select id, name from user order by name, id");
    let mut c = recording(answers(&columns, &rows));
    c.answers_by_text
        .push(("COLUMN_TYPE".into(), Ok(enum_answer())));
    let out = start_select(&mut c, &plan, &[], &vschema())
        .await
        .expect("start");
    let SelectOutput::Whole(r) = out else {
        panic!("an ENUM sort key is merged whole")
    };
    let ids: Vec<_> = texts(&r).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4"].map(|s| Some(s.to_string())).to_vec()
    );
}

#[tokio::test]
async fn a_limit_stops_reading_the_shards() {
    let columns = [bigint(), varchar()];
    let plan = select_plan("select id, name from user order by id limit 2");
    let mut c = recording(answers(&columns, &shards()));
    let SelectOutput::Stream(mut s) = start_select(&mut c, &plan, &[], &vschema())
        .await
        .expect("start")
    else {
        panic!("streams")
    };
    let mut ids = Vec::new();
    while let Some(r) = s.next_row().await.expect("row") {
        ids.push(r[0].clone());
    }
    assert_eq!(
        ids,
        vec![row(&[Some("1")])[0].clone(), row(&[Some("2")])[0].clone()]
    );
    let mut streams: Buffered = s.into_streams();
    // Both heads and one refill were read: 3 of the 8 rows.
    let rest = collect(&mut streams).await.expect("rest");
    assert_eq!(rest.iter().map(|r| r.rows.len()).sum::<usize>(), 5);
}
