//! Statement fingerprints: a statement's shape, for logs and statistics.
//!
//! Parsing costs microseconds, so plans are cached by the statement's shape. The plan cache
//! itself keys text statements by [`super::parameterize`]'s template instead, which replaces
//! only the literals a plan can take as parameters and keeps the text otherwise byte for byte
//! (so the shards get the client's exact text). The normalized form here
//! replaces every literal (string, number, hex/bit) with `?`, drops plain comments, keeps `/*! */`
//! and `/*vt+ */` comments verbatim (they change what runs), and joins tokens with single spaces.
//! Identifiers and keywords keep their case. `-5` becomes `- ?`. Literals inside `/*! */` comments
//! stay as written, since the comment is kept whole.

use super::tokenizer::{TokenKind, Tokenizer};

/// A statement's normalized shape and a 64-bit hash of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// Tokens joined by single spaces, literals replaced by `?`, plain comments removed.
    pub normalized: String,
    /// [`hash64`] of `normalized`; stable across runs and builds.
    pub hash: u64,
}

fn is_literal(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::String | TokenKind::Number | TokenKind::HexOrBit
    )
}

/// Computes the fingerprint of one statement. Never panics.
pub fn fingerprint(stmt: &str) -> Fingerprint {
    let mut normalized = String::with_capacity(stmt.len());
    for tok in Tokenizer::new(stmt) {
        let text = match tok.kind {
            TokenKind::Comment => continue,
            k if is_literal(k) => "?",
            _ => tok.text(stmt),
        };
        if !normalized.is_empty() {
            normalized.push(' ');
        }
        normalized.push_str(text);
    }
    let hash = hash64(normalized.as_bytes());
    Fingerprint { normalized, hash }
}

/// The literal tokens (strings with their quotes, numbers, hex/bit) in order: the values the
/// fingerprint's `?` replaced, for binding into a cached plan.
pub fn literals(stmt: &str) -> Vec<&str> {
    Tokenizer::new(stmt)
        .filter(|t| is_literal(t.kind))
        .map(|t| t.text(stmt))
        .collect()
}

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
const SEED: u64 = 0x2d35_8dcc_aa6c_78a5;

/// Folded multiply (foldhash/aHash style): the high half of the 128-bit product is folded back in,
/// so a change in any bit of `h ^ word` reaches every output bit.
#[inline]
fn mix(h: u64, word: u64) -> u64 {
    let m = u128::from(h ^ word) * u128::from(K);
    (m as u64) ^ ((m >> 64) as u64)
}

/// Fast, deterministic 64-bit hash (word-at-a-time folded multiply with a final avalanche). Unlike
/// std's `DefaultHasher` its output is fixed, so fingerprints can be logged and compared across runs.
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut h = mix(SEED, bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(word));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        h = mix(h, u64::from_le_bytes(word));
    }
    // murmur3 fmix64: spreads the last words' bits over the whole value.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(sql: &str) -> String {
        fingerprint(sql).normalized
    }

    #[test]
    fn replaces_literals_and_collapses_whitespace() {
        assert_eq!(
            norm("SELECT a,b FROM t\n\tWHERE id = 5 AND name='x''y' AND f=1.5e3 AND h=0xFF AND b=b'01'"),
            "SELECT a , b FROM t WHERE id = ? AND name = ? AND f = ? AND h = ? AND b = ?"
        );
        assert_eq!(norm("select x'41', -5, ?"), "select ? , - ? , ?");
        assert_eq!(norm("select _utf8mb4'x', N'y'"), "select _utf8mb4 ? , N ?");
        assert_eq!(
            norm("select t.1a, `q``x`, @v, @@session.x"),
            "select t . 1a , `q``x` , @v , @@session.x"
        );
        assert_eq!(norm("select a<=>b, j->>'$.x'"), "select a <=> b , j ->> ?");
    }

    #[test]
    fn comments_dropped_exec_and_directives_kept() {
        assert_eq!(
            norm("/* hi */ select /*! STRAIGHT_JOIN */ 1 -- x\n # y\n /*vt+ A=1 */ from t;"),
            "select /*! STRAIGHT_JOIN */ ? /*vt+ A=1 */ from t ;"
        );
    }

    #[test]
    fn same_shape_same_hash() {
        let a = fingerprint("select * from t where id = 1 and s = 'a;b'");
        let b = fingerprint("SELECT  *  from t where id=22 and s=\"zz\" /* c */");
        assert_ne!(a.normalized, b.normalized); // keyword case is kept
        let c = fingerprint("select * from t where id=22 and s=\"zz\" /* c */");
        assert_eq!(a, c);
        assert_ne!(
            a.hash,
            fingerprint("select * from u where id = 1 and s = 'x'").hash
        );
    }

    #[test]
    fn literals_in_order() {
        assert_eq!(
            literals("insert into t values (1, 'a\\'b', 0x1F, -2.5, x'00', ?) /* 9 */"),
            ["1", "'a\\'b'", "0x1F", "2.5", "x'00'"]
        );
        assert!(literals("").is_empty());
        assert_eq!(literals("select 'unterminated"), ["'unterminated"]);
    }

    #[test]
    fn edge_inputs() {
        assert_eq!(norm(""), "");
        assert_eq!(norm("   -- only\n"), "");
        assert_eq!(fingerprint("").hash, hash64(b""));
        assert_eq!(norm("select 'é', ü"), "select ? , ü");
    }

    #[test]
    fn hash_is_stable_and_spreads() {
        assert_eq!(hash64(b"select ?"), hash64(b"select ?"));
        let hashes: std::collections::HashSet<u64> = (0..10_000)
            .map(|i| hash64(format!("select {i}").as_bytes()))
            .collect();
        assert_eq!(hashes.len(), 10_000);
        assert_ne!(hash64(b""), hash64(b"\0"));
        assert_ne!(hash64(b"a"), hash64(b"a\0"));
    }
}
