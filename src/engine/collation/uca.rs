//! UCA-like weights for the `*_unicode_ci` and `*_unicode_520_ci` families (see the parent
//! module's docs for the rules and how closely they match MariaDB).

use std::sync::OnceLock;

use unicode_normalization::char::{canonical_combining_class, decompose_compatible};

use super::{in_unicode_3, single};

/// Weight of the space character in the `Uca*` families.
pub(super) const UCA_SPACE: u32 = 9;
const UCA_PUNCT: u32 = 0x0100_0000;
const UCA_SYMBOL: u32 = 0x0200_0000;
const UCA_DIGIT: u32 = 0x0300_0000;
const UCA_LETTER: u32 = 0x0400_0000;
const UCA_SUPPLEMENTARY: u32 = 0x0500_0000;

/// Punctuation and symbols in their `utf8mb4_unicode_ci` order (measured on MariaDB 10.11;
/// `unicode_520_ci` agrees for all of them). Characters that compatibility-decompose to one
/// of these (`‑` → `‐`, `․` → `.`) need no entry.
pub const UCA_PUNCTUATION: &str = "`´^¯‾¨¸_‗\u{ad}-‐‒–—―⁓,;⁏:!‼⁉¡?⁈⁇¿‽.‥…·'‘’‚‛‹›\"“”„‟«»()[]{}⁅⁆§¶⁋©®@*⁎⁑/⁄\\&⁊#%‰‱⁒†‡•‣‧⁃⁌⁍′″‴⁗‵‶‷‸※‿⁔⁀⁐⁁⁂°+±÷×<=>¬|¦‖~¤¢$£¥₤€";

/// First code point ("zero") of each run of decimal digits 0–9 outside ASCII (UCA weighs them
/// like ASCII digits).
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
];

/// Zero-width characters UCA ignores (besides controls and combining marks).
const UCA_IGNORABLE: &[(u32, u32)] = &[
    (0x034F, 0x034F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
];

/// Appends the UCA-like weights of one character.
pub(super) fn uca_weights(c: char, v520: bool, out: &mut Vec<u32>) {
    if c.is_ascii_alphanumeric() {
        out.push(match c.to_digit(10) {
            Some(value) => UCA_DIGIT + value,
            None => letter_weight(c.to_ascii_lowercase()),
        });
        return;
    }
    if let Some(rank) = punctuation_rank(c) {
        out.push(UCA_PUNCT + rank);
        return;
    }
    if u32::from(c) > 0xFFFF && !(v520 && c.is_alphabetic()) {
        // UCA 4.0.0 weighs everything above U+FFFF alike; in 5.2.0 most of what is used
        // there (emoji) was not assigned yet and gets implicit weights after all letters.
        out.push(UCA_SUPPLEMENTARY + if v520 { u32::from(c) } else { 0 });
        return;
    }
    let lower = uca_lower(c, v520);
    if let Some(expansion) = uca_expansion(lower, v520) {
        out.extend(expansion.chars().map(letter_weight));
        return;
    }
    if let Some(w) = special_letter(lower) {
        out.push(w);
        return;
    }
    decompose_compatible(c, |d| uca_decomposed(d, v520, out));
}

/// The case-folded letter. UCA 4.0.0 folds only case pairs that existed then (ẞ, Ȿ … do
/// not fold there).
fn uca_lower(c: char, v520: bool) -> char {
    let lower = single(c.to_lowercase()).unwrap_or(c);
    if v520 || c.is_ascii() || (in_unicode_3(u32::from(c)) && in_unicode_3(u32::from(lower))) {
        lower
    } else {
        c
    }
}

/// Letters that UCA expands or (in 5.2.0) folds into plain Latin letters.
fn uca_expansion(lower: char, v520: bool) -> Option<&'static str> {
    let expansion = match lower {
        'ß' => "ss",
        'œ' => "oe",
        'ς' => "σ",
        _ if !v520 => return None,
        'ẞ' => "ss",
        'æ' => "ae",
        'ø' => "o",
        'đ' | 'ð' => "d",
        'ł' | 'ŀ' => "l",
        'ħ' => "h",
        _ => return None,
    };
    Some(expansion)
}

/// Weights of one character of a compatibility decomposition.
fn uca_decomposed(d: char, v520: bool, out: &mut Vec<u32>) {
    let cp = u32::from(d);
    if let Some(rank) = punctuation_rank(d) {
        out.push(UCA_PUNCT + rank);
        return;
    }
    let whitespace = match d {
        '\t' => Some(1),
        '\n' => Some(2),
        '\u{b}' => Some(3),
        '\u{c}' => Some(4),
        '\r' => Some(5),
        '\u{85}' => Some(6),
        '\u{2028}' => Some(7),
        '\u{2029}' => Some(8),
        ' ' => Some(UCA_SPACE),
        _ if d.is_whitespace() => Some(UCA_SPACE + 1),
        _ => None,
    };
    if let Some(w) = whitespace {
        out.push(w);
        return;
    }
    if d.is_control()
        || canonical_combining_class(d) != 0
        || UCA_IGNORABLE
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&cp))
    {
        return;
    }
    if let Some(value) = digit_value(d) {
        out.push(UCA_DIGIT + value);
    } else if d.is_numeric() {
        out.push(UCA_DIGIT + 16 + cp);
    } else if d.is_alphabetic() {
        let lower = uca_lower(d, v520);
        match uca_expansion(lower, v520) {
            Some(expansion) => out.extend(expansion.chars().map(letter_weight)),
            None => out.push(letter_weight(lower)),
        }
    } else {
        out.push(UCA_SYMBOL + cp);
    }
}

/// The weight of a lower-case letter (room for 7 letters between two code points).
fn letter_weight(lower: char) -> u32 {
    special_letter(lower).unwrap_or(UCA_LETTER + (u32::from(lower) << 3))
}

/// Letters that UCA gives a primary weight of their own right after a base letter, with
/// their rank there (order measured on MariaDB 10.11). Checked before decomposition, since
/// `ѓ`, `ќ`, `ў`, `ї` and `й` decompose into a base letter and a mark.
fn special_letter(lower: char) -> Option<u32> {
    let (base, rank) = match lower {
        'æ' => ('a', 1),
        'đ' => ('d', 1),
        'ð' => ('d', 2),
        'ħ' => ('h', 1),
        'ı' => ('i', 1),
        'ł' => ('l', 1),
        'ŋ' => ('n', 1),
        'ø' => ('o', 1),
        'ĸ' => ('q', 1),
        'ŧ' => ('t', 1),
        'ђ' => ('д', 1),
        'ѓ' => ('д', 2),
        'є' => ('е', 1),
        'ѕ' => ('з', 1),
        'і' => ('и', 1),
        'ї' => ('и', 2),
        'й' => ('и', 3),
        'ј' => ('и', 4),
        'љ' => ('л', 1),
        'њ' => ('н', 1),
        'ћ' => ('т', 1),
        'ќ' => ('т', 2),
        'ў' => ('у', 1),
        'џ' => ('ч', 1),
        _ => return None,
    };
    Some(UCA_LETTER + ((u32::from(base) << 3) | rank))
}

/// The position of `c` in [`UCA_PUNCTUATION`].
fn punctuation_rank(c: char) -> Option<u32> {
    static RANKS: OnceLock<Vec<(char, u32)>> = OnceLock::new();
    let ranks = RANKS.get_or_init(|| {
        let mut ranks: Vec<(char, u32)> = UCA_PUNCTUATION.chars().zip(0..).collect();
        ranks.sort_unstable();
        ranks
    });
    ranks
        .binary_search_by_key(&c, |&(p, _)| p)
        .ok()
        .map(|i| ranks[i].1)
}

/// The value of a decimal digit of any script.
fn digit_value(d: char) -> Option<u32> {
    if let Some(v) = d.to_digit(10) {
        return Some(v);
    }
    let cp = u32::from(d);
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&cp))
        .map(|&zero| cp - zero)
}
