//! Lookup vindex definitions, validated but not yet executable.
//!
//! Lookup vindexes need a cursor (they read and write a lookup table), so they are not built as
//! [`crate::vindex::Vindex`] here. The VSchema accepts them, checks their params as
//! `lookup-vindexes.md` §1.2 describes, and keeps a [`LookupParams`] for the lookup
//! implementation to build from.
//!
//! Rules: `table`, `from` and `to` are required; `from` is a comma list (each item trimmed,
//! none empty); booleans are exactly `"true"` or `"false"`; `read_lock` is `exclusive`
//! (default), `shared` or `none`; `multi_shard_autocommit` implies `autocommit`. A param the
//! type does not take (e.g. `autocommit` on `consistent_lookup`) is reported as unknown and
//! ignored, as Vitess does outside `--strict`.

use super::names::QualifiedName;
use std::collections::BTreeMap;

/// The lookup vindex types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupKind {
    /// `lookup`: non-unique.
    Lookup,
    /// `lookup_unique`.
    LookupUnique,
    /// `lookup_hash`: non-unique, `to` holds a numeric id hashed with `hash`.
    LookupHash,
    /// `lookup_hash_unique`.
    LookupHashUnique,
    /// `consistent_lookup`: non-unique, pre/post-commit protocol.
    ConsistentLookup,
    /// `consistent_lookup_unique`.
    ConsistentLookupUnique,
    /// `lookup_unicodeloosemd5_hash`: like `lookup_hash`, `from` normalised first.
    LookupUnicodeLooseMd5Hash,
    /// `lookup_unicodeloosemd5_hash_unique`.
    LookupUnicodeLooseMd5HashUnique,
}

const KINDS: [(LookupKind, &str); 8] = [
    (LookupKind::Lookup, "lookup"),
    (LookupKind::LookupUnique, "lookup_unique"),
    (LookupKind::LookupHash, "lookup_hash"),
    (LookupKind::LookupHashUnique, "lookup_hash_unique"),
    (LookupKind::ConsistentLookup, "consistent_lookup"),
    (
        LookupKind::ConsistentLookupUnique,
        "consistent_lookup_unique",
    ),
    (
        LookupKind::LookupUnicodeLooseMd5Hash,
        "lookup_unicodeloosemd5_hash",
    ),
    (
        LookupKind::LookupUnicodeLooseMd5HashUnique,
        "lookup_unicodeloosemd5_hash_unique",
    ),
];

/// Params every lookup type takes.
const COMMON: &[&str] = &[
    "table",
    "from",
    "to",
    "ignore_nulls",
    "batch_lookup",
    "read_lock",
    "write_only",
];

impl LookupKind {
    /// The kind for a vschema type name, if it is a lookup type.
    pub fn from_type_name(name: &str) -> Option<LookupKind> {
        KINDS.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The vschema type name.
    pub fn type_name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("lookup", |(_, n)| n)
    }

    /// Whether each value maps to at most one keyspace id.
    pub fn is_unique(self) -> bool {
        matches!(
            self,
            LookupKind::LookupUnique
                | LookupKind::LookupHashUnique
                | LookupKind::ConsistentLookupUnique
                | LookupKind::LookupUnicodeLooseMd5HashUnique
        )
    }

    /// Routing cost: 10 for unique lookups, 20 for the others.
    pub fn cost(self) -> u32 {
        if self.is_unique() {
            10
        } else {
            20
        }
    }

    /// Whether this is a `consistent_lookup*` (pre/normal/post commit ordering).
    pub fn is_consistent(self) -> bool {
        matches!(
            self,
            LookupKind::ConsistentLookup | LookupKind::ConsistentLookupUnique
        )
    }

    /// Whether `to` holds a numeric id hashed into the keyspace id (`lookup_hash*`,
    /// `lookup_unicodeloosemd5_hash*`) rather than the keyspace id itself.
    pub fn stores_hashed_id(self) -> bool {
        matches!(
            self,
            LookupKind::LookupHash
                | LookupKind::LookupHashUnique
                | LookupKind::LookupUnicodeLooseMd5Hash
                | LookupKind::LookupUnicodeLooseMd5HashUnique
        )
    }

    /// Whether the `from` values are hashed too before they are stored or looked up
    /// (`lookup_unicodeloosemd5_hash*`, which the executor does not run).
    pub fn hashes_from(self) -> bool {
        matches!(
            self,
            LookupKind::LookupUnicodeLooseMd5Hash | LookupKind::LookupUnicodeLooseMd5HashUnique
        )
    }

    /// Params this type takes beyond [`COMMON`].
    fn extra_params(self) -> &'static [&'static str] {
        match self {
            LookupKind::Lookup | LookupKind::LookupUnique => {
                &["autocommit", "multi_shard_autocommit", "no_verify"]
            }
            LookupKind::ConsistentLookup | LookupKind::ConsistentLookupUnique => &[],
            _ => &["autocommit", "multi_shard_autocommit"],
        }
    }

    fn takes(self, param: &str) -> bool {
        COMMON.contains(&param) || self.extra_params().contains(&param)
    }
}

/// The lock the Map query takes inside a DML transaction (`read_lock`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReadLock {
    /// `FOR UPDATE` (the default).
    #[default]
    Exclusive,
    /// `LOCK IN SHARE MODE`.
    Shared,
    /// No lock.
    None,
}

impl ReadLock {
    /// The SQL suffix for the Map select (empty for `None`).
    pub fn sql_suffix(self) -> &'static str {
        match self {
            ReadLock::Exclusive => " for update",
            ReadLock::Shared => " lock in share mode",
            ReadLock::None => "",
        }
    }
}

/// A validated lookup vindex definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupParams {
    /// Which lookup type.
    pub kind: LookupKind,
    /// The backing table as written in `table` (`ks.t` or `t`).
    pub table: QualifiedName,
    /// The `from` columns, trimmed; the first is the routing input.
    pub from: Vec<String>,
    /// The column holding the keyspace id (or hashed id).
    pub to: String,
    /// Lookup writes are committed separately (also set by `multi_shard_autocommit`).
    pub autocommit: bool,
    /// Autocommit with the `MULTI_SHARD_AUTOCOMMIT` hint.
    pub multi_shard_autocommit: bool,
    /// Backfill in progress: Map scatters, Verify always passes.
    pub write_only: bool,
    /// Verify always passes.
    pub no_verify: bool,
    /// Rows with a NULL `from` value are skipped on create.
    pub ignore_nulls: bool,
    /// Always batch the Map query.
    pub batch_lookup: bool,
    /// The Map query's lock inside DML transactions.
    pub read_lock: ReadLock,
}

impl LookupParams {
    /// Validates `params` for a lookup of type `kind`. Returns the definition and the names of
    /// params the type does not take (to be reported, not fatal); the error says which param
    /// is wrong and why.
    pub fn parse(
        kind: LookupKind,
        params: &BTreeMap<String, String>,
    ) -> Result<(LookupParams, Vec<String>), String> {
        let required = |key: &str| -> Result<&str, String> {
            match params.get(key).map(|v| v.trim()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(format!(
                    "param '{key}' is required for a {} vindex",
                    kind.type_name()
                )),
            }
        };
        let table =
            QualifiedName::parse(required("table")?).map_err(|e| format!("param 'table': {e}"))?;
        let from: Vec<String> = required("from")?
            .split(',')
            .map(|c| c.trim().to_string())
            .collect();
        if from.iter().any(|c| c.is_empty()) {
            return Err("param 'from': empty column name in the list".into());
        }
        let to = required("to")?.to_string();
        let flag = |key: &str| -> Result<bool, String> {
            if !kind.takes(key) {
                return Ok(false);
            }
            match params.get(key).map(String::as_str) {
                None | Some("false") => Ok(false),
                Some("true") => Ok(true),
                Some(other) => Err(format!(
                    "param '{key}' must be \"true\" or \"false\", not {other:?}"
                )),
            }
        };
        let read_lock = match params.get("read_lock").map(String::as_str) {
            None | Some("exclusive") => ReadLock::Exclusive,
            Some("shared") => ReadLock::Shared,
            Some("none") => ReadLock::None,
            Some(other) => {
                return Err(format!(
                    "param 'read_lock' must be \"exclusive\", \"shared\" or \"none\", not {other:?}"
                ))
            }
        };
        let multi_shard_autocommit = flag("multi_shard_autocommit")?;
        let lookup = LookupParams {
            kind,
            table,
            from,
            to,
            autocommit: flag("autocommit")? || multi_shard_autocommit,
            multi_shard_autocommit,
            write_only: flag("write_only")?,
            no_verify: flag("no_verify")?,
            ignore_nulls: flag("ignore_nulls")?,
            batch_lookup: flag("batch_lookup")?,
            read_lock,
        };
        let unknown = params.keys().filter(|k| !kind.takes(k)).cloned().collect();
        Ok((lookup, unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kinds() {
        for (k, n) in KINDS {
            assert_eq!(LookupKind::from_type_name(n), Some(k));
            assert_eq!(k.type_name(), n);
        }
        assert_eq!(LookupKind::from_type_name("hash"), None);
        assert_eq!(LookupKind::ConsistentLookupUnique.cost(), 10);
        assert_eq!(LookupKind::Lookup.cost(), 20);
        assert!(!LookupKind::ConsistentLookup.is_unique());
        assert!(LookupKind::LookupHashUnique.stores_hashed_id());
        assert!(LookupKind::ConsistentLookup.is_consistent());
    }

    #[test]
    fn parses_full_params() {
        let p = params(&[
            ("table", "lookup.name_user_vdx"),
            ("from", " name , id "),
            ("to", "keyspace_id"),
            ("multi_shard_autocommit", "true"),
            ("ignore_nulls", "true"),
            ("read_lock", "shared"),
            ("colour", "red"),
        ]);
        let (lk, unknown) = LookupParams::parse(LookupKind::Lookup, &p).unwrap();
        assert_eq!(lk.table.keyspace.as_deref(), Some("lookup"));
        assert_eq!(lk.table.table, "name_user_vdx");
        assert_eq!(lk.from, vec!["name", "id"]);
        assert_eq!(lk.to, "keyspace_id");
        assert!(lk.autocommit && lk.multi_shard_autocommit && lk.ignore_nulls);
        assert!(!lk.write_only && !lk.no_verify && !lk.batch_lookup);
        assert_eq!(lk.read_lock, ReadLock::Shared);
        assert_eq!(unknown, vec!["colour"]);
    }

    #[test]
    fn consistent_lookup_ignores_autocommit() {
        let p = params(&[
            ("table", "t"),
            ("from", "a"),
            ("to", "k"),
            ("autocommit", "true"),
            ("write_only", "true"),
        ]);
        let (lk, unknown) = LookupParams::parse(LookupKind::ConsistentLookupUnique, &p).unwrap();
        assert!(!lk.autocommit && lk.write_only);
        assert_eq!(lk.read_lock, ReadLock::Exclusive);
        assert_eq!(unknown, vec!["autocommit"]);
    }

    #[test]
    fn errors() {
        let base = [("table", "t"), ("from", "a"), ("to", "k")];
        let check = |extra: &[(&str, &str)], drop: &str, want: &str| {
            let mut p = params(&base);
            p.remove(drop);
            p.extend(params(extra));
            let err = LookupParams::parse(LookupKind::LookupUnique, &p).unwrap_err();
            assert!(err.contains(want), "{err} lacks {want}");
        };
        check(
            &[],
            "table",
            "param 'table' is required for a lookup_unique vindex",
        );
        check(&[], "from", "param 'from' is required");
        check(&[], "to", "param 'to' is required");
        check(&[("from", "a,,b")], "", "empty column name");
        check(&[("table", "a.b.c")], "", "param 'table'");
        check(
            &[("write_only", "True")],
            "",
            "param 'write_only' must be \"true\" or \"false\"",
        );
        check(&[("no_verify", "1")], "", "param 'no_verify'");
        check(&[("read_lock", "update")], "", "param 'read_lock' must be");
    }
}
