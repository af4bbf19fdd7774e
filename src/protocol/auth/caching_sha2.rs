//! The server side of `caching_sha2_password`, as MySQL 8.0+ runs it.
//!
//! 1. Fast path: the first response is `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖ nonce)`.
//!    When `SHA256(SHA256(pw))` is known (plain password, or cached) and matches, the server
//!    sends AuthMoreData `0x01 0x03` ("fast auth success") and then OK.
//! 2. Otherwise — nothing known (a hashed password not yet cached), or a mismatch — it sends
//!    `0x01 0x04` ("perform full authentication"). The client then sends its password:
//!    - on a secure transport (TLS, Unix socket) in clear text, NUL-terminated;
//!    - otherwise RSA-encrypted: it may first send `0x02` to ask for the public key, answered
//!      with `0x01` + PEM, then sends `RSA-OAEP-SHA1((pw ‖ 0x00) XOR nonce)`.
//!
//!    A verified full authentication caches `SHA256(SHA256(pw))` for the user's next logins.
//!
//! An empty first response is only good for a user without a password; for any other user it
//! is answered with an AuthSwitchRequest to caching_sha2 itself (the client had no scramble:
//! MySQL 8+ clients do this when the greeting named mysql_native_password).

use super::credential::{sha2_digest, verify_sha2_fast};
use super::{Account, AuthContext, HandshakeError};
use crate::protocol::packet::PacketStream;
use tokio::io::{AsyncRead, AsyncWrite};

/// AuthMoreData status: the fast path verified the password.
const FAST_AUTH_SUCCESS: u8 = 0x03;
/// AuthMoreData status: send the password (clear text or RSA-encrypted).
const PERFORM_FULL_AUTHENTICATION: u8 = 0x04;
/// The client's request for the server's public key.
const REQUEST_PUBLIC_KEY: u8 = 0x02;

/// Runs caching_sha2 from the client's first response; see the module header.
pub async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    ps: &mut PacketStream<S>,
    nonce: &[u8; 20],
    response: &[u8],
    account: Option<Account<'_>>,
    ctx: AuthContext<'_>,
    may_switch: bool,
) -> Result<bool, HandshakeError> {
    if account.is_some_and(|a| a.credential.is_empty()) {
        // No password: only an empty response is good; a scramble is refused, as MySQL does.
        return Ok(response.is_empty());
    }
    let switched;
    let response = if response.is_empty() && may_switch {
        // The client had no scramble for this plugin: a MySQL 8+ client answering a greeting
        // that named mysql_native_password sends caching_sha2_password with no data. Ask for
        // it with an AuthSwitchRequest to the same plugin, as MySQL does.
        super::write_switch(ps, b"caching_sha2_password", nonce);
        ps.flush().await?;
        switched = ps.read().await?.ok_or(HandshakeError::Closed)?;
        &switched[..]
    } else {
        response
    };
    if response.is_empty() {
        return Ok(false);
    }
    let known = account.and_then(|a| {
        a.credential
            .sha2_digest()
            .or_else(|| ctx.state.cached(a.name))
    });
    if known.is_some_and(|d| verify_sha2_fast(&d, nonce, response)) {
        // Sent together with the caller's OK.
        ps.write(&[0x01, FAST_AUTH_SUCCESS]);
        return Ok(true);
    }
    ps.write(&[0x01, PERFORM_FULL_AUTHENTICATION]);
    ps.flush().await?;
    let (Some(clear), Some(a)) = (read_password(ps, nonce, ctx).await?, account) else {
        return Ok(false);
    };
    // A caching_sha2 hash takes thousands of SHA-256 rounds: not on the async runtime.
    let credential = a.credential.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let mut clear = clear;
        let ok = credential.verify_clear(&clear);
        // Plain passwords give the digest at every login; a hash's is cached once verified.
        let digest = (ok && credential.sha2_digest().is_none()).then(|| sha2_digest(&clear));
        clear.fill(0);
        (ok, digest)
    })
    .await;
    let Ok((ok, digest)) = checked else {
        return Ok(false);
    };
    if let Some(d) = digest {
        ctx.state.remember(a.name, d);
    }
    Ok(ok)
}

/// Reads the full-authentication password: clear text on a secure transport, else the RSA
/// exchange. `None` when an encrypted password does not decrypt (or there is no key).
async fn read_password<S: AsyncRead + AsyncWrite + Unpin>(
    ps: &mut PacketStream<S>,
    nonce: &[u8; 20],
    ctx: AuthContext<'_>,
) -> Result<Option<Vec<u8>>, HandshakeError> {
    let packet = ps.read().await?.ok_or(HandshakeError::Closed)?;
    if ctx.secure {
        let mut clear = packet.to_vec();
        super::rsa_exchange::strip_nul(&mut clear);
        return Ok(Some(clear));
    }
    let key = ctx.state.server_key().await;
    let ciphertext = if packet[..] == [REQUEST_PUBLIC_KEY] {
        let Some(key) = &key else {
            return Ok(None);
        };
        ps.write_with(|b| {
            b.push(0x01);
            b.extend_from_slice(key.public_pem().as_bytes());
        });
        ps.flush().await?;
        ps.read().await?.ok_or(HandshakeError::Closed)?.to_vec()
    } else {
        // A client that already holds the key sends the ciphertext at once; clear text sent
        // on an insecure transport does not decrypt and is refused.
        packet.to_vec()
    };
    let Some(key) = key else {
        return Ok(None);
    };
    let nonce = *nonce;
    // RSA decryption costs a few milliseconds of CPU: not on the async runtime.
    let clear = tokio::task::spawn_blocking(move || key.decrypt_password(&ciphertext, &nonce))
        .await
        .ok()
        .flatten();
    Ok(clear)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::auth::credential::{native_hash_text, parse_native_hash, Credential};
    use crate::protocol::auth::AuthState;
    use mysql_common::scramble::scramble_sha256;

    const NONCE: &[u8; 20] = b"abcdefghij0123456789";

    /// One scripted client reply, computed from the packet the client read.
    type Answer = Box<dyn FnOnce(&[u8]) -> Vec<u8> + Send>;
    /// The scripted client's run: every payload it read.
    type ClientRun = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Vec<u8>>> + Send>>;

    /// Runs the server side against a scripted client; returns (verified, bytes the server
    /// wrote as payloads).
    async fn run(
        secure: bool,
        credential: &Credential,
        state: &AuthState,
        first: &[u8],
        client: impl FnOnce(tokio::io::DuplexStream) -> ClientRun + Send + 'static,
    ) -> (bool, Vec<Vec<u8>>) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let client = tokio::spawn(client(b));
        let mut ps = PacketStream::new(a);
        let account = Account {
            name: "u",
            credential,
        };
        let ctx = AuthContext { secure, state };
        let ok = authenticate(&mut ps, NONCE, first, Some(account), ctx, true)
            .await
            .expect("auth");
        ps.flush().await.expect("flush");
        drop(ps);
        (ok, client.await.expect("client"))
    }

    /// A client that reads packets and answers each with the next scripted payload
    /// (computed from what it read), returning everything it read.
    fn scripted(answers: Vec<Answer>) -> impl FnOnce(tokio::io::DuplexStream) -> ClientRun {
        move |stream| {
            Box::pin(async move {
                let mut ps = PacketStream::new(stream);
                let mut seen = Vec::new();
                for answer in answers {
                    let p = ps.read().await.expect("read").expect("packet").to_vec();
                    let reply = answer(&p);
                    seen.push(p);
                    ps.write(&reply);
                    ps.flush().await.expect("flush");
                }
                while let Ok(Some(p)) = ps.read().await {
                    seen.push(p.to_vec());
                }
                seen
            })
        }
    }

    fn hashed(pw: &str) -> Credential {
        Credential::NativeHash(parse_native_hash(&native_hash_text(pw)).expect("hash"))
    }

    #[tokio::test]
    async fn plain_password_takes_the_fast_path() {
        let state = AuthState::default();
        let first = scramble_sha256(NONCE, b"pw").expect("scramble");
        let (ok, seen) = run(
            false,
            &Credential::Plain("pw".into()),
            &state,
            &first,
            scripted(vec![]),
        )
        .await;
        assert!(ok);
        assert_eq!(seen, vec![vec![0x01, 0x03]]);
    }

    #[tokio::test]
    async fn hashed_password_over_a_secure_transport_then_cached() {
        let state = AuthState::default();
        let cred = hashed("pw");
        let first = scramble_sha256(NONCE, b"pw").expect("scramble");
        let (ok, seen) = run(
            true,
            &cred,
            &state,
            &first,
            scripted(vec![Box::new(|_| b"pw\0".to_vec())]),
        )
        .await;
        assert!(ok);
        assert_eq!(seen, vec![vec![0x01, 0x04]]);
        assert_eq!(state.cached("u"), Some(sha2_digest(b"pw")));
        // Next login: fast path from the cache.
        let (ok, seen) = run(false, &cred, &state, &first, scripted(vec![])).await;
        assert!(ok);
        assert_eq!(seen, vec![vec![0x01, 0x03]]);
        // A wrong fast-path answer still goes to full authentication, and fails there.
        let wrong = scramble_sha256(NONCE, b"nope").expect("scramble");
        let (ok, seen) = run(
            true,
            &cred,
            &state,
            &wrong,
            scripted(vec![Box::new(|_| b"nope\0".to_vec())]),
        )
        .await;
        assert!(!ok);
        assert_eq!(seen, vec![vec![0x01, 0x04]]);
    }

    #[tokio::test]
    async fn rsa_exchange_without_tls() {
        let state = std::sync::Arc::new(AuthState::default());
        let key = state.server_key().await.expect("key");
        let cred = hashed("pw");
        let first = scramble_sha256(NONCE, b"pw").expect("scramble");
        let pem = key.public_pem().to_string();
        let client = scripted(vec![
            Box::new(|_| vec![REQUEST_PUBLIC_KEY]),
            Box::new(move |got| {
                use rsa::pkcs8::DecodePublicKey;
                assert_eq!(got[0], 0x01);
                let public = rsa::PublicKey::from_public_key_pem(
                    std::str::from_utf8(&got[1..]).expect("utf8"),
                )
                .expect("pem");
                let mut data = b"pw\0".to_vec();
                crate::protocol::auth::rsa_exchange::xor_with_nonce(&mut data, NONCE);
                public.oaep_encrypt::<sha1::Sha1>(&data).expect("encrypt")
            }),
        ]);
        let (ok, seen) = run(false, &cred, &state, &first, client).await;
        assert!(ok);
        assert_eq!(seen[0], vec![0x01, 0x04]);
        assert_eq!(seen[1][1..], *pem.as_bytes());
        assert_eq!(state.cached("u"), Some(sha2_digest(b"pw")));
        // Clear text on an insecure transport is refused and caches nothing.
        let state = AuthState::default();
        let (ok, _) = run(
            false,
            &cred,
            &state,
            &first,
            scripted(vec![Box::new(|_| b"pw\0".to_vec())]),
        )
        .await;
        assert!(!ok);
        assert_eq!(state.cached("u"), None);
    }

    #[tokio::test]
    async fn empty_responses_and_empty_passwords() {
        let state = AuthState::default();
        let none = Credential::Plain(String::new());
        let (ok, seen) = run(false, &none, &state, &[], scripted(vec![])).await;
        assert!(ok && seen.is_empty());
        let first = scramble_sha256(NONCE, b"pw").expect("scramble");
        let (ok, _) = run(false, &none, &state, &first, scripted(vec![])).await;
        assert!(!ok);
    }

    #[tokio::test]
    async fn an_empty_response_with_a_password_is_asked_again() {
        // What a MySQL 8+ client sends when the greeting named mysql_native_password.
        let state = AuthState::default();
        let answer: Answer = Box::new(|got| {
            assert!(got.starts_with(b"\xFEcaching_sha2_password\0"), "{got:?}");
            assert_eq!(&got[23..43], NONCE);
            scramble_sha256(&got[23..43], b"pw")
                .expect("scramble")
                .to_vec()
        });
        let plain = Credential::Plain("pw".into());
        let (ok, seen) = run(false, &plain, &state, &[], scripted(vec![answer])).await;
        assert!(ok);
        assert_eq!(seen[1], vec![0x01, 0x03]);
        // Still empty after the switch: refused.
        let (ok, _) = run(
            false,
            &plain,
            &state,
            &[],
            scripted(vec![Box::new(|_| Vec::new())]),
        )
        .await;
        assert!(!ok);
    }

    #[tokio::test]
    async fn a_caching_sha2_hash_switches_native_clients() {
        // MySQL's stored hash of 'foobar' (SELECT HEX(authentication_string)).
        let cred = crate::protocol::auth::credential::parse_hash("24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537").expect("hash");
        let state = AuthState::default();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let client = tokio::spawn(scripted(vec![
            Box::new(|got| {
                assert!(got.starts_with(b"\xFEcaching_sha2_password\0"), "{got:?}");
                scramble_sha256(&got[23..43], b"foobar")
                    .expect("scramble")
                    .to_vec()
            }),
            Box::new(|got| {
                assert_eq!(got, [0x01, 0x04]);
                b"foobar\0".to_vec()
            }),
        ])(b));
        let mut ps = PacketStream::new(a);
        let native = mysql_common::scramble::scramble_native(NONCE, b"foobar").expect("scramble");
        let account = Account {
            name: "u",
            credential: &cred,
        };
        let ctx = AuthContext {
            secure: true,
            state: &state,
        };
        let ok = crate::protocol::auth::authenticate(
            &mut ps,
            NONCE,
            b"mysql_native_password",
            &native,
            Some(account),
            ctx,
        )
        .await
        .expect("auth");
        drop(ps);
        assert!(ok);
        client.await.expect("client");
        assert_eq!(state.cached("u"), Some(sha2_digest(b"foobar")));
        assert!(
            !cred.verify_native(NONCE, &native),
            "never by a native scramble"
        );
    }
}
