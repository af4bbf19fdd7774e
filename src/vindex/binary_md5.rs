//! `binary_md5`: MD5 of the value's bytes, 16-byte keyspace ids.
//!
//! No normalization: the result is case- and space-sensitive, and NULL hashes the empty string.
//! A conversion error (EXPRESSION, a malformed hex literal) fails the whole call.

use md5::{Digest, Md5};

use super::{check_lengths, map_each, Destination, SqlValue, Vindex, VindexError};

/// MD5 of `bytes`.
pub fn md5_sum(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

/// The keyspace id `binary_md5` gives a value.
pub fn ksid(value: &SqlValue) -> Result<[u8; 16], VindexError> {
    Ok(md5_sum(&value.to_bytes()?))
}

/// The `binary_md5` vindex.
#[derive(Debug, Clone)]
pub struct BinaryMd5 {
    name: String,
}

impl BinaryMd5 {
    /// A `binary_md5` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        BinaryMd5 { name: name.into() }
    }
}

impl Vindex for BinaryMd5 {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "binary_md5"
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
    fn md5_of_bytes() {
        let b = BinaryMd5::new("b");
        assert_eq!(
            to_hex(&ksid(&SqlValue::null()).unwrap()),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_ne!(
            ksid(&SqlValue::varbinary("a")),
            ksid(&SqlValue::varbinary("A"))
        );
        assert!(b.map(&[SqlValue::new(SqlType::Expression, "x")]).is_err());
        let k = ksid(&SqlValue::varbinary("a")).unwrap().to_vec();
        assert_eq!(
            b.verify(&[SqlValue::varbinary("a")], &[k]).unwrap(),
            vec![true]
        );
    }
}
