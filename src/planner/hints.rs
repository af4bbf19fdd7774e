//! Vindex hints steering route selection ([`crate::sql::vindex_hints`] finds them and blanks
//! them out of the text the planner parses).
//!
//! A hint applies to the table instances qualified by the name it follows (the alias, else the
//! table name; exact case first, else ignoring case, as column qualifiers are matched):
//! `USE VINDEX (a, b)` lets only `a` or `b` route the table, `IGNORE VINDEX (a)` never `a`. A
//! hint changes which shards are asked, never the answer: with no allowed vindex usable the
//! table scatters. A name that is no vindex of any keyspace is refused (1105), so a typo does
//! not silently scatter.

use super::scope::Analysis;
use super::{Ctx, PlanError};

/// Refuses hints naming vindexes that no keyspace defines.
pub(crate) fn check(ctx: &Ctx<'_>) -> Result<(), PlanError> {
    for hint in ctx.hints {
        for name in &hint.vindexes {
            let known = ctx
                .vschema
                .keyspaces()
                .any(|k| k.vindexes.keys().any(|v| v.eq_ignore_ascii_case(name)));
            if !known {
                return Err(PlanError::UnknownVindex(name.clone()));
            }
        }
    }
    Ok(())
}

/// Whether vindex `vindex` may route instance `inst` under the statement's hints.
pub(crate) fn allows(ctx: &Ctx<'_>, a: &Analysis<'_, '_>, inst: usize, vindex: &str) -> bool {
    if ctx.hints.is_empty() {
        return true;
    }
    let Some(instance) = a.instances.get(inst) else {
        return true;
    };
    let qualifier = instance.qualifier();
    let exact = ctx.hints.iter().any(|h| h.table == qualifier);
    ctx.hints
        .iter()
        .filter(|h| {
            if exact {
                h.table == qualifier
            } else {
                h.table.eq_ignore_ascii_case(qualifier)
            }
        })
        .all(|h| {
            let listed = h.vindexes.iter().any(|v| v.eq_ignore_ascii_case(vindex));
            listed != h.ignore
        })
}

#[cfg(test)]
mod tests {
    use crate::planner::tests::test_vschema;
    use crate::planner::{describe, plan, PlanError};

    fn route(q: &str) -> (String, String) {
        let p = plan(q, &test_vschema(), None).unwrap_or_else(|e| panic!("{q}: {e}"));
        let d = describe(&p);
        (
            d["Variant"].as_str().unwrap_or("").to_string(),
            d["Vindex"].as_str().unwrap_or("").to_string(),
        )
    }

    #[test]
    fn hints_pick_and_forbid_vindexes() {
        let both = "WHERE id = 1 AND phone = 5";
        assert_eq!(
            route(&format!("SELECT id FROM user {both}")),
            ("EqualUnique".into(), "hash".into())
        );
        assert_eq!(
            route(&format!("SELECT id FROM user USE VINDEX (xxhash) {both}")),
            ("EqualUnique".into(), "xxhash".into())
        );
        assert_eq!(
            route(&format!(
                "SELECT id FROM user AS u IGNORE VINDEX (hash) {both}"
            )),
            ("EqualUnique".into(), "xxhash".into())
        );
        assert_eq!(
            route("SELECT id FROM user IGNORE VINDEX (hash, xxhash) WHERE id = 1 AND phone = 5").0,
            "Scatter"
        );
        // USE of a vindex the predicates cannot use: nothing else may route.
        assert_eq!(
            route("SELECT id FROM user u USE VINDEX (xxhash) WHERE u.id = 1").0,
            "Scatter"
        );
        // A hint on one instance leaves another instance of the table alone.
        assert_eq!(
            route("SELECT id FROM user WHERE id = 1 AND id IN (SELECT u.id FROM user u IGNORE VINDEX (hash) WHERE u.id = 1)").1,
            "hash"
        );
    }

    #[test]
    fn unknown_vindex_is_refused() {
        let err = plan(
            "SELECT id FROM user USE VINDEX (no_such) WHERE id = 1",
            &test_vschema(),
            None,
        )
        .expect_err("unknown vindex");
        assert_eq!(err, PlanError::UnknownVindex("no_such".into()));
        assert_eq!(err.mysql_code().0, 1105);
    }
}
