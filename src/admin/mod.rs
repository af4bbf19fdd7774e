//! Admin and introspection statements: Vitess's `SHOW` extensions and `VEXPLAIN`
//! (`reference/admin-statements.md` §5.1–5.2).
//!
//! The server asks [`parse_admin`] about every statement first: `None` means "not ours" (plain
//! `SHOW TABLES` and everything else go on to the planner or a backend), `Some(Err)` a statement
//! we recognise but that is malformed or not implemented, `Some(Ok)` one of [`AdminStatement`].
//! The SHOW statements are answered from the VSchema and the configured shards by the pure
//! functions in [`show`] (or all at once through [`execute_show`]); `VEXPLAIN` needs the planner
//! and engine, so the server runs it itself with the parsed mode and inner statement.
//!
//! Layout, one file per concern:
//! * `parse`: the statement recognizer (our tokenizer, keywords case-insensitive, comments
//!   skipped, `/*vt+ EXECUTE_DML_QUERIES */` after `VEXPLAIN` honoured).
//! * [`show`]: the result sets, with Vitess's exact column names and value formats.
//! * [`error`]: [`AdminError`] and its mapping to MySQL error numbers.
//!
//! Nothing here does I/O or touches session state; every function is deterministic given the
//! VSchema, the backends' shard list and the session target, except that `SHOW POOLS` reads
//! the pools' live counters.

pub mod alter_vschema;
pub mod error;
pub mod gateways;
mod parse;
pub mod show;
pub mod workflow_parse;

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod show_tests;

pub use error::AdminError;
pub use parse::parse_admin;
pub use show::{
    execute_show, show_keyspaces, show_vitess_shards, show_vitess_target, show_vschema_keyspaces,
    show_vschema_tables, show_vschema_vindexes, AdminResult,
};
pub use workflow_parse::{parse_workflow, CreateOptions, WorkflowStatement};

/// What `VEXPLAIN` should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VExplainMode {
    /// `VEXPLAIN PLAN` (also plain `VEXPLAIN <stmt>`): the JSON plan, nothing executed.
    Plan,
    /// `VEXPLAIN QUERIES`: execute and list every query sent to a shard (`#, keyspace, shard, query`).
    Queries,
    /// `VEXPLAIN ALL`: execute; the plan with each route's MySQL `EXPLAIN FORMAT=JSON` attached.
    All,
}

impl VExplainMode {
    /// The keyword as Vitess spells it in messages (`plan`, `queries`, `all`).
    pub fn name(self) -> &'static str {
        match self {
            VExplainMode::Plan => "plan",
            VExplainMode::Queries => "queries",
            VExplainMode::All => "all",
        }
    }
}

/// A recognised admin statement.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminStatement {
    /// `SHOW VITESS_SHARDS [LIKE 'pattern']`: one `ks/shard` row per configured shard.
    ShowVitessShards {
        /// The LIKE pattern (unquoted), matched against `ks/shard`.
        like: Option<String>,
    },
    /// `SHOW KEYSPACES [LIKE 'pattern']` (also `SHOW VITESS_KEYSPACES`): the keyspace names.
    ShowKeyspaces {
        /// The LIKE pattern (unquoted).
        like: Option<String>,
    },
    /// `SHOW POOLS [LIKE 'ks/%']` (as in PgBouncer and PgDog; not a Vitess statement): per
    /// shard, its session pool's open, idle, in-use and reserved connections and settings.
    ShowPools {
        /// The LIKE pattern (unquoted), matched against `ks/shard`.
        like: Option<String>,
    },
    /// `SHOW VITESS_GATEWAYS [LIKE 'pattern']` (also `SHOW PROXIES`): every live proxy of the
    /// topology — id, address, uptime, the VSchema revision it serves, the streams it runs.
    ShowGateways {
        /// The LIKE pattern (unquoted), matched against the proxy id.
        like: Option<String>,
    },
    /// `ALTER VSCHEMA ...` (admin users): one keyspace's VSchema edited, validated, written
    /// through the topology and served at once.
    AlterVSchema(alter_vschema::AlterVSchema),
    /// `RELOAD VSCHEMA` (admin users; also SIGHUP): the VSchema read again from the topology
    /// (the files, or etcd), validated, and swapped in; a bad one is refused and the last good
    /// one kept.
    ReloadVSchema,
    /// `SHOW VSCHEMA KEYSPACES`: keyspace, sharded, foreign key mode, comment.
    ShowVSchemaKeyspaces,
    /// `SHOW VSCHEMA TABLES [FROM|IN ks]`: the tables of a keyspace (the current one by default).
    ShowVSchemaTables {
        /// Keyspace named with `FROM`/`IN` (a shardgate extension); `None` = the current one.
        keyspace: Option<String>,
    },
    /// `SHOW VSCHEMA VINDEXES [ON|FROM [ks.]tbl | IN ks]`.
    ShowVSchemaVindexes {
        /// `ON`/`FROM` `[ks.]tbl` (Vitess: both keywords name a table): the table's column
        /// vindexes. `(qualifier, table)`; no qualifier = the current keyspace.
        table: Option<(Option<String>, String)>,
        /// `IN ks` (a shardgate extension): only that keyspace's vindexes.
        keyspace: Option<String>,
    },
    /// `SHOW VITESS_TARGET`: the session's target string.
    ShowVitessTarget,
    /// `VEXPLAIN [/*vt+ EXECUTE_DML_QUERIES */] [PLAN|QUERIES|ALL] <stmt>`.
    VExplain {
        /// What to produce.
        mode: VExplainMode,
        /// The `EXECUTE_DML_QUERIES` directive was given after `VEXPLAIN`: DML may run under
        /// `QUERIES`/`ALL` (without it Vitess refuses with VT09008).
        execute_dml: bool,
        /// The inner statement: the client's text from its first token to its last, byte-exact
        /// (comments before it and trailing `;` removed).
        statement: String,
    },
    /// A lookup-vindex workflow statement (CreateLookupVindex, ...).
    Workflow(WorkflowStatement),
}

impl AdminStatement {
    /// Whether the statement is answered by [`execute_show`] (every variant but `VExplain`).
    pub fn is_show(&self) -> bool {
        !matches!(self, AdminStatement::VExplain { .. })
    }

    /// Vitess's guard for `VEXPLAIN`: `QUERIES` and `ALL` execute the statement, so DML
    /// (INSERT, REPLACE, UPDATE, DELETE) is refused with [`AdminError::VExplainDml`] unless
    /// `/*vt+ EXECUTE_DML_QUERIES */` was given. `Ok` for everything else (`PLAN` never runs).
    pub fn check_vexplain_dml(&self) -> Result<(), AdminError> {
        use crate::sql::{classify, StatementKind as K};
        match self {
            AdminStatement::VExplain {
                mode: VExplainMode::Queries | VExplainMode::All,
                execute_dml: false,
                statement,
            } if matches!(
                classify(statement),
                K::Insert | K::Replace | K::Update | K::Delete
            ) =>
            {
                Err(AdminError::VExplainDml)
            }
            _ => Ok(()),
        }
    }
}
