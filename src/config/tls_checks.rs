//! Checks of the transport settings in `[server]`: the TLS certificate and key (loaded, so a
//! bad file fails `shardgate check` and start rather than the first client),
//! `require_secure_transport` and `connect_timeout`; and `backend.tls` / `backend.tls_ca`.

use super::{Config, ConfigError};

fn invalid(file: &str, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        file: file.into(),
        key: key.into(),
        reason: reason.into(),
    }
}

/// Validates `server.tls_cert`, `server.tls_key`, `server.require_secure_transport` and
/// `server.connect_timeout`.
pub fn check(cfg: &Config, file: &str) -> Result<(), ConfigError> {
    let server = &cfg.server;
    match (&server.tls_cert, &server.tls_key) {
        (Some(_), None) => {
            return Err(invalid(
                file,
                "server.tls_key",
                "tls_cert is set without tls_key",
            ))
        }
        (None, Some(_)) => {
            return Err(invalid(
                file,
                "server.tls_cert",
                "tls_key is set without tls_cert",
            ))
        }
        _ => {}
    }
    if let Some((cert, key)) = cfg.tls_cert_key_paths() {
        crate::tls::server_config(&cert, &key)
            .map_err(|e| invalid(file, "server.tls_cert", e.to_string()))?;
    }
    if server.require_secure_transport
        && cfg.tls_cert_key_paths().is_none()
        && server.mysql_socket.is_none()
    {
        // MariaDB refuses the same setting (error 4167).
        return Err(invalid(
            file,
            "server.require_secure_transport",
            "no secure transport is configured (server.tls_cert / tls_key, or server.mysql_socket): no client could connect",
        ));
    }
    if cfg.backend.tls == crate::tls::BackendTlsMode::Off && cfg.backend.tls_ca.is_some() {
        return Err(invalid(
            file,
            "backend.tls_ca",
            "is set but backend.tls is off: set backend.tls = \"verify_ca\" or \"verify_identity\"",
        ));
    }
    crate::tls::backend_config(cfg.backend.tls, cfg.backend_tls_ca_path().as_deref())
        .map_err(|e| invalid(file, "backend.tls_ca", e.to_string()))?;
    if server.connect_timeout == 0 {
        return Err(invalid(
            file,
            "server.connect_timeout",
            "must be at least 1 (seconds)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(server: &str) -> Config {
        let text = format!("[server]\n{server}\n[[users]]\nname = \"app\"\n");
        Config::parse(&text, "t.toml").expect("parses")
    }

    fn reason(server: &str) -> String {
        match check(&config(server), "t.toml") {
            Ok(()) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_pass_and_connect_timeout_is_ten_seconds() {
        let cfg = config("");
        assert_eq!(cfg.server.connect_timeout, 10);
        assert!(!cfg.server.require_secure_transport);
        check(&cfg, "t.toml").expect("defaults are valid");
    }

    #[test]
    fn cert_and_key_go_together_and_must_load() {
        assert!(reason("tls_cert = \"c.pem\"").contains("server.tls_key"));
        assert!(reason("tls_key = \"k.pem\"").contains("server.tls_cert"));
        let r = reason("tls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"");
        assert!(
            r.contains("server.tls_cert") && r.contains("/nonexistent/c.pem"),
            "{r}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let pair = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let cert = dir.path().join("c.pem");
        let key = dir.path().join("k.pem");
        std::fs::write(&cert, pair.cert.pem()).expect("write");
        std::fs::write(&key, pair.signing_key.serialize_pem()).expect("write");
        let ok = format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"\nrequire_secure_transport = true",
            cert.display(),
            key.display()
        );
        assert_eq!(reason(&ok), "");
    }

    #[test]
    fn require_secure_transport_needs_a_secure_transport() {
        let r = reason("require_secure_transport = true");
        assert!(r.contains("server.require_secure_transport"), "{r}");
        // The Unix socket is one.
        assert_eq!(
            reason("require_secure_transport = true\nmysql_socket = \"sg.sock\""),
            ""
        );
    }

    #[test]
    fn backend_tls_modes() {
        let backend = |b: &str| {
            let text = format!("[[users]]\nname = \"app\"\n[backend]\n{b}\n");
            let cfg = Config::parse(&text, "t.toml").expect("parses");
            check(&cfg, "t.toml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(backend("tls = \"off\""), "");
        assert_eq!(backend("tls = \"required\""), "");
        assert!(backend("tls = \"verify_ca\"").contains("tls_ca is needed"));
        assert!(
            backend("tls = \"verify_identity\"\ntls_ca = \"/nonexistent/ca.pem\"")
                .contains("/nonexistent/ca.pem")
        );
        assert!(backend("tls_ca = \"ca.pem\"").contains("backend.tls is off"));
        assert!(Config::parse("[backend]\ntls = \"yes\"\n", "t.toml").is_err());
    }

    #[test]
    fn connect_timeout_is_at_least_a_second() {
        assert!(reason("connect_timeout = 0").contains("server.connect_timeout"));
        assert_eq!(reason("connect_timeout = 1"), "");
    }
}
