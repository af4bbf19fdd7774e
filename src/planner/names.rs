//! Result column names: MySQL names an unaliased select item by its original text
//! (`COUNT( * )`, `id+1`), so a re-printed shard query aliases every item whose printed text
//! differs from what the client wrote (plain columns keep their names either way).

use super::merge::item_expr;
use super::values::Text;
use sqlparser::ast::{Expr, Ident, Select, SelectItem};

/// Byte ranges of the select items of `select` in the original text (None if the text does
/// not split into exactly as many items).
pub(crate) fn item_ranges(text: &Text<'_>, select: &Select) -> Option<Vec<(usize, usize)>> {
    const MODIFIERS: &[&str] = &[
        "all",
        "distinct",
        "distinctrow",
        "high_priority",
        "straight_join",
        "sql_small_result",
        "sql_big_result",
        "sql_buffer_result",
        "sql_no_cache",
        "sql_cache",
        "sql_calc_found_rows",
    ];
    const ENDS: &[&str] = &[
        "from",
        "into",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "window",
        "for",
        "lock",
        "union",
        "except",
        "intersect",
    ];
    let start = text.offset(select.select_token.0.span.start)?;
    let mut i = text.token_at(start)? + 1;
    let sql = text.sql;
    while text
        .tokens
        .get(i)
        .is_some_and(|t| MODIFIERS.iter().any(|m| t.is_word(sql, m)))
    {
        i += 1;
    }
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut item_start: Option<usize> = None;
    let mut last_end = 0;
    while let Some(t) = text.tokens.get(i) {
        let at_end = depth == 0
            && (ENDS.iter().any(|w| t.is_word(sql, w))
                || t.is_punct(sql, ")")
                || t.kind == crate::sql::TokenKind::Semicolon);
        if at_end {
            break;
        }
        if depth == 0 && t.is_punct(sql, ",") {
            out.push((item_start?, last_end));
            item_start = None;
        } else {
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth -= 1;
            }
            item_start.get_or_insert(t.start);
            last_end = t.end;
        }
        i += 1;
    }
    out.push((item_start?, last_end));
    (out.len() == select.projection.len()).then_some(out)
}

/// The names the client sees for unaliased, non-column items: their original text.
pub(crate) fn client_names(text: &Text<'_>, select: &Select) -> Vec<Option<String>> {
    let ranges = item_ranges(text, select);
    select
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| match item_expr(item) {
            (_, Some(alias)) => Some(alias.value.clone()),
            (Some(Expr::Identifier(_) | Expr::CompoundIdentifier(_)), None) => None,
            (Some(e), None) => Some(
                ranges
                    .as_ref()
                    .map(|r| text.slice(r[i]).to_string())
                    .unwrap_or_else(|| e.to_string()),
            ),
            (None, _) => None,
        })
        .collect()
}

/// A select item printing `expr` under the client's name `name`.
pub(crate) fn named(expr: Expr, name: Option<&str>) -> SelectItem {
    match name {
        Some(n) if expr.to_string() != n && n.chars().count() <= 256 => SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('`', n),
        },
        _ => SelectItem::UnnamedExpr(expr),
    }
}

/// Re-applies the client's names to the visible items of a re-printed select list.
pub(crate) fn keep_names(text: &Text<'_>, select: &Select, shard: &mut Select) {
    let names = client_names(text, select);
    for (item, name) in shard.projection.iter_mut().zip(names) {
        if let SelectItem::UnnamedExpr(e) = item {
            *item = named(e.clone(), name.as_deref());
        }
    }
}
