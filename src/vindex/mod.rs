//! Vindexes: functions from column values to keyspace ids, byte-compatible with Vitess.
//!
//! A vindex maps each SQL value to a [`Destination`]: one keyspace id (ksid), several, a key
//! range, or nowhere. The ksid decides the shard (see [`crate::keyrange`]), so every functional
//! vindex here reproduces Vitess's bytes exactly; `testdata/vectors.json` holds the golden
//! vectors the tests check. The spec is `reference/vindexes.md` in the shared folder.
//!
//! Layout: [`value`] is the SQL value model, [`registry`] builds vindexes from vschema type
//! names, and each vindex type has its own file. Functional vindexes are pure and synchronous
//! ([`Vindex::needs_cursor`] is false). Lookup vindexes need I/O; they are expected to live
//! beside these with their own async trait and report `needs_cursor() == true` here.
//!
//! | type | cost | unique | reversible | ksid |
//! |---|---|---|---|---|
//! | `hash` | 1 | yes | yes | DES(0-key) of the u64, 8 bytes |
//! | `xxhash` | 1 | yes | no | XXH64 little-endian, 8 bytes |
//! | `binary_md5` | 1 | yes | no | MD5, 16 bytes |
//! | `unicode_loose_md5` / `_xxhash` | 1 | yes | no | MD5 / XXH64 of a collation key |
//! | `numeric` | 0 | yes | yes | big-endian u64 |
//! | `binary` | 0 | yes | yes | the bytes themselves |
//! | `reverse_bits` | 1 | yes | yes | bit-reversed u64 |
//! | `null` | 100 | yes | no | `00` |
//! | `numeric_static_map` | 1 | yes | no | mapped u64 |
//! | `region_experimental` | 1 | yes | no | region prefix + hash, multi-column |

#![warn(missing_docs)]

pub mod binary;
pub mod binary_md5;
pub mod coerce;
pub mod collation;
pub mod collation_compat;
mod collation_table;
pub mod error;
pub mod hash;
pub mod null;
pub mod numeric;
pub mod numeric_static_map;
pub mod region_experimental;
pub mod registry;
pub mod reverse_bits;
pub mod sql_type;
pub mod unicode_loose_md5;
pub mod unicode_loose_xxhash;
pub mod value;
pub mod xxhash;

#[cfg(test)]
mod vectors_test;

use std::fmt;

use crate::keyrange::{to_hex, KeyRange};

pub use collation::collation_key;
pub use error::VindexError;
pub use registry::{create_vindex, unknown_params, SUPPORTED_TYPES};
pub use sql_type::SqlType;
pub use value::SqlValue;

/// Where one input value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Exactly one keyspace id.
    KeyspaceId(Vec<u8>),
    /// Several keyspace ids (non-unique lookups).
    KeyspaceIds(Vec<Vec<u8>>),
    /// Every shard intersecting this range (partial multi-column values, write-only lookups).
    KeyRange(KeyRange),
    /// No shard: the value matches nothing (NULL or unparsable for numeric vindexes).
    None,
}

impl Destination {
    /// The single keyspace id, if that is what this is.
    pub fn keyspace_id(&self) -> Option<&[u8]> {
        match self {
            Destination::KeyspaceId(k) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for Destination {
    /// Vitess-like rendering: `KeyspaceId(166b…)`, `KeyRange(01-02)`, `None`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::KeyspaceId(k) => write!(f, "KeyspaceId({})", to_hex(k)),
            Destination::KeyspaceIds(ks) => {
                let hex: Vec<String> = ks.iter().map(|k| to_hex(k)).collect();
                write!(f, "KeyspaceIds({})", hex.join(","))
            }
            Destination::KeyRange(r) => {
                write!(f, "KeyRange({}-{})", to_hex(&r.start), to_hex(&r.end))
            }
            Destination::None => f.write_str("None"),
        }
    }
}

/// A vindex: maps column values to keyspace ids.
///
/// `map` returns one [`Destination`] per input value, in order. Whether a bad value yields
/// [`Destination::None`] or fails the whole call depends on the type, as in Vitess: `hash`,
/// `numeric`, `reverse_bits`, `numeric_static_map` and `region_experimental` answer `None`,
/// while the byte-hashing types (`xxhash`, `binary_md5`, `unicode_loose_*`, `binary`) fail.
///
/// Multi-column vindexes take rows through [`Vindex::map_multi`]; their `map` treats each value
/// as a one-column row. Single-column vindexes accept `map_multi` rows of exactly one value.
pub trait Vindex: Send + Sync + fmt::Debug {
    /// The name this vindex has in the vschema.
    fn name(&self) -> &str;

    /// The vschema type name (`hash`, `xxhash`, ...).
    fn type_name(&self) -> &'static str;

    /// Routing cost: the planner prefers the cheapest vindex (0 numeric/binary, 1 hashes, ...).
    fn cost(&self) -> u32;

    /// Whether each value maps to at most one keyspace id.
    fn is_unique(&self) -> bool;

    /// Whether the vindex must query a database (lookups). False for every functional vindex.
    fn needs_cursor(&self) -> bool {
        false
    }

    /// Maps each value to its destination.
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError>;

    /// For each `(values[i], ksids[i])`, whether the value maps to that keyspace id.
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError>;

    /// Whether [`Vindex::reverse_map`] is available.
    fn is_reversible(&self) -> bool {
        false
    }

    /// Recovers the value from each keyspace id (reversible vindexes only).
    fn reverse_map(&self, ksids: &[Vec<u8>]) -> Result<Vec<SqlValue>, VindexError> {
        let _ = ksids;
        Err(VindexError::NotReversible(self.type_name().into()))
    }

    /// Whether ksids preserve value order, so [`Vindex::range_map`] works (Vitess `Sequential`).
    fn is_sequential(&self) -> bool {
        false
    }

    /// The key range `[ksid(start), ksid(end))` for a value range (sequential vindexes only).
    fn range_map(&self, start: &SqlValue, end: &SqlValue) -> Result<Destination, VindexError> {
        let _ = (start, end);
        Err(VindexError::unsupported(self.type_name(), "range map"))
    }

    /// Whether the vindex covers several columns (`region_experimental`).
    fn is_multi_column(&self) -> bool {
        false
    }

    /// Whether a prefix of the columns is enough to route (to a key range).
    fn supports_partial(&self) -> bool {
        false
    }

    /// Maps rows of column values. The default accepts only one-column rows.
    fn map_multi(&self, rows: &[Vec<SqlValue>]) -> Result<Vec<Destination>, VindexError> {
        let values = single_column(self.type_name(), rows)?;
        self.map(&values)
    }

    /// Verifies rows of column values against keyspace ids. The default accepts only
    /// one-column rows.
    fn verify_multi(
        &self,
        rows: &[Vec<SqlValue>],
        ksids: &[Vec<u8>],
    ) -> Result<Vec<bool>, VindexError> {
        let values = single_column(self.type_name(), rows)?;
        self.verify(&values, ksids)
    }
}

/// Flattens one-column rows; anything wider is an error for single-column vindexes.
fn single_column(type_name: &str, rows: &[Vec<SqlValue>]) -> Result<Vec<SqlValue>, VindexError> {
    rows.iter()
        .map(|row| match row.as_slice() {
            [v] => Ok(v.clone()),
            _ => Err(VindexError::unsupported(type_name, "multi-column values")),
        })
        .collect()
}

/// Maps every value with `f`, failing the whole call on the first error.
pub(crate) fn map_each(
    values: &[SqlValue],
    f: impl Fn(&SqlValue) -> Result<Destination, VindexError>,
) -> Result<Vec<Destination>, VindexError> {
    values.iter().map(f).collect()
}

/// Errors unless there is one keyspace id per value.
pub(crate) fn check_lengths(values: usize, ksids: usize) -> Result<(), VindexError> {
    if values == ksids {
        Ok(())
    } else {
        Err(VindexError::LengthMismatch { values, ksids })
    }
}

/// Verify by mapping: true where the value maps to exactly that keyspace id.
pub(crate) fn verify_by_map(
    destinations: Vec<Destination>,
    ksids: &[Vec<u8>],
) -> Result<Vec<bool>, VindexError> {
    check_lengths(destinations.len(), ksids.len())?;
    Ok(destinations
        .iter()
        .zip(ksids)
        .map(|(d, k)| d.keyspace_id() == Some(k.as_slice()))
        .collect())
}

/// Reads an 8-byte keyspace id as a big-endian u64, as the reversible vindexes need.
pub(crate) fn ksid_to_u64(ksid: &[u8]) -> Result<u64, VindexError> {
    <[u8; 8]>::try_from(ksid)
        .map(u64::from_be_bytes)
        .map_err(|_| VindexError::InvalidKeyspaceId(to_hex(ksid)))
}
