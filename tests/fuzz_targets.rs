//! The fuzz targets of `shardgate::fuzz` in CI: each runs over its kept corpus
//! (`fuzz/corpus/<target>/`), every regression input found by fuzzing
//! (`fuzz/regressions/<target>/`, one file per crash that was fixed), and a few thousand
//! seeded random and mutated inputs. Any panic fails the test with the input's file name or
//! seed and the panic message. Long runs: `bench/fuzz`.

use shardgate::fuzz::runner::{self, Mutator};
use shardgate::fuzz::{self, FuzzTarget};
use std::path::Path;

/// Runs `name` over its files and `random` generated inputs (at most `max_len` bytes each), on
/// a thread with a 32 MiB stack: this is a debug build, whose frames are many times larger
/// than the release build's (sqlparser's join parsing takes ~60 KB a level here), while
/// `bench/fuzz` runs an optimized build on the server's 2 MiB.
fn check(name: &'static str, random: usize, max_len: usize) {
    std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || check_on_this_thread(name, random, max_len))
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn check_on_this_thread(name: &str, random: usize, max_len: usize) {
    runner::install_quiet_panic_hook();
    let target: &FuzzTarget = fuzz::target(name).expect("target");
    let mut failures = Vec::new();
    let mut files = Vec::new();
    for dir in ["fuzz/corpus", "fuzz/regressions"] {
        files.extend(
            runner::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name))
                .into_iter()
                .filter(|(f, _)| !f.ends_with(".txt"))
                .map(|(f, d)| (format!("{dir}/{name}/{f}"), d)),
        );
    }
    for (file, data) in &files {
        if let Err(msg) = runner::run_one(target, data) {
            failures.push(format!("{file}: {msg}"));
        }
    }
    let mut m = Mutator::new(target, 0x5eed_0016).with_max_len(max_len);
    let corpus: Vec<&[u8]> = files.iter().map(|(_, d)| d.as_slice()).collect();
    for i in 0..random {
        let input = if corpus.is_empty() || i % 4 == 0 {
            m.fresh()
        } else {
            let base = corpus[m.rng.below(corpus.len())];
            let other = corpus[m.rng.below(corpus.len())];
            m.mutate(base, Some(other))
        };
        if let Err(msg) = runner::run_one(target, &input) {
            failures.push(format!("generated input {i} {input:?}: {msg}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} failing inputs:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(!files.is_empty(), "{name} has no corpus");
}

#[test]
fn packet_decoder_and_commands() {
    check("packet", 3000, 4096);
}

#[test]
fn handshake_and_auth() {
    check("handshake", 3000, 2048);
}

#[test]
fn sql_tokenizer_parameterizer_bounds() {
    check("sql", 2000, 2048);
}

#[test]
fn planner_against_example_vschema() {
    check("planner", 2000, 2048);
}

#[test]
fn vschema_loader() {
    check("vschema", 1500, 4096);
}
