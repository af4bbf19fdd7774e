//! `?` parameters in re-printed shard queries.
//!
//! A multi-shard prepared statement reaches the shards as text: the server replaces every `?`
//! of the shard query, in order, with the client's parameters (first `?` ← first parameter).
//! A rewrite may move, copy or drop parts of the statement (hidden columns go before FROM,
//! AVG adds a COUNT of its argument, HAVING / ORDER BY / LIMIT leave aggregating queries), so
//! [`print`] checks that the `?` of the printed query are exactly the first `k` of the
//! client's, in the client's order: dropping trailing ones (a `LIMIT ?` at the end) is fine,
//! anything else is refused (1235). It marks each `?` with its position in the client's text
//! before printing (`?/*p3*/`), reads the marks back in printed order, and removes them.
//!
//! [`UPPER_LIMIT`](super::limit::UPPER_LIMIT) (Vitess's name for the same thing) is the one non-`?` placeholder a shard
//! query may hold: the executor writes a computed row count there ([`super::limit`]).

use super::plan::RouteValue;
use super::{unsupported, Ctx, PlanError};
use crate::sql::{tokenize, TokenKind};
use sqlparser::ast::{visit_expressions_mut, Expr, Query, Value};
use std::ops::ControlFlow;

/// Prints a rewritten shard query, refusing it when its `?` would not be the first ones of
/// the client's statement in the client's order.
pub(crate) fn print(ctx: &Ctx<'_>, q: &Query) -> Result<String, PlanError> {
    if ctx.text.param_count() == 0 {
        return Ok(q.to_string());
    }
    let mut marked = q.clone();
    let mut lost = false;
    let mut marks = 0usize;
    let _ = visit_expressions_mut(&mut marked, |e: &mut Expr| {
        if let Expr::Value(v) = e {
            if matches!(&v.value, Value::Placeholder(p) if p == "?") {
                match ctx.text.route_value(&Expr::Value(v.clone())) {
                    Some(RouteValue::Param(n)) => {
                        v.value = Value::Placeholder(format!("?/*p{n}*/"));
                        marks += 1;
                    }
                    _ => lost = true,
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if lost {
        return unsupported("a ? parameter the rewritten multi-shard query cannot place");
    }
    let text = marked.to_string();
    let tokens = tokenize(&text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut expected = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != TokenKind::Param {
            continue;
        }
        let mark = tokens
            .get(i + 1)
            .filter(|m| m.kind == TokenKind::Comment && m.start == t.end)
            .and_then(|m| Some((m, text.get(m.start..m.end)?)))
            .and_then(|(m, s)| Some((m, s.strip_prefix("/*p")?.strip_suffix("*/")?)))
            .and_then(|(m, n)| Some((m, n.parse::<usize>().ok()?)));
        match mark {
            Some((m, n)) if n == expected => {
                out.push_str(text.get(at..t.end).unwrap_or(""));
                at = m.end;
                expected += 1;
            }
            _ => {
                return unsupported(
                    "rewriting a query for several shards with ? parameters in hidden columns, \
                     AVG arguments or a dropped ORDER BY/HAVING",
                )
            }
        }
    }
    if expected != marks {
        // A mark the tokenizer does not see as a `?` (inside what it reads as a quoted name
        // or string, where sqlparser printed text it reads otherwise, e.g. `@@'x`): the
        // binder could not fill it, and the shard would get a bare `?` (found by fuzzing).
        return unsupported("a ? parameter in a re-printed query the proxy cannot read back");
    }
    out.push_str(text.get(at..).unwrap_or(""));
    Ok(out)
}
