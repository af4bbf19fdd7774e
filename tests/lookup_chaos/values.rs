//! The value spaces the workload draws from (small, so inserts collide on primary keys and on
//! unique lookups), the users set up before the workload and never touched by it (the owners
//! of the phones `user_extra` uses unowned), and SQL literals for both sql_modes.

use rand::rngs::StdRng;
use rand::Rng;

/// Volatile user ids `1..=ID_SPACE`; every user UPDATE/DELETE stays inside them.
pub(crate) const ID_SPACE: i64 = 300;
/// Volatile phones `PHONE_BASE + 1..=PHONE_SPACE`.
pub(crate) const PHONE_BASE: i64 = 5_550_000;
/// How many volatile phones.
pub(crate) const PHONE_SPACE: i64 = 200;
/// Stable users: ids `STABLE_ID + i`, phones `STABLE_PHONE + i`, `i` in `1..=STABLE_USERS`;
/// created before the workload, never changed by it.
pub(crate) const STABLE_ID: i64 = 1_000_000;
/// See [`STABLE_ID`].
pub(crate) const STABLE_PHONE: i64 = 7_770_000;
/// See [`STABLE_ID`].
pub(crate) const STABLE_USERS: i64 = 24;
/// Order ids `1..=ORDER_SPACE`, customers `1..=CUSTOMERS`.
pub(crate) const ORDER_SPACE: i64 = 400;
/// See [`ORDER_SPACE`].
pub(crate) const CUSTOMERS: i64 = 15;
/// `user_extra` ids `1..=XID_SPACE`.
pub(crate) const XID_SPACE: i64 = 300;

const NAMES: [&str; 8] = [
    "alice", "Alice", "bob", "BOB", "carol", "dave", "eve", "frank",
];
/// Strings that only a correct quoting survives: quotes, backslashes, an injection attempt.
const TRICKY: [&str; 5] = [
    "o'brien",
    "back\\slash",
    "x' OR 1=1 -- ",
    "q\\' OR id > 0 -- ",
    "50%_off\"",
];

/// How a client writes literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mode {
    /// The connection runs with `sql_mode = NO_BACKSLASH_ESCAPES`.
    pub(crate) no_backslash_escapes: bool,
    /// Tricky strings are allowed (always in the default mode; under NO_BACKSLASH_ESCAPES only
    /// with the item-2 switch on).
    pub(crate) tricky: bool,
}

impl Mode {
    /// A string literal, correct under this connection's sql_mode.
    pub(crate) fn lit(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('\'');
        for ch in s.chars() {
            match ch {
                '\'' => out.push_str("''"),
                '\\' if !self.no_backslash_escapes => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }

    /// [`Mode::lit`] of an optional string (`NULL`).
    pub(crate) fn opt(&self, s: &Option<String>) -> String {
        s.as_deref().map_or_else(|| "NULL".into(), |s| self.lit(s))
    }

    /// A name from the pool (mixed case; sometimes tricky).
    pub(crate) fn name(&self, rng: &mut StdRng) -> String {
        if self.tricky && rng.gen_bool(0.12) {
            TRICKY[rng.gen_range(0..TRICKY.len())].to_string()
        } else {
            NAMES[rng.gen_range(0..NAMES.len())].to_string()
        }
    }

    /// `name = 'x'`: a predicate routed by `name_user_vdx` (a prefix of its columns).
    pub(crate) fn name_pred(&self, rng: &mut StdRng) -> String {
        format!("name = {}", self.lit(&self.name(rng)))
    }

    /// An email or NULL (case variants of one address are equal to the unique vindex).
    pub(crate) fn email(&self, rng: &mut StdRng) -> Option<String> {
        match rng.gen_range(0..100) {
            0..=14 => None,
            15..=19 if self.tricky => Some(format!("{}@t", TRICKY[rng.gen_range(0..TRICKY.len())])),
            20..=29 => Some(format!("E{}@X.io", rng.gen_range(0..150))),
            _ => Some(format!("e{}@x.io", rng.gen_range(0..150))),
        }
    }
}

/// A volatile phone or NULL; now and then a stable user's phone (must be refused: taken).
pub(crate) fn phone(rng: &mut StdRng) -> Option<i64> {
    match rng.gen_range(0..100) {
        0..=11 => None,
        12..=13 => Some(STABLE_PHONE + rng.gen_range(1..=STABLE_USERS)),
        _ => Some(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE)),
    }
}

/// A volatile phone (for WHERE).
pub(crate) fn some_phone(rng: &mut StdRng) -> i64 {
    PHONE_BASE + rng.gen_range(1..=PHONE_SPACE)
}

/// A volatile user id.
pub(crate) fn user_id(rng: &mut StdRng) -> i64 {
    rng.gen_range(1..=ID_SPACE)
}

/// The nick of user `id`: with the item-4 switch a shared pool (so owner rows already hold
/// duplicates when the unique vindex is created), else a value of that user's own.
pub(crate) fn nick(rng: &mut StdRng, id: i64, shared_pool: bool) -> Option<String> {
    if rng.gen_bool(0.1) {
        None
    } else if shared_pool {
        Some(format!("nick{}", rng.gen_range(0..40)))
    } else {
        Some(format!("n{id}{}", ["", "b", "C"][rng.gen_range(0..3)]))
    }
}

/// A sku of order `order_id`: with the item-1 switch a pool shared by every order (so orders
/// of one customer collide), else values of that order's own.
pub(crate) fn sku(rng: &mut StdRng, order_id: i64, shared_pool: bool) -> Option<String> {
    if rng.gen_bool(0.08) {
        None
    } else if shared_pool {
        let k = rng.gen_range(0..40);
        Some(if rng.gen_bool(0.2) {
            format!("sku-{k}")
        } else {
            format!("SKU-{k}")
        })
    } else {
        Some(format!("s{order_id}-{}", rng.gen_range(0..3)))
    }
}

/// A `(region, slot)` of order `order_id` (same sharing rule as [`sku`]).
pub(crate) fn region_slot(rng: &mut StdRng, order_id: i64, shared_pool: bool) -> (i64, i64) {
    let region = rng.gen_range(1..=3);
    if shared_pool {
        (region, rng.gen_range(1..=25))
    } else {
        (region, order_id * 10 + rng.gen_range(0..3))
    }
}

#[test]
fn literals_survive_both_modes() {
    let d = Mode {
        no_backslash_escapes: false,
        tricky: true,
    };
    let n = Mode {
        no_backslash_escapes: true,
        tricky: true,
    };
    assert_eq!(d.lit("o'b\\x"), "'o''b\\\\x'");
    assert_eq!(n.lit("o'b\\x"), "'o''b\\x'");
}
