//! Buffered packet I/O on a backend socket.
//!
//! One `read` syscall usually brings a whole small result (header, column definitions, rows,
//! EOF) into the buffer, and packets are then handed out as slices of it, so relaying a point
//! select costs no allocation and no per-packet syscall. Payloads of 16 MiB or more arrive in
//! several wire packets and are joined into a side buffer.

use crate::protocol::packet::{frame, MAX_PAYLOAD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

/// The socket to a backend: TCP, or a Unix socket for a server on the same host.
#[derive(Debug)]
pub enum Socket {
    /// TCP (with `TCP_NODELAY`).
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
    /// TCP upgraded to TLS (`backend.tls`).
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Socket {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf).await,
            Socket::Unix(s) => s.read(buf).await,
            Socket::Tls(s) => s.read(buf).await,
        }
    }

    async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Socket::Tcp(s) => s.write_all(buf).await,
            Socket::Unix(s) => s.write_all(buf).await,
            Socket::Tls(s) => {
                s.write_all(buf).await?;
                // rustls buffers what it encrypts: push it out now.
                s.flush().await
            }
        }
    }
}

/// Largest logical packet accepted from a backend (matches the proxy's client limit).
const MAX_BACKEND_PACKET: usize = 1024 * 1024 * 1024;

/// A framed, buffered packet stream to one backend server.
#[derive(Debug)]
pub struct BackendStream {
    sock: Socket,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    big: Vec<u8>,
    out: Vec<u8>,
    /// Sequence id of the next packet written (continues the exchange after a read).
    pub seq: u8,
    /// Framed commands that go out in the same write as the next command (see
    /// [`Self::queue_command`]), and how many OK responses of theirs come first.
    queued: Vec<u8>,
    queued_responses: usize,
    /// A packet read by [`Self::ready`] and not yet taken.
    ready: Option<Ready>,
    /// Parts of a payload of 16 MiB or more are being joined into `big`.
    joining: bool,
}

/// Where a packet [`BackendStream::ready`] prepared lies.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// `buf[from..from + len]`.
    Buffered(usize, usize),
    /// The whole of `big`.
    Joined,
}

impl BackendStream {
    /// Wraps a connected socket.
    pub fn new(sock: Socket) -> Self {
        BackendStream {
            sock,
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            big: Vec::new(),
            out: Vec::with_capacity(1024),
            seq: 0,
            queued: Vec::new(),
            queued_responses: 0,
            ready: None,
            joining: false,
        }
    }

    /// Runs the TLS handshake on the TCP socket (after the SSL request was sent); the packet
    /// sequence continues. Nothing may be buffered unread: the server says nothing until the
    /// client's TLS hello.
    pub async fn upgrade(
        self,
        config: std::sync::Arc<rustls::ClientConfig>,
        server_name: rustls::pki_types::ServerName<'static>,
    ) -> std::io::Result<Self> {
        let Socket::Tcp(tcp) = self.sock else {
            return Err(std::io::Error::other("TLS is only used over TCP"));
        };
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(server_name, tcp)
            .await?;
        Ok(BackendStream {
            sock: Socket::Tls(Box::new(tls)),
            ..self
        })
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.sock, Socket::Tls(_))
    }

    /// Makes sure at least `need` unread bytes are buffered.
    async fn fill(&mut self, need: usize) -> std::io::Result<()> {
        if self.end - self.start >= need {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < need {
            self.buf.resize(need.next_power_of_two(), 0);
        }
        while self.end < need {
            let n = self.sock.read(&mut self.buf[self.end..]).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            self.end += n;
        }
        Ok(())
    }

    /// Reads one logical packet; the slice is valid until the next call.
    pub async fn next_packet(&mut self) -> std::io::Result<&[u8]> {
        self.ready().await?;
        Ok(self.take_ready())
    }

    /// Whether a whole packet is buffered (or already assembled), so reading it needs no
    /// syscall and cannot wait.
    pub fn has_packet(&self) -> bool {
        if self.ready.is_some() {
            return true;
        }
        let avail = self.end - self.start;
        if avail < 4 {
            return false;
        }
        let h = &self.buf[self.start..self.start + 4];
        let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
        len < MAX_PAYLOAD && !self.joining && avail >= 4 + len
    }

    /// Buffers (and, for payloads of 16 MiB or more, joins) the next logical packet.
    ///
    /// Cancel-safe: every step's progress is kept in `self`, so a read abandoned by a timeout
    /// and started again goes on where it stopped (the read timeout's liveness probe relies
    /// on it).
    pub async fn ready(&mut self) -> std::io::Result<()> {
        if self.ready.is_some() {
            return Ok(());
        }
        loop {
            self.fill(4).await?;
            let h = &self.buf[self.start..self.start + 4];
            let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
            let seq = h[3].wrapping_add(1);
            self.fill(4 + len).await?;
            self.seq = seq;
            let from = self.start + 4;
            self.start = from + len;
            if len < MAX_PAYLOAD && !self.joining {
                self.ready = Some(Ready::Buffered(from, len));
                return Ok(());
            }
            if !self.joining {
                self.big.clear();
                self.joining = true;
            }
            if self.big.len() + len > MAX_BACKEND_PACKET {
                self.joining = false;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "backend packet exceeds 1 GiB",
                ));
            }
            self.big.extend_from_slice(&self.buf[from..from + len]);
            if len < MAX_PAYLOAD {
                self.joining = false;
                self.ready = Some(Ready::Joined);
                return Ok(());
            }
        }
    }

    /// The packet [`Self::ready`] prepared (empty when none is).
    pub fn take_ready(&mut self) -> &[u8] {
        match self.ready.take() {
            Some(Ready::Buffered(from, len)) => {
                if self.start == self.end {
                    // Everything consumed: the next fill starts at the front again (the
                    // bytes returned stay in place until then).
                    self.start = 0;
                    self.end = 0;
                }
                &self.buf[from..from + len]
            }
            Some(Ready::Joined) => &self.big,
            None => &[],
        }
    }

    /// Queues a command answered by a plain OK (a transaction's BEGIN) to be sent with the
    /// next command instead of on its own: both go out in one write and the server answers
    /// them in order, so the queued one costs no round trip. Its OK is read (and checked) by
    /// that next send, before the caller reads its own response; an error there fails the
    /// send, and the caller treats the connection as broken.
    pub fn queue_command(&mut self, payload: &[u8]) {
        let mut seq = 0;
        frame(&mut self.queued, &mut seq, payload);
        self.queued_responses += 1;
    }

    /// Sends a command: one logical packet starting a new exchange (sequence id 0).
    pub async fn send_command(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.send_command_parts(&[], payload).await
    }

    /// Sends a command whose payload is `prefix` followed by `body` (saves a copy of the SQL),
    /// after any queued commands.
    pub async fn send_command_parts(&mut self, prefix: &[u8], body: &[u8]) -> std::io::Result<()> {
        self.out.clear();
        self.out.append(&mut self.queued);
        self.seq = 0;
        let total = prefix.len() + body.len();
        if total >= MAX_PAYLOAD {
            self.send_split(prefix, body).await?;
            self.shrink_out();
            return self.read_queued_responses().await;
        } else {
            self.out
                .extend_from_slice(&(total as u32).to_le_bytes()[..3]);
            self.out.push(0);
            self.seq = 1;
            self.out.extend_from_slice(prefix);
            self.out.extend_from_slice(body);
        }
        self.sock.write_all(&self.out).await?;
        self.shrink_out();
        self.read_queued_responses().await
    }

    /// Sends a payload of 16 MiB or more (`prefix` then `body`) as its wire packets, after
    /// whatever `out` holds (queued commands): each packet's header (and the prefix) goes
    /// through `out`, its bytes straight from the caller's, so a statement of hundreds of MiB
    /// is never copied to be framed.
    async fn send_split(&mut self, prefix: &[u8], body: &[u8]) -> std::io::Result<()> {
        let total = prefix.len() + body.len();
        let mut at = 0;
        loop {
            let chunk = (total - at).min(MAX_PAYLOAD);
            self.out
                .extend_from_slice(&(chunk as u32).to_le_bytes()[..3]);
            self.out.push(self.seq);
            self.seq = self.seq.wrapping_add(1);
            let end = at + chunk;
            // The part of the prefix inside this packet goes with its header.
            if at < prefix.len() {
                self.out
                    .extend_from_slice(&prefix[at..end.min(prefix.len())]);
            }
            let from = at.max(prefix.len()) - prefix.len();
            let to = end.max(prefix.len()) - prefix.len();
            self.sock.write_all(&self.out).await?;
            self.out.clear();
            if from < to {
                self.sock.write_all(&body[from..to]).await?;
            }
            at = end;
            if chunk < MAX_PAYLOAD {
                return Ok(());
            }
        }
    }

    /// Reads the OKs of the commands sent ahead of the current one.
    async fn read_queued_responses(&mut self) -> std::io::Result<()> {
        while self.queued_responses > 0 {
            self.queued_responses -= 1;
            let p = self.next_packet().await?;
            if p.first() != Some(&0x00) {
                // The command's own reply is still unread: the connection cannot be used on.
                let error = super::packets::parse_err(p);
                self.queued_responses = 0;
                return Err(std::io::Error::other(format!(
                    "a statement sent ahead of the command failed: {error}"
                )));
            }
        }
        Ok(())
    }

    /// Sends one logical packet continuing the current exchange (handshake replies).
    pub async fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.out.clear();
        frame(&mut self.out, &mut self.seq, payload);
        self.sock.write_all(&self.out).await?;
        self.shrink_out();
        Ok(())
    }

    fn shrink_out(&mut self) {
        if self.out.capacity() > 1024 * 1024 {
            self.out = Vec::with_capacity(1024);
        }
        if self.buf.len() > 1024 * 1024 && self.start == self.end {
            self.buf = vec![0; 16 * 1024];
            self.start = 0;
            self.end = 0;
        }
    }

    /// Whether unread bytes are buffered or queued commands are unsent (a clean connection
    /// between commands has neither).
    pub fn has_pending_input(&self) -> bool {
        self.end > self.start || self.queued_responses > 0 || self.ready.is_some() || self.joining
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A command of 16 MiB or more goes out framed exactly as [`frame`] frames it, queued
    /// commands first, without being copied into one buffer.
    #[tokio::test]
    async fn large_commands_are_framed_from_the_callers_bytes() {
        for total in [MAX_PAYLOAD, MAX_PAYLOAD + 1, 2 * MAX_PAYLOAD + 5] {
            let (a, mut b) = tokio::net::UnixStream::pair().expect("socket pair");
            let mut stream = BackendStream::new(Socket::Unix(a));
            stream.queue_command(b"\x03BEGIN");
            let body: Vec<u8> = (0..total - 1).map(|i| (i % 251) as u8).collect();
            let mut expected = Vec::new();
            let mut seq = 0;
            frame(&mut expected, &mut seq, b"\x03BEGIN");
            let mut seq = 0;
            let mut whole = vec![0x03];
            whole.extend_from_slice(&body);
            frame(&mut expected, &mut seq, &whole);
            let want = expected.len();
            let reader = tokio::spawn(async move {
                let mut got = vec![0u8; want];
                b.read_exact(&mut got).await.expect("read");
                // The queued BEGIN's OK, so the send completes.
                tokio::io::AsyncWriteExt::write_all(&mut b, &[7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])
                    .await
                    .expect("ok");
                (got, b)
            });
            stream
                .send_command_parts(&[0x03], &body)
                .await
                .expect("send");
            let (got, _b) = reader.await.expect("reader");
            // (Sequence ids included.)
            assert!(got == expected, "framing of {total} bytes");
        }
    }
}
