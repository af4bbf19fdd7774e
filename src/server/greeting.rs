//! The first exchange of a client connection, before authentication: the greeting, the TLS
//! upgrade when the client asks for it, the handshake response, and the transport check of
//! `server.require_secure_transport`.
//!
//! TLS is offered (`CLIENT_SSL` in the greeting) only on TCP and only when `server.tls_cert`
//! and `server.tls_key` are configured; the Unix socket is already secure, as in MariaDB.

use super::client_stream::ClientStream;
use super::client_tls;
use super::ProxyState;
use crate::error::ProxyError;
use crate::protocol::auth::{self, ClientHello, HandshakeError};
use crate::protocol::packet::{PacketError, PacketStream};
use crate::protocol::writer;

/// ER_SECURE_TRANSPORT_REQUIRED.
pub const SECURE_TRANSPORT_REQUIRED: u16 = 3159;

/// The refusal of a plain-TCP client under `require_secure_transport`, as MariaDB words it.
pub fn insecure_transport() -> ProxyError {
    ProxyError::Limit {
        code: SECURE_TRANSPORT_REQUIRED,
        state: "HY000",
        message: "Connections using insecure transport are prohibited while \
                  --require_secure_transport=ON."
            .into(),
    }
}

/// Greets the client and reads its handshake response, upgrading to TLS first when it asks.
///
/// Returns the stream to go on with (TLS after an upgrade) and the response; `None` when the
/// client closed or was refused (the ERR packet is already sent).
pub async fn open(
    mut ps: PacketStream<ClientStream>,
    state: &ProxyState,
    connection_id: u32,
    scramble: &[u8; 20],
) -> Result<Option<(PacketStream<ClientStream>, ClientHello)>, HandshakeError> {
    let acceptor = match ps.get_ref() {
        ClientStream::Tcp(_) => state.client_tls.as_ref(),
        _ => None,
    };
    auth::write_greeting(
        &mut ps,
        &state.identity.current().handshake,
        connection_id,
        scramble,
        state.config.auth.default_plugin.name(),
        acceptor.is_some(),
    );
    ps.flush().await?;
    let mut hello = auth::read_hello(&mut ps).await;
    if let (Err(HandshakeError::TlsRequested), Some(acceptor)) = (&hello, acceptor) {
        ps = client_tls::upgrade(ps, acceptor).await?;
        // A second SSL request over TLS is refused below like any malformed response.
        hello = auth::read_hello(&mut ps).await;
    }
    let hello = match hello {
        Ok(h) => h,
        Err(HandshakeError::Closed) => return Ok(None),
        Err(e @ HandshakeError::Packet(PacketError::OutOfOrder { .. })) => {
            // As MariaDB: ER_NET_PACKETS_OUT_OF_ORDER, numbered as expected, then close.
            write_err(&mut ps, &ProxyError::packets_out_of_order());
            ps.flush().await?;
            return Err(e);
        }
        Err(e) => {
            write_err(&mut ps, &ProxyError::Malformed(e.to_string()));
            ps.flush().await?;
            return Err(e);
        }
    };
    if state.config.server.require_secure_transport && !ps.get_ref().is_secure() {
        // As MariaDB: checked once the response is read, before the password is.
        write_err(&mut ps, &insecure_transport());
        ps.flush().await?;
        return Ok(None);
    }
    Ok(Some((ps, hello)))
}

fn write_err(ps: &mut PacketStream<ClientStream>, err: &ProxyError) {
    let (code, state, msg) = err.to_wire();
    ps.write_with(|b| writer::err_packet(b, code, &state, &msg));
}
