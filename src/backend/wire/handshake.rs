//! Connecting to a backend server: the v10 handshake and authentication.
//!
//! Supports `mysql_native_password` (MariaDB's and MySQL 5.7's default), an auth switch to it
//! or to `mysql_clear_password`, and `caching_sha2_password`: its fast path (a cached
//! password), and its full authentication over TLS (`backend.tls`); full authentication
//! without TLS would need RSA, which the proxy does not speak, and is reported as an error
//! naming the plugin.
//!
//! With `backend.tls`, a TCP connection sends the SSL request after the greeting and runs the
//! rest of the login over TLS; a server that does not offer TLS is an error, never a silent
//! fallback to plain TCP.

use super::packets::{parse_err, parse_ok};
use super::stream::{BackendStream, Socket};
use super::{ShardUrl, WireError};
use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    AuthPlugin, AuthSwitchRequest, HandshakePacket, HandshakeResponse, SslRequest,
};
use mysql_common::proto::{MyDeserialize, MySerialize};
use std::sync::Arc;
use tokio::net::{TcpStream, UnixStream};

/// Capabilities the proxy asks of every backend: protocol 4.1 with classic EOF packets (the
/// relay converts EOFs for clients that deprecate them), multi results for procedures.
fn wanted_capabilities() -> CapabilityFlags {
    CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB
}

/// utf8mb4_general_ci, the character set announced in the SSL request.
const UTF8MB4_GENERAL_CI: u8 = 45;

/// Largest packet the proxy accepts from a backend server.
const MAX_PACKET: u32 = 256 * 1024 * 1024;

/// Opens the connection and authenticates (over TCP with `tls`, upgrading first); returns it
/// with the server's thread id for it.
pub async fn connect(
    opts: &ShardUrl,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<(BackendStream, u32), WireError> {
    let sock = match &opts.socket {
        Some(path) => Socket::Unix(UnixStream::connect(path).await.map_err(WireError::io)?),
        None => {
            let tcp = TcpStream::connect((opts.host.as_str(), opts.port))
                .await
                .map_err(WireError::io)?;
            tcp.set_nodelay(true).map_err(WireError::io)?;
            Socket::Tcp(tcp)
        }
    };
    let mut stream = BackendStream::new(sock);
    let packet = stream.next_packet().await.map_err(WireError::io)?.to_vec();
    if packet.first() == Some(&0xFF) {
        return Err(parse_err(&packet));
    }
    let hello = HandshakePacket::deserialize((), &mut ParseBuf(&packet))
        .map_err(|e| WireError::Protocol(format!("bad server greeting: {e}")))?;
    let thread_id = hello.connection_id();
    let mut capabilities = wanted_capabilities() & hello.capabilities();
    if !capabilities.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
        return Err(WireError::Protocol(
            "server does not speak protocol 4.1".into(),
        ));
    }
    if let (Some(config), None) = (tls, &opts.socket) {
        if !hello.capabilities().contains(CapabilityFlags::CLIENT_SSL) {
            return Err(WireError::Protocol(
                "backend.tls is set but the server does not offer TLS (start it with ssl_cert and ssl_key)".into(),
            ));
        }
        capabilities |= CapabilityFlags::CLIENT_SSL;
        let mut request = Vec::new();
        SslRequest::new(capabilities, MAX_PACKET, UTF8MB4_GENERAL_CI).serialize(&mut request);
        stream.send(&request).await.map_err(WireError::io)?;
        let name = rustls::pki_types::ServerName::try_from(opts.host.clone()).map_err(|e| {
            WireError::Protocol(format!("'{}' is not a TLS server name: {e}", opts.host))
        })?;
        stream = stream
            .upgrade(config.clone(), name)
            .await
            .map_err(|e| WireError::Protocol(format!("TLS to the backend failed: {e}")))?;
    }
    let nonce = hello.nonce();
    let plugin = match hello.auth_plugin() {
        Some(AuthPlugin::CachingSha2Password) => AuthPlugin::CachingSha2Password,
        _ => AuthPlugin::MysqlNativePassword,
    };
    let pass = (!opts.password.is_empty()).then_some(opts.password.as_str());
    let data = plugin.gen_data(pass, &nonce);
    let mut scramble = Vec::new();
    if let Some(d) = &data {
        d.serialize(&mut scramble);
    }
    let version = hello.server_version_parsed().unwrap_or((5, 7, 0));
    let response = HandshakeResponse::new(
        Some(scramble),
        version,
        Some(opts.user.as_bytes()),
        (!opts.database.is_empty()).then_some(opts.database.as_bytes()),
        Some(plugin.clone()),
        capabilities,
        None,
        MAX_PACKET,
    );
    let mut buf = Vec::new();
    response.serialize(&mut buf);
    stream.send(&buf).await.map_err(WireError::io)?;
    authenticate(&mut stream, opts, plugin).await?;
    Ok((stream, thread_id))
}

/// Answers the server until it accepts (OK) or refuses (ERR) the login.
async fn authenticate(
    stream: &mut BackendStream,
    opts: &ShardUrl,
    mut plugin: AuthPlugin<'static>,
) -> Result<(), WireError> {
    let pass = (!opts.password.is_empty()).then_some(opts.password.as_str());
    for _ in 0..4 {
        let packet = stream.next_packet().await.map_err(WireError::io)?.to_vec();
        match packet.first() {
            Some(0x00) => {
                parse_ok(&packet)?;
                return Ok(());
            }
            Some(0xFF) => return Err(parse_err(&packet)),
            Some(0xFE) => {
                let switch = AuthSwitchRequest::deserialize((), &mut ParseBuf(&packet))
                    .map_err(|e| WireError::Protocol(format!("bad auth switch: {e}")))?;
                plugin = match switch.auth_plugin() {
                    AuthPlugin::MysqlNativePassword => AuthPlugin::MysqlNativePassword,
                    AuthPlugin::CachingSha2Password => AuthPlugin::CachingSha2Password,
                    AuthPlugin::MysqlClearPassword => AuthPlugin::MysqlClearPassword,
                    other => {
                        return Err(WireError::Protocol(format!(
                            "backend asks for auth plugin {} which the proxy does not support",
                            String::from_utf8_lossy(other.as_bytes())
                        )))
                    }
                };
                let reply = match &plugin {
                    AuthPlugin::MysqlNativePassword | AuthPlugin::CachingSha2Password => {
                        let mut out = Vec::new();
                        if let Some(d) = plugin.gen_data(pass, switch.plugin_data()) {
                            d.serialize(&mut out);
                        }
                        out
                    }
                    AuthPlugin::MysqlClearPassword => {
                        let mut out = opts.password.as_bytes().to_vec();
                        out.push(0);
                        out
                    }
                    _ => Vec::new(),
                };
                stream.send(&reply).await.map_err(WireError::io)?;
            }
            Some(0x01) if matches!(plugin, AuthPlugin::CachingSha2Password) => {
                // 0x01 0x03: fast auth succeeded, OK follows; 0x01 0x04: full auth needed,
                // which over TLS is the password in clear text.
                if packet.get(1) == Some(&0x04) && stream.is_tls() {
                    let mut out = opts.password.as_bytes().to_vec();
                    out.push(0);
                    stream.send(&out).await.map_err(WireError::io)?;
                } else if packet.get(1) == Some(&0x04) {
                    return Err(WireError::Protocol(
                        "caching_sha2_password full authentication needs TLS to the backend (backend.tls), or log in once with the mysql client to cache the password, or use mysql_native_password".into(),
                    ));
                }
            }
            _ => {
                return Err(WireError::Protocol(
                    "unexpected packet during authentication".into(),
                ))
            }
        }
    }
    Err(WireError::Protocol("authentication did not finish".into()))
}
