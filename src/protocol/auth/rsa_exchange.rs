//! The RSA half of `caching_sha2_password` full authentication on an insecure transport.
//!
//! After "perform full authentication" a client without TLS asks for the server's public key
//! (one byte `0x02`); the server answers AuthMoreData (`0x01`) with the key as PEM
//! (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo); the client sends
//! `RSA-OAEP-SHA1(public key, (password ‖ 0x00) XOR nonce)`, the nonce repeated over the
//! password's length. This module holds the key pair and undoes that encryption.

use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::PrivateKey;
use std::path::Path;

/// Modulus size of a generated key (MySQL's default for its auto-generated keys).
pub const GENERATED_KEY_BITS: usize = 2048;

/// The server's RSA key pair and its public half as sent to clients.
pub struct ServerKey {
    private: PrivateKey,
    public_pem: String,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey").finish_non_exhaustive()
    }
}

/// Why the key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The configured path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a PKCS#8 or PKCS#1 RSA private key in PEM.
    #[error("{path}: not an RSA private key in PEM (PKCS#8 'BEGIN PRIVATE KEY' or PKCS#1 'BEGIN RSA PRIVATE KEY'): {reason}")]
    Parse {
        /// The configured path.
        path: String,
        /// The decoder's message.
        reason: String,
    },
    /// Generating or encoding failed.
    #[error("cannot make the RSA key: {0}")]
    Generate(String),
}

impl ServerKey {
    /// A fresh 2048-bit key (CPU-heavy: run it off the async runtime).
    pub fn generate() -> Result<ServerKey, KeyError> {
        let private = PrivateKey::new(&mut getrandom::SysRng, GENERATED_KEY_BITS)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_private(private)
    }

    /// Reads a private key in PEM, PKCS#8 or PKCS#1.
    pub fn load(path: &Path) -> Result<ServerKey, KeyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: shown.clone(),
            source,
        })?;
        let private = match PrivateKey::from_pkcs8_pem(&text) {
            Ok(k) => k,
            Err(pkcs8_err) => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                PrivateKey::from_pkcs1_pem(&text).map_err(|_| KeyError::Parse {
                    path: shown,
                    reason: pkcs8_err.to_string(),
                })?
            }
        };
        Self::from_private(private)
    }

    fn from_private(private: PrivateKey) -> Result<ServerKey, KeyError> {
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Ok(ServerKey {
            private,
            public_pem,
        })
    }

    /// The public key as the PEM text clients receive.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Undoes the client's encryption: the clear-text password without its trailing NUL, or
    /// `None` when the ciphertext does not decrypt (wrong key, garbage, or a clear-text
    /// password sent where only an encrypted one is acceptable).
    pub fn decrypt_password(&self, ciphertext: &[u8], nonce: &[u8]) -> Option<Vec<u8>> {
        let mut plain = self.private.oaep_decrypt::<sha1::Sha1>(ciphertext).ok()?;
        xor_with_nonce(&mut plain, nonce);
        strip_nul(&mut plain);
        Some(plain)
    }
}

/// XORs `data` with `nonce` repeated over its length (MySQL's `xor_string`).
pub fn xor_with_nonce(data: &mut [u8], nonce: &[u8]) {
    if nonce.is_empty() {
        return;
    }
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= nonce[i % nonce.len()];
    }
}

/// Drops the NUL terminator clients put after a clear-text password.
pub fn strip_nul(password: &mut Vec<u8>) {
    if password.last() == Some(&0) {
        password.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &[u8; 20] = b"abcdefghij0123456789";

    /// What a client does with the public key (PyMySQL's `_auth.sha2_rsa_encrypt`).
    fn client_encrypt(pem: &str, password: &[u8], nonce: &[u8]) -> Vec<u8> {
        use rsa::pkcs8::DecodePublicKey;
        let public = rsa::PublicKey::from_public_key_pem(pem).expect("pem");
        let mut data = password.to_vec();
        data.push(0);
        xor_with_nonce(&mut data, nonce);
        public.oaep_encrypt::<sha1::Sha1>(&data).expect("encrypt")
    }

    #[test]
    fn xor_repeats_the_nonce_and_undoes_itself() {
        let mut data = b"a password longer than the twenty-byte nonce".to_vec();
        let orig = data.clone();
        xor_with_nonce(&mut data, NONCE);
        assert_eq!(data[0], b'a' ^ b'a');
        assert_eq!(data[20], orig[20] ^ b'a', "wraps around after 20 bytes");
        xor_with_nonce(&mut data, NONCE);
        assert_eq!(data, orig);
        let mut p = b"pw\0".to_vec();
        strip_nul(&mut p);
        assert_eq!(p, b"pw");
        strip_nul(&mut p);
        assert_eq!(p, b"pw");
    }

    #[test]
    fn a_generated_key_decrypts_what_a_client_encrypts() {
        let key = ServerKey::generate().expect("generate");
        assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let ct = client_encrypt(key.public_pem(), b"s3cret pass", NONCE);
        assert_eq!(ct.len(), GENERATED_KEY_BITS / 8);
        assert_eq!(
            key.decrypt_password(&ct, NONCE).as_deref(),
            Some(&b"s3cret pass"[..])
        );
        // Another nonce gives another (wrong) password; garbage and clear text do not decrypt.
        assert_ne!(
            key.decrypt_password(&ct, b"zzzzzzzzzzzzzzzzzzzz")
                .as_deref(),
            Some(&b"s3cret pass"[..])
        );
        assert!(key.decrypt_password(b"s3cret pass\0", NONCE).is_none());
        assert!(key.decrypt_password(&[7u8; 256], NONCE).is_none());
        let other = ServerKey::generate().expect("generate");
        assert!(other.decrypt_password(&ct, NONCE).is_none());
    }

    #[test]
    fn keys_load_from_pkcs8_and_pkcs1_pem() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::EncodePrivateKey;
        let key = ServerKey::generate().expect("generate");
        let dir = tempfile::tempdir().expect("tempdir");
        let p8 = dir.path().join("k8.pem");
        let p1 = dir.path().join("k1.pem");
        std::fs::write(
            &p8,
            key.private
                .to_pkcs8_pem(LineEnding::LF)
                .expect("pem")
                .as_bytes(),
        )
        .expect("write");
        std::fs::write(
            &p1,
            key.private
                .to_pkcs1_pem(LineEnding::LF)
                .expect("pem")
                .as_bytes(),
        )
        .expect("write");
        for path in [&p8, &p1] {
            let loaded = ServerKey::load(path).expect("load");
            assert_eq!(loaded.public_pem(), key.public_pem());
        }
        let bad = dir.path().join("bad.pem");
        std::fs::write(&bad, "not a key").expect("write");
        let err = ServerKey::load(&bad).expect_err("garbage").to_string();
        assert!(
            err.contains("bad.pem") && err.contains("not an RSA private key"),
            "{err}"
        );
        let err = ServerKey::load(&dir.path().join("missing.pem")).expect_err("missing");
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
