//! Plans are data: what to send to which shards and how to combine the answers.
//!
//! The planner turns a statement into a [`Plan`] without any I/O; the executor evaluates route
//! values (literals, or prepared-statement parameters) through vindexes into shards, sends each
//! shard its query, and merges the results as [`Merge`] says. `describe()` renders a plan as the
//! JSON VEXPLAIN PLAN shows.

use crate::engine::{AggregateSpec, OrderBy};
use crate::vindex::SqlValue;

/// A value the route depends on: known at plan time, or a `?` of a prepared statement.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteValue {
    /// A literal from the statement text.
    Literal(SqlValue),
    /// The n-th `?` parameter (0-based), bound at execute time.
    Param(usize),
}

/// How a route picks shards (Vitess's route opcodes).
#[derive(Debug, Clone, PartialEq)]
pub enum RouteOpcode {
    /// One value of a unique vindex: exactly one shard.
    EqualUnique,
    /// One value of a non-unique vindex: the shards it maps to.
    Equal,
    /// A list of values (`IN`): the shards they map to; the IN list is pruned per shard.
    In,
    /// Every shard of the keyspace.
    Scatter,
    /// No shard can hold a matching row (e.g. `id = NULL`, `1 = 0`). A SELECT still runs on
    /// one shard for its column definitions (its rows discarded; the merge, present for
    /// aggregates, then yields a scalar aggregate's one row).
    None,
    /// A shard named explicitly (`USE ks:-80`).
    ByDestination(String),
    /// Any one shard (reference tables, statements without tables).
    AnyShard,
}

/// Where a query goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Keyspace of the tables.
    pub keyspace: String,
    /// Shard selection.
    pub opcode: RouteOpcode,
    /// Vindex (name in the keyspace's VSchema) that maps `values`; None for Scatter/None/AnyShard.
    pub vindex: Option<String>,
    /// Values of the vindex column: one for Equal/EqualUnique, several for In.
    pub values: Vec<RouteValue>,
    /// How the values meet the vindex column (converted to its type as MariaDB compares
    /// them before the vindex maps them, [`crate::vindex::coerce`]); None: as they are.
    pub coerce: Option<crate::vindex::coerce::Coercion>,
}

/// The SQL text to send, with an optional IN list to replace per shard.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTemplate {
    /// Full SQL (keyspace qualifiers already removed or mapped by the executor).
    pub sql: String,
    /// The IN list holding the route values, pruned per shard by the executor; None when the
    /// query is sent unchanged (also whenever the values include `?` parameters, whose
    /// positions must not change).
    pub in_list: Option<InList>,
    /// Byte range in `sql` of the shard LIMIT's row count when it depends on `?` parameters
    /// and an offset (`LIMIT ?, ?`, `LIMIT 5, ?`): the range holds the placeholder
    /// `:__upper_limit` (Vitess's name; not valid SQL) and the executor writes there the
    /// offset + count of [`Merge::limit`] resolved from the bound parameters. The LIMIT's own
    /// `?` are then absent from `sql`; they were the statement's last ones, so the server
    /// still interpolates every remaining `?` with the parameter of the same position.
    /// None otherwise (a plain `LIMIT ?` stays in the text for the server to fill).
    pub limit_slot: Option<(usize, usize)>,
}

/// Where the route values of an `IN (...)` sit in [`QueryTemplate::sql`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InList {
    /// Byte range of the list's contents, between the parentheses.
    pub span: (usize, usize),
    /// Byte range of each item, in the order of [`Route::values`]; each shard gets the items
    /// whose values map to it, joined with `, `.
    pub items: Vec<(usize, usize)>,
}

/// A LIMIT or OFFSET number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitValue {
    /// Written in the statement.
    Literal(u64),
    /// The n-th `?` parameter (0-based), bound at execute time.
    Param(usize),
}

/// LIMIT/OFFSET applied at the proxy after merging (shards were asked for offset + count rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Rows to skip.
    pub offset: LimitValue,
    /// Rows to return; None = all.
    pub count: Option<LimitValue>,
}

impl Limit {
    /// The literal OFFSET, or None when it is a `?` parameter.
    pub fn literal_offset(&self) -> Option<u64> {
        match self.offset {
            LimitValue::Literal(n) => Some(n),
            LimitValue::Param(_) => None,
        }
    }

    /// Whether the OFFSET or the count is a `?` parameter.
    pub fn has_params(&self) -> bool {
        matches!(self.offset, LimitValue::Param(_))
            || matches!(self.count, Some(LimitValue::Param(_)))
    }
}

/// A comparison operator of a [`HavingExpr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`.
    Eq,
    /// `<>` / `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `<=>`: NULL-safe equality (never NULL itself).
    NullSafeEq,
}

/// A constant of a [`HavingExpr`], typed from the statement text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HavingLiteral {
    /// `NULL`.
    Null,
    /// An exact number as written (`5`, `-3`, `45.50`; `TRUE`/`FALSE` as `1`/`0`).
    Number(String),
    /// A string literal's bytes (quotes removed, escapes resolved).
    Text(Vec<u8>),
}

/// One side of a HAVING comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HavingOperand {
    /// A column of the merged (post-aggregation) row, hidden ones included.
    Column(usize),
    /// A constant.
    Literal(HavingLiteral),
}

/// A HAVING condition the proxy evaluates on merged rows, with MySQL's three-valued logic
/// (a row is kept only when the condition is true, not false or NULL).
///
/// A column is compared with a literal in the column's type, as MySQL does when a constant
/// meets an expression of a known type: numbers numerically (exact for integers and
/// decimals), dates and times chronologically, strings by the column's collation. The
/// executor refuses (1235) comparisons it cannot make exactly, e.g. a string column with a
/// number or a number column with a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HavingExpr {
    /// `a AND b`.
    And(Box<HavingExpr>, Box<HavingExpr>),
    /// `a OR b`.
    Or(Box<HavingExpr>, Box<HavingExpr>),
    /// `NOT a` (NULL stays NULL).
    Not(Box<HavingExpr>),
    /// `left op right`; at least one side is a column. NULL on either side gives NULL,
    /// except for `<=>`. `BETWEEN` and `IN (...)` arrive as ANDs and ORs of these, a bare
    /// column `c` as `c <> 0`.
    Compare {
        /// Left side.
        left: HavingOperand,
        /// Operator.
        op: CompareOp,
        /// Right side.
        right: HavingOperand,
    },
    /// `column IS [NOT] NULL`.
    IsNull {
        /// The column of the merged row.
        column: usize,
        /// `IS NOT NULL`.
        negated: bool,
    },
}

/// How per-shard results combine into the client's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// Aggregation of partial results (GROUP BY keys and aggregate functions), in output order:
    /// one output column per spec (visible ones first); the specs' columns index the shard
    /// row. The shard query then has no ORDER BY and no LIMIT.
    pub aggregates: Option<Vec<AggregateSpec>>,
    /// HAVING, evaluated by the proxy on the aggregated rows (before ORDER BY, DISTINCT and
    /// LIMIT, with hidden columns still present); None when there is none or the shards
    /// evaluate it.
    pub having: Option<HavingExpr>,
    /// DISTINCT over the (post-aggregation) rows, comparing the visible columns.
    pub distinct: bool,
    /// ORDER BY over the (post-aggregation) rows: indices into the shard row without
    /// aggregation (shard results are sorted the same way, so this is a k-way merge), into
    /// the aggregated row (one column per spec) with it.
    pub order_by: Vec<OrderBy>,
    /// LIMIT/OFFSET after ordering.
    pub limit: Option<Limit>,
    /// How many leading columns the client sees; extra ones were added for sorting or
    /// aggregation and are dropped. `usize::MAX`: all of them (the select list has a `*`, so
    /// the planner does not know how many there are), except a [`Merge::hidden_tail`].
    pub visible_columns: usize,
    /// `Some(k)`: the last `k` columns of the shard rows are helper columns the planner
    /// appended after a select list with a `*` (whose width it cannot know), and the
    /// `order_by` columns count from the first of them: the executor sorts by column
    /// `width - k + column` of the actual rows and drops the last `k` columns (DISTINCT
    /// compares the others). None: `order_by` indexes the rows directly.
    pub hidden_tail: Option<usize>,
    /// For a scalar aggregate (no GROUP BY) with non-aggregate items that are not bare columns
    /// (and for any aggregate whose shards group by a DISTINCT argument, see
    /// [`Merge::scalar_fields`])
    /// (`2 + 3`, `?`, `COALESCE(c, 'x')`): a shard query (`?` as in [`SelectPlan::query`])
    /// returning one row laid out like the shard rows, evaluated over no row. The executor runs
    /// it when no shard returned a row, so those items get MariaDB's value over an empty set.
    pub empty_scalar: Option<String>,
    /// The column definitions of [`Merge::empty_scalar`], remembered from a run: when the
    /// shards group by a DISTINCT aggregate's argument, their columns carry the metadata of a
    /// query grouped through a temporary table, while MariaDB computes the client's query (a
    /// DISTINCT aggregate, scalar or grouped) from its items, as this scalar query does.
    /// (Also built for a grouped query: group keys are then wrapped in MIN().)
    pub scalar_fields: FieldCache,
}

/// A SELECT on a sharded keyspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectPlan {
    /// Target shards.
    pub route: Route,
    /// What each shard runs.
    pub query: QueryTemplate,
    /// How to combine; None when one shard answers (the result is relayed as is).
    pub merge: Option<Merge>,
    /// Whether the statement certainly returns no row when no shard holds a matching row
    /// (no aggregate, no UNION, no HAVING): then a lookup that finds nothing answers with
    /// [`SelectPlan::fields`] and queries no shard.
    pub empty_without_rows: bool,
    /// The result's column definitions, remembered from a run.
    pub fields: FieldCache,
}

/// Column definitions remembered by a (cached) plan; not part of the plan's identity. Clones
/// share it, so a plan bound from a cached template remembers for the template.
#[derive(Debug, Clone, Default)]
pub struct FieldCache(std::sync::Arc<std::sync::OnceLock<Vec<mysql_common::packets::Column>>>);

impl FieldCache {
    /// The remembered columns.
    pub fn get(&self) -> Option<&Vec<mysql_common::packets::Column>> {
        self.0.get()
    }

    /// Remembers the columns (the first call wins).
    pub fn remember(&self, columns: &[mysql_common::packets::Column]) {
        let _ = self.0.set(columns.to_vec());
    }
}

impl PartialEq for FieldCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// An UPDATE or DELETE on a sharded keyspace.
#[derive(Debug, Clone, PartialEq)]
pub struct DmlPlan {
    /// Target shards.
    pub route: Route,
    /// What each shard runs.
    pub query: QueryTemplate,
    /// Whether a LIMIT clause makes a multi-shard run inexact (then it must be single-shard).
    pub has_limit: bool,
    /// The owned lookup vindexes the statement must maintain; None when it changes none.
    pub lookups: Option<DmlLookups>,
    /// LIMIT on more than one shard: the rows are picked first ([`DmlPick`]); None otherwise.
    pub pick: Option<Box<DmlPick>>,
}

/// How an UPDATE/DELETE with LIMIT (and maybe ORDER BY) on more than one shard changes
/// exactly the rows one server would: [`DmlPick::select`] (`SELECT * FROM <table> <WHERE …
/// ORDER BY … LIMIT …> FOR UPDATE`, merged at the proxy like any scatter SELECT) picks and
/// locks them; the executor reads the table's primary key from a shard, finds each picked
/// row's shard from its primary vindex columns, and runs `<head> WHERE <pk> IN (<keys>)
/// [<order by>]` there (with an owner table's lookup rows moved first, as for any owner DML).
#[derive(Debug, Clone, PartialEq)]
pub struct DmlPick {
    /// The SELECT that picks the rows; its `?` are the statement's from
    /// [`DmlPick::select_first_param`] on.
    pub select: SelectPlan,
    /// Index of the statement's first `?` inside the select's text (the ones before are in
    /// the UPDATE's SET).
    pub select_first_param: usize,
    /// The table's name (its primary key is read from a shard).
    pub table: String,
    /// The primary vindex's name.
    pub primary_vindex: String,
    /// The primary vindex's columns.
    pub primary_columns: Vec<String>,
    /// The statement's text before its WHERE / ORDER BY / LIMIT (`UPDATE t SET …` /
    /// `DELETE FROM t`); its `?` are the first [`DmlPick::select_first_param`] ones.
    pub head: String,
    /// The statement's `ORDER BY …` without LIMIT (empty without one).
    pub order_by: String,
    /// Index of the first `?` inside `order_by`.
    pub order_by_first_param: usize,
}

/// A new value an UPDATE assigns to a lookup vindex column.
#[derive(Debug, Clone, PartialEq)]
pub struct NewValue {
    /// The value (a literal or a `?`).
    pub value: RouteValue,
    /// Its SQL text for the shard's "unchanged?" test (`?` for a parameter).
    pub sql: String,
}

/// One owned lookup vindex a DELETE or UPDATE maintains.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedLookup {
    /// The vindex's name in the owner keyspace.
    pub vindex: String,
    /// The owner table's columns for the vindex's from columns, in order.
    pub columns: Vec<String>,
    /// UPDATE: the value assigned to each column, None where it keeps its value. Empty for
    /// DELETE.
    pub new_values: Vec<Option<NewValue>>,
}

/// What an UPDATE/DELETE of an owner table reads first: the doomed or changed rows' primary
/// key, primary vindex and lookup columns, `FOR UPDATE` on the normal connection
/// (`SELECT <pk…>, <primary>, <owned…>[, <unchanged flags>] FROM <table> <tail> FOR UPDATE`).
/// The change itself then runs on exactly those rows: `<head> WHERE <pk> IN (<keys read>)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DmlLookups {
    /// The table as the statement names it (qualifier included), for the FROM clause.
    pub table: String,
    /// The table's name alone (to read its primary key from a shard).
    pub owner_table: String,
    /// The statement's text before `tail` (`UPDATE t SET …` / `DELETE FROM t`), whose `?`
    /// parameters are the first `tail_first_param` ones.
    pub head: String,
    /// The statement's `ORDER BY …` (without LIMIT), empty without one: the keyed statement
    /// changes the rows in the same order (it matters for unique keys and user variables).
    pub order_by: String,
    /// Index of the first `?` parameter inside `order_by`.
    pub order_by_first_param: usize,
    /// The primary vindex's name and columns (to compute each row's keyspace id).
    pub primary_vindex: String,
    /// The primary vindex's columns.
    pub primary_columns: Vec<String>,
    /// The lookups to maintain: every owned one for DELETE, the changed ones for UPDATE.
    pub owned: Vec<OwnedLookup>,
    /// UPDATE of an unowned lookup vindex's first column: the new value must map to each
    /// changed row's keyspace id (the proxy does not write that lookup).
    pub verified: Vec<OwnedLookup>,
    /// The statement's text from its WHERE (or ORDER BY / LIMIT) to the end, with the IN list
    /// of the route at the same relative place, pruned per shard like the statement.
    pub tail: QueryTemplate,
    /// Index of the first `?` parameter inside `tail`.
    pub tail_first_param: usize,
}

/// Where an owned lookup column's value comes from in one INSERT row.
#[derive(Debug, Clone, PartialEq)]
pub enum LookupInput {
    /// Written in the row (a literal or a `?`).
    Value(RouteValue),
    /// The column is not in the INSERT (taken as NULL, as Vitess does).
    Omitted,
    /// The row's generated sequence id (the column is the auto_increment column).
    GeneratedId,
}

/// One owned lookup vindex an INSERT maintains.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertLookup {
    /// The vindex's name in the owner keyspace.
    pub vindex: String,
    /// Per INSERT row, the value of each from column.
    pub rows: Vec<Vec<LookupInput>>,
}

/// One row's placement in an INSERT.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertRow {
    /// Values of the primary vindex column(s) of this row, in vindex column order; `None`
    /// means the value is this row's generated sequence id (the primary vindex column is the
    /// auto_increment column and it was omitted or NULL).
    pub vindex_values: Vec<Option<RouteValue>>,
    /// Byte range in the statement of this row's `( ... )` tuple, copied into the shard's INSERT.
    pub span: (usize, usize),
    /// Byte range (in [`InsertPlan::source`]) of the auto_increment column's value when that
    /// value is the literal NULL, `DEFAULT` or `0` (MySQL generates an id for all three): the
    /// executor replaces it with the next sequence id. None when
    /// the value is given, or when the column was omitted (see
    /// [`InsertPlan::auto_increment_omitted`]).
    pub auto_increment_value: Option<(usize, usize)>,
}

/// An INSERT (or REPLACE) into a sharded table: rows grouped per shard.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertPlan {
    /// Keyspace of the table.
    pub keyspace: String,
    /// Table name.
    pub table: String,
    /// Primary vindex name.
    pub vindex: String,
    /// Statement text before the first row tuple (`INSERT INTO t (a, b) VALUES `), with the
    /// auto_increment column added to the column list when it was omitted.
    pub prefix: String,
    /// Text after the last tuple (`ON DUPLICATE KEY UPDATE ...`), possibly empty.
    pub suffix: String,
    /// The rows.
    pub rows: Vec<InsertRow>,
    /// `(sequence keyspace, sequence table)` when the table has an auto_increment column.
    pub sequence: Option<(String, String)>,
    /// The statement omitted the auto_increment column: `prefix` already lists it last, and
    /// the executor appends `, <next sequence id>` before each tuple's closing parenthesis.
    pub auto_increment_omitted: bool,
    /// The statement text the byte ranges in `rows` refer to.
    pub source: String,
    /// Owned lookup vindexes: their lookup rows are created before the owner rows.
    pub lookups: Vec<InsertLookup>,
    /// Unowned lookup vindexes: each non-NULL value must map to its row's keyspace id
    /// (verified before the owner rows are written).
    pub unowned: Vec<InsertLookup>,
    /// INSERT IGNORE or ON DUPLICATE KEY UPDATE: a row whose unique lookup value another
    /// row holds is dropped instead of failing the statement.
    pub ignore: bool,
    /// `RETURNING ...` (in `suffix`): every shard answers with the rows it inserted, which
    /// the executor returns in the statement's row order (never with `ignore`).
    pub returning: bool,
    /// ON DUPLICATE KEY UPDATE into a table owning lookup vindexes: every row's values, so
    /// the executor can tell the row the upsert would update (by its primary key) from
    /// another row holding a unique value.
    pub upsert: Option<UpsertValues>,
}

/// The values of an ON DUPLICATE KEY UPDATE's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertValues {
    /// The inserted columns, lower-cased (the auto_increment column included when omitted).
    pub columns: Vec<String>,
    /// Per row, each column's value; None for an expression the proxy does not evaluate.
    pub rows: Vec<Vec<Option<LookupInput>>>,
}

/// A statement plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Unsharded keyspace or explicit shard target: the existing passthrough path.
    Passthrough {
        /// Keyspace the statement goes to.
        keyspace: String,
    },
    /// SELECT on a sharded keyspace.
    Select(SelectPlan),
    /// UPDATE/DELETE on a sharded keyspace.
    Dml(DmlPlan),
    /// INSERT/REPLACE on a sharded keyspace.
    Insert(InsertPlan),
    /// DDL (CREATE/ALTER/DROP/TRUNCATE/RENAME, CREATE/DROP INDEX): the same text on every shard.
    AllShards {
        /// Keyspace.
        keyspace: String,
        /// Statement text.
        sql: String,
    },
    /// A SELECT no shard answers alone (cross-shard joins, UNION, derived tables, subqueries
    /// over several shards, …): its tables are copied into temporary tables of one
    /// connection, where MariaDB itself runs the statement.
    Materialize(MaterializePlan),
    /// INSERT … SELECT into a sharded table: the SELECT's rows become an ordinary INSERT.
    InsertSelect(InsertSelectPlan),
}

/// An INSERT … SELECT (`super::insert_select`): the executor runs `select`, then the INSERT
/// `head VALUES (row), … tail` through the normal INSERT path.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertSelectPlan {
    /// The keyspace of the table inserted into.
    pub keyspace: String,
    /// The client's text before the SELECT (`INSERT [IGNORE] INTO t (cols) `).
    pub head: String,
    /// The SELECT's text.
    pub select_sql: String,
    /// The SELECT's plan.
    pub select: Box<Plan>,
    /// The client's text after the SELECT (`ON DUPLICATE KEY UPDATE …`, or empty).
    pub tail: String,
}

/// A statement answered by one MariaDB connection over temporary copies of its tables
/// (`super::materialize`): exact by construction, bounded by `limits.max_merge_bytes`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterializePlan {
    /// Each table the statement reads, copied once.
    pub tables: Vec<MaterializedTable>,
    /// The keyspace whose first shard holds the temporary tables and runs the statement.
    pub scratch_keyspace: String,
    /// The client's statement with each table name replaced by its temporary table (aliased
    /// with the name or alias written); `?` parameters kept in place and order.
    pub query: String,
    /// The order the tables are fetched in (indexes into `tables`): those with pushed-down
    /// filters first, so the others may be reduced by their join columns.
    pub fetch_order: Vec<usize>,
}

/// `column IN (the source table's source_column values)` may filter a table's fetch once the
/// source is fetched (`super::materialize_joins`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction {
    /// The column of the table fetched.
    pub column: String,
    /// The table whose rows give the values (index into [`MaterializePlan::tables`]).
    pub source: usize,
    /// Its column.
    pub source_column: String,
}

/// One table of a [`MaterializePlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct MaterializedTable {
    /// The keyspace it lives in.
    pub keyspace: String,
    /// Its name.
    pub table: String,
    /// The temporary table's name.
    pub temp: String,
    /// The query reading its rows (every column, filters the statement allows pushed down).
    pub fetch_sql: String,
    /// The plan of `fetch_sql` (a single-table SELECT: routed, scattered or passed through).
    pub fetch: Box<Plan>,
    /// The qualifier the fetch names the table by, and its pushed-down filter (already in
    /// `fetch_sql`); None when nothing was pushed down.
    pub filter: Option<(String, String)>,
    /// The join-column reductions the executor may add to the fetch.
    pub reductions: Vec<Reduction>,
}

impl Plan {
    /// Whether running the plan writes lookup rows (or picks an UPDATE/DELETE's rows under
    /// lock before changing them, [`DmlPick`]), so it must run inside a transaction (an
    /// implicit one under autocommit) and commit in pre → normal → post order.
    pub fn maintains_lookups(&self) -> bool {
        match self {
            Plan::Insert(p) => !p.lookups.is_empty() || !p.unowned.is_empty(),
            Plan::Dml(p) => {
                p.pick.is_some()
                    || p.lookups
                        .as_ref()
                        .is_some_and(|l| !l.owned.is_empty() || !l.verified.is_empty())
            }
            _ => false,
        }
    }
}
