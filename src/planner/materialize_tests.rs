//! Plans of statements answered over copies of their tables.

use crate::planner::tests::test_vschema;
use crate::planner::{plan, Plan};
use crate::session::Target;

fn target() -> Target {
    Target {
        keyspace: "customer".into(),
        shard: None,
    }
}

fn materialized(sql: &str) -> crate::planner::MaterializePlan {
    match plan(sql, &test_vschema(), Some(&target())) {
        Ok(Plan::Materialize(m)) => m,
        other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn a_cross_shard_join_copies_each_table_once_and_keeps_the_text() {
    let m = materialized(
        "select u.name, o.id from user u join orders o on o.id = u.id /* c */ where u.id in (1, 2) and o.id > ?",
    );
    assert_eq!(m.scratch_keyspace, "customer");
    assert_eq!(
        m.query,
        "select u.name, o.id from `_shardgate_m0` u join `_shardgate_m1` o on o.id = u.id /* c */ where u.id in (1, 2) and o.id > ?"
    );
    assert_eq!(m.tables.len(), 2);
    // u's filter is pushed down (and routes by its vindex); o's holds a parameter.
    assert_eq!(
        m.tables[0].fetch_sql,
        "SELECT * FROM `customer`.`user` AS `u` WHERE (u.id IN (1, 2))"
    );
    match &*m.tables[0].fetch {
        Plan::Select(sp) => assert_eq!(sp.route.opcode, crate::planner::RouteOpcode::In),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.tables[1].fetch_sql, "SELECT * FROM `customer`.`orders`");
}

#[test]
fn unaliased_names_keep_their_name_and_self_joins_share_a_copy() {
    let m = materialized(
        "select user.id from customer.user join user u2 on u2.phone = user.phone where user.id = 5",
    );
    assert_eq!(
        m.query,
        "select user.id from `_shardgate_m0` AS `user` join `_shardgate_m0` u2 on u2.phone = user.phone where user.id = 5"
    );
    assert_eq!(m.tables.len(), 1);
    // Read twice: nothing pushed down.
    assert_eq!(m.tables[0].fetch_sql, "SELECT * FROM `customer`.`user`");
}

#[test]
fn outer_join_null_sides_and_subqueries_are_not_filtered() {
    let m = materialized(
        "select * from user u left join orders o on o.user_id = u.phone where o.id is null and u.name = 'x' and u.id = (select max(id) from item)",
    );
    assert_eq!(
        m.tables[0].fetch_sql,
        "SELECT * FROM `customer`.`user` AS `u` WHERE (u.name = 'x')"
    );
    assert_eq!(m.tables[1].fetch_sql, "SELECT * FROM `customer`.`orders`");
    assert_eq!(m.tables[2].fetch_sql, "SELECT * FROM `customer`.`item`");
}

#[test]
fn unions_ctes_and_derived_tables_are_materialized() {
    let m = materialized("select id from user union select id from orders order by id limit 3");
    assert_eq!(m.tables.len(), 2);
    let m = materialized("with x as (select user_id, count(*) c from orders group by user_id) select * from x join user on user.id = x.user_id");
    assert_eq!(m.tables.len(), 2);
    assert!(m
        .query
        .starts_with("with x as (select user_id, count(*) c from `_shardgate_m0` AS `orders`"));
}

#[test]
fn session_effects_stay_refused() {
    for sql in [
        "select * from user u join orders o on o.id = u.phone for update",
        "select @a := u.id from user u join orders o on o.id = u.phone",
        "select u.id into @x from user u join orders o on o.id = u.phone limit 1",
        "select customer.u.id from user u join orders o on o.id = u.phone",
        "select /*! STRAIGHT_JOIN */ u.id from user u join orders o on o.id = u.phone",
    ] {
        match plan(sql, &test_vschema(), Some(&target())) {
            Err(crate::planner::PlanError::NotSupported(_)) => {}
            other => panic!("{sql}: {other:?}"),
        }
    }
}

#[test]
fn join_columns_may_reduce_the_other_side() {
    let m = materialized(
        "select u.name, o.id from user u join orders o on o.user_id = u.phone where u.id = 5",
    );
    // u is filtered (fetched first); o may be fetched by user_id IN (u's phones) and u by
    // phone IN (o's user_ids) if o came first.
    assert_eq!(m.fetch_order, vec![0, 1]);
    assert_eq!(m.tables[1].reductions.len(), 1);
    assert_eq!(m.tables[1].reductions[0].column, "user_id");
    assert_eq!(m.tables[1].reductions[0].source, 0);
    assert_eq!(m.tables[1].reductions[0].source_column, "phone");
    // A LEFT JOIN reduces its right side only; a RIGHT JOIN nothing.
    let m = materialized("select * from user u left join orders o on o.user_id = u.phone");
    assert!(m.tables[0].reductions.is_empty());
    assert_eq!(m.tables[1].reductions.len(), 1);
    let m = materialized("select * from user u right join orders o on o.user_id = u.phone");
    assert!(m.tables.iter().all(|t| t.reductions.is_empty()));
    // A table read twice is never reduced.
    let m = materialized(
        "select * from user u join user v on v.phone = u.id join orders o on o.user_id = u.phone",
    );
    assert!(m.tables[0].reductions.is_empty());
}

#[test]
fn the_run_time_fallback_reads_vindex_hints_like_the_planner() {
    let sql = "select u.id from user u ignore vindex (hash) join orders o on o.user_id = u.phone";
    match crate::planner::plan_materialized(sql, &test_vschema(), Some(&target())) {
        Ok(Plan::Materialize(m)) => assert!(!m.query.contains("vindex"), "{}", m.query),
        other => panic!("{other:?}"),
    }
}
