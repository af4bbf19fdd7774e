//! Fuzz targets: functions `fn(&[u8])` over the proxy's client-facing parsers and its planner,
//! each of which must return for any input without panicking, hanging or allocating without
//! bound. They run three ways:
//!
//! - `bench/fuzz` (stable Rust): the `fuzz` example's mutation loop for N seconds per target,
//!   coverage-guided when built with the sanitizer-coverage counters, saving failing inputs;
//! - `tests/fuzz_targets.rs`: every target over its kept corpus (`fuzz/corpus/<target>/`),
//!   its regression inputs (`fuzz/regressions/<target>/`) and a few thousand seeded random
//!   and mutated inputs, in CI;
//! - `fuzz/` (cargo-fuzz layout, nightly, not in the workspace build): libFuzzer on the same
//!   functions.
//!
//! | target | what the input is |
//! |---|---|
//! | `packet` | client wire bytes after login: framing, COM_* decoding, COM_STMT_EXECUTE with a registered statement ([`protocol::client_commands`]) |
//! | `handshake` | the handshake response and auth switch response ([`protocol::handshake`]) |
//! | `sql` | COM_QUERY text through the tokenizer, splitter, classifier, SET/USE parsers, qualifier rewrite, bounds check and parameterizer ([`sql_text::target`]) |
//! | `planner` | SQL text or a grammar-generated statement, planned against the example VSchema ([`planner::target`]) |
//! | `vschema` | one keyspace's VSchema JSON ([`planner::vschema_json`]) |

pub mod mem_stream;
pub mod planner;
pub mod protocol;
pub mod runner;
pub mod sql_gen;
pub mod sql_text;

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct FuzzTarget {
    /// Name used on the command line and for the corpus folder.
    pub name: &'static str,
    /// The function under test.
    pub run: fn(&[u8]),
    /// Tokens the mutator splices into inputs.
    pub dictionary: &'static [&'static [u8]],
    /// Longest input the mutator builds.
    pub max_len: usize,
}

const SQL_WORDS: &[&[u8]] = &[
    b"SELECT ",
    b" FROM ",
    b" WHERE ",
    b" AND ",
    b" OR ",
    b" IN (",
    b")",
    b"(",
    b",",
    b"'",
    b"\"",
    b"`",
    b"\\",
    b"?",
    b"/*",
    b"*/",
    b"/*!",
    b"/*vt+ ",
    b"-- ",
    b"#",
    b"\n",
    b";",
    b" UNION ",
    b" JOIN ",
    b" ON ",
    b" GROUP BY ",
    b" ORDER BY ",
    b" LIMIT ",
    b" HAVING ",
    b"INSERT INTO ",
    b" VALUES ",
    b"UPDATE ",
    b" SET ",
    b"DELETE ",
    b"USE ",
    b"@@",
    b"@",
    b"0x",
    b"x'",
    b"b'",
    b"_utf8mb4",
    b"N'",
    b"-",
    b"1e",
    b".5",
    b"NULL",
    b"=",
    b"<=>",
    b"main.user",
    b"commerce.product",
    b"customer.user",
    b" id ",
    b"count(*)",
    b"\xe6\x97\xa5",
    b"\xff",
    b"\0",
];

const WIRE_WORDS: &[&[u8]] = &[
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\x00",
    b"\x01\x00\x00\x00",
    b"\xfc\xff\xff",
    b"\xfd\x00\x00\x01",
    b"\xfe",
    b"\xfb",
    b"\x03select 1",
    b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00",
    b"\x18\x01\x00\x00\x00",
    b"mysql_native_password\0",
    b"caching_sha2_password\0",
    b"client_ed25519\0",
    b"\x11",
    b"\x19",
    b"\x1a",
];

/// All targets.
pub const TARGETS: &[FuzzTarget] = &[
    FuzzTarget {
        name: "packet",
        run: protocol::client_commands,
        dictionary: WIRE_WORDS,
        max_len: 16 * 1024,
    },
    FuzzTarget {
        name: "handshake",
        run: protocol::handshake,
        dictionary: WIRE_WORDS,
        max_len: 4 * 1024,
    },
    FuzzTarget {
        name: "sql",
        run: sql_text::target,
        dictionary: SQL_WORDS,
        max_len: 64 * 1024,
    },
    FuzzTarget {
        name: "planner",
        run: planner::target,
        dictionary: SQL_WORDS,
        max_len: 16 * 1024,
    },
    FuzzTarget {
        name: "vschema",
        run: planner::vschema_json,
        dictionary: &[
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"sharded\": true",
            b"\"vindexes\"",
            b"\"tables\"",
            b"\"column_vindexes\"",
            b"\"type\": \"hash\"",
            b"\"type\": \"lookup_unique\"",
            b"\"params\"",
            b"\"owner\"",
            b"\"auto_increment\"",
            b"\"sequence\"",
            b"\"reference\"",
            b"\"pinned\"",
            b"\"columns\"",
            b":",
            b",",
            b"\"",
            b"null",
            b"1e400",
        ],
        max_len: 8 * 1024,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static FuzzTarget> {
    TARGETS.iter().find(|t| t.name == name)
}
