//! A client's socket: TCP, or the Unix socket of `server.mysql_socket` (what the `mariadb`
//! client uses for `localhost`, and vtgate's `--mysql_server_socket_path`). One enum rather
//! than a type parameter, so the connection code stays one non-generic copy. A TCP client that
//! asks for TLS is upgraded in place (see [`super::client_tls`]).

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// One accepted client connection.
#[derive(Debug)]
pub enum ClientStream {
    /// Over TCP (Nagle off).
    Tcp(TcpStream),
    /// Over the proxy's Unix socket.
    Unix(UnixStream),
    /// Over TCP, upgraded to TLS after the client's SSL request.
    Tls(Box<super::client_tls::ServerTls>),
}

impl ClientStream {
    /// Whether the transport is secure in MariaDB's sense (`require_secure_transport`, and
    /// where a password may travel in clear text): TLS or the Unix socket.
    pub fn is_secure(&self) -> bool {
        !matches!(self, ClientStream::Tcp(_))
    }

    /// The negotiated TLS protocol version and cipher suite names (`TLSv1.3`,
    /// `TLS13_AES_256_GCM_SHA384`), when the stream is TLS.
    pub fn tls_info(&self) -> Option<(String, String)> {
        match self {
            ClientStream::Tls(s) => super::client_tls::describe(s),
            _ => None,
        }
    }
}

impl std::os::fd::AsRawFd for ClientStream {
    /// The socket's descriptor (the TCP socket under TLS), to watch for the client closing it
    /// while a statement runs (see `client_gone`).
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            ClientStream::Tcp(s) => s.as_raw_fd(),
            ClientStream::Unix(s) => s.as_raw_fd(),
            ClientStream::Tls(s) => s.get_ref().0.as_raw_fd(),
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            ClientStream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            ClientStream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Tcp(s) => Pin::new(s).poll_flush(cx),
            ClientStream::Unix(s) => Pin::new(s).poll_flush(cx),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            ClientStream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            ClientStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A listening socket of the proxy.
#[derive(Debug)]
pub enum ClientListener {
    /// `server.mysql_listen`.
    Tcp(TcpListener),
    /// `server.mysql_socket`; the file is removed when this is dropped.
    Unix(UnixListener, PathBuf),
}

impl ClientListener {
    /// Listens on the Unix socket `path`. A socket file left behind by a proxy that is gone
    /// (nothing accepts on it) is replaced; one a running process serves, or a file that is
    /// not a socket, is an error rather than something to delete.
    pub fn bind_unix(path: &Path) -> io::Result<ClientListener> {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        "another process is serving this socket",
                    ));
                }
                std::fs::remove_file(path)?;
            }
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the path exists and is not a socket",
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(path)?;
        // Any local user may connect, as to MySQL's own socket: the login still needs a
        // configured user and password.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777))?;
        Ok(ClientListener::Unix(listener, path.to_path_buf()))
    }

    /// The next client and the host its session is known by (in access-denied messages):
    /// the peer's IP for TCP, `localhost` for the Unix socket, as MySQL does.
    pub async fn accept(&self) -> io::Result<(ClientStream, String)> {
        match self {
            ClientListener::Tcp(l) => {
                let (stream, peer) = l.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok((ClientStream::Tcp(stream), peer.ip().to_string()))
            }
            ClientListener::Unix(l, _) => {
                let (stream, _) = l.accept().await?;
                Ok((ClientStream::Unix(stream), "localhost".to_string()))
            }
        }
    }
}

impl Drop for ClientListener {
    fn drop(&mut self) {
        if let ClientListener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_socket_is_replaced_a_live_one_or_a_plain_file_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sg.sock");
        // Left behind: bound, then its listener gone without removing the file.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        let live = ClientListener::bind_unix(&path).expect("stale socket replaced");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o777,
            "connectable by any local user, like MySQL's"
        );
        let err = ClientListener::bind_unix(&path).expect_err("in use");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(live);
        assert!(!path.exists(), "removed when the listener is dropped");
        std::fs::write(&path, b"data").expect("write");
        let err = ClientListener::bind_unix(&path).expect_err("not a socket");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(path.exists(), "a plain file is left alone");
    }

    #[tokio::test]
    async fn unix_clients_are_localhost() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sg.sock");
        let listener = ClientListener::bind_unix(&path).expect("bind");
        let client = tokio::spawn({
            let path = path.clone();
            async move {
                let mut s = UnixStream::connect(&path).await.expect("connect");
                s.write_all(b"ping").await.expect("write");
            }
        });
        let (mut stream, host) = listener.accept().await.expect("accept");
        assert_eq!(host, "localhost");
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"ping");
        client.await.expect("client");
    }
}
