//! Vindexes queried as tables, as in Vitess: `SELECT id, keyspace_id, shard FROM ks.<vindex>
//! WHERE id IN (...)` answers, per value, the keyspace id the vindex gives and the shard that
//! holds it — without touching any shard. Columns: `id`, `keyspace_id`, `range_start`,
//! `range_end`, `hex_keyspace_id`, `shard`.

use super::local_answers::LocalResult;
use super::ProxyState;
use crate::error::ProxyError;
use crate::exec::resolve::{destination_shards, integer_like};
use crate::keyrange::to_hex;
use crate::protocol::writer::synthetic_column;
use crate::sql::{tokenize, Token, TokenKind};
use crate::vindex::{Destination, SqlValue};
use mysql_async::Value;
use mysql_common::constants::ColumnType;

const COLUMNS: [&str; 6] = [
    "id",
    "keyspace_id",
    "range_start",
    "range_end",
    "hex_keyspace_id",
    "shard",
];

/// A parsed vindex-as-table query.
struct VindexQuery {
    columns: Vec<usize>,
    vindex: String,
    values: Vec<SqlValue>,
}

fn literal(tok: &Token, src: &str, negative: bool) -> Option<SqlValue> {
    match tok.kind {
        TokenKind::Number => {
            let text = format!("{}{}", if negative { "-" } else { "" }, tok.text(src));
            Some(integer_like(SqlValue::varchar(text.into_bytes())))
        }
        _ if negative => None,
        TokenKind::String => Some(SqlValue::varchar(tok.string_value(src).as_bytes().to_vec())),
        TokenKind::Ident if tok.is_word(src, "null") => Some(SqlValue::null()),
        _ => None,
    }
}

/// Parses `SELECT cols FROM [ks.]name WHERE id (= v | IN (v, ...))` where `name` is a vindex
/// (not a table) of `keyspace`; None for anything else.
fn parse(
    text: &str,
    state: &ProxyState,
    keyspace: &str,
) -> Option<Result<VindexQuery, ProxyError>> {
    // This runs for SELECTs the planner refused; one naming a vindex contains its name
    // verbatim, which is cheap to rule out before tokenizing.
    let named = state.vschema.load().keyspace(keyspace).is_some_and(|ks| {
        ks.vindexes
            .keys()
            .any(|n| memchr::memmem::find(text.as_bytes(), n.as_bytes()).is_some())
    });
    if !named {
        return None;
    }
    let toks: Vec<Token> = tokenize(text)
        .into_iter()
        .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::Semicolon))
        .collect();
    let from = toks.iter().position(|t| t.is_word(text, "from"))?;
    let mut i = from + 1;
    let mut name = toks.get(i)?.ident_value(text).into_owned();
    if toks.get(i + 1).is_some_and(|t| t.is_punct(text, ".")) {
        if name != keyspace {
            return None;
        }
        name = toks.get(i + 2)?.ident_value(text).into_owned();
        i += 2;
    }
    let vschema = state.vschema.load();
    let ks = vschema.keyspace(keyspace)?;
    if ks.table(&name).is_some() || ks.vindex(&name).is_none() {
        return None;
    }
    if !toks.first()?.is_word(text, "select") {
        return None;
    }
    let mut columns = Vec::new();
    for t in &toks[1..from] {
        if t.is_punct(text, ",") {
            continue;
        }
        if t.is_punct(text, "*") {
            columns.extend(0..COLUMNS.len());
            continue;
        }
        let c = t.ident_value(text).to_ascii_lowercase();
        match COLUMNS.iter().position(|k| *k == c) {
            Some(p) => columns.push(p),
            None => {
                return Some(Err(ProxyError::NotSupported(format!(
                    "column '{c}' of vindex '{name}' (vindex tables have {})",
                    COLUMNS.join(", ")
                ))))
            }
        }
    }
    let rest = &toks[i + 1..];
    let shape_error = || {
        Some(Err(ProxyError::NotSupported(format!(
            "querying vindex '{name}' needs WHERE id = <value> or WHERE id IN (<values>)"
        ))))
    };
    if rest.len() < 4 || !rest[0].is_word(text, "where") || !rest[1].is_word(text, "id") {
        return shape_error();
    }
    let list = if rest[2].is_punct(text, "=") {
        &rest[3..]
    } else if rest[2].is_word(text, "in") && rest[3].is_punct(text, "(") {
        &rest[4..]
    } else {
        return shape_error();
    };
    let mut values = Vec::new();
    let mut negative = false;
    for t in list {
        if t.is_punct(text, ",") || t.is_punct(text, ")") {
            continue;
        }
        if t.is_punct(text, "-") {
            negative = !negative;
            continue;
        }
        match literal(t, text, negative) {
            Some(v) => values.push(v),
            None => return shape_error(),
        }
        negative = false;
    }
    if values.is_empty() || (rest[2].is_punct(text, "=") && values.len() != 1) {
        return shape_error();
    }
    Some(Ok(VindexQuery {
        columns,
        vindex: name,
        values,
    }))
}

/// Answers a vindex-as-table query, or None when `text` is not one.
pub fn answer(
    text: &str,
    state: &ProxyState,
    keyspace: &str,
) -> Option<Result<LocalResult, ProxyError>> {
    let query = match parse(text, state, keyspace)? {
        Ok(q) => q,
        Err(e) => return Some(Err(e)),
    };
    Some(build(&query, state, keyspace))
}

fn build(q: &VindexQuery, state: &ProxyState, keyspace: &str) -> Result<LocalResult, ProxyError> {
    let vschema = state.vschema.load();
    let entry = vschema
        .keyspace(keyspace)
        .and_then(|k| k.vindex(&q.vindex))
        .ok_or_else(|| ProxyError::Internal(format!("vindex {} vanished", q.vindex)))?;
    let vindex = entry.functional().ok_or_else(|| {
        ProxyError::NotSupported(format!("querying lookup vindex '{}' as a table", q.vindex))
    })?;
    let shards: Vec<(String, crate::keyrange::KeyRange)> = state
        .backends
        .keyspace(keyspace)
        .unwrap_or_default()
        .iter()
        .map(|s| (s.name.clone(), s.range.clone()))
        .collect();
    let dests = vindex
        .map(&q.values)
        .map_err(|e| ProxyError::Internal(format!("vindex '{}': {e}", q.vindex)))?;
    let mut rows = Vec::new();
    for (value, dest) in q.values.iter().zip(&dests) {
        let id = if value.is_null() {
            Value::NULL
        } else {
            Value::Bytes(value.raw().to_vec())
        };
        let shard_name = destination_shards(dest, &shards)
            .map_err(crate::error::ProxyError::from)?
            .first()
            .map(|&i| shards[i].0.clone());
        let full = [
            id,
            match dest {
                Destination::KeyspaceId(k) => Value::Bytes(k.clone()),
                _ => Value::NULL,
            },
            match dest {
                Destination::KeyRange(r) => Value::Bytes(r.start.clone()),
                _ => Value::NULL,
            },
            match dest {
                Destination::KeyRange(r) => Value::Bytes(r.end.clone()),
                _ => Value::NULL,
            },
            match dest {
                Destination::KeyspaceId(k) => Value::Bytes(to_hex(k).into_bytes()),
                _ => Value::NULL,
            },
            shard_name.map_or(Value::NULL, |s| Value::Bytes(s.into_bytes())),
        ];
        if matches!(dest, Destination::None) {
            continue;
        }
        rows.push(q.columns.iter().map(|&c| full[c].clone()).collect());
    }
    Ok(LocalResult {
        columns: q
            .columns
            .iter()
            .map(|&c| synthetic_column(COLUMNS[c], ColumnType::MYSQL_TYPE_VAR_STRING))
            .collect(),
        rows,
    })
}
