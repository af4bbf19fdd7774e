//! `xxhash`: XXH64 (seed 0) of the value's bytes, emitted little-endian.
//!
//! The input is the textual bytes from `ToBytes`, so INT64 1, UINT64 1 and VARCHAR `"1"` collide
//! on purpose, and NULL hashes the empty string. Any conversion error (EXPRESSION, a malformed
//! hex literal) fails the whole call.

use super::{check_lengths, map_each, Destination, SqlValue, Vindex, VindexError};

/// XXH64 with seed 0 of `bytes`, as the 8 little-endian bytes Vitess uses for keyspace ids.
pub fn xxh64_le(bytes: &[u8]) -> [u8; 8] {
    xxhash_rust::xxh64::xxh64(bytes, 0).to_le_bytes()
}

/// The keyspace id `xxhash` gives a value.
pub fn ksid(value: &SqlValue) -> Result<[u8; 8], VindexError> {
    Ok(xxh64_le(&value.to_bytes()?))
}

/// The `xxhash` vindex.
#[derive(Debug, Clone)]
pub struct XxHash {
    name: String,
}

impl XxHash {
    /// An `xxhash` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        XxHash { name: name.into() }
    }
}

impl Vindex for XxHash {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "xxhash"
    }
    fn cost(&self) -> u32 {
        1
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError> {
        map_each(values, |v| Ok(Destination::KeyspaceId(ksid(v)?.to_vec())))
    }
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError> {
        check_lengths(values.len(), ksids.len())?;
        values
            .iter()
            .zip(ksids)
            .map(|(v, k)| Ok(ksid(v)?[..] == k[..]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyrange::to_hex;
    use crate::vindex::SqlType;

    #[test]
    fn hashes_text_and_fails_whole_call() {
        let x = XxHash::new("x");
        assert_eq!(
            to_hex(&ksid(&SqlValue::varchar("test1")).unwrap()),
            "d01ab7e4d6978f0b"
        );
        assert_eq!(ksid(&SqlValue::int64(5)), ksid(&SqlValue::varchar("5")));
        let bad = [SqlValue::int64(1), SqlValue::new(SqlType::Expression, "a")];
        assert!(x.map(&bad).is_err());
        assert!(x.map(&[SqlValue::hexnum("0x123")]).is_err());
        let k = ksid(&SqlValue::varchar("a")).unwrap().to_vec();
        assert_eq!(
            x.verify(
                &[SqlValue::varchar("a"), SqlValue::varchar("b")],
                &[k.clone(), k]
            )
            .unwrap(),
            vec![true, false]
        );
    }
}
