//! libFuzzer entry for the `planner` target (see `shardgate::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardgate::fuzz::planner::target(data));
