//! A private certificate authority for the TLS tests, made with `rcgen` for each test: a CA
//! certificate (what `mail.ca_file` names), and a server certificate it signed for `localhost`,
//! written as PEM files into a temporary directory that Dovecot and aiosmtpd read. A second,
//! unrelated CA stands for "a certificate nobody told us to trust".

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// The CA and one server certificate, as files.
pub struct TestCa {
    pub dir: tempfile::TempDir,
    /// The CA certificate (PEM): what a client must trust.
    pub ca_file: PathBuf,
    /// The server certificate for `localhost` (PEM), signed by the CA.
    pub cert_file: PathBuf,
    /// The server certificate's private key (PEM).
    pub key_file: PathBuf,
}

impl TestCa {
    /// A fresh CA named `name` and a certificate for `localhost` signed by it.
    pub fn new(name: &str) -> TestCa {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().unwrap();
        let cert = server.signed_by(&key, &ca).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // Dovecot's and aiosmtpd's processes may run as other users: the files must be readable.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .unwrap();
            path
        };
        TestCa {
            ca_file: write("ca.pem", ca.pem()),
            cert_file: write("server.pem", cert.pem()),
            key_file: write("server.key", key.serialize_pem()),
            dir,
        }
    }

    /// The CA certificate's PEM text.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca_file).unwrap()
    }
}
