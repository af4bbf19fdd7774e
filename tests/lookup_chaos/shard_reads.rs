//! Reading the shards directly, past the proxy: every row of every owner table and every
//! lookup table at once (a [`Snapshot`]), with the lookup tables' sharding as the `lookup`
//! VSchema file says (the create adds one), and single rows for the probes.

use crate::common::TestEnv;
use crate::layout::{Kind, LookupUse, CREATED_VINDEX, LOOKUPS, SHARDS, TABLES};
use mysql_async::prelude::*;
use mysql_async::{Row, Value};
use std::collections::BTreeMap;

/// One value read from a shard.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Cell {
    /// SQL NULL.
    Null,
    /// An integer column.
    Int(i64),
    /// A text column, as stored.
    Text(String),
}

impl Cell {
    /// The value as the column's collation compares it (`utf8mb4_general_ci`: case folded).
    pub(crate) fn key(&self) -> Cell {
        match self {
            Cell::Text(s) => Cell::Text(s.to_lowercase()),
            c => c.clone(),
        }
    }

    /// The integer, if it is one.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// From a column value read with the text protocol.
    pub(crate) fn from_value(v: Value, kind: Kind) -> Cell {
        match (v, kind) {
            (Value::NULL, _) => Cell::Null,
            (Value::Int(n), _) => Cell::Int(n),
            (Value::UInt(n), _) => Cell::Int(n as i64),
            (Value::Bytes(b), Kind::Int) => Cell::Int(
                String::from_utf8_lossy(&b)
                    .parse()
                    .unwrap_or_else(|e| panic!("not an integer: {b:?}: {e}")),
            ),
            (Value::Bytes(b), Kind::Text) => Cell::Text(String::from_utf8_lossy(&b).into_owned()),
            (other, _) => panic!("unexpected column value {other:?}"),
        }
    }
}

/// A row of an owner table: its shard and its cells (in the table's column order).
#[derive(Debug, Clone)]
pub(crate) struct OwnerRow {
    /// The shard it was read from.
    pub(crate) shard: String,
    /// Its values.
    pub(crate) cells: Vec<Cell>,
}

/// A row of a lookup table.
#[derive(Debug, Clone)]
pub(crate) struct LookupRow {
    /// The shard it was read from.
    pub(crate) shard: String,
    /// Its from values.
    pub(crate) from: Vec<Cell>,
    /// Its keyspace id.
    pub(crate) ksid: Option<Vec<u8>>,
}

/// Every owner and lookup row.
#[derive(Debug, Default, Clone)]
pub(crate) struct Snapshot {
    /// Owner rows by table name.
    pub(crate) owners: BTreeMap<String, Vec<OwnerRow>>,
    /// Lookup rows by lookup table name (a table that does not exist is absent).
    pub(crate) lookups: BTreeMap<String, Vec<LookupRow>>,
    /// Lookup table → (its sharding column, that column's vindex type), from `lookup.json`.
    pub(crate) sharding: BTreeMap<String, (String, String)>,
}

/// The lookup tables to read: each vindex once, and the created one.
pub(crate) fn lookup_tables() -> Vec<LookupUse> {
    let mut out: Vec<LookupUse> = Vec::new();
    for l in LOOKUPS.iter().chain([&CREATED_VINDEX]) {
        if l.owned && !out.iter().any(|o| o.vindex == l.vindex) {
            out.push(*l);
        }
    }
    out
}

fn kind_of(l: &LookupUse, column: &str) -> Kind {
    let t = crate::layout::table(l.table);
    t.columns[t.pos(column)].1
}

/// The sharding of every lookup table in `lookup.json` of the env's VSchema dir.
fn read_sharding(env: &TestEnv) -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(env.vschema_dir().join("lookup.json")).expect("lookup.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("lookup.json is JSON");
    let mut out = BTreeMap::new();
    if let Some(tables) = json["tables"].as_object() {
        for (name, t) in tables {
            let cv = &t["column_vindexes"][0];
            let column = cv["column"]
                .as_str()
                .or_else(|| cv["columns"][0].as_str())
                .unwrap_or_default()
                .to_string();
            let vindex = cv["name"].as_str().unwrap_or_default();
            let kind = json["vindexes"][vindex]["type"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            out.insert(name.clone(), (column, kind));
        }
    }
    out
}

/// Reads every owner and lookup row, directly from the shards.
pub(crate) async fn snapshot(env: &TestEnv) -> Snapshot {
    let mut snap = Snapshot {
        sharding: read_sharding(env),
        ..Snapshot::default()
    };
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        for t in TABLES {
            let cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
            let rows: Vec<Row> = c
                .query(format!("SELECT {} FROM {}", cols.join(", "), t.name))
                .await
                .unwrap_or_else(|e| panic!("reading {}: {e}", t.name));
            let out = snap.owners.entry(t.name.to_string()).or_default();
            for row in rows {
                let cells = row
                    .unwrap()
                    .into_iter()
                    .zip(t.columns)
                    .map(|(v, (_, kind))| Cell::from_value(v, *kind))
                    .collect();
                out.push(OwnerRow {
                    shard: shard.to_string(),
                    cells,
                });
            }
        }
        c.disconnect().await.expect("disconnect");
        let mut l = env.shard_conn("lookup", shard).await;
        for lu in lookup_tables() {
            let sql = format!(
                "SELECT {}, keyspace_id FROM {}",
                lu.columns.join(", "),
                lu.vindex
            );
            let rows: Vec<Row> = match l.query(sql).await {
                Ok(rows) => rows,
                // The created vindex's table exists only once the create ran.
                Err(mysql_async::Error::Server(e)) if e.code == 1146 => continue,
                Err(e) => panic!("reading lookup.{}: {e}", lu.vindex),
            };
            let out = snap.lookups.entry(lu.vindex.to_string()).or_default();
            for row in rows {
                let mut values = row.unwrap();
                let ksid = match values.pop() {
                    Some(Value::Bytes(b)) => Some(b),
                    _ => None,
                };
                let from = values
                    .into_iter()
                    .zip(lu.columns)
                    .map(|(v, c)| Cell::from_value(v, kind_of(&lu, c)))
                    .collect();
                out.push(LookupRow {
                    shard: shard.to_string(),
                    from,
                    ksid,
                });
            }
        }
        l.disconnect().await.expect("disconnect");
    }
    snap
}

/// The keyspace id of `phone`'s lookup row, if it has one (read on every lookup shard).
pub(crate) async fn phone_row(env: &TestEnv, phone: i64) -> Option<Option<Vec<u8>>> {
    let mut found = None;
    for shard in SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        let row: Option<Option<Vec<u8>>> = l
            .exec_first(
                "SELECT keyspace_id FROM phone_user_vdx WHERE phone = ?",
                (phone,),
            )
            .await
            .expect("reading phone_user_vdx");
        l.disconnect().await.expect("disconnect");
        found = found.or(row);
    }
    found
}

/// Whether any `customer` shard has user `id`.
pub(crate) async fn user_exists(env: &TestEnv, id: i64) -> bool {
    let mut found = false;
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let n: Option<i64> = c
            .exec_first("SELECT COUNT(*) FROM user WHERE id = ?", (id,))
            .await
            .expect("reading user");
        c.disconnect().await.expect("disconnect");
        found |= n.unwrap_or(0) > 0;
    }
    found
}
