//! `null`: every value, NULL included, maps to the keyspace id `00`.
//!
//! Puts all rows of a table on the shard holding ksid `00` (the first shard); cost 100 so the
//! planner picks any other vindex first.

use super::{check_lengths, Destination, SqlValue, Vindex, VindexError};

/// The one keyspace id of the `null` vindex.
pub const NULL_KSID: [u8; 1] = [0];

/// The `null` vindex.
#[derive(Debug, Clone)]
pub struct Null {
    name: String,
}

impl Null {
    /// A `null` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        Null { name: name.into() }
    }
}

impl Vindex for Null {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "null"
    }
    fn cost(&self) -> u32 {
        100
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError> {
        Ok(values
            .iter()
            .map(|_| Destination::KeyspaceId(NULL_KSID.to_vec()))
            .collect())
    }
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError> {
        check_lengths(values.len(), ksids.len())?;
        Ok(ksids.iter().map(|k| k[..] == NULL_KSID).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_zero() {
        let n = Null::new("n");
        let vals = [SqlValue::null(), SqlValue::int64(5)];
        let ks = vec![vec![0u8], vec![1u8]];
        assert_eq!(n.verify(&vals, &ks).unwrap(), vec![true, false]);
        assert!(n
            .map(&vals)
            .unwrap()
            .iter()
            .all(|d| d.keyspace_id() == Some(&[0u8][..])));
    }
}
