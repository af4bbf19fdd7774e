//! `reverse_bits`: the value as a u64 with its 64 bits reversed, big-endian.
//!
//! Spreads sequential ids across shards while staying reversible. Values convert with
//! `ToCastUint64`; negatives, floats and NULL map to [`Destination::None`].

use super::{check_lengths, ksid_to_u64, map_each, Destination, SqlValue, Vindex, VindexError};

/// The keyspace id `reverse_bits` gives a value, or the conversion error.
pub fn ksid(value: &SqlValue) -> Result<[u8; 8], VindexError> {
    Ok(value.to_cast_u64()?.reverse_bits().to_be_bytes())
}

/// The `reverse_bits` vindex.
#[derive(Debug, Clone)]
pub struct ReverseBits {
    name: String,
}

impl ReverseBits {
    /// A `reverse_bits` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        ReverseBits { name: name.into() }
    }
}

impl Vindex for ReverseBits {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "reverse_bits"
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
            .map(|(v, k)| Ok(ksid(v)?[..] == k[..]))
            .collect()
    }
    fn is_reversible(&self) -> bool {
        true
    }
    fn reverse_map(&self, ksids: &[Vec<u8>]) -> Result<Vec<SqlValue>, VindexError> {
        ksids
            .iter()
            .map(|k| ksid_to_u64(k).map(|n| SqlValue::uint64(n.reverse_bits())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = ReverseBits::new("r");
        let out = r.map(&[SqlValue::int64(3), SqlValue::int64(-3)]).unwrap();
        let k = out[0].keyspace_id().unwrap().to_vec();
        assert_eq!(k, vec![0xc0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(out[1], Destination::None);
        assert_eq!(
            r.reverse_map(std::slice::from_ref(&k)).unwrap(),
            vec![SqlValue::uint64(3)]
        );
        assert!(r.reverse_map(&[vec![0xc0]]).is_err());
        assert_eq!(r.verify(&[SqlValue::int64(3)], &[k]).unwrap(), vec![true]);
        assert!(r.verify(&[SqlValue::null()], &[vec![]]).is_err());
    }
}
