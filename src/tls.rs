//! TLS settings built from the config: the certificate the proxy offers its clients
//! (`server.tls_cert` / `server.tls_key`), and how it checks shard servers (`backend.tls`,
//! `backend.tls_ca`: the modes of MariaDB's and MySQL's `--ssl-mode`).
//!
//! rustls with the `ring` provider; certificates and keys are read from PEM files. Loading
//! happens once, at start (and in `shardgate check`), so a bad file is an error there rather
//! than at the first client.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// `backend.tls`: whether and how the proxy uses TLS to shard servers over TCP (a shard
/// reached over its Unix socket never uses TLS: the socket is secure).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendTlsMode {
    /// Plain TCP (the default).
    #[default]
    Off,
    /// Encrypted; the server's certificate is not checked (`--ssl-mode=REQUIRED`).
    Required,
    /// Encrypted; the certificate must chain to `backend.tls_ca`, whatever name it carries.
    VerifyCa,
    /// Encrypted; the certificate must chain to `backend.tls_ca` and name the shard URL's host.
    VerifyIdentity,
}

/// Why a TLS setting could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file is missing, unreadable, or holds nothing usable.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the combination (a key that does not match the certificate, ...).
    #[error("{0}")]
    Config(String),
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The crypto provider every TLS config of the proxy uses: *ring*, which builds with a C
/// compiler alone (aws-lc-rs needs more); rustls marks it deprecated because it lacks the
/// post-quantum key exchanges, which MySQL clients do not use yet.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the certificates of a PEM file (a chain, leaf first; or CA certificates).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "no CERTIFICATE block in the file"));
    }
    Ok(certs)
}

/// The server side: `cert` (PEM chain) and `key` (PEM private key: PKCS#8, PKCS#1 or SEC1),
/// TLS 1.2 and 1.3, no client certificates.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(format!("certificate and key do not fit: {e}")))?;
    Ok(Arc::new(config))
}

/// The client side towards shard servers: `None` for [`BackendTlsMode::Off`]; `ca` (PEM) is
/// required by the verifying modes.
pub fn backend_config(
    mode: BackendTlsMode,
    ca: Option<&Path>,
) -> Result<Option<Arc<rustls::ClientConfig>>, TlsError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        BackendTlsMode::Off => return Ok(None),
        BackendTlsMode::Required => Arc::new(AnyCertificate(provider.clone())),
        BackendTlsMode::VerifyCa | BackendTlsMode::VerifyIdentity => {
            let ca = ca.ok_or_else(|| {
                TlsError::Config("backend.tls_ca is needed to verify shard servers".into())
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in load_certs(ca)? {
                roots.add(cert).map_err(|e| file_error(ca, e))?;
            }
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
            if mode == BackendTlsMode::VerifyCa {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

/// `required`: accepts any certificate, but still checks the handshake signatures made with
/// it (so the session keys belong to whoever holds that certificate's key).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify_ca`: the full chain check of `inner`, except that the certificate need not name
/// the host the shard URL connects to.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The names MariaDB (OpenSSL) reports for a protocol version (`Ssl_version`).
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// The OpenSSL name of a cipher suite (`Ssl_cipher`), as MariaDB reports it; the IANA name
/// for one OpenSSL has no short name for.
pub fn cipher_name(suite: rustls::CipherSuite) -> String {
    use rustls::CipherSuite as C;
    let name = match suite {
        C::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        C::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        C::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        other => return other.as_str().map(str::to_string).unwrap_or_default(),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.pem");
        let err = server_config(&missing, &missing).expect_err("missing");
        assert!(err.to_string().contains("nope.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"").expect("write");
        let err = load_certs(&empty).expect_err("empty");
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
    }

    #[test]
    fn a_generated_pair_loads_and_a_foreign_key_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let b = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let other_key = dir.path().join("other.pem");
        std::fs::write(&cert, a.cert.pem()).expect("write");
        std::fs::write(&key, a.signing_key.serialize_pem()).expect("write");
        std::fs::write(&other_key, b.signing_key.serialize_pem()).expect("write");
        server_config(&cert, &key).expect("matching pair");
        let err = server_config(&cert, &other_key).expect_err("foreign key");
        assert!(err.to_string().contains("do not fit"), "{err}");
    }

    /// A CA and a server certificate it signs for `names`, as PEM files in `dir`:
    /// (ca, cert, key).
    fn signed(
        dir: &Path,
        names: &[&str],
    ) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("ca");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("cert");
        let paths = (
            dir.join("ca.pem"),
            dir.join("cert.pem"),
            dir.join("key.pem"),
        );
        std::fs::write(&paths.0, ca_cert.pem()).expect("write");
        std::fs::write(&paths.1, cert.pem()).expect("write");
        std::fs::write(&paths.2, key.serialize_pem()).expect("write");
        paths
    }

    /// Runs a TLS handshake in memory: the client's verdict.
    fn handshake(
        client: Arc<rustls::ClientConfig>,
        server: Arc<rustls::ServerConfig>,
        name: &str,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_string()).expect("name");
        let mut c = rustls::ClientConnection::new(client, name)?;
        let mut s = rustls::ServerConnection::new(server)?;
        for _ in 0..10 {
            let mut buf = Vec::new();
            c.write_tls(&mut buf).expect("client writes");
            s.read_tls(&mut buf.as_slice()).expect("server reads");
            if let Err(e) = s.process_new_packets() {
                // The client's alert tells why; surface the client's own error below.
                let mut alert = Vec::new();
                let _ = s.write_tls(&mut alert);
                return Err(c.process_new_packets().err().unwrap_or(e));
            }
            let mut buf = Vec::new();
            s.write_tls(&mut buf).expect("server writes");
            c.read_tls(&mut buf.as_slice()).expect("client reads");
            c.process_new_packets()?;
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish");
    }

    #[test]
    fn backend_modes_check_what_they_say() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca, cert, key) = signed(dir.path(), &["db.example"]);
        let other_dir = tempfile::tempdir().expect("tempdir");
        let (other_ca, _, _) = signed(other_dir.path(), &["db.example"]);
        let server = server_config(&cert, &key).expect("server");
        let client = |mode, ca: &Path| {
            backend_config(mode, Some(ca))
                .expect("config")
                .expect("not off")
        };
        assert!(backend_config(BackendTlsMode::Off, None)
            .expect("off")
            .is_none());
        // The shard URL names 127.0.0.1; the certificate names db.example.
        let identity = handshake(
            client(BackendTlsMode::VerifyIdentity, &ca),
            server.clone(),
            "127.0.0.1",
        );
        assert!(identity.is_err(), "verify_identity ignored the name");
        handshake(
            client(BackendTlsMode::VerifyIdentity, &ca),
            server.clone(),
            "db.example",
        )
        .expect("verify_identity with the right name");
        handshake(
            client(BackendTlsMode::VerifyCa, &ca),
            server.clone(),
            "127.0.0.1",
        )
        .expect("verify_ca does not check the name");
        let foreign = handshake(
            client(BackendTlsMode::VerifyCa, &other_ca),
            server.clone(),
            "db.example",
        );
        assert!(foreign.is_err(), "verify_ca accepted another CA");
        handshake(
            client(BackendTlsMode::Required, &other_ca),
            server,
            "127.0.0.1",
        )
        .expect("required does not verify");
    }
}
