//! Upgrading a client's TCP connection to TLS after its SSL request (the 32-byte handshake
//! response with `CLIENT_SSL`), and what the session reports about it.
//!
//! The client sends its TLS hello right behind the SSL request without waiting, so the packet
//! reader may already hold its first bytes: [`Rewind`] replays them to the TLS acceptor before
//! reading the socket again. The packet sequence continues across the upgrade (the request is
//! packet 1, the full handshake response over TLS is packet 2).

use super::client_stream::ClientStream;
use crate::protocol::auth::HandshakeError;
use crate::protocol::packet::{PacketError, PacketStream, MAX_PRE_AUTH_PACKET};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// A client's TLS stream.
pub type ServerTls = tokio_rustls::server::TlsStream<Rewind>;

/// A TCP stream that first yields bytes already read from it.
#[derive(Debug)]
pub struct Rewind {
    unread: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl Rewind {
    /// `inner`, with `unread` (already taken from it) read first.
    pub fn new(inner: TcpStream, unread: Vec<u8>) -> Self {
        Rewind {
            unread,
            pos: 0,
            inner,
        }
    }
}

impl std::os::fd::AsRawFd for Rewind {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.unread.len() {
            let n = (this.unread.len() - this.pos).min(buf.remaining());
            buf.put_slice(&this.unread[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.unread.len() {
                this.unread = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Runs the TLS handshake on a TCP client that sent its SSL request; the returned stream
/// continues the packet sequence. Only TCP clients are offered TLS.
pub async fn upgrade(
    ps: PacketStream<ClientStream>,
    config: &Arc<rustls::ServerConfig>,
) -> Result<PacketStream<ClientStream>, HandshakeError> {
    let seq = ps.seq;
    let (stream, unread) = ps.into_inner();
    let ClientStream::Tcp(tcp) = stream else {
        return Err(HandshakeError::Malformed(
            "an SSL request on a connection that was not offered TLS".into(),
        ));
    };
    let tls = TlsAcceptor::from(config.clone())
        .accept(Rewind::new(tcp, unread))
        .await
        .map_err(|e| HandshakeError::Packet(PacketError::Io(e)))?;
    let mut ps = PacketStream::new(ClientStream::Tls(Box::new(tls)));
    ps.seq = seq;
    ps.set_max_packet(MAX_PRE_AUTH_PACKET, false);
    Ok(ps)
}

/// `(Ssl_version, Ssl_cipher)` of an established TLS stream.
pub fn describe(tls: &ServerTls) -> Option<(String, String)> {
    let conn = tls.get_ref().1;
    let version = conn.protocol_version()?;
    let suite = conn.negotiated_cipher_suite()?;
    Some((
        crate::tls::version_name(version),
        crate::tls::cipher_name(suite.suite()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn rewind_replays_then_reads_the_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"world").await.expect("write");
            let mut back = [0u8; 2];
            s.read_exact(&mut back).await.expect("read");
            back
        });
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut r = Rewind::new(tcp, b"hello ".to_vec());
        let mut got = vec![0u8; 11];
        r.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"hello world");
        r.write_all(b"ok").await.expect("write");
        assert_eq!(&client.await.expect("client"), b"ok");
    }
}
