//! The integration-test harness: real MariaDB servers, an in-process proxy per test.
//!
//! Every `tests/*.rs` file says `mod common;` (a test binary split into `tests/<name>/main.rs`
//! and modules says `#[path = "../common/mod.rs"] mod common;`) and compiles its own copy of
//! this module, so a test binary starts its own servers. Usage:
//!
//! ```ignore
//! mod common;
//! use common::{EnvSpec, TestEnv};
//!
//! #[tokio::test]
//! async fn reads_back() {
//!     let env = TestEnv::start(EnvSpec::default()).await;   // proxy on 127.0.0.1:<free port>
//!     let mut c = env.client().await;                       // root, database `commerce`
//!     // ... SQL through the proxy; env.shard_conn("customer", "-80") goes DIRECT to a shard
//!     env.stop().await;                                     // proxy down, databases dropped
//! }
//! ```
//!
//! - [`cluster()`]: [`cluster::SHARED_SERVERS`] (3) mariadbd servers shared by all tests of the
//!   binary, started once on first use (≈0.3–1 s; the first run on a machine also builds the
//!   template data dir with mariadb-install-db, ≈1–5 s). Binlog on (ROW), utf8mb4,
//!   `innodb_lock_wait_timeout=5`, user root with an empty password over TCP. They die with the
//!   test process (PR_SET_PDEATHSIG + atexit); stale dirs of dead runs are swept at start.
//! - [`TestEnv::start`]`(`[`EnvSpec`]`)`: a test's own databases (`t<id>_<keyspace>[_<range>]`,
//!   shards spread over the shared servers), own VSchema dir, own proxy. Tests run in parallel
//!   without seeing each other's data.
//! - [`PrivateServer`] / [`EnvSpec::with_private_shard`]: a server a test may kill, stop and
//!   restart (shard-down tests) without disturbing others.
//! - [`ProxyProcess`] / [`TestEnv::proxy_process`]: the env's config served by the real
//!   `shardgate serve` binary in a child process, for tests that SIGKILL and restart the proxy.
//! - [`placement`]: keyspace ids and the shard that holds one, to check rows on the shards;
//!   [`errors::expect_error`]: a statement must fail with this MySQL error code;
//!   [`user_lookups::UserLookups`]: the owner table with its lookup vindexes, as the lookup
//!   tests set it up.
//! - MariaDB missing ⇒ every test using the harness panics with the install command. Never skips.
//!
//! Connect through the proxy with `prefer_socket=false` (as [`TestEnv::url`] does): otherwise
//! mysql_async asks the server for `@@socket` and may reconnect straight to a backend socket.

#![allow(dead_code, unused_imports)]

pub mod certs;
pub mod cluster;
pub mod env;
pub mod errors;
pub mod etcd;
pub mod owner_writers;
pub mod placement;
pub mod ports;
pub mod proxy_process;
pub mod tools;
pub mod user_lookups;

pub use certs::TestCerts;
pub use cluster::{backend_url, cluster, cluster_async, PrivateServer, SharedServer, TestCluster};
pub use env::{BackendSession, EnvSpec, KeyspaceSpec, ShardPlacement, TestEnv};
pub use proxy_process::ProxyProcess;
