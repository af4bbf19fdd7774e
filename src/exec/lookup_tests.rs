//! Lookup vindex traffic with the recording cursor: which transaction list (pre / normal /
//! post) each lookup read and write uses, in which order, and the reclaim algorithm's
//! queries on a duplicate key.

use super::testing::RecordingCursor;
use super::*;
use crate::planner::{plan, Plan};
use crate::vschema::{KeyspaceSchema, VSchema};
use mysql_async::Value;

// hash(1) = 166b40b44aba4bd6 (-80), hash(4) = d2fd8867d50d2dfe (80-).
const KSID_1: &str = "166b40b44aba4bd6";
const KSID_4: &str = "d2fd8867d50d2dfe";

fn vschema() -> VSchema {
    let customer = KeyspaceSchema::parse(
        "customer",
        r#"{"sharded": true,
            "vindexes": {
              "hash": {"type": "hash"},
              "phone_vdx": {"type": "consistent_lookup_unique", "owner": "user",
                "params": {"table": "lookup.phone_vdx", "from": "phone", "to": "keyspace_id"}}},
            "tables": {"user": {"column_vindexes": [
              {"column": "id", "name": "hash"}, {"column": "phone", "name": "phone_vdx"}]}}}"#,
    )
    .expect("customer");
    let lookup = KeyspaceSchema::parse(
        "lookup",
        r#"{"sharded": false, "tables": {"phone_vdx": {}}}"#,
    )
    .expect("lookup");
    VSchema::build(
        vec![customer, lookup],
        [("customer".to_string(), 2usize), ("lookup".to_string(), 1)].into(),
    )
    .expect("build")
}

fn cursor() -> RecordingCursor {
    RecordingCursor {
        shards: [
            (
                "customer".to_string(),
                vec!["-80".to_string(), "80-".to_string()],
            ),
            ("lookup".to_string(), vec!["0".to_string()]),
        ]
        .into(),
        ..RecordingCursor::default()
    }
}

fn ksid_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What `SHOW KEYS … WHERE Key_name = 'PRIMARY'` answers for a primary key on `columns`.
fn primary_key(columns: &[&str]) -> (String, Result<ShardResult, u16>) {
    use mysql_common::constants::ColumnType;
    use mysql_common::packets::Column;
    let names = [
        "Table",
        "Non_unique",
        "Key_name",
        "Seq_in_index",
        "Column_name",
    ];
    let result = ShardResult {
        columns: names
            .iter()
            .map(|n| Column::new(ColumnType::MYSQL_TYPE_VAR_STRING).with_name(n.as_bytes()))
            .collect(),
        rows: columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                ["user", "0", "PRIMARY", &(i + 1).to_string(), c]
                    .iter()
                    .map(|t| Value::Bytes(t.as_bytes().to_vec()))
                    .collect()
            })
            .collect(),
        ..ShardResult::default()
    };
    ("SHOW KEYS".into(), Ok(result))
}

fn rows(cells: Vec<Vec<Value>>) -> ShardResult {
    ShardResult {
        rows: cells,
        ..ShardResult::default()
    }
}

#[tokio::test]
async fn select_by_lookup_reads_the_lookup_in_pre_then_one_shard() {
    let vs = vschema();
    let Ok(Plan::Select(p)) = plan("select id from user where phone = 7", &vs, None) else {
        panic!("select plan");
    };
    let mut c = cursor();
    c.answers_by_text.push((
        "FROM `phone_vdx`".into(),
        Ok(rows(vec![vec![
            Value::Bytes(b"7".to_vec()),
            Value::Bytes(ksid_bytes(KSID_4)),
        ]])),
    ));
    execute_select(&mut c, &p, &[], &vs).await.expect("run");
    assert_eq!(
        c.log,
        vec![
            "exec pre lookup/0: SELECT `phone`, `keyspace_id` FROM `phone_vdx` WHERE `phone` IN (7)",
            "exec customer/80-: select id from user where phone = 7",
        ]
    );
}

#[tokio::test]
async fn insert_creates_lookup_rows_in_pre_before_the_owner_row() {
    let vs = vschema();
    let Ok(Plan::Insert(p)) = plan(
        "insert into user (id, phone) values (1, 7), (4, 8)",
        &vs,
        None,
    ) else {
        panic!("insert plan");
    };
    let mut c = cursor();
    execute_insert(&mut c, &p, &[], &vs).await.expect("run");
    assert_eq!(
        c.log,
        vec![
            format!("exec pre lookup/0: INSERT INTO `phone_vdx` (`phone`, `keyspace_id`) VALUES (7, X'{KSID_1}'), (8, X'{KSID_4}')"),
            "exec customer/-80: insert into user (id, phone) values (1, 7)".to_string(),
            "exec customer/80-: insert into user (id, phone) values (4, 8)".to_string(),
        ]
    );
}

#[tokio::test]
async fn duplicate_key_reclaims_an_orphan() {
    let vs = vschema();
    let Ok(Plan::Insert(p)) = plan("insert into user (id, phone) values (1, 7)", &vs, None) else {
        panic!("insert plan");
    };
    let mut c = cursor();
    c.answers_by_text
        .push(("INSERT INTO `phone_vdx`".into(), Err(1062)));
    c.answers_by_text.push((
        "FOR UPDATE".into(),
        Ok(rows(vec![vec![Value::Bytes(ksid_bytes(KSID_4))]])),
    ));
    // The owner probe finds no row: the lookup row is an orphan and is taken over.
    execute_insert(&mut c, &p, &[], &vs).await.expect("run");
    assert_eq!(
        c.log,
        vec![
            format!("exec pre lookup/0: INSERT INTO `phone_vdx` (`phone`, `keyspace_id`) VALUES (7, X'{KSID_1}')"),
            "exec pre lookup/0: SELECT `keyspace_id` FROM `phone_vdx` WHERE `phone` = 7 FOR UPDATE".to_string(),
            "exec customer/80-: SELECT `phone` FROM `user` WHERE `phone` = 7 LOCK IN SHARE MODE".to_string(),
            format!("exec pre lookup/0: UPDATE `phone_vdx` SET `keyspace_id` = X'{KSID_1}' WHERE `phone` = 7"),
            "exec customer/-80: insert into user (id, phone) values (1, 7)".to_string(),
        ]
    );
}

#[tokio::test]
async fn duplicate_key_of_a_live_row_is_1062_and_nothing_is_inserted() {
    let vs = vschema();
    let Ok(Plan::Insert(p)) = plan("insert into user (id, phone) values (1, 7)", &vs, None) else {
        panic!("insert plan");
    };
    let mut c = cursor();
    c.answers_by_text
        .push(("INSERT INTO `phone_vdx`".into(), Err(1062)));
    c.answers_by_text.push((
        "FOR UPDATE".into(),
        Ok(rows(vec![vec![Value::Bytes(ksid_bytes(KSID_4))]])),
    ));
    c.answers_by_text.push((
        "LOCK IN SHARE MODE".into(),
        Ok(rows(vec![vec![Value::Bytes(b"7".to_vec())]])),
    ));
    let err = execute_insert(&mut c, &p, &[], &vs)
        .await
        .expect_err("taken");
    assert_eq!(lookup::server_code(&err), Some(1062));
    assert!(
        !c.log.iter().any(|l| l.contains("insert into user")),
        "{:?}",
        c.log
    );
}

#[tokio::test]
async fn delete_reads_rows_for_update_then_deletes_lookup_rows_in_post() {
    let vs = vschema();
    let Ok(Plan::Dml(p)) = plan("delete from user where id = 4", &vs, None) else {
        panic!("dml plan");
    };
    let mut c = cursor();
    c.answers_by_text.push(primary_key(&["id"]));
    c.answers_by_text.push((
        "FOR UPDATE".into(),
        Ok(rows(vec![vec![
            Value::Bytes(b"4".to_vec()),
            Value::Bytes(b"4".to_vec()),
            Value::Bytes(b"8".to_vec()),
        ]])),
    ));
    execute_dml(&mut c, &p, &[], &vs).await.expect("run");
    assert_eq!(
        c.log,
        vec![
            "exec customer/80-: SHOW KEYS FROM `user` WHERE Key_name = 'PRIMARY'".to_string(),
            "exec customer/80-: SELECT `id`, `id`, `phone` FROM `user` where id = 4\nFOR UPDATE".to_string(),
            format!("exec post lookup/0: DELETE FROM `phone_vdx` WHERE `phone` = _utf8mb4 X'38' AND `keyspace_id` = X'{KSID_4}'"),
            // Exactly the rows read, by primary key.
            "exec customer/80-: delete from user\nWHERE `id` IN (_utf8mb4 X'34')".to_string(),
        ]
    );
}

#[tokio::test]
async fn an_owner_table_without_a_primary_key_is_refused() {
    let vs = vschema();
    let Ok(Plan::Dml(p)) = plan("delete from user where id = 4", &vs, None) else {
        panic!("dml plan");
    };
    let mut c = cursor();
    c.answers_by_text.push(primary_key(&[]));
    let err = execute_dml(&mut c, &p, &[], &vs).await.expect_err("no key");
    assert!(matches!(err, ExecError::NotSupported(_)), "{err:?}");
    assert!(!c.log.iter().any(|l| l.contains("delete")), "{:?}", c.log);
}

#[tokio::test]
async fn update_moves_the_lookup_row_unless_unchanged() {
    let vs = vschema();
    let Ok(Plan::Dml(p)) = plan("update user set phone = ? where id = ?", &vs, None) else {
        panic!("dml plan");
    };
    let params = [Value::Int(9), Value::Int(4)];
    // Changed: the shard says the new value differs (flag 0).
    let mut c = cursor();
    c.answers_by_text.push(primary_key(&["id"]));
    c.answers_by_text.push((
        "FOR UPDATE".into(),
        Ok(rows(vec![vec![
            Value::Bytes(b"4".to_vec()),
            Value::Bytes(b"4".to_vec()),
            Value::Bytes(b"8".to_vec()),
            Value::Bytes(b"0".to_vec()),
        ]])),
    ));
    execute_dml(&mut c, &p, &params, &vs).await.expect("run");
    assert_eq!(
        c.log,
        vec![
            "exec customer/80-: SHOW KEYS FROM `user` WHERE Key_name = 'PRIMARY'".to_string(),
            "exec customer/80-: SELECT `id`, `id`, `phone`, (`phone` <=> 9) FROM `user` where id = 4\nFOR UPDATE".to_string(),
            format!("exec post lookup/0: DELETE FROM `phone_vdx` WHERE `phone` = _utf8mb4 X'38' AND `keyspace_id` = X'{KSID_4}'"),
            format!("exec pre lookup/0: INSERT INTO `phone_vdx` (`phone`, `keyspace_id`) VALUES (9, X'{KSID_4}')"),
            "exec customer/80-: update user set phone = 9\nWHERE `id` IN (_utf8mb4 X'34')".to_string(),
        ]
    );
    // Unchanged (flag 1): no lookup traffic.
    let mut c = cursor();
    c.answers_by_text.push(primary_key(&["id"]));
    c.answers_by_text.push((
        "FOR UPDATE".into(),
        Ok(rows(vec![vec![
            Value::Bytes(b"4".to_vec()),
            Value::Bytes(b"4".to_vec()),
            Value::Bytes(b"9".to_vec()),
            Value::Bytes(b"1".to_vec()),
        ]])),
    ));
    execute_dml(&mut c, &p, &params, &vs).await.expect("run");
    assert!(!c.log.iter().any(|l| l.contains("lookup/")), "{:?}", c.log);
}

/// `user` owning a `lookup_hash_unique` on `phone` (lookup table unsharded).
fn hashed_vschema() -> VSchema {
    let customer = KeyspaceSchema::parse(
        "customer",
        r#"{"sharded": true,
            "vindexes": {
              "hash": {"type": "hash"},
              "phone_vdx": {"type": "lookup_hash_unique", "owner": "user",
                "params": {"table": "lookup.phone_vdx", "from": "phone", "to": "user_id"}}},
            "tables": {"user": {"column_vindexes": [
              {"column": "id", "name": "hash"}, {"column": "phone", "name": "phone_vdx"}]}}}"#,
    )
    .expect("customer");
    let lookup = KeyspaceSchema::parse(
        "lookup",
        r#"{"sharded": false, "tables": {"phone_vdx": {}}}"#,
    )
    .expect("lookup");
    VSchema::build(
        vec![customer, lookup],
        [("customer".to_string(), 2usize), ("lookup".to_string(), 1)].into(),
    )
    .expect("build")
}

#[tokio::test]
async fn lookup_hash_stores_and_reads_the_number_hash_maps_to_the_keyspace_id() {
    let vs = hashed_vschema();
    let Ok(Plan::Insert(p)) = plan(
        "insert into user (id, phone) values (1, 7), (4, 8)",
        &vs,
        None,
    ) else {
        panic!("insert plan");
    };
    let mut c = cursor();
    execute_insert(&mut c, &p, &[], &vs).await.expect("insert");
    assert_eq!(
        c.log,
        vec![
            "exec lookup/0: INSERT INTO `phone_vdx` (`phone`, `user_id`) VALUES (7, 1), (8, 4)",
            "exec customer/-80: insert into user (id, phone) values (1, 7)",
            "exec customer/80-: insert into user (id, phone) values (4, 8)",
        ]
    );
    // A read by phone: `user_id` 4 is hashed into the keyspace id of shard 80-.
    let Ok(Plan::Select(p)) = plan("select id from user where phone = 8", &vs, None) else {
        panic!("select plan");
    };
    let mut c = cursor();
    c.answers_by_text.push((
        "FROM `phone_vdx`".into(),
        Ok(rows(vec![vec![
            Value::Bytes(b"8".to_vec()),
            Value::Bytes(b"4".to_vec()),
        ]])),
    ));
    execute_select(&mut c, &p, &[], &vs).await.expect("select");
    assert_eq!(
        c.log,
        vec![
            "exec lookup/0: SELECT `phone`, `user_id` FROM `phone_vdx` WHERE `phone` IN (8)",
            "exec customer/80-: select id from user where phone = 8",
        ]
    );
}
