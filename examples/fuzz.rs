//! The stable-Rust fuzz runner for the targets of `shardgate::fuzz` (use `bench/fuzz`).
//!
//! ```text
//! fuzz <target|all> [--seconds N] [--seed S] [--out DIR]
//! ```
//!
//! For each target, a supervisor process runs a worker (this program again) that loops until
//! the time is up: a fresh random input or a havoc mutation of the corpus (the kept seeds in
//! `fuzz/corpus/<target>/`, the regressions in `fuzz/regressions/<target>/`, and every input
//! that reached new code), run on a thread with a 2 MiB stack as the server's runtime threads
//! have. When the build has sanitizer-coverage 8-bit counters (`bench/fuzz` builds it so),
//! inputs that reach new code join the corpus; otherwise the loop is blind.
//!
//! Failures go to `<out>/<target>/`: a panic (caught) to `crash-<hash>` with the message in
//! `crash-<hash>.txt`; an input that runs longer than 10 s, allocates more than 1 GiB live, or
//! kills the process (stack overflow, abort) is taken from a memory-mapped file the worker
//! writes each input to, and saved by the supervisor the same way. Inputs slower than 1 s
//! are kept as `slow-<hash>`. `summary.txt` gives executions, time, corpus size, failures.

use shardgate::fuzz::runner::{self, input_name, Mutator};
use shardgate::fuzz::{self, FuzzTarget};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

// ---- memory accounting -------------------------------------------------------------------

/// Live bytes past which an input counts as allocating without bound.
const MEMORY_LIMIT: usize = 1 << 30;
/// A run longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A run longer than this is kept as slow.
const SLOW: Duration = Duration::from_secs(1);

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > MEMORY_LIMIT {
            die(b"memory: more than 1 GiB live");
        }
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let grow = new_size - layout.size();
            if LIVE.fetch_add(grow, Ordering::Relaxed) + grow > MEMORY_LIMIT {
                die(b"memory: more than 1 GiB live");
            }
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---- the input in flight, in a shared file that outlives a crash ----------------------------

/// Layout: `[0..4)` 1 while an input runs, `[4..8)` its length, `[8..136)` a reason
/// (NUL-terminated), `[256..)` the input.
const SHM_SIZE: usize = 256 + 128 * 1024;
const SHM_DATA: usize = 256;

static SHM: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

fn map_shared(path: &Path) -> *mut u8 {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .expect("open the in-flight file");
    f.set_len(SHM_SIZE as u64).expect("size the in-flight file");
    // SAFETY: a fresh shared mapping of a file we sized; it stays mapped for the process.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SHM_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        )
    };
    assert!(p != libc::MAP_FAILED, "mmap the in-flight file");
    p.cast()
}

fn shm() -> Option<&'static mut [u8]> {
    let p = SHM.load(Ordering::Relaxed);
    // SAFETY: set once to a mapping of SHM_SIZE bytes that is never unmapped; only the
    // worker's fuzzing thread writes the input, the reason is written right before exiting.
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts_mut(p, SHM_SIZE) })
}

fn shm_begin(input: &[u8]) {
    if let Some(m) = shm() {
        let n = input.len().min(SHM_SIZE - SHM_DATA);
        m[SHM_DATA..SHM_DATA + n].copy_from_slice(&input[..n]);
        m[4..8].copy_from_slice(&(n as u32).to_le_bytes());
        m[0..4].copy_from_slice(&1u32.to_le_bytes());
    }
}

fn shm_end() {
    if let Some(m) = shm() {
        m[0..4].copy_from_slice(&0u32.to_le_bytes());
    }
}

/// Records `reason` for the input in flight and aborts (no allocation: may run inside the
/// allocator).
fn die(reason: &[u8]) -> ! {
    if let Some(m) = shm() {
        let n = reason.len().min(127);
        m[8..8 + n].copy_from_slice(&reason[..n]);
        m[8 + n] = 0;
    }
    std::process::abort()
}

// ---- coverage ------------------------------------------------------------------------------

/// The 8-bit counter arrays of every instrumented module (registered before `main`).
static COUNTERS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// Called by every module built with `-Cllvm-args=-sanitizer-coverage-inline-8bit-counters`.
#[no_mangle]
pub extern "C" fn __sanitizer_cov_8bit_counters_init(start: *mut u8, end: *mut u8) {
    if let Ok(mut c) = COUNTERS.lock() {
        if start < end {
            c.push((start as usize, end as usize - start as usize));
        }
    }
}

/// Which (counter, hit-count bucket) pairs were ever seen.
struct Coverage {
    regions: Vec<(usize, usize)>,
    seen: Vec<Vec<u8>>,
}

fn bucket(hits: u8) -> u8 {
    match hits {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4..=7 => 8,
        8..=15 => 16,
        16..=31 => 32,
        32..=127 => 64,
        _ => 128,
    }
}

impl Coverage {
    fn new() -> Coverage {
        let regions = COUNTERS.lock().map(|c| c.clone()).unwrap_or_default();
        let seen = regions.iter().map(|&(_, n)| vec![0u8; n]).collect();
        Coverage { regions, seen }
    }

    fn counters(&self) -> usize {
        self.regions.iter().map(|r| r.1).sum()
    }

    fn reset(&self) {
        for &(p, n) in &self.regions {
            // SAFETY: the counter arrays live in the binary's data for the whole run.
            unsafe { std::ptr::write_bytes(p as *mut u8, 0, n) };
        }
    }

    /// Whether the last run hit something new; clears the counters.
    fn take_new(&mut self) -> bool {
        let mut new = false;
        for (k, &(p, n)) in self.regions.iter().enumerate() {
            // SAFETY: as in `reset`; the fuzzing thread is the only one running target code.
            let hits = unsafe { std::slice::from_raw_parts_mut(p as *mut u8, n) };
            let seen = &mut self.seen[k];
            for (chunk_i, chunk) in hits.chunks_mut(8).enumerate() {
                if chunk.iter().all(|&b| b == 0) {
                    continue;
                }
                for (j, h) in chunk.iter_mut().enumerate() {
                    if *h != 0 {
                        let b = bucket(*h);
                        let s = &mut seen[chunk_i * 8 + j];
                        if *s & b == 0 {
                            *s |= b;
                            new = true;
                        }
                        *h = 0;
                    }
                }
            }
        }
        new
    }
}

// ---- the worker ------------------------------------------------------------------------------

static RUN_STARTED_MS: AtomicU64 = AtomicU64::new(0);

fn now_ms(origin: Instant) -> u64 {
    origin.elapsed().as_millis() as u64 + 1
}

struct Stats {
    execs: u64,
    corpus: usize,
    crashes: usize,
    slow: usize,
    counters: usize,
}

fn save(dir: &Path, prefix: &str, input: &[u8], why: &str) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{prefix}-{}", input_name(input)));
    let _ = std::fs::write(&path, input);
    let _ = std::fs::write(path.with_extension("txt"), why);
    path
}

fn worker(target: &'static FuzzTarget, seconds: u64, seed: u64, out: &Path) -> Stats {
    runner::install_quiet_panic_hook();
    let origin = Instant::now();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        let started = RUN_STARTED_MS.load(Ordering::Relaxed);
        if started != 0 && now_ms(origin).saturating_sub(started) > TIMEOUT.as_millis() as u64 {
            die(b"timeout: one input ran longer than 10 s");
        }
    });
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    for dir in ["fuzz/corpus", "fuzz/regressions"] {
        corpus.extend(
            runner::load_dir(&Path::new(dir).join(target.name))
                .into_iter()
                .map(|(_, d)| d),
        );
    }
    corpus.extend(
        runner::load_dir(&out.join("queue"))
            .into_iter()
            .map(|(_, d)| d),
    );
    // Inputs that already killed a worker are not run again (their fix may be pending).
    let known: Vec<String> = std::fs::read_dir(out)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.strip_prefix("crash-")
                        .map(|h| h.trim_end_matches(".txt").to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    corpus.retain(|c| !known.contains(&input_name(c)));
    let mut cov = Coverage::new();
    cov.reset();
    let mut m = Mutator::new(target, seed);
    let mut stats = Stats {
        execs: 0,
        corpus: corpus.len(),
        crashes: 0,
        slow: 0,
        counters: cov.counters(),
    };
    let deadline = origin + Duration::from_secs(seconds);
    let mut last_report = Instant::now();
    let mut kept = 0usize;
    // The kept corpus first, unmutated, so its coverage is known.
    let mut pending: Vec<Vec<u8>> = corpus.clone();
    while Instant::now() < deadline {
        let input = match pending.pop() {
            Some(i) => i,
            None if corpus.is_empty() || m.rng.one_in(10) => m.fresh(),
            None => {
                let base = &corpus[m.rng.below(corpus.len())];
                let other = &corpus[m.rng.below(corpus.len())];
                m.mutate(base, Some(other))
            }
        };
        shm_begin(&input);
        let t0 = Instant::now();
        RUN_STARTED_MS.store(now_ms(origin), Ordering::Relaxed);
        let result = runner::run_one(target, &input);
        RUN_STARTED_MS.store(0, Ordering::Relaxed);
        let took = t0.elapsed();
        shm_end();
        stats.execs += 1;
        if let Err(msg) = result {
            stats.crashes += 1;
            let p = save(out, "crash", &input, &format!("panic: {msg}\n"));
            eprintln!("[{}] CRASH {}: {msg}", target.name, p.display());
        }
        if took > SLOW {
            stats.slow += 1;
            save(out, "slow", &input, &format!("took {took:?}\n"));
        }
        if cov.take_new() && corpus.len() < 20_000 {
            kept += 1;
            let _ = std::fs::create_dir_all(out.join("queue"));
            let _ = std::fs::write(out.join("queue").join(input_name(&input)), &input);
            corpus.push(input);
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            eprintln!(
                "[{}] {:>5}s execs {} ({}/s) corpus {} (+{kept}) crashes {} slow {}",
                target.name,
                origin.elapsed().as_secs(),
                stats.execs,
                stats.execs / origin.elapsed().as_secs().max(1),
                corpus.len(),
                stats.crashes,
                stats.slow
            );
        }
    }
    stats.corpus = corpus.len();
    stats
}

// ---- the supervisor --------------------------------------------------------------------------

fn supervise(target: &'static FuzzTarget, seconds: u64, seed: u64, out_root: &Path) {
    let out = out_root.join(target.name);
    std::fs::create_dir_all(&out).expect("create the output folder");
    let shm_path = out.join(".in-flight");
    let me = std::env::current_exe().expect("own path");
    let start = Instant::now();
    let (mut execs, mut crashes, mut slow, mut restarts) = (0u64, 0usize, 0usize, 0usize);
    let (mut corpus, mut counters) = (0usize, 0usize);
    let mut worker_seed = seed;
    while start.elapsed() < Duration::from_secs(seconds) {
        let left = seconds.saturating_sub(start.elapsed().as_secs()).max(1);
        let _ = std::fs::remove_file(&shm_path);
        let output = Command::new(&me)
            .args(["--worker", target.name])
            .args(["--seconds", &left.to_string()])
            .args(["--seed", &worker_seed.to_string()])
            .arg("--out")
            .arg(out_root)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run the worker");
        let text = String::from_utf8_lossy(&output.stdout);
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("STATS ") {
                let v: Vec<usize> = rest.split(' ').filter_map(|x| x.parse().ok()).collect();
                if let [e, c, cr, sl, cn] = v[..] {
                    execs += e as u64;
                    corpus = c;
                    crashes += cr;
                    slow += sl;
                    counters = cn;
                }
            }
        }
        if !output.status.success() {
            restarts += 1;
            crashes += 1;
            let m = map_shared(&shm_path);
            // SAFETY: a mapping of SHM_SIZE bytes, read only here.
            let m = unsafe { std::slice::from_raw_parts(m, SHM_SIZE) };
            let len = u32::from_le_bytes([m[4], m[5], m[6], m[7]]) as usize;
            let reason_end = m[8..136].iter().position(|&b| b == 0).unwrap_or(128);
            let reason = String::from_utf8_lossy(&m[8..8 + reason_end]).into_owned();
            let input = &m[SHM_DATA..SHM_DATA + len.min(SHM_SIZE - SHM_DATA)];
            let why = format!(
                "worker died ({}): {}\n",
                output.status,
                if reason.is_empty() {
                    "signal or abort (stack overflow?)"
                } else {
                    &reason
                }
            );
            let p = save(&out, "crash", input, &why);
            eprintln!("[{}] CRASH {}: {}", target.name, p.display(), why.trim());
            // Its execs are lost with it; a new seed moves on.
        }
        worker_seed = worker_seed.wrapping_add(0x1000_0001);
    }
    let summary = format!(
        "target {}\nseconds {}\nexecutions {execs}\nexecutions/s {}\ncorpus {corpus}\n\
         coverage counters {counters}\ncrashes {crashes}\nworker restarts {restarts}\nslow {slow}\n",
        target.name,
        start.elapsed().as_secs(),
        execs / start.elapsed().as_secs().max(1),
    );
    let _ = std::fs::write(out.join("summary.txt"), &summary);
    println!("{summary}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = 60u64;
    let mut seed = 1u64;
    let mut out = PathBuf::from("target/fuzz-out");
    let mut worker_mode = false;
    let mut names = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().unwrap_or_else(|| panic!("{what} needs a value"));
        match arg.as_str() {
            "--seconds" => seconds = value("--seconds").parse().expect("--seconds N"),
            "--seed" => seed = value("--seed").parse().expect("--seed N"),
            "--out" => out = PathBuf::from(value("--out")),
            "--worker" => worker_mode = true,
            "-h" | "--help" => {
                println!("fuzz <target|all> [--seconds N] [--seed S] [--out DIR]");
                println!(
                    "targets: {}",
                    fuzz::TARGETS
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                return;
            }
            name => names.push(name.to_string()),
        }
    }
    let targets: Vec<&'static FuzzTarget> = if names.iter().any(|n| n == "all") {
        fuzz::TARGETS.iter().collect()
    } else {
        names
            .iter()
            .map(|n| fuzz::target(n).unwrap_or_else(|| panic!("unknown target {n}")))
            .collect()
    };
    if worker_mode {
        let target = targets[0];
        let dir = out.join(target.name);
        std::fs::create_dir_all(&dir).expect("output folder");
        SHM.store(map_shared(&dir.join(".in-flight")), Ordering::Relaxed);
        let s = std::thread::Builder::new()
            .name("fuzz".into())
            .stack_size(2 << 20)
            .spawn(move || worker(target, seconds, seed, &dir))
            .expect("spawn the fuzzing thread")
            .join()
            .expect("fuzzing thread");
        println!(
            "STATS {} {} {} {} {}",
            s.execs, s.corpus, s.crashes, s.slow, s.counters
        );
        return;
    }
    for t in targets {
        supervise(t, seconds, seed, &out);
    }
}
