//! CreateLookupVindex, ExternalizeVindex and CancelLookupVindex: validation, the lookup
//! table's DDL, the VSchema edits, and their order.
//!
//! Everything is checked before anything changes (`create-lookup-vindex.md` §3.2): one lookup
//! vindex of a type we maintain, an owner table that exists with one column per from column,
//! names not taken by something different, a lookup table that is absent or empty. Then:
//! create the lookup table on every target shard → save the target VSchema file → save the
//! source VSchema file (vindex `write_only`) → swap the in-memory VSchema → store the stream
//! rows and start them. A failure undoes the steps already done, so a failed create leaves
//! VSchema and shards as they were; an identical create of an existing workflow is a no-op.

use super::store::{self, StreamRow};
use super::{Definition, WorkflowError};
use crate::admin::CreateOptions;
use crate::backend::{BackendError, Shard};
use crate::error::ProxyError;
use crate::server::ProxyState;
use crate::vschema::{KeyspaceSchema, LookupKind, VSchema};
use mysql_async::prelude::Queryable;
use serde_json::{json, Map, Value};
use std::sync::Arc;

fn invalid<T>(msg: impl Into<String>) -> Result<T, WorkflowError> {
    Err(WorkflowError::Invalid(msg.into()))
}

fn backend(shard: &Shard, e: mysql_async::Error) -> WorkflowError {
    WorkflowError::Proxy(ProxyError::Backend(BackendError::from_driver(
        e,
        &shard.label,
    )))
}

fn shards_of(state: &ProxyState, keyspace: &str) -> Result<Vec<Arc<Shard>>, WorkflowError> {
    state
        .backends
        .keyspace(keyspace)
        .map(<[Arc<Shard>]>::to_vec)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WorkflowError::Invalid(format!("keyspace '{keyspace}' does not exist")))
}

/// The parts of a spec that matter.
struct Spec {
    vindex: String,
    vindex_json: Value,
    owner: String,
    columns: Vec<String>,
    from: Vec<String>,
    target_keyspace: String,
    lookup_table: String,
    table_vindex: Option<String>,
}

fn parse_spec(spec: &Value) -> Result<Spec, WorkflowError> {
    let Some(vindexes) = spec.get("vindexes").and_then(Value::as_object) else {
        return invalid("the spec has no \"vindexes\" object");
    };
    if vindexes.len() != 1 {
        return invalid(format!(
            "the spec must define exactly one vindex, it defines {}",
            vindexes.len()
        ));
    }
    let Some((name, v)) = vindexes.iter().next() else {
        return invalid("the spec has no vindex");
    };
    let type_name = v.get("type").and_then(Value::as_str).unwrap_or("");
    let kind = match LookupKind::from_type_name(type_name) {
        Some(k) if !k.stores_hashed_id() => k,
        _ => {
            return invalid(format!(
                "vindex '{name}' has type '{type_name}'; CreateLookupVindex takes lookup, lookup_unique, consistent_lookup or consistent_lookup_unique"
            ))
        }
    };
    let params = v
        .get("params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let Some(table) = params.get("table").and_then(Value::as_str) else {
        return invalid(format!(
            "vindex '{name}' needs params.table as <keyspace>.<table>"
        ));
    };
    let Some((target_keyspace, lookup_table)) = table.split_once('.') else {
        return invalid(format!(
            "vindex '{name}': params.table '{table}' must be <keyspace>.<table>"
        ));
    };
    let from: Vec<String> = params
        .get("from")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if from.is_empty() {
        return invalid(format!("vindex '{name}' needs params.from"));
    }
    if kind.is_unique() && from.len() != 1 {
        return invalid(format!(
            "unique vindex '{name}' takes exactly one from column, not {}",
            from.len()
        ));
    }
    if let Some(b) = params.get("ignore_nulls").and_then(Value::as_str) {
        if b != "true" && b != "false" {
            return invalid(format!(
                "vindex '{name}': ignore_nulls must be \"true\" or \"false\""
            ));
        }
    }
    let Some(owner) = v.get("owner").and_then(Value::as_str) else {
        return invalid(format!(
            "vindex '{name}' needs an owner table (shardgate maintains owned lookups; an unowned lookup would need replication)"
        ));
    };
    let Some(tables) = spec.get("tables").and_then(Value::as_object) else {
        return invalid("the spec has no \"tables\" object");
    };
    if tables.is_empty() || tables.len() > 2 {
        return invalid(
            "the spec's \"tables\" must name the owner table and optionally the lookup table",
        );
    }
    let Some(owner_entry) = tables.get(owner) else {
        return invalid(format!(
            "the spec's \"tables\" has no entry for owner table '{owner}'"
        ));
    };
    let cvs = owner_entry
        .get("column_vindexes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let [cv] = cvs.as_slice() else {
        return invalid(format!(
            "owner table '{owner}' must list exactly one column vindex in the spec"
        ));
    };
    if cv.get("name").and_then(Value::as_str) != Some(name.as_str()) {
        return invalid(format!(
            "owner table '{owner}' must use vindex '{name}' in the spec"
        ));
    }
    let columns: Vec<String> = match (cv.get("column"), cv.get("columns")) {
        (Some(Value::String(c)), _) => vec![c.to_lowercase()],
        (_, Some(Value::Array(cs))) => cs
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect(),
        _ => {
            return invalid(format!(
                "owner table '{owner}': the column vindex names no column"
            ))
        }
    };
    if columns.len() != from.len() {
        return invalid(format!(
            "owner table '{owner}' has {} columns for vindex '{name}', which has {} from columns",
            columns.len(),
            from.len()
        ));
    }
    let mut table_vindex = None;
    for (t, entry) in tables {
        if t == owner {
            continue;
        }
        if t != lookup_table {
            return invalid(format!(
                "the spec's table '{t}' is neither the owner nor the lookup table '{lookup_table}'"
            ));
        }
        let cvs = entry
            .get("column_vindexes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let [cv] = cvs.as_slice() else {
            return invalid(format!(
                "lookup table '{t}' must list exactly one column vindex"
            ));
        };
        if cv
            .get("column")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            != from.first().map(|f| f.to_lowercase())
        {
            return invalid(format!(
                "lookup table '{t}' must be sharded by its first from column '{}'",
                from[0]
            ));
        }
        table_vindex = cv.get("name").and_then(Value::as_str).map(str::to_string);
    }
    let mut vindex_json = v.clone();
    if let Some(p) = vindex_json.get_mut("params").and_then(Value::as_object_mut) {
        p.entry("to").or_insert_with(|| json!("keyspace_id"));
    }
    Ok(Spec {
        vindex: name.clone(),
        vindex_json,
        owner: owner.to_string(),
        columns,
        from,
        target_keyspace: target_keyspace.trim_matches('`').to_string(),
        lookup_table: lookup_table.trim_matches('`').to_string(),
        table_vindex,
    })
}

/// The params of a vindex JSON without `write_only`, for comparing definitions.
fn without_write_only(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(p) = v.get_mut("params").and_then(Value::as_object_mut) {
        p.remove("write_only");
        p.entry("to").or_insert_with(|| json!("keyspace_id"));
    }
    v
}

/// A column definition line of `SHOW CREATE TABLE` for `column`, renamed to `name`, with
/// AUTO_INCREMENT and DEFAULT NULL removed.
fn column_definition(ddl: &str, column: &str, name: &str) -> Option<String> {
    let quoted = format!("`{column}`");
    let line = ddl
        .lines()
        .map(str::trim)
        .find(|l| l.len() >= quoted.len() && l[..quoted.len()].eq_ignore_ascii_case(&quoted))?;
    let rest = line[quoted.len()..].trim_end_matches(',');
    let rest = rest
        .replace(" AUTO_INCREMENT", "")
        .replace(" DEFAULT NULL", "");
    Some(format!("{} {}", crate::sql::quote_ident(name), rest.trim()))
}

/// The default vindex type for a lookup table sharded by a column of this definition.
fn default_table_vindex(definition: &str) -> &'static str {
    let ty = definition
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase();
    if ty.contains("int") {
        "hash"
    } else if ty.contains("binary") || ty.contains("blob") {
        "binary_md5"
    } else {
        "unicode_loose_md5"
    }
}

/// Whether the lookup table exists on a shard, and if so whether it is empty.
async fn table_state(shard: &Arc<Shard>, table: &str) -> Result<Option<bool>, WorkflowError> {
    let mut c = shard.get_conn().await?;
    let r: Result<Option<u8>, _> = c
        .query_first(format!(
            "SELECT 1 FROM {} LIMIT 1",
            crate::sql::quote_ident(table)
        ))
        .await;
    match r {
        Ok(row) => Ok(Some(row.is_none())),
        Err(mysql_async::Error::Server(e)) if e.code == 1146 => Ok(None),
        Err(e) => Err(backend(shard, e)),
    }
}

/// Builds and validates a new VSchema with the edited keyspaces.
fn edited(vschema: &VSchema, edits: &[(&str, &Value)]) -> Result<VSchema, WorkflowError> {
    let mut next: Option<VSchema> = None;
    for (ks, json) in edits {
        let schema = KeyspaceSchema::from_value(ks, (*json).clone())?;
        let base = next.as_ref().unwrap_or(vschema);
        next = Some(base.with_keyspace(schema)?);
    }
    next.ok_or_else(|| WorkflowError::Invalid("nothing to change".into()))
}

/// `CreateLookupVindex`: returns the message for the client.
pub async fn create(state: &Arc<ProxyState>, opts: CreateOptions) -> Result<String, WorkflowError> {
    let _guard = state.workflow_admin.lock().await;
    let spec = parse_spec(&opts.spec)?;
    let vschema = state.vschema.load_full();
    let Some(source) = vschema.keyspace(&opts.keyspace) else {
        return invalid(format!("keyspace '{}' does not exist", opts.keyspace));
    };
    if !source.sharded {
        return invalid(format!(
            "keyspace '{}' is not sharded; a lookup vindex needs a sharded owner table",
            opts.keyspace
        ));
    }
    let Some(owner) = source.table(&spec.owner) else {
        return invalid(format!(
            "owner table '{}' does not exist in the VSchema of keyspace '{}'",
            spec.owner, opts.keyspace
        ));
    };
    let target = vschema.keyspace(&spec.target_keyspace).ok_or_else(|| {
        WorkflowError::Invalid(format!(
            "target keyspace '{}' does not exist",
            spec.target_keyspace
        ))
    })?;
    let workflow = format!("{}.{}", opts.keyspace, spec.vindex);
    // An existing vindex of that name: the same definition is this workflow again.
    if let Some(existing) = source.raw.get("vindexes").and_then(|v| v.get(&spec.vindex)) {
        if without_write_only(existing) != without_write_only(&spec.vindex_json) {
            return invalid(format!(
                "vindex '{}' already exists in keyspace '{}' with a different definition",
                spec.vindex, opts.keyspace
            ));
        }
        let running = super::all_streams(state)
            .await?
            .into_iter()
            .any(|(_, r)| r.workflow == workflow);
        return Ok(if running {
            format!("workflow {workflow} already exists; SHOW VINDEX WORKFLOWS shows its progress")
        } else {
            format!("vindex {workflow} already exists")
        });
    }
    if let Some(cv) = owner
        .column_vindexes
        .iter()
        .find(|cv| cv.vindex == spec.vindex)
    {
        return invalid(format!(
            "table '{}' already uses a vindex named '{}' on ({})",
            spec.owner,
            spec.vindex,
            cv.columns.join(", ")
        ));
    }
    for c in &spec.columns {
        if owner.column(c).is_none() && !owner.columns.is_empty() && owner.column_list_authoritative
        {
            return invalid(format!("owner table '{}' has no column '{c}'", spec.owner));
        }
    }
    if let Some(t) = target.table(&spec.lookup_table) {
        let matches = t.column_vindexes.len() == 1
            && t.column_vindexes[0].columns.first().map(String::as_str)
                == spec.from.first().map(|f| f.as_str());
        if target.sharded && !matches {
            return invalid(format!(
                "table '{}' already exists in the VSchema of keyspace '{}' with other vindexes",
                spec.lookup_table, spec.target_keyspace
            ));
        }
    }
    // The owner's columns, from one source shard.
    let source_shards = shards_of(state, &opts.keyspace)?;
    let target_shards = shards_of(state, &spec.target_keyspace)?;
    let ddl: String = {
        let s = &source_shards[0];
        let mut c = s.get_conn().await?;
        let row: Option<(String, String)> = c
            .query_first(format!(
                "SHOW CREATE TABLE {}",
                crate::sql::quote_ident(&spec.owner)
            ))
            .await
            .map_err(|e| backend(s, e))?;
        row.map(|r| r.1).ok_or_else(|| {
            WorkflowError::Invalid(format!(
                "owner table '{}' not found on {}",
                spec.owner, s.label
            ))
        })?
    };
    let mut defs = Vec::new();
    for (col, from) in spec.columns.iter().zip(&spec.from) {
        defs.push(column_definition(&ddl, col, from).ok_or_else(|| {
            WorkflowError::Invalid(format!(
                "owner table '{}' has no column '{col}'",
                spec.owner
            ))
        })?);
    }
    let to = spec
        .vindex_json
        .pointer("/params/to")
        .and_then(Value::as_str)
        .unwrap_or("keyspace_id")
        .to_string();
    let pk = spec
        .from
        .iter()
        .map(|f| crate::sql::quote_ident(f))
        .collect::<Vec<_>>()
        .join(", ");
    let create_sql = format!(
        "CREATE TABLE {} ({}, {} VARBINARY(128), PRIMARY KEY ({pk}))",
        crate::sql::quote_ident(&spec.lookup_table),
        defs.join(", "),
        crate::sql::quote_ident(&to)
    );
    let mut exists = Vec::with_capacity(target_shards.len());
    for s in &target_shards {
        match table_state(s, &spec.lookup_table).await? {
            Some(false) => {
                return invalid(format!(
                    "lookup table '{}' on {} is not empty",
                    spec.lookup_table, s.label
                ))
            }
            other => exists.push(other.is_some()),
        }
    }
    // The edited VSchemas, validated before anything is written.
    let mut target_json = target.raw.clone();
    let mut source_json = source.raw.clone();
    {
        let t = object(&mut target_json)?;
        let tables = object(t.entry("tables").or_insert_with(|| json!({})))?;
        if target.sharded {
            let vindex_type = spec
                .table_vindex
                .clone()
                .unwrap_or_else(|| default_table_vindex(&defs[0]).to_string());
            // The table vindex: an existing one of that name, or a new one of that type.
            let vindexes = object(t.entry("vindexes").or_insert_with(|| json!({})))?;
            let name = if vindexes.contains_key(&vindex_type) {
                vindex_type.clone()
            } else {
                vindexes.insert(vindex_type.clone(), json!({"type": vindex_type}));
                vindex_type.clone()
            };
            let t = object(&mut target_json)?;
            let tables = object(t.entry("tables").or_insert_with(|| json!({})))?;
            tables.insert(
                spec.lookup_table.clone(),
                json!({"column_vindexes": [{"column": spec.from[0], "name": name}]}),
            );
        } else {
            tables
                .entry(spec.lookup_table.clone())
                .or_insert_with(|| json!({}));
        }
    }
    {
        let s = object(&mut source_json)?;
        let mut v = spec.vindex_json.clone();
        if let Some(p) = v.get_mut("params").and_then(Value::as_object_mut) {
            p.insert("write_only".into(), json!("true"));
        }
        object(s.entry("vindexes").or_insert_with(|| json!({})))?.insert(spec.vindex.clone(), v);
        let tables = object(s.entry("tables").or_insert_with(|| json!({})))?;
        let entry = object(
            tables
                .entry(spec.owner.clone())
                .or_insert_with(|| json!({})),
        )?;
        let cvs = entry.entry("column_vindexes").or_insert_with(|| json!([]));
        if let Value::Array(list) = cvs {
            let cv = if spec.columns.len() == 1 {
                json!({"column": spec.columns[0], "name": spec.vindex})
            } else {
                json!({"columns": spec.columns, "name": spec.vindex})
            };
            list.push(cv);
        }
    }
    let same_keyspace = spec.target_keyspace == opts.keyspace;
    if same_keyspace {
        // One keyspace: apply the table edit to the source copy too.
        let lookup_entry = target_json
            .pointer(&format!("/tables/{}", spec.lookup_table))
            .cloned();
        if let (Some(entry), Some(tables)) = (
            lookup_entry,
            source_json.get_mut("tables").and_then(Value::as_object_mut),
        ) {
            tables.insert(spec.lookup_table.clone(), entry);
        }
        if let (Some(Value::Object(tv)), Some(sv)) = (
            target_json.get("vindexes").cloned(),
            source_json
                .get_mut("vindexes")
                .and_then(Value::as_object_mut),
        ) {
            for (k, v) in tv {
                sv.entry(k).or_insert(v);
            }
        }
    }
    let edits: Vec<(&str, &Value)> = if same_keyspace {
        vec![(opts.keyspace.as_str(), &source_json)]
    } else {
        vec![
            (spec.target_keyspace.as_str(), &target_json),
            (opts.keyspace.as_str(), &source_json),
        ]
    };
    let next = edited(&vschema, &edits)?;
    // Apply: tables, files, memory.
    let dir = state.config.vschema_dir();
    let mut created: Vec<Arc<Shard>> = Vec::new();
    let undo_tables = |created: Vec<Arc<Shard>>, table: String| async move {
        for s in created {
            if let Ok(mut c) = s.get_conn().await {
                let _ = c
                    .query_drop(format!(
                        "DROP TABLE IF EXISTS {}",
                        crate::sql::quote_ident(&table)
                    ))
                    .await;
            }
        }
    };
    for (s, existed) in target_shards.iter().zip(&exists) {
        if *existed {
            continue;
        }
        let r = match s.get_conn().await {
            Ok(mut c) => c.query_drop(&create_sql).await.map_err(|e| backend(s, e)),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = r {
            undo_tables(created, spec.lookup_table.clone()).await;
            return Err(e);
        }
        created.push(s.clone());
    }
    if let Err(e) = store::ensure(&target_shards[0]).await {
        undo_tables(created, spec.lookup_table.clone()).await;
        return Err(e.into());
    }
    let mut saved: Vec<(&str, Value)> = Vec::new();
    for (ks, json) in &edits {
        let before = vschema
            .keyspace(ks)
            .map(|k| k.raw.clone())
            .unwrap_or_else(|| json!({}));
        if let Err(e) = VSchema::save_keyspace(&dir, ks, json) {
            for (k, old) in saved {
                let _ = VSchema::save_keyspace(&dir, k, &old);
            }
            undo_tables(created, spec.lookup_table.clone()).await;
            return Err(e.into());
        }
        saved.push((ks, before));
    }
    state.vschema.store(Arc::new(next));
    let def = Definition {
        keyspace: opts.keyspace.clone(),
        vindex: spec.vindex.clone(),
        owner_table: spec.owner.clone(),
        target_keyspace: spec.target_keyspace.clone(),
        lookup_table: spec.lookup_table.clone(),
        continue_after_copy: opts.continue_after_copy,
        max_rows_per_sec: opts.max_rows_per_sec,
        max_backend_load: opts.max_backend_load,
        chunk_size: opts.chunk_size,
        created_table: !created.is_empty(),
        source_vschema_before: source.raw.clone(),
        target_vschema_before: target.raw.clone(),
    };
    let definition = serde_json::to_string(&def)
        .map_err(|e| WorkflowError::Invalid(format!("workflow definition: {e}")))?;
    for s in &source_shards {
        let row = StreamRow {
            workflow: workflow.clone(),
            source_shard: s.name.clone(),
            state: "Copying".into(),
            phase: "copy".into(),
            message: "copy starting".into(),
            last_pk: None,
            rows_copied: 0,
            rows_total: 0,
            definition: definition.clone(),
        };
        store::save(&target_shards[0], &row).await?;
        state.workflows.start_stream(state, def.clone(), row);
    }
    Ok(format!(
        "workflow {workflow} started: lookup table {}.{} created, vindex {} added write_only; SHOW VINDEX WORKFLOWS shows progress",
        spec.target_keyspace, spec.lookup_table, spec.vindex
    ))
}

/// The object inside a JSON value (VSchema JSON is validated, so its objects are objects).
fn object(v: &mut Value) -> Result<&mut Map<String, Value>, WorkflowError> {
    v.as_object_mut()
        .ok_or_else(|| WorkflowError::Invalid("VSchema JSON: expected an object".into()))
}

/// The definition and stream rows of a workflow.
async fn find(
    state: &ProxyState,
    workflow: &str,
) -> Result<(Definition, Vec<StreamRow>), WorkflowError> {
    let mut def = None;
    let mut rows = Vec::new();
    for (d, r) in super::all_streams(state).await? {
        if r.workflow == workflow {
            def.get_or_insert(d);
            rows.push(r);
        }
    }
    match def {
        Some(d) => Ok((d, rows)),
        None => invalid(format!("no lookup vindex workflow {workflow}")),
    }
}

/// `ExternalizeVindex`: once every stream is in sync, the vindex routes reads.
pub async fn externalize(
    state: &Arc<ProxyState>,
    keyspace: &str,
    vindex: &str,
) -> Result<String, WorkflowError> {
    let _guard = state.workflow_admin.lock().await;
    let workflow = format!("{keyspace}.{vindex}");
    let (def, rows) = find(state, &workflow).await?;
    for r in &rows {
        if r.phase == "copy" || r.state == "Error" || (r.phase == "verify" && r.state != "Running")
        {
            return invalid(format!(
                "workflow {workflow} is not in sync yet: stream {} is {} ({}); wait for \"Stopped after copy\"",
                r.source_shard, r.state, r.message
            ));
        }
    }
    let vschema = state.vschema.load_full();
    let source = vschema
        .keyspace(keyspace)
        .ok_or_else(|| WorkflowError::Invalid(format!("keyspace '{keyspace}' does not exist")))?;
    let mut json = source.raw.clone();
    match json
        .pointer_mut(&format!("/vindexes/{vindex}/params"))
        .and_then(Value::as_object_mut)
    {
        Some(p) => {
            p.remove("write_only");
        }
        None => return invalid(format!("vindex {workflow} is not in the VSchema")),
    }
    let next = edited(&vschema, &[(keyspace, &json)])?;
    state.workflows.stop_workflow(&workflow).await;
    VSchema::save_keyspace(&state.config.vschema_dir(), keyspace, &json)?;
    state.vschema.store(Arc::new(next));
    let store_shard = shards_of(state, &def.target_keyspace)?;
    store::delete(&store_shard[0], &workflow).await?;
    Ok(format!(
        "vindex {workflow} externalized: reads on {}.{} now route through it",
        def.owner_table, def.vindex
    ))
}

/// `CancelLookupVindex`: stops the workflow, restores the VSchema, drops the lookup table
/// the create made (unless `keep_table`).
pub async fn cancel(
    state: &Arc<ProxyState>,
    keyspace: &str,
    vindex: &str,
    keep_table: bool,
) -> Result<String, WorkflowError> {
    let _guard = state.workflow_admin.lock().await;
    let workflow = format!("{keyspace}.{vindex}");
    let (def, _) = find(state, &workflow).await?;
    state.workflows.stop_workflow(&workflow).await;
    let vschema = state.vschema.load_full();
    let edits: Vec<(&str, &Value)> = if def.target_keyspace == def.keyspace {
        vec![(def.keyspace.as_str(), &def.source_vschema_before)]
    } else {
        vec![
            (def.keyspace.as_str(), &def.source_vschema_before),
            (def.target_keyspace.as_str(), &def.target_vschema_before),
        ]
    };
    let next = edited(&vschema, &edits)?;
    let dir = state.config.vschema_dir();
    for (ks, json) in &edits {
        VSchema::save_keyspace(&dir, ks, json)?;
    }
    state.vschema.store(Arc::new(next));
    let target_shards = shards_of(state, &def.target_keyspace)?;
    let dropped = def.created_table && !keep_table;
    if dropped {
        for s in &target_shards {
            let mut c = s.get_conn().await?;
            c.query_drop(format!(
                "DROP TABLE IF EXISTS {}",
                crate::sql::quote_ident(&def.lookup_table)
            ))
            .await
            .map_err(|e| backend(s, e))?;
        }
    }
    store::delete(&target_shards[0], &workflow).await?;
    Ok(format!(
        "workflow {workflow} cancelled; VSchema restored; lookup table {}.{} {}",
        def.target_keyspace,
        def.lookup_table,
        if dropped { "dropped" } else { "kept" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_column_from_show_create_table() {
        let ddl = "CREATE TABLE `user` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `email` varchar(255) COLLATE utf8mb4_general_ci DEFAULT NULL,\n  PRIMARY KEY (`id`)\n)";
        assert_eq!(
            column_definition(ddl, "email", "email").as_deref(),
            Some("`email` varchar(255) COLLATE utf8mb4_general_ci")
        );
        assert_eq!(
            column_definition(ddl, "id", "user_id").as_deref(),
            Some("`user_id` bigint(20) NOT NULL")
        );
        assert_eq!(default_table_vindex("`id` bigint(20) NOT NULL"), "hash");
        assert_eq!(
            default_table_vindex("`e` varchar(255)"),
            "unicode_loose_md5"
        );
        assert_eq!(default_table_vindex("`b` varbinary(16)"), "binary_md5");
    }

    #[test]
    fn spec_validation() {
        let good = json!({
            "sharded": true,
            "vindexes": {"email_vdx": {"type": "consistent_lookup_unique",
                "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id"},
                "owner": "user"}},
            "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_vdx"}]}}
        });
        let s = parse_spec(&good).expect("valid");
        assert_eq!(s.target_keyspace, "lookup");
        assert_eq!(s.columns, vec!["email"]);
        let mut two = good.clone();
        two["vindexes"]["other"] = json!({"type": "hash"});
        assert!(parse_spec(&two).is_err());
        let mut hashed = good.clone();
        hashed["vindexes"]["email_vdx"]["type"] = json!("lookup_hash");
        assert!(parse_spec(&hashed).is_err());
        let mut unqualified = good.clone();
        unqualified["vindexes"]["email_vdx"]["params"]["table"] = json!("email_vdx");
        assert!(parse_spec(&unqualified).is_err());
        let mut cols = good;
        cols["tables"]["user"]["column_vindexes"][0] =
            json!({"columns": ["email", "id"], "name": "email_vdx"});
        assert!(parse_spec(&cols).is_err());
    }
}
