//! The collation key behind `unicode_loose_md5` and `unicode_loose_xxhash`.
//!
//! Vitess keys these vindexes with Go x/text's English collator at primary strength
//! (`collate.Loose`: case, accents and width ignored, spaces and punctuation kept). The key is
//! built here the same way, step by step:
//!
//! 1. reject bytes that are not UTF-8 ([`VindexError::InvalidUtf8`]);
//! 2. trim trailing ASCII spaces (0x20) only;
//! 3. canonically decompose (NFD), so `é` becomes `e` + U+0301 and Hangul syllables become jamo;
//! 4. for every character, append its non-zero primary weights, each as 2 big-endian bytes when
//!    `w <= 0x7FFF` and otherwise as 3 bytes `0x80 | w >> 16, w >> 8, w`.
//!
//! **Compatibility limits.** x/text's CLDR-23 weight table is not available, so weights come
//! from the generated `collation_table.rs` (DUCET 6.3.0 shifted to x/text's numbering as far as the spec's
//! sample weights pin it down) for Latin, IPA, Greek, Cyrillic, general punctuation and currency
//! signs. The spec's sample weights (ASCII letters, space, TAB) and its `unicode_loose_*` vectors
//! are reproduced exactly; other punctuation and digits are best estimates. Everything else:
//! combining marks (canonical combining class != 0) and default-ignorable format characters
//! weigh nothing, characters with a compatibility decomposition (fullwidth forms, ligatures,
//! superscripts) take the weights of that decomposition, and the rest get the spec's implicit
//! weights. So strings MySQL's loose collations call equal ('Alex', 'ALEX', 'Álex') always share
//! a key, but non-ASCII keys may differ from Vitess's; the golden-vector tests measure by how much.

use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
use unicode_normalization::UnicodeNormalization;

use super::collation_table::{IGNORABLE, PRIMARIES};
use super::VindexError;

/// Default-ignorable format characters outside the table's ranges (inclusive).
const FORMAT_IGNORABLE: &[(u32, u32)] = &[
    (0x061C, 0x061C),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Go's `unicode.Ideographic` ranges (inclusive), for the implicit weights.
const IDEOGRAPHIC: &[(u32, u32)] = &[
    (0x3006, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303A),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFA6D),
    (0xFA70, 0xFAD9),
    (0x16FE4, 0x16FE4),
    (0x17000, 0x187F7),
    (0x18800, 0x18CD5),
    (0x18D00, 0x18D08),
    (0x1B170, 0x1B2FB),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B739),
    (0x2B740, 0x2B81D),
    (0x2B820, 0x2CEA1),
    (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D),
    (0x30000, 0x3134A),
    (0x31350, 0x323AF),
];

/// The loose collation key of `input` (steps 1–4 of the module docs).
pub fn collation_key(input: &[u8]) -> Result<Vec<u8>, VindexError> {
    let text = std::str::from_utf8(input).map_err(|_| VindexError::InvalidUtf8)?;
    let text = text.trim_end_matches(' ');
    let mut key = Vec::with_capacity(text.len() * 2);
    for c in text.nfd() {
        push_char(c, &mut key);
    }
    Ok(key)
}

/// Appends the primary weights of one NFD character.
fn push_char(c: char, key: &mut Vec<u8>) {
    let cp = u32::from(c);
    let first = PRIMARIES.partition_point(|&(p, _)| p < cp);
    let rows = PRIMARIES[first..].iter().take_while(|&&(p, _)| p == cp);
    let mut found = false;
    for &(_, w) in rows {
        push_weight(u32::from(w), key);
        found = true;
    }
    if found || is_ignorable(c) {
        return;
    }
    let mut parts: Vec<char> = Vec::new();
    decompose_compatible(c, |d| parts.push(d));
    if parts != [c] {
        // A full compatibility decomposition is already decomposed: no deeper recursion.
        for d in parts {
            push_char(d, key);
        }
        return;
    }
    push_weight(implicit_weight(cp), key);
}

/// Characters whose primary weight is 0.
fn is_ignorable(c: char) -> bool {
    let cp = u32::from(c);
    in_ranges(&IGNORABLE, cp)
        || in_ranges(FORMAT_IGNORABLE, cp)
        || canonical_combining_class(c) != 0
}

/// Whether `cp` falls in one of the sorted, inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], cp: u32) -> bool {
    let i = ranges.partition_point(|&(_, hi)| hi < cp);
    ranges.get(i).is_some_and(|&(lo, _)| lo <= cp)
}

/// The spec's implicit weight for a character missing from the table.
fn implicit_weight(cp: u32) -> u32 {
    if in_ranges(IDEOGRAPHIC, cp) {
        if (0x4E00..=0x9FFF).contains(&cp) || (0xF900..=0xFAFF).contains(&cp) {
            cp + 0x10000
        } else {
            cp + 0x20000
        }
    } else {
        cp + 0x50000
    }
}

/// Appends one primary weight in x/text's key encoding.
fn push_weight(w: u32, key: &mut Vec<u8>) {
    if w <= 0x7FFF {
        key.extend_from_slice(&[(w >> 8) as u8, w as u8]);
    } else {
        key.extend_from_slice(&[0x80 | (w >> 16) as u8, (w >> 8) as u8, w as u8]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyrange::to_hex;

    fn key(s: &str) -> String {
        to_hex(&collation_key(s.as_bytes()).unwrap())
    }

    #[test]
    fn spec_sample_weights() {
        assert_eq!(key("Test"), "1816164c17f31816");
        assert_eq!(key("TEST"), key("Te\u{301}st"));
        assert_eq!(key("BLong"), "160517111771174f1691");
        assert_eq!(key(" \t"), "01090100");
        assert_eq!(key("Test   "), key("Test"));
        assert_ne!(key("Test\t"), key("Test"));
        assert_eq!(key(""), "");
    }

    #[test]
    fn case_accent_and_width_fold() {
        for (a, b) in [
            ("Alex", "ALEX"),
            ("Alex", "Álex"),
            ("Alex", "ａｌｅｘ"),
            ("straße", "STRASSE"),
            ("Ærø", "aero"),
            ("Ελλάδα", "ΕΛΛΑΔΑ"),
            ("Москва", "МОСКВА"),
            ("ﬁne", "fine"),
        ] {
            assert_eq!(key(a), key(b), "{a} vs {b}");
        }
        assert_ne!(key("Alex"), key("Alec"));
        assert_ne!(key("a-b"), key("ab"));
    }

    #[test]
    fn implicit_and_ignorable() {
        // U+4E00 is a unified ideograph: 0x4E00 + 0x10000 in 3 bytes.
        assert_eq!(key("\u{4e00}"), "814e00");
        assert_eq!(key("\u{3400}"), "823400");
        // Hangul syllable decomposes to jamo, each implicit (r + 0x50000).
        assert_eq!(key("\u{ac00}"), "851100851161");
        assert_eq!(key("a\u{200b}\u{feff}"), key("a"));
        assert!(matches!(
            collation_key(b"\xff"),
            Err(VindexError::InvalidUtf8)
        ));
    }
}
