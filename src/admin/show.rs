//! The SHOW extensions' result sets (`reference/admin-statements.md` §5.2), built from the
//! VSchema, the configured shards and the session target.
//!
//! Every column is a NOT NULL VARCHAR, every value `Value::Bytes`, as in Vitess. Orders:
//! `SHOW VITESS_SHARDS` and `SHOW KEYSPACES` follow the config (keyspaces, then shards, as
//! listed); the `SHOW VSCHEMA` statements sort by name (byte order), like Vitess. `LIKE` patterns
//! use MySQL's `%` and `_`, `\` escapes the next character, and matching is case-sensitive (as
//! Vitess's `LikeToRegexp`).

use super::{AdminError, AdminStatement};
use crate::backend::Backends;
use crate::protocol::writer::synthetic_column;
use crate::session::Target;
use crate::vschema::{ForeignKeyMode, KeyspaceSchema, VSchema, VindexEntry};
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// A result set built by the proxy for an admin statement.
#[derive(Debug, Clone)]
pub struct AdminResult {
    /// Column definitions (all VARCHAR).
    pub columns: Vec<Column>,
    /// Rows; every value is `Value::Bytes`.
    pub rows: Vec<Vec<Value>>,
}

impl AdminResult {
    /// A result of NOT NULL VARCHAR columns named `names`, with string rows.
    pub fn varchar(names: &[&str], rows: Vec<Vec<String>>) -> AdminResult {
        AdminResult {
            columns: names
                .iter()
                .map(|n| {
                    synthetic_column(n, ColumnType::MYSQL_TYPE_VAR_STRING)
                        .with_flags(ColumnFlags::NOT_NULL_FLAG)
                })
                .collect(),
            rows: rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|v| Value::Bytes(v.into_bytes()))
                        .collect()
                })
                .collect(),
        }
    }

    /// The column names, for tests and logs.
    pub fn column_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect()
    }

    /// The rows as text (`NULL` for NULL), for tests and logs.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                        Value::NULL => "NULL".to_string(),
                        other => other.as_sql(true),
                    })
                    .collect()
            })
            .collect()
    }
}

/// Answers any SHOW variant of [`AdminStatement`]; `None` for `VExplain`, which the server runs
/// with the planner. `target` is the session's `USE` target (its keyspace is the current one).
pub fn execute_show(
    stmt: &AdminStatement,
    vschema: &VSchema,
    backends: &Backends,
    target: Option<&Target>,
) -> Option<Result<AdminResult, AdminError>> {
    let current = target.map(|t| t.keyspace.as_str());
    Some(match stmt {
        AdminStatement::ShowVitessShards { like } => show_vitess_shards(backends, like.as_deref()),
        AdminStatement::ShowKeyspaces { like } => show_keyspaces(backends, like.as_deref()),
        AdminStatement::ShowVSchemaKeyspaces => show_vschema_keyspaces(vschema),
        AdminStatement::ShowVSchemaTables { keyspace } => {
            show_vschema_tables(vschema, current, keyspace.as_deref())
        }
        AdminStatement::ShowVSchemaVindexes { table, keyspace } => show_vschema_vindexes(
            vschema,
            current,
            table.as_ref().map(|(q, t)| (q.as_deref(), t.as_str())),
            keyspace.as_deref(),
        ),
        AdminStatement::ShowVitessTarget => show_vitess_target(target),
        AdminStatement::ShowPools { like } => show_pools(backends, like.as_deref()),
        AdminStatement::VExplain { .. }
        | AdminStatement::Workflow(_)
        | AdminStatement::ShowGateways { .. }
        | AdminStatement::AlterVSchema(_)
        | AdminStatement::ReloadVSchema => return None,
    })
}

/// `SHOW VITESS_SHARDS [LIKE]`: column `Shards`, one `ks/shard` row per configured shard, in
/// config order.
pub fn show_vitess_shards(
    backends: &Backends,
    like: Option<&str>,
) -> Result<AdminResult, AdminError> {
    let rows = backends
        .keyspace_order
        .iter()
        .flat_map(|ks| backends.keyspace(ks).unwrap_or_default())
        .map(|s| format!("{}/{}", s.keyspace, s.name))
        .filter(|label| like.is_none_or(|p| like_match(p, label)))
        .map(|label| vec![label])
        .collect();
    Ok(AdminResult::varchar(&["Shards"], rows))
}

/// `SHOW POOLS [LIKE]`: one row per configured shard, in config order: `Shard` (`ks/shard`),
/// `Open` (connections serving statements or idle, at most `Max`), `Idle`, `InUse`, `Reserved`
/// (kept by sessions in a transaction or with pinned state, outside `Max`), `Max`, `Min` and
/// `IdleTimeoutMs`, from the pool counters at this moment.
pub fn show_pools(backends: &Backends, like: Option<&str>) -> Result<AdminResult, AdminError> {
    let rows = backends
        .keyspace_order
        .iter()
        .flat_map(|ks| backends.keyspace(ks).unwrap_or_default())
        .filter_map(|s| {
            let label = format!("{}/{}", s.keyspace, s.name);
            if !like.is_none_or(|p| like_match(p, &label)) {
                return None;
            }
            let st = s.pool_stats();
            let in_use = st.open.saturating_sub(st.idle);
            Some(vec![
                label,
                st.open.to_string(),
                st.idle.to_string(),
                in_use.to_string(),
                st.reserved.to_string(),
                st.max.to_string(),
                st.min.to_string(),
                st.idle_timeout.as_millis().to_string(),
            ])
        })
        .collect();
    Ok(AdminResult::varchar(
        &[
            "Shard",
            "Open",
            "Idle",
            "InUse",
            "Reserved",
            "Max",
            "Min",
            "IdleTimeoutMs",
        ],
        rows,
    ))
}

/// `SHOW KEYSPACES [LIKE]`: column `Database`, the configured keyspaces in config order.
pub fn show_keyspaces(backends: &Backends, like: Option<&str>) -> Result<AdminResult, AdminError> {
    let rows = backends
        .keyspace_order
        .iter()
        .filter(|k| like.is_none_or(|p| like_match(p, k)))
        .map(|k| vec![k.clone()])
        .collect();
    Ok(AdminResult::varchar(&["Database"], rows))
}

/// `SHOW VSCHEMA KEYSPACES`: `Keyspace, Sharded, Foreign Key, Comment`, by keyspace name.
/// An unset foreign key mode shows as `unmanaged` (Vitess's default); the comment (Vitess's
/// per-keyspace VSchema error) is always empty, since a VSchema with errors never loads.
pub fn show_vschema_keyspaces(vschema: &VSchema) -> Result<AdminResult, AdminError> {
    let rows = vschema
        .keyspaces()
        .map(|ks| {
            let fk = match ks.foreign_key_mode {
                ForeignKeyMode::Unspecified => ForeignKeyMode::Unmanaged,
                other => other,
            };
            vec![
                ks.name.clone(),
                ks.sharded.to_string(),
                fk.name().to_string(),
                String::new(),
            ]
        })
        .collect();
    Ok(AdminResult::varchar(
        &["Keyspace", "Sharded", "Foreign Key", "Comment"],
        rows,
    ))
}

/// `SHOW VSCHEMA TABLES`: column `Tables`, the tables of `keyspace` (default: the current
/// keyspace) sorted by name, `dual` included.
pub fn show_vschema_tables(
    vschema: &VSchema,
    current_keyspace: Option<&str>,
    keyspace: Option<&str>,
) -> Result<AdminResult, AdminError> {
    let ks = resolve_keyspace(vschema, keyspace.or(current_keyspace))?;
    let mut names: Vec<String> = ks.tables.keys().cloned().collect();
    if !ks.tables.contains_key("dual") {
        names.push("dual".to_string());
    }
    names.sort();
    Ok(AdminResult::varchar(
        &["Tables"],
        names.into_iter().map(|n| vec![n]).collect(),
    ))
}

/// `SHOW VSCHEMA VINDEXES`.
///
/// With `table` (`(qualifier, name)`, from `ON`/`FROM [ks.]tbl`): `Columns, Name, Type, Params,
/// Owner`, one row per column vindex in VSchema order (primary first); the keyspace is the
/// qualifier or the current one. An unknown table is an error in a sharded keyspace and an
/// empty result in an unsharded one (as in Vitess).
///
/// Without: `Keyspace, Name, Type, Params, Owner` for every vindex, keyspaces and vindexes by
/// name; `keyspace` (from `IN ks`) restricts it to one keyspace.
pub fn show_vschema_vindexes(
    vschema: &VSchema,
    current_keyspace: Option<&str>,
    table: Option<(Option<&str>, &str)>,
    keyspace: Option<&str>,
) -> Result<AdminResult, AdminError> {
    if let Some((qualifier, name)) = table {
        let ks = resolve_keyspace(vschema, qualifier.or(current_keyspace))?;
        let rows = match ks.table(name) {
            Some(t) => t
                .column_vindexes
                .iter()
                .map(|cv| {
                    let columns = cv.columns.join(", ");
                    match ks.vindex(&cv.vindex) {
                        Some(v) => vindex_row(columns, v),
                        None => vec![
                            columns,
                            cv.vindex.clone(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ],
                    }
                })
                .collect(),
            None if !ks.sharded => Vec::new(),
            None => {
                return Err(AdminError::UnknownTable {
                    table: name.to_string(),
                    keyspace: ks.name.clone(),
                })
            }
        };
        return Ok(AdminResult::varchar(
            &["Columns", "Name", "Type", "Params", "Owner"],
            rows,
        ));
    }
    let keyspaces: Vec<&KeyspaceSchema> = match keyspace {
        Some(name) => vec![resolve_keyspace(vschema, Some(name))?],
        None => vschema.keyspaces().collect(),
    };
    let rows = keyspaces
        .into_iter()
        .flat_map(|ks| ks.vindexes.values().map(|v| vindex_row(ks.name.clone(), v)))
        .collect();
    Ok(AdminResult::varchar(
        &["Keyspace", "Name", "Type", "Params", "Owner"],
        rows,
    ))
}

/// `SHOW VITESS_TARGET`: column `Target`, the session target as `ks` or `ks:shard`, empty when
/// no keyspace is selected.
pub fn show_vitess_target(target: Option<&Target>) -> Result<AdminResult, AdminError> {
    let text = match target {
        Some(Target {
            keyspace,
            shard: Some(shard),
        }) => format!("{keyspace}:{shard}"),
        Some(t) => t.keyspace.clone(),
        None => String::new(),
    };
    Ok(AdminResult::varchar(&["Target"], vec![vec![text]]))
}

/// The keyspace a statement applies to: `NoDatabase` when none, `UnknownKeyspace` when it is
/// not in the VSchema.
fn resolve_keyspace<'v>(
    vschema: &'v VSchema,
    name: Option<&str>,
) -> Result<&'v KeyspaceSchema, AdminError> {
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or(AdminError::NoDatabase)?;
    vschema
        .keyspace(name)
        .ok_or_else(|| AdminError::UnknownKeyspace(name.to_string()))
}

/// `[first, name, type, params, owner]` for a vindex.
fn vindex_row(first: String, v: &VindexEntry) -> Vec<String> {
    vec![
        first,
        v.name.clone(),
        v.type_name.clone(),
        format_params(v),
        v.owner.clone().unwrap_or_default(),
    ]
}

/// Params as `k=v` strings, sorted as strings and joined by `"; "` (Vitess's format).
fn format_params(v: &VindexEntry) -> String {
    let mut params: Vec<String> = v.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    params.sort();
    params.join("; ")
}

/// MySQL `LIKE`: `%` any run, `_` one character, `\` escapes the next; case-sensitive.
pub(crate) fn like_match(pattern: &str, text: &str) -> bool {
    #[derive(PartialEq)]
    enum Pat {
        Any,
        One,
        Lit(char),
    }
    let mut pat = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pat.push(match c {
            '%' => Pat::Any,
            '_' => Pat::One,
            '\\' => Pat::Lit(chars.next().unwrap_or('\\')),
            c => Pat::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching that backtracks to the last `%` on a mismatch.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pat.get(p) {
            Some(Pat::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Pat::One) => (p, t) = (p + 1, t + 1),
            Some(Pat::Lit(l)) if *l == c => (p, t) = (p + 1, t + 1),
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    (p, t) = (sp + 1, st + 1);
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .unwrap_or_default()
        .iter()
        .all(|x| *x == Pat::Any)
}
