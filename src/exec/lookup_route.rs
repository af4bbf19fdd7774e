//! Routing through a lookup vindex (Map): the lookup table is read for the statement's
//! values (one batched `IN` query per lookup shard, NULL matching nothing) and each value gets
//! the keyspace ids its lookup rows name, so the statement reaches only their shards. A
//! `write_only` vindex maps every value to all shards. When the lookup table is sharded by a
//! vindex that is not exact for its from column's collation ([`crate::schema_facts`]), the
//! read goes to every lookup shard (equal values may sit on different shards).

use super::lookup::{same_value, KeyColumn, Lookup, Placement};
use super::lookup_sql::{cell_value, ident, literal};
use super::{CommitOrder, Cursor, ExecError};
use crate::keyrange::KeyRange;
use crate::vindex::{Destination, SqlValue};
use crate::vschema::VSchema;

impl Lookup<'_> {
    /// Map: the destination of each value (in input order), read from the lookup table.
    /// `lock` adds the vindex's read lock (for reads inside DML). `by_value` false reads every
    /// lookup shard even when the table is sharded by the first from column (its vindex is not
    /// exact for the column's collation).
    pub async fn map<C: Cursor>(
        &self,
        cursor: &mut C,
        values: &[SqlValue],
        order: CommitOrder,
        lock: bool,
        by_value: bool,
    ) -> Result<Vec<Destination>, ExecError> {
        if self.params.write_only {
            return Ok(values
                .iter()
                .map(|_| Destination::KeyRange(KeyRange::full()))
                .collect());
        }
        let shards = cursor.shards(&self.keyspace)?;
        // Values per lookup shard (indexes into `values`); NULL matches nothing.
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        for (i, v) in values.iter().enumerate() {
            if v.is_null() {
                continue;
            }
            let targets = match &self.placement {
                Placement::ByColumn(vindex, KeyColumn::From(0)) if by_value => {
                    self.shards_for_value(&shards, vindex, v)?
                }
                Placement::Unsharded => vec![0],
                Placement::ByColumn(..) => (0..shards.len()).collect(),
            };
            for s in targets {
                if let Some(list) = per_shard.get_mut(s) {
                    list.push(i);
                }
            }
        }
        let from0 = self.params.from.first().map(String::as_str).unwrap_or("");
        // A lookup over several columns is read by its first column alone, a prefix of the
        // lookup table's key: a locking read would take next-key locks over every row and gap
        // of that value, and the statement's own pre-list insert of a moved lookup row (same
        // first column, another second one) would wait on its own post list until the lock
        // wait timeout. Such a DML read goes unlocked, twice: on a connection outside the
        // transaction (a fresh read of everything committed, as the locking read would see)
        // and on the pre list (the lookup rows this transaction inserted and has not
        // committed yet). A keyspace id too many only widens the route.
        let prefix_dml = lock && self.params.from.len() > 1;
        let suffix = if lock && !prefix_dml {
            self.params.read_lock.sql_suffix()
        } else {
            ""
        };
        let reads: &[CommitOrder] = if prefix_dml {
            &[CommitOrder::Autocommit, CommitOrder::Pre]
        } else {
            std::slice::from_ref(&order)
        };
        let mut found: Vec<Vec<Vec<u8>>> = vec![Vec::new(); values.len()];
        let mut unattributed: Vec<Vec<u8>> = Vec::new();
        for (shard, idx) in per_shard.iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let list: Vec<String> = idx
                .iter()
                .map(|&i| literal(&values[i], cursor.charset()))
                .collect();
            let from = ident(from0);
            let sql = format!(
                "SELECT {from}, {} FROM {} WHERE {from} IN ({}){suffix}",
                ident(&self.params.to),
                ident(&self.table),
                list.join(", ")
            );
            let mut results = Vec::with_capacity(reads.len());
            for &read in reads {
                results.push(
                    cursor
                        .execute_in(read, &self.keyspace, shard, sql.clone())
                        .await?,
                );
            }
            let rows = results
                .iter()
                .flat_map(|r| r.rows.iter().map(move |row| (r, row)));
            for (result, row) in rows {
                let (Some(key), Some(to)) = (row.first(), row.get(1)) else {
                    continue;
                };
                let key = cell_value(result.columns.first(), key);
                let ksid = self.ksid_of(&cell_value(result.columns.get(1), to))?;
                // Rows are matched back to their value by exact bytes; one the shard's
                // collation matched differently (`'A'` for `'a'`) goes to every value.
                let exact = idx
                    .iter()
                    .copied()
                    .filter(|&i| same_value(&values[i], &key))
                    .collect::<Vec<_>>();
                if exact.is_empty() {
                    if !unattributed.contains(&ksid) {
                        unattributed.push(ksid);
                    }
                } else {
                    for i in exact {
                        if !found[i].contains(&ksid) {
                            found[i].push(ksid.clone());
                        }
                    }
                }
            }
        }
        // Only the first from column is queried (Vitess's Map does the same); a unique vindex
        // over several columns is unique for the whole tuple, not for its first column, so
        // several keyspace ids for that column are a multi-shard route, never an error.
        let unique = self.params.kind.is_unique() && self.params.from.len() <= 1;
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            if v.is_null() {
                out.push(Destination::None);
                continue;
            }
            let mut ksids = std::mem::take(&mut found[i]);
            for k in &unattributed {
                if !ksids.contains(k) {
                    ksids.push(k.clone());
                }
            }
            out.push(match ksids.len() {
                0 => Destination::None,
                1 if unique || unattributed.is_empty() => Destination::KeyspaceId(ksids.remove(0)),
                _ if unique && unattributed.is_empty() => {
                    return Err(ExecError::Internal(format!(
                        "lookup vindex '{}': unexpected multiple results for {}",
                        self.name,
                        literal(v, cursor.charset())
                    )))
                }
                _ => Destination::KeyspaceIds(ksids),
            });
        }
        Ok(out)
    }
}

/// Route values from which a functional vindex's mapping runs off the runtime.
const OFFLOAD_VALUES: usize = 4096;

/// Resolves a route to its shards, reading the lookup table first when the route's vindex
/// is a lookup (`VindexLookup`); `dml` says the statement is an UPDATE or DELETE (its
/// lookup read runs in the post list, with the vindex's read lock).
pub async fn resolve_route<C: Cursor>(
    cursor: &mut C,
    route: &crate::planner::Route,
    params: &[mysql_async::Value],
    vschema: &VSchema,
    shards: &[(String, KeyRange)],
    dml: bool,
) -> Result<Vec<super::resolve::ShardTarget>, ExecError> {
    use crate::planner::RouteOpcode;
    let lookup = match (&route.opcode, route.vindex.as_deref()) {
        (RouteOpcode::EqualUnique | RouteOpcode::Equal | RouteOpcode::In, Some(name)) => {
            Lookup::find(vschema, &route.keyspace, name)?
        }
        _ => None,
    };
    let Some(lookup) = lookup else {
        if route.values.len() < OFFLOAD_VALUES {
            return super::resolve::resolve(route, params, vschema, shards);
        }
        // Mapping a long IN list through its vindex takes long enough (150,000 hash values:
        // about 0.1 s, more on a loaded host) to stall every other session on the one-thread
        // runtime: it runs on the blocking pool instead.
        let (route, params, vschema, shards) = (
            route.clone(),
            params.to_vec(),
            vschema.clone(),
            shards.to_vec(),
        );
        let resolved = crate::offload::run_if(true, move || {
            Ok(super::resolve::resolve(&route, &params, &vschema, &shards))
        })
        .await
        .map_err(|e| ExecError::Internal(e.to_string()))?;
        return resolved;
    };
    let values = super::resolve::route_values(route, params)?;
    let order = lookup.map_order(dml);
    let by_value =
        vschema
            .column_facts()
            .lookup_placement_exact(vschema, lookup.params, &route.keyspace);
    let dests = lookup.map(cursor, &values, order, dml, by_value).await?;
    super::resolve::targets_for(&dests, shards)
}

/// Whether the route's vindex is a lookup vindex of its keyspace.
pub(crate) fn is_lookup_route(route: &crate::planner::Route, vschema: &VSchema) -> bool {
    route
        .vindex
        .as_deref()
        .and_then(|v| vschema.keyspace(&route.keyspace)?.vindex(v))
        .is_some_and(|v| v.is_lookup())
}
