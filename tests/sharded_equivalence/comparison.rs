//! The comparison itself: both sides (the proxy's `customer` keyspace and the reference
//! database), the setup steps that must succeed on both, each statement run on both with its
//! difference recorded, and the [`Report`] of everything that differed.

use crate::common::TestEnv;
use crate::outcome::{describe_difference, normalize, render, run, same, Outcome};
use crate::statements::{has_top_level_order_by, reference_sql, Expect, Statement};
use crate::KEYSPACE;
use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Both sides of the comparison.
pub(crate) struct Sides<'e> {
    /// The environment (to reconnect to the proxy).
    pub(crate) env: &'e TestEnv,
    /// A connection through the proxy, on `customer`.
    pub(crate) proxy: Conn,
    /// A connection to the reference database.
    pub(crate) reference: Conn,
    /// The reference database's name.
    pub(crate) refdb: String,
}

impl Sides<'_> {
    /// A proxy connection (default database `commerce`, as [`TestEnv::client`] opens it) with
    /// `USE customer`.
    pub(crate) async fn proxy_conn(env: &TestEnv) -> Conn {
        let mut conn = env.client().await;
        conn.query_drop(format!("USE {KEYSPACE}"))
            .await
            .unwrap_or_else(|e| panic!("USE {KEYSPACE} through the proxy: {e}"));
        conn
    }

    /// Runs on the proxy; a broken connection is replaced for the next statement.
    pub(crate) async fn on_proxy(&mut self, sql: &str, params: Option<&[Value]>) -> Outcome {
        let outcome = run(&mut self.proxy, sql, params).await;
        if matches!(outcome, Outcome::Broken { .. }) {
            self.proxy = Self::proxy_conn(self.env).await;
        }
        outcome
    }

    /// Runs on the reference database, which must not break.
    pub(crate) async fn on_reference(&mut self, sql: &str, params: Option<&[Value]>) -> Outcome {
        let sql = reference_sql(sql, &self.refdb);
        let outcome = run(&mut self.reference, &sql, params).await;
        if let Outcome::Broken { message } = &outcome {
            panic!("the reference database failed on {sql}: {message}");
        }
        outcome
    }
}

/// What the run found.
#[derive(Default)]
pub(crate) struct Report {
    /// Setup steps that failed.
    pub(crate) setup: Vec<String>,
    /// Statements that differ.
    pub(crate) mismatches: Vec<String>,
    /// Proxy error codes among the mismatches.
    pub(crate) proxy_errors: BTreeMap<String, usize>,
    /// Statements compared.
    pub(crate) compared: usize,
    /// `refuse` statements the proxy refused with 1235.
    pub(crate) refused: usize,
    /// `refuse` statements the proxy answered (identically).
    pub(crate) answered_refusable: Vec<usize>,
    /// Rows found on a shard their keyspace id does not name, or on several shards, or
    /// shards that could not be read.
    pub(crate) placement: Vec<String>,
}

impl Report {
    fn note_proxy_error(&mut self, got: &Outcome) {
        let key = match got {
            Outcome::Failed { code, .. } => format!("error {code}"),
            Outcome::Broken { .. } => "connection failure".into(),
            Outcome::Rows { .. } => "wrong rows".into(),
            Outcome::Done { .. } => "wrong affected rows / OK instead of rows".into(),
        };
        *self.proxy_errors.entry(key).or_default() += 1;
    }

    /// Whether nothing differed, failed or sat on the wrong shard.
    pub(crate) fn is_clean(&self) -> bool {
        self.setup.is_empty() && self.mismatches.is_empty() && self.placement.is_empty()
    }

    /// The report as text, for the final panic (`total`: statements in the file).
    pub(crate) fn text(&self, total: usize) -> String {
        let mut s = format!(
            "sharded result equivalence: {} of {total} statements differ, {} setup steps failed, \
             {} placement problems ({} statements compared; {} refused with 1235 where allowed)\n",
            self.mismatches.len(),
            self.setup.len(),
            self.placement.len(),
            self.compared,
            self.refused,
        );
        if !self.proxy_errors.is_empty() {
            let kinds: Vec<String> = self
                .proxy_errors
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            let _ = writeln!(
                s,
                "proxy outcomes of the differing statements: {}",
                kinds.join(", ")
            );
        }
        if !self.setup.is_empty() {
            let _ = writeln!(
                s,
                "\n=== SETUP FAILED (the statement results below are unreliable) ==="
            );
            for f in &self.setup {
                let _ = writeln!(s, "{f}");
            }
        }
        if !self.mismatches.is_empty() {
            let _ = writeln!(s, "\n=== differing statements ===");
            for m in &self.mismatches {
                let _ = writeln!(s, "{m}");
            }
        }
        if !self.placement.is_empty() {
            let _ = writeln!(s, "\n=== rows not on the shard their keyspace id names ===");
            for p in &self.placement {
                let _ = writeln!(s, "{p}");
            }
        }
        s
    }
}

/// A setup step on both sides: both must succeed with the same affected-row count.
pub(crate) async fn setup_both(sides: &mut Sides<'_>, report: &mut Report, what: &str, sql: &str) {
    let got = sides.on_proxy(sql, None).await;
    let expected = sides.on_reference(sql, None).await;
    let ok = matches!(expected, Outcome::Done { .. }) && got == expected;
    if !ok {
        report.setup.push(format!(
            "--- setup: {what}\n    {}\n    reference: {}\n    proxy:     {}",
            abbreviate(sql),
            render(&expected),
            render(&got)
        ));
    }
}

fn abbreviate(sql: &str) -> String {
    if sql.chars().count() > 160 {
        format!("{}…", sql.chars().take(160).collect::<String>())
    } else {
        sql.to_string()
    }
}

/// Runs one statement on both sides and records any difference.
pub(crate) async fn compare(sides: &mut Sides<'_>, report: &mut Report, st: &Statement) {
    let params = st.params.as_deref();
    let got = sides.on_proxy(&st.sql, params).await;
    if st.expect == Expect::MayRefuse && got.is_code(1235) {
        // Refused as allowed; a refused DML must not run on the reference either.
        report.refused += 1;
        return;
    }
    let expected = sides.on_reference(&st.sql, params).await;
    report.compared += 1;
    let ordered = has_top_level_order_by(&st.sql);
    let (e, g) = (
        normalize(&expected, ordered, st.fold_case),
        normalize(&got, ordered, st.fold_case),
    );
    if same(&e, &g) {
        if st.expect == Expect::MayRefuse {
            report.answered_refusable.push(st.line);
        }
        return;
    }
    report.note_proxy_error(&got);
    let params = st
        .params
        .as_ref()
        .map(|p| {
            let p: Vec<String> = p.iter().map(|v| v.as_sql(true)).collect();
            format!("  [params: {}]", p.join(", "))
        })
        .unwrap_or_default();
    let how = if ordered { "ordered" } else { "as multiset" };
    report.mismatches.push(format!(
        "--- line {} [{}] ({how}): {}{params}\n{}",
        st.line,
        st.tag,
        abbreviate(&st.sql),
        describe_difference(&e, &g, ordered)
    ));
}
