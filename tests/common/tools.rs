//! Running the real client tools the tests drive (`mariadb`, `python3` with PyMySQL and
//! mysql-connector-python): one runner with a deadline, so a hung client fails its test
//! instead of stalling the suite.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Runs `cmd` to its end (feeding `stdin` when given), within `limit`: (success, stdout,
/// stderr). A tool that cannot start fails the test: `scripts/test` installs every one.
pub async fn run_tool(
    cmd: &mut Command,
    stdin: Option<&str>,
    limit: Duration,
) -> (bool, String, String) {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (scripts/test installs the clients)"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).await.expect("stdin");
        drop(pipe);
    }
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .expect("client timed out")
        .expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `mariadb` client in batch mode with `args`: (success, stdout, stderr).
pub async fn mariadb(args: &[&str]) -> (bool, String, String) {
    run_tool(
        Command::new("mariadb").args(args),
        None,
        Duration::from_secs(120),
    )
    .await
}
