//! Multi-table UPDATE and DELETE (`UPDATE a JOIN b ON … SET …`, `UPDATE a, b SET … WHERE
//! …`, `DELETE a FROM a JOIN b …`, `DELETE FROM a USING a JOIN b …`).
//!
//! They are routed like a SELECT over the same tables ([`super::joins`]): one shard when
//! every sharded table routes to the same one, every shard the best route allows when the
//! tables are co-located by equal primary vindex columns (every row pair the statement joins
//! then lives on one shard, so each shard changes exactly its part), refused otherwise. The
//! shards get the client's text.
//!
//! What the statement writes — the tables a DELETE names before FROM (or before USING), the
//! tables of an UPDATE's assigned columns (all of them when a column's table is not known) —
//! must not be a reference table, and a DELETE must not delete from a table owning lookup
//! vindexes; an UPDATE must not assign a vindex column (primary, secondary or lookup): the
//! proxy maintains lookups only for single-table statements. Tables that are only read may
//! be reference tables or lookup owners.
//!
//! sqlparser 0.63 does not parse `UPDATE a, b SET …`; [`plan_comma_update`] plans the
//! statement with its top-level commas before SET read as JOIN (an inner join without ON,
//! which routes the same way) and keeps the client's text for the shards.

use super::plan::Plan;
use super::routing::column_of;
use super::scope::Analysis;
use super::{dml, parse, values, Ctx, PlanError};
use crate::sql::TokenKind;
use sqlparser::ast::{Delete, Expr, FromTable, ObjectName, ObjectNamePart, Statement, TableFactor};

/// `UPDATE a, b SET …` (which sqlparser does not parse) planned as `UPDATE a JOIN b SET …`;
/// `Err(parse_error)` for any other statement.
pub(crate) fn plan_comma_update(ctx: &Ctx<'_>, parse_error: PlanError) -> Result<Plan, PlanError> {
    let Some(joined) = comma_join_text(ctx) else {
        return Err(parse_error);
    };
    let Ok(Statement::Update(upd)) = parse(&joined) else {
        return Err(parse_error);
    };
    let joined_ctx = Ctx {
        sql: &joined,
        vschema: ctx.vschema,
        target: ctx.target,
        text: values::Text::with_bound(&joined, ctx.text.bound),
        hints: ctx.hints,
    };
    match dml::plan_update(&joined_ctx, &upd)? {
        Plan::Dml(mut dp) => {
            if dp.lookups.is_some() || dp.pick.is_some() {
                return super::unsupported("multi-table UPDATE maintaining lookup vindexes");
            }
            // The same `?` in the same order: the client's text serves the shards.
            dp.query.sql = ctx.sql.to_string();
            dp.query.in_list = None;
            Ok(Plan::Dml(dp))
        }
        other => Ok(other),
    }
}

/// The text sqlparser parses for `sql`: `UPDATE [LOW_PRIORITY] [IGNORE] t …` with the
/// modifiers blanked out (sqlparser reads `IGNORE` as the table name), byte for byte the same
/// length so every span still points into the client's text, which the plan keeps.
pub(crate) fn parseable<'s>(ctx: &Ctx<'s>) -> std::borrow::Cow<'s, str> {
    let sql = ctx.sql;
    let mut tokens = ctx.text.tokens.iter();
    let is_update = tokens
        .next()
        .is_some_and(|t| t.kind == TokenKind::Ident && t.text(sql).eq_ignore_ascii_case("update"));
    if !is_update {
        return std::borrow::Cow::Borrowed(sql);
    }
    let modifiers: Vec<(usize, usize)> = tokens
        .take(2)
        .take_while(|t| {
            t.kind == TokenKind::Ident
                && ["low_priority", "ignore"]
                    .iter()
                    .any(|m| t.text(sql).eq_ignore_ascii_case(m))
        })
        .map(|t| (t.start, t.end))
        .collect();
    if modifiers.is_empty() {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = sql.to_string();
    for (start, end) in modifiers {
        out.replace_range(start..end, &" ".repeat(end - start));
    }
    std::borrow::Cow::Owned(out)
}

/// The statement with each top-level `,` between UPDATE and SET replaced by ` JOIN `; None
/// when it is not an UPDATE or has no such comma.
fn comma_join_text(ctx: &Ctx<'_>) -> Option<String> {
    let parseable = parseable(ctx);
    let sql: &str = &parseable;
    let mut tokens = ctx.text.tokens.iter();
    let first = tokens.next()?;
    if first.kind != TokenKind::Ident || !first.text(sql).eq_ignore_ascii_case("update") {
        return None;
    }
    let mut depth = 0i32;
    let mut commas = Vec::new();
    let mut joins = 0usize;
    for t in tokens {
        match (t.kind, t.text(sql)) {
            (TokenKind::Punct, "(") => depth += 1,
            (TokenKind::Punct, ")") => depth -= 1,
            (TokenKind::Punct, ",") if depth == 0 => commas.push(t.start),
            (TokenKind::Ident, w) if depth == 0 && w.eq_ignore_ascii_case("join") => joins += 1,
            (TokenKind::Ident, w) if depth == 0 && w.eq_ignore_ascii_case("set") => break,
            _ => {}
        }
    }
    // Each comma becomes a JOIN that sqlparser nests one call deeper: no more tables than
    // MariaDB joins (the bounds check counted only the JOINs written; a thousand commas
    // overflowed the stack, found by the planner fuzz target).
    if commas.is_empty() || commas.len() + joins + 1 > crate::sql::bounds::MAX_JOINED_TABLES {
        return None;
    }
    let mut out = String::with_capacity(sql.len() + 6 * commas.len());
    let mut at = 0;
    for c in commas {
        out.push_str(sql.get(at..c)?);
        out.push_str(" JOIN ");
        at = c + 1;
    }
    out.push_str(sql.get(at..)?);
    Some(out)
}

/// What a DELETE analyses and what it deletes from: `DELETE t FROM <tables>` → (the FROM
/// tables, `[t]`); `DELETE FROM t USING <tables>` → (the USING tables, `[t]`); a single-table
/// `DELETE FROM t` → (`[t]`, none).
pub(crate) fn delete_shape(del: &Delete) -> (&[sqlparser::ast::TableWithJoins], Vec<&ObjectName>) {
    let from = match &del.from {
        FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v.as_slice(),
    };
    match &del.using {
        Some(using) => {
            let names = from
                .iter()
                .filter_map(|twj| match &twj.relation {
                    TableFactor::Table { name, .. } => Some(name),
                    _ => None,
                })
                .collect();
            (using.as_slice(), names)
        }
        // sqlparser reads the modifiers of `DELETE IGNORE FROM t` as target names.
        None => (
            from,
            del.tables
                .iter()
                .filter(|n| !is_delete_modifier(n))
                .collect(),
        ),
    }
}

/// `IGNORE`, `LOW_PRIORITY` or `QUICK` written unquoted: a DELETE modifier, not a table.
fn is_delete_modifier(name: &ObjectName) -> bool {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(i)] => {
            i.quote_style.is_none()
                && ["ignore", "low_priority", "quick"]
                    .iter()
                    .any(|m| i.value.eq_ignore_ascii_case(m))
        }
        _ => false,
    }
}

/// The statement's own (scope 0) instances that `names` (a multi-table DELETE's target list)
/// name, by alias or table name; every scope-0 instance when a name matches none.
pub(crate) fn named_instances(a: &Analysis<'_, '_>, names: &[&ObjectName]) -> Vec<usize> {
    let top: Vec<usize> = (0..a.instances.len())
        .filter(|&i| a.instances[i].scope == 0)
        .collect();
    let mut out = Vec::new();
    for name in names {
        let parts: Vec<&str> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
                ObjectNamePart::Function(_) => None,
            })
            .collect();
        let found: Vec<usize> = top
            .iter()
            .copied()
            .filter(|&i| {
                let inst = &a.instances[i];
                match parts.as_slice() {
                    [t] => inst.qualifier().eq_ignore_ascii_case(t),
                    [ks, t] => {
                        inst.alias.is_none()
                            && inst.res.name.eq_ignore_ascii_case(t)
                            && inst.res.keyspace.name.eq_ignore_ascii_case(ks)
                    }
                    _ => false,
                }
            })
            .collect();
        if found.is_empty() {
            return top;
        }
        out.extend(found);
    }
    out
}

/// The scope-0 instance an UPDATE's assignment target belongs to; every scope-0 instance
/// when the planner cannot tell (an unqualified column the VSchema does not list).
pub(crate) fn assigned_instances(a: &Analysis<'_, '_>, target: &Expr) -> Vec<usize> {
    match column_of(a, 0, target) {
        Some((i, _)) if a.instances[i].scope == 0 => vec![i],
        _ => (0..a.instances.len())
            .filter(|&i| a.instances[i].scope == 0)
            .collect(),
    }
}

#[cfg(test)]
mod chain_tests {
    use crate::planner::tests::test_vschema;

    #[test]
    fn a_thousand_comma_joined_tables_are_not_rewritten_into_a_join_chain() {
        // (Planned on a 2 MiB stack like the server's: the rewrite once nested a JOIN per
        // comma and overflowed it.)
        let sql = format!("update user{} set name = 'x'", ", user".repeat(1000));
        let planned = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || crate::planner::plan(&sql, &test_vschema(), None).is_err())
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert!(planned, "refused, not planned");
    }
}
