//! `numeric_static_map`: a fixed table from u64 to u64, big-endian keyspace ids.
//!
//! Params: exactly one of `json` (inline) or `json_path` (a file), holding
//! `{"<u64 as string>": <u64>}`, and optionally `fallback_type`, the type of a hashing vindex
//! used for numbers missing from the table (without one, a missing `n` maps to `be_u64(n)`).
//! Values convert with `ToCastUint64`; a value that does not convert maps to
//! [`Destination::None`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::registry::create_vindex;
use super::{verify_by_map, Destination, SqlValue, Vindex, VindexError};

/// Params this type understands.
pub const PARAMS: &[&str] = &["json", "json_path", "fallback_type"];

/// Types allowed as `fallback_type` (Vitess's `Hashing` vindexes).
pub const FALLBACK_TYPES: &[&str] = &[
    "hash",
    "xxhash",
    "binary_md5",
    "unicode_loose_md5",
    "unicode_loose_xxhash",
    "numeric",
    "reverse_bits",
    "binary",
];

/// The `numeric_static_map` vindex.
#[derive(Debug, Clone)]
pub struct NumericStaticMap {
    name: String,
    table: HashMap<u64, u64>,
    fallback: Option<Arc<dyn Vindex>>,
}

impl NumericStaticMap {
    /// Builds the vindex, reading `json_path` if given.
    pub fn new(name: &str, params: &BTreeMap<String, String>) -> Result<Self, VindexError> {
        let text = match (params.get("json"), params.get("json_path")) {
            (Some(j), None) => j.clone(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                VindexError::bad_param(name, "json_path", format!("cannot read {path:?}: {e}"))
            })?,
            (Some(_), Some(_)) => {
                return Err(VindexError::bad_param(
                    name,
                    "json",
                    "only one of json or json_path can be specified",
                ))
            }
            (None, None) => {
                return Err(VindexError::bad_param(
                    name,
                    "json",
                    "one of json or json_path must be specified",
                ))
            }
        };
        let table = parse_table(&text).map_err(|e| VindexError::bad_param(name, "json", e))?;
        let fallback = match params.get("fallback_type") {
            None => None,
            Some(t) if FALLBACK_TYPES.contains(&t.as_str()) => Some(create_vindex(
                &format!("{name}_fallback"),
                t,
                &BTreeMap::new(),
            )?),
            Some(t) => {
                return Err(VindexError::bad_param(
                    name,
                    "fallback_type",
                    format!("{t:?} is not a hashing vindex type"),
                ))
            }
        };
        Ok(NumericStaticMap {
            name: name.into(),
            table,
            fallback,
        })
    }

    fn map_one(&self, value: &SqlValue) -> Result<Destination, VindexError> {
        let Ok(n) = value.to_cast_u64() else {
            return Ok(Destination::None);
        };
        if let Some(m) = self.table.get(&n) {
            return Ok(Destination::KeyspaceId(m.to_be_bytes().to_vec()));
        }
        match &self.fallback {
            Some(f) => Ok(f
                .map(std::slice::from_ref(value))?
                .pop()
                .unwrap_or(Destination::None)),
            None => Ok(Destination::KeyspaceId(n.to_be_bytes().to_vec())),
        }
    }
}

/// Parses `{"<u64>": u64, ...}`.
fn parse_table(text: &str) -> Result<HashMap<u64, u64>, String> {
    let raw: BTreeMap<String, u64> =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON map: {e}"))?;
    raw.into_iter()
        .map(|(k, v)| {
            k.parse::<u64>()
                .map(|k| (k, v))
                .map_err(|_| format!("key {k:?} is not an unsigned integer"))
        })
        .collect()
}

impl Vindex for NumericStaticMap {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "numeric_static_map"
    }
    fn cost(&self) -> u32 {
        1
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError> {
        values.iter().map(|v| self.map_one(v)).collect()
    }
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError> {
        verify_by_map(self.map(values)?, ksids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindex::hash::vhash;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn maps_through_table_then_fallback() {
        let json = r#"{"1": 2, "3": 4}"#;
        let plain = NumericStaticMap::new("m", &params(&[("json", json)])).unwrap();
        let out = plain
            .map(&[SqlValue::int64(1), SqlValue::int64(7), SqlValue::null()])
            .unwrap();
        assert_eq!(out[0].keyspace_id(), Some(&2u64.to_be_bytes()[..]));
        assert_eq!(out[1].keyspace_id(), Some(&7u64.to_be_bytes()[..]));
        assert_eq!(out[2], Destination::None);
        let hashed =
            NumericStaticMap::new("m", &params(&[("json", json), ("fallback_type", "hash")]))
                .unwrap();
        let out = hashed
            .map(&[SqlValue::int64(3), SqlValue::int64(7)])
            .unwrap();
        assert_eq!(out[0].keyspace_id(), Some(&4u64.to_be_bytes()[..]));
        assert_eq!(out[1].keyspace_id(), Some(&vhash(7)[..]));
        assert_eq!(
            hashed
                .verify(&[SqlValue::int64(3)], &[4u64.to_be_bytes().to_vec()])
                .unwrap(),
            vec![true]
        );
    }

    #[test]
    fn reads_json_path_and_rejects_bad_params() {
        let dir = std::env::temp_dir().join(format!("nsm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("map.json");
        std::fs::write(&path, r#"{"10": 20}"#).unwrap();
        let p = path.to_string_lossy().to_string();
        let m = NumericStaticMap::new("m", &params(&[("json_path", &p)])).unwrap();
        assert_eq!(
            m.map(&[SqlValue::int64(10)]).unwrap()[0].keyspace_id(),
            Some(&20u64.to_be_bytes()[..])
        );
        std::fs::remove_dir_all(&dir).unwrap();
        for bad in [
            params(&[]),
            params(&[("json", "{}"), ("json_path", "x")]),
            params(&[("json", r#"{"a": 1}"#)]),
            params(&[("json", r#"{"1": -1}"#)]),
            params(&[("json", "{}"), ("fallback_type", "null")]),
            params(&[("json_path", "/nonexistent/shardgate.json")]),
        ] {
            assert!(NumericStaticMap::new("m", &bad).is_err(), "{bad:?}");
        }
    }
}
