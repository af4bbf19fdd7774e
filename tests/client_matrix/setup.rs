//! The one proxy cluster every client of the matrix runs against, started once per test binary
//! on a runtime of its own (so it outlives each `#[test]`), and the rows it is seeded with.
//!
//! Layout: `commerce` (unsharded) holds `product` and the sequence `person_seq`; `customer`
//! (`-80`, `80-`) holds `person(id, name, phone)` with its id from `commerce.person_seq`,
//! primary vindex `hash(id)`, `name_person_vdx` (consistent_lookup on `(name, id)`) and
//! `phone_person_vdx` (consistent_lookup_unique on `phone`), `typed(id, note, uni, ts, amount,
//! data)` and `big(id, name, payload)` (both `hash(id)`); the lookup tables live in `lookup`
//! (`-80`, `80-`).

use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;
use std::sync::OnceLock;

/// The shards of `customer` and `lookup`.
pub const SHARDS: [&str; 2] = ["-80", "80-"];

/// Rows of `big`, read back whole by every client (a scatter over both shards).
pub const BIG_ROWS: u64 = 10_000;

/// The seeded `commerce.product` rows.
pub const PRODUCTS: [(i64, &str); 3] = [(1, "widget"), (2, "gädget"), (3, "gizmo 😀")];

/// The running cluster and the runtime its proxy lives on.
pub struct Matrix {
    /// Runs the proxy's tasks for the whole test binary; tests block on it for their checks.
    pub rt: tokio::runtime::Runtime,
    /// The env: databases, VSchema, proxy.
    pub env: TestEnv,
}

static MATRIX: OnceLock<Matrix> = OnceLock::new();

/// The cluster, started and seeded on first use.
pub fn matrix() -> &'static Matrix {
    MATRIX.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("matrix runtime");
        let env = rt.block_on(async {
            let env = TestEnv::start(spec()).await;
            seed(&env).await;
            env
        });
        Matrix { rt, env }
    })
}

fn spec() -> EnvSpec {
    let commerce = json!({
        "sharded": false,
        "tables": {"person_seq": {"type": "sequence"}, "product": {}}
    });
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_person_vdx": {
                "type": "consistent_lookup",
                "params": {"table": "lookup.name_person_vdx", "from": "name,id", "to": "keyspace_id"},
                "owner": "person"
            },
            "phone_person_vdx": {
                "type": "consistent_lookup_unique",
                "params": {"table": "lookup.phone_person_vdx", "from": "phone", "to": "keyspace_id"},
                "owner": "person"
            }
        },
        "tables": {
            "person": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"columns": ["name", "id"], "name": "name_person_vdx"},
                    {"column": "phone", "name": "phone_person_vdx"}
                ],
                "auto_increment": {"column": "id", "sequence": "commerce.person_seq"}
            },
            "typed": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "big": {"column_vindexes": [{"column": "id", "name": "hash"}]}
        }
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {
            "unicode_loose_md5": {"type": "unicode_loose_md5"},
            "hash": {"type": "hash"}
        },
        "tables": {
            "name_person_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
            "phone_person_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]}
        }
    });
    EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup))
}

/// `big` row `i`: its name (non-ASCII) and payload (every byte value over the rows, lengths 0
/// to 49).
pub fn big_row(i: u64) -> (String, Vec<u8>) {
    let payload = (0..i % 50)
        .map(|j| ((i * 31 + j * 7) % 256) as u8)
        .collect();
    (format!("n{i}é"), payload)
}

async fn seed(env: &TestEnv) {
    let utf8 = "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci";
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        for ddl in [
            format!(
                "CREATE TABLE person (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) {utf8},
                 phone BIGINT, KEY name (name), KEY phone (phone))"
            ),
            format!(
                "CREATE TABLE typed (id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(32) {utf8},
                 uni VARCHAR(64) {utf8}, ts DATETIME(6), amount DECIMAL(12,4), data BLOB)"
            ),
            format!(
                "CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32) {utf8},
                 payload VARBINARY(64))"
            ),
        ] {
            c.query_drop(ddl).await.expect("customer DDL");
        }
        let mut l = env.shard_conn("lookup", shard).await;
        for ddl in [
            format!(
                "CREATE TABLE name_person_vdx (name VARCHAR(64) {utf8} NOT NULL,
                 id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))"
            ),
            "CREATE TABLE phone_person_vdx (phone BIGINT NOT NULL, keyspace_id VARBINARY(128),
             PRIMARY KEY (phone))"
                .to_string(),
        ] {
            l.query_drop(ddl).await.expect("lookup DDL");
        }
    }
    let mut c = env.shard_conn("commerce", "0").await;
    c.query_drop(
        "CREATE TABLE person_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id))
         COMMENT 'vitess_sequence'",
    )
    .await
    .expect("sequence DDL");
    c.query_drop("INSERT INTO person_seq VALUES (0, 1000, 10)")
        .await
        .expect("sequence row");
    c.query_drop(format!(
        "CREATE TABLE product (id INT NOT NULL PRIMARY KEY, name VARCHAR(32) {utf8})"
    ))
    .await
    .expect("product DDL");
    for (id, name) in PRODUCTS {
        c.exec_drop("INSERT INTO product VALUES (?, ?)", (id, name))
            .await
            .expect("product row");
    }
    // `big` through the proxy, so every row lands on the shard its id hashes to.
    let mut p = env.client_as("root", "", Some("customer")).await;
    let ids: Vec<u64> = (1..=BIG_ROWS).collect();
    for chunk in ids.chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let (name, payload) = big_row(i);
                let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
                format!("({i}, '{name}', X'{hex}')")
            })
            .collect();
        p.query_drop(format!(
            "INSERT INTO big (id, name, payload) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("seeding big");
    }
}
