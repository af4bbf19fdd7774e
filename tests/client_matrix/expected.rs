//! What every client's transcript must be, computed from what the workload writes (its inputs,
//! keyed by the client's tag) and from the rows read DIRECTLY on the shards afterwards (the ids
//! the sequence handed out), never from the client's own output. The direct reads also check
//! the stored bytes and the lookup rows, so a write and a read that are wrong the same way
//! cannot pass.

use crate::setup::{big_row, matrix, BIG_ROWS, PRODUCTS, SHARDS};
use mysql_async::prelude::*;
use sha2::{Digest, Sha256};

/// The person names a client with `tag` inserts.
pub fn names(tag: u32) -> [String; 3] {
    [format!("p{tag}a"), format!("Zoë{tag}"), format!("p{tag}c")]
}

/// Their phones.
pub fn phones(tag: u32) -> [i64; 3] {
    let base = 5_550_000 + i64::from(tag) * 10;
    [base + 1, base + 2, base + 3]
}

/// The phone of the rolled-back row.
pub fn rollback_phone(tag: u32) -> i64 {
    5_550_000 + i64::from(tag) * 10 + 9
}

/// One `typed` row: id, note, uni, ts (`YYYY-MM-DD hh:mm:ss.ffffff`), amount, data.
pub struct TypedRow {
    pub id: i64,
    pub note: Option<&'static str>,
    pub uni: &'static str,
    pub ts: &'static str,
    pub amount: &'static str,
    pub data: Vec<u8>,
}

/// The two `typed` rows a client with `tag` inserts.
pub fn typed_rows(tag: u32) -> [TypedRow; 2] {
    let id = i64::from(tag) * 10;
    [
        TypedRow {
            id: id + 1,
            note: None,
            uni: "Zoë ✓ 日本 😀",
            ts: "2024-02-29 13:14:15.123456",
            amount: "12345.6789",
            data: (0..=255u8).collect(),
        },
        TypedRow {
            id: id + 2,
            note: Some("n"),
            uni: "",
            ts: "1999-12-31 23:59:59.000001",
            amount: "-0.0001",
            data: Vec::new(),
        },
    ]
}

/// `x` + lowercase hex, as transcripts print bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The `scatter` line: row count and SHA-256 over `id|name|hex(payload)\n` in id order.
pub fn scatter_line() -> String {
    let mut h = Sha256::new();
    for i in 1..=BIG_ROWS {
        let (name, payload) = big_row(i);
        let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
        h.update(format!("{i}|{name}|{hex}\n").as_bytes());
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("scatter rows={BIG_ROWS} sha256={digest}")
}

async fn on_shards<T: FromRow + Send + 'static>(keyspace: &str, sql: &str) -> Vec<T> {
    let env = &matrix().env;
    let mut all = Vec::new();
    for shard in SHARDS {
        let mut c = env.shard_conn(keyspace, shard).await;
        let rows: Vec<T> = c
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{keyspace}/{shard}: {sql}: {e}"));
        all.extend(rows);
        drop(c.disconnect().await);
    }
    all
}

fn quoted(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The expected transcript of the client with `tag`, and what is wrong with its writes as
/// stored on the shards (person ids must come from `commerce.person_seq`, which starts at 1000;
/// lookup rows exactly those of the kept rows; `typed` byte for byte).
pub async fn expected(tag: u32) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let names = names(tag);
    let phones = phones(tag);
    let mut lines: Vec<String> = PRODUCTS
        .iter()
        .map(|(id, name)| format!("unsharded {id} {name}"))
        .collect();

    // The person rows as stored, one per name, none for the rolled-back or duplicate rows.
    let all_names = names
        .iter()
        .cloned()
        .chain([format!("p{tag}tx"), format!("p{tag}dup")]);
    let stored: Vec<(String, i64, i64)> = on_shards(
        "customer",
        &format!(
            "SELECT name, id, phone FROM person WHERE name IN ({}) ORDER BY id",
            quoted(all_names)
        ),
    )
    .await;
    let mut ids = Vec::new();
    for (name, phone) in names.iter().zip(phones) {
        let found: Vec<_> = stored.iter().filter(|(n, _, _)| n == name).collect();
        match found[..] {
            [(_, id, stored_phone)] => {
                if *stored_phone != phone || *id < 1000 {
                    problems.push(format!(
                        "{name} stored with id {id} (from the sequence: >= 1000) and phone \
                         {stored_phone} (want {phone})"
                    ));
                }
                ids.push(id.to_string());
            }
            _ => ids.push("<no single row>".into()),
        }
    }
    if stored.len() != 3 {
        problems.push(format!("person rows on the shards: {stored:?}"));
    }

    // Their lookup rows, and none left by the rolled-back or duplicate rows.
    let phone_rows: Vec<i64> = on_shards(
        "lookup",
        &format!(
            "SELECT phone FROM phone_person_vdx WHERE phone BETWEEN {} AND {} ORDER BY phone",
            phones[0] - 1,
            rollback_phone(tag)
        ),
    )
    .await;
    let mut want_phones = phones.to_vec();
    want_phones.sort();
    let mut got_phones = phone_rows.clone();
    got_phones.sort();
    if got_phones != want_phones {
        problems.push(format!(
            "phone lookup rows {got_phones:?}, want {want_phones:?}"
        ));
    }
    let name_rows: Vec<(String, i64)> = on_shards(
        "lookup",
        &format!(
            "SELECT name, id FROM name_person_vdx WHERE name IN ({}, 'p{tag}tx', 'p{tag}dup')",
            quoted(names.iter().cloned())
        ),
    )
    .await;
    let mut got_names = name_rows.clone();
    got_names.sort();
    let mut want_names: Vec<(String, i64)> = stored
        .iter()
        .filter(|(n, _, _)| names.contains(n))
        .map(|(n, id, _)| (n.clone(), *id))
        .collect();
    want_names.sort();
    if got_names != want_names {
        problems.push(format!(
            "name lookup rows {got_names:?}, want {want_names:?}"
        ));
    }

    for (name, id) in names.iter().zip(&ids) {
        lines.push(format!("insert {name} id={id} rows=1"));
    }
    for ((name, phone), id) in names.iter().zip(phones).zip(&ids) {
        lines.push(format!("by_id {id} {name} {phone}"));
    }
    for ((name, phone), id) in names.iter().zip(phones).zip(&ids) {
        lines.push(format!("by_name {id} {name} {phone}"));
    }
    for ((name, phone), id) in names.iter().zip(phones).zip(&ids) {
        lines.push(format!("by_phone {id} {name} {phone}"));
    }
    lines.push("rollback inside=1 after=0 by_phone=0".into());

    // The typed rows as stored, byte for byte.
    let typed = typed_rows(tag);
    type Stored = (
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let stored: Vec<Stored> = on_shards(
        "customer",
        &format!(
            "SELECT id, note, HEX(uni), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), \
             CAST(amount AS CHAR), HEX(data) FROM typed WHERE id IN ({}, {}) ORDER BY id",
            typed[0].id, typed[1].id
        ),
    )
    .await;
    let want: Vec<Stored> = typed
        .iter()
        .map(|r| {
            (
                r.id,
                r.note.map(str::to_string),
                Some(hex(r.uni.as_bytes())[1..].to_uppercase()),
                Some(r.ts.to_string()),
                Some(r.amount.to_string()),
                Some(hex(&r.data)[1..].to_uppercase()),
            )
        })
        .collect();
    let mut stored = stored;
    stored.sort();
    if stored != want {
        problems.push(format!(
            "typed rows on the shards {stored:?}, want {want:?}"
        ));
    }
    for r in &typed {
        lines.push(format!(
            "typed {} {} {} {} {} {}",
            r.id,
            r.note.unwrap_or("NULL"),
            r.uni,
            r.ts,
            r.amount,
            hex(&r.data)
        ));
    }
    lines.push(scatter_line());
    lines.push("dup_pk errno=1062".into());
    lines.push("dup_phone errno=1062".into());
    lines.push("after_error a=1 dup=0".into());
    lines.push("done".into());
    (lines, problems)
}

/// Panics (naming `client`) unless `transcript` is [`expected`]`(tag)`, line by line.
pub fn check(client: &str, tag: u32, transcript: &str, stderr: &str) {
    let (want, problems) = matrix().rt.block_on(expected(tag));
    let got: Vec<&str> = transcript.lines().collect();
    if got == want && problems.is_empty() {
        return;
    }
    let mut report = String::new();
    for i in 0..got.len().max(want.len()) {
        let g = got.get(i).copied().unwrap_or("<missing>");
        let w = want.get(i).map(String::as_str).unwrap_or("<missing>");
        let mark = if g == w { "   " } else { "!! " };
        report.push_str(&format!("{mark}got:  {g}\n"));
        if g != w {
            report.push_str(&format!("   want: {w}\n"));
        }
    }
    panic!(
        "{client}: transcript differs from the expected one\n{report}\n\
         on the shards: {problems:#?}\nstderr:\n{stderr}"
    );
}
