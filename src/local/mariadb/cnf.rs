//! Per-server settings and the `my.cnf` rendered from them.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Redo log size used both for the template and every server (small dirs, quick copies).
pub const INNODB_LOG_FILE_SIZE_MB: u32 = 16;

/// Unix socket paths must fit in `sockaddr_un.sun_path` (108 bytes on Linux).
const MAX_SOCKET_PATH: usize = 100;

/// `dir/name`, or a name in the temp dir derived from both when that path is too long for a
/// socket address: for the servers' sockets and the proxy's own in `shardgate local`.
pub fn socket_path_in(dir: &Path, name: &str) -> PathBuf {
    let inside = dir.join(name);
    if inside.as_os_str().len() <= MAX_SOCKET_PATH {
        return inside;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    inside.hash(&mut hasher);
    std::env::temp_dir().join(format!("shardgate-{:016x}.sock", hasher.finish()))
}

/// Everything that distinguishes one server: its directory, port and a few sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The server directory (absolute); see the module header for its layout.
    pub dir: PathBuf,
    /// TCP port on 127.0.0.1; 0 means "pick a free port when starting".
    pub port: u16,
    /// `innodb_buffer_pool_size` in MiB.
    pub buffer_pool_mb: u32,
    /// `max_connections`.
    pub max_connections: u32,
    /// Further `[mysqld]` lines, appended as given (tests: `ssl_cert=...` for backend TLS).
    pub extra: Vec<String>,
}

impl ServerSettings {
    /// Settings for a server in `dir` (made absolute) on `port` (0 = any free port).
    pub fn new(dir: impl Into<PathBuf>, port: u16) -> Self {
        let dir = dir.into();
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        ServerSettings {
            dir,
            port,
            buffer_pool_mb: 128,
            max_connections: 1000,
            extra: Vec::new(),
        }
    }

    /// `DIR/data`, the datadir.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `DIR/my.cnf`.
    pub fn cnf_path(&self) -> PathBuf {
        self.dir.join("my.cnf")
    }

    /// `DIR/mariadbd.pid`.
    pub fn pid_path(&self) -> PathBuf {
        self.dir.join("mariadbd.pid")
    }

    /// `DIR/error.log`.
    pub fn error_log_path(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    /// `DIR/console.log`: the server's stdout and stderr.
    pub fn console_log_path(&self) -> PathBuf {
        self.dir.join("console.log")
    }

    /// `DIR/tmp`.
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// `DIR/mysqld.sock`, or a name in the temp dir when that path is too long
    /// ([`socket_path_in`]).
    pub fn socket_path(&self) -> PathBuf {
        socket_path_in(&self.dir, "mysqld.sock")
    }

    /// The `my.cnf` text. `server_id` is the port, so every running server has a distinct one.
    pub fn render(&self) -> String {
        let path = |p: &Path| cnf_value(&p.display().to_string());
        let lines = [
            "# Written by shardgate; regenerated at every start.".to_string(),
            "[mysqld]".to_string(),
            format!("port={}", self.port),
            "bind-address=127.0.0.1".to_string(),
            format!("socket={}", path(&self.socket_path())),
            format!("datadir={}", path(&self.data_dir())),
            format!("tmpdir={}", path(&self.tmp_dir())),
            format!("pid-file={}", path(&self.pid_path())),
            format!("log-error={}", path(&self.error_log_path())),
            "skip-name-resolve".to_string(),
            "character-set-server=utf8mb4".to_string(),
            "collation-server=utf8mb4_general_ci".to_string(),
            format!("server_id={}", self.port),
            "log_bin=mysql-bin".to_string(),
            "binlog_format=ROW".to_string(),
            "sync_binlog=0".to_string(),
            "max_binlog_size=64M".to_string(),
            "binlog_expire_logs_seconds=604800".to_string(),
            format!("innodb_buffer_pool_size={}M", self.buffer_pool_mb),
            format!("innodb_log_file_size={INNODB_LOG_FILE_SIZE_MB}M"),
            "innodb_flush_log_at_trx_commit=2".to_string(),
            "innodb_doublewrite=0".to_string(),
            "innodb_lock_wait_timeout=5".to_string(),
            "performance_schema=OFF".to_string(),
            format!("max_connections={}", self.max_connections),
            // Room for statements and rows over 16 MiB (split packets) through the proxy.
            "max_allowed_packet=256M".to_string(),
        ];
        let mut text = lines.join("\n");
        text.push('\n');
        for line in &self.extra {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// Quotes an option-file value when it contains characters the parser would treat specially.
fn cnf_value(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@,=".contains(c));
    if plain {
        return value.to_string();
    }
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_required_settings() {
        let s = ServerSettings::new("/srv/sg/s0", 17100);
        let text = s.render();
        for line in [
            "[mysqld]",
            "port=17100",
            "bind-address=127.0.0.1",
            "socket=/srv/sg/s0/mysqld.sock",
            "datadir=/srv/sg/s0/data",
            "tmpdir=/srv/sg/s0/tmp",
            "pid-file=/srv/sg/s0/mariadbd.pid",
            "log-error=/srv/sg/s0/error.log",
            "skip-name-resolve",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_general_ci",
            "server_id=17100",
            "log_bin=mysql-bin",
            "binlog_format=ROW",
            "innodb_lock_wait_timeout=5",
            "performance_schema=OFF",
            "innodb_buffer_pool_size=128M",
            "innodb_log_file_size=16M",
            "max_connections=1000",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn quotes_odd_paths() {
        assert_eq!(cnf_value("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(cnf_value("/a b/c"), "\"/a b/c\"");
        assert_eq!(cnf_value("/a\\b\"c"), "\"/a\\\\b\\\"c\"");
    }

    #[test]
    fn long_socket_paths_move_to_temp_dir() {
        let long = format!("/tmp/{}", "x".repeat(120));
        let s = ServerSettings::new(&long, 1);
        let sock = s.socket_path();
        assert!(sock.as_os_str().len() <= 108, "{}", sock.display());
        assert_eq!(sock, ServerSettings::new(&long, 2).socket_path());
        assert_ne!(
            sock,
            ServerSettings::new(format!("{long}y"), 1).socket_path()
        );
    }

    #[test]
    fn relative_dirs_become_absolute() {
        assert!(ServerSettings::new("rel/dir", 0).dir.is_absolute());
    }
}
