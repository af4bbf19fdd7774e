//! INSERT / REPLACE into a table of an **unsharded** keyspace whose VSchema has an
//! `auto_increment` block: the ids come from its sequence, as vtgate fills them, not from
//! MariaDB's own AUTO_INCREMENT (ids handed out by the proxy elsewhere would collide with it).
//!
//! The plan is an [`InsertPlan`] with no primary vindex (`vindex` empty): one shard, every
//! row. The auto_increment column gets a sequence id when it is omitted (the prefix then names
//! it last), or written as `NULL`, `DEFAULT` or `0`; a `?` (or a literal the plan cache turned
//! into one) gets one when its value is NULL or 0, decided by the executor
//! ([`InsertRow::vindex_values`] holds that value, [`InsertRow::auto_increment_value`] its
//! place). Any other value is written as is.
//!
//! `INSERT ... SET col = value, ...` is one row: its assignment list is the row's text, and an
//! omitted auto_increment column is assigned last (`, id = <id>`).
//!
//! Refused as vtgate refuses them: `INSERT ... SELECT` (ids for rows the proxy does not see),
//! no column list without an authoritative column list in the VSchema; and `VALUES ROW(...)`.

use super::insert::{column_list_end, generated_range};
use super::plan::{InsertPlan, InsertRow, Plan};
use super::tables::Resolved;
use super::{not_supported, unsupported, Ctx, PlanError};
use crate::sql::quote_ident;
use crate::vschema::{AutoIncrement, TableSchema};
use sqlparser::ast::{AssignmentTarget, Insert, OnInsert, SetExpr};

/// Plans an INSERT into `table` (of an unsharded keyspace) with auto_increment `ai`.
pub(crate) fn plan_unsharded_insert(
    ctx: &Ctx<'_>,
    ins: &Insert,
    res: &Resolved<'_>,
    table: &TableSchema,
    ai: &AutoIncrement,
) -> Result<Plan, PlanError> {
    let display = res.display();
    let needs = |what: &str| {
        unsupported(format!(
            "{what} into {display}, whose auto_increment ids come from sequence {}.{}",
            ai.sequence_keyspace, ai.sequence_table
        ))
    };
    if !ins.assignments.is_empty() {
        return plan_set_form(ctx, ins, res, ai);
    }
    if ins.partitioned.is_some() || !ins.after_columns.is_empty() {
        return needs("this INSERT form");
    }
    let Some(source) = &ins.source else {
        return needs("INSERT without VALUES");
    };
    let values = match source.body.as_ref() {
        SetExpr::Values(v)
            if source.with.is_none()
                && source.order_by.is_none()
                && source.limit_clause.is_none()
                && !v.explicit_row =>
        {
            v
        }
        SetExpr::Values(_) => return needs("this INSERT ... VALUES form"),
        _ => return needs("INSERT ... SELECT"),
    };
    let columns: Vec<String> = if !ins.columns.is_empty() {
        ins.columns
            .iter()
            .map(|c| c.0.last().map(|p| p.to_string()).unwrap_or_default())
            .map(|c| c.trim_matches('`').to_lowercase())
            .collect()
    } else if table.column_list_authoritative && !table.columns.is_empty() {
        table
            .columns
            .iter()
            .filter(|c| !c.invisible)
            .map(|c| c.name.to_lowercase())
            .collect()
    } else {
        return needs(
            "INSERT without a column list (the VSchema has no authoritative column list)",
        );
    };
    let ai_pos = columns.iter().position(|c| *c == ai.column);
    let omitted = ai_pos.is_none();
    if omitted && ins.columns.is_empty() {
        return needs(
            "INSERT without a column list (its VSchema columns omit the auto_increment column)",
        );
    }
    let mut rows = Vec::with_capacity(values.rows.len());
    for (n, row) in values.rows.iter().enumerate() {
        if row.len() != columns.len() {
            return unsupported(format!(
                "INSERT with {} values for {} columns (row {})",
                row.len(),
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
        let (vindex_values, auto_increment_value) = match ai_pos.and_then(|p| row.get(p)) {
            None => (Vec::new(), None),
            Some(expr) => match generated_range(ctx, expr) {
                Some(range) => (vec![None], Some(range)),
                // A `?` or plain literal: an id when its value turns out NULL or 0.
                None => match (ctx.text.route_value(expr), ctx.text.literal_range(expr)) {
                    (Some(v), Some(range)) => (vec![Some(v)], Some(range)),
                    _ => (Vec::new(), None),
                },
            },
        };
        rows.push(InsertRow {
            vindex_values,
            span,
            auto_increment_value,
        });
    }
    let (first, last) = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => (f.span.0, l.span.1),
        _ => return unsupported("INSERT without rows"),
    };
    let mut prefix = ctx.sql[..first].to_string();
    if omitted {
        let close = column_list_end(ctx, ins)
            .ok_or_else(|| not_supported("INSERT column list without exact position"))?;
        prefix.insert_str(close, &format!(", {}", quote_ident(&ai.column)));
    }
    Ok(Plan::Insert(InsertPlan {
        keyspace: res.keyspace.name.clone(),
        table: res.name.clone(),
        vindex: String::new(),
        prefix,
        suffix: ctx.sql[last..].to_string(),
        rows,
        sequence: Some((ai.sequence_keyspace.clone(), ai.sequence_table.clone())),
        auto_increment_omitted: omitted,
        source: ctx.sql.to_string(),
        lookups: Vec::new(),
        unowned: Vec::new(),
        ignore: ins.ignore || matches!(ins.on, Some(OnInsert::DuplicateKeyUpdate(_))),
        returning: ins.returning.is_some(),
        upsert: None,
    }))
}

/// The byte range of an `INSERT ... SET` statement's assignment list: from the token after the
/// top-level `SET` to the end of the last token before `ON DUPLICATE KEY UPDATE`, `RETURNING`,
/// `;` or the end.
fn set_list_range(ctx: &Ctx<'_>) -> Option<(usize, usize)> {
    let sql = ctx.sql;
    let tokens = &ctx.text.tokens;
    let mut depth = 0i32;
    let mut start = None;
    let mut end = None;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        }
        if depth != 0 {
            if start.is_some() {
                end = Some(t.end);
            }
            continue;
        }
        match start {
            None if t.is_word(sql, "set") => {
                start = Some(tokens.get(i + 1)?.start);
                continue;
            }
            None => continue,
            Some(_) => {}
        }
        let stop = t.is_punct(sql, ";")
            || t.is_word(sql, "returning")
            || (t.is_word(sql, "on")
                && tokens
                    .get(i + 1)
                    .is_some_and(|n| n.is_word(sql, "duplicate")));
        if stop {
            break;
        }
        end = Some(t.end);
    }
    start.zip(end).filter(|(s, e)| s < e)
}

/// `INSERT ... SET`: one row whose text is the assignment list.
fn plan_set_form(
    ctx: &Ctx<'_>,
    ins: &Insert,
    res: &Resolved<'_>,
    ai: &AutoIncrement,
) -> Result<Plan, PlanError> {
    let (start, end) = set_list_range(ctx)
        .ok_or_else(|| not_supported("INSERT ... SET without exact position"))?;
    let assigned = ins.assignments.iter().find(|a| match &a.target {
        AssignmentTarget::ColumnName(n) => {
            n.0.last()
                .map(|p| p.to_string().trim_matches('`').to_lowercase())
                .is_some_and(|c| c == ai.column)
        }
        AssignmentTarget::Tuple(_) => false,
    });
    let (prefix, span, vindex_values, auto_increment_value) = match assigned {
        // Omitted: assigned last, its value the row's whole (empty) text.
        None => (
            format!("{}, {} = ", &ctx.sql[..end], quote_ident(&ai.column)),
            (end, end),
            vec![None],
            Some((end, end)),
        ),
        Some(a) => {
            let (values, range) = match generated_range(ctx, &a.value) {
                Some(range) => (vec![None], Some(range)),
                None => match (
                    ctx.text.route_value(&a.value),
                    ctx.text.literal_range(&a.value),
                ) {
                    (Some(v), Some(range)) => (vec![Some(v)], Some(range)),
                    _ => (Vec::new(), None),
                },
            };
            (ctx.sql[..start].to_string(), (start, end), values, range)
        }
    };
    Ok(Plan::Insert(InsertPlan {
        keyspace: res.keyspace.name.clone(),
        table: res.name.clone(),
        vindex: String::new(),
        prefix,
        suffix: ctx.sql[end..].to_string(),
        rows: vec![InsertRow {
            vindex_values,
            span,
            auto_increment_value,
        }],
        sequence: Some((ai.sequence_keyspace.clone(), ai.sequence_table.clone())),
        auto_increment_omitted: false,
        source: ctx.sql.to_string(),
        lookups: Vec::new(),
        unowned: Vec::new(),
        ignore: ins.ignore || matches!(ins.on, Some(OnInsert::DuplicateKeyUpdate(_))),
        returning: ins.returning.is_some(),
        upsert: None,
    }))
}

#[cfg(test)]
mod tests {
    use crate::planner::{describe, plan, PlanError};
    use crate::vschema::{KeyspaceSchema, VSchema};
    use serde_json::json;

    fn vschema() -> VSchema {
        let commerce = KeyspaceSchema::parse(
            "commerce",
            r#"{"sharded": false, "tables": {
                "item_seq": {"type": "sequence"},
                "item": {"auto_increment": {"column": "id", "sequence": "item_seq"}},
                "note": {}}}"#,
        )
        .expect("commerce");
        VSchema::build(vec![commerce], [("commerce".to_string(), 1usize)].into()).expect("build")
    }

    #[test]
    fn plans_ids_for_omitted_null_default_zero_and_parameters() {
        let vs = vschema();
        let p = plan("insert into item (name) values ('a'), ('b')", &vs, None).expect("plan");
        assert_eq!(
            describe(&p),
            json!({
                "OperatorType": "Insert", "Variant": "Unsharded",
                "Keyspace": {"Name": "commerce", "Sharded": false},
                "Table": "item", "Prefix": "insert into item (name, `id`) values ",
                "Rows": [{"Values": [], "Tuple": "('a')"}, {"Values": [], "Tuple": "('b')"}],
                "Sequence": "commerce.item_seq", "AutoIncrementOmitted": true
            })
        );
        let p = plan(
            "insert into item (id, name) values (null, 'a'), (?, 'b'), (7, 'c'), (id + 1, 'd') on duplicate key update name = 'x'",
            &vs,
            None,
        )
        .expect("plan");
        assert_eq!(
            describe(&p)["Rows"],
            json!([
                {"Values": ["next_id"], "Tuple": "(null, 'a')", "AutoIncrement": "null"},
                {"Values": [":v1"], "Tuple": "(?, 'b')", "AutoIncrement": "?"},
                {"Values": ["INT64(7)"], "Tuple": "(7, 'c')", "AutoIncrement": "7"},
                {"Values": [], "Tuple": "(id + 1, 'd')"}
            ])
        );
        // INSERT ... SET: the assignment list is the row.
        let p = plan(
            "insert into item set name = 'a' on duplicate key update name = 'b'",
            &vs,
            None,
        )
        .expect("plan");
        let d = describe(&p);
        assert_eq!(
            d["Prefix"],
            json!("insert into item set name = 'a', `id` = ")
        );
        assert_eq!(d["Suffix"], json!(" on duplicate key update name = 'b'"));
        assert_eq!(
            d["Rows"],
            json!([{"Values": ["next_id"], "Tuple": "", "AutoIncrement": ""}])
        );
        let p = plan("insert into item set id = null, name = 'a'", &vs, None).expect("plan");
        let d = describe(&p);
        assert_eq!(d["Prefix"], json!("insert into item set "));
        assert_eq!(
            d["Rows"],
            json!([{"Values": ["next_id"], "Tuple": "id = null, name = 'a'", "AutoIncrement": "null"}])
        );
        // A table without a sequence passes through.
        let p = plan("insert into note (id) values (1)", &vs, None).expect("plan");
        assert_eq!(describe(&p)["OperatorType"], json!("Send"));
    }

    #[test]
    fn refuses_what_vtgate_refuses() {
        let vs = vschema();
        for sql in [
            "insert into item (name) select name from note",
            "insert into item values (1, 'a')",
        ] {
            assert!(
                matches!(plan(sql, &vs, None), Err(PlanError::NotSupported(_))),
                "{sql}"
            );
        }
    }
}
