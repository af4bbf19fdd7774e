//! DDL: `CREATE/ALTER/DROP/TRUNCATE/RENAME TABLE` and `CREATE/DROP INDEX` run unchanged on
//! every shard of a sharded keyspace ([`Plan::AllShards`]), or pass through to an unsharded one.
//!
//! Read from tokens only (no full parse, so any MySQL DDL syntax works): the statement kind
//! from its leading keywords, the keyspace from `ks.` qualifiers naming keyspaces (all must
//! agree), else the target, else the first table name resolved globally. `CREATE/ALTER/DROP
//! VIEW` runs on every shard too (each shard's view reads its own rows; the server records the
//! definition in the VSchema, see [`crate::vschema::views`]). Other DDL (procedures,
//! databases, ...) is refused on sharded keyspaces.

use super::plan::Plan;
use super::{unsupported, Ctx, PlanError};
use crate::sql::{qualifiers, TokenKind};
use crate::vschema::KeyspaceSchema;

/// Plans a DDL statement.
pub(crate) fn plan_ddl(ctx: &Ctx<'_>) -> Result<Plan, PlanError> {
    let (supported, table_word) = kind(ctx);
    let ks = keyspace(ctx, table_word)?;
    if !ks.sharded {
        return Ok(Plan::Passthrough {
            keyspace: ks.name.clone(),
        });
    }
    if !supported {
        let head: Vec<&str> = ctx
            .text
            .tokens
            .iter()
            .take(3)
            .map(|t| t.text(ctx.sql))
            .collect();
        return unsupported(format!(
            "'{}' on sharded keyspace '{}' is not supported (only TABLE, INDEX and VIEW DDL)",
            head.join(" "),
            ks.name
        ));
    }
    Ok(Plan::AllShards {
        keyspace: ks.name.clone(),
        sql: ctx.sql.to_string(),
    })
}

/// Whether the statement is table/index DDL, and the token index of its first table name.
fn kind(ctx: &Ctx<'_>) -> (bool, Option<usize>) {
    const SKIP: &[&str] = &[
        "temporary",
        "or",
        "replace",
        "online",
        "offline",
        "ignore",
        "unique",
        "fulltext",
        "spatial",
        "if",
        "not",
        "exists",
    ];
    let toks = &ctx.text.tokens;
    let sql = ctx.sql;
    let Some(first) = toks.first() else {
        return (false, None);
    };
    let verb = first.text(sql).to_ascii_lowercase();
    if verb == "truncate" {
        let mut i = 1;
        if toks.get(i).is_some_and(|t| t.is_word(sql, "table")) {
            i += 1;
        }
        return (true, Some(i));
    }
    if !matches!(verb.as_str(), "create" | "alter" | "drop" | "rename") {
        return (false, None);
    }
    if let Some(v) = view_word(ctx) {
        let mut j = v + 1;
        while toks
            .get(j)
            .is_some_and(|t| SKIP.iter().any(|w| t.is_word(sql, w)))
        {
            j += 1;
        }
        return (true, Some(j));
    }
    let mut i = 1;
    while toks
        .get(i)
        .is_some_and(|t| SKIP.iter().any(|w| t.is_word(sql, w)))
    {
        i += 1;
    }
    match toks.get(i) {
        Some(t) if t.is_word(sql, "table") || t.is_word(sql, "tables") => {
            let mut j = i + 1;
            while toks
                .get(j)
                .is_some_and(|t| SKIP.iter().any(|w| t.is_word(sql, w)))
            {
                j += 1;
            }
            (true, Some(j))
        }
        Some(t) if t.is_word(sql, "index") => {
            let on = (i..toks.len()).find(|&j| toks[j].is_word(sql, "on"));
            (true, on.map(|j| j + 1))
        }
        _ => (false, None),
    }
}

/// The token index of `VIEW` in `CREATE [OR REPLACE] [ALGORITHM = ..] [DEFINER = ..]
/// [SQL SECURITY ..] VIEW`, `ALTER ... VIEW` or `DROP VIEW`: the first `view` word, with no
/// word before it that starts another kind of object or the definition.
pub(crate) fn view_word(ctx: &Ctx<'_>) -> Option<usize> {
    const OTHER: &[&str] = &[
        "table",
        "index",
        "procedure",
        "function",
        "trigger",
        "event",
        "database",
        "schema",
        "user",
        "role",
        "sequence",
        "server",
        "as",
        "select",
    ];
    let toks = &ctx.text.tokens;
    let sql = ctx.sql;
    let verb = toks.first()?;
    if !["create", "alter", "drop"]
        .iter()
        .any(|w| verb.is_word(sql, w))
    {
        return None;
    }
    for (i, t) in toks.iter().enumerate().skip(1).take(16) {
        if t.is_word(sql, "view") {
            return Some(i);
        }
        if OTHER.iter().any(|w| t.is_word(sql, w)) {
            return None;
        }
    }
    None
}

/// The keyspace the DDL is for.
fn keyspace<'a>(ctx: &Ctx<'a>, table_word: Option<usize>) -> Result<&'a KeyspaceSchema, PlanError> {
    let named: Vec<&KeyspaceSchema> = qualifiers(ctx.sql)
        .iter()
        .filter_map(|q| ctx.vschema.keyspace(&q.name))
        .collect();
    if let Some(first) = named.first() {
        if let Some(other) = named.iter().find(|k| k.name != first.name) {
            return unsupported(format!(
                "DDL across keyspaces '{}' and '{}' is not supported",
                first.name, other.name
            ));
        }
        return Ok(first);
    }
    if let Some(target) = ctx.target {
        return ctx
            .vschema
            .keyspace(&target.keyspace)
            .ok_or(PlanError::NoDatabase);
    }
    let table = table_word
        .and_then(|i| ctx.text.tokens.get(i))
        .filter(|t| matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent))
        .map(|t| t.ident_value(ctx.sql).into_owned());
    match table.map(|t| ctx.vschema.find_table(&t)) {
        Some(Ok((ks, _))) => Ok(ks),
        _ => ctx
            .vschema
            .sole_unsharded_keyspace()
            .ok_or(PlanError::NoDatabase),
    }
}
