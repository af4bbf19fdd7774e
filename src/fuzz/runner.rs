//! The mutation loop's pieces shared by the `fuzz` example and the CI test: a seeded random
//! generator, a havoc-style byte mutator with a per-target dictionary, running one input with
//! its panic caught, and corpus folders.

use super::FuzzTarget;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Mutex, Once};

/// xorshift64*: small, seeded, reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

const INTERESTING: &[u64] = &[
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    0xFF_FFFF,
    0x100_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    u64::MAX,
    250,
    251,
    252,
    253,
    254,
];

/// Builds inputs: fresh random ones and havoc mutations of corpus entries.
pub struct Mutator {
    /// The generator (seeded by the caller).
    pub rng: Rng,
    dictionary: &'static [&'static [u8]],
    max_len: usize,
}

impl Mutator {
    /// A mutator for `target`'s inputs.
    pub fn new(target: &FuzzTarget, seed: u64) -> Mutator {
        Mutator {
            rng: Rng::new(seed),
            dictionary: target.dictionary,
            max_len: target.max_len,
        }
    }

    /// The same mutator building inputs of at most `max_len` bytes.
    pub fn with_max_len(mut self, max_len: usize) -> Mutator {
        self.max_len = max_len;
        self
    }

    /// Random bytes, or random dictionary tokens, of a random (mostly short) length.
    pub fn fresh(&mut self) -> Vec<u8> {
        let len = match self.rng.below(4) {
            0 => self.rng.below(16),
            1 | 2 => self.rng.below(256),
            _ => self.rng.below(self.max_len + 1),
        };
        let mut out = Vec::with_capacity(len);
        let words = self.rng.one_in(2) && !self.dictionary.is_empty();
        while out.len() < len {
            if words && !self.rng.one_in(4) {
                out.extend_from_slice(self.dictionary[self.rng.below(self.dictionary.len())]);
            } else {
                out.push(self.rng.next_u64() as u8);
            }
        }
        out.truncate(self.max_len);
        out
    }

    /// A mutation of `base`: one to eight havoc steps, sometimes a splice with `other`.
    pub fn mutate(&mut self, base: &[u8], other: Option<&[u8]>) -> Vec<u8> {
        let mut v = base.to_vec();
        let steps = 1 + self.rng.below(8);
        for _ in 0..steps {
            self.step(&mut v, other);
        }
        v.truncate(self.max_len);
        v
    }

    fn step(&mut self, v: &mut Vec<u8>, other: Option<&[u8]>) {
        let len = v.len();
        match self.rng.below(12) {
            0 if len > 0 => {
                let i = self.rng.below(len);
                v[i] ^= 1 << self.rng.below(8);
            }
            1 if len > 0 => {
                let i = self.rng.below(len);
                v[i] = self.rng.next_u64() as u8;
            }
            2 if len > 0 => {
                // Delete a range.
                let i = self.rng.below(len);
                let n = 1 + self.rng.below((len - i).min(64));
                v.drain(i..i + n);
            }
            3 => {
                // Insert random bytes.
                let i = self.rng.below(len + 1);
                let n = 1 + self.rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.next_u64() as u8).collect();
                v.splice(i..i, bytes);
            }
            4 | 5 if !self.dictionary.is_empty() => {
                let w = self.dictionary[self.rng.below(self.dictionary.len())];
                let i = self.rng.below(len + 1);
                v.splice(i..i, w.iter().copied());
            }
            6 if len > 0 => {
                // Repeat a chunk many times: long lists, deep nesting, long chains.
                let i = self.rng.below(len);
                let n = 1 + self.rng.below((len - i).min(32));
                let times = 1 << self.rng.below(12);
                let chunk = v[i..i + n].to_vec();
                let room = self.max_len.saturating_sub(len) / n;
                let times = times.min(room);
                let at = i + n;
                v.splice(at..at, chunk.iter().copied().cycle().take(n * times));
            }
            7 if len > 0 => {
                // Overwrite with an interesting integer (1, 2, 4 or 8 bytes, little endian).
                let width = 1 << self.rng.below(4);
                let i = self.rng.below(len);
                let x = INTERESTING[self.rng.below(INTERESTING.len())];
                for (k, b) in x.to_le_bytes().iter().take(width).enumerate() {
                    if let Some(slot) = v.get_mut(i + k) {
                        *slot = *b;
                    }
                }
            }
            8 if len > 0 => {
                // Add to a byte.
                let i = self.rng.below(len);
                v[i] = v[i].wrapping_add((self.rng.below(70) as u8).wrapping_sub(35));
            }
            9 if len > 1 => {
                // Copy a range over another place.
                let a = self.rng.below(len);
                let b = self.rng.below(len);
                let n = 1 + self.rng.below((len - a.max(b)).min(64));
                let chunk = v[a..a + n].to_vec();
                v[b..b + n].copy_from_slice(&chunk);
            }
            10 => {
                if let Some(o) = other.filter(|o| !o.is_empty()) {
                    // Splice: a prefix of this one with a suffix of the other.
                    let cut = self.rng.below(len + 1);
                    let from = self.rng.below(o.len());
                    v.truncate(cut);
                    v.extend_from_slice(&o[from..]);
                }
            }
            _ if len > 0 => {
                // Truncate.
                let n = self.rng.below(len);
                v.truncate(n);
            }
            _ => v.push(self.rng.next_u64() as u8),
        }
    }
}

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);
static QUIET_HOOK: Once = Once::new();

thread_local! {
    static IN_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the panic hook (once per process): a panic inside [`run_one`] has its message and
/// location recorded for it instead of printed; others go to the previous hook.
pub fn install_quiet_panic_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_TARGET.with(|t| t.get()) {
                return previous(info);
            }
            let msg = match info.payload().downcast_ref::<&str>() {
                Some(s) => (*s).to_string(),
                None => info
                    .payload()
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "panic".into()),
            };
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if let Ok(mut m) = PANIC_MESSAGE.lock() {
                *m = Some(format!("{msg} at {at}"));
            }
        }));
    });
}

/// Runs `target` on `input`; `Err` with the panic message (and location, once
/// [`install_quiet_panic_hook`] ran) when it panicked.
pub fn run_one(target: &FuzzTarget, input: &[u8]) -> Result<(), String> {
    IN_TARGET.with(|t| t.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    IN_TARGET.with(|t| t.set(false));
    match result {
        Ok(()) => Ok(()),
        Err(_) => Err(PANIC_MESSAGE
            .lock()
            .ok()
            .and_then(|mut m| m.take())
            .unwrap_or_else(|| "panic".into())),
    }
}

/// The files of `dir` (sorted by name, so runs are reproducible); empty when it is missing.
pub fn load_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .flatten()
        .filter(|e| e.path().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let data = std::fs::read(e.path()).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), data))
        })
        .collect();
    files.sort();
    files
}

/// A name for an input: its 64-bit hash in hex.
pub fn input_name(input: &[u8]) -> String {
    format!("{:016x}", crate::sql::hash64(input))
}
