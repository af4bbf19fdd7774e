//! Table resolution: which keyspace (and VSchema table) each table name of a statement means,
//! and which keyspace the whole statement runs in.
//!
//! * `ks.t`: keyspace `ks` (an unknown keyspace is [`PlanError::UnknownTable`]).
//! * `t` with a target keyspace: that keyspace; but when the target is sharded and does not
//!   list `t`, the keyspace the VSchema's global names give it ([`VSchema::find_table`]: the
//!   only keyspace listing it; several → [`PlanError::AmbiguousTable`]). Without a target: the
//!   global names; failing that the only keyspace when it is unsharded; else
//!   [`PlanError::NoDatabase`]. An unsharded target keeps every name it does not list (Vitess
//!   presumes such tables exist there), so only a sharded target, where the name would be an
//!   error, falls back to the global names.
//!
//! [`global_keyspace`] gives the server the same answer for a statement without qualifiers
//! and without a target, so the passthrough routing and the planner agree.
//! * A sharded keyspace must list the table (else [`PlanError::UnknownTable`]); an unsharded one
//!   runs any table.
//!
//! [`decide`] then looks at every table of the statement: all in one unsharded keyspace →
//! passthrough; otherwise every table must be in one sharded keyspace, where reference tables
//! are on every shard. An unqualified name resolved to an unsharded keyspace is replaced by the
//! sharded keyspace's reference copy of it when there is one (Vitess does the same); any other
//! mix of keyspaces is refused.

use super::{not_supported, unsupported, Ctx, PlanError};
use crate::vschema::{FindTableError, KeyspaceSchema, TableKind, TableSchema, VSchema};
use sqlparser::ast::{visit_relations, ObjectName, ObjectNamePart};
use std::ops::ControlFlow;

/// A table name resolved against the VSchema.
#[derive(Debug, Clone)]
pub(crate) struct Resolved<'a> {
    /// The keyspace it lives in.
    pub keyspace: &'a KeyspaceSchema,
    /// The VSchema table; None for a table an unsharded keyspace does not list.
    pub table: Option<&'a TableSchema>,
    /// The table name as written.
    pub name: String,
    /// Written as `ks.t`.
    pub qualified: bool,
}

/// How a resolved table takes part in routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A table of an unsharded keyspace.
    Unsharded,
    /// A reference table of a sharded keyspace (a copy on every shard).
    Reference,
    /// A table spread over shards by its primary vindex.
    Sharded,
}

impl<'a> Resolved<'a> {
    /// The role of the table.
    pub fn role(&self) -> Role {
        match self.table {
            _ if !self.keyspace.sharded => Role::Unsharded,
            Some(t) if t.kind == TableKind::Reference => Role::Reference,
            _ => Role::Sharded,
        }
    }

    /// `ks.t` for messages.
    pub fn display(&self) -> String {
        format!("{}.{}", self.keyspace.name, self.name)
    }
}

/// Whether `name` is `dual` (no table).
pub(crate) fn is_dual(name: &ObjectName) -> bool {
    matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case("dual"))
}

/// The identifier parts of a name, or an error for function parts.
pub(crate) fn name_parts(name: &ObjectName) -> Result<Vec<String>, PlanError> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
            ObjectNamePart::Function(_) => unsupported(format!("table name '{name}'")),
        })
        .collect()
}

/// Resolves one table name.
pub(crate) fn resolve<'a>(ctx: &Ctx<'a>, name: &ObjectName) -> Result<Resolved<'a>, PlanError> {
    let parts = name_parts(name)?;
    match parts.as_slice() {
        [ks, table] => {
            let keyspace = ctx
                .vschema
                .keyspace(ks)
                .ok_or_else(|| PlanError::UnknownTable {
                    keyspace: ks.clone(),
                    table: table.clone(),
                })?;
            in_keyspace_or_view(ctx, keyspace, table, true)
        }
        [table] => resolve_unqualified(ctx, table),
        _ => unsupported(format!("table name '{name}' with more than two parts")),
    }
}

fn resolve_unqualified<'a>(ctx: &Ctx<'a>, table: &str) -> Result<Resolved<'a>, PlanError> {
    if let Some(target) = ctx.target {
        let keyspace = ctx
            .vschema
            .keyspace(&target.keyspace)
            .ok_or(PlanError::NoDatabase)?;
        if keyspace.sharded && keyspace.table(table).is_none() && keyspace.view(table).is_none() {
            // Global routing: a name the target does not list, unique across keyspaces.
            match ctx.vschema.find_table(table) {
                Ok((other, _)) => return in_keyspace(other, table, false),
                Err(FindTableError::Ambiguous { table, keyspaces }) => {
                    return Err(PlanError::AmbiguousTable { table, keyspaces })
                }
                Err(_) => {}
            }
        }
        return in_keyspace_or_view(ctx, keyspace, table, false);
    }
    match ctx.vschema.find_table(table) {
        Ok((keyspace, _)) => in_keyspace(keyspace, table, false),
        Err(FindTableError::Ambiguous { table, keyspaces }) => {
            Err(PlanError::AmbiguousTable { table, keyspaces })
        }
        Err(_) => match ctx.vschema.sole_unsharded_keyspace() {
            Some(keyspace) => in_keyspace(keyspace, table, false),
            None => Err(PlanError::NoDatabase),
        },
    }
}

/// [`in_keyspace`], but a name a sharded keyspace lists as a view (see
/// [`crate::vschema::views`]) resolves to the view's routing table: in a SELECT only, and
/// only when its definition reads row by row (else 1235 with the reason).
fn in_keyspace_or_view<'a>(
    ctx: &Ctx<'a>,
    keyspace: &'a KeyspaceSchema,
    table: &str,
    qualified: bool,
) -> Result<Resolved<'a>, PlanError> {
    let view = match keyspace.view(table) {
        Some(v) if keyspace.sharded && keyspace.table(table).is_none() => v,
        _ => return in_keyspace(keyspace, table, qualified),
    };
    if let Some(reason) = &view.refusal {
        return unsupported(format!(
            "view {}.{table} on a sharded keyspace ({reason}) would need its rows merged across shards; it is not supported",
            keyspace.name
        ));
    }
    if crate::sql::classify(ctx.sql) != crate::sql::StatementKind::Select {
        return unsupported(format!(
            "writing through view {}.{table} on a sharded keyspace is not supported",
            keyspace.name
        ));
    }
    Ok(Resolved {
        keyspace,
        table: Some(&view.table),
        name: table.to_string(),
        qualified,
    })
}

fn in_keyspace<'a>(
    keyspace: &'a KeyspaceSchema,
    table: &str,
    qualified: bool,
) -> Result<Resolved<'a>, PlanError> {
    let t = keyspace.table(table);
    if keyspace.sharded && t.is_none() {
        return Err(PlanError::UnknownTable {
            keyspace: keyspace.name.clone(),
            table: table.to_string(),
        });
    }
    if let Some(t) = t {
        if keyspace.sharded && t.pinned.is_some() {
            return unsupported(format!(
                "pinned table {}.{} is not supported yet",
                keyspace.name, table
            ));
        }
    }
    Ok(Resolved {
        keyspace,
        table: t,
        name: table.to_string(),
        qualified,
    })
}

/// Where a statement runs, from all of its tables.
#[derive(Debug)]
pub(crate) enum Decision<'a> {
    /// Every table is in this unsharded keyspace.
    Passthrough(&'a KeyspaceSchema),
    /// The statement runs in this sharded keyspace.
    Sharded(&'a KeyspaceSchema),
}

/// Decides the keyspace of a statement and replaces unqualified unsharded tables by the sharded
/// keyspace's reference copies (see the module docs). `tables` must not be empty.
pub(crate) fn decide<'a>(tables: &mut [Resolved<'a>]) -> Result<Decision<'a>, PlanError> {
    let sharded = tables
        .iter()
        .find(|t| t.keyspace.sharded)
        .map(|t| t.keyspace);
    let Some(sharded) = sharded else {
        let first = tables
            .first()
            .ok_or_else(|| not_supported("a statement without tables"))?;
        if let Some(other) = tables
            .iter()
            .find(|t| t.keyspace.name != first.keyspace.name)
        {
            return unsupported(format!(
                "cross-keyspace query between {} and {} is not supported",
                first.display(),
                other.display()
            ));
        }
        return Ok(Decision::Passthrough(first.keyspace));
    };
    let anchor = tables
        .iter()
        .find(|t| t.keyspace.sharded && t.role() == Role::Sharded)
        .or_else(|| tables.iter().find(|t| t.keyspace.sharded))
        .map(Resolved::display)
        .unwrap_or_default();
    for t in tables.iter_mut() {
        if t.keyspace.name == sharded.name {
            continue;
        }
        match reference_copy(sharded, t) {
            Some(copy) if !t.qualified => {
                *t = Resolved {
                    keyspace: sharded,
                    table: Some(copy),
                    name: t.name.clone(),
                    qualified: false,
                }
            }
            _ => {
                let what = if t.keyspace.sharded {
                    "cross-keyspace query"
                } else {
                    "query mixing a sharded and an unsharded keyspace"
                };
                return unsupported(format!(
                    "{what} between {anchor} and {} is not supported",
                    t.display()
                ));
            }
        }
    }
    Ok(Decision::Sharded(sharded))
}

/// The reference table of `sharded` that copies `t` (same name, source `t`'s keyspace).
fn reference_copy<'a>(sharded: &'a KeyspaceSchema, t: &Resolved<'_>) -> Option<&'a TableSchema> {
    if t.keyspace.sharded {
        return None;
    }
    let copy = sharded.table(&t.name)?;
    let source = copy.source.as_ref()?;
    let from_keyspace = source.keyspace.as_deref() == Some(t.keyspace.name.as_str());
    (copy.kind == TableKind::Reference && source.table == t.name && from_keyspace).then_some(copy)
}

/// The keyspace a statement without keyspace qualifiers and without a session keyspace runs
/// in, by the global names of its unqualified tables (see [`resolve`]): a sharded keyspace when
/// any table is in one (the planner then decides), else the one unsharded keyspace they are in.
/// `Ok(None)` when no table name is known globally or the text does not parse (the caller then
/// keeps its default). Errors: an ambiguous name (1105); tables in several unsharded keyspaces
/// (1235).
///
/// The statement is parsed only when one of its identifiers is a global name that is not a
/// table of `default` (the caller's default keyspace): a statement on the default keyspace's
/// tables costs one token scan, as before.
pub fn global_keyspace(
    sql: &str,
    vschema: &VSchema,
    default: Option<&str>,
) -> Result<Option<String>, PlanError> {
    let elsewhere = crate::sql::tokenize(sql).iter().any(|t| {
        matches!(
            t.kind,
            crate::sql::TokenKind::Ident | crate::sql::TokenKind::QuotedIdent
        ) && match vschema.find_table(&t.ident_value(sql)) {
            Ok((ks, _)) => Some(ks.name.as_str()) != default,
            Err(FindTableError::Ambiguous { .. }) => true,
            Err(_) => false,
        }
    });
    if !elsewhere {
        return Ok(None);
    }
    let (sql, _) = crate::sql::vindex_hints::strip(sql);
    let Ok(stmt) = super::parse(&sql) else {
        return Ok(None);
    };
    let mut found: Vec<&KeyspaceSchema> = Vec::new();
    let mut error = None;
    let _ = visit_relations(&stmt, |name| {
        if let Ok(parts) = name_parts(name) {
            if let [table] = parts.as_slice() {
                match vschema.find_table(table) {
                    Ok((ks, _)) => {
                        if !found.iter().any(|k| k.name == ks.name) {
                            found.push(ks);
                        }
                    }
                    Err(FindTableError::Ambiguous { table, keyspaces }) => {
                        error.get_or_insert(PlanError::AmbiguousTable { table, keyspaces });
                    }
                    Err(_) => {}
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if let Some(e) = error {
        return Err(e);
    }
    if let Some(sharded) = found.iter().find(|k| k.sharded) {
        return Ok(Some(sharded.name.clone()));
    }
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.name.clone())),
        [a, b, ..] => unsupported(format!(
            "cross-keyspace query between {} and {} is not supported",
            a.name, b.name
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::global_keyspace;
    use crate::planner::tests::test_vschema;
    use crate::planner::{describe, plan, PlanError};
    use crate::session::Target;

    fn customer() -> Target {
        Target {
            keyspace: "customer".into(),
            shard: None,
        }
    }

    #[test]
    fn a_sharded_target_falls_back_to_global_names() {
        let vs = test_vschema();
        let t = customer();
        // `t1` is listed only by `other`.
        let p = plan("SELECT * FROM t1 WHERE id = 1", &vs, Some(&t)).expect("global t1");
        let d = describe(&p);
        assert_eq!(d["Keyspace"]["Name"], "other", "{d}");
        assert_eq!(d["Variant"], "EqualUnique", "{d}");
        // `product` is listed by commerce and other: ambiguous.
        let err = plan("SELECT * FROM product", &vs, Some(&t)).expect_err("ambiguous");
        assert!(matches!(err, PlanError::AmbiguousTable { .. }), "{err}");
        // Listed nowhere: still unknown in the target.
        let err = plan("SELECT * FROM nowhere", &vs, Some(&t)).expect_err("unknown");
        assert!(matches!(err, PlanError::UnknownTable { .. }), "{err}");
        // The target's own table wins.
        let p = plan("SELECT * FROM user WHERE id = 1", &vs, Some(&t)).expect("user");
        assert_eq!(describe(&p)["Keyspace"]["Name"], "customer");
    }

    /// The test VSchema with views recorded in `customer`.
    fn with_views() -> crate::vschema::VSchema {
        let vs = test_vschema();
        let mut raw = vs.keyspace("customer").expect("customer").raw.clone();
        raw["views"] = serde_json::json!({
            "v": "SELECT id, name FROM user WHERE id > 2",
            "vz": "SELECT * FROM zip",
            "counts": "SELECT name, COUNT(*) AS n FROM user GROUP BY name"
        });
        let ks = crate::vschema::KeyspaceSchema::from_value("customer", raw).expect("views load");
        vs.with_keyspace(ks).expect("vschema")
    }

    #[test]
    fn views_route_as_their_base_table_or_are_refused() {
        let vs = with_views();
        let t = customer();
        let d = describe(&plan("SELECT id FROM v WHERE name = 'a'", &vs, Some(&t)).expect("v"));
        assert_eq!(d["Variant"], "Scatter", "{d}");
        assert_eq!(d["Keyspace"]["Name"], "customer", "{d}");
        let d = describe(&plan("SELECT COUNT(*) FROM customer.v", &vs, None).expect("count"));
        assert!(d.to_string().contains("Scatter"), "{d}");
        let d = describe(&plan("SELECT * FROM vz", &vs, Some(&t)).expect("vz"));
        assert_ne!(d["Variant"], "Scatter", "{d}");
        // A view has no vindex: never co-located with a sharded table by one.
        for q in [
            "SELECT v.id FROM v JOIN user u ON v.id = u.id WHERE u.id = 1",
            "SELECT id FROM user WHERE id IN (SELECT id FROM v)",
        ] {
            if let Ok(p) = plan(q, &vs, Some(&t)) {
                let d = describe(&p).to_string();
                assert!(!d.contains("EqualUnique"), "{q}: {d}");
            }
        }
        let d = describe(&plan("SELECT * FROM v JOIN zip ON 1 = 1", &vs, Some(&t)).expect("ref"));
        assert_eq!(d["Variant"], "Scatter", "{d}");
        for (q, what) in [
            ("SELECT * FROM counts", "merged across shards"),
            ("UPDATE v SET name = 'x'", "writing through view"),
            ("DELETE FROM v", "writing through view"),
        ] {
            let err = plan(q, &vs, Some(&t)).expect_err(q);
            assert!(err.to_string().contains(what), "{q}: {err}");
            assert_eq!(err.mysql_code().0, 1235, "{q}");
        }
    }

    #[test]
    fn global_keyspace_agrees_with_the_planner() {
        let vs = test_vschema();
        let ks = |q: &str| global_keyspace(q, &vs, None);
        assert_eq!(ks("SELECT * FROM user").unwrap(), Some("customer".into()));
        assert_eq!(
            ks("select * from t1 use vindex (hash)").unwrap(),
            Some("other".into())
        );
        // A reference copy steps aside for its unsharded source.
        assert_eq!(
            ks("SELECT * FROM country").unwrap(),
            Some("commerce".into())
        );
        // The sharded keyspace decides; the planner then replaces the reference copy.
        assert_eq!(
            ks("SELECT * FROM user JOIN country ON 1 = 1").unwrap(),
            Some("customer".into())
        );
        assert_eq!(
            ks("DELETE FROM user WHERE id = 1").unwrap(),
            Some("customer".into())
        );
        assert_eq!(ks("SELECT * FROM unknown_t").unwrap(), None);
        assert_eq!(ks("SELECT 1").unwrap(), None);
        assert_eq!(ks("not sql at all").unwrap(), None);
        assert!(matches!(
            ks("SELECT * FROM product"),
            Err(PlanError::AmbiguousTable { .. })
        ));
        // Only the default keyspace's names: not parsed, the default stays.
        assert_eq!(
            global_keyspace("SELECT * FROM country", &vs, Some("commerce")).unwrap(),
            None
        );
        assert_eq!(
            global_keyspace("SELECT user FROM country", &vs, Some("commerce")).unwrap(),
            Some("commerce".into()),
            "a column named like a table is parsed out"
        );
        // The planner resolves each of these the same way without a target.
        for q in [
            "SELECT * FROM user",
            "SELECT * FROM t1",
            "SELECT * FROM country",
        ] {
            let p = plan(q, &vs, None).expect(q);
            let d = describe(&p);
            let name = d["Keyspace"]["Name"]
                .as_str()
                .or(d["Keyspace"].as_str())
                .map(str::to_string);
            let expected = ks(q).unwrap();
            assert!(
                name == expected || d.to_string().contains(expected.as_deref().unwrap_or("?")),
                "{q}: {d}"
            );
        }
    }
}
