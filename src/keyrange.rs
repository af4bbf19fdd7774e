//! Keyspace ids, shard names and key ranges, with Vitess's comparison rules.
//!
//! A shard name like `-80` or `40-80` is a half-open range of keyspace ids; a name without `-`
//! (such as `0`) covers every id. Comparisons ignore trailing zero bytes, so `80` equals
//! `8000000000000000`, exactly as Vitess's `key.Compare` does.

use std::cmp::Ordering;

/// A keyspace id: the opaque bytes a vindex maps a column value to.
pub type KeyspaceId = Vec<u8>;

/// A half-open range `[start, end)` of keyspace ids; empty bounds mean unbounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Inclusive start; empty means minus infinity.
    pub start: Vec<u8>,
    /// Exclusive end; empty means plus infinity.
    pub end: Vec<u8>,
}

/// Why a shard name is not a valid key range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRangeError {
    /// More than one `-` in the name.
    #[error("shard name '{0}' has more than one '-'")]
    TooManyDashes(String),
    /// A bound that is not an even number of hex digits.
    #[error("shard name '{0}': '{1}' is not an even-length hex string")]
    BadHex(String, String),
    /// Start is not below end.
    #[error("shard name '{0}': start must be below end")]
    Inverted(String),
}

fn strip_trailing_zeros(b: &[u8]) -> &[u8] {
    let mut n = b.len();
    while n > 0 && b[n - 1] == 0 {
        n -= 1;
    }
    &b[..n]
}

/// Vitess's `key.Compare`: strip trailing 0x00 bytes, then compare as unsigned bytes.
pub fn compare(a: &[u8], b: &[u8]) -> Ordering {
    strip_trailing_zeros(a).cmp(strip_trailing_zeros(b))
}

fn decode_hex(name: &str, s: &str) -> Result<Vec<u8>, KeyRangeError> {
    if !s.len().is_multiple_of(2) {
        return Err(KeyRangeError::BadHex(name.into(), s.into()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| KeyRangeError::BadHex(name.into(), s.into()))
        })
        .collect()
}

/// Lowercase hex of bytes, as Vitess prints keyspace ids.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl KeyRange {
    /// The range covering every keyspace id.
    pub fn full() -> Self {
        KeyRange {
            start: Vec::new(),
            end: Vec::new(),
        }
    }

    /// Parses a shard name: `-80`, `80-`, `40-80`, `-` or a name without `-` (full range).
    pub fn parse_shard_name(name: &str) -> Result<Self, KeyRangeError> {
        let lower = name.to_ascii_lowercase();
        if !lower.contains('-') {
            return Ok(Self::full());
        }
        let mut parts = lower.split('-');
        let (start, end) = match (parts.next(), parts.next(), parts.next()) {
            (Some(s), Some(e), None) => (s, e),
            _ => return Err(KeyRangeError::TooManyDashes(name.into())),
        };
        let start = decode_hex(name, start)?;
        let end = decode_hex(name, end)?;
        if !end.is_empty() && start >= end {
            return Err(KeyRangeError::Inverted(name.into()));
        }
        Ok(KeyRange { start, end })
    }

    /// True when the range has no bounds at all (after dropping trailing zeros).
    pub fn is_full(&self) -> bool {
        strip_trailing_zeros(&self.start).is_empty() && self.end.is_empty()
    }

    /// Whether `id` falls in `[start, end)` under Vitess's comparison rules.
    pub fn contains(&self, id: &[u8]) -> bool {
        if self.is_full() {
            return true;
        }
        (self.start.is_empty() || compare(id, &self.start) != Ordering::Less)
            && (self.end.is_empty() || compare(id, &self.end) == Ordering::Less)
    }

    /// Whether two ranges share at least one keyspace id.
    pub fn intersects(&self, other: &KeyRange) -> bool {
        if self.is_full() || other.is_full() {
            return true;
        }
        (self.end.is_empty() || compare(&other.start, &self.end) == Ordering::Less)
            && (other.end.is_empty() || compare(&self.start, &other.end) == Ordering::Less)
    }
}

/// Checks that shard ranges tile the whole keyspace-id space with no gap and no overlap.
///
/// Returns a human-readable reason on failure, naming the offending shards.
pub fn check_coverage(shards: &[(String, KeyRange)]) -> Result<(), String> {
    if shards.len() == 1 && shards[0].1.is_full() {
        return Ok(());
    }
    if let Some((name, _)) = shards.iter().find(|(_, r)| r.is_full()) {
        return Err(format!(
            "shard '{name}' covers every keyspace id but the keyspace has {} shards",
            shards.len()
        ));
    }
    let mut sorted: Vec<&(String, KeyRange)> = shards.iter().collect();
    sorted.sort_by(|a, b| compare(&a.1.start, &b.1.start));
    let mut expected_start: Vec<u8> = Vec::new();
    let mut prev_name = String::from("(start)");
    for (name, range) in sorted {
        match compare(&range.start, &expected_start) {
            Ordering::Equal => {}
            Ordering::Less => {
                return Err(format!("shards '{prev_name}' and '{name}' overlap"));
            }
            Ordering::Greater => {
                return Err(format!(
                    "gap in key ranges between '{prev_name}' and '{name}'"
                ));
            }
        }
        if range.end.is_empty() {
            expected_start = vec![0xff; 64];
            prev_name = name.clone();
            continue;
        }
        if expected_start == vec![0xff; 64] {
            return Err(format!("shards '{prev_name}' and '{name}' overlap"));
        }
        expected_start = range.end.clone();
        prev_name = name.clone();
    }
    if expected_start != vec![0xff; 64] {
        return Err(format!(
            "gap in key ranges after '{prev_name}' (no shard reaches the end)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kr(s: &str) -> KeyRange {
        KeyRange::parse_shard_name(s).expect("valid")
    }

    #[test]
    fn parses_names() {
        assert_eq!(kr("-80").end, vec![0x80]);
        assert_eq!(kr("80-").start, vec![0x80]);
        assert!(kr("0").is_full());
        assert!(kr("-").is_full());
        assert_eq!(kr("8000-8080").start, vec![0x80, 0]);
        assert!(KeyRange::parse_shard_name("80-40").is_err());
        assert!(KeyRange::parse_shard_name("8-").is_err());
        assert!(KeyRange::parse_shard_name("-40-80").is_err());
    }

    #[test]
    fn trailing_zeros_ignored() {
        assert_eq!(compare(&[0x80], &[0x80, 0, 0, 0]), Ordering::Equal);
        assert!(kr("80-").contains(&[0x80, 0, 0, 0, 0, 0, 0, 0]));
        assert!(!kr("-80").contains(&[0x80, 0, 0, 0, 0, 0, 0, 0]));
        assert!(kr("-80").contains(&[0x7f, 0xff]));
    }

    #[test]
    fn coverage() {
        let v = |names: &[&str]| -> Vec<(String, KeyRange)> {
            names.iter().map(|n| (n.to_string(), kr(n))).collect()
        };
        assert!(check_coverage(&v(&["-80", "80-"])).is_ok());
        assert!(check_coverage(&v(&["0"])).is_ok());
        assert!(check_coverage(&v(&["-40", "40-80", "80-c0", "c0-"])).is_ok());
        assert!(check_coverage(&v(&["-40", "80-"]))
            .unwrap_err()
            .contains("gap"));
        assert!(check_coverage(&v(&["-80", "40-"]))
            .unwrap_err()
            .contains("overlap"));
        assert!(check_coverage(&v(&["-80"])).unwrap_err().contains("gap"));
        assert!(check_coverage(&v(&["0", "80-"])).is_err());
    }
}
