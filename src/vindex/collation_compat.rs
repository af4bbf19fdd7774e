//! Whether a vindex agrees with its column's collation ("exact").
//!
//! A vindex routes `col = v` to the shard of `ksid(v)`. That finds every row MySQL's `=`
//! matches only if every pair of values the column's collation calls equal gets one keyspace
//! id. When it does not (`'s' = 'ß'` under `utf8mb4_general_ci`, while `unicode_loose_md5`
//! weighs `ß` like `ss`; `'a' = 'A'` under any `_ci` collation while `xxhash` hashes bytes;
//! `'a' = 'a '` under a PAD SPACE `_bin` collation), a route by the vindex can miss rows a
//! scatter finds, so the planner must not route reads by it ([`exactness`]).
//!
//! The rule is deliberately conservative: a pairing is exact only where it is proven.
//!
//! | vindex | exact for |
//! |---|---|
//! | `hash`, `numeric`, `reverse_bits`, `numeric_static_map`, `null`, `region_experimental` | every column (they only accept integers; a string literal routes only when it reads as the integer MySQL compares) |
//! | `xxhash`, `binary_md5`, `binary` (hash or keep raw bytes) | integer columns; `VARBINARY` / `BLOB` types (byte comparison); `VARCHAR`/`TEXT` in a `*_nopad_bin` collation |
//! | `unicode_loose_md5`, `unicode_loose_xxhash` (trim trailing spaces, then a collation key) | integer columns; `VARBINARY`/`BLOB`; `CHAR`/`VARCHAR`/`TEXT` in any `*_bin` collation (equal under `_bin` means equal code points up to trailing spaces, which the key trims) |
//! | lookup vindexes | not decided here: the lookup table is read with its own collation; its placement is judged by this rule for the lookup table's own vindex |
//!
//! Everything else is inexact, in particular every `_ci`/`_ai`/`_cs` collation: MariaDB's
//! `utf8mb4_general_ci` (`'s' = 'ß'`, single-character folding), `utf8mb4_unicode_ci` /
//! `utf8mb4_unicode_520_ci` / `uca1400_*` (UCA versions and contractions different from the
//! vindex's DUCET-6.3 primary weights, ignorables, expansions) are not proven to agree with
//! `unicode_loose_*`, so they are inexact too. Fixed-width `BINARY(n)` (zero padding) and
//! `CHAR(n)` (trailing spaces stripped on read) are inexact for the byte-hashing types, as are
//! non-integer numeric and temporal columns (`1.0 = '1'`). An unknown column (never read, or the
//! read failed) is exact only when the VSchema types it as an integer.

use super::SqlType;

/// What the proxy knows of one column (from `information_schema.COLUMNS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// `DATA_TYPE`, lower case (`varchar`, `bigint`, `blob`, ...).
    pub data_type: String,
    /// `COLLATION_NAME`, lower case; None for non-string columns and binary strings.
    pub collation: Option<String>,
}

/// Whether a vindex is exact for a column, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exactness {
    /// Every pair the column calls equal gets one keyspace id.
    Exact,
    /// Not proven: a route by this vindex could miss rows; the reason says why.
    Inexact(String),
}

impl Exactness {
    /// Whether this is [`Exactness::Exact`].
    pub fn is_exact(&self) -> bool {
        matches!(self, Exactness::Exact)
    }
}

/// Vindex types that hash or keep the value's raw bytes.
const BYTE_TYPES: &[&str] = &["xxhash", "binary_md5", "binary"];

/// Vindex types keyed by `unicode_loose` collation keys.
const LOOSE_TYPES: &[&str] = &["unicode_loose_md5", "unicode_loose_xxhash"];

/// Whether the vindex type maps strings (so a column's collation matters to it).
pub fn is_string_vindex(vindex_type: &str) -> bool {
    BYTE_TYPES.contains(&vindex_type) || LOOSE_TYPES.contains(&vindex_type)
}

/// Whether `vindex_type` is exact for a column: `column` is what `information_schema` says
/// (None when unknown), `vschema_type` the type the VSchema's `columns` gives it, if any.
/// Lookup types and unknown types answer [`Exactness::Exact`] (not judged here).
pub fn exactness(
    vindex_type: &str,
    column: Option<&ColumnType>,
    vschema_type: Option<SqlType>,
) -> Exactness {
    if !is_string_vindex(vindex_type) {
        return Exactness::Exact;
    }
    let Some(col) = column else {
        if vschema_type.is_some_and(SqlType::is_integral) {
            return Exactness::Exact;
        }
        return Exactness::Inexact("the column's collation is not known".into());
    };
    let dt = col.data_type.to_ascii_lowercase();
    if is_integer_type(&dt) {
        return Exactness::Exact;
    }
    if matches!(
        dt.as_str(),
        "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
    ) {
        return Exactness::Exact;
    }
    let text_like = matches!(
        dt.as_str(),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext"
    );
    if !text_like {
        return Exactness::Inexact(format!(
            "a {dt} column compares values as {dt}, not as the strings the vindex maps"
        ));
    }
    let collation = col
        .collation
        .as_deref()
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "binary".into());
    if collation == "binary" {
        // A text type with the binary collation is a binary string.
        return if dt == "char" {
            Exactness::Inexact("CHAR(n) BINARY pads and strips values".into())
        } else {
            Exactness::Exact
        };
    }
    if LOOSE_TYPES.contains(&vindex_type) {
        if collation.ends_with("_bin") {
            return Exactness::Exact;
        }
        return Exactness::Inexact(format!(
            "collation {collation} calls strings equal that {vindex_type} keys apart (e.g. 's' = 'ß' under utf8mb4_general_ci)"
        ));
    }
    if collation.ends_with("_nopad_bin") && dt != "char" {
        return Exactness::Exact;
    }
    Exactness::Inexact(format!(
        "collation {collation} calls strings equal that {vindex_type} hashes apart (case, accents or trailing spaces)"
    ))
}

/// Whether an `information_schema` `DATA_TYPE` is an integer type.
fn is_integer_type(dt: &str) -> bool {
    matches!(
        dt,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(dt: &str, collation: Option<&str>) -> ColumnType {
        ColumnType {
            data_type: dt.into(),
            collation: collation.map(String::from),
        }
    }

    #[test]
    fn integer_vindexes_are_always_exact() {
        for t in [
            "hash",
            "numeric",
            "reverse_bits",
            "null",
            "consistent_lookup",
        ] {
            assert!(exactness(t, None, None).is_exact(), "{t}");
            let c = col("varchar", Some("utf8mb4_general_ci"));
            assert!(exactness(t, Some(&c), None).is_exact(), "{t}");
        }
    }

    #[test]
    fn general_ci_and_unicode_ci_are_inexact_for_every_string_vindex() {
        for coll in [
            "utf8mb4_general_ci",
            "utf8mb4_unicode_ci",
            "utf8mb4_unicode_520_ci",
            "uca1400_ai_ci",
            "latin1_swedish_ci",
        ] {
            for t in BYTE_TYPES.iter().chain(LOOSE_TYPES) {
                let c = col("varchar", Some(coll));
                assert!(!exactness(t, Some(&c), None).is_exact(), "{t} {coll}");
            }
        }
    }

    #[test]
    fn bin_collations() {
        let pad = col("varchar", Some("utf8mb4_bin"));
        let nopad = col("varchar", Some("utf8mb4_nopad_bin"));
        assert!(exactness("unicode_loose_md5", Some(&pad), None).is_exact());
        assert!(exactness("unicode_loose_xxhash", Some(&nopad), None).is_exact());
        // PAD SPACE: 'a' = 'a ' but their bytes differ.
        assert!(!exactness("xxhash", Some(&pad), None).is_exact());
        assert!(exactness("xxhash", Some(&nopad), None).is_exact());
        assert!(!exactness(
            "binary_md5",
            Some(&col("char", Some("utf8mb4_nopad_bin"))),
            None
        )
        .is_exact());
    }

    #[test]
    fn binary_strings_and_integers() {
        for t in ["xxhash", "binary_md5", "binary", "unicode_loose_md5"] {
            assert!(exactness(t, Some(&col("varbinary", None)), None).is_exact());
            assert!(exactness(t, Some(&col("blob", None)), None).is_exact());
            assert!(exactness(t, Some(&col("bigint", None)), None).is_exact());
            assert!(!exactness(t, Some(&col("binary", None)), None).is_exact());
            assert!(!exactness(t, Some(&col("decimal", None)), None).is_exact());
        }
    }

    #[test]
    fn unknown_columns() {
        assert!(!exactness("xxhash", None, None).is_exact());
        assert!(!exactness("xxhash", None, Some(SqlType::VarChar)).is_exact());
        assert!(exactness("xxhash", None, Some(SqlType::Int64)).is_exact());
    }
}
