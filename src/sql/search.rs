//! Case-insensitive substring tests for the per-statement quick filters (local answers,
//! session-state detection, session-value substitution), without lower-casing a copy.
//!
//! A filter with several words is a [`Needles`] set: one Aho-Corasick pass over the statement
//! answers "does any of them occur", where one [`contains_ignore_ascii_case`] per word stopped
//! at every occurrence of each word's first letter (callgrind: ~3,700 instructions of a
//! 38,000-instruction sharded point select went to those scans).

use aho_corasick::AhoCorasick;

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

/// A fixed set of lower-case words to look for, ignoring ASCII case, in one pass.
pub struct Needles {
    words: &'static [&'static str],
    /// `None` only if the automaton could not be built (aho-corasick refuses only pattern
    /// sets far larger than these); the per-word scan then answers the same, slower.
    automaton: Option<AhoCorasick>,
}

impl Needles {
    /// The set of `words` (each lower case).
    pub fn new(words: &'static [&'static str]) -> Needles {
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(words)
            .ok();
        Needles { words, automaton }
    }

    /// Whether any of the words occurs in `hay`, ignoring ASCII case.
    pub fn any_in(&self, hay: &[u8]) -> bool {
        match &self.automaton {
            Some(automaton) => automaton.is_match(hay),
            None => self
                .words
                .iter()
                .any(|w| contains_ignore_ascii_case(hay, w.as_bytes())),
        }
    }

    /// Which of the words occur in `hay`: bit `i` for the `i`-th word (at most 64 words), so
    /// one pass answers several filters that share the set.
    pub fn found_in(&self, hay: &[u8]) -> u64 {
        let bit = |i: usize| 1u64.checked_shl(i as u32).unwrap_or(0);
        match &self.automaton {
            Some(automaton) => automaton
                .find_overlapping_iter(hay)
                .fold(0, |bits, m| bits | bit(m.pattern().as_usize())),
            None => self
                .words
                .iter()
                .enumerate()
                .filter(|(_, w)| contains_ignore_ascii_case(hay, w.as_bytes()))
                .fold(0, |bits, (i, _)| bits | bit(i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::contains_ignore_ascii_case as has;
    use super::Needles;

    #[test]
    fn needles_find_any_word_in_any_case() {
        let set = Needles::new(&["last_insert_id", "socket", "into @", ":="]);
        assert!(set.any_in(b"SELECT LAST_INSERT_ID()"));
        assert!(set.any_in(b"select @@Socket"));
        assert!(set.any_in(b"SELECT 1 INTO @x"));
        assert!(set.any_in(b"SET @a := 1"));
        assert!(!set.any_in(b"SELECT c FROM sbtest1 WHERE id=5"));
        assert!(!set.any_in(b"SELECT 1 INTO @"[..10].as_ref()));
        assert!(!set.any_in(b""));
        let fallback = Needles {
            words: &["socket"],
            automaton: None,
        };
        assert!(fallback.any_in(b"@@SOCKET") && !fallback.any_in(b"sock"));
    }

    #[test]
    fn needles_tell_which_words_occur() {
        let words = &["temporary", "socket", "into @"];
        let set = Needles::new(words);
        assert_eq!(
            set.found_in(b"CREATE TEMPORARY TABLE t SELECT @@socket"),
            0b011
        );
        assert_eq!(set.found_in(b"SELECT 1 INTO @a"), 0b100);
        assert_eq!(set.found_in(b"SELECT c FROM sbtest1 WHERE id=5"), 0);
        let fallback = Needles {
            words,
            automaton: None,
        };
        assert_eq!(fallback.found_in(b"select @@SOCKET into @x"), 0b110);
    }

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
