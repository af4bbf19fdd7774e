//! The planner: statement text + VSchema + session target → [`Plan`], with no I/O.

pub mod plan;

pub use plan::*;
