//! Test certificates made at test time with rcgen: a CA and a server certificate it signs
//! for `localhost` and `127.0.0.1`, written as PEM files into a temporary directory.

use std::path::{Path, PathBuf};

/// A CA and one server certificate and key, as PEM files.
pub struct TestCerts {
    dir: tempfile::TempDir,
}

impl TestCerts {
    /// Generates a fresh CA and a server certificate signed by it.
    pub fn generate() -> TestCerts {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let dir = tempfile::tempdir().expect("tempdir for certificates");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "shardgate test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).expect("write ca.pem");
        std::fs::write(dir.path().join("server-cert.pem"), server_cert.pem())
            .expect("write server-cert.pem");
        std::fs::write(
            dir.path().join("server-key.pem"),
            server_key.serialize_pem(),
        )
        .expect("write server-key.pem");
        TestCerts { dir }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate (what clients verify the server with).
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate.
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server-cert.pem")
    }

    /// The server's private key.
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server-key.pem")
    }
}
