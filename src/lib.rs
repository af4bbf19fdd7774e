//! shardgate: a MySQL-protocol query-routing proxy in the spirit of Vitess's vtgate.
//!
//! See `DESIGN.md` in the shared folder and the README for the architecture; each module's header
//! says what it owns.

pub mod access;
pub mod admin;
pub mod backend;
pub mod check_connect;
pub mod config;
pub mod engine;
pub mod error;
pub mod exec;
pub mod fuzz;
pub mod http;
pub mod keyrange;
pub mod local;
pub mod metrics;
pub mod offload;
pub mod planner;
pub mod protocol;
pub mod runtime;
pub mod schema_facts;
pub mod server;
pub mod session;
pub mod sql;
pub mod tls;
pub mod topo_cli;
pub mod vindex;
pub mod vschema;
pub mod workflow;
pub mod world;
