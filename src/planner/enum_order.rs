//! ORDER BY `MIN()`/`MAX()` of an ENUM or SET column across shards. MariaDB orders such an
//! aggregate by the member's index, but the shards' column definitions of the aggregate carry
//! no ENUM/SET flag, so the merge (which sorts ENUM/SET columns by member when their definition
//! says so, see `exec::select`) would sort it as text. The planner knows the column's type from
//! the column facts (`crate::schema_facts`), and refuses the statement instead of answering in
//! the wrong order. Unknown facts leave the statement as it was.

use super::scope::Analysis;
use super::Ctx;
use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

/// Whether `e` is `MIN(col)` or `MAX(col)` of a column the column facts type as ENUM or SET
/// in one of the statement's tables.
pub(crate) fn min_max_of_member_column(ctx: &Ctx<'_>, a: &Analysis<'_, '_>, e: &Expr) -> bool {
    let Expr::Function(f) = e else {
        return false;
    };
    let name = f.name.to_string();
    if !(name.eq_ignore_ascii_case("min") || name.eq_ignore_ascii_case("max")) {
        return false;
    }
    let FunctionArguments::List(list) = &f.args else {
        return false;
    };
    let column = match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(id)))] => &id.value,
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::CompoundIdentifier(parts)))] => {
            match parts.last() {
                Some(id) => &id.value,
                None => return false,
            }
        }
        _ => return false,
    };
    let facts = ctx.vschema.column_facts();
    a.scopes.first().is_some_and(|s| {
        s.tables
            .iter()
            .filter_map(|&t| a.instances.get(t))
            .any(|i| {
                facts
                    .column(&i.res.keyspace.name, &i.res.name, column)
                    .is_some_and(|c| matches!(c.data_type.as_str(), "enum" | "set"))
            })
    })
}

#[cfg(test)]
mod tests {
    use crate::planner::plan;
    use crate::planner::tests::{test_vschema, with_column};

    #[test]
    fn order_by_min_max_of_an_enum_column_is_refused_across_shards() {
        let vs = with_column(
            &test_vschema(),
            "user",
            "tier",
            "enum",
            Some("utf8mb4_general_ci"),
        );
        for q in [
            "SELECT name, MAX(tier) AS a1 FROM user GROUP BY name ORDER BY a1",
            "SELECT name, MIN(tier) FROM user GROUP BY name ORDER BY MIN(tier) DESC",
            "SELECT name FROM user GROUP BY name ORDER BY MAX(user.tier)",
        ] {
            let err = crate::planner::plan_routed(q, &vs, None).expect_err(q);
            assert!(err.to_string().contains("ENUM or SET"), "{q}: {err}");
            // (Answered over copies instead, where MariaDB orders the ENUM itself.)
            assert!(matches!(
                plan(q, &vs, None),
                Ok(crate::planner::Plan::Materialize(_))
            ));
        }
        // Other columns, and facts that do not know the column, plan as before.
        let varchar = with_column(&test_vschema(), "user", "tier", "varchar", None);
        let q = "SELECT name, MAX(tier) AS a1 FROM user GROUP BY name ORDER BY a1";
        assert!(plan(q, &varchar, None).is_ok());
        assert!(plan(q, &test_vschema(), None).is_ok());
    }
}
