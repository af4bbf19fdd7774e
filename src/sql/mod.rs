//! SQL text handling that must be fast and never fail: tokenizing, statement splitting,
//! classification, `SET`/`USE` parsing, qualifier rewrites, fingerprints and plan templates.
//!
//! Everything here works on the client's original text with byte offsets, so the proxy can forward
//! that text unchanged or splice small edits into it (see "Forward the client's text" in DESIGN.md).
//! All functions are pure, allocate little, and accept any input, including garbage and unterminated
//! strings or comments, without panicking. Full parsing (sqlparser) lives elsewhere and is only used
//! when these cheap views are not enough.
//!
//! Shared conventions: keywords are matched case-insensitively; plain comments and `/*vt+ */`
//! directives are ignored by the statement-level helpers, while `/*! ... */` comments are looked into
//! because MySQL executes them (see [`significant`]).

pub mod binary_strings;
pub mod bounds;
pub mod classify;
pub mod fingerprint;
pub mod literal;
pub mod parameterize;
pub mod qualifier;
pub mod quoting;
pub mod search;
pub mod set_stmt;
pub mod show_database;
pub mod significant;
pub mod split;
pub mod sql_mode;
pub mod tokenizer;
pub mod use_stmt;
pub mod vindex_hints;

#[cfg(test)]
mod tests;

pub use bounds::{BoundsError, StatementBounds};
pub use classify::{classify, StatementKind};
pub use fingerprint::{fingerprint, hash64, literals, Fingerprint};
pub use literal::Charset;
pub use parameterize::{parameterize, Literal, Parameterized};
pub use qualifier::{database_names, qualifiers, rewrite_qualifiers, Qualifier};
pub use quoting::quote_ident;
pub use search::{contains_ignore_ascii_case, Needles};
pub use set_stmt::{parse_set, SetItem, SetScope, SetValue};
pub use show_database::show_database;
pub use significant::Significant;
pub use split::split_statements;
pub use sql_mode::{misread_reason, param_misread_reason, SqlMode};
pub use tokenizer::{tokenize, Token, TokenKind, Tokenizer};
pub use use_stmt::{parse_use, UseTarget};
pub use vindex_hints::VindexHint;
