//! libFuzzer entry for the `handshake` target (see `shardgate::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardgate::fuzz::protocol::handshake(data));
