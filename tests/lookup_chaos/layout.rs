//! The layout under test, described once: the owner tables of `customer`, their lookup
//! vindexes (unique and non-unique, owned and unowned, single- and multi-column), the lookup
//! tables in `lookup`, the VSchemas and the DDL; plus [`CREATED_VINDEX`], the vindex that
//! CreateLookupVindex adds during the run.
//!
//! | table | primary vindex | lookup vindexes |
//! |---|---|---|
//! | `user(id, name, phone, email, nick, score)` | `hash(id)` | `name_user_vdx` CL (name, id); `phone_user_vdx` CLU phone; `email_user_vdx` CLU email; `nick_user_vdx` CLU nick (created during the run) |
//! | `orders(order_id, customer_id, sku, region, slot, qty)` | `hash(customer_id)` | `sku_order_vdx` CLU sku; `rs_order_vdx` CLU (region, slot), its table sharded by `slot` |
//! | `user_extra(xid, user_id, phone, note)` | `hash(user_id)` | `phone_user_vdx`, UNOWNED (verified, never written) |

use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

/// The shards of both keyspaces.
pub(crate) const SHARDS: [&str; 2] = ["-80", "80-"];

/// How a column's values are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// BIGINT / INT.
    Int,
    /// A `utf8mb4_general_ci` string (compared case-insensitively).
    Text,
}

/// An owner table (or a table using a lookup unowned).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnerTable {
    /// Table name in `customer`.
    pub(crate) name: &'static str,
    /// The columns read from it, with their kinds; the first is the primary key.
    pub(crate) columns: &'static [(&'static str, Kind)],
    /// The column of its primary vindex (`hash`).
    pub(crate) primary: &'static str,
}

impl OwnerTable {
    /// The position of `column` in [`OwnerTable::columns`].
    pub(crate) fn pos(&self, column: &str) -> usize {
        self.columns
            .iter()
            .position(|(c, _)| *c == column)
            .unwrap_or_else(|| panic!("{} has no column {column}", self.name))
    }
}

/// One use of a lookup vindex by a table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LookupUse {
    /// The vindex name (also its lookup table's name in `lookup`).
    pub(crate) vindex: &'static str,
    /// The table using it.
    pub(crate) table: &'static str,
    /// Its from columns (in the table and in the lookup table).
    pub(crate) columns: &'static [&'static str],
    /// consistent_lookup_unique (else consistent_lookup).
    pub(crate) unique: bool,
    /// Whether `table` owns it (writes its lookup rows); unowned uses are only verified.
    pub(crate) owned: bool,
}

/// `customer.user`.
pub(crate) const USER: OwnerTable = OwnerTable {
    name: "user",
    columns: &[
        ("id", Kind::Int),
        ("name", Kind::Text),
        ("phone", Kind::Int),
        ("email", Kind::Text),
        ("nick", Kind::Text),
        ("score", Kind::Int),
    ],
    primary: "id",
};

/// `customer.orders`.
pub(crate) const ORDERS: OwnerTable = OwnerTable {
    name: "orders",
    columns: &[
        ("order_id", Kind::Int),
        ("customer_id", Kind::Int),
        ("sku", Kind::Text),
        ("region", Kind::Int),
        ("slot", Kind::Int),
        ("qty", Kind::Int),
    ],
    primary: "customer_id",
};

/// `customer.user_extra`.
pub(crate) const USER_EXTRA: OwnerTable = OwnerTable {
    name: "user_extra",
    columns: &[
        ("xid", Kind::Int),
        ("user_id", Kind::Int),
        ("phone", Kind::Int),
        ("note", Kind::Text),
    ],
    primary: "user_id",
};

/// Every table of `customer`.
pub(crate) const TABLES: [OwnerTable; 3] = [USER, ORDERS, USER_EXTRA];

/// The lookup vindexes there from the start.
pub(crate) const LOOKUPS: [LookupUse; 6] = [
    LookupUse {
        vindex: "name_user_vdx",
        table: "user",
        columns: &["name", "id"],
        unique: false,
        owned: true,
    },
    LookupUse {
        vindex: "phone_user_vdx",
        table: "user",
        columns: &["phone"],
        unique: true,
        owned: true,
    },
    LookupUse {
        vindex: "email_user_vdx",
        table: "user",
        columns: &["email"],
        unique: true,
        owned: true,
    },
    LookupUse {
        vindex: "sku_order_vdx",
        table: "orders",
        columns: &["sku"],
        unique: true,
        owned: true,
    },
    LookupUse {
        vindex: "rs_order_vdx",
        table: "orders",
        columns: &["region", "slot"],
        unique: true,
        owned: true,
    },
    LookupUse {
        vindex: "phone_user_vdx",
        table: "user_extra",
        columns: &["phone"],
        unique: true,
        owned: false,
    },
];

/// The vindex CreateLookupVindex adds on `user.nick` during the run.
pub(crate) const CREATED_VINDEX: LookupUse = LookupUse {
    vindex: "nick_user_vdx",
    table: "user",
    columns: &["nick"],
    unique: true,
    owned: true,
};

/// The admin statement that creates [`CREATED_VINDEX`].
pub(crate) const CREATE_STATEMENT: &str = r#"CreateLookupVindex customer '{"sharded": true, "vindexes": {"nick_user_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.nick_user_vdx", "from": "nick", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "user"}}, "tables": {"user": {"column_vindexes": [{"column": "nick", "name": "nick_user_vdx"}]}}}'"#;

/// The owner table named `name`.
pub(crate) fn table(name: &str) -> &'static OwnerTable {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// The shard (of [`SHARDS`]) whose key range holds `ksid`.
pub(crate) fn shard_of(ksid: &[u8]) -> &'static str {
    crate::common::placement::shard_of(&SHARDS, ksid)
}

/// The environment: `customer` and `lookup` on [`SHARDS`] with this layout's VSchemas.
pub(crate) fn spec() -> EnvSpec {
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded(
            "customer",
            &SHARDS,
            customer_vschema(),
        ))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup_vschema()))
}

const TEXT: &str = "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci";

/// Creates the tables directly on every shard (an index on every lookup column, for the
/// owner-row probes of the reclaim algorithm and the create's verify pass).
pub(crate) async fn create_tables(env: &TestEnv) {
    let owners = [
        format!(
            "CREATE TABLE user (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) {TEXT},
             phone BIGINT, email VARCHAR(128) {TEXT}, nick VARCHAR(64) {TEXT}, score INT,
             KEY name (name), KEY phone (phone), KEY email (email), KEY nick (nick))"
        ),
        format!(
            "CREATE TABLE orders (order_id BIGINT NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL,
             sku VARCHAR(64) {TEXT}, region INT NOT NULL, slot INT NOT NULL, qty INT,
             KEY customer_id (customer_id), KEY sku (sku), KEY region_slot (region, slot))"
        ),
        format!(
            "CREATE TABLE user_extra (xid BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,
             phone BIGINT, note VARCHAR(64) {TEXT}, KEY user_id (user_id), KEY phone (phone))"
        ),
    ];
    let lookups = [
        format!(
            "CREATE TABLE name_user_vdx (name VARCHAR(64) {TEXT} NOT NULL, id BIGINT NOT NULL,
             keyspace_id VARBINARY(128), PRIMARY KEY (name, id))"
        ),
        "CREATE TABLE phone_user_vdx (phone BIGINT NOT NULL, keyspace_id VARBINARY(128),
         PRIMARY KEY (phone))"
            .to_string(),
        format!(
            "CREATE TABLE email_user_vdx (email VARCHAR(128) {TEXT} NOT NULL,
             keyspace_id VARBINARY(128), PRIMARY KEY (email))"
        ),
        format!(
            "CREATE TABLE sku_order_vdx (sku VARCHAR(64) {TEXT} NOT NULL,
             keyspace_id VARBINARY(128), PRIMARY KEY (sku))"
        ),
        "CREATE TABLE rs_order_vdx (region INT NOT NULL, slot INT NOT NULL,
         keyspace_id VARBINARY(128), PRIMARY KEY (region, slot))"
            .to_string(),
    ];
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        for ddl in &owners {
            c.query_drop(ddl).await.expect("owner DDL");
        }
        c.disconnect().await.expect("disconnect");
        let mut l = env.shard_conn("lookup", shard).await;
        for ddl in &lookups {
            l.query_drop(ddl).await.expect("lookup DDL");
        }
        l.disconnect().await.expect("disconnect");
    }
}

fn lookup_vindex(table: &str, from: &str, unique: bool, owner: Option<&str>) -> serde_json::Value {
    let kind = if unique {
        "consistent_lookup_unique"
    } else {
        "consistent_lookup"
    };
    let mut v = json!({
        "type": kind,
        "params": {"table": format!("lookup.{table}"), "from": from, "to": "keyspace_id",
                   "ignore_nulls": "true"}
    });
    if let Some(owner) = owner {
        v["owner"] = json!(owner);
    }
    v
}

fn customer_vschema() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_user_vdx": lookup_vindex("name_user_vdx", "name,id", false, Some("user")),
            "phone_user_vdx": lookup_vindex("phone_user_vdx", "phone", true, Some("user")),
            "email_user_vdx": lookup_vindex("email_user_vdx", "email", true, Some("user")),
            "sku_order_vdx": lookup_vindex("sku_order_vdx", "sku", true, Some("orders")),
            "rs_order_vdx": lookup_vindex("rs_order_vdx", "region,slot", true, Some("orders"))
        },
        "tables": {
            "user": {"column_vindexes": [
                {"column": "id", "name": "hash"},
                {"columns": ["name", "id"], "name": "name_user_vdx"},
                {"column": "phone", "name": "phone_user_vdx"},
                {"column": "email", "name": "email_user_vdx"}
            ]},
            "orders": {"column_vindexes": [
                {"column": "customer_id", "name": "hash"},
                {"column": "sku", "name": "sku_order_vdx"},
                {"columns": ["region", "slot"], "name": "rs_order_vdx"}
            ]},
            "user_extra": {"column_vindexes": [
                {"column": "user_id", "name": "hash"},
                {"column": "phone", "name": "phone_user_vdx"}
            ]}
        }
    })
}

fn lookup_vschema() -> serde_json::Value {
    let by = |column: &str, vindex: &str| json!({"column_vindexes": [{"column": column, "name": vindex}]});
    json!({
        "sharded": true,
        "vindexes": {
            "unicode_loose_md5": {"type": "unicode_loose_md5"},
            "hash": {"type": "hash"}
        },
        "tables": {
            "name_user_vdx": by("name", "unicode_loose_md5"),
            "phone_user_vdx": by("phone", "hash"),
            "email_user_vdx": by("email", "unicode_loose_md5"),
            "sku_order_vdx": by("sku", "unicode_loose_md5"),
            "rs_order_vdx": by("slot", "hash")
        }
    })
}
