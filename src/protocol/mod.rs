//! The MySQL server protocol on `mysql_common`: framing, handshake and authentication, command
//! decoding, and result encoding (text and binary rows). No routing logic lives here.

pub mod auth;
pub mod binary;
pub mod command;
pub mod packet;
pub mod writer;
