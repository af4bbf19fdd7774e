//! Views of a sharded keyspace: shardgate's `"views": {"name": "SELECT ..."}` key of a keyspace
//! file (not in Vitess, whose vtgate learns views by schema tracking and expands them as
//! derived tables). The proxy records each `CREATE VIEW` it ran on every shard of a sharded
//! keyspace there (see `server::views`), so `SELECT ... FROM v` can be planned.
//!
//! Every shard holds the view over its own rows. When the definition is a row-by-row filter
//! and projection of ONE table of the keyspace (no join, subquery, aggregate, window function,
//! DISTINCT, GROUP BY, HAVING, ORDER BY or LIMIT), the view's rows over all shards are exactly
//! the union of each shard's view, so the view is routed like a table of its base table's kind
//! with no vindex: a sharded base table scatters (and the planner merges as for any table), a
//! reference base table is read on one shard. Any other definition would need its rows merged
//! across shards first: the view keeps the reason, and a statement using it is refused (1235)
//! rather than answered wrong. A view over such a readable view is readable too. Only SELECT
//! reads views; writes through them are refused.

use super::keyspace::{TableKind, TableSchema};
use sqlparser::ast::{
    visit_expressions, visit_relations, Expr, GroupByExpr, ObjectNamePart, SetExpr, Statement,
    TableFactor,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// One recorded view.
#[derive(Debug, Clone)]
pub struct ViewSchema {
    /// The view name.
    pub name: String,
    /// Its SELECT as recorded.
    pub definition: String,
    /// How it routes: a table named as the view, of its base table's kind, without vindexes.
    pub table: TableSchema,
    /// Why it cannot be read across shards exactly (None: it can).
    pub refusal: Option<String>,
}

/// Aggregate functions: a view using one holds one row per group of a shard's rows.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "group_concat",
    "std",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "bit_and",
    "bit_or",
    "bit_xor",
    "json_arrayagg",
    "json_objectagg",
];

/// Builds the views of keyspace `keyspace` from their definitions.
pub(super) fn build_views(
    keyspace: &str,
    definitions: &BTreeMap<String, String>,
    tables: &BTreeMap<String, TableSchema>,
) -> BTreeMap<String, ViewSchema> {
    // A view over a readable view reads row by row too: its base resolves to the inner view's
    // routing table. Each pass settles one more level of nesting.
    let mut known: BTreeMap<String, TableSchema> = tables.clone();
    let mut results: BTreeMap<&String, Result<TableKind, String>> = BTreeMap::new();
    for _ in 0..=definitions.len().min(8) {
        let mut changed = false;
        for (name, definition) in definitions {
            if tables.contains_key(name) || matches!(results.get(name), Some(Ok(_))) {
                continue;
            }
            let outcome = analyze(keyspace, definition, &known);
            if let Ok(kind) = &outcome {
                known.insert(name.clone(), routing_table(keyspace, name, *kind));
                changed = true;
            }
            results.insert(name, outcome);
        }
        if !changed {
            break;
        }
    }
    definitions
        .iter()
        .map(|(name, definition)| {
            let outcome = results
                .remove(name)
                .unwrap_or_else(|| Err(format!("a table of keyspace {keyspace} is named {name}")));
            let (kind, refusal) = match outcome {
                Ok(kind) => (kind, None),
                Err(reason) => (TableKind::Normal, Some(reason)),
            };
            let view = ViewSchema {
                name: name.clone(),
                definition: definition.clone(),
                table: routing_table(keyspace, name, kind),
                refusal,
            };
            (name.clone(), view)
        })
        .collect()
}

/// The table a readable view routes as: its base table's kind, no vindexes.
fn routing_table(keyspace: &str, name: &str, kind: TableKind) -> TableSchema {
    TableSchema {
        name: name.to_string(),
        keyspace: keyspace.to_string(),
        kind,
        column_vindexes: Vec::new(),
        auto_increment: None,
        columns: Vec::new(),
        column_list_authoritative: false,
        pinned: None,
        source: None,
    }
}

/// The kind of the one base table when the definition reads row by row, else why not.
fn analyze(
    keyspace: &str,
    definition: &str,
    tables: &BTreeMap<String, TableSchema>,
) -> Result<TableKind, String> {
    let stmt = Parser::new(&MySqlDialect {})
        .with_recursion_limit(50)
        .try_with_sql(definition)
        .and_then(|mut p| p.parse_statement())
        .map_err(|e| format!("its definition does not parse: {e}"))?;
    let Statement::Query(query) = &stmt else {
        return Err("its definition is not a SELECT".into());
    };
    let merging = |what: &str| Err(format!("it has {what}"));
    if query.with.is_some() {
        return merging("a WITH clause");
    }
    if query.order_by.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return merging("ORDER BY or LIMIT");
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return merging("UNION, INTERSECT or EXCEPT");
    };
    if select.distinct.is_some() {
        return merging("DISTINCT");
    }
    let grouped = match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
    };
    if grouped || select.having.is_some() {
        return merging("GROUP BY or HAVING");
    }
    if !select.named_window.is_empty() {
        return merging("a WINDOW clause");
    }
    let mut relations = 0usize;
    let _ = visit_relations(&stmt, |_| {
        relations += 1;
        ControlFlow::<()>::Continue(())
    });
    let [from] = select.from.as_slice() else {
        return merging("more than one table");
    };
    if relations != 1 || !from.joins.is_empty() {
        return merging("more than one table");
    }
    let TableFactor::Table {
        name, args: None, ..
    } = &from.relation
    else {
        return merging("a derived table or table function");
    };
    let parts: Vec<&str> = name
        .0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    let base = match parts.as_slice() {
        [t] => *t,
        [ks, t] if *ks == keyspace => *t,
        _ => {
            return Err(format!(
                "it reads '{name}', not a table of keyspace {keyspace}"
            ))
        }
    };
    let mut found = None;
    let _ = visit_expressions(&stmt, |e| {
        if let Expr::Function(f) = e {
            let fname = f.name.to_string().to_ascii_lowercase();
            if f.over.is_some() {
                found = Some(format!("the window function {fname}"));
                return ControlFlow::Break(());
            }
            if AGGREGATES.contains(&fname.as_str()) {
                found = Some(format!("the aggregate {fname}"));
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    if let Some(what) = found {
        return merging(&what);
    }
    let table = tables.get(base).ok_or_else(|| {
        format!("its table '{base}' is not in the VSchema of keyspace {keyspace}")
    })?;
    if table.pinned.is_some() || table.kind == TableKind::Sequence {
        return Err(format!("its table '{base}' is pinned or a sequence"));
    }
    Ok(table.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> BTreeMap<String, TableSchema> {
        let t = |name: &str, kind| TableSchema {
            name: name.into(),
            keyspace: "customer".into(),
            kind,
            column_vindexes: Vec::new(),
            auto_increment: None,
            columns: Vec::new(),
            column_list_authoritative: false,
            pinned: None,
            source: None,
        };
        BTreeMap::from([
            ("user".to_string(), t("user", TableKind::Normal)),
            ("zip".to_string(), t("zip", TableKind::Reference)),
        ])
    }

    fn kind(def: &str) -> Result<TableKind, String> {
        analyze("customer", def, &tables())
    }

    #[test]
    fn row_by_row_views_route_as_their_table() {
        for def in [
            "SELECT id, name FROM user WHERE id > 3",
            "select u.id, upper(u.name) AS n FROM customer.user AS u",
            "SELECT * FROM user WHERE name IN ('a', 'b')",
        ] {
            assert_eq!(kind(def), Ok(TableKind::Normal), "{def}");
        }
        assert_eq!(kind("SELECT code FROM zip"), Ok(TableKind::Reference));
    }

    #[test]
    fn views_over_views_read_row_by_row_too() {
        let defs = BTreeMap::from([
            ("a".to_string(), "SELECT id FROM b WHERE id > 1".to_string()),
            ("b".to_string(), "SELECT id, name FROM user".to_string()),
            ("c".to_string(), "SELECT id FROM counts".to_string()),
            (
                "counts".to_string(),
                "SELECT COUNT(*) AS n FROM user".to_string(),
            ),
            ("loop1".to_string(), "SELECT id FROM loop2".to_string()),
            ("loop2".to_string(), "SELECT id FROM loop1".to_string()),
        ]);
        let views = build_views("customer", &defs, &tables());
        assert!(views["a"].refusal.is_none(), "{:?}", views["a"].refusal);
        assert_eq!(views["a"].table.kind, TableKind::Normal);
        for refused in ["c", "counts", "loop1", "loop2"] {
            assert!(views[refused].refusal.is_some(), "{refused}");
        }
    }

    #[test]
    fn views_that_would_need_merging_are_refused() {
        for def in [
            "SELECT COUNT(*) FROM user",
            "SELECT name, max(id) FROM user GROUP BY name",
            "SELECT DISTINCT name FROM user",
            "SELECT id FROM user ORDER BY id LIMIT 3",
            "SELECT id FROM user UNION SELECT code FROM zip",
            "SELECT u.id FROM user u JOIN zip z ON 1 = 1",
            "SELECT id FROM user WHERE id IN (SELECT code FROM zip)",
            "SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM user",
            "SELECT * FROM (SELECT id FROM user) d",
            "SELECT id FROM other.user",
            "SELECT id FROM nowhere",
            "WITH c AS (SELECT id FROM user) SELECT id FROM c",
            "SELECT 1",
        ] {
            assert!(kind(def).is_err(), "{def}");
        }
    }
}
