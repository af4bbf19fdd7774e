//! What the proxy knows of a user's password, and the checks each auth step makes against it.
//!
//! A password is configured either in plain text, as MySQL's `mysql_native_password` stage-2
//! hash (`*` + 40 hex digits: `SHA1(SHA1(password))`, the form `SELECT PASSWORD('x')` prints and
//! `mysql.user` stores), or as MySQL's stored `caching_sha2_password` hash (`$A$005$…`, see
//! [`super::sha_crypt`]). The checks are MariaDB's and MySQL's:
//!
//! - native: the client sends `SHA1(pw) XOR SHA1(nonce ‖ SHA1(SHA1(pw)))`; with the stage-2
//!   hash the server recovers the candidate `SHA1(pw)` and compares its SHA1 with the hash.
//! - caching_sha2 fast path: the client sends `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖
//!   nonce)`; with `SHA256(SHA256(pw))` (computed from a plain password, or cached after a full
//!   authentication) the server recovers the candidate `SHA256(pw)` and compares its SHA256.
//! - full authentication: the clear-text password is compared with the plain password, its
//!   double SHA1 with the stage-2 hash, or its SHA-256 crypt with the caching_sha2 hash.
//!
//! A caching_sha2 hash cannot check a native scramble: such users are switched to
//! caching_sha2_password (see [`super::authenticate`]).

use super::sha_crypt::Sha2CryptHash;
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// `SHA256(SHA256(password))`: what the caching_sha2 fast path checks against.
pub type Sha2Digest = [u8; 32];

/// A user's configured password.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Plain text (empty = no password).
    Plain(String),
    /// `SHA1(SHA1(password))`, from a `*`-prefixed hex hash.
    NativeHash([u8; 20]),
    /// MySQL's stored caching_sha2_password hash (`$A$005$…`).
    Sha2Crypt(Box<Sha2CryptHash>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password or its hash into logs.
        match self {
            Credential::Plain(p) if p.is_empty() => f.write_str("Plain(<empty>)"),
            Credential::Plain(_) => f.write_str("Plain(<redacted>)"),
            Credential::NativeHash(_) => f.write_str("NativeHash(<redacted>)"),
            Credential::Sha2Crypt(_) => f.write_str("Sha2Crypt(<redacted>)"),
        }
    }
}

/// Why a `password_hash` value is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashFormatError {
    /// Not `*` followed by 40 hexadecimal digits.
    #[error("must be '*' followed by 40 hexadecimal digits (mysql_native_password's hash, as SELECT PASSWORD('...') prints it), got {0} characters")]
    Shape(usize),
    /// Not a caching_sha2_password hash either.
    #[error("must be mysql_native_password's hash ('*' followed by 40 hexadecimal digits, as SELECT PASSWORD('...') prints it) or caching_sha2_password's ('$A$005$...', or SELECT HEX(authentication_string)); {0}")]
    Neither(String),
}

/// Parses a configured `password_hash`: `*` + 40 hex digits (native), or a caching_sha2 hash
/// as stored or in hex.
pub fn parse_hash(text: &str) -> Result<Credential, HashFormatError> {
    if text.starts_with('*') {
        return parse_native_hash(text).map(Credential::NativeHash);
    }
    Sha2CryptHash::parse(text)
        .map(|h| Credential::Sha2Crypt(Box::new(h)))
        .map_err(|e| HashFormatError::Neither(e.to_string()))
}

/// Parses `*` + 40 hex digits (either case) into the stage-2 hash.
pub fn parse_native_hash(text: &str) -> Result<[u8; 20], HashFormatError> {
    let hex = text
        .strip_prefix('*')
        .filter(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(HashFormatError::Shape(text.chars().count()))?;
    let mut out = [0u8; 20];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
        out[i] = digit(pair[0]) << 4 | digit(pair[1]);
    }
    Ok(out)
}

/// `*` + upper-case hex of `SHA1(SHA1(password))`, as MySQL's `PASSWORD()` prints it.
pub fn native_hash_text(password: &str) -> String {
    let stage2 = sha1(&sha1(password.as_bytes()));
    let mut s = String::with_capacity(41);
    s.push('*');
    for b in stage2 {
        s.push_str(&format!("{b:02X}"));
    }
    s
}

fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// `SHA256(SHA256(password))`.
pub fn sha2_digest(password: &[u8]) -> Sha2Digest {
    sha256(&sha256(password))
}

/// Compares in time independent of where the bytes differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Credential {
    /// Whether this is the empty password (a login must then send an empty response).
    pub fn is_empty(&self) -> bool {
        matches!(self, Credential::Plain(p) if p.is_empty())
    }

    /// The stage-2 hash `SHA1(SHA1(password))` (`None` for the empty password).
    fn native_stage2(&self) -> Option<[u8; 20]> {
        match self {
            Credential::Plain(p) if p.is_empty() => None,
            Credential::Plain(p) => Some(sha1(&sha1(p.as_bytes()))),
            Credential::NativeHash(h) => Some(*h),
            Credential::Sha2Crypt(_) => None,
        }
    }

    /// Whether a `mysql_native_password` scramble can be checked (not with a caching_sha2
    /// hash: such users must be switched to caching_sha2_password).
    pub fn checks_native(&self) -> bool {
        !matches!(self, Credential::Sha2Crypt(_))
    }

    /// `SHA256(SHA256(password))` when the credential alone gives it (plain passwords).
    pub fn sha2_digest(&self) -> Option<Sha2Digest> {
        match self {
            Credential::Plain(p) if !p.is_empty() => Some(sha2_digest(p.as_bytes())),
            _ => None,
        }
    }

    /// Whether a `mysql_native_password` response proves the password for this nonce.
    pub fn verify_native(&self, nonce: &[u8], response: &[u8]) -> bool {
        if !self.checks_native() {
            return false;
        }
        let Some(stage2) = self.native_stage2() else {
            return response.is_empty();
        };
        if response.len() != 20 {
            return false;
        }
        let mut h = Sha1::new();
        h.update(nonce);
        h.update(stage2);
        let mask: [u8; 20] = h.finalize().into();
        let mut stage1 = [0u8; 20];
        for (i, b) in stage1.iter_mut().enumerate() {
            *b = response[i] ^ mask[i];
        }
        constant_time_eq(&sha1(&stage1), &stage2)
    }

    /// Whether a clear-text password (from caching_sha2 full authentication) is this one
    /// (CPU-heavy for a caching_sha2 hash: thousands of SHA-256 rounds).
    pub fn verify_clear(&self, clear: &[u8]) -> bool {
        match self {
            Credential::Plain(p) => constant_time_eq(p.as_bytes(), clear),
            Credential::NativeHash(h) => {
                !clear.is_empty() && constant_time_eq(&sha1(&sha1(clear)), h)
            }
            Credential::Sha2Crypt(h) => !clear.is_empty() && h.verify(clear),
        }
    }
}

/// Whether a caching_sha2 fast-path response proves the password whose
/// `SHA256(SHA256(password))` is `digest`, for this nonce.
pub fn verify_sha2_fast(digest: &Sha2Digest, nonce: &[u8], response: &[u8]) -> bool {
    if response.len() != 32 {
        return false;
    }
    let mut h = Sha256::new();
    h.update(digest);
    h.update(nonce);
    let mask: [u8; 32] = h.finalize().into();
    let mut stage1 = [0u8; 32];
    for (i, b) in stage1.iter_mut().enumerate() {
        *b = response[i] ^ mask[i];
    }
    constant_time_eq(&sha256(&stage1), digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::scramble::{scramble_native, scramble_sha256};

    const NONCE: &[u8; 20] = b"abcdefghij0123456789";

    #[test]
    fn hash_text_is_mysqls_password_function() {
        // SELECT PASSWORD('secret') on MariaDB / MySQL 5.7.
        assert_eq!(
            native_hash_text("secret"),
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"
        );
        let parsed = parse_native_hash("*14e65567abdb5135d0cfd9a70b3032c179a49ee7").expect("hex");
        assert_eq!(
            Some(parsed),
            Credential::Plain("secret".into()).native_stage2()
        );
    }

    #[test]
    fn malformed_hashes_are_refused() {
        for bad in [
            "",
            "*",
            "14E65567ABDB5135D0CFD9A70B3032C179A49EE7",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE77",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EEG",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EÉ",
        ] {
            assert!(parse_native_hash(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn native_verifies_with_the_hash_as_with_the_password() {
        let hashed =
            Credential::NativeHash(parse_native_hash(&native_hash_text("secret")).expect("hash"));
        let plain = Credential::Plain("secret".into());
        let good = scramble_native(NONCE, b"secret").expect("scramble");
        let bad = scramble_native(NONCE, b"Secret").expect("scramble");
        for c in [&hashed, &plain] {
            assert!(c.verify_native(NONCE, &good));
            assert!(!c.verify_native(NONCE, &bad));
            assert!(!c.verify_native(NONCE, &[]));
            assert!(!c.verify_native(b"another nonce 123456", &good));
            assert!(!c.verify_native(NONCE, &good[..19]));
        }
        let empty = Credential::Plain(String::new());
        assert!(empty.verify_native(NONCE, &[]));
        assert!(!empty.verify_native(NONCE, &good));
    }

    #[test]
    fn sha2_fast_path_and_clear_text() {
        let digest = sha2_digest(b"secret");
        let good = scramble_sha256(NONCE, b"secret").expect("scramble");
        let bad = scramble_sha256(NONCE, b"secreT").expect("scramble");
        assert!(verify_sha2_fast(&digest, NONCE, &good));
        assert!(!verify_sha2_fast(&digest, NONCE, &bad));
        assert!(!verify_sha2_fast(&digest, b"another nonce 123456", &good));
        assert!(!verify_sha2_fast(&digest, NONCE, &good[..31]));
        assert_eq!(
            Credential::Plain("secret".into()).sha2_digest(),
            Some(digest)
        );
        let hashed =
            Credential::NativeHash(parse_native_hash(&native_hash_text("secret")).expect("hash"));
        assert_eq!(
            hashed.sha2_digest(),
            None,
            "a native hash cannot give SHA256"
        );
        assert!(hashed.verify_clear(b"secret"));
        assert!(!hashed.verify_clear(b"secret\0"));
        assert!(!hashed.verify_clear(b""));
        assert!(Credential::Plain("secret".into()).verify_clear(b"secret"));
        assert!(!Credential::Plain("secret".into()).verify_clear(b"secre"));
        assert!(Credential::Plain(String::new()).verify_clear(b""));
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!("{:?}", Credential::Plain("hunter2".into()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
