//! Packet framing: the 4-byte header (3-byte length, 1-byte sequence id) and the 16 MiB split.
//!
//! Reads join continuation packets into one payload, checking that every packet (first and
//! continuations alike) carries the sequence id the conversation is at, as MariaDB does
//! (`ER_NET_PACKETS_OUT_OF_ORDER`); writes split payloads of 16 MiB - 1 or more
//! into several packets (with an empty trailer when the size is an exact multiple). Outgoing
//! packets are buffered and flushed once per response, so a result set costs one syscall.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest payload of a single wire packet; longer payloads continue in the next packet.
pub const MAX_PAYLOAD: usize = 0xFF_FFFF;

/// Largest logical packet accepted from a client unless [`PacketStream::set_max_packet`] says
/// otherwise (the server sets `limits.max_allowed_packet` after login).
pub const MAX_CLIENT_PACKET: usize = 256 * 1024 * 1024;

/// Largest packet accepted before login (handshake response, auth switch response): real
/// ones are a few hundred bytes.
pub const MAX_PRE_AUTH_PACKET: usize = 64 * 1024;

/// A payload grows by at most this much per read, so the memory a packet holds is bounded
/// by what has arrived, not by what its header announces.
const READ_CHUNK: usize = 64 * 1024;

/// Why reading or writing a packet failed.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// The socket failed or closed mid-packet.
    #[error("connection i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The client sent a packet larger than the stream's limit ([`PacketStream::set_max_packet`]).
    #[error("packet of {0} bytes exceeds the proxy limit")]
    TooLarge(usize),
    /// A packet's sequence id is not the one the conversation is at (MariaDB answers
    /// `ER_NET_PACKETS_OUT_OF_ORDER`, numbered `expected`, and closes the connection).
    #[error("got packets out of order (sequence id {got}, expected {expected})")]
    OutOfOrder {
        /// The sequence id the packet should have carried.
        expected: u8,
        /// The one it carried.
        got: u8,
    },
}

/// Appends `payload` to `out` as wire packets (split at 16 MiB, with an empty trailer when the
/// size is an exact multiple), numbering them from `*seq`. Shared by the client side and the
/// backend client.
pub fn frame(out: &mut Vec<u8>, seq: &mut u8, payload: &[u8]) {
    let mut rest = payload;
    loop {
        let chunk = rest.len().min(MAX_PAYLOAD);
        out.extend_from_slice(&(chunk as u32).to_le_bytes()[..3]);
        out.push(*seq);
        *seq = seq.wrapping_add(1);
        out.extend_from_slice(&rest[..chunk]);
        rest = &rest[chunk..];
        if chunk < MAX_PAYLOAD {
            break;
        }
    }
}

/// A framed MySQL packet stream over any async byte stream.
pub struct PacketStream<S> {
    stream: S,
    out: Vec<u8>,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    /// Sequence id expected on the next packet read and used on the next packet written.
    pub seq: u8,
    discard: bool,
    capture: Option<Capture>,
    max_packet: usize,
    drain_oversized: bool,
}

/// Packets held back instead of sent (see [`PacketStream::start_capture`]).
#[derive(Debug, Default)]
pub struct Capture {
    /// The payloads written, in order.
    pub packets: Vec<Vec<u8>>,
    /// Their total size.
    pub bytes: usize,
    /// The size limit was passed: later packets were dropped.
    pub overflowed: bool,
    limit: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PacketStream<S> {
    /// Wraps a connected stream.
    pub fn new(stream: S) -> Self {
        PacketStream {
            stream,
            out: Vec::with_capacity(16 * 1024),
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            seq: 0,
            discard: false,
            capture: None,
            max_packet: MAX_CLIENT_PACKET,
            drain_oversized: false,
        }
    }

    /// Sets the largest logical packet [`PacketStream::read`] accepts. A larger one fails with
    /// [`PacketError::TooLarge`]: at once when `drain` is false (before login: the connection
    /// is dropped), or after its bytes were read and discarded (through a small buffer) when
    /// `drain` is true, so the stream stays in step and the client can read the error.
    pub fn set_max_packet(&mut self, max: usize, drain: bool) {
        self.max_packet = max;
        self.drain_oversized = drain;
    }

    /// Starts a new command: the client's next packet must be numbered 0 (MariaDB resets
    /// the sequence at every command, `net_new_transaction`).
    pub fn begin_command(&mut self) {
        self.seq = 0;
    }

    /// Reads one logical packet; `Ok(None)` when the peer closed cleanly between packets.
    ///
    /// Every wire packet must carry [`PacketStream::seq`] (then the next number): one that
    /// does not fails with [`PacketError::OutOfOrder`], leaving `seq` at the expected number,
    /// which is what MariaDB numbers its error packet with. Nothing of it is read further.
    ///
    /// Reads go through a small buffer, so a command usually costs one `read` syscall
    /// (header and payload together) instead of one per field.
    pub async fn read(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let mut payload = Vec::new();
        let mut first = true;
        let mut total = 0usize;
        let mut oversized = false;
        loop {
            if !self.fill(4, first).await? {
                return Ok(None);
            }
            first = false;
            let h = &self.rbuf[self.rstart..self.rstart + 4];
            let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
            if h[3] != self.seq {
                return Err(PacketError::OutOfOrder {
                    expected: self.seq,
                    got: h[3],
                });
            }
            self.seq = h[3].wrapping_add(1);
            self.rstart += 4;
            total = total.saturating_add(len);
            if total > self.max_packet && !oversized {
                if !self.drain_oversized {
                    return Err(PacketError::TooLarge(total));
                }
                oversized = true;
                payload = Vec::new();
            }
            let buffered = (self.rend - self.rstart).min(len);
            if !oversized {
                payload.extend_from_slice(&self.rbuf[self.rstart..self.rstart + buffered]);
            }
            self.rstart += buffered;
            let mut remaining = len - buffered;
            while remaining > 0 {
                let chunk = remaining.min(READ_CHUNK);
                if oversized {
                    // The buffer is empty here (the payload outran it): discard through it.
                    self.rstart = 0;
                    self.rend = 0;
                    if self.rbuf.is_empty() {
                        self.rbuf = vec![0; 4096];
                    }
                    let n = chunk.min(self.rbuf.len());
                    self.stream.read_exact(&mut self.rbuf[..n]).await?;
                    remaining -= n;
                } else {
                    // Grown only as bytes arrive, never to the announced length up front.
                    let start = payload.len();
                    payload.resize(start + chunk, 0);
                    self.stream.read_exact(&mut payload[start..]).await?;
                    remaining -= chunk;
                }
            }
            if len < MAX_PAYLOAD {
                if oversized {
                    return Err(PacketError::TooLarge(total));
                }
                return Ok(Some(payload));
            }
        }
    }

    /// Buffers at least `need` bytes; `Ok(false)` when `clean_eof_ok` and the peer closed
    /// before sending anything.
    async fn fill(&mut self, need: usize, clean_eof_ok: bool) -> Result<bool, PacketError> {
        if self.rend - self.rstart >= need {
            return Ok(true);
        }
        if self.rbuf.is_empty() {
            self.rbuf = vec![0; 4096];
        }
        self.rbuf.copy_within(self.rstart..self.rend, 0);
        self.rend -= self.rstart;
        self.rstart = 0;
        while self.rend < need {
            let n = self.stream.read(&mut self.rbuf[self.rend..]).await?;
            if n == 0 {
                if clean_eof_ok && self.rend == 0 {
                    return Ok(false);
                }
                return Err(PacketError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed mid-packet",
                )));
            }
            self.rend += n;
        }
        Ok(true)
    }

    /// While set, written packets are dropped (VEXPLAIN QUERIES runs a statement for its
    /// shard traffic, not its result). Flush pending output before turning it on.
    pub fn set_discard(&mut self, discard: bool) {
        self.discard = discard;
    }

    /// From now on, written packets are held (up to `limit` bytes of payload) instead of
    /// sent, until [`PacketStream::take_capture`]: a server-side cursor buffers a result this
    /// way and sends it in COM_STMT_FETCH chunks. Flush pending output before turning it on.
    pub fn start_capture(&mut self, limit: usize) {
        self.capture = Some(Capture {
            limit,
            ..Capture::default()
        });
    }

    /// Ends capturing and returns what was held.
    pub fn take_capture(&mut self) -> Option<Capture> {
        self.capture.take()
    }

    fn captured(&mut self, payload: &[u8]) -> bool {
        let Some(c) = &mut self.capture else {
            return false;
        };
        if c.overflowed || c.bytes + payload.len() > c.limit {
            c.overflowed = true;
            c.packets.clear();
        } else {
            c.bytes += payload.len();
            c.packets.push(payload.to_vec());
        }
        true
    }

    /// Appends one logical packet to the output buffer (splitting at 16 MiB).
    pub fn write(&mut self, payload: &[u8]) {
        if self.discard || self.captured(payload) {
            return;
        }
        frame(&mut self.out, &mut self.seq, payload);
    }

    /// Builds a packet in place: `build` appends the payload to the output buffer directly,
    /// avoiding a copy for the common small packet (row, column definition).
    pub fn write_with(&mut self, build: impl FnOnce(&mut Vec<u8>)) {
        if self.discard {
            return;
        }
        if self.capture.is_some() {
            let mut payload = Vec::new();
            build(&mut payload);
            self.captured(&payload);
            return;
        }
        let header_at = self.out.len();
        self.out.extend_from_slice(&[0, 0, 0, 0]);
        build(&mut self.out);
        let len = self.out.len() - header_at - 4;
        if len >= MAX_PAYLOAD {
            // Rare: re-frame through the splitting path.
            let payload = self.out.split_off(header_at + 4);
            self.out.truncate(header_at);
            self.write(&payload);
            return;
        }
        let l = (len as u32).to_le_bytes();
        self.out[header_at..header_at + 3].copy_from_slice(&l[..3]);
        self.out[header_at + 3] = self.seq;
        self.seq = self.seq.wrapping_add(1);
    }

    /// Bytes waiting in the output buffer.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Sends everything buffered.
    pub async fn flush(&mut self) -> Result<(), PacketError> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
            if self.out.capacity() > 1024 * 1024 {
                self.out.shrink_to(64 * 1024);
            }
        }
        self.stream.flush().await?;
        Ok(())
    }

    /// Flushes when the buffer has grown large (used while streaming rows).
    pub async fn flush_if_large(&mut self) -> Result<(), PacketError> {
        if self.out.len() >= 64 * 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    /// The underlying stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The underlying stream, shared.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Gives the stream back with the bytes already read from it but not yet consumed as
    /// packets (a client that asked for TLS may have sent its TLS hello in the same segment
    /// as the request). Unflushed output is dropped: flush first.
    pub fn into_inner(self) -> (S, Vec<u8>) {
        let unread = self.rbuf[self.rstart..self.rend].to_vec();
        (self.stream, unread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn roundtrip_small_and_split() {
        let (a, b) = tokio::io::duplex(64 * 1024 * 1024);
        let mut w = PacketStream::new(a);
        let mut r = PacketStream::new(b);
        let big = vec![7u8; MAX_PAYLOAD * 2 + 10];
        let exact = vec![9u8; MAX_PAYLOAD];
        let writer = tokio::spawn(async move {
            w.write(b"hello");
            w.write(&big);
            w.write(&exact);
            w.write_with(|b| b.extend_from_slice(b"inplace"));
            w.flush().await.expect("flush");
            w
        });
        assert_eq!(r.read().await.expect("read").expect("some"), b"hello");
        assert_eq!(r.seq, 1);
        let got = r.read().await.expect("read").expect("some");
        assert_eq!(got.len(), MAX_PAYLOAD * 2 + 10);
        assert_eq!(r.seq, 4);
        let got = r.read().await.expect("read").expect("some");
        assert_eq!(got.len(), MAX_PAYLOAD);
        assert_eq!(r.seq, 6, "exact multiple needs an empty trailer");
        assert_eq!(r.read().await.expect("read").expect("some"), b"inplace");
        drop(writer.await.expect("join"));
        assert!(r.read().await.expect("clean eof").is_none());
    }

    #[tokio::test]
    async fn wrong_sequence_ids_are_refused() {
        let (mut a, b) = tokio::io::duplex(64 * 1024);
        let mut r = PacketStream::new(b);
        // A command numbered 1 instead of 0.
        a.write_all(&[1, 0, 0, 1, 0x0e]).await.expect("write");
        assert!(matches!(
            r.read().await,
            Err(PacketError::OutOfOrder {
                expected: 0,
                got: 1
            })
        ));
        assert_eq!(r.seq, 0, "the error packet is numbered as expected");

        // In the middle of a conversation (after a greeting numbered 0, the answer is 1).
        let (mut a, b) = tokio::io::duplex(64 * 1024);
        let mut r = PacketStream::new(b);
        r.write(b"greeting");
        a.write_all(&[1, 0, 0, 1, 7, 1, 0, 0, 3, 8])
            .await
            .expect("write");
        assert_eq!(r.read().await.expect("read").expect("some"), [7]);
        assert!(matches!(
            r.read().await,
            Err(PacketError::OutOfOrder {
                expected: 2,
                got: 3
            })
        ));
    }

    #[tokio::test]
    async fn a_continuation_with_a_wrong_sequence_id_is_refused() {
        let (mut a, b) = tokio::io::duplex(1024 * 1024);
        let mut r = PacketStream::new(b);
        let writer = tokio::spawn(async move {
            a.write_all(&[0xff, 0xff, 0xff, 0]).await.expect("write");
            a.write_all(&vec![1u8; MAX_PAYLOAD]).await.expect("write");
            // The continuation should be numbered 1.
            a.write_all(&[1, 0, 0, 2, 7]).await.expect("write");
            a
        });
        assert!(matches!(
            r.read().await,
            Err(PacketError::OutOfOrder {
                expected: 1,
                got: 2
            })
        ));
        assert_eq!(r.seq, 1);
        drop(writer.await.expect("join"));
    }

    #[tokio::test]
    async fn truncated_packet_is_an_error() {
        let (mut a, b) = tokio::io::duplex(1024);
        let mut r = PacketStream::new(b);
        a.write_all(&[10, 0, 0, 0, 1, 2]).await.expect("write");
        drop(a);
        assert!(r.read().await.is_err());
    }

    #[tokio::test]
    async fn oversized_packet_before_login_fails_at_its_header() {
        let (mut a, b) = tokio::io::duplex(1024);
        let mut r = PacketStream::new(b);
        r.set_max_packet(MAX_PRE_AUTH_PACKET, false);
        // A header announcing 16 MiB and one byte: refused without waiting for (or
        // reserving) the rest.
        a.write_all(&[0xff, 0xff, 0xff, 0, 0]).await.expect("write");
        assert!(matches!(
            r.read().await,
            Err(PacketError::TooLarge(MAX_PAYLOAD))
        ));
    }

    #[tokio::test]
    async fn payload_grows_with_what_has_arrived() {
        let (mut a, b) = tokio::io::duplex(1024 * 1024);
        let mut r = PacketStream::new(b);
        a.write_all(&[0xff, 0xff, 0xff, 0]).await.expect("write");
        a.write_all(&[1u8; 1000]).await.expect("write");
        // The read waits for the rest; what it holds meanwhile is not observable, but it
        // must still assemble the packet once everything arrived.
        let writer = tokio::spawn(async move {
            a.write_all(&vec![1u8; MAX_PAYLOAD - 1000])
                .await
                .expect("write");
            a.write_all(&[3, 0, 0, 1, 7, 8, 9]).await.expect("write");
            a
        });
        let got = r.read().await.expect("read").expect("some");
        assert_eq!(got.len(), MAX_PAYLOAD + 3);
        drop(writer.await.expect("join"));
    }

    #[tokio::test]
    async fn oversized_packet_after_login_is_drained() {
        let (mut a, b) = tokio::io::duplex(64 * 1024);
        let mut r = PacketStream::new(b);
        r.set_max_packet(100, true);
        let writer = tokio::spawn(async move {
            a.write_all(&[200, 0, 0, 0]).await.expect("write");
            a.write_all(&[5u8; 200]).await.expect("write");
            a.write_all(&[2, 0, 0, 0, b'o', b'k']).await.expect("write");
            a
        });
        assert!(matches!(r.read().await, Err(PacketError::TooLarge(200))));
        r.begin_command();
        assert_eq!(r.read().await.expect("read").expect("some"), b"ok");
        drop(writer.await.expect("join"));
    }
}
