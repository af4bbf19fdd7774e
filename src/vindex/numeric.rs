//! `numeric`: the value itself as a big-endian u64 (identity sharding on integers).
//!
//! Values convert with `ToCastUint64`, so negative numbers, floats, NULL and non-numeric text map
//! to [`Destination::None`]. Reversible and sequential: a value range maps to a key range.

use crate::keyrange::KeyRange;

use super::{check_lengths, ksid_to_u64, map_each, Destination, SqlValue, Vindex, VindexError};

/// The keyspace id `numeric` gives a value, or the conversion error.
pub fn ksid(value: &SqlValue) -> Result<[u8; 8], VindexError> {
    Ok(value.to_cast_u64()?.to_be_bytes())
}

/// The `numeric` vindex.
#[derive(Debug, Clone)]
pub struct Numeric {
    name: String,
}

impl Numeric {
    /// A `numeric` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        Numeric { name: name.into() }
    }
}

impl Vindex for Numeric {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "numeric"
    }
    fn cost(&self) -> u32 {
        0
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
            .map(|k| ksid_to_u64(k).map(SqlValue::uint64))
            .collect()
    }
    fn is_sequential(&self) -> bool {
        true
    }
    fn range_map(&self, start: &SqlValue, end: &SqlValue) -> Result<Destination, VindexError> {
        Ok(Destination::KeyRange(KeyRange {
            start: ksid(start)?.to_vec(),
            end: ksid(end)?.to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_on_u64() {
        let n = Numeric::new("n");
        let out = n
            .map(&[
                SqlValue::int64(-1),
                SqlValue::varchar(" 9 "),
                SqlValue::null(),
            ])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Destination::None,
                Destination::KeyspaceId(vec![0, 0, 0, 0, 0, 0, 0, 9]),
                Destination::None
            ]
        );
        let k = vec![0, 0, 0, 0, 0, 0, 1, 0];
        assert_eq!(
            n.reverse_map(std::slice::from_ref(&k)).unwrap(),
            vec![SqlValue::uint64(256)]
        );
        assert!(n.reverse_map(&[vec![1]]).is_err());
        assert_eq!(
            n.verify(&[SqlValue::uint64(256)], &[k]).unwrap(),
            vec![true]
        );
        assert!(n.verify(&[SqlValue::int64(-1)], &[vec![0; 8]]).is_err());
        let r = n
            .range_map(&SqlValue::int64(1), &SqlValue::int64(5))
            .unwrap();
        assert_eq!(
            r,
            Destination::KeyRange(KeyRange {
                start: vec![0, 0, 0, 0, 0, 0, 0, 1],
                end: vec![0, 0, 0, 0, 0, 0, 0, 5]
            })
        );
        assert!(n
            .range_map(&SqlValue::int64(-1), &SqlValue::int64(5))
            .is_err());
    }
}
