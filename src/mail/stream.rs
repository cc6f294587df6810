//! The byte stream under the IMAP client: plain TCP or TLS (rustls with the ring provider and the
//! Mozilla roots of `webpki-roots`, as the project's other TLS clients, plus the certificates of
//! `mail.ca_file` for a mail server whose certificate a school's own CA signed), one type for both
//! so that the client and its IDLE handle need not be generic. A STARTTLS upgrade turns the plain
//! variant into the TLS one after the server agreed. [`ExtraRoots`] is shared with the SMTP
//! sender, so that both connections trust the same certificates.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Certificate authorities trusted for the mail servers besides the built-in Mozilla roots
/// (`mail.ca_file`), kept as the PEM text they came from (the SMTP library takes PEM) and as
/// parsed certificates.
#[derive(Clone, Default)]
pub struct ExtraRoots {
    pem: Arc<Vec<u8>>,
    certs: Arc<Vec<CertificateDer<'static>>>,
}

impl ExtraRoots {
    /// The CA certificates of a PEM file's text: at least one, each one a root rustls accepts.
    pub fn from_pem(pem: &[u8]) -> Result<ExtraRoots, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is not a PEM certificate file: {e}"))?;
        if certs.is_empty() {
            return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
        }
        let mut store = RootCertStore::empty();
        for (n, cert) in certs.iter().enumerate() {
            store
                .add(cert.clone())
                .map_err(|e| format!("certificate {} cannot be a root: {e}", n + 1))?;
        }
        Ok(ExtraRoots {
            pem: Arc::new(pem.to_vec()),
            certs: Arc::new(certs),
        })
    }

    /// No extra certificates: only the built-in roots are trusted.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// The PEM text the certificates came from (empty when there are none).
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }
}

impl std::fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExtraRoots({} certificates)", self.certs.len())
    }
}

/// A connection to the mail server, encrypted or not.
#[derive(Debug)]
pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl MailStream {
    /// Wraps a plain connection in TLS, checking the certificate against `host` and the built-in
    /// roots plus `extra`.
    pub async fn into_tls(self, host: &str, extra: &ExtraRoots) -> anyhow::Result<MailStream> {
        let MailStream::Plain(tcp) = self else {
            return Ok(self);
        };
        let name = ServerName::try_from(host.to_owned())
            .with_context(|| format!("`{host}` is not a host name TLS can check"))?;
        let tls = connector(extra)?
            .connect(name, tcp)
            .await
            .with_context(|| format!("TLS handshake with {host} failed"))?;
        Ok(MailStream::Tls(Box::new(tls)))
    }
}

/// A TLS client with the ring provider, the webpki roots and `extra`.
fn connector(extra: &ExtraRoots) -> anyhow::Result<TlsConnector> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in extra.certs.iter() {
        roots
            .add(cert.clone())
            .context("a certificate of mail.ca_file cannot be a root")?;
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_client_builds_with_the_ring_provider() {
        assert!(connector(&ExtraRoots::default()).is_ok());
    }

    #[test]
    fn extra_roots_need_a_certificate() {
        let e = ExtraRoots::from_pem(b"").unwrap_err();
        assert!(e.contains("no PEM certificate"), "{e}");
        let e =
            ExtraRoots::from_pem(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(e.contains("not a PEM certificate file"), "{e}");
        let e =
            ExtraRoots::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(e.contains("certificate 1 cannot be a root"), "{e}");
        assert!(ExtraRoots::default().is_empty());
    }

    #[tokio::test]
    async fn a_name_tls_cannot_check_is_an_error_not_a_panic() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let err = MailStream::Plain(tcp)
            .into_tls("bad host name!", &ExtraRoots::default())
            .await;
        assert!(err.unwrap_err().to_string().contains("bad host name!"));
    }
}
