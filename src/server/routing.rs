//! Choosing the shard a passthrough statement runs on, and mapping keyspace names to the shard's
//! backend database in the statement text.
//!
//! Until vindex routing exists, a statement goes to one shard: the one `USE ks:shard` named, or
//! the only shard of an unsharded keyspace. The keyspace is the one the statement's qualifiers
//! name (`commerce.t`), else the session's, else the one the VSchema's global table names give
//! the statement's tables (Vitess's global routing, resolved as the planner resolves them),
//! else the first unsharded keyspace. Anything else is refused with 1235.
//!
//! One exception goes to the planner although its keyspace is unsharded: an INSERT/REPLACE
//! into a table whose VSchema has an `auto_increment` block, whose ids come from its sequence
//! (as vtgate fills them), not from MariaDB.

use super::ProxyState;
use crate::backend::Shard;
use crate::error::ProxyError;
use crate::session::Target;
use crate::sql;
use std::borrow::Cow;
use std::sync::Arc;

/// Parses the argument of `USE` / COM_INIT_DB: `ks`, `ks:shard` or `ks/shard`.
pub fn resolve_use(state: &ProxyState, db: &str) -> Result<Target, ProxyError> {
    let db = db.trim().trim_matches('`');
    let (keyspace, shard) = match db.find([':', '/']) {
        Some(i) => (&db[..i], Some(&db[i + 1..])),
        None => (db, None),
    };
    if state.backends.keyspace(keyspace).is_none() {
        return Err(ProxyError::UnknownDatabase(db.to_string()));
    }
    if let Some(shard) = shard {
        if state.backends.shard(keyspace, shard).is_none() {
            return Err(ProxyError::UnknownDatabase(db.to_string()));
        }
    }
    Ok(Target {
        keyspace: keyspace.to_string(),
        shard: shard.map(str::to_string),
    })
}

/// The text used for analysis: the statement itself when it is UTF-8, otherwise a copy with
/// every non-ASCII byte replaced by `a`, so token spans stay byte-exact in the original.
pub fn analysis_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(
            bytes
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { 'a' })
                .collect(),
        ),
    }
}

/// Where a statement goes: one known shard, or a sharded keyspace whose plan decides.
pub enum Decision<'a> {
    /// Send the (rewritten) text to this shard.
    Shard(Routed<'a>),
    /// The statement needs the planner: vindex routing in this sharded keyspace (or sequence
    /// ids for an INSERT into an unsharded keyspace's table).
    Sharded {
        /// The keyspace.
        keyspace: String,
    },
}

/// A statement ready to send: the shard and the (possibly rewritten) bytes.
pub struct Routed<'a> {
    /// The shard to run on.
    pub shard: Arc<Shard>,
    /// Statement bytes with keyspace qualifiers mapped to backend database names.
    pub sql: Cow<'a, [u8]>,
}

/// The keyspace a session-less, qualifier-less statement goes to.
fn default_keyspace(state: &ProxyState) -> Option<&str> {
    state
        .backends
        .keyspace_order
        .iter()
        .find(|k| !state.vschema.load().is_sharded(k))
        .map(String::as_str)
}

/// Global routing of a statement without qualifiers or session keyspace: the keyspace the
/// VSchema's global table names give its tables, as the planner resolves them
/// ([`crate::planner::global_keyspace`]); None for statements the planner does not plan, or
/// whose tables no keyspace lists (the default keyspace then runs them, as before).
fn global_keyspace(state: &ProxyState, text: &str) -> Result<Option<String>, ProxyError> {
    use crate::sql::StatementKind as K;
    let plannable = matches!(
        sql::classify(text),
        K::Select | K::Insert | K::Replace | K::Update | K::Delete | K::Ddl | K::Explain
    );
    let vschema = state.vschema.load();
    if !plannable || vschema.keyspaces().nth(1).is_none() {
        return Ok(None);
    }
    crate::planner::global_keyspace(text, &vschema, default_keyspace(state)).map_err(|e| {
        let (code, state) = e.mysql_code();
        match e {
            crate::planner::PlanError::NotSupported(m) => ProxyError::NotSupported(m),
            other => ProxyError::Backend(crate::backend::BackendError::Server {
                code,
                state: state.to_string(),
                message: other.to_string(),
            }),
        }
    })
}

/// Routes one statement (`text` is its analysis text, `bytes` the original).
pub fn route<'a>(
    state: &ProxyState,
    target: Option<&Target>,
    bytes: &'a [u8],
    text: &str,
    what: &str,
) -> Result<Decision<'a>, ProxyError> {
    let quals: Vec<sql::Qualifier> = sql::database_names(text)
        .into_iter()
        .filter(|q| state.backends.keyspace(&q.name).is_some())
        .collect();
    let mut referenced: Vec<&str> = quals.iter().map(|q| q.name.as_str()).collect();
    referenced.sort_unstable();
    referenced.dedup();
    let global = match (referenced.as_slice(), target) {
        ([], None) => global_keyspace(state, text)?,
        _ => None,
    };
    let keyspace: &str = match referenced.as_slice() {
        [] => match (target, &global) {
            (Some(t), _) => t.keyspace.as_str(),
            (None, Some(ks)) => ks.as_str(),
            (None, None) => default_keyspace(state).ok_or(ProxyError::NoDatabase)?,
        },
        [one] => one,
        many => {
            return Err(ProxyError::NotSupported(format!(
                "{what} spanning keyspaces {} is not supported yet",
                many.join(", ")
            )))
        }
    };
    let explicit_shard = target
        .filter(|t| t.keyspace == keyspace)
        .and_then(|t| t.shard.as_deref());
    let shards = state
        .backends
        .keyspace(keyspace)
        .ok_or_else(|| ProxyError::UnknownDatabase(keyspace.to_string()))?;
    let shard = match explicit_shard {
        Some(name) => state
            .backends
            .shard(keyspace, name)
            .ok_or_else(|| ProxyError::UnknownDatabase(format!("{keyspace}:{name}")))?,
        None if state.vschema.load().is_sharded(keyspace) || shards.len() != 1 => {
            let _ = what;
            return Ok(Decision::Sharded {
                keyspace: keyspace.to_string(),
            });
        }
        None if inserts_with_sequence(state, keyspace, text) => {
            return Ok(Decision::Sharded {
                keyspace: keyspace.to_string(),
            });
        }
        None => &shards[0],
    };
    let sql = rewrite_qualifiers(bytes, &quals, |ks| {
        (ks == keyspace).then_some(shard.database.as_str())
    });
    let sql = without_vindex_hints(sql);
    Ok(Decision::Shard(Routed {
        shard: shard.clone(),
        sql,
    }))
}

/// Whether `text` is an INSERT/REPLACE into a table of `keyspace` whose VSchema names an
/// `auto_increment` sequence (`INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE]
/// [INTO] [ks.]t`).
fn inserts_with_sequence(state: &ProxyState, keyspace: &str, text: &str) -> bool {
    let mut toks = sql::Significant::new(text);
    if !matches!(toks.next(), Some(t) if t.is_word(text, "insert") || t.is_word(text, "replace")) {
        return false;
    }
    let vschema = state.vschema.load();
    let Some(ks) = vschema.keyspace(keyspace) else {
        return false;
    };
    if ks.tables.values().all(|t| t.auto_increment.is_none()) {
        return false;
    }
    let mut name = None;
    for t in toks.by_ref() {
        let modifier = ["low_priority", "delayed", "high_priority", "ignore", "into"]
            .iter()
            .any(|w| t.is_word(text, w));
        if !modifier {
            name = Some(t);
            break;
        }
    }
    let Some(first) =
        name.filter(|t| matches!(t.kind, sql::TokenKind::Ident | sql::TokenKind::QuotedIdent))
    else {
        return false;
    };
    let mut table = first.ident_value(text).into_owned();
    if matches!(toks.next(), Some(t) if t.is_punct(text, ".")) {
        match toks.next() {
            Some(t) if matches!(t.kind, sql::TokenKind::Ident | sql::TokenKind::QuotedIdent) => {
                table = t.ident_value(text).into_owned()
            }
            _ => return false,
        }
    }
    ks.table(&table).is_some_and(|t| t.auto_increment.is_some())
}

/// `sql` with Vitess's vindex hints (`USE VINDEX (..)`, which MariaDB does not know) blanked
/// out, for a statement that goes to a shard as the client wrote it (see
/// [`sql::vindex_hints`]). Borrowed unchanged when it has none.
pub fn without_vindex_hints(sql: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    let blanked = {
        let text = analysis_text(&sql);
        match sql::vindex_hints::blank(&sql, &text) {
            Cow::Owned(v) => Some(v),
            Cow::Borrowed(_) => None,
        }
    };
    match blanked {
        Some(v) => Cow::Owned(v),
        None => sql,
    }
}

/// Maps `keyspace.` qualifiers in planner output to one shard's backend database.
pub fn map_qualifiers<'a>(sql: &'a str, keyspace: &str, database: &str) -> Cow<'a, [u8]> {
    if keyspace == database || !sql.contains(keyspace) {
        return Cow::Borrowed(sql.as_bytes());
    }
    let quals: Vec<sql::Qualifier> = sql::database_names(sql)
        .into_iter()
        .filter(|q| q.name == keyspace)
        .collect();
    rewrite_qualifiers(sql.as_bytes(), &quals, |_| Some(database))
}

/// Maps `keyspace.` qualifiers of a client statement to one shard's backend database: the
/// qualifiers are found in `text` (its [`analysis_text`], same byte offsets) and replaced in
/// `bytes`, which may be in any character set.
pub fn map_qualifiers_in<'a>(
    bytes: &'a [u8],
    text: &str,
    keyspace: &str,
    database: &str,
) -> Cow<'a, [u8]> {
    let quals: Vec<sql::Qualifier> = sql::database_names(text)
        .into_iter()
        .filter(|q| q.name == keyspace)
        .collect();
    rewrite_qualifiers(bytes, &quals, |_| Some(database))
}

/// Replaces each qualifier span with the backquoted database name when it differs.
fn rewrite_qualifiers<'a, 'm>(
    bytes: &'a [u8],
    quals: &[sql::Qualifier],
    db_of: impl Fn(&str) -> Option<&'m str>,
) -> Cow<'a, [u8]> {
    let edits: Vec<(usize, usize, &str)> = quals
        .iter()
        .filter_map(|q| {
            let db = db_of(&q.name)?;
            (db != q.name).then_some((q.start, q.end, db))
        })
        .collect();
    if edits.is_empty() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, db) in edits {
        if start < at || end > bytes.len() {
            continue;
        }
        out.extend_from_slice(&bytes[at..start]);
        out.push(b'`');
        out.extend_from_slice(db.replace('`', "``").as_bytes());
        out.push(b'`');
        at = end;
    }
    out.extend_from_slice(&bytes[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_text_keeps_offsets() {
        let bytes = b"select 'caf\xe9' from commerce.t";
        let t = analysis_text(bytes);
        assert_eq!(t.len(), bytes.len());
        assert!(t.ends_with("commerce.t"));
    }

    #[test]
    fn rewrites_only_mapped_qualifiers() {
        let sql = b"select * from commerce.t join `commerce`.u on t.a = u.a";
        let text = analysis_text(sql);
        let quals = sql::qualifiers(&text);
        let out = rewrite_qualifiers(sql, &quals, |k| (k == "commerce").then_some("vt_commerce"));
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            "select * from `vt_commerce`.t join `vt_commerce`.u on t.a = u.a"
        );
        let same = rewrite_qualifiers(sql, &quals, |k| (k == "commerce").then_some("commerce"));
        assert!(matches!(same, Cow::Borrowed(_)));
    }
}
