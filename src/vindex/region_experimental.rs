//! `region_experimental`: a two-column vindex `[region, id]` giving `prefix ‖ vhash(id)`.
//!
//! The region becomes a 1- or 2-byte big-endian prefix (param `region_bytes`, `"1"` or `"2"`;
//! the region is taken modulo 2^16, and with one byte only its low byte is kept). The id goes
//! through `ToCastUint64` and [`super::hash::vhash`]. A row with only the region routes to the
//! key range `[prefix, prefix+1)`, open-ended when the +1 overflows. Rows of another width, or
//! with values that do not convert, map to [`Destination::None`].

use std::collections::BTreeMap;

use crate::keyrange::KeyRange;

use super::hash::vhash;
use super::{verify_by_map, Destination, SqlValue, Vindex, VindexError};

/// Params this type understands.
pub const PARAMS: &[&str] = &["region_bytes"];

/// The `region_experimental` vindex.
#[derive(Debug, Clone)]
pub struct RegionExperimental {
    name: String,
    region_bytes: usize,
}

impl RegionExperimental {
    /// Builds the vindex; `region_bytes` must be `"1"` or `"2"`.
    pub fn new(name: &str, params: &BTreeMap<String, String>) -> Result<Self, VindexError> {
        let raw = params.get("region_bytes").map(String::as_str);
        let region_bytes = match raw {
            Some("1") => 1,
            Some("2") => 2,
            other => {
                return Err(VindexError::bad_param(
                    name,
                    "region_bytes",
                    format!("region_bytes must be 1 or 2: {:?}", other.unwrap_or("")),
                ))
            }
        };
        Ok(RegionExperimental {
            name: name.into(),
            region_bytes,
        })
    }

    /// The region prefix of a region value, or `None` if it does not convert.
    fn prefix(&self, region: &SqlValue) -> Option<Vec<u8>> {
        let r = region.to_cast_u64().ok()?;
        let two = ((r & 0xffff) as u16).to_be_bytes();
        Some(two[2 - self.region_bytes..].to_vec())
    }

    /// Maps one row of `[region]` or `[region, id]`.
    fn map_row(&self, row: &[SqlValue]) -> Destination {
        match row {
            [region] => match self.prefix(region) {
                Some(start) => {
                    let end = plus_one(&start);
                    Destination::KeyRange(KeyRange { start, end })
                }
                None => Destination::None,
            },
            [region, id] => match (self.prefix(region), id.to_cast_u64()) {
                (Some(mut ksid), Ok(n)) => {
                    ksid.extend_from_slice(&vhash(n));
                    Destination::KeyspaceId(ksid)
                }
                _ => Destination::None,
            },
            _ => Destination::None,
        }
    }
}

/// `bytes + 1` as a big-endian number of the same width; empty (+infinity) on overflow.
fn plus_one(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for b in out.iter_mut().rev() {
        if *b == 0xff {
            *b = 0;
        } else {
            *b += 1;
            return out;
        }
    }
    Vec::new()
}

impl Vindex for RegionExperimental {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "region_experimental"
    }
    fn cost(&self) -> u32 {
        1
    }
    fn is_unique(&self) -> bool {
        true
    }
    /// Each value is a one-column row: the region alone, giving a key range.
    fn map(&self, values: &[SqlValue]) -> Result<Vec<Destination>, VindexError> {
        Ok(values
            .iter()
            .map(|v| self.map_row(std::slice::from_ref(v)))
            .collect())
    }
    fn verify(&self, values: &[SqlValue], ksids: &[Vec<u8>]) -> Result<Vec<bool>, VindexError> {
        verify_by_map(self.map(values)?, ksids)
    }
    fn is_multi_column(&self) -> bool {
        true
    }
    fn supports_partial(&self) -> bool {
        true
    }
    fn map_multi(&self, rows: &[Vec<SqlValue>]) -> Result<Vec<Destination>, VindexError> {
        Ok(rows.iter().map(|r| self.map_row(r)).collect())
    }
    fn verify_multi(
        &self,
        rows: &[Vec<SqlValue>],
        ksids: &[Vec<u8>],
    ) -> Result<Vec<bool>, VindexError> {
        verify_by_map(self.map_multi(rows)?, ksids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(bytes: &str) -> RegionExperimental {
        let params = BTreeMap::from([("region_bytes".to_string(), bytes.to_string())]);
        RegionExperimental::new("r", &params).unwrap()
    }

    #[test]
    fn params_are_checked() {
        for bad in ["0", "3", "", "x"] {
            let params = BTreeMap::from([("region_bytes".to_string(), bad.to_string())]);
            let err = RegionExperimental::new("r", &params).unwrap_err();
            assert!(
                err.to_string().contains("region_bytes must be 1 or 2"),
                "{err}"
            );
        }
        assert!(RegionExperimental::new("r", &BTreeMap::new()).is_err());
    }

    #[test]
    fn partial_rows_give_ranges() {
        let r = region("1");
        let out = r
            .map_multi(&[
                vec![SqlValue::int64(255)],
                vec![],
                vec![SqlValue::int64(-1)],
            ])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Destination::KeyRange(KeyRange {
                    start: vec![0xff],
                    end: vec![]
                }),
                Destination::None,
                Destination::None
            ]
        );
        let r2 = region("2");
        let out = r2.map(&[SqlValue::int64(0x01ff)]).unwrap();
        assert_eq!(
            out,
            vec![Destination::KeyRange(KeyRange {
                start: vec![1, 0xff],
                end: vec![2, 0]
            })]
        );
        let three = vec![SqlValue::int64(1), SqlValue::int64(1), SqlValue::int64(1)];
        assert_eq!(r2.map_multi(&[three]).unwrap(), vec![Destination::None]);
    }

    #[test]
    fn verify_multi_compares_ksids() {
        let r = region("1");
        let row = vec![SqlValue::int64(1), SqlValue::int64(1)];
        let ksid = r.map_multi(std::slice::from_ref(&row)).unwrap()[0]
            .keyspace_id()
            .unwrap()
            .to_vec();
        let rows = vec![row, vec![SqlValue::int64(2), SqlValue::int64(1)]];
        assert_eq!(
            r.verify_multi(&rows, &[ksid.clone(), ksid]).unwrap(),
            vec![true, false]
        );
    }
}
