//! Case-insensitive substring tests for the per-statement quick filters (local answers,
//! session-state detection, session-value substitution), without lower-casing a copy.

/// Whether `hay` contains `needle` ignoring ASCII case; `needle` must be lower case.
///
/// Jumps between occurrences of the needle's first byte (either case) and compares the rest
/// only there, so the common "not present" answer costs a vectorized scan.
pub fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let upper = first.to_ascii_uppercase();
    let last_start = hay.len() - needle.len();
    let mut from = 0;
    // memchr2 jumps (with SIMD) to the next byte that can start a match.
    while let Some(found) = memchr::memchr2(first, upper, &hay[from..=last_start]) {
        let i = from + found;
        if hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest) {
            return true;
        }
        from = i + 1;
        if from > last_start {
            break;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::contains_ignore_ascii_case as has;

    #[test]
    fn finds_any_case() {
        assert!(has(b"SELECT LAST_INSERT_ID()", b"last_insert_id"));
        assert!(has(b"create Temporary table", b"temporary"));
        assert!(has(b"abc", b"abc"));
        assert!(has(b"abc", b""));
    }

    #[test]
    fn misses() {
        assert!(!has(b"SELECT c FROM sbtest1 WHERE id=5", b"database"));
        assert!(!has(b"ab", b"abc"));
        assert!(!has(b"xabd", b"abc"));
    }
}
