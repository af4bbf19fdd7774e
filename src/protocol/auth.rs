//! Authentication: the handshake greeting, the client's response, plugin checks and auth switch.
//!
//! Passwords are configured in plain text or as `mysql_native_password` hashes
//! ([`credential`]). `mysql_native_password` is verified from the scramble with either.
//! `caching_sha2_password` is verified on its fast path when `SHA256(SHA256(password))` is known
//! (from a plain password, or cached after an earlier full authentication, as MySQL does);
//! otherwise, and when the fast path does not match, the client is asked for full
//! authentication: the clear-text password over a secure transport (TLS, Unix socket), else
//! RSA-encrypted with the server's public key ([`rsa_exchange`]). Clients that start with any
//! other plugin are switched to `mysql_native_password`.

mod caching_sha2;
pub mod credential;
pub mod rsa_exchange;
mod server_side;
pub mod sha_crypt;

pub use server_side::AuthState;

use super::packet::{PacketError, PacketStream};
use super::writer;
use mysql_common::constants::{CapabilityFlags, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{AuthPlugin, HandshakePacket, HandshakeResponse};
use mysql_common::proto::{MyDeserialize, MySerialize};
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite};

/// The version announced until a shard has told its own (`crate::server::identity` derives
/// the default from the shards; `server.server_version` overrides it): the MariaDB release the
/// proxy is tested with. Drivers gate features on it.
pub const SERVER_VERSION: &str = "10.11.6-MariaDB-shardgate";

/// Capabilities the proxy offers; the session uses the intersection with the client's.
pub fn server_capabilities() -> CapabilityFlags {
    CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB
        | CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_INTERACTIVE
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_CONNECT_ATTRS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CapabilityFlags::CLIENT_DEPRECATE_EOF
}

/// A fresh 20-byte scramble of printable, non-NUL bytes (as MySQL servers generate).
pub fn new_scramble() -> [u8; 20] {
    let mut rng = rand::thread_rng();
    let mut s = [0u8; 20];
    for b in &mut s {
        *b = rng.gen_range(0x21..0x7F);
    }
    s
}

/// The auth plugins the proxy verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    /// SHA1-based scramble.
    Native,
    /// SHA256-based scramble, with full authentication when the fast path cannot verify.
    CachingSha2,
}

impl Plugin {
    /// Maps a plugin name sent by a client; `None` for plugins we must switch away from.
    pub fn from_name(name: &[u8]) -> Option<Plugin> {
        match name {
            b"mysql_native_password" | b"" => Some(Plugin::Native),
            b"caching_sha2_password" => Some(Plugin::CachingSha2),
            _ => None,
        }
    }
}

/// What the client told us in its handshake response.
#[derive(Debug, Clone)]
pub struct ClientHello {
    /// Capabilities in effect (client's ∩ ours).
    pub capabilities: CapabilityFlags,
    /// Requested collation id.
    pub collation: u8,
    /// Login name.
    pub user: String,
    /// Database requested in the handshake, if any.
    pub database: Option<String>,
    /// Auth plugin the client used for its first response.
    pub plugin: Vec<u8>,
    /// The first auth response.
    pub auth_response: Vec<u8>,
}

/// Why the handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Socket problem.
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// Client went away during the handshake.
    #[error("client closed the connection during the handshake")]
    Closed,
    /// Unparseable handshake response.
    #[error("malformed handshake response: {0}")]
    Malformed(String),
    /// The client sent an SSL request (a 32-byte response with `CLIENT_SSL`): the caller
    /// upgrades the stream when it offered TLS, and refuses otherwise.
    #[error("the client asked for TLS, which this connection was not offered")]
    TlsRequested,
}

/// Sends the greeting for a new connection, naming `plugin` (`mysql_native_password` or
/// `caching_sha2_password`) as the one to answer with; `offer_tls` adds `CLIENT_SSL` (the
/// client may then send an SSL request and upgrade before its real handshake response).
pub fn write_greeting<S: AsyncRead + AsyncWrite + Unpin>(
    ps: &mut PacketStream<S>,
    server_version: &str,
    connection_id: u32,
    scramble: &[u8; 20],
    plugin: &str,
    offer_tls: bool,
) {
    let mut capabilities = server_capabilities();
    if offer_tls {
        capabilities |= CapabilityFlags::CLIENT_SSL;
    }
    let mut part2 = scramble[8..].to_vec();
    part2.push(0);
    let mut part1 = [0u8; 8];
    part1.copy_from_slice(&scramble[..8]);
    let greeting = HandshakePacket::new(
        10,
        server_version.as_bytes(),
        connection_id,
        part1,
        Some(part2),
        capabilities,
        writer::UTF8MB4_GENERAL_CI as u8,
        StatusFlags::SERVER_STATUS_AUTOCOMMIT,
        Some(plugin.as_bytes()),
    );
    ps.write_with(|buf| greeting.serialize(buf));
}

/// Reads and decodes the client's handshake response.
pub async fn read_hello<S: AsyncRead + AsyncWrite + Unpin>(
    ps: &mut PacketStream<S>,
) -> Result<ClientHello, HandshakeError> {
    let payload = ps.read().await?.ok_or(HandshakeError::Closed)?;
    if payload.len() < 32 {
        return Err(HandshakeError::Malformed(format!(
            "{} bytes is too short",
            payload.len()
        )));
    }
    let client_caps = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
    if client_caps & CapabilityFlags::CLIENT_SSL.bits() != 0 && payload.len() == 32 {
        return Err(HandshakeError::TlsRequested);
    }
    let mut pb = ParseBuf(&payload);
    let resp = HandshakeResponse::deserialize((), &mut pb)
        .map_err(|e| HandshakeError::Malformed(e.to_string()))?;
    let capabilities = resp.capabilities() & server_capabilities();
    if !capabilities.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
        return Err(HandshakeError::Malformed(
            "clients older than protocol 4.1 are not supported".into(),
        ));
    }
    let plugin = match resp.auth_plugin() {
        Some(AuthPlugin::MysqlNativePassword) | None => b"mysql_native_password".to_vec(),
        Some(AuthPlugin::CachingSha2Password) => b"caching_sha2_password".to_vec(),
        Some(AuthPlugin::MysqlClearPassword) => b"mysql_clear_password".to_vec(),
        Some(AuthPlugin::Ed25519) => b"client_ed25519".to_vec(),
        Some(AuthPlugin::Other(name)) => name.to_vec(),
        Some(_) => b"unknown".to_vec(),
    };
    let database = resp
        .db_name()
        .filter(|d| !d.is_empty())
        .map(|d| String::from_utf8_lossy(d).into_owned());
    Ok(ClientHello {
        capabilities,
        collation: resp.collation(),
        user: String::from_utf8_lossy(resp.user()).into_owned(),
        database,
        plugin,
        auth_response: resp.scramble_buf().to_vec(),
    })
}

/// The account a login names, as far as authentication needs it.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// Login name (the caching_sha2 cache key).
    pub name: &'a str,
    /// Its configured password.
    pub credential: &'a credential::Credential,
}

/// What authentication needs from the server besides the packets.
#[derive(Debug, Clone, Copy)]
pub struct AuthContext<'a> {
    /// The transport is secure (TLS, or the Unix socket): caching_sha2 full authentication may
    /// receive the password in clear text; otherwise it must be RSA-encrypted.
    pub secure: bool,
    /// The RSA key and the fast-path cache.
    pub state: &'a AuthState,
}

/// Runs the rest of authentication after the first response was read.
///
/// Returns whether the client proved the password of `account` (`None`: no such user, which
/// is answered exactly as a wrong password, including the full-authentication exchange); on
/// success the caller writes the final OK. Sends AuthSwitchRequest when the client used a
/// plugin we do not verify.
pub async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    ps: &mut PacketStream<S>,
    nonce: &[u8; 20],
    plugin_name: &[u8],
    first_response: &[u8],
    account: Option<Account<'_>>,
    ctx: AuthContext<'_>,
) -> Result<bool, HandshakeError> {
    let (plugin, response) = match Plugin::from_name(plugin_name) {
        Some(p) => (p, first_response.to_vec()),
        None => {
            // Switch the client to mysql_native_password with the same nonce.
            write_switch(ps, b"mysql_native_password", nonce);
            ps.flush().await?;
            let resp = ps.read().await?.ok_or(HandshakeError::Closed)?;
            (Plugin::Native, resp)
        }
    };
    let ok = match plugin {
        Plugin::Native if account.is_some_and(|a| !a.credential.checks_native()) => {
            // A caching_sha2 hash cannot check a native scramble: switch the client to
            // caching_sha2_password, as MySQL switches to the account's plugin.
            write_switch(ps, b"caching_sha2_password", nonce);
            ps.flush().await?;
            let resp = ps.read().await?.ok_or(HandshakeError::Closed)?;
            caching_sha2::authenticate(ps, nonce, &resp, account, ctx, false).await?
        }
        Plugin::Native => account.is_some_and(|a| a.credential.verify_native(nonce, &response)),
        Plugin::CachingSha2 => {
            caching_sha2::authenticate(ps, nonce, &response, account, ctx, true).await?
        }
    };
    tracing::debug!(?plugin, response_len = response.len(), ok, "auth");
    Ok(ok)
}

/// Buffers an AuthSwitchRequest to `plugin` with `nonce`.
fn write_switch<S: AsyncRead + AsyncWrite + Unpin>(
    ps: &mut PacketStream<S>,
    plugin: &[u8],
    nonce: &[u8; 20],
) {
    ps.write_with(|buf| {
        buf.push(0xFE);
        buf.extend_from_slice(plugin);
        buf.push(0);
        buf.extend_from_slice(nonce);
        buf.push(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrambles_are_printable_and_fresh() {
        let a = new_scramble();
        let b = new_scramble();
        assert!(a.iter().all(|c| (0x21..0x7F).contains(c)));
        assert_ne!(a, b);
    }
}
