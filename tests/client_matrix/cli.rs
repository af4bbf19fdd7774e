//! The workload for the `mariadb` command-line client: the same steps as workload.py, as a
//! script of literal SQL fed to `mariadb --batch --force --binary-as-hex` (two runs: the
//! inserts, then everything that needs their ids). Before each statement that returns rows
//! the script selects a marker (`#<n>`), so the rows on stdout are tied to their statement;
//! `--force` goes on after an error, and stderr's `ERROR <code> (...) at line <l>` ties each
//! error to its statement (one statement a line). From both, [`transcript`] builds the
//! transcript the other clients print.

use crate::expected::{names, phones, rollback_phone, typed_rows};
use crate::rust_clients::{literal, P};
use crate::setup::matrix;
use sha2::Digest;
use std::collections::HashMap;
use std::time::Duration;
use tokio::process::Command;

/// How a statement shows in the transcript.
enum Show {
    /// Nothing (a write whose success the later reads show).
    Nothing,
    /// Each row: `prefix` + its fields joined by spaces.
    Rows(String),
    /// The first row's fields fill the `{}`s of the template, in order.
    Fill(String),
    /// Its first field, appended as `key=value` to the previous transcript line.
    Append(&'static str),
    /// `<label> no error`, or `<label> errno=<code>` when it fails.
    Duplicate(&'static str),
}

struct Stmt {
    sql: String,
    show: Show,
    /// The step named in `<step> ERROR <code>` if it fails.
    step: &'static str,
}

fn stmt(step: &'static str, sql: impl Into<String>, show: Show) -> Stmt {
    Stmt {
        sql: sql.into(),
        show,
        step,
    }
}

/// Runs `stmts` in one `mariadb` session; returns their transcript lines.
async fn run(stmts: &[Stmt]) -> (Vec<String>, String) {
    // Script lines: (SQL, the statement it is). A marker goes before the write that precedes
    // its statement, if any, so that `SELECT ROW_COUNT()` still follows its write.
    let mut lines: Vec<(String, Option<usize>)> = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        if !matches!(s.show, Show::Nothing | Show::Duplicate(_)) {
            let marker = (format!("SELECT '#{i}'"), None);
            let after_write = i > 0 && matches!(stmts[i - 1].show, Show::Nothing);
            if after_write {
                let at = lines.len() - 1;
                lines.insert(at, marker);
            } else {
                lines.push(marker);
            }
        }
        lines.push((s.sql.clone(), Some(i)));
    }
    let mut script = String::new();
    let mut line_of = HashMap::new();
    for (n, (sql, stmt)) in lines.iter().enumerate() {
        script.push_str(sql);
        script.push_str(";\n");
        if let Some(i) = stmt {
            line_of.insert(n + 1, *i);
        }
    }
    let port = matrix().env.port().to_string();
    let (_, out, err) = crate::common::tools::run_tool(
        Command::new("mariadb").args([
            "-h127.0.0.1",
            "-P",
            &port,
            "-uapp",
            "-psecret",
            "--default-character-set=utf8mb4",
            "--batch",
            "--skip-column-names",
            "--force",
            "--binary-as-hex",
            "customer",
        ]),
        Some(&script),
        Duration::from_secs(120),
    )
    .await;
    // Rows by statement.
    let mut rows: HashMap<usize, Vec<Vec<String>>> = HashMap::new();
    let mut current = None;
    for l in out.lines() {
        if let Some(i) = l.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
            current = Some(i);
            continue;
        }
        if let Some(i) = current {
            rows.entry(i)
                .or_default()
                .push(l.split('\t').map(str::to_string).collect());
        }
    }
    // Errors by statement: `ERROR 1062 (23000) at line 7: ...`.
    let mut errors: HashMap<usize, String> = HashMap::new();
    for l in err.lines() {
        let Some(rest) = l.strip_prefix("ERROR ") else {
            continue;
        };
        let code = rest.split_whitespace().next().unwrap_or("?").to_string();
        let at = rest
            .split(" at line ")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.trim().parse::<usize>().ok());
        match at.and_then(|n| line_of.get(&n)) {
            Some(&i) => {
                errors.insert(i, code);
            }
            None => errors.insert(usize::MAX, l.to_string()).map_or((), drop),
        }
    }
    let mut lines: Vec<String> = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        if let Show::Duplicate(label) = s.show {
            match errors.get(&i) {
                Some(code) => lines.push(format!("{label} errno={code}")),
                None => lines.push(format!("{label} no error")),
            }
            continue;
        }
        if let Some(code) = errors.get(&i) {
            lines.push(format!("{} ERROR {code}", s.step));
            continue;
        }
        let got = rows.remove(&i).unwrap_or_default();
        match &s.show {
            Show::Nothing | Show::Duplicate(_) => {}
            Show::Rows(prefix) => {
                for r in got {
                    lines.push(format!("{prefix}{}", r.join(" ")));
                }
            }
            Show::Fill(template) => {
                let mut text = template.clone();
                for field in got.first().cloned().unwrap_or_default() {
                    text = text.replacen("{}", &field, 1);
                }
                lines.push(text);
            }
            Show::Append(key) => {
                let value = got
                    .first()
                    .and_then(|r| r.first())
                    .cloned()
                    .unwrap_or_default();
                if let Some(last) = lines.last_mut() {
                    last.push_str(&format!(" {key}={value}"));
                }
            }
        }
    }
    (lines, err)
}

/// `mariadb --binary-as-hex` prints binary values as `0x..`; the transcripts say `x..`.
fn hex_word(word: &str) -> String {
    match word.strip_prefix("0x") {
        Some(h) => format!("x{}", h.to_ascii_lowercase()),
        None => word.to_string(),
    }
}

/// Runs the workload with the `mariadb` CLI: (transcript, stderr).
pub async fn workload(tag: u32) -> (String, String) {
    let names = names(tag);
    let phones = phones(tag);
    let s = |v: &str| literal(&P::Str(v.to_string()));
    let mut first = vec![stmt(
        "unsharded",
        "SELECT id, name FROM commerce.product ORDER BY id",
        Show::Rows("unsharded ".into()),
    )];
    for (name, phone) in names.iter().zip(phones) {
        first.push(stmt(
            "insert",
            format!(
                "INSERT INTO person (name, phone) VALUES ({}, {phone})",
                s(name)
            ),
            Show::Nothing,
        ));
        first.push(stmt(
            "insert",
            "SELECT LAST_INSERT_ID(), ROW_COUNT()",
            Show::Fill(format!("insert {name} id={{}} rows={{}}")),
        ));
    }
    let (mut lines, mut err) = run(&first).await;
    let ids: Vec<String> = lines
        .iter()
        .filter_map(|l| l.split(" id=").nth(1))
        .filter_map(|r| r.split(' ').next())
        .map(str::to_string)
        .collect();

    let mut second = Vec::new();
    for id in &ids {
        second.push(stmt(
            "reads",
            format!("SELECT id, name, phone FROM person WHERE id = {id}"),
            Show::Rows("by_id ".into()),
        ));
    }
    for name in &names {
        second.push(stmt(
            "reads",
            format!(
                "SELECT id, name, phone FROM person WHERE name = {}",
                s(name)
            ),
            Show::Rows("by_name ".into()),
        ));
    }
    for phone in phones {
        second.push(stmt(
            "reads",
            format!("SELECT id, name, phone FROM person WHERE phone = {phone}"),
            Show::Rows("by_phone ".into()),
        ));
    }
    let tx_name = s(&format!("p{tag}tx"));
    let tx_phone = rollback_phone(tag);
    second.extend([
        stmt("rollback", "BEGIN", Show::Nothing),
        stmt(
            "rollback",
            format!("INSERT INTO person (name, phone) VALUES ({tx_name}, {tx_phone})"),
            Show::Nothing,
        ),
        stmt(
            "rollback",
            format!("SELECT COUNT(*) FROM person WHERE name = {tx_name}"),
            Show::Fill("rollback inside={}".into()),
        ),
        stmt("rollback", "ROLLBACK", Show::Nothing),
        stmt(
            "rollback",
            format!("SELECT COUNT(*) FROM person WHERE name = {tx_name}"),
            Show::Append("after"),
        ),
        stmt(
            "rollback",
            format!("SELECT COUNT(*) FROM person WHERE phone = {tx_phone}"),
            Show::Append("by_phone"),
        ),
    ]);
    let typed = typed_rows(tag);
    for r in &typed {
        let values = [
            P::Int(r.id),
            r.note.map_or(P::Null, |n| P::Str(n.into())),
            P::Str(r.uni.into()),
            P::Str(r.ts.into()),
            P::Dec(r.amount),
            P::Bytes(r.data.clone()),
        ];
        let values: Vec<String> = values.iter().map(literal).collect();
        second.push(stmt(
            "typed",
            format!(
                "INSERT INTO typed (id, note, uni, ts, amount, data) VALUES ({})",
                values.join(", ")
            ),
            Show::Nothing,
        ));
    }
    for r in &typed {
        second.push(stmt(
            "typed",
            format!(
                "SELECT id, note, uni, ts, amount, data FROM typed WHERE id = {}",
                r.id
            ),
            Show::Rows("typed ".into()),
        ));
    }
    second.push(stmt(
        "scatter",
        "SELECT id, name, payload FROM big ORDER BY id",
        Show::Rows("big ".into()),
    ));
    second.push(stmt(
        "duplicates",
        format!(
            "INSERT INTO typed (id, note) VALUES ({}, 'again')",
            typed[0].id
        ),
        Show::Duplicate("dup_pk"),
    ));
    second.push(stmt(
        "duplicates",
        format!(
            "INSERT INTO person (name, phone) VALUES ({}, {})",
            s(&format!("p{tag}dup")),
            phones[0]
        ),
        Show::Duplicate("dup_phone"),
    ));
    second.push(stmt(
        "after_error",
        format!("SELECT COUNT(*) FROM person WHERE name = {}", s(&names[0])),
        Show::Fill("after_error a={}".into()),
    ));
    second.push(stmt(
        "after_error",
        format!(
            "SELECT COUNT(*) FROM person WHERE name = {}",
            s(&format!("p{tag}dup"))
        ),
        Show::Append("dup"),
    ));
    let (more, more_err) = run(&second).await;
    err.push_str(&more_err);
    // The scatter's rows become one hashed line; binary values print as hex.
    let mut h = sha2::Sha256::new();
    let mut big = 0;
    for l in more {
        if let Some(row) = l.strip_prefix("big ") {
            let fields: Vec<&str> = row.splitn(3, ' ').collect();
            let payload = hex_word(fields.get(2).copied().unwrap_or(""));
            let id = fields.first().copied().unwrap_or("");
            let name = fields.get(1).copied().unwrap_or("");
            h.update(format!("{id}|{name}|{}\n", &payload[1..]).as_bytes());
            big += 1;
            continue;
        }
        if big > 0 {
            let digest: String = std::mem::take(&mut h)
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            lines.push(format!("scatter rows={big} sha256={digest}"));
            big = 0;
        }
        let words: Vec<String> = l.split(' ').map(hex_word).collect();
        lines.push(words.join(" "));
    }
    lines.push("done".into());
    (lines.join("\n") + "\n", err)
}
