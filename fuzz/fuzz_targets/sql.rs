//! libFuzzer entry for the `sql` target (see `shardgate::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardgate::fuzz::sql_text::target(data));
