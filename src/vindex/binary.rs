//! `binary`: the value's bytes are the keyspace id (identity on bytes).
//!
//! The ksid has the length of the input; NULL gives an empty ksid. A conversion error (EXPRESSION
//! or a malformed hex literal) fails the whole call. Reversible (to VARBINARY) and sequential.

use crate::keyrange::KeyRange;

use super::{check_lengths, map_each, Destination, SqlType, SqlValue, Vindex, VindexError};

/// The `binary` vindex.
#[derive(Debug, Clone)]
pub struct Binary {
    name: String,
}

impl Binary {
    /// A `binary` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        Binary { name: name.into() }
    }
}

impl Vindex for Binary {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "binary"
    }
    fn cost(&self) -> u32 {
        0
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError> {
        map_each(values, |v| {
            Ok(Destination::KeyspaceId(v.to_bytes()?.into_owned()))
        })
    }
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError> {
        check_lengths(values.len(), ksids.len())?;
        values
            .iter()
            .zip(ksids)
            .map(|(v, k)| Ok(v.to_bytes()?[..] == k[..]))
            .collect()
    }
    fn is_reversible(&self) -> bool {
        true
    }
    /// Gives VARBINARY values; an empty (nil) keyspace id is an error, as in Vitess.
    fn reverse_map(&self, ksids: &[Vec<u8>]) -> Result<Vec<SqlValue>, VindexError> {
        ksids
            .iter()
            .map(|k| {
                if k.is_empty() {
                    Err(VindexError::Value(
                        "binary reverse map: keyspace id is nil".into(),
                    ))
                } else {
                    Ok(SqlValue::new(SqlType::VarBinary, k.clone()))
                }
            })
            .collect()
    }
    fn is_sequential(&self) -> bool {
        true
    }
    fn range_map(&self, start: &SqlValue, end: &SqlValue) -> Result<Destination, VindexError> {
        Ok(Destination::KeyRange(KeyRange {
            start: start.to_bytes()?.into_owned(),
            end: end.to_bytes()?.into_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_on_bytes() {
        let b = Binary::new("b");
        let out = b
            .map(&[SqlValue::hexval("x'01ff'"), SqlValue::null()])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Destination::KeyspaceId(vec![1, 0xff]),
                Destination::KeyspaceId(vec![])
            ]
        );
        assert!(b.map(&[SqlValue::hexval("x'1'")]).is_err());
        assert_eq!(
            b.reverse_map(&[vec![7]]).unwrap(),
            vec![SqlValue::varbinary(vec![7u8])]
        );
        assert!(b.reverse_map(&[vec![]]).is_err());
        assert_eq!(
            b.verify(&[SqlValue::varchar("a")], &[b"a".to_vec()])
                .unwrap(),
            vec![true]
        );
        assert_eq!(
            b.range_map(&SqlValue::varchar("a"), &SqlValue::varchar("b"))
                .unwrap(),
            Destination::KeyRange(KeyRange {
                start: b"a".to_vec(),
                end: b"b".to_vec()
            })
        );
    }
}
