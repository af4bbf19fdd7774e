//! Building vindexes from vschema type names and params.
//!
//! [`create_vindex`] knows every functional type shardgate implements ([`SUPPORTED_TYPES`]).
//! Other Vitess types (lookups, `region_json`, `multicol`, `cfc`) get an explicit "not
//! supported" error, and a name Vitess does not know gets Vitess's `vindexType "x" not found`.
//! Unknown params are ignored, as Vitess does outside `--strict` mode; [`unknown_params`] lists
//! them so the vschema layer can warn.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    binary::Binary, binary_md5::BinaryMd5, hash::Hash, null::Null, numeric::Numeric,
    numeric_static_map::NumericStaticMap, region_experimental::RegionExperimental,
    reverse_bits::ReverseBits, unicode_loose_md5::UnicodeLooseMd5,
    unicode_loose_xxhash::UnicodeLooseXxHash, xxhash::XxHash, Vindex, VindexError,
};

/// Params of a vschema vindex entry.
pub type Params = BTreeMap<String, String>;

type Builder = fn(&str, &Params) -> Result<Arc<dyn Vindex>, VindexError>;

/// One supported type: its name, the params it understands and its constructor.
struct TypeEntry {
    name: &'static str,
    params: &'static [&'static str],
    build: Builder,
}

/// A builder for types that take no params.
macro_rules! plain {
    ($ty:ident) => {
        |name: &str, _: &Params| -> Result<Arc<dyn Vindex>, VindexError> {
            Ok(Arc::new($ty::new(name)))
        }
    };
}

const TYPES: &[TypeEntry] = &[
    TypeEntry {
        name: "hash",
        params: &[],
        build: plain!(Hash),
    },
    TypeEntry {
        name: "xxhash",
        params: &[],
        build: plain!(XxHash),
    },
    TypeEntry {
        name: "binary_md5",
        params: &[],
        build: plain!(BinaryMd5),
    },
    TypeEntry {
        name: "unicode_loose_md5",
        params: &[],
        build: plain!(UnicodeLooseMd5),
    },
    TypeEntry {
        name: "unicode_loose_xxhash",
        params: &[],
        build: plain!(UnicodeLooseXxHash),
    },
    TypeEntry {
        name: "numeric",
        params: &[],
        build: plain!(Numeric),
    },
    TypeEntry {
        name: "binary",
        params: &[],
        build: plain!(Binary),
    },
    TypeEntry {
        name: "reverse_bits",
        params: &[],
        build: plain!(ReverseBits),
    },
    TypeEntry {
        name: "null",
        params: &[],
        build: plain!(Null),
    },
    TypeEntry {
        name: "numeric_static_map",
        params: super::numeric_static_map::PARAMS,
        build: |name, params| Ok(Arc::new(NumericStaticMap::new(name, params)?)),
    },
    TypeEntry {
        name: "region_experimental",
        params: super::region_experimental::PARAMS,
        build: |name, params| Ok(Arc::new(RegionExperimental::new(name, params)?)),
    },
];

/// The vindex type names [`create_vindex`] can build.
pub const SUPPORTED_TYPES: &[&str] = &[
    "hash",
    "xxhash",
    "binary_md5",
    "unicode_loose_md5",
    "unicode_loose_xxhash",
    "numeric",
    "binary",
    "reverse_bits",
    "null",
    "numeric_static_map",
    "region_experimental",
];

/// Vitess types that exist but are not built here (lookups need a cursor; the rest are not
/// implemented yet).
pub const OTHER_VITESS_TYPES: &[&str] = &[
    "lookup",
    "lookup_unique",
    "lookup_hash",
    "lookup_hash_unique",
    "consistent_lookup",
    "consistent_lookup_unique",
    "lookup_unicodeloosemd5_hash",
    "lookup_unicodeloosemd5_hash_unique",
    "region_json",
    "multicol",
    "cfc",
];

/// Builds the vindex `name` of type `type_name` from its vschema params.
///
/// Errors: [`VindexError::UnknownType`] (naming the type) for a type Vitess does not have,
/// [`VindexError::UnsupportedType`] for one in [`OTHER_VITESS_TYPES`], and
/// [`VindexError::BadParam`] for a missing or invalid param. Unknown params are ignored.
pub fn create_vindex(
    name: &str,
    type_name: &str,
    params: &Params,
) -> Result<Arc<dyn Vindex>, VindexError> {
    match TYPES.iter().find(|t| t.name == type_name) {
        Some(t) => (t.build)(name, params),
        None if OTHER_VITESS_TYPES.contains(&type_name) => {
            Err(VindexError::UnsupportedType(type_name.into()))
        }
        None => Err(VindexError::UnknownType(type_name.into())),
    }
}

/// The params in `params` that type `type_name` does not understand (empty for unknown types).
pub fn unknown_params(type_name: &str, params: &Params) -> Vec<String> {
    let Some(t) = TYPES.iter().find(|t| t.name == type_name) else {
        return Vec::new();
    };
    params
        .keys()
        .filter(|k| !t.params.contains(&k.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_supported_type() {
        let params = Params::from([
            ("region_bytes".to_string(), "1".to_string()),
            ("json".to_string(), "{}".to_string()),
        ]);
        assert_eq!(SUPPORTED_TYPES.len(), TYPES.len());
        for t in SUPPORTED_TYPES {
            let v = create_vindex("v", t, &params).unwrap();
            assert_eq!(v.type_name(), *t);
            assert_eq!(v.name(), "v");
            assert!(!v.needs_cursor());
            assert!(v.is_unique());
        }
    }

    #[test]
    fn costs_and_capabilities() {
        let p = Params::from([("region_bytes".to_string(), "2".to_string())]);
        let get = |t: &str| create_vindex("v", t, &p).unwrap();
        assert_eq!(get("numeric").cost(), 0);
        assert_eq!(get("binary").cost(), 0);
        assert_eq!(get("hash").cost(), 1);
        assert_eq!(get("null").cost(), 100);
        assert!(get("hash").is_reversible() && !get("xxhash").is_reversible());
        assert!(get("numeric").is_sequential() && !get("hash").is_sequential());
        assert!(get("region_experimental").is_multi_column());
        assert!(get("xxhash").reverse_map(&[vec![0; 8]]).is_err());
        assert!(get("hash")
            .range_map(
                &crate::vindex::SqlValue::int64(1),
                &crate::vindex::SqlValue::int64(2)
            )
            .is_err());
    }

    #[test]
    fn errors_name_the_type() {
        let none = Params::new();
        let err = create_vindex("v", "hashy", &none).unwrap_err();
        assert_eq!(err.to_string(), "vindexType \"hashy\" not found");
        let err = create_vindex("v", "lookup_unique", &none).unwrap_err();
        assert!(err.to_string().contains("lookup_unique"));
        let err = create_vindex("v", "region_experimental", &none).unwrap_err();
        assert!(err.to_string().contains("region_bytes"), "{err}");
    }

    #[test]
    fn unknown_params_are_listed_not_fatal() {
        let p = Params::from([
            ("region_bytes".to_string(), "1".to_string()),
            ("colour".to_string(), "red".to_string()),
        ]);
        assert!(create_vindex("v", "hash", &p).is_ok());
        assert_eq!(unknown_params("hash", &p), vec!["colour", "region_bytes"]);
        assert_eq!(unknown_params("region_experimental", &p), vec!["colour"]);
    }
}
