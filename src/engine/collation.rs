//! String comparison under MySQL/MariaDB collations, approximated from Unicode data.
//!
//! [`Collation::of`] picks a collation from a column's metadata, [`Collation::key`] turns a
//! string into a [`TextKey`] whose order is the collation's order: equal keys ⇔ MySQL calls the
//! strings equal. Families:
//!
//! | family | collations | key |
//! |---|---|---|
//! | `Binary` | `binary` (63) | bytes, trailing spaces significant |
//! | `Bin` | `*_bin` (46, 83, 47, 65 …), or any string column flagged `BINARY` | bytes (UTF-8 byte order = code point order), PAD SPACE |
//! | `General` | `*_general_ci` (45, 33, 11, 48 …), unknown ids | one weight per character |
//! | `Swedish` | `latin1_swedish_ci` (8) | `General` with the Swedish letters Å Ä Ö after Z |
//! | `Uca400` | `*_unicode_ci` and its language variants (224, 192 …) | UCA-like weights |
//! | `Uca520` | `*_unicode_520_ci` (246, 214), MySQL 8's `*_0900_*` (255 …) | UCA-like weights |
//!
//! `_nopad_` collations and MySQL 8's `0900` ones are NO PAD; all others are PAD SPACE (the
//! shorter string compares as if padded with spaces, so `'a' = 'a '` and `'a\t' < 'a'`).
//! `_cs` collations (49, MySQL's `*_as_cs`) break ties between case variants by code point.
//!
//! No collation tables are embedded: weights are computed from Unicode data (the
//! `unicode-normalization` crate and `char` case mappings) plus a few hand-written rules, each
//! checked against MariaDB 10.11 (`collation_tests.rs`).
//!
//! **General** (`*_general_ci`): one weight per character, the upper case of its base letter.
//! Latin, Greek and Cyrillic letters that decompose into a letter plus combining marks weigh
//! as that letter (`'a' = 'á' = 'ȁ' = 'ǻ'`), except `й`; case pairs map only within the
//! scripts as they stood in Unicode 3.0, which MariaDB's tables reflect (`Ȿ ≠ ȿ`);
//! singleton decompositions stay distinct (`Ω` U+2126 ≠ `Ω`); `ß = s`, `ı = i`; everything
//! above U+FFFF weighs U+FFFD (all emoji are equal). Measured: every pair of BMP characters
//! compares as in MariaDB except lunate sigma `ϲ` (MariaDB: `= Σ`) and 4 unassigned Greek
//! code points. Not modelled: the latin1 collations other than Swedish (german2's `ä = ae`,
//! danish, spanish) are treated as plain `General`.
//!
//! **UCA** (`*_unicode_ci`, `*_unicode_520_ci`): characters are compatibility-decomposed
//! (`ﬁ = fi`, `Ａ = a`, `² = 2`); combining marks, controls and zero-width format characters
//! weigh nothing; case is folded; weights fall into UCA's classes: whitespace (TAB < LF < … <
//! space), punctuation and symbols (ASCII, Latin-1 and General Punctuation in the measured
//! order of [`UCA_PUNCTUATION`]; other symbols after them by code point), digits (decimal
//! digits of every script by value), letters (by code point; `ß = ss`, `œ = oe`, `ς = σ`;
//! `æ ø đ ð ł ħ ŧ ı ŋ ĸ` and Cyrillic `ђ ѓ є ѕ і ї й ј љ њ ћ ќ ў џ` are letters of their own
//! right after their base letter in 4.0.0, while 5.2.0 has `æ = ae`, `ø = o`, `đ = ð = d`,
//! `ł = ŀ = l`, `ħ = h`). In 4.0.0 everything above U+FFFF weighs the same; in 5.2.0
//! non-letters there (emoji, unassigned in 5.2) sort after all letters. Measured: ASCII,
//! Latin-1 and basic Cyrillic single characters order exactly as in MariaDB, and so did
//! 300,000 random pairs of 3,000 random strings over ASCII, Latin-1 letters and symbols,
//! Cyrillic, Greek, emoji and Hangul. Differences from MariaDB: letters outside those sets
//! with a special DUCET place (Latin Extended-B, Greek, other scripts; about 9% of pairs in
//! Latin Extended-B) sort by code point, characters unassigned in UCA 4.0.0 are treated as
//! assigned, further expansions and contractions are missing, language tailorings
//! (`_swedish_ci`, `_spanish2_ci` …) use the root order, and spacing combining marks (`ः`)
//! are not ignored.

use std::borrow::Cow;
use std::cmp::Ordering;

use mysql_common::constants::ColumnFlags;
use mysql_common::packets::Column;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};
use unicode_normalization::is_nfc;

mod uca;

pub use self::uca::UCA_PUNCTUATION;
use self::uca::{uca_weights, UCA_SPACE};

/// The comparison algorithm of a collation (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The `binary` collation: bytes, no padding.
    Binary,
    /// `*_bin`: code point (byte) order.
    Bin,
    /// `*_general_ci`.
    General,
    /// `latin1_swedish_ci`.
    Swedish,
    /// `*_unicode_ci` (UCA 4.0.0).
    Uca400,
    /// `*_unicode_520_ci` (UCA 5.2.0) and MySQL 8's `0900` collations.
    Uca520,
}

/// A collation: how the strings of one column compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collation {
    /// The collation id the family was derived from.
    pub id: u16,
    /// The comparison algorithm.
    pub family: Family,
    /// PAD SPACE (trailing spaces ignored) rather than NO PAD.
    pub pad_space: bool,
    /// Case variants differ (`_cs`): ties on the case-insensitive weights are broken by code point.
    pub case_sensitive: bool,
}

impl Collation {
    /// The collation with MariaDB/MySQL id `id`. Unknown ids are treated as a `General` PAD
    /// SPACE collation.
    pub fn from_id(id: u16) -> Collation {
        use Family::*;
        let (family, pad_space, case_sensitive) = match id {
            63 => (Binary, false, false),
            46 | 47 | 55 | 61 | 62 | 65 | 83 | 90 => (Bin, true, false),
            309 | 1070 | 1071 | 1079 | 1089 | 1107 | 1114 => (Bin, false, false),
            8 => (Swedish, true, false),
            1032 => (Swedish, false, false),
            49 => (General, true, true),
            1035 | 1057 | 1059 | 1069 | 1078 => (General, false, false),
            214 | 246 | 123 | 150 | 578 | 610 | 642 | 674 => (Uca520, true, false),
            101..=122
            | 124
            | 128..=149
            | 151
            | 192..=213
            | 215
            | 224..=245
            | 247
            | 576
            | 577
            | 608
            | 609
            | 640
            | 641
            | 672
            | 673 => (Uca400, true, false),
            1125 | 1152 | 1216 | 1248 => (Uca400, false, false),
            1147 | 1174 | 1238 | 1270 => (Uca520, false, false),
            278..=304 | 307 | 308 => (Uca520, false, true),
            255..=277 | 305 | 306 => (Uca520, false, false),
            _ => (General, true, false),
        };
        Collation {
            id,
            family,
            pad_space,
            case_sensitive,
        }
    }

    /// The collation to compare a string column with: `binary` for character set 63, a `_bin`
    /// collation when the column carries the `BINARY` flag (that is how MariaDB marks `_bin`
    /// columns in result metadata), otherwise [`Collation::from_id`] of the column's id.
    pub fn of(column: &Column) -> Collation {
        let id = column.character_set();
        let collation = Collation::from_id(id);
        let binary_flag = column.flags().contains(ColumnFlags::BINARY_FLAG);
        if id != 63 && binary_flag && collation.family != Family::Bin {
            return Collation {
                family: Family::Bin,
                case_sensitive: false,
                ..collation
            };
        }
        collation
    }

    /// The sort key of `text`; keys compare exactly as the collation compares the strings.
    pub fn key(&self, text: &[u8]) -> TextKey {
        let pad = self.pad_space;
        match self.family {
            Family::Binary | Family::Bin => TextKey::Bytes {
                bytes: text.to_vec(),
                pad,
            },
            Family::General | Family::Swedish if text.is_ascii() => TextKey::Folded {
                // An ASCII character weighs as its upper case in both families (see
                // `general_weight`), so the key is the upper-cased bytes: no decoding and a
                // quarter of the memory of one `u32` weight per character.
                upper: text.to_ascii_uppercase(),
                tiebreak: if self.case_sensitive {
                    text.to_vec()
                } else {
                    Vec::new()
                },
                pad,
            },
            family => {
                let text = decode(text);
                let mut primary = Vec::with_capacity(text.len());
                let space = match family {
                    Family::General | Family::Swedish => {
                        let swedish = family == Family::Swedish;
                        primary.extend(text.chars().map(|c| general_weight(c, swedish)));
                        u32::from(b' ')
                    }
                    _ => {
                        let v520 = family == Family::Uca520;
                        for c in text.chars() {
                            uca_weights(c, v520, &mut primary);
                        }
                        UCA_SPACE
                    }
                };
                let tiebreak = if self.case_sensitive {
                    text.chars().map(u32::from).collect()
                } else {
                    Vec::new()
                };
                TextKey::Weights {
                    primary,
                    tiebreak,
                    space: pad.then_some(space),
                }
            }
        }
    }

    /// Compares two strings under this collation.
    pub fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        self.key(a).cmp(&self.key(b))
    }
}

/// A collation sort key. Only keys made by the same [`Collation`] are meant to be compared.
#[derive(Debug, Clone)]
pub enum TextKey {
    /// Byte order; with `pad`, missing bytes compare as spaces.
    Bytes {
        /// The string's bytes.
        bytes: Vec<u8>,
        /// PAD SPACE.
        pad: bool,
    },
    /// A `General`/`Swedish` key of an ASCII string: its upper-cased bytes, which are its
    /// `General` weights; compares with [`TextKey::Weights`] of the same collation as if it
    /// were one.
    Folded {
        /// The upper-cased bytes (the primary weights).
        upper: Vec<u8>,
        /// The original bytes (code points), for case-sensitive collations only.
        tiebreak: Vec<u8>,
        /// PAD SPACE (the space weight is `b' '`).
        pad: bool,
    },
    /// Weight order; with `space`, missing weights compare as that space weight.
    Weights {
        /// Case- and accent-insensitive weights.
        primary: Vec<u32>,
        /// Code points, compared when the primaries tie (case-sensitive collations only).
        tiebreak: Vec<u32>,
        /// The weight of a space under PAD SPACE, `None` for NO PAD.
        space: Option<u32>,
    },
}

impl Ord for TextKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (TextKey::Bytes { bytes: a, pad }, TextKey::Bytes { bytes: b, .. }) => {
                padded_cmp(a, b, pad.then_some(b' '))
            }
            (
                TextKey::Weights {
                    primary: a,
                    tiebreak: ta,
                    space,
                },
                TextKey::Weights {
                    primary: b,
                    tiebreak: tb,
                    ..
                },
            ) => padded_cmp(a, b, *space)
                .then_with(|| padded_cmp(ta, tb, space.map(|_| u32::from(b' ')))),
            (
                TextKey::Folded {
                    upper: a,
                    tiebreak: ta,
                    pad,
                },
                TextKey::Folded {
                    upper: b,
                    tiebreak: tb,
                    ..
                },
            ) => {
                let space = pad.then_some(b' ');
                padded_cmp(a, b, space).then_with(|| padded_cmp(ta, tb, space))
            }
            // A column mixing ASCII and other strings: the bytes compare as the weights they are.
            (
                TextKey::Folded {
                    upper: a,
                    tiebreak: ta,
                    ..
                },
                TextKey::Weights {
                    primary: b,
                    tiebreak: tb,
                    space,
                },
            ) => padded_cmp_widened(a, b, *space)
                .then_with(|| padded_cmp_widened(ta, tb, space.map(|_| u32::from(b' ')))),
            (TextKey::Weights { .. }, TextKey::Folded { .. }) => other.cmp(self).reverse(),
            (TextKey::Bytes { .. }, _) => Ordering::Less,
            (_, TextKey::Bytes { .. }) => Ordering::Greater,
        }
    }
}

impl PartialOrd for TextKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for TextKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TextKey {}

/// Lexicographic order where, with `pad`, the shorter sequence continues with `pad` forever.
fn padded_cmp<T: Ord + Copy>(a: &[T], b: &[T], pad: Option<T>) -> Ordering {
    let common = a.len().min(b.len());
    let prefix = a[..common].cmp(&b[..common]);
    if prefix != Ordering::Equal {
        return prefix;
    }
    let Some(space) = pad else {
        return a.len().cmp(&b.len());
    };
    if a.len() > b.len() {
        tail_vs_space(a[common..].iter().copied(), space)
    } else {
        tail_vs_space(b[common..].iter().copied(), space).reverse()
    }
}

/// [`padded_cmp`] of bytes, taken as `u32` weights, against weights (no widened copy).
fn padded_cmp_widened(a: &[u8], b: &[u32], pad: Option<u32>) -> Ordering {
    let common = a.len().min(b.len());
    let prefix = a[..common]
        .iter()
        .zip(&b[..common])
        .map(|(&x, y)| u32::from(x).cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal);
    if prefix != Ordering::Equal {
        return prefix;
    }
    let Some(space) = pad else {
        return a.len().cmp(&b.len());
    };
    if a.len() > b.len() {
        tail_vs_space(a[common..].iter().map(|&x| u32::from(x)), space)
    } else {
        tail_vs_space(b[common..].iter().copied(), space).reverse()
    }
}

/// How the rest of the longer sequence compares with padding: its first non-space decides.
fn tail_vs_space<T: Ord + Copy>(mut tail: impl Iterator<Item = T>, space: T) -> Ordering {
    tail.find(|&w| w != space)
        .map_or(Ordering::Equal, |w| w.cmp(&space))
}

/// The string as characters: UTF-8 when valid (the shard pools talk utf8mb4), else latin1.
fn decode(text: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(text) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(text.iter().map(|&b| char::from(b)).collect()),
    }
}

/// The `General` weight of one character.
fn general_weight(c: char, swedish: bool) -> u32 {
    if c.is_ascii() {
        return u32::from(c.to_ascii_uppercase());
    }
    let cp = u32::from(c);
    if cp > 0xFFFF {
        return 0xFFFD;
    }
    if swedish {
        if let Some(w) = swedish_weight(c) {
            return w;
        }
    }
    if c == 'ß' {
        return u32::from('S');
    }
    let base = general_base(c);
    match single(base.to_uppercase()) {
        Some(upper) if in_unicode_3(u32::from(base)) && in_unicode_3(u32::from(upper)) => {
            u32::from(upper)
        }
        _ => u32::from(base),
    }
}

/// Code point ranges (half-open) of cased scripts as they stood in Unicode 3.0, whose case
/// mappings MariaDB's `general_ci` tables know; later additions weigh their own code point.
const UNICODE_3_CASED: &[(u32, u32)] = &[
    (0x0000, 0x0220),
    (0x0222, 0x0234),
    (0x0250, 0x02A9),
    (0x02B0, 0x0370),
    (0x0374, 0x0376),
    (0x037A, 0x037B),
    (0x037E, 0x03CF),
    (0x03D0, 0x03D7),
    (0x03DA, 0x03F4),
    (0x0400, 0x048A),
    (0x048C, 0x04C5),
    (0x04C7, 0x04C9),
    (0x04CB, 0x04CD),
    (0x04D0, 0x04F6),
    (0x04F8, 0x04FA),
    (0x0531, 0x0588),
    (0x10A0, 0x10F7),
    (0x1E00, 0x1E9C),
    (0x1EA0, 0x1EFA),
    (0x1F00, 0x2000),
    (0x2160, 0x2183),
    (0x24B6, 0x24EA),
    (0xFF21, 0xFF5B),
];

fn in_unicode_3(cp: u32) -> bool {
    UNICODE_3_CASED
        .iter()
        .any(|&(lo, hi)| (lo..hi).contains(&cp))
}

/// The letter `c` weighs as in `general_ci`: for Latin, Greek and Cyrillic letters that
/// canonically decompose into a letter plus combining marks, that letter (`á` → `a`,
/// `ǻ` → `a`); otherwise `c`. Characters with a singleton decomposition (`Å` U+212B, `Ω`
/// U+2126, Greek oxia forms) keep their identity, and so does the Cyrillic letter `й`.
fn general_base(c: char) -> char {
    let cp = u32::from(c);
    let strippable =
        cp < 0x0530 || (0x1E00..0x1EFA).contains(&cp) || (0x1F00..0x2000).contains(&cp);
    if !strippable || matches!(c, 'й' | 'Й') || !is_nfc(c.encode_utf8(&mut [0; 4])) {
        return c;
    }
    let mut parts: Vec<char> = Vec::with_capacity(4);
    decompose_canonical(c, |d| parts.push(d));
    match parts.as_slice() {
        [first, marks @ ..]
            if !marks.is_empty()
                && first.is_alphabetic()
                && marks.iter().all(|&m| canonical_combining_class(m) != 0) =>
        {
            *first
        }
        _ => c,
    }
}

/// `latin1_swedish_ci` weights that differ from the general ones (Swedish alphabet order:
/// … Y Z Å Ä Ö, with Æ = Ä, Ø = Ö, Ü = Y; measured with WEIGHT_STRING on MariaDB 10.11).
fn swedish_weight(c: char) -> Option<u32> {
    let w = match c {
        'Å' | 'å' => 0x5B,
        'Ä' | 'ä' | 'Æ' | 'æ' => 0x5C,
        'Ö' | 'ö' | 'Ø' | 'ø' => 0x5D,
        'Ü' | 'ü' | 'Ý' | 'ý' => 0x59,
        'Ð' | 'ð' => 0x44,
        'ß' | 'Þ' | 'þ' | 'ÿ' | '×' | '÷' => u32::from(c),
        _ => return None,
    };
    Some(w)
}

/// The only item of a case mapping, `None` when it maps to several characters.
fn single(mut mapping: impl Iterator<Item = char>) -> Option<char> {
    match (mapping.next(), mapping.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
#[path = "collation_tests.rs"]
mod tests;
