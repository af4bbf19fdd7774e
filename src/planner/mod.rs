//! The planner: statement text + VSchema + session target → [`Plan`], with no I/O.
//!
//! [`plan`] is the entry point. It parses the statement with sqlparser (MySQL dialect, strings
//! kept as written so a re-printed statement means the same), resolves every table to a keyspace
//! ([`tables`]), and hands the statement to the builder for its kind:
//!
//! | statement | builder | plan |
//! |---|---|---|
//! | SELECT (and UNION) | [`select`] (+ `merge` for multi-shard results, with `aggregate`, `having` and `limit`; `joins` for several tables) | [`Plan::Select`] |
//! | INSERT / REPLACE | [`insert`] | [`Plan::Insert`] |
//! | UPDATE / DELETE | [`dml`] | [`Plan::Dml`] |
//! | CREATE / ALTER / DROP / TRUNCATE / RENAME | [`ddl`] | [`Plan::AllShards`] |
//!
//! [`plan_template`] plans a text statement's literal-free template ([`crate::sql::parameterize`])
//! like a prepared statement, and [`bind`] turns that plan into the plan of each statement of
//! the shape (the plan cache's hot path: no parsing).
//!
//! Everything in one unsharded keyspace, or a session pinned to one shard (`USE ks:-80`), gives
//! [`Plan::Passthrough`]: the existing single-shard path runs the text as is.
//!
//! **Never a wrong answer.** Whatever the planner cannot prove correct across shards is refused
//! with [`PlanError::NotSupported`] naming the construct (MySQL error 1235). Route values come
//! from top-level `AND` conjuncts only ([`routing`]); literals are typed from the original text
//! ([`values`]).
//!
//! **Query text.** When no rewrite is needed the shard gets the client's text unchanged. A
//! rewrite (scatter aggregates, OFFSET, hidden ORDER BY columns) re-prints the sqlparser AST:
//! comments are lost in that text, and every re-printed select item that is not a plain column
//! gets an alias holding its original text so result column names do not change. The server
//! fills the `?` of a shard query in order from the client's parameters, so a rewrite must
//! keep them first-to-last in the client's order (`params` refuses one that would not); the
//! only other placeholder is `:__upper_limit`, a LIMIT the executor computes (`limit`).

#![warn(missing_docs)]

pub mod bind;
pub mod describe;
pub mod plan;

mod aggregate;
mod ddl;
mod dml;
mod dml_limit;
mod dml_lookups;
mod dml_multi;
mod enum_order;
mod having;
mod hints;
mod insert;
mod insert_select;
mod insert_sequence;
mod joins;
mod limit;
mod materialize;
mod materialize_joins;
mod merge;
mod names;
mod params;
mod routing;
mod scope;
mod select;
mod subqueries;
mod tables;
mod values;

#[cfg(test)]
pub(crate) mod tests;

pub use bind::{bind, bind_text, BoundLiteral};
pub use describe::describe;
pub use plan::*;
pub use routing::literal_class;
pub use tables::global_keyspace;
pub use values::literal_value;

use crate::session::Target;
use crate::sql::{classify, StatementKind};
use crate::vindex::SqlValue;
use crate::vschema::VSchema;
use sqlparser::ast::Statement;
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserOptions};

/// Why a statement could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The statement does not parse (MySQL error 1064).
    #[error("syntax error: {0}")]
    Parse(String),
    /// A construct the proxy cannot run exactly across shards (MySQL error 1235); the message
    /// names the construct.
    #[error("{0}")]
    NotSupported(String),
    /// A table a sharded keyspace's VSchema does not list, or a keyspace qualifier that names
    /// no keyspace (MySQL error 1146).
    #[error("table '{table}' not found in keyspace '{keyspace}'")]
    UnknownTable {
        /// The keyspace searched.
        keyspace: String,
        /// The table name as written.
        table: String,
    },
    /// An unqualified table name listed by several keyspaces (error 1105).
    #[error("ambiguous table reference '{table}': it is in keyspaces {}; qualify it", keyspaces.join(", "))]
    AmbiguousTable {
        /// The table name.
        table: String,
        /// The keyspaces listing it.
        keyspaces: Vec<String>,
    },
    /// An unqualified table that no keyspace lists, with no target keyspace (MySQL error 1046).
    #[error("No database selected")]
    NoDatabase,
    /// A vindex hint naming a vindex no keyspace defines (error 1105).
    #[error("vindex '{0}' in USE/IGNORE VINDEX does not exist")]
    UnknownVindex(String),
}

impl PlanError {
    /// The MySQL error number and SQLSTATE to report.
    pub fn mysql_code(&self) -> (u16, &'static str) {
        match self {
            PlanError::Parse(_) => (1064, "42000"),
            PlanError::NotSupported(_) => (1235, "42000"),
            PlanError::UnknownTable { .. } => (1146, "42S02"),
            PlanError::AmbiguousTable { .. } => (1105, "HY000"),
            PlanError::NoDatabase => (1046, "3D000"),
            PlanError::UnknownVindex(_) => (1105, "HY000"),
        }
    }
}

/// A [`PlanError::NotSupported`] naming `construct`; " is not supported" is appended unless
/// the text already says so.
pub(crate) fn not_supported(construct: impl Into<String>) -> PlanError {
    let mut message = construct.into();
    if !message.contains("not supported") {
        message.push_str(" is not supported");
    }
    PlanError::NotSupported(message)
}

/// `Err(not_supported(construct))`.
pub(crate) fn unsupported<T>(construct: impl Into<String>) -> Result<T, PlanError> {
    Err(not_supported(construct))
}

/// Plans one statement (`sql` without a trailing `;` is expected, one is tolerated).
///
/// `target` is the session's `USE` target. A target naming a shard gives
/// [`Plan::Passthrough`] for its keyspace whatever the statement is. Unqualified tables resolve
/// to the target keyspace when there is one, else through the VSchema's global table names.
pub fn plan(sql: &str, vschema: &VSchema, target: Option<&Target>) -> Result<Plan, PlanError> {
    let (sql, hints) = crate::sql::vindex_hints::strip(sql);
    let mut ctx = Ctx::new(&sql, vschema, target);
    ctx.hints = &hints;
    plan_ctx(&ctx)
}

/// Plans the template of a text statement ([`crate::sql::parameterize`]): its `?` are the
/// client's literals `bound` (typed by [`literal_value`]), so the plan is a prepared-statement
/// plan, except that a `?` fits a vindex as its literal does (the cache keys templates by the
/// literals' [`literal_class`]) and IN lists of `?` are still pruned per shard. [`bind`] turns
/// it into the plan of one statement.
pub fn plan_template(
    template: &str,
    bound: &[SqlValue],
    vschema: &VSchema,
    target: Option<&Target>,
) -> Result<Plan, PlanError> {
    let (template, hints) = crate::sql::vindex_hints::strip(template);
    let ctx = Ctx {
        sql: &template,
        vschema,
        target,
        text: values::Text::with_bound(&template, bound),
        hints: &hints,
    };
    plan_ctx(&ctx)
}

fn plan_ctx(ctx: &Ctx<'_>) -> Result<Plan, PlanError> {
    let (sql, target) = (ctx.sql, ctx.target);
    hints::check(ctx)?;
    if let Some(t) = target {
        if t.shard.is_some() {
            return Ok(Plan::Passthrough {
                keyspace: t.keyspace.clone(),
            });
        }
    }
    match classify(sql) {
        StatementKind::Ddl => ddl::plan_ddl(ctx),
        StatementKind::Select
        | StatementKind::Insert
        | StatementKind::Replace
        | StatementKind::Update
        | StatementKind::Delete => match parse(&dml_multi::parseable(ctx)) {
            Err(e) => dml_multi::plan_comma_update(ctx, e),
            Ok(stmt) => plan_statement(ctx, stmt),
        },
        other => unsupported(format!(
            "{other:?} statements are not planned for sharded keyspaces"
        )),
    }
}

/// [`plan`] without the fallback to [`Plan::Materialize`]: what routing and merging alone
/// make of a statement (tests of their refusals).
#[cfg(test)]
pub(crate) fn plan_routed(
    sql: &str,
    vschema: &VSchema,
    target: Option<&Target>,
) -> Result<Plan, PlanError> {
    let ctx = Ctx::new(sql, vschema, target);
    match parse(sql)? {
        Statement::Query(q) => select::plan_select(&ctx, &q),
        _ => plan_ctx(&ctx),
    }
}

/// Plans a SELECT as [`Plan::Materialize`] whatever routing could do with it: for a statement
/// whose routed plan the executor refused at run time.
pub fn plan_materialized(
    sql: &str,
    vschema: &VSchema,
    target: Option<&Target>,
) -> Result<Plan, PlanError> {
    let (sql, hints) = crate::sql::vindex_hints::strip(sql);
    let mut ctx = Ctx::new(&sql, vschema, target);
    ctx.hints = &hints;
    match parse(&sql)? {
        Statement::Query(q) => materialize::plan_materialized(&ctx, &q),
        _ => unsupported("only a SELECT is answered over copies"),
    }
}

/// The builder for a parsed SELECT, INSERT, UPDATE or DELETE.
fn plan_statement(ctx: &Ctx<'_>, stmt: Statement) -> Result<Plan, PlanError> {
    match stmt {
        Statement::Query(q) => match select::plan_select(ctx, &q) {
            // What routing and merging cannot answer, one MariaDB answers over copies.
            Err(PlanError::NotSupported(reason)) => materialize::plan_materialized(ctx, &q)
                .map_err(|e| match e {
                    PlanError::NotSupported(_) => PlanError::NotSupported(reason),
                    other => other,
                }),
            other => other,
        },
        Statement::Insert(ins) => insert::plan_insert(ctx, &ins),
        Statement::Update(upd) => dml::plan_update(ctx, &upd),
        Statement::Delete(del) => dml::plan_delete(ctx, &del),
        other => unsupported(format!(
            "statement '{}' on a sharded keyspace is not supported",
            statement_word(&other)
        )),
    }
}

/// What every builder needs: the text, the VSchema, the target.
pub(crate) struct Ctx<'a> {
    /// The statement text (spans refer to it).
    pub sql: &'a str,
    /// The VSchema.
    pub vschema: &'a VSchema,
    /// The session target (never with a shard here).
    pub target: Option<&'a Target>,
    /// Tokens and span helpers over `sql`.
    pub text: values::Text<'a>,
    /// The statement's vindex hints (blanked out of `sql`, see [`hints`]).
    pub hints: &'a [crate::sql::VindexHint],
}

impl<'a> Ctx<'a> {
    fn new(sql: &'a str, vschema: &'a VSchema, target: Option<&'a Target>) -> Self {
        Ctx {
            sql,
            vschema,
            target,
            text: values::Text::new(sql),
            hints: &[],
        }
    }
}

/// sqlparser's recursion budget (its nested `parse_*` calls, about one or two per parenthesis
/// level). Statements reach the parser only after [`crate::sql::bounds::check`] bounded their
/// nesting and operator chains, whose limits (`[limits]`) sit below this.
pub const PARSER_RECURSION_LIMIT: usize = 50;

/// Parses exactly one statement, keeping string literals as written (`unescape(false)`), so
/// printing the AST gives back equivalent MySQL text.
pub(crate) fn parse(sql: &str) -> Result<Statement, PlanError> {
    let options = ParserOptions::new().with_unescape(false);
    let mut statements = Parser::new(&MySqlDialect {})
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_options(options)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| PlanError::Parse(e.to_string()))?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err(PlanError::Parse("empty statement".into())),
        _ => Err(PlanError::Parse("more than one statement".into())),
    }
}

fn statement_word(stmt: &Statement) -> String {
    stmt.to_string()
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_uppercase()
}
