//! The lookup-vindex workflow statements, in the shape of the vtctl commands users know:
//!
//! ```text
//! CreateLookupVindex [--flag[=value] ...] <keyspace> '<json spec>'
//! ExternalizeVindex <keyspace>.<vindex>
//! CancelLookupVindex [--keep_table] <keyspace>.<vindex>
//! SHOW VINDEX WORKFLOWS
//! VERIFY VINDEX <keyspace>.<vindex> [REPAIR]
//! ```
//!
//! CreateLookupVindex flags: `--continue_after_copy_with_owner[=BOOL]`, `--cells=a,b`,
//! `--tablet_types=primary[,...]` (Vitess's; we have one tablet type, `primary`, so a list
//! must name it), and ours: `--max_rows_per_sec=N` (backfill rate limit, 0 = none),
//! `--max_backend_load=N` (pause while the source shard's `Threads_running`, which counts the
//! probe itself, is above N; so N ≥ 2),
//! `--chunk_size=N` (rows per backfill chunk). `-` and `_` are interchangeable in flag names.
//! The words are read from the raw text (not the SQL tokenizer: `--flag` is not SQL), the JSON
//! spec is a single-quoted SQL string (backslash escapes and doubled quotes allowed).

use super::AdminError;

/// A workflow statement.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowStatement {
    /// `CreateLookupVindex`.
    Create(CreateOptions),
    /// `ExternalizeVindex ks.vindex`.
    Externalize {
        /// Keyspace of the vindex (the owner table's).
        keyspace: String,
        /// The vindex.
        vindex: String,
    },
    /// `CancelLookupVindex [--keep_table] ks.vindex`.
    Cancel {
        /// Keyspace of the vindex.
        keyspace: String,
        /// The vindex.
        vindex: String,
        /// Keep the lookup table instead of dropping it.
        keep_table: bool,
    },
    /// `SHOW VINDEX WORKFLOWS`.
    Show,
    /// `VERIFY VINDEX ks.vindex [REPAIR]`.
    Verify {
        /// Keyspace of the vindex.
        keyspace: String,
        /// The vindex.
        vindex: String,
        /// Insert missing lookup rows and delete orphans.
        repair: bool,
    },
}

/// The arguments of `CreateLookupVindex`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateOptions {
    /// The keyspace of the owner table.
    pub keyspace: String,
    /// The Vitess spec (`sharded`, `vindexes`, `tables`).
    pub spec: serde_json::Value,
    /// `--continue_after_copy_with_owner`: keep catching up after the copy until externalized.
    pub continue_after_copy: bool,
    /// `--cells` (validated, no effect: one cell).
    pub cells: Vec<String>,
    /// `--tablet_types` (validated, must include `primary`).
    pub tablet_types: Vec<String>,
    /// `--max_rows_per_sec` (0 = unlimited).
    pub max_rows_per_sec: u64,
    /// `--max_backend_load`: most `Threads_running` on the source shard before the copy pauses
    /// (0 = no limit).
    pub max_backend_load: u64,
    /// `--chunk_size`: rows per chunk.
    pub chunk_size: u64,
}

/// Default rows per backfill chunk.
pub const DEFAULT_CHUNK_SIZE: u64 = 1000;

/// Recognises a workflow statement by its first word(s).
pub fn parse_workflow(sql: &str) -> Option<Result<WorkflowStatement, AdminError>> {
    let text = sql.trim().trim_end_matches(';').trim();
    let (first, rest) = split_word(text);
    let word = first.to_ascii_lowercase();
    match word.as_str() {
        "createlookupvindex" => Some(parse_create(rest, sql)),
        "externalizevindex" => Some(
            parse_name(rest, sql)
                .map(|(keyspace, vindex)| WorkflowStatement::Externalize { keyspace, vindex }),
        ),
        "cancellookupvindex" => Some(parse_cancel(rest, sql)),
        "show" => {
            let (a, r) = split_word(rest);
            let (b, r) = split_word(r);
            (a.eq_ignore_ascii_case("vindex") && b.eq_ignore_ascii_case("workflows")).then(|| {
                if r.trim().is_empty() {
                    Ok(WorkflowStatement::Show)
                } else {
                    Err(syntax(sql, r.trim()))
                }
            })
        }
        "verify" => {
            let (a, r) = split_word(rest);
            if !a.eq_ignore_ascii_case("vindex") {
                return None;
            }
            let (name, r) = split_word(r);
            let (repair, r) = split_word(r);
            Some((|| {
                let (keyspace, vindex) = parse_name(name, sql)?;
                let repair = match repair {
                    "" => false,
                    w if w.eq_ignore_ascii_case("repair") => true,
                    w => return Err(syntax(sql, w)),
                };
                if !r.trim().is_empty() {
                    return Err(syntax(sql, r.trim()));
                }
                Ok(WorkflowStatement::Verify {
                    keyspace,
                    vindex,
                    repair,
                })
            })())
        }
        _ => None,
    }
}

fn syntax(sql: &str, near: &str) -> AdminError {
    AdminError::Syntax {
        position: sql.len(),
        near: (!near.is_empty()).then(|| near.chars().take(40).collect()),
    }
}

/// The first whitespace-separated word and the rest.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// `ks.name` (backticks allowed around either part).
fn parse_name(text: &str, sql: &str) -> Result<(String, String), AdminError> {
    let t = text.trim();
    let unquote = |p: &str| p.trim_matches('`').to_string();
    match t.split_once('.') {
        Some((ks, v)) if !ks.is_empty() && !v.is_empty() && !v.contains('.') => {
            Ok((unquote(ks), unquote(v)))
        }
        _ => Err(AdminError::Unsupported(format!(
            "expected <keyspace>.<vindex>, got '{}' in: {}",
            t,
            sql.trim()
        ))),
    }
}

fn parse_cancel(rest: &str, sql: &str) -> Result<WorkflowStatement, AdminError> {
    let mut keep_table = false;
    let mut name = None;
    for w in rest.split_whitespace() {
        match flag_name(w) {
            Some((f, v)) if f == "keep_table" => keep_table = parse_bool(v.unwrap_or("true"), w)?,
            Some(_) => return Err(AdminError::Unsupported(format!("unknown flag {w}"))),
            None if name.is_none() => name = Some(parse_name(w, sql)?),
            None => return Err(syntax(sql, w)),
        }
    }
    let (keyspace, vindex) = name.ok_or_else(|| syntax(sql, ""))?;
    Ok(WorkflowStatement::Cancel {
        keyspace,
        vindex,
        keep_table,
    })
}

/// `--name[=value]` → (name with `_`, value).
fn flag_name(word: &str) -> Option<(String, Option<&str>)> {
    let body = word.strip_prefix("--")?;
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    Some((name.replace('-', "_").to_ascii_lowercase(), value))
}

fn parse_bool(v: &str, flag: &str) -> Result<bool, AdminError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(AdminError::Unsupported(format!(
            "{flag}: expected true or false"
        ))),
    }
}

fn parse_number(v: Option<&str>, flag: &str) -> Result<u64, AdminError> {
    v.and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| AdminError::Unsupported(format!("{flag}: expected a whole number")))
}

fn parse_list(v: Option<&str>, flag: &str) -> Result<Vec<String>, AdminError> {
    let items: Vec<String> = v
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty()
        || items.iter().any(|i| {
            !i.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
        })
    {
        return Err(AdminError::Unsupported(format!(
            "{flag}: expected a comma-separated list of names"
        )));
    }
    Ok(items)
}

fn parse_create(rest: &str, sql: &str) -> Result<WorkflowStatement, AdminError> {
    let mut opts = CreateOptions {
        keyspace: String::new(),
        spec: serde_json::Value::Null,
        continue_after_copy: false,
        cells: Vec::new(),
        tablet_types: vec!["primary".into()],
        max_rows_per_sec: 0,
        max_backend_load: 0,
        chunk_size: DEFAULT_CHUNK_SIZE,
    };
    let mut s = rest.trim_start();
    while s.starts_with("--") {
        let (w, r) = split_word(s);
        let (name, value) = flag_name(w).ok_or_else(|| syntax(sql, w))?;
        match name.as_str() {
            "continue_after_copy_with_owner" => {
                opts.continue_after_copy = parse_bool(value.unwrap_or("true"), w)?
            }
            "cells" => opts.cells = parse_list(value, w)?,
            "tablet_types" => {
                let types = parse_list(value, w)?;
                let known = ["primary", "master", "replica", "rdonly"];
                for t in &types {
                    let plain = t.trim_start_matches("in_order:").to_ascii_lowercase();
                    if !known.contains(&plain.as_str()) {
                        return Err(AdminError::Unsupported(format!(
                            "--tablet_types: unknown tablet type '{t}'"
                        )));
                    }
                }
                if !types.iter().any(|t| {
                    matches!(
                        t.trim_start_matches("in_order:")
                            .to_ascii_lowercase()
                            .as_str(),
                        "primary" | "master"
                    )
                }) {
                    return Err(AdminError::Unsupported(
                        "--tablet_types: shardgate shards have one tablet type, primary; the list must include it".into(),
                    ));
                }
                opts.tablet_types = types;
            }
            "max_rows_per_sec" => opts.max_rows_per_sec = parse_number(value, w)?,
            "max_backend_load" => opts.max_backend_load = parse_number(value, w)?,
            "chunk_size" => {
                opts.chunk_size = parse_number(value, w)?.max(1);
            }
            _ => return Err(AdminError::Unsupported(format!("unknown flag {w}"))),
        }
        s = r.trim_start();
    }
    let (ks, r) = split_word(s);
    if ks.is_empty() || ks.starts_with('\'') {
        return Err(syntax(sql, ks));
    }
    opts.keyspace = ks.trim_matches('`').to_string();
    let (json, tail) = quoted_string(r.trim_start()).ok_or_else(|| syntax(sql, r.trim()))?;
    if !tail.trim().is_empty() {
        return Err(syntax(sql, tail.trim()));
    }
    opts.spec = serde_json::from_str(&json)
        .map_err(|e| AdminError::Unsupported(format!("the vindex spec is not valid JSON: {e}")))?;
    Ok(WorkflowStatement::Create(opts))
}

/// A single- or double-quoted SQL string at the start of `s`: its value and the rest.
fn quoted_string(s: &str) -> Option<(String, &str)> {
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            let (_, n) = chars.next()?;
            out.push(match n {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                other => other,
            });
        } else if c == quote {
            if chars.peek().is_some_and(|(_, n)| *n == quote) {
                chars.next();
                out.push(quote);
            } else {
                return Some((out, &s[i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_with_flags_and_spec() {
        let sql = r#"CreateLookupVindex --continue_after_copy_with_owner=true --cells=zone1 --tablet-types=PRIMARY --max_rows_per_sec=500 customer '{"sharded": true, "vindexes": {"v": {"type": "consistent_lookup", "params": {"from": "it''s"}}}}';"#;
        let Some(Ok(WorkflowStatement::Create(o))) = parse_workflow(sql) else {
            panic!("create");
        };
        assert_eq!(o.keyspace, "customer");
        assert!(o.continue_after_copy);
        assert_eq!(o.cells, vec!["zone1"]);
        assert_eq!(o.max_rows_per_sec, 500);
        assert_eq!(o.chunk_size, DEFAULT_CHUNK_SIZE);
        assert_eq!(o.spec["vindexes"]["v"]["params"]["from"], "it's");
    }

    #[test]
    fn bad_create_forms_are_refused() {
        for sql in [
            "CreateLookupVindex customer",
            "CreateLookupVindex customer '{not json}'",
            "CreateLookupVindex --tablet_types=replica customer '{}'",
            "CreateLookupVindex --bogus customer '{}'",
            "CreateLookupVindex customer '{}' extra",
        ] {
            assert!(matches!(parse_workflow(sql), Some(Err(_))), "{sql}");
        }
    }

    #[test]
    fn other_statements() {
        assert_eq!(
            parse_workflow("externalizevindex customer.email_vdx"),
            Some(Ok(WorkflowStatement::Externalize {
                keyspace: "customer".into(),
                vindex: "email_vdx".into()
            }))
        );
        assert_eq!(
            parse_workflow("CancelLookupVindex --keep_table customer.v"),
            Some(Ok(WorkflowStatement::Cancel {
                keyspace: "customer".into(),
                vindex: "v".into(),
                keep_table: true
            }))
        );
        assert_eq!(
            parse_workflow("show vindex workflows"),
            Some(Ok(WorkflowStatement::Show))
        );
        assert_eq!(
            parse_workflow("VERIFY VINDEX customer.v REPAIR"),
            Some(Ok(WorkflowStatement::Verify {
                keyspace: "customer".into(),
                vindex: "v".into(),
                repair: true
            }))
        );
        assert_eq!(parse_workflow("show tables"), None);
        assert_eq!(parse_workflow("select 1"), None);
    }
}
