//! `shardgate healthcheck`: the container probe of the proxy's HTTP `/healthz`.
//!
//! A slim image has no curl, so the Dockerfile's `HEALTHCHECK` runs the binary itself: one plain
//! HTTP/1.0 `GET` over a blocking [`TcpStream`], everything (connect, request, status line)
//! within one deadline, exit status 0 on `200` and 1 on anything else — another status, a
//! refused or timed-out connection, a malformed answer. No async runtime is started: the probe
//! runs every few seconds beside the proxy and should cost next to nothing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The URL probed without `--url`: the `http_listen` address the container config uses.
pub const DEFAULT_URL: &str = "http://127.0.0.1:15000/healthz";

/// Connect, request and status line together must finish within this.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Longest status line read; a longer one is not HTTP.
const MAX_STATUS_LINE: usize = 512;

/// Why the probe did not see a `200`.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL is not `http://host[:port][/path]`.
    #[error("bad URL {0:?}: expected http://host[:port][/path]")]
    BadUrl(String),
    /// No address of the host accepted a connection (or the name did not resolve).
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// `host:port` as written in the URL.
        addr: String,
        /// The resolver's or the last connection attempt's error.
        reason: String,
    },
    /// The deadline passed before the status line arrived.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Sending the request or reading the answer failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The answer does not start with an HTTP status line.
    #[error("not an HTTP answer: {0:?}")]
    BadResponse(String),
    /// The endpoint answered with another status than 200 (503: a shard is not answering, or
    /// the proxy is shutting down).
    #[error("HTTP status {0}")]
    Status(u16),
}

/// Runs the probe for the command line: prints the outcome, exit status 0 on 200, else 1.
pub fn run(url: &str) -> ExitCode {
    match probe(url, TIMEOUT) {
        Ok(()) => {
            println!("{url}: 200");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("shardgate healthcheck: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `GET url` over HTTP/1.0; `Ok` when the status is 200, all within `timeout`.
pub fn probe(url: &str, timeout: Duration) -> Result<(), ProbeError> {
    let deadline = Instant::now() + timeout;
    let target = Target::parse(url)?;
    let mut stream = connect(&target.authority, deadline, timeout)?;
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: shardgate-healthcheck\r\n\r\n",
        target.path, target.authority
    );
    stream
        .set_write_timeout(Some(remaining(deadline, timeout)?))
        .map_err(ProbeError::Io)?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| io_error(e, timeout))?;
    let status = read_status_line(&mut stream, deadline, timeout)?;
    match parse_status(&status) {
        Some(200) => Ok(()),
        Some(code) => Err(ProbeError::Status(code)),
        None => Err(ProbeError::BadResponse(status)),
    }
}

/// The parts of an `http://` URL the probe needs.
#[derive(Debug, PartialEq)]
struct Target {
    /// `host:port` (port 80 when the URL names none), also sent as `Host`.
    authority: String,
    /// Path and query, `/` when the URL has none.
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, ProbeError> {
        let bad = || ProbeError::BadUrl(url.to_string());
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(['@', ' ']) || path.contains(' ') {
            return Err(bad());
        }
        // A port follows the last colon outside an IPv6 literal's brackets.
        let has_port = match authority.rfind(':') {
            Some(i) => !authority[i..].contains(']'),
            None => false,
        };
        let authority = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(Target {
            authority,
            path: path.to_string(),
        })
    }
}

/// Connects to the first address of `authority` that accepts before the deadline.
fn connect(authority: &str, deadline: Instant, timeout: Duration) -> Result<TcpStream, ProbeError> {
    let failed = |reason: String| ProbeError::Connect {
        addr: authority.to_string(),
        reason,
    };
    let addrs: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map_err(|e| failed(e.to_string()))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining(deadline, timeout)?) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(ProbeError::Timeout(timeout))
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(failed(last))
}

/// Reads up to the first line end (or the end of the stream), each read bounded by what is
/// left of the deadline.
fn read_status_line(
    stream: &mut TcpStream,
    deadline: Instant,
    timeout: Duration,
) -> Result<String, ProbeError> {
    let mut line = Vec::new();
    let mut buf = [0u8; 256];
    while !line.contains(&b'\n') && line.len() < MAX_STATUS_LINE {
        stream
            .set_read_timeout(Some(remaining(deadline, timeout)?))
            .map_err(ProbeError::Io)?;
        let n = stream.read(&mut buf).map_err(|e| io_error(e, timeout))?;
        if n == 0 {
            break;
        }
        line.extend_from_slice(&buf[..n]);
    }
    let end = line
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(line.len())
        .min(MAX_STATUS_LINE);
    Ok(String::from_utf8_lossy(&line[..end]).trim_end().to_string())
}

/// The status code of `HTTP/1.x NNN reason`, if the line is one.
fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.split_ascii_whitespace();
    let version = parts.next()?;
    let code = parts.next()?;
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// Time left before the deadline; a probe with none left has timed out.
fn remaining(deadline: Instant, timeout: Duration) -> Result<Duration, ProbeError> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(ProbeError::Timeout(timeout)),
    }
}

/// A read or write timeout is the deadline passing; other I/O errors stay what they are.
fn io_error(e: std::io::Error, timeout: Duration) -> ProbeError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            ProbeError::Timeout(timeout)
        }
        _ => ProbeError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::thread;

    /// A one-connection HTTP server on 127.0.0.1:0: reads the request head, writes `answer`,
    /// then keeps the connection open for `hold`. Returns the URL base and the request head.
    fn serve_once(answer: &'static [u8], hold: Duration) -> (String, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = std::io::BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).expect("read") == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut stream = reader.into_inner();
            stream.write_all(answer).expect("write");
            thread::sleep(hold);
            head
        });
        (base, handle)
    }

    #[test]
    fn ok_on_200_with_an_http_1_0_get_of_the_path() {
        let (base, server) = serve_once(
            b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n",
            Duration::ZERO,
        );
        probe(&format!("{base}/healthz"), TIMEOUT).expect("200 is healthy");
        let head = server.join().expect("server");
        let authority = base.trim_start_matches("http://");
        assert!(head.starts_with("GET /healthz HTTP/1.0\r\n"), "{head}");
        assert!(head.contains(&format!("Host: {authority}\r\n")), "{head}");
    }

    #[test]
    fn other_statuses_are_unhealthy() {
        let (base, server) = serve_once(
            b"HTTP/1.1 503 Service Unavailable\r\n\r\nshard -80 silent\n",
            Duration::ZERO,
        );
        let err = probe(&format!("{base}/healthz"), TIMEOUT).expect_err("503");
        assert!(matches!(err, ProbeError::Status(503)), "{err}");
        server.join().expect("server");
        // A body mentioning 200 does not count: only the status line does.
        let (base, server) = serve_once(b"HTTP/1.0 404 Not Found\r\n\r\n200\n", Duration::ZERO);
        let err = probe(&base, TIMEOUT).expect_err("404");
        assert!(matches!(err, ProbeError::Status(404)), "{err}");
        assert!(server.join().expect("server").starts_with("GET / HTTP/1.0"));
    }

    #[test]
    fn answers_that_are_not_http_are_unhealthy() {
        for answer in [&b"200 OK\r\n"[..], b"HTTP/1.1 2000 OK\r\n", b""] {
            let (base, server) = serve_once(answer, Duration::ZERO);
            let err = probe(&base, TIMEOUT).expect_err("not HTTP");
            assert!(
                matches!(err, ProbeError::BadResponse(_)),
                "{answer:?}: {err}"
            );
            server.join().expect("server");
        }
    }

    #[test]
    fn a_silent_or_stalled_server_times_out_at_the_deadline() {
        // Half a status line, then nothing: the deadline covers the whole exchange.
        let (base, server) = serve_once(b"HTTP/1.1 2", Duration::from_millis(1500));
        let started = Instant::now();
        let err = probe(&base, Duration::from_millis(300)).expect_err("stalled");
        let took = started.elapsed();
        assert!(matches!(err, ProbeError::Timeout(_)), "{err}");
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert!(took < Duration::from_millis(1200), "{took:?}");
        server.join().expect("server");
    }

    #[test]
    fn nothing_listening_is_a_connect_error() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let err = probe(&format!("http://127.0.0.1:{port}/healthz"), TIMEOUT).expect_err("closed");
        assert!(matches!(err, ProbeError::Connect { .. }), "{err}");
    }

    #[test]
    fn urls() {
        let t = Target::parse("http://127.0.0.1:15000/healthz").expect("url");
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:15000", "/healthz")
        );
        let t = Target::parse("http://localhost").expect("url");
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("localhost:80", "/")
        );
        let t = Target::parse("http://[::1]/healthz?x=1").expect("url");
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("[::1]:80", "/healthz?x=1")
        );
        let t = Target::parse("http://[::1]:15000").expect("url");
        assert_eq!(t.authority, "[::1]:15000");
        for bad in [
            "https://127.0.0.1:15000/healthz",
            "127.0.0.1:15000/healthz",
            "http://",
            "http:///healthz",
            "http://user@host/",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(ProbeError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status("HTTP/1.1 200 OK"), Some(200));
        assert_eq!(parse_status("HTTP/1.0 503"), Some(503));
        assert_eq!(parse_status("HTTP/2 200"), None);
        assert_eq!(parse_status("SSH-2.0-OpenSSH"), None);
        assert_eq!(parse_status(""), None);
    }
}
