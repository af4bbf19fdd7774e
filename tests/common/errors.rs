//! Assertions on the MySQL error a statement through the proxy must fail with.

/// Panics unless `result` is the server error `code` (e.g. 1062 for a taken unique value);
/// `what` names the statement in the message.
pub fn expect_error<T: std::fmt::Debug>(
    result: Result<T, mysql_async::Error>,
    code: u16,
    what: &str,
) {
    match result {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, code, "{what}: expected {code}, got {e}")
        }
        other => panic!("{what}: expected error {code}, got {other:?}"),
    }
}
