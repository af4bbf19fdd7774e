//! INSERT and REPLACE into a sharded table: each row's primary vindex value, its tuple's bytes,
//! and the text around the tuples, so the executor sends each shard one INSERT with its rows.
//!
//! Supported: `INSERT [IGNORE] INTO t [(cols)] VALUES (...), ... [AS alias] [ON DUPLICATE KEY
//! UPDATE ...]` and `REPLACE`. Tuple spans come from sqlparser's parenthesis tokens (exact),
//! values are read from the original text ([`super::values`]). With an `auto_increment`
//! column: omitted → the prefix names it last and [`InsertPlan::auto_increment_omitted`] is
//! set; written as `NULL`, `DEFAULT` or `0` → its byte range is given so the executor puts a
//! sequence id there (a `?` is routed by its bound value).
//!
//! `RETURNING` is in the suffix, so each shard returns the rows it inserted; the executor puts
//! them back in the statement's row order ([`InsertPlan::returning`]).
//!
//! Refused: INSERT IGNORE / ON DUPLICATE KEY UPDATE with RETURNING, INSERT ... SELECT, subqueries in VALUES or ON DUPLICATE KEY UPDATE (one shard
//! could not see the others' rows), INSERT ... SET, `VALUES ROW(...)`, a non-literal primary vindex
//! value, a missing primary vindex column (unless it is the auto_increment column), no column
//! list without an authoritative column list in the VSchema, ON DUPLICATE KEY UPDATE of a
//! vindex column, reference tables (write the source), REPLACE into a table owning lookup
//! vindexes, a non-literal value for a lookup vindex column.
//!
//! A table of an unsharded keyspace is passed through, unless its VSchema names an
//! auto_increment sequence ([`super::insert_sequence`]).
//!
//! Owned lookup vindexes: each row's from-column values are recorded
//! ([`InsertPlan::lookups`]) so the executor creates the lookup rows before the owner rows.
//! Unowned lookup vindexes: the same ([`InsertPlan::unowned`]), so the executor verifies that
//! each value maps to the row's keyspace id (else the row would be invisible to reads routed
//! by that vindex).

use super::plan::{InsertLookup, InsertPlan, InsertRow, LookupInput, Plan, UpsertValues};
use super::subqueries::Counter;
use super::tables::{resolve, Role};
use super::{not_supported, unsupported, Ctx, PlanError};
use crate::sql::quote_ident;
use crate::vschema::TableSchema;
use sqlparser::ast::{
    AssignmentTarget, Expr, Insert, OnInsert, SetExpr, TableObject, Value, Values, Visit,
};

/// Plans an INSERT or REPLACE.
pub(crate) fn plan_insert(ctx: &Ctx<'_>, ins: &Insert) -> Result<Plan, PlanError> {
    let TableObject::TableName(name) = &ins.table else {
        return unsupported("INSERT into a table function");
    };
    let res = resolve(ctx, name)?;
    let (ks, table) = match (res.role(), res.table) {
        (Role::Unsharded, Some(t)) if t.auto_increment.is_some() => {
            let ai = t
                .auto_increment
                .as_ref()
                .ok_or_else(|| not_supported("sequence"))?;
            return super::insert_sequence::plan_unsharded_insert(ctx, ins, &res, t, ai);
        }
        (Role::Unsharded, _) => {
            return Ok(Plan::Passthrough {
                keyspace: res.keyspace.name.clone(),
            })
        }
        (Role::Reference, _) => {
            return unsupported(format!(
                "INSERT into reference table {} is not supported (write to its source)",
                res.display()
            ))
        }
        (Role::Sharded, Some(t)) => (res.keyspace, t),
        (Role::Sharded, None) => {
            return Err(PlanError::UnknownTable {
                keyspace: res.keyspace.name.clone(),
                table: res.name.clone(),
            })
        }
    };
    if super::insert_select::is_insert_select(ins) {
        return super::insert_select::plan(ctx, ins, &ks.name);
    }
    let display = res.display();
    if let Some(owned) = table.owned_vindexes().next() {
        if ins.replace_into {
            return unsupported(format!(
                "REPLACE into {display}, which owns lookup vindex '{}' (the replaced row's lookup rows would stay), is not supported; use INSERT ... ON DUPLICATE KEY UPDATE",
                owned.vindex
            ));
        }
    }
    let values = values_of(ins, &display)?;
    let mut counter = Counter::default();
    let _ = ins.visit(&mut counter);
    if counter.queries > 1 || counter.relations > 0 {
        return unsupported(format!(
            "a subquery in an INSERT into sharded table {display}"
        ));
    }
    check_on_duplicate(ins, table, &display)?;
    if ins.returning.is_some() && (ins.ignore || ins.on.is_some()) {
        // Each shard returns the rows it inserted; with IGNORE or ON DUPLICATE KEY UPDATE a
        // row may return nothing (or the updated row), so the rows could not be put back in
        // the statement's order.
        return unsupported(format!(
            "INSERT IGNORE / ON DUPLICATE KEY UPDATE ... RETURNING into sharded table {display}"
        ));
    }
    let columns = column_names(ins, table, &display)?;
    let primary = table
        .primary_vindex()
        .ok_or_else(|| not_supported(format!("table {display} has no primary vindex")))?;
    if ks
        .vindex(&primary.vindex)
        .and_then(|v| v.functional())
        .is_none()
    {
        return unsupported(format!(
            "INSERT into {display} through primary vindex '{}' (not a functional vindex) is not supported yet",
            primary.vindex
        ));
    }
    let ai = table.auto_increment.as_ref();
    let ai_pos = ai.and_then(|a| columns.iter().position(|c| *c == a.column));
    let omitted = ai.is_some() && ai_pos.is_none();
    if omitted && ins.columns.is_empty() {
        return unsupported(format!(
            "INSERT without a column list into {display}, whose auto_increment column is not in its VSchema columns"
        ));
    }
    let mut vindex_pos = Vec::new();
    for col in &primary.columns {
        match columns.iter().position(|c| c == col) {
            Some(p) => vindex_pos.push(Some(p)),
            None if ai.is_some_and(|a| a.column == *col) => vindex_pos.push(None),
            None => {
                return unsupported(format!(
                    "INSERT into {display} without a value for its primary vindex column '{col}'"
                ))
            }
        }
    }
    // Owned lookups (their rows are created), then unowned ones (each value is verified).
    let mut owned: Vec<(String, &crate::vschema::ColumnVindex)> = Vec::new();
    let mut unowned: Vec<(String, &crate::vschema::ColumnVindex)> = Vec::new();
    for (cv, v) in ks.column_vindexes(table) {
        if let Some(params) = v.lookup().filter(|_| cv.owned) {
            super::dml_lookups::check_kind(params, &cv.vindex, &display)?;
            owned.push((cv.vindex.clone(), cv));
        }
    }
    for (cv, v) in ks.column_vindexes(table) {
        if v.lookup().is_some() && !cv.owned {
            unowned.push((cv.vindex.clone(), cv));
        }
    }
    let owned_count = owned.len();
    owned.extend(unowned);
    let mut lookup_rows: Vec<Vec<Vec<LookupInput>>> = vec![Vec::new(); owned.len()];
    let is_upsert = matches!(ins.on, Some(OnInsert::DuplicateKeyUpdate(_))) && owned_count > 0;
    let mut upsert_rows: Vec<Vec<Option<LookupInput>>> = Vec::new();
    let mut rows = Vec::with_capacity(values.rows.len());
    for (n, row) in values.rows.iter().enumerate() {
        if row.content.len() != columns.len() {
            return unsupported(format!(
                "INSERT with {} values for {} columns (row {})",
                row.content.len(),
                columns.len(),
                n + 1
            ));
        }
        let span = ctx
            .text
            .offset(row.opening_token.0.span.start)
            .zip(ctx.text.offset(row.closing_token.0.span.end))
            .filter(|(s, e)| {
                ctx.sql
                    .get(*s..*e)
                    .is_some_and(|t| t.starts_with('(') && t.ends_with(')'))
            })
            .ok_or_else(|| not_supported("INSERT row without exact position"))?;
        let generated = ai_pos.and_then(|p| generated_range(ctx, &row.content[p]));
        let mut vindex_values = Vec::with_capacity(vindex_pos.len());
        for (col, pos) in primary.columns.iter().zip(&vindex_pos) {
            let Some(p) = *pos else {
                vindex_values.push(None);
                continue;
            };
            if Some(p) == ai_pos && generated.is_some() {
                vindex_values.push(None);
                continue;
            }
            let expr = &row.content[p];
            match ctx.text.route_value(expr) {
                Some(v) => vindex_values.push(Some(v)),
                None => {
                    return unsupported(format!(
                        "INSERT with a non-literal value ({expr}) for vindex column '{col}' of {display}"
                    ))
                }
            }
        }
        for (k, (_, cv)) in owned.iter().enumerate() {
            let mut inputs = Vec::with_capacity(cv.columns.len());
            for col in &cv.columns {
                let pos = columns.iter().position(|c| c == col);
                let is_ai = ai.is_some_and(|a| a.column == *col);
                inputs.push(match pos {
                    None if is_ai => LookupInput::GeneratedId,
                    None => LookupInput::Omitted,
                    Some(p) if is_ai && Some(p) == ai_pos && generated.is_some() => {
                        LookupInput::GeneratedId
                    }
                    Some(p) => {
                        let expr = &row.content[p];
                        match ctx.text.route_value(expr) {
                            Some(v) => LookupInput::Value(v),
                            None => {
                                return unsupported(format!(
                                    "INSERT with a non-literal value ({expr}) for column '{col}' of lookup vindex '{}' of {display}",
                                    cv.vindex
                                ))
                            }
                        }
                    }
                });
            }
            lookup_rows[k].push(inputs);
        }
        if is_upsert {
            let mut values: Vec<Option<LookupInput>> = row
                .content
                .iter()
                .enumerate()
                .map(|(p, expr)| {
                    if Some(p) == ai_pos && generated.is_some() {
                        Some(LookupInput::GeneratedId)
                    } else {
                        ctx.text.route_value(expr).map(LookupInput::Value)
                    }
                })
                .collect();
            if omitted {
                values.push(Some(LookupInput::GeneratedId));
            }
            upsert_rows.push(values);
        }
        rows.push(InsertRow {
            vindex_values,
            span,
            auto_increment_value: generated,
        });
    }
    let mut lookups: Vec<InsertLookup> = owned
        .iter()
        .zip(lookup_rows)
        .map(|((name, _), rows)| InsertLookup {
            vindex: name.clone(),
            rows,
        })
        .collect();
    // An unowned vindex whose first column no row sets (NULL) has nothing to verify.
    let mut unowned = lookups.split_off(owned_count);
    unowned.retain(|l| {
        l.rows
            .iter()
            .any(|r| !matches!(r.first(), None | Some(LookupInput::Omitted)))
    });
    let (first, last) = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => (f.span.0, l.span.1),
        _ => return unsupported("INSERT without rows"),
    };
    let mut prefix = ctx.sql[..first].to_string();
    if let (true, Some(a)) = (omitted, ai) {
        let close = column_list_end(ctx, ins)
            .ok_or_else(|| not_supported("INSERT column list without exact position"))?;
        prefix.insert_str(close, &format!(", {}", quote_ident(&a.column)));
    }
    Ok(Plan::Insert(InsertPlan {
        keyspace: ks.name.clone(),
        table: res.name.clone(),
        vindex: primary.vindex.clone(),
        prefix,
        suffix: ctx.sql[last..].to_string(),
        rows,
        sequence: ai.map(|a| (a.sequence_keyspace.clone(), a.sequence_table.clone())),
        auto_increment_omitted: omitted,
        source: ctx.sql.to_string(),
        lookups,
        unowned,
        ignore: ins.ignore || matches!(ins.on, Some(OnInsert::DuplicateKeyUpdate(_))),
        returning: ins.returning.is_some(),
        upsert: is_upsert.then(|| UpsertValues {
            columns: columns
                .iter()
                .cloned()
                .chain(ai.filter(|_| omitted).map(|a| a.column.clone()))
                .collect(),
            rows: upsert_rows,
        }),
    }))
}

/// The VALUES rows of a plain INSERT.
fn values_of<'i>(ins: &'i Insert, display: &str) -> Result<&'i Values, PlanError> {
    if !ins.assignments.is_empty() {
        return unsupported(format!(
            "INSERT ... SET into sharded table {display} (use VALUES)"
        ));
    }
    if ins.partitioned.is_some() || !ins.after_columns.is_empty() {
        return unsupported(format!("this INSERT form into sharded table {display}"));
    }
    let Some(source) = &ins.source else {
        return unsupported(format!(
            "INSERT without VALUES into sharded table {display}"
        ));
    };
    match source.body.as_ref() {
        SetExpr::Values(v)
            if source.with.is_none()
                && source.order_by.is_none()
                && source.limit_clause.is_none() =>
        {
            if v.explicit_row {
                return unsupported(format!(
                    "INSERT ... VALUES ROW(...) into sharded table {display}"
                ));
            }
            Ok(v)
        }
        _ => unsupported(format!("INSERT ... SELECT into sharded table {display}")),
    }
}

/// ON DUPLICATE KEY UPDATE must not change a vindex column.
fn check_on_duplicate(ins: &Insert, table: &TableSchema, display: &str) -> Result<(), PlanError> {
    let assignments = match &ins.on {
        None => return Ok(()),
        Some(OnInsert::DuplicateKeyUpdate(a)) => a,
        Some(_) => return unsupported(format!("ON CONFLICT on sharded table {display}")),
    };
    for a in assignments {
        let names = match &a.target {
            AssignmentTarget::ColumnName(n) => vec![n],
            AssignmentTarget::Tuple(ns) => ns.iter().collect(),
        };
        for n in names {
            let col =
                n.0.last()
                    .map(|p| p.to_string().trim_matches('`').to_lowercase())
                    .unwrap_or_default();
            if let Some(cv) = table
                .column_vindexes
                .iter()
                .find(|cv| cv.columns.contains(&col))
            {
                let which = if table.primary_vindex() == Some(cv) {
                    "primary vindex"
                } else {
                    "vindex"
                };
                return unsupported(format!(
                    "ON DUPLICATE KEY UPDATE of the {which} column '{col}' of table '{}' is not supported",
                    table.name
                ));
            }
        }
    }
    Ok(())
}

/// The inserted column names, lower-cased: the column list, or the VSchema's authoritative
/// columns (invisible ones excluded, as MySQL does).
fn column_names(
    ins: &Insert,
    table: &TableSchema,
    display: &str,
) -> Result<Vec<String>, PlanError> {
    if !ins.columns.is_empty() {
        return Ok(ins
            .columns
            .iter()
            .map(|c| c.0.last().map(|p| p.to_string()).unwrap_or_default())
            .map(|c| c.trim_matches('`').to_lowercase())
            .collect());
    }
    if table.column_list_authoritative && !table.columns.is_empty() {
        return Ok(table
            .columns
            .iter()
            .filter(|c| !c.invisible)
            .map(|c| c.name.to_lowercase())
            .collect());
    }
    unsupported(format!(
        "INSERT without a column list into sharded table {display} (its VSchema has no authoritative column list)"
    ))
}

/// The byte range of an auto_increment value that asks for a generated id: `NULL`,
/// `DEFAULT` or `0`.
pub(super) fn generated_range(ctx: &Ctx<'_>, e: &Expr) -> Option<(usize, usize)> {
    match e {
        Expr::Value(v) => {
            let generate = match &v.value {
                Value::Null => true,
                Value::Number(n, _) => n.bytes().all(|b| b == b'0'),
                _ => false,
            };
            if generate {
                ctx.text.literal_range(e)
            } else {
                None
            }
        }
        Expr::Identifier(id)
            if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default") =>
        {
            ctx.text
                .range(id.span)
                .filter(|r| ctx.text.slice(*r).eq_ignore_ascii_case("default"))
        }
        _ => None,
    }
}

/// Byte offset of the `)` closing the column list.
pub(super) fn column_list_end(ctx: &Ctx<'_>, ins: &Insert) -> Option<usize> {
    let last = ins.columns.last()?.0.last()?;
    let span = match last {
        sqlparser::ast::ObjectNamePart::Identifier(i) => i.span,
        sqlparser::ast::ObjectNamePart::Function(_) => return None,
    };
    let (_, end) = ctx.text.range(span)?;
    let next = ctx.text.tokens.iter().find(|t| t.start >= end)?;
    next.is_punct(ctx.sql, ")").then_some(next.start)
}
