//! Failure injection for tests: a step named `point` fails when the environment variable
//! `SHARDGATE_FAILPOINT_<point>` holds the database name of the workflow's state shard.
//!
//! Keyed by that database (each test has its own), so tests of one process that run in
//! parallel never trip each other's failpoints. Unset in production: one `getenv` per
//! workflow step, nothing else.

/// Whether the failpoint `point` is armed for the state shard database `scope`.
pub(crate) fn hit(point: &str, scope: &str) -> bool {
    std::env::var(format!("SHARDGATE_FAILPOINT_{point}")).is_ok_and(|v| v == scope)
}

/// The message of the error an armed failpoint raises.
pub(crate) fn message(point: &str) -> String {
    format!("failpoint {point} hit (test injection)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn armed_only_for_its_scope() {
        assert!(!super::hit("unit_test_point_never_set", "db"));
        std::env::set_var("SHARDGATE_FAILPOINT_unit_test_point", "t1_lookup");
        assert!(super::hit("unit_test_point", "t1_lookup"));
        assert!(!super::hit("unit_test_point", "t2_lookup"));
        std::env::remove_var("SHARDGATE_FAILPOINT_unit_test_point");
    }
}
