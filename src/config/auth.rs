//! `[auth]`: how clients authenticate — the plugin the greeting names, the RSA key of
//! `caching_sha2_password` full authentication, and the per-host delay after failed logins.

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The plugin named in the server greeting (MySQL's `default_authentication_plugin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum GreetingPlugin {
    /// `mysql_native_password` (what MariaDB servers announce).
    #[default]
    #[serde(rename = "mysql_native_password")]
    Native,
    /// `caching_sha2_password` (what MySQL 8.0+ servers announce).
    #[serde(rename = "caching_sha2_password")]
    CachingSha2,
}

impl GreetingPlugin {
    /// The plugin's wire name.
    pub fn name(self) -> &'static str {
        match self {
            GreetingPlugin::Native => "mysql_native_password",
            GreetingPlugin::CachingSha2 => "caching_sha2_password",
        }
    }
}

/// `[auth]`: authentication settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The plugin the greeting names; clients that answer with the other one are served too.
    pub default_plugin: GreetingPlugin,
    /// RSA private key (PEM, PKCS#8 or PKCS#1; relative to the config file) whose public half
    /// clients without TLS receive for caching_sha2 full authentication. Absent: a 2048-bit key
    /// is generated at startup (clients fetch it each time, so nothing needs distributing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsa_private_key: Option<PathBuf>,
    /// Failed logins from one client host (IP address; `localhost` for the Unix socket) after
    /// which its further attempts are delayed; 0 turns the delay off.
    pub failed_login_threshold: u32,
    /// A host's failures are forgotten after this many milliseconds without a new one.
    pub failed_login_window_ms: u64,
    /// Delay of the first attempt past the threshold, in milliseconds; each further failure
    /// doubles it.
    pub failed_login_delay_ms: u64,
    /// The delay never exceeds this, in milliseconds.
    pub failed_login_max_delay_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            default_plugin: GreetingPlugin::Native,
            rsa_private_key: None,
            failed_login_threshold: 5,
            failed_login_window_ms: 10 * 60 * 1000,
            failed_login_delay_ms: 1000,
            failed_login_max_delay_ms: 30_000,
        }
    }
}

/// Longest delay accepted in the config: a held socket is a held connection slot.
const MAX_DELAY_MS: u64 = 10 * 60 * 1000;

/// Checks `[auth]` (and the `password_hash` of each user, which is parsed here).
pub fn validate(cfg: &super::Config, file: &str) -> Result<(), ConfigError> {
    let invalid = |key: String, reason: String| ConfigError::Invalid {
        file: file.into(),
        key,
        reason,
    };
    let a = &cfg.auth;
    if a.failed_login_threshold > 0 {
        if a.failed_login_window_ms == 0 {
            return Err(invalid(
                "auth.failed_login_window_ms".into(),
                "must be at least 1".into(),
            ));
        }
        if a.failed_login_max_delay_ms > MAX_DELAY_MS {
            return Err(invalid(
                "auth.failed_login_max_delay_ms".into(),
                format!("must not exceed {MAX_DELAY_MS} (10 minutes)"),
            ));
        }
        if a.failed_login_delay_ms > a.failed_login_max_delay_ms {
            return Err(invalid(
                "auth.failed_login_delay_ms".into(),
                "must not exceed auth.failed_login_max_delay_ms".into(),
            ));
        }
    }
    for (i, u) in cfg.users.iter().enumerate() {
        let Some(hash) = &u.password_hash else {
            continue;
        };
        if !u.password.is_empty() {
            return Err(invalid(
                format!("users[{i}]"),
                format!(
                    "user '{}' has both password and password_hash: give exactly one",
                    u.name
                ),
            ));
        }
        crate::protocol::auth::credential::parse_hash(hash)
            .map_err(|e| invalid(format!("users[{i}].password_hash"), e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{validate, Config, ConfigError, GreetingPlugin};

    const BASE: &str = r#"
[[users]]
name = "app"
USER
[[keyspaces]]
name = "commerce"
[[keyspaces.shards]]
name = "0"
url = "mysql://root@127.0.0.1:17100/vt_commerce"
"#;

    fn check(user: &str, extra: &str) -> Result<Config, ConfigError> {
        let text = format!("{}{extra}", BASE.replace("USER", user));
        let cfg = Config::parse(&text, "t.toml")?;
        validate(&cfg, "t.toml")?;
        Ok(cfg)
    }

    #[test]
    fn password_hash_is_checked_at_load() {
        let cfg = check(
            "password_hash = \"*14E65567ABDB5135D0CFD9A70B3032C179A49EE7\"",
            "",
        )
        .expect("valid");
        assert!(cfg.users[0].credential().is_some());
        let err = check(
            "password_hash = \"14E65567ABDB5135D0CFD9A70B3032C179A49EE7\"",
            "",
        )
        .expect_err("no star")
        .to_string();
        assert!(
            err.contains("t.toml")
                && err.contains("users[0].password_hash")
                && err.contains("'*' followed by 40 hexadecimal digits")
                && err.contains("$A$005$"),
            "{err}"
        );
        let err = check(
            "password_hash = \"*14E65567ABDB5135D0CFD9A70B3032C179A49EE\"",
            "",
        )
        .expect_err("short")
        .to_string();
        assert!(err.contains("got 40 characters"), "{err}");
        // MySQL's caching_sha2 hash of 'foobar', as SELECT HEX(authentication_string) prints it.
        let cfg = check("password_hash = \"0x24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537\"", "")
            .expect("caching_sha2 hash");
        assert!(cfg.users[0]
            .credential()
            .is_some_and(|c| c.verify_clear(b"foobar")));
        let err = check(
            "password = \"x\"\npassword_hash = \"*14E65567ABDB5135D0CFD9A70B3032C179A49EE7\"",
            "",
        )
        .expect_err("both")
        .to_string();
        assert!(
            err.contains("users[0]") && err.contains("exactly one"),
            "{err}"
        );
    }

    #[test]
    fn auth_section_defaults_and_checks() {
        let cfg = check("password = \"x\"", "").expect("valid");
        assert_eq!(cfg.auth.default_plugin, GreetingPlugin::Native);
        assert_eq!(cfg.auth.failed_login_threshold, 5);
        let cfg = check(
            "password = \"x\"",
            "[auth]\ndefault_plugin = \"caching_sha2_password\"\nrsa_private_key = \"k.pem\"",
        )
        .expect("valid");
        assert_eq!(cfg.auth.default_plugin, GreetingPlugin::CachingSha2);
        let err = check("password = \"x\"", "[auth]\ndefault_plugin = \"ed25519\"")
            .expect_err("unknown plugin")
            .to_string();
        assert!(err.contains("default_plugin"), "{err}");
        let err = check(
            "password = \"x\"",
            "[auth]\nfailed_login_delay_ms = 5000\nfailed_login_max_delay_ms = 1000",
        )
        .expect_err("base above cap")
        .to_string();
        assert!(err.contains("auth.failed_login_delay_ms"), "{err}");
        let err = check("password = \"x\"", "[auth]\nfailed_login_window_ms = 0")
            .expect_err("no window")
            .to_string();
        assert!(err.contains("auth.failed_login_window_ms"), "{err}");
    }
}
