//! Lookup vindexes in UPDATE and DELETE: what the executor must read before the statement
//! runs, so it can delete (and for UPDATE re-create) the rows' owned lookup rows, and check
//! that a new value of an unowned lookup's column maps to every changed row.
//!
//! The read is the statement's own WHERE / ORDER BY / LIMIT (copied from the text) under
//! `SELECT … FOR UPDATE`, which also reads each row's primary key; the statement then runs as
//! its text before the WHERE (`head`) with `WHERE <pk> IN (<the keys read>)`, so the rows it
//! changes are the rows read even when the WHERE is not deterministic (`RAND()`, LIMIT
//! without ORDER BY, rows other sessions insert under READ COMMITTED). An UPDATE only
//! maintains the lookups whose columns it assigns, and only with literal or `?` values (an
//! expression's new value is not known before the shard computes it; refused with 1235).

use super::plan::{DmlLookups, InList, NewValue, OwnedLookup, QueryTemplate, RouteValue};
use super::scope::Analysis;
use super::{not_supported, unsupported, Ctx, PlanError};
use crate::sql::{quote_ident, TokenKind};
use sqlparser::ast::Expr;

/// The lookups an UPDATE (`assigned` = its `SET column = value` pairs) or DELETE (`assigned`
/// = None) of an owner table maintains; None when the statement changes no lookup row.
pub(crate) fn dml_lookups(
    ctx: &Ctx<'_>,
    a: &Analysis<'_, '_>,
    assigned: Option<&[(String, &Expr)]>,
    in_list: Option<&InList>,
    verb: &str,
) -> Result<Option<DmlLookups>, PlanError> {
    let targets: Vec<usize> = (0..a.instances.len())
        .filter(|&i| a.instances[i].scope == 0)
        .collect();
    let owning: Vec<usize> = targets
        .iter()
        .copied()
        .filter(|&i| {
            let res = &a.instances[i].res;
            res.table.is_some_and(|t| {
                t.owned_vindexes().next().is_some()
                    || assigned.is_some_and(|pairs| {
                        ks_unowned_first_columns(res.keyspace, t)
                            .any(|c| pairs.iter().any(|(p, _)| *p == c))
                    })
            })
        })
        .collect();
    let Some(&inst) = owning.first() else {
        return Ok(None);
    };
    let res = &a.instances[inst].res;
    let (ks, Some(table)) = (res.keyspace, res.table) else {
        return Ok(None);
    };
    if targets.len() > 1 {
        return unsupported(format!(
            "multi-table {verb} involving {}, which owns lookup vindexes",
            res.display()
        ));
    }
    let mut owned = Vec::new();
    let mut verified = Vec::new();
    for (cv, v) in ks.column_vindexes(table) {
        let Some(params) = v.lookup() else {
            continue;
        };
        if !cv.owned {
            // Unowned: only an UPDATE of its first (the routing) column needs a check.
            let Some(pairs) = assigned else { continue };
            let Some(first) = cv.columns.first() else {
                continue;
            };
            let Some((_, expr)) = pairs.iter().find(|(p, _)| p == first) else {
                continue;
            };
            let mut new_values = vec![None; cv.columns.len()];
            new_values[0] = Some(new_value(ctx, first, expr, &res.display())?);
            verified.push(OwnedLookup {
                vindex: cv.vindex.clone(),
                columns: cv.columns.clone(),
                new_values,
            });
            continue;
        }
        let new_values = match assigned {
            None => {
                check_kind(params, &cv.vindex, &res.display())?;
                Vec::new()
            }
            Some(pairs) => {
                if !cv.columns.iter().any(|c| pairs.iter().any(|(p, _)| p == c)) {
                    continue;
                }
                check_kind(params, &cv.vindex, &res.display())?;
                let mut values = Vec::with_capacity(cv.columns.len());
                for col in &cv.columns {
                    let Some((_, expr)) = pairs.iter().find(|(p, _)| p == col) else {
                        values.push(None);
                        continue;
                    };
                    values.push(Some(new_value(ctx, col, expr, &res.display())?));
                }
                values
            }
        };
        owned.push(OwnedLookup {
            vindex: cv.vindex.clone(),
            columns: cv.columns.clone(),
            new_values,
        });
    }
    if owned.is_empty() && verified.is_empty() {
        return Ok(None);
    }
    let primary = table
        .primary_vindex()
        .ok_or_else(|| not_supported(format!("table {} has no primary vindex", res.display())))?;
    let mut from = if res.qualified {
        format!("{}.{}", quote_ident(&ks.name), quote_ident(&res.name))
    } else {
        quote_ident(&res.name)
    };
    if let Some(alias) = &a.instances[inst].alias {
        from.push_str(" AS ");
        from.push_str(&quote_ident(alias));
    }
    let start = tail_start(ctx, assigned.is_some());
    let tail_sql = ctx
        .sql
        .get(start..)
        .unwrap_or("")
        .trim_end()
        .trim_end_matches(';');
    let tail_in_list = in_list.and_then(|l| {
        (l.span.0 >= start).then(|| InList {
            span: (l.span.0 - start, l.span.1 - start),
            items: l
                .items
                .iter()
                .map(|(s, e)| (s - start, e - start))
                .collect(),
        })
    });
    let first_param = ctx
        .text
        .tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Param && t.start < start)
        .count();
    let head = ctx.sql.get(..start).unwrap_or("").trim_end();
    let head = if start >= ctx.sql.len() {
        head.trim_end_matches(';').trim_end()
    } else {
        head
    };
    let (order_by, order_by_first_param) = match order_by_range(ctx, start) {
        Some((s, e)) => (
            ctx.sql.get(s..e).unwrap_or("").trim_end().to_string(),
            ctx.text
                .tokens
                .iter()
                .filter(|t| t.kind == TokenKind::Param && t.start < s)
                .count(),
        ),
        None => (String::new(), 0),
    };
    Ok(Some(DmlLookups {
        order_by,
        order_by_first_param,
        table: from,
        owner_table: res.name.clone(),
        head: head.to_string(),
        primary_vindex: primary.vindex.clone(),
        primary_columns: primary.columns.clone(),
        owned,
        verified,
        tail: QueryTemplate {
            sql: tail_sql.to_string(),
            in_list: tail_in_list,
            limit_slot: None,
        },
        tail_first_param: first_param,
    }))
}

/// The first columns of the table's unowned lookup vindexes.
fn ks_unowned_first_columns<'t>(
    ks: &'t crate::vschema::KeyspaceSchema,
    table: &'t crate::vschema::TableSchema,
) -> impl Iterator<Item = String> + 't {
    ks.column_vindexes(table)
        .filter(|(cv, v)| !cv.owned && v.lookup().is_some())
        .filter_map(|(cv, _)| cv.columns.first().cloned())
}

/// The new value an UPDATE assigns to lookup vindex column `col`: a literal or `?` (anything
/// else is refused: its value is not known before the shard computes it).
fn new_value(ctx: &Ctx<'_>, col: &str, expr: &Expr, table: &str) -> Result<NewValue, PlanError> {
    let value = ctx.text.route_value(expr).ok_or_else(|| {
        not_supported(format!(
            "UPDATE of lookup vindex column '{col}' of {table} with a non-literal value ({expr})"
        ))
    })?;
    let sql = match &value {
        RouteValue::Param(_) => "?".to_string(),
        RouteValue::Literal(_) => ctx
            .text
            .literal_range(expr)
            .map(|r| ctx.text.slice(r).to_string())
            .ok_or_else(|| {
                not_supported(format!(
                    "UPDATE of lookup vindex column '{col}' without an exact literal"
                ))
            })?,
    };
    Ok(NewValue { value, sql })
}

/// The identifier tokens at parenthesis depth 0 from byte `from` on, with their text.
fn top_level_words<'a>(
    ctx: &'a Ctx<'_>,
    from: usize,
) -> impl Iterator<Item = (&'a crate::sql::Token, &'a str)> + 'a {
    let sql = ctx.sql;
    let mut depth = 0i32;
    ctx.text
        .tokens
        .iter()
        .filter(move |t| t.start >= from)
        .filter(move |t| {
            if t.kind == TokenKind::Punct {
                match t.text(sql) {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    _ => {}
                }
                return false;
            }
            t.kind == TokenKind::Ident && depth == 0
        })
        .map(move |t| (t, t.text(sql)))
}

/// Byte offset where the statement's WHERE (else ORDER BY, else LIMIT) begins, at nesting
/// depth 0 and, for UPDATE, after SET; the text's end when it has none of them.
pub(crate) fn tail_start(ctx: &Ctx<'_>, is_update: bool) -> usize {
    let sql = ctx.sql;
    let mut after_set = !is_update;
    let mut fallback = None;
    for (t, word) in top_level_words(ctx, 0) {
        if word.eq_ignore_ascii_case("set") {
            after_set = true;
        } else if after_set && word.eq_ignore_ascii_case("where") {
            return t.start;
        } else if after_set
            && fallback.is_none()
            && (word.eq_ignore_ascii_case("order") || word.eq_ignore_ascii_case("limit"))
        {
            fallback = Some(t.start);
        }
    }
    fallback.unwrap_or(sql.len())
}

/// Byte range of the statement's top-level `ORDER BY …` at or after `from` (up to its LIMIT
/// or the end), if it has one.
pub(crate) fn order_by_range(ctx: &Ctx<'_>, from: usize) -> Option<(usize, usize)> {
    let sql = ctx.sql;
    let mut start = None;
    for (t, word) in top_level_words(ctx, from) {
        if start.is_none() && word.eq_ignore_ascii_case("order") {
            start = Some(t.start);
        } else if start.is_some() && word.eq_ignore_ascii_case("limit") {
            return start.map(|s| (s, t.start));
        }
    }
    let end = sql.trim_end().trim_end_matches(';').trim_end().len();
    start.filter(|&s| s < end).map(|s| (s, end))
}

/// Refuses owned lookups of the types whose from values are hashed, which the executor does
/// not maintain.
pub(crate) fn check_kind(
    params: &crate::vschema::LookupParams,
    vindex: &str,
    table: &str,
) -> Result<(), PlanError> {
    if params.kind.hashes_from() {
        return unsupported(format!(
            "writing {table}, which owns lookup vindex '{vindex}' of type {} (use lookup, lookup_unique, lookup_hash, lookup_hash_unique, consistent_lookup or consistent_lookup_unique)",
            params.kind.type_name()
        ));
    }
    Ok(())
}
