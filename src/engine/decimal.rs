//! Exact decimal numbers (DECIMAL comparison, SUM and AVG) and MariaDB's text form of doubles.
//!
//! [`Decimal`] holds any number of decimal digits exactly, so DECIMAL(65,30) values and sums of
//! BIGINT UNSIGNED compare and add without rounding. It implements only what merging needs:
//! parse, compare, add, divide by a row count ([`Decimal::avg`], with MariaDB's rounding) and
//! format with a fixed scale.
//!
//! [`format_double`] prints a DOUBLE the way MariaDB 10.11's text protocol does: the shortest
//! digits that round-trip, in fixed notation for decimal exponents -15..=14 and otherwise as
//! `1.2345678901234568e17` / `1e-16` (checked against the server).

use std::cmp::Ordering;

/// An exact, arbitrary-precision decimal number.
///
/// Normalised: `int` has no leading zeros, `frac` no trailing zeros, and zero is never
/// negative, so derived equality is numeric equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    negative: bool,
    /// Integer digits, most significant first, each 0..=9.
    int: Vec<u8>,
    /// Fraction digits, most significant first, each 0..=9.
    frac: Vec<u8>,
}

impl Decimal {
    /// Parses `[+-]digits[.digits][e[+-]digits]`, surrounding ASCII spaces allowed. `None` for
    /// anything else (MySQL never sends anything else for numeric columns).
    pub fn parse(text: &[u8]) -> Option<Decimal> {
        let text = trim_ascii(text);
        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
            Some(at) => (&rest[..at], Some(parse_exponent(&rest[at + 1..])?)),
            None => (rest, None),
        };
        let (int_text, frac_text) = match mantissa.iter().position(|&b| b == b'.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, &mantissa[mantissa.len()..]),
        };
        if int_text.is_empty() && frac_text.is_empty() {
            return None;
        }
        let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if !all_digits(int_text) || !all_digits(frac_text) {
            return None;
        }
        let mut int: Vec<u8> = int_text.iter().map(|b| b - b'0').collect();
        let mut frac: Vec<u8> = frac_text.iter().map(|b| b - b'0').collect();
        if let Some(exp) = exponent {
            // Shift the decimal point; exponents are bounded to keep this cheap.
            if exp >= 0 {
                for _ in 0..exp {
                    int.push(if frac.is_empty() { 0 } else { frac.remove(0) });
                }
            } else {
                for _ in 0..exp.unsigned_abs() {
                    frac.insert(0, int.pop().unwrap_or(0));
                }
            }
        }
        Some(Decimal::from_parts(negative, int, frac))
    }

    /// The decimal equal to `value`.
    pub fn from_i128(value: i128) -> Decimal {
        let digits = value
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        Decimal::from_parts(value < 0, digits, Vec::new())
    }

    /// The decimal closest to `value`'s shortest round-trip text (`None` for NaN/infinity).
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        Decimal::parse(format!("{value:e}").as_bytes())
    }

    fn from_parts(negative: bool, mut int: Vec<u8>, mut frac: Vec<u8>) -> Decimal {
        let leading = int.iter().take_while(|&&d| d == 0).count();
        int.drain(..leading);
        while frac.last() == Some(&0) {
            frac.pop();
        }
        let zero = int.is_empty() && frac.is_empty();
        Decimal {
            negative: negative && !zero,
            int,
            frac,
        }
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    /// Whether this is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Number of fraction digits needed to write this exactly.
    pub fn scale(&self) -> usize {
        self.frac.len()
    }

    /// An approximation as a double (for comparisons against DOUBLE values).
    pub fn to_f64(&self) -> f64 {
        self.to_text(self.scale()).parse().unwrap_or(0.0)
    }

    /// The exact sum.
    pub fn add(&self, other: &Decimal) -> Decimal {
        let scale = self.scale().max(other.scale());
        let width = self.int.len().max(other.int.len()) + 1;
        let a = self.aligned(width, scale);
        let b = other.aligned(width, scale);
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_digits(&a, &b))
        } else {
            match a.cmp(&b) {
                Ordering::Less => (other.negative, sub_digits(&b, &a)),
                _ => (self.negative, sub_digits(&a, &b)),
            }
        };
        let split = digits.len() - scale;
        Decimal::from_parts(negative, digits[..split].to_vec(), digits[split..].to_vec())
    }

    /// Magnitude digits with exactly `width` integer and `scale` fraction digits (`width` must
    /// be at least `self.int.len()`, `scale` at least `self.scale()`).
    fn aligned(&self, width: usize, scale: usize) -> Vec<u8> {
        let mut digits = vec![0; width - self.int.len()];
        digits.extend_from_slice(&self.int);
        digits.extend_from_slice(&self.frac);
        digits.resize(width + scale, 0);
        digits
    }

    /// The quotient `self / divisor` truncated to `scale` fraction digits (`divisor > 0`).
    pub fn div_truncated(&self, divisor: u128, scale: usize) -> Decimal {
        let mut digits = self.int.clone();
        digits.extend((0..scale).map(|i| self.frac.get(i).copied().unwrap_or(0)));
        let mut quotient = Vec::with_capacity(digits.len());
        let mut remainder: u128 = 0;
        for d in digits {
            let current = remainder * 10 + u128::from(d);
            // `current / divisor` < 10 because `remainder < divisor`.
            quotient.push((current / divisor) as u8);
            remainder = current % divisor;
        }
        let split = quotient.len() - scale;
        let frac = quotient.split_off(split);
        Decimal::from_parts(self.negative, quotient, frac)
    }

    /// Rounded to `scale` fraction digits, halves away from zero (MySQL's ROUND_HALF_UP).
    pub fn round(&self, scale: usize) -> Decimal {
        if self.scale() <= scale {
            return self.clone();
        }
        let mut digits = self.int.clone();
        digits.extend_from_slice(&self.frac[..scale]);
        if self.frac[scale] >= 5 {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        let split = digits.len() - scale;
        let frac = digits.split_off(split);
        Decimal::from_parts(self.negative, digits, frac)
    }

    /// MariaDB's AVG for DECIMAL and integer arguments: `sum / count` where `sum` has scale
    /// `sum_scale`, to `avg_scale` fraction digits (`None` when `count` is 0).
    ///
    /// MariaDB's `decimal_div` computes the quotient in 9-digit words, truncating after
    /// `ceil9(sum_scale) + max(0, 4 - (ceil9(sum_scale) - sum_scale))` rounded up to a whole
    /// word, and the result is then rounded half-up to the output scale. So AVG over
    /// DECIMAL(10,5) truncates (0.00002/3 → 0.000006666), while over integers it rounds
    /// (2/3 → 0.6667). Both were checked against MariaDB 10.11.
    pub fn avg(&self, count: u128, sum_scale: usize, avg_scale: usize) -> Option<Decimal> {
        if count == 0 {
            return None;
        }
        let word = |n: usize| n.div_ceil(9) * 9;
        let sum_words = word(sum_scale);
        let extra = 4usize.saturating_sub(sum_words - sum_scale);
        let computed = word(sum_words + extra).max(avg_scale);
        Some(self.div_truncated(count, computed).round(avg_scale))
    }

    /// The text MySQL prints for this value in a column with `scale` decimals: rounded
    /// half-up to `scale` digits, then padded with zeros; never `-0`.
    pub fn to_text(&self, scale: usize) -> String {
        let rounded = self.round(scale);
        let mut out = String::with_capacity(rounded.int.len() + scale + 3);
        if rounded.negative {
            out.push('-');
        }
        if rounded.int.is_empty() {
            out.push('0');
        }
        out.extend(rounded.int.iter().map(|&d| char::from(b'0' + d)));
        if scale > 0 {
            out.push('.');
            out.extend(
                (0..scale).map(|i| char::from(b'0' + rounded.frac.get(i).copied().unwrap_or(0))),
            );
        }
        out
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Decimal {
    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            // No trailing zeros, so a shorter equal prefix is the smaller fraction.
            .then_with(|| self.frac.cmp(&other.frac))
    }
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0; a.len()];
    let mut carry = 0;
    for i in (0..a.len()).rev() {
        let sum = a[i] + b[i] + carry;
        out[i] = sum % 10;
        carry = sum / 10;
    }
    out
}

/// `a - b` for equal-length digit strings with `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0; a.len()];
    let mut borrow = 0;
    for i in (0..a.len()).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 10;
        }
        out[i] = d as u8;
    }
    out
}

fn parse_exponent(text: &[u8]) -> Option<i32> {
    let value: i32 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (-400..=400).contains(&value).then_some(value)
}

fn trim_ascii(mut text: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = text {
        text = rest;
    }
    while let [rest @ .., b' '] = text {
        text = rest;
    }
    text
}

/// MariaDB's text form of a DOUBLE (see the module docs): `0.30000000000000004`, `1e15`,
/// `-0.00000025`, `1.2345678901234568e17`, and `0` for both zeros.
pub fn format_double(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let sci = format!("{:e}", value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if value < 0.0 { "-" } else { "" };
    if !(-15..15).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        return format!("{sign}{first}{dot}{rest}e{exponent}");
    }
    let point = exponent + 1; // digits before the decimal point
    let len = digits.len() as i32;
    if point <= 0 {
        format!(
            "{sign}0.{}{digits}",
            "0".repeat(point.unsigned_abs() as usize)
        )
    } else if point >= len {
        format!("{sign}{digits}{}", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
#[path = "decimal_tests.rs"]
mod tests;
