//! MySQL's stored `caching_sha2_password` hash: `$A$<rounds/1000 as 3 hex digits>$<20-byte
//! salt><43-character SHA-256 crypt digest>` (`mysql.user.authentication_string`).
//!
//! The digest is Ulrich Drepper's SHA-256 crypt ("SHA-crypt", the `$5$` of glibc) over the
//! password with the whole 20-byte salt and the stated number of rounds (5000 for `005`),
//! encoded in crypt's base-64 alphabet without the `$5$salt$` prefix. The salt may hold any
//! byte but NUL and `$`, control characters included, so the config also takes the string in
//! hex (`SELECT HEX(authentication_string)`, or `0x…` as `SHOW CREATE USER` prints it).

use sha2::{Digest, Sha256};

/// Length of MySQL's salt.
const SALT_LEN: usize = 20;
/// Length of the encoded digest.
const DIGEST_CHARS: usize = 43;
/// MySQL's largest `caching_sha2_password_digest_rounds`.
const MAX_ROUNDS: u32 = 4_095_000;
/// crypt's base-64 alphabet.
const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A parsed `$A$…` hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Sha2CryptHash {
    salt: Vec<u8>,
    rounds: u32,
    digest: Vec<u8>,
}

/// Why a caching_sha2 hash is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a caching_sha2_password hash ('$A$005$' + 20-byte salt + 43 characters, or that in hex): {0}")]
pub struct Sha2CryptError(String);

impl Sha2CryptHash {
    /// Parses the stored string, given as is or in hex (with or without `0x`).
    pub fn parse(text: &str) -> Result<Sha2CryptHash, Sha2CryptError> {
        let raw: Vec<u8> = if text.starts_with("$A$") {
            text.as_bytes().to_vec()
        } else {
            let hex = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            decode_hex(hex).ok_or_else(|| Sha2CryptError("invalid hex".into()))?
        };
        let rest = raw
            .strip_prefix(b"$A$")
            .ok_or_else(|| Sha2CryptError("does not start with $A$ (SHA-256)".into()))?;
        if rest.len() != 3 + 1 + SALT_LEN + DIGEST_CHARS || rest[3] != b'$' {
            return Err(Sha2CryptError(format!(
                "{} bytes, expected {}",
                raw.len(),
                3 + 3 + 1 + SALT_LEN + DIGEST_CHARS
            )));
        }
        let units = std::str::from_utf8(&rest[..3])
            .ok()
            .and_then(|t| u32::from_str_radix(t, 16).ok())
            .ok_or_else(|| Sha2CryptError("the rounds field is not 3 hex digits".into()))?;
        let rounds = units * 1000;
        if !(5000..=MAX_ROUNDS).contains(&rounds) {
            return Err(Sha2CryptError(format!(
                "{rounds} rounds (MySQL allows 5000 to {MAX_ROUNDS})"
            )));
        }
        let salt = rest[4..4 + SALT_LEN].to_vec();
        if salt.iter().any(|&b| b == 0 || b == b'$') {
            return Err(Sha2CryptError("the salt holds NUL or '$'".into()));
        }
        let digest = rest[4 + SALT_LEN..].to_vec();
        if !digest.iter().all(|b| ALPHABET.contains(b)) {
            return Err(Sha2CryptError("the digest is not crypt base-64".into()));
        }
        Ok(Sha2CryptHash {
            salt,
            rounds,
            digest,
        })
    }

    /// Whether `password` hashes to this (CPU: `rounds` SHA-256 steps; run it off the async
    /// runtime).
    pub fn verify(&self, password: &[u8]) -> bool {
        let computed = sha256_crypt(password, &self.salt, self.rounds);
        super::credential::constant_time_eq(&computed, &self.digest)
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// `bytes` repeated to `len` bytes.
fn stretch(block: &[u8; 32], len: usize) -> Vec<u8> {
    block.iter().copied().cycle().take(len).collect()
}

/// The encoded SHA-256 crypt digest (43 characters) of `password` with `salt` and `rounds`.
pub fn sha256_crypt(password: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
    let p = password;
    // B = SHA256(P ‖ S ‖ P)
    let b: [u8; 32] = Sha256::new()
        .chain_update(p)
        .chain_update(salt)
        .chain_update(p)
        .finalize()
        .into();
    // A = SHA256(P ‖ S ‖ B repeated to |P| ‖ for each bit of |P|: B if 1 else P)
    let mut a = Sha256::new();
    a.update(p);
    a.update(salt);
    a.update(stretch(&b, p.len()));
    let mut n = p.len();
    while n > 0 {
        if n & 1 == 1 {
            a.update(b);
        } else {
            a.update(p);
        }
        n >>= 1;
    }
    let a: [u8; 32] = a.finalize().into();
    // P' from SHA256(P repeated |P| times), S' from SHA256(S repeated 16 + A[0] times).
    let mut dp = Sha256::new();
    for _ in 0..p.len() {
        dp.update(p);
    }
    let p_seq = stretch(&dp.finalize().into(), p.len());
    let mut ds = Sha256::new();
    for _ in 0..16 + a[0] as usize {
        ds.update(salt);
    }
    let s_seq = stretch(&ds.finalize().into(), salt.len());
    let mut c = a;
    for r in 0..rounds {
        let mut h = Sha256::new();
        if r & 1 == 1 {
            h.update(&p_seq);
        } else {
            h.update(c);
        }
        if r % 3 != 0 {
            h.update(&s_seq);
        }
        if r % 7 != 0 {
            h.update(&p_seq);
        }
        if r & 1 == 1 {
            h.update(c);
        } else {
            h.update(&p_seq);
        }
        c = h.finalize().into();
    }
    encode(&c)
}

/// crypt's base-64 of the SHA-256 digest, in its byte order.
fn encode(c: &[u8; 32]) -> Vec<u8> {
    const GROUPS: [(usize, usize, usize); 10] = [
        (0, 10, 20),
        (21, 1, 11),
        (12, 22, 2),
        (3, 13, 23),
        (24, 4, 14),
        (15, 25, 5),
        (6, 16, 26),
        (27, 7, 17),
        (18, 28, 8),
        (9, 19, 29),
    ];
    let mut out = Vec::with_capacity(DIGEST_CHARS);
    let mut put = |b2: u8, b1: u8, b0: u8, chars: usize| {
        let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
        for _ in 0..chars {
            out.push(ALPHABET[(w & 0x3f) as usize]);
            w >>= 6;
        }
    };
    for (x, y, z) in GROUPS {
        put(c[x], c[y], c[z], 4);
    }
    put(0, c[31], c[30], 3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CREATE USER 'foo'@'%' IDENTIFIED BY 'foobar'` on MySQL 8, then
    /// `SELECT HEX(authentication_string)`.
    const MYSQL_FOOBAR: &str = "24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537";

    #[test]
    fn drepper_test_vector() {
        // SHA-crypt's specification: $5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5
        assert_eq!(
            sha256_crypt(b"Hello world!", b"saltstring", 5000),
            b"5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
        );
    }

    #[test]
    fn a_hash_made_by_mysql_verifies() {
        for form in [
            MYSQL_FOOBAR.to_string(),
            format!("0x{MYSQL_FOOBAR}"),
            MYSQL_FOOBAR.to_ascii_lowercase(),
        ] {
            let h = Sha2CryptHash::parse(&form).expect("parse");
            assert_eq!(h.rounds, 5000);
            assert!(h.verify(b"foobar"));
            assert!(!h.verify(b"not_foobar"));
            assert!(!h.verify(b""));
        }
    }

    #[test]
    fn literal_form_and_malformed_hashes() {
        let salt = "abcdefghijklmnopqrst";
        let digest = String::from_utf8(sha256_crypt(b"pw", salt.as_bytes(), 5000)).expect("ascii");
        let h = Sha2CryptHash::parse(&format!("$A$005${salt}{digest}")).expect("literal");
        assert!(h.verify(b"pw"));
        for bad in [
            String::new(),
            "$A$005$short".into(),
            format!("$B$005${salt}{digest}"),
            format!("$A$004${salt}{digest}"),
            format!("$A$zz5${salt}{digest}"),
            format!("$A$005${salt}{digest}x"),
            format!("$A$005${salt}{}!", &digest[..42]),
            "0x2441".into(),
            "0x2441243".into(),
        ] {
            assert!(Sha2CryptHash::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
