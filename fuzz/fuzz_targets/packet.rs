//! libFuzzer entry for the `packet` target (see `shardgate::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardgate::fuzz::protocol::client_commands(data));
