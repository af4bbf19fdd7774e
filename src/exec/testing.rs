//! A recording cursor for executor tests: answers from canned results and logs every call as
//! `exec <keyspace>/<shard>: <sql>`, so tests assert the exact shard traffic; plus the test
//! VSchema, plans and canned shard answers the executor tests share.

use super::{execute_select, CommitOrder, Cursor, ExecError, ShardResult};
use crate::keyrange::KeyRange;
use crate::planner::{plan, Plan, SelectPlan};
use crate::vschema::{KeyspaceSchema, VSchema};
use std::collections::HashMap;

/// Canned shards and answers, plus the log of what was asked.
#[derive(Debug, Default)]
pub struct RecordingCursor {
    /// Shard names per keyspace.
    pub shards: HashMap<String, Vec<String>>,
    /// Answer per `(keyspace, shard index)`; missing ones answer an empty OK.
    pub answers: HashMap<(String, usize), ShardResult>,
    /// Answers (or a MySQL error code) for queries containing the text, checked before
    /// `answers`; the first match is used and then removed, so a script of answers plays once.
    pub answers_by_text: Vec<(String, Result<ShardResult, u16>)>,
    /// Every call, in order.
    pub log: Vec<String>,
    /// Next sequence id.
    pub next_id: u64,
}

impl Cursor for RecordingCursor {
    type Streams = super::Buffered;

    async fn stream_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> Result<Self::Streams, ExecError> {
        Ok(super::Buffered::new(
            self.execute_each(keyspace, queries).await?,
        ))
    }

    async fn close_streams(&mut self, streams: Self::Streams, _abandon: bool) -> u16 {
        streams.warnings()
    }

    fn shards(&self, keyspace: &str) -> Result<super::ShardRanges, ExecError> {
        let names = self
            .shards
            .get(keyspace)
            .ok_or_else(|| ExecError::Internal(format!("no keyspace {keyspace}")))?;
        names
            .iter()
            .map(|n| {
                KeyRange::parse_shard_name(n)
                    .map(|r| (n.clone(), r))
                    .map_err(|e| ExecError::Internal(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Into::into)
    }

    async fn execute_in(
        &mut self,
        order: CommitOrder,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> Result<ShardResult, ExecError> {
        let name = self
            .shards
            .get(keyspace)
            .and_then(|s| s.get(shard))
            .cloned()
            .unwrap_or_default();
        let list = match order {
            CommitOrder::Normal => "",
            CommitOrder::Pre => "pre ",
            CommitOrder::Post => "post ",
            CommitOrder::Autocommit => "autocommit ",
        };
        self.log
            .push(format!("exec {list}{keyspace}/{name}: {sql}"));
        if let Some(i) = self
            .answers_by_text
            .iter()
            .position(|(t, _)| sql.contains(t.as_str()))
        {
            let (_, answer) = self.answers_by_text.remove(i);
            return answer.map_err(|code| {
                ExecError::Proxy(crate::error::ProxyError::Backend(
                    crate::backend::BackendError::Server {
                        code,
                        state: "23000".into(),
                        message: format!("error {code} from {keyspace}/{name}"),
                    },
                ))
            });
        }
        Ok(self
            .answers
            .get(&(keyspace.to_string(), shard))
            .cloned()
            .unwrap_or_default())
    }

    async fn execute_scratch(
        &mut self,
        keyspace: &str,
        shard: usize,
        work: crate::exec::ScratchWork,
    ) -> Result<ShardResult, ExecError> {
        for sql in work.setup {
            self.execute(keyspace, shard, sql).await?;
        }
        let result = self.execute(keyspace, shard, work.query).await;
        for sql in work.cleanup {
            self.execute(keyspace, shard, sql).await?;
        }
        result
    }

    async fn next_sequence_ids(
        &mut self,
        keyspace: &str,
        table: &str,
        count: u64,
    ) -> Result<u64, ExecError> {
        self.log
            .push(format!("sequence {keyspace}.{table}: {count}"));
        let first = self.next_id;
        self.next_id += count;
        Ok(first)
    }
}

/// The test VSchema: keyspace `customer` (2 shards) with `user` on a hash vindex.
pub fn vschema() -> VSchema {
    let ks = KeyspaceSchema::parse(
        "customer",
        r#"{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
            "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}"#,
    )
    .expect("parse");
    VSchema::build(vec![ks], [("customer".to_string(), 2usize)].into()).expect("build")
}

/// A recording cursor over `customer`'s shards `-80` and `80-`.
pub fn cursor() -> RecordingCursor {
    RecordingCursor {
        shards: [(
            "customer".to_string(),
            vec!["-80".to_string(), "80-".to_string()],
        )]
        .into(),
        next_id: 100,
        ..RecordingCursor::default()
    }
}

/// The SELECT plan of `sql` against [`vschema`].
pub fn select_plan(sql: &str) -> SelectPlan {
    match plan(sql, &vschema(), None) {
        Ok(Plan::Select(p)) => p,
        other => panic!("expected a select plan for {sql}, got {other:?}"),
    }
}

/// Runs `plan` with each shard answering `answers[i]`; returns the result and the log.
pub async fn run_select(
    plan: &SelectPlan,
    params: &[mysql_async::Value],
    answers: Vec<ShardResult>,
) -> (Result<ShardResult, ExecError>, Vec<String>) {
    let mut c = cursor();
    for (i, a) in answers.into_iter().enumerate() {
        c.answers.insert(("customer".to_string(), i), a);
    }
    let r = execute_select(&mut c, plan, params, &vschema()).await;
    (r, c.log)
}

/// Some(text).
pub fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

/// Runs a merged SELECT over two shards answering `columns` with `rows0` / `rows1`.
pub async fn merged(
    sql: &str,
    columns: Vec<mysql_common::packets::Column>,
    rows0: &[&[Option<&str>]],
    rows1: &[&[Option<&str>]],
) -> Result<Vec<Vec<Option<String>>>, ExecError> {
    use self::rows::*;
    let plan = select_plan(sql);
    let to_rows = |rs: &[&[Option<&str>]]| rs.iter().map(|r| row(r)).collect();
    let answers = vec![
        answer(columns.clone(), to_rows(rows0)),
        answer(columns, to_rows(rows1)),
    ];
    let (r, _) = run_select(&plan, &[], answers).await;
    r.map(|r| texts(&r))
}

/// Column metadata and text-protocol rows as MariaDB sends them, for canned answers.
pub mod rows {
    use super::ShardResult;
    use mysql_async::Value;
    use mysql_common::constants::{ColumnFlags, ColumnType};
    use mysql_common::packets::Column;

    fn numeric(kind: ColumnType, length: u32, decimals: u8) -> Column {
        Column::new(kind)
            .with_character_set(63)
            .with_flags(ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG)
            .with_column_length(length)
            .with_decimals(decimals)
    }

    /// `BIGINT`.
    pub fn bigint() -> Column {
        numeric(ColumnType::MYSQL_TYPE_LONGLONG, 20, 0)
    }

    /// What a shard sends for `COUNT(...)`.
    pub fn count() -> Column {
        bigint().with_flags(
            ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG | ColumnFlags::NOT_NULL_FLAG,
        )
    }

    /// `DECIMAL(precision, scale)` (also what a shard sends for SUM).
    pub fn decimal(precision: u32, scale: u8) -> Column {
        numeric(
            ColumnType::MYSQL_TYPE_NEWDECIMAL,
            precision + u32::from(scale > 0) + 1,
            scale,
        )
    }

    /// `DOUBLE`.
    pub fn double() -> Column {
        numeric(ColumnType::MYSQL_TYPE_DOUBLE, 22, 31)
    }

    /// `DATE`.
    pub fn date() -> Column {
        Column::new(ColumnType::MYSQL_TYPE_DATE)
            .with_character_set(63)
            .with_flags(ColumnFlags::BINARY_FLAG)
    }

    /// A `utf8mb4_general_ci` VARCHAR.
    pub fn varchar() -> Column {
        Column::new(ColumnType::MYSQL_TYPE_VAR_STRING)
            .with_character_set(45)
            .with_column_length(1020)
    }

    /// A text-protocol row; `None` is NULL.
    pub fn row(cells: &[Option<&str>]) -> Vec<Value> {
        cells
            .iter()
            .map(|c| c.map_or(Value::NULL, |t| Value::Bytes(t.as_bytes().to_vec())))
            .collect()
    }

    /// A shard's answer.
    pub fn answer(columns: Vec<Column>, rows: Vec<Vec<Value>>) -> ShardResult {
        ShardResult {
            columns,
            rows,
            ..ShardResult::default()
        }
    }

    /// The rows of a result as text (`None` for NULL).
    pub fn texts(result: &ShardResult) -> Vec<Vec<Option<String>>> {
        result
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        Value::NULL => None,
                        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                        other => Some(other.as_sql(true)),
                    })
                    .collect()
            })
            .collect()
    }
}
