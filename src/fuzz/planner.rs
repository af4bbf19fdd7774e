//! Fuzz targets for the planner and the VSchema loader.
//!
//! [`target`] plans SQL against the example VSchema (`vschema/*.json`: `commerce`, `customer`,
//! `lookup`) plus a `main` keyspace with one table per vindex kind (`fuzz_vschema.json`). The
//! input either is the statement text itself or drives [`super::sql_gen`], a small SQL grammar
//! over those tables, so the planner's deep paths (joins, subqueries, aggregates, unions,
//! lookups, inserts with sequences) are reached. Statements go through the bounds pre-check
//! first, as on the server, then through both planning paths (direct, and template + bind as
//! the plan cache does), which must agree.

use super::sql_gen;
use crate::planner::{bind, literal_value, plan, plan_template, BoundLiteral};
use crate::session::Target;
use crate::sql::{self, StatementBounds};
use crate::vindex::SqlValue;
use crate::vschema::{KeyspaceSchema, VSchema};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The example VSchema plus the fuzz keyspace `main`.
pub fn vschema() -> &'static VSchema {
    static VS: OnceLock<VSchema> = OnceLock::new();
    VS.get_or_init(|| {
        let parse = |name: &str, text: &str| {
            KeyspaceSchema::parse(name, text).unwrap_or_else(|e| panic!("{name} vschema: {e}"))
        };
        let keyspaces = vec![
            parse("commerce", include_str!("../../vschema/commerce.json")),
            parse("customer", include_str!("../../vschema/customer.json")),
            parse("lookup", include_str!("../../vschema/lookup.json")),
            parse("main", include_str!("fuzz_vschema.json")),
        ];
        VSchema::build(keyspaces, BTreeMap::new()).expect("fuzz vschema")
    })
}

fn targets() -> [Option<Target>; 6] {
    let t = |ks: &str| {
        Some(Target {
            keyspace: ks.into(),
            shard: None,
        })
    };
    [
        None,
        t("main"),
        t("main"),
        t("main"),
        t("customer"),
        t("commerce"),
    ]
}

/// The planner target: `[mode][session target]` then either the statement's text (mode odd)
/// or the bytes the SQL grammar draws its choices from (mode even).
pub fn target(data: &[u8]) {
    let [mode, target, ref rest @ ..] = *data else {
        return;
    };
    let sql = if mode & 1 == 1 {
        super::sql_text::analysis_text(rest).into_owned()
    } else {
        sql_gen::statement(rest)
    };
    let target = &targets()[usize::from(target) % 6];
    plan_statement(&sql, target.as_ref());
}

/// Plans `sql` as the server does: bounds first, then the direct plan and the template path.
pub fn plan_statement(sql: &str, target: Option<&Target>) {
    if sql::bounds::check(sql, &StatementBounds::default()).is_err() {
        return;
    }
    let vs = vschema();
    let direct = plan(sql, vs, target);
    if let Ok(p) = &direct {
        let _ = crate::planner::describe(p);
    }
    let Some(p) = sql::parameterize(sql, sql::classify(sql)) else {
        return;
    };
    let literals: Vec<BoundLiteral<'_>> = p
        .literals
        .iter()
        .map(|l| BoundLiteral {
            raw: l.raw(sql),
            value: literal_value(sql, l),
        })
        .collect();
    let values: Vec<SqlValue> = literals.iter().map(|l| l.value.clone()).collect();
    let Ok(template) = plan_template(&p.template, &values, vs, target) else {
        return;
    };
    if let (Some(bound), Ok(direct)) = (bind(&template, &literals), direct) {
        assert_eq!(
            bound, direct,
            "the bound template plan differs from the plan of {sql:?}"
        );
    }
}

/// The VSchema loader: the input is one keyspace's JSON, loaded beside the example keyspaces
/// and, when valid, used to plan a few statements on its first table.
pub fn vschema_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ks) = KeyspaceSchema::parse("fz", text) else {
        return;
    };
    let commerce = KeyspaceSchema::parse("commerce", include_str!("../../vschema/commerce.json"))
        .expect("commerce vschema");
    let Ok(vs) = VSchema::build(vec![ks, commerce], BTreeMap::new()) else {
        return;
    };
    let Some(ks) = vs.keyspace("fz") else {
        return;
    };
    let Some(table) = ks.tables.keys().next().cloned() else {
        return;
    };
    let t = crate::sql::quote_ident(&table);
    let target = Target {
        keyspace: "fz".into(),
        shard: None,
    };
    for sql in [
        format!("select * from {t} where id = 1"),
        format!("select count(*) from {t} where id in (1, 'a', 2.5)"),
        format!("insert into {t} (id, name) values (1, 'a'), (null, 'b')"),
        format!("update {t} set name = 'x' where id = 3"),
        format!("delete from {t} where name = 'x'"),
    ] {
        let _ = plan(&sql, &vs, Some(&target));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::runner::Rng;

    /// The grammar reaches the planner's success paths, not only its refusals.
    #[test]
    fn generated_statements_mostly_plan() {
        let mut rng = Rng::new(16);
        let (mut ok, mut refused, mut other) = (0, 0, 0);
        let mut kinds = std::collections::BTreeMap::new();
        for _ in 0..400 {
            let data: Vec<u8> = (0..200).map(|_| rng.next_u64() as u8).collect();
            let sql = sql_gen::statement(&data);
            let target = &targets()[rng.below(6)];
            match plan(&sql, vschema(), target.as_ref()) {
                Ok(p) => {
                    ok += 1;
                    let k = format!("{:?}", p).chars().take(12).collect::<String>();
                    *kinds.entry(k).or_insert(0) += 1;
                }
                Err(crate::planner::PlanError::NotSupported(_)) => refused += 1,
                Err(e) => {
                    other += 1;
                    if std::env::var("SHOW").is_ok() {
                        eprintln!("{e} <- {sql}");
                    }
                }
            }
        }
        eprintln!("ok {ok} refused {refused} other {other} {kinds:?}");
        assert!(
            ok >= 100,
            "only {ok} of 400 planned ({refused} refused, {other} errors)"
        );
    }
}
