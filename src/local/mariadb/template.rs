//! The pristine template data directory (made once with `mariadb-install-db`) and per-server
//! copies of it (`cp -a`, ten times faster than initialising each server).

use super::{Binaries, MariadbError, ServerSettings, INNODB_LOG_FILE_SIZE_MB};
use std::path::{Path, PathBuf};
use std::process::Command;

/// File inside a finished template holding the `mariadbd --version` it was made with.
const MARKER: &str = "shardgate-template";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `--user=root` when running as root (mariadbd refuses root otherwise); nothing for other users.
pub(crate) fn user_args() -> Vec<String> {
    if is_root() {
        vec!["--user=root".to_string()]
    } else {
        Vec::new()
    }
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

fn template_is_current(dir: &Path, version: &str) -> bool {
    std::fs::read_to_string(dir.join(MARKER)).is_ok_and(|v| v.trim() == version)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Makes sure `dir` holds a template data directory for the installed MariaDB, creating it with
/// `mariadb-install-db` if it is missing or was made by another version. Safe against a
/// concurrent caller doing the same (build in a private directory, then rename into place).
pub fn ensure_template(bins: &Binaries, dir: &Path) -> Result<PathBuf, MariadbError> {
    let version = bins.version()?;
    if template_is_current(dir, &version) {
        return Ok(dir.to_path_buf());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| MariadbError::io(format!("creating {}", parent.display()), e))?;
    }
    let building = sibling(dir, &format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    // A private tmpdir: the bootstrap's temporary tables are named by pid in tmpdir, and two
    // bootstraps in different pid namespaces sharing /tmp collided ("Unknown table
    // 'mysql.tmp_user_sys'" when two `shardgate local` initialised at once).
    let tmpdir = sibling(dir, &format!(".tmpdir-{}", std::process::id()));
    std::fs::create_dir_all(&tmpdir)
        .map_err(|e| MariadbError::io(format!("creating {}", tmpdir.display()), e))?;
    let output = Command::new(&bins.install_db)
        .arg("--no-defaults")
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .arg("--skip-name-resolve")
        .arg(format!("--datadir={}", building.display()))
        .arg(format!("--tmpdir={}", tmpdir.display()))
        .arg(format!("--innodb-log-file-size={INNODB_LOG_FILE_SIZE_MB}M"))
        .args(user_args())
        .output()
        .map_err(|e| MariadbError::io(format!("running {}", bins.install_db.display()), e));
    let _ = std::fs::remove_dir_all(&tmpdir);
    let output = output?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&building);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        return Err(MariadbError::InstallDb {
            dir: dir.to_path_buf(),
            status: output.status.to_string(),
            output: tail(&text, 30),
        });
    }
    std::fs::write(building.join(MARKER), &version)
        .map_err(|e| MariadbError::io(format!("writing {}", building.join(MARKER).display()), e))?;
    if dir.exists() && !template_is_current(dir, &version) {
        // Stale template from another MariaDB version: move it away, then remove it.
        let old = sibling(dir, &format!(".old-{}", std::process::id()));
        if std::fs::rename(dir, &old).is_ok() {
            let _ = std::fs::remove_dir_all(&old);
        }
    }
    match std::fs::rename(&building, dir) {
        Ok(()) => Ok(dir.to_path_buf()),
        Err(_) if template_is_current(dir, &version) => {
            // Someone else finished first; theirs is as good as ours.
            let _ = std::fs::remove_dir_all(&building);
            Ok(dir.to_path_buf())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&building);
            Err(MariadbError::io(
                format!("moving the new template into {}", dir.display()),
                e,
            ))
        }
    }
}

/// Creates the server directory and, unless `DIR/data` already exists (a reused server),
/// copies the template into it. Returns whether the data directory is new.
pub fn prepare_data_dir(template: &Path, settings: &ServerSettings) -> Result<bool, MariadbError> {
    for dir in [&settings.dir, &settings.tmp_dir()] {
        std::fs::create_dir_all(dir)
            .map_err(|e| MariadbError::io(format!("creating {}", dir.display()), e))?;
    }
    let data = settings.data_dir();
    if data.exists() {
        return Ok(false);
    }
    // Copy to a temporary name first so an interrupted copy is never mistaken for a data dir.
    let partial = sibling(&data, ".partial");
    let _ = std::fs::remove_dir_all(&partial);
    let status = Command::new("cp")
        .arg("-a")
        .arg(template)
        .arg(&partial)
        .status()
        .map_err(|e| MariadbError::io("running cp", e))?;
    if !status.success() {
        return Err(MariadbError::io(
            format!("cp -a {} {}", template.display(), partial.display()),
            std::io::Error::other(status.to_string()),
        ));
    }
    let _ = std::fs::remove_file(partial.join(MARKER));
    std::fs::rename(&partial, &data)
        .map_err(|e| MariadbError::io(format!("renaming {}", partial.display()), e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_names() {
        assert_eq!(
            sibling(Path::new("/a/template"), ".tmp-1"),
            Path::new("/a/template.tmp-1")
        );
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
