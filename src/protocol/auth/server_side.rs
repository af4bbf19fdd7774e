//! What authentication keeps across connections: the RSA key pair and the caching_sha2 cache.
//!
//! The cache maps a user to `SHA256(SHA256(password))`, learned from a successful full
//! authentication, so later logins of a user whose password is configured as a native hash can
//! take the fast path (MySQL's caching_sha2 semantics; it lives as long as the process).

use super::credential::Sha2Digest;
use super::rsa_exchange::{KeyError, ServerKey};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio::sync::OnceCell;

/// The RSA key (made or read once) and the fast-path cache; one per proxy.
#[derive(Debug, Default)]
pub struct AuthState {
    key_path: Option<PathBuf>,
    key: OnceCell<Option<Arc<ServerKey>>>,
    cache: RwLock<HashMap<String, Sha2Digest>>,
}

impl AuthState {
    /// Reads the configured key now (so a bad path stops the start with a clear error), or
    /// leaves a key to be generated on first use / by [`AuthState::prepare_key`].
    pub fn new(key_path: Option<PathBuf>) -> Result<AuthState, KeyError> {
        let state = AuthState {
            key_path: key_path.clone(),
            ..Default::default()
        };
        if let Some(path) = key_path {
            let key = ServerKey::load(&path)?;
            let _ = state.key.set(Some(Arc::new(key)));
        }
        Ok(state)
    }

    /// A state holding `key` from the start (no file, no generation on first use): for
    /// callers without a runtime to generate one on, such as the fuzz targets.
    pub fn with_key(key: ServerKey) -> AuthState {
        let state = AuthState::default();
        let _ = state.key.set(Some(Arc::new(key)));
        state
    }

    /// The key pair: read or generated once, off the async runtime (generation takes a
    /// noticeable amount of CPU). `None` if that failed (logged once); full authentication
    /// without TLS then fails.
    pub async fn server_key(&self) -> Option<Arc<ServerKey>> {
        self.key
            .get_or_init(|| async {
                let path = self.key_path.clone();
                let made = tokio::task::spawn_blocking(move || match path {
                    Some(p) => ServerKey::load(&p),
                    None => ServerKey::generate(),
                })
                .await;
                match made {
                    Ok(Ok(key)) => Some(Arc::new(key)),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "no RSA key: caching_sha2_password full authentication without TLS will fail");
                        None
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "RSA key generation did not finish");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Makes the key now, in the background, so the first client does not wait for it.
    pub fn prepare_key(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            me.server_key().await;
        });
    }

    /// The cached `SHA256(SHA256(password))` of `user`.
    pub fn cached(&self, user: &str) -> Option<Sha2Digest> {
        self.cache.read().ok().and_then(|c| c.get(user).copied())
    }

    /// Caches `user`'s digest after a successful full authentication.
    pub fn remember(&self, user: &str, digest: Sha2Digest) {
        if let Ok(mut c) = self.cache.write() {
            c.insert(user.to_string(), digest);
        }
    }
}
