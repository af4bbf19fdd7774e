//! The floor under any proxy hop on this host: a relay that parses nothing and copies bytes
//! between each client and its own backend connection (`tokio::io::copy_bidirectional`, on the
//! same current-thread tokio runtime the proxy uses on small hosts).
//!
//! `bench/run`'s hop-floor section (bench/benchlib/floor.py) runs it alternately with direct
//! MariaDB and with shardgate, the same sysbench point select: what
//! shardgate spends above this relay is what parsing, routing and pooling cost; what the relay
//! itself costs (its syscalls, the extra wakeups and context switches of a second hop) no proxy
//! design on this runtime can avoid.
//!
//! ```sh
//! cargo run --release --example byte_relay -- 127.0.0.1:16500 /path/to/mysqld.sock
//! sysbench oltp_point_select --mysql-port=16500 --mysql-db=<the server's database> ... run
//! ```
//!
//! The second argument is the backend: a Unix socket path (as shardgate reaches local shards)
//! or `host:port`. MySQL's handshake passes through untouched, so clients log in to the backend.

use std::process::ExitCode;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixStream};

/// Where the relay connects for each client.
#[derive(Clone)]
enum Backend {
    Unix(String),
    Tcp(String),
}

impl Backend {
    fn parse(arg: &str) -> Backend {
        if arg.starts_with('/') {
            Backend::Unix(arg.to_string())
        } else {
            Backend::Tcp(arg.to_string())
        }
    }
}

async fn relay<C: AsyncRead + AsyncWrite + Unpin>(mut client: C, backend: Backend) {
    let result = match backend {
        Backend::Unix(path) => match UnixStream::connect(&path).await {
            Ok(mut server) => tokio::io::copy_bidirectional(&mut client, &mut server).await,
            Err(e) => Err(e),
        },
        Backend::Tcp(addr) => match TcpStream::connect(&addr).await {
            Ok(mut server) => {
                let _ = server.set_nodelay(true);
                tokio::io::copy_bidirectional(&mut client, &mut server).await
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = result {
        eprintln!("byte_relay: connection ended: {e}");
    }
}

async fn serve(listen: &str, backend: Backend) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("byte_relay: serving {}", listener.local_addr()?);
    loop {
        let (client, _) = listener.accept().await?;
        let _ = client.set_nodelay(true);
        tokio::spawn(relay(client, backend.clone()));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, backend] = args.as_slice() else {
        eprintln!("usage: byte_relay LISTEN_ADDR BACKEND (a Unix socket path or host:port)");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("byte_relay: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            r = serve(listen, Backend::parse(backend)) => r,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("byte_relay: {e}");
            ExitCode::FAILURE
        }
    }
}
