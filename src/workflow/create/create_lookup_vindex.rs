//! `CreateLookupVindex`: checks the spec against the VSchema and the shards, then creates the
//! lookup table, stores every source shard's stream row (one transaction), saves both
//! VSchema files (the vindex `write_only`), swaps the in-memory VSchema and starts one
//! backfill stream per source shard; a failing step undoes the steps before it. Failpoints
//! (`save_streams`, `after_streams_saved`, `save_vschema`, see `failpoint`) let tests fail
//! each step.

use super::lookup_table::{column_definition, default_table_vindex, table_state};
use super::spec::parse_spec;
use super::{invalid, shards_of};
use crate::admin::CreateOptions;
use crate::backend::Shard;
use crate::workflow::store::StreamRow;
use crate::workflow::{Definition, WorkflowError, Workflows};
use crate::world::failpoint;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The params of a vindex JSON without `write_only`, for comparing definitions.
fn without_write_only(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(p) = v.get_mut("params").and_then(Value::as_object_mut) {
        p.remove("write_only");
        p.entry("to").or_insert_with(|| json!("keyspace_id"));
    }
    v
}

/// `CreateLookupVindex`: returns the message for the client.
pub async fn create(state: &Arc<Workflows>, opts: CreateOptions) -> Result<String, WorkflowError> {
    let _guard = state.vschema_edit.lock().await;
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
        let streams: Vec<_> = crate::workflow::all_streams(state)
            .await?
            .into_iter()
            .filter(|(_, r)| r.workflow == workflow)
            .collect();
        // Streams that failed (e.g. waiting too long for old transactions) resume, and a
        // source shard without a stream (its row lost) gets a new one.
        let mut resumed = 0;
        for (def, row) in &streams {
            if row.state == "Error" {
                state.start_stream(def.clone(), row.clone());
                resumed += 1;
            }
        }
        if let Some((def, first)) = streams.first() {
            for s in shards_of(state, &opts.keyspace)? {
                if streams.iter().any(|(_, r)| r.source_shard == s.name) {
                    continue;
                }
                let row = new_stream(&workflow, &s.name, &first.definition);
                state
                    .topology
                    .save_streams(&def.target_keyspace, std::slice::from_ref(&row), None)
                    .await?;
                state.start_stream(def.clone(), row);
                resumed += 1;
            }
        }
        return Ok(if resumed > 0 {
            format!("workflow {workflow} already exists; {resumed} failed or missing streams (re)started")
        } else if !streams.is_empty() {
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
        let mut c = s.job_conn().await?;
        let rows = c
            .query(&format!(
                "SHOW CREATE TABLE {}",
                crate::sql::quote_ident(&spec.owner)
            ))
            .await?;
        rows.first()
            .and_then(|r| r.get::<String, _>(1))
            .ok_or_else(|| {
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
    // Validate before anything changes.
    crate::world::edited(&vschema, &edits)?;
    // Apply: tables, stream rows, VSchema (topology, then memory).
    let mut created: Vec<Arc<Shard>> = Vec::new();
    let undo_tables = |created: Vec<Arc<Shard>>, table: String| async move {
        for s in created {
            if let Ok(mut c) = s.job_conn().await {
                let _ = c
                    .query_drop(&format!(
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
        let r = match s.job_conn().await {
            Ok(mut c) => c.query_drop(&create_sql).await.map_err(WorkflowError::from),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = r {
            undo_tables(created, spec.lookup_table.clone()).await;
            return Err(e);
        }
        created.push(s.clone());
    }
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
    let definition = match serde_json::to_string(&def) {
        Ok(d) => d,
        Err(e) => {
            undo_tables(created, spec.lookup_table.clone()).await;
            return invalid(format!("workflow definition: {e}"));
        }
    };
    // Every source shard's stream row, in one transaction, BEFORE the VSchema changes: once
    // the vindex exists (write_only), no source shard may be left without a stream that
    // backfills it. A failure here leaves nothing behind.
    let rows: Vec<StreamRow> = source_shards
        .iter()
        .map(|s| new_stream(&workflow, &s.name, &definition))
        .collect();
    let target_ks = spec.target_keyspace.as_str();
    let scope = target_shards[0].database.clone();
    if let Err(e) = state.topology.save_streams(target_ks, &rows, None).await {
        undo_tables(created, spec.lookup_table.clone()).await;
        return Err(e.into());
    }
    // From here a failure also removes the stream rows.
    let undo_rows = |workflow: String| async move {
        let _ = state.topology.delete_workflow(target_ks, &workflow).await;
    };
    if failpoint::hit("after_streams_saved", &scope) {
        undo_rows(workflow.clone()).await;
        undo_tables(created, spec.lookup_table.clone()).await;
        return Err(WorkflowError::Invalid(failpoint::message(
            "after_streams_saved",
        )));
    }
    // All VSchema edits at once (compare-and-swap with etcd: a concurrent edit through
    // another proxy makes this fail and undo, not overwrite it).
    if let Err(e) = state.world.change_vschema(&vschema, &edits).await {
        undo_rows(workflow.clone()).await;
        undo_tables(created, spec.lookup_table.clone()).await;
        return Err(e.into());
    }
    for row in rows {
        state.start_stream(def.clone(), row);
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

/// A new stream's row: copy from the start.
fn new_stream(workflow: &str, source_shard: &str, definition: &str) -> StreamRow {
    StreamRow {
        workflow: workflow.to_string(),
        source_shard: source_shard.to_string(),
        state: "Copying".into(),
        phase: "copy".into(),
        message: "copy starting".into(),
        last_pk: None,
        rows_copied: 0,
        rows_total: 0,
        definition: definition.to_string(),
        conflicts: 0,
        conflict_values: String::new(),
    }
}
