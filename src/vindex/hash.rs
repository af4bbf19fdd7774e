//! `hash`: DES with an all-zero key over the value as a big-endian u64 (Vitess `vhash`).
//!
//! Signed integral types are parsed like Go's `ParseInt` and reinterpreted as u64 (so -1 hashes
//! like 2^64-1); every other type goes through `ToCastUint64`. A value that does not convert maps
//! to [`Destination::None`]. The all-zero key is a DES weak key, so encryption is its own
//! inverse and the vindex is reversible. Verify, like Vitess, converts with `ToCastUint64` for
//! every type and therefore fails on a negative INT64.

use std::sync::OnceLock;

use des::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use des::Des;

use super::{check_lengths, ksid_to_u64, map_each, Destination, SqlValue, Vindex, VindexError};

/// The single DES instance with the all-zero key.
fn cipher() -> &'static Des {
    static CIPHER: OnceLock<Des> = OnceLock::new();
    CIPHER.get_or_init(|| Des::new(&GenericArray::default()))
}

/// Vitess `vhash`: the 8-byte keyspace id of `n`.
pub fn vhash(n: u64) -> [u8; 8] {
    let mut block = GenericArray::from(n.to_be_bytes());
    cipher().encrypt_block(&mut block);
    block.into()
}

/// Vitess `vunhash`: the u64 whose [`vhash`] is `ksid`; the ksid must be exactly 8 bytes.
pub fn vunhash(ksid: &[u8]) -> Result<u64, VindexError> {
    let n = ksid_to_u64(ksid)?;
    let mut block = GenericArray::from(n.to_be_bytes());
    cipher().decrypt_block(&mut block);
    Ok(u64::from_be_bytes(block.into()))
}

/// The u64 that `hash` hashes for a value: two's complement for signed types, else fastparse.
pub fn value_to_u64(value: &SqlValue) -> Result<u64, VindexError> {
    if value.ty().is_signed() {
        value.to_signed_i64().map(|n| n as u64)
    } else {
        value.to_cast_u64()
    }
}

/// The keyspace id `hash` gives a value, or the conversion error.
pub fn ksid(value: &SqlValue) -> Result<[u8; 8], VindexError> {
    value_to_u64(value).map(vhash)
}

/// The `hash` vindex.
#[derive(Debug, Clone)]
pub struct Hash {
    name: String,
}

impl Hash {
    /// A `hash` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        Hash { name: name.into() }
    }
}

impl Vindex for Hash {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "hash"
    }
    fn cost(&self) -> u32 {
        1
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError> {
        map_each(values, |v| {
            Ok(ksid(v).map_or(Destination::None, |k| Destination::KeyspaceId(k.to_vec())))
        })
    }
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError> {
        check_lengths(values.len(), ksids.len())?;
        values
            .iter()
            .zip(ksids)
            .map(|(v, k)| Ok(vhash(v.to_cast_u64()?)[..] == k[..]))
            .collect()
    }
    fn is_reversible(&self) -> bool {
        true
    }
    fn reverse_map(&self, ksids: &[Vec<u8>]) -> Result<Vec<SqlValue>, VindexError> {
        ksids
            .iter()
            .map(|k| vunhash(k).map(SqlValue::uint64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyrange::to_hex;

    #[test]
    fn known_hashes() {
        assert_eq!(to_hex(&vhash(1)), "166b40b44aba4bd6");
        assert_eq!(to_hex(&vhash(0)), "8ca64de9c1b123a7");
        assert_eq!(to_hex(&vhash(u64::MAX)), "355550b2150e2451");
    }

    #[test]
    fn weak_key_is_an_involution() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..2000 {
            let h = vhash(x);
            assert_eq!(vunhash(&h).ok(), Some(x));
            assert_eq!(vhash(u64::from_be_bytes(h)), x.to_be_bytes());
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
    }

    #[test]
    fn reverse_and_verify() {
        let h = Hash::new("h");
        let ks = h.map(&[SqlValue::int64(-1)]).unwrap();
        let k = ks[0].keyspace_id().unwrap().to_vec();
        assert_eq!(
            h.reverse_map(std::slice::from_ref(&k)).unwrap(),
            vec![SqlValue::uint64(u64::MAX)]
        );
        assert_eq!(
            h.reverse_map(&[vec![1, 2, 3]]).unwrap_err().to_string(),
            "invalid keyspace id: 010203"
        );
        assert!(h
            .verify(&[SqlValue::int64(-1)], std::slice::from_ref(&k))
            .is_err());
        assert_eq!(
            h.verify(&[SqlValue::uint64(u64::MAX)], &[k]).unwrap(),
            vec![true]
        );
        assert_eq!(
            h.verify(&[SqlValue::int64(1)], &[vec![0; 8]]).unwrap(),
            vec![false]
        );
        assert!(h.verify(&[SqlValue::int64(1)], &[]).is_err());
    }

    #[test]
    fn conversions() {
        let h = Hash::new("h");
        let out = h
            .map(&[
                SqlValue::varchar("42"),
                SqlValue::varchar("-1"),
                SqlValue::new(crate::vindex::SqlType::Decimal, "1.0"),
                SqlValue::new(crate::vindex::SqlType::Float64, "1"),
            ])
            .unwrap();
        assert_eq!(out[0], Destination::KeyspaceId(vhash(42).to_vec()));
        assert_eq!(out[1], Destination::None);
        assert_eq!(out[2], Destination::None);
        assert_eq!(out[3], Destination::KeyspaceId(vhash(1).to_vec()));
    }
}
