//! `unicode_loose_md5`: MD5 of the loose collation key, 16-byte keyspace ids.
//!
//! Strings that compare equal under a case- and accent-insensitive collation ('Alex', 'ALEX',
//! 'Álex') share a keyspace id; trailing spaces are ignored. See [`super::collation`] for the
//! key and its compatibility limits. Bytes that are not UTF-8 fail the whole call.

use super::binary_md5::md5_sum;
use super::collation::collation_key;
use super::{check_lengths, map_each, Destination, SqlValue, Vindex, VindexError};

/// The keyspace id `unicode_loose_md5` gives a value.
pub fn ksid(value: &SqlValue) -> Result<[u8; 16], VindexError> {
    Ok(md5_sum(&collation_key(&value.to_bytes()?)?))
}

/// The `unicode_loose_md5` vindex.
#[derive(Debug, Clone)]
pub struct UnicodeLooseMd5 {
    name: String,
}

impl UnicodeLooseMd5 {
    /// A `unicode_loose_md5` vindex called `name`; it takes no params.
    pub fn new(name: &str) -> Self {
        UnicodeLooseMd5 { name: name.into() }
    }
}

impl Vindex for UnicodeLooseMd5 {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "unicode_loose_md5"
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

    #[test]
    fn invalid_utf8_fails_the_call() {
        let u = UnicodeLooseMd5::new("u");
        let err = u
            .map(&[SqlValue::varchar("ok"), SqlValue::varbinary(vec![0xc3u8])])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot normalize string containing invalid UTF-8"
        );
        let k = ksid(&SqlValue::varchar("Alex")).unwrap().to_vec();
        assert_eq!(
            u.verify(&[SqlValue::varchar("ÁLEX ")], &[k]).unwrap(),
            vec![true]
        );
    }
}
