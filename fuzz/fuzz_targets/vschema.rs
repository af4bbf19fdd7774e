//! libFuzzer entry for the `vschema` target (see `shardgate::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardgate::fuzz::planner::vschema_json(data));
