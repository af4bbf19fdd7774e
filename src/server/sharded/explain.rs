//! `EXPLAIN` of a statement on a sharded keyspace, routed like the statement it explains.
//!
//! The explained SELECT, UPDATE or DELETE is planned as if it ran; each shard its route
//! reaches is asked to `EXPLAIN` the query that shard would receive (lookup vindexes are read
//! to find the shards, nothing is written). One shard's answer is relayed as it comes; several
//! shards' rows are concatenated in shard order. Before, any EXPLAIN went to the keyspace's
//! first shard, which explained a point query for a row it does not hold ("Impossible
//! WHERE"). `EXPLAIN` of an INSERT on a sharded keyspace is refused (1235): its shards depend
//! on keyspace ids a dry run would have to compute from lookup writes.

use super::session_cursor::SessionCursor;
use crate::error::ProxyError;
use crate::exec::{self, Cursor};
use crate::planner::{Plan, QueryTemplate, Route};
use crate::server::connection::{ClientConn, CommandError};
use crate::server::local_answers::LocalResult;
use crate::server::routing;
use crate::server::statement::Exec;
use crate::sql::{self, StatementKind, TokenKind};
use std::borrow::Cow;

/// Where the explained statement starts in an `EXPLAIN` text, and its kind; None when the
/// text explains no statement (`EXPLAIN t` / `DESCRIBE t` list a table's columns).
pub(super) fn explained(text: &str) -> Option<(usize, StatementKind)> {
    let mut toks = sql::Significant::new(text).peekable();
    let first = toks.next()?;
    if !["explain", "describe", "desc"]
        .iter()
        .any(|w| first.is_word(text, w))
    {
        return None;
    }
    while let Some(t) = toks.peek().copied() {
        if t.kind == TokenKind::Ident
            && ["extended", "partitions"]
                .iter()
                .any(|w| t.is_word(text, w))
        {
            toks.next();
        } else if t.is_word(text, "format") {
            // FORMAT = JSON / TRADITIONAL
            toks.next();
            toks.next();
            toks.next();
        } else {
            break;
        }
    }
    let start = toks.next()?;
    let inner = text.get(start.start..)?;
    let kind = sql::classify(inner);
    matches!(
        kind,
        StatementKind::Select
            | StatementKind::Insert
            | StatementKind::Replace
            | StatementKind::Update
            | StatementKind::Delete
    )
    .then_some((start.start, kind))
}

impl ClientConn {
    /// Answers `EXPLAIN <statement>` on sharded keyspace `keyspace` (see the module header);
    /// false when the text explains no statement and the caller answers it as a schema
    /// question.
    pub(super) async fn explain_sharded(
        &mut self,
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<bool, CommandError> {
        let Some((start, kind)) = explained(text) else {
            return Ok(false);
        };
        let state = self.state.clone();
        let vschema = state.vschema.load_full();
        let plan = state.plans.get_or_plan_text(
            &text[start..],
            kind,
            &vschema,
            self.session.target.as_ref(),
        )?;
        let (route, query): (&Route, &QueryTemplate) = match &*plan {
            Plan::Select(sp) => (&sp.route, &sp.query),
            Plan::Dml(dp) => (&dp.route, &dp.query),
            Plan::Passthrough { .. } => return Ok(false),
            Plan::Insert(_) | Plan::AllShards { .. } | Plan::InsertSelect(_) => {
                return Err(ProxyError::NotSupported(
                    "EXPLAIN of an INSERT or REPLACE on a sharded keyspace".into(),
                )
                .into())
            }
            Plan::Materialize(_) => {
                return Err(ProxyError::NotSupported(
                    "EXPLAIN of a statement the proxy answers over copies of its tables (VEXPLAIN PLAN shows its plan)".into(),
                )
                .into())
            }
        };
        let params = match exec {
            Exec::Binary(p) => p.clone(),
            Exec::Text => Vec::new(),
        };
        let keyspace = route.keyspace.clone();
        let prefix = &text[..start];
        let mut cursor = SessionCursor {
            conn: self,
            params: params.clone(),
        };
        let shards = cursor.shards(&keyspace)?;
        let mut targets =
            exec::resolve_route(&mut cursor, route, &params, &vschema, &shards, false).await?;
        if targets.is_empty() {
            // No shard can hold a row: any shard explains the (empty) answer.
            targets.push(exec::resolve::ShardTarget {
                shard: 0,
                values: Vec::new(),
            });
        }
        let queries: Vec<(usize, String)> = targets
            .iter()
            .map(|t| (t.shard, format!("{prefix}{}", exec::shard_sql(query, t))))
            .collect();
        if let ([(index, sql)], Exec::Text) = (queries.as_slice(), exec) {
            // One shard, text: its answer relayed byte for byte.
            let shard = self.shard_at(&keyspace, *index)?;
            let sql = routing::map_qualifiers(sql, &keyspace, &shard.database).into_owned();
            self.run_on_shard(
                &shard,
                Cow::Owned(sql),
                StatementKind::Explain,
                text,
                exec,
                more,
            )
            .await?;
            return Ok(true);
        }
        let mut cursor = SessionCursor { conn: self, params };
        let results = cursor.execute_each(&keyspace, queries).await?;
        let mut answer = LocalResult {
            columns: Vec::new(),
            rows: Vec::new(),
        };
        for r in results {
            if answer.columns.is_empty() {
                answer.columns = r.columns;
            }
            answer.rows.extend(r.rows);
        }
        self.write_local_result(&answer, exec, more);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_explained_statement() {
        fn at(sql: &str) -> Option<(&str, StatementKind)> {
            explained(sql).map(|(s, k)| (&sql[s..], k))
        }
        assert_eq!(
            at("EXPLAIN SELECT * FROM t"),
            Some(("SELECT * FROM t", StatementKind::Select))
        );
        assert_eq!(
            at("explain extended update t set a=1"),
            Some(("update t set a=1", StatementKind::Update))
        );
        assert_eq!(
            at("EXPLAIN FORMAT=JSON DELETE FROM t"),
            Some(("DELETE FROM t", StatementKind::Delete))
        );
        assert_eq!(
            at("DESCRIBE SELECT 1"),
            Some(("SELECT 1", StatementKind::Select))
        );
        assert_eq!(at("EXPLAIN t"), None);
        assert_eq!(at("DESCRIBE t"), None);
        assert_eq!(at("DESC t c"), None);
        assert_eq!(at("SELECT 1"), None);
    }
}
