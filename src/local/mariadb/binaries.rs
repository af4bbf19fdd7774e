//! Locating `mariadbd` and `mariadb-install-db` on this machine.

use super::MariadbError;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// How to install MariaDB, quoted in every "not found" message.
pub const INSTALL_HINT: &str =
    "Install MariaDB with `apt-get install -y mariadb-server mariadb-client` \
     (as root, or with sudo); scripts/demo and scripts/test do that for you.";

/// Directories searched after `PATH` (Debian puts mariadbd in /usr/sbin, often not in a user's PATH).
const EXTRA_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

/// The MariaDB programs this module runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The server, `mariadbd`.
    pub mariadbd: PathBuf,
    /// The data-directory initialiser, `mariadb-install-db`.
    pub install_db: PathBuf,
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds `program` in `PATH`, then in /usr/sbin, /usr/bin and /usr/local.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

/// Finds both programs, or says how to install them.
pub fn find_binaries() -> Result<Binaries, MariadbError> {
    let mariadbd = find_program("mariadbd").ok_or(MariadbError::NotFound {
        program: "mariadbd",
    })?;
    let install_db = find_program("mariadb-install-db").ok_or(MariadbError::NotFound {
        program: "mariadb-install-db",
    })?;
    Ok(Binaries {
        mariadbd,
        install_db,
    })
}

impl Binaries {
    /// `mariadbd --version`, used to tell whether a cached template still matches the server.
    pub fn version(&self) -> Result<String, MariadbError> {
        let out = std::process::Command::new(&self.mariadbd)
            .arg("--version")
            .output()
            .map_err(|e| {
                MariadbError::io(format!("running {} --version", self.mariadbd.display()), e)
            })?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh_and_not_nonsense() {
        assert!(find_program("sh").is_some());
        assert!(find_program("no-such-program-shardgate").is_none());
    }

    #[test]
    fn not_found_message_says_how_to_install() {
        let msg = MariadbError::NotFound {
            program: "mariadbd",
        }
        .to_string();
        assert!(
            msg.contains("apt-get install -y mariadb-server mariadb-client"),
            "{msg}"
        );
        assert!(msg.contains("scripts/demo"), "{msg}");
    }
}
