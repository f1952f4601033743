//! TLS for the fake: a certificate authority and a server certificate made
//! at start, and a stream that is either plain TCP or rustls over TCP.

use crate::NAMED_HOST;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::crypto::aws_lc_rs;
use rustls::{ServerConfig, ServerConnection};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

pub(crate) struct TlsIdentity {
    pub config: Arc<ServerConfig>,
    pub ca_pem: String,
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

fn cert_error(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("certificate generation failed: {e}"))
}

/// Makes a certificate authority (ECDSA P-256) and a server certificate
/// signed by it for `127.0.0.1`, `localhost` and [`NAMED_HOST`].
pub(crate) fn generate() -> io::Result<TlsIdentity> {
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = common_name("rs-idc-fake test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_error)?;
    let ca_pem = ca_cert.pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(cert_error)?;
    let mut leaf_params = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        NAMED_HOST.to_string(),
    ])
    .map_err(cert_error)?;
    leaf_params.distinguished_name = common_name("rs-idc-fake");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(cert_error)?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    Ok(TlsIdentity {
        config: Arc::new(config),
        ca_pem,
    })
}

pub struct Stream {
    tcp: TcpStream,
    tls: Option<Box<ServerConnection>>,
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl Stream {
    /// Runs the server side of a TLS handshake on `tcp`. Any failure (the
    /// client does not trust the certificate, speaks plain HTTP, goes
    /// away, ...) is an error, and the caller just closes the socket.
    pub fn accept_tls(config: &Arc<ServerConfig>, mut tcp: TcpStream) -> io::Result<Stream> {
        let mut conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        let tls = Some(Box::new(conn));
        Ok(Stream { tcp, tls })
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    pub fn into_tcp(self) -> TcpStream {
        self.tcp
    }

    /// Ends the stream cleanly: a TLS `close_notify` alert (best effort;
    /// nothing to do for plain TCP).
    pub fn finish(&mut self) {
        if let Some(conn) = &mut self.tls {
            conn.send_close_notify();
            let _ = self.flush();
        }
    }

    fn with<T>(&mut self, io: impl FnOnce(&mut dyn ReadWrite) -> io::Result<T>) -> io::Result<T> {
        match &mut self.tls {
            None => io(&mut self.tcp),
            Some(conn) => io(&mut rustls::Stream::new(&mut **conn, &mut self.tcp)),
        }
    }
}

impl From<TcpStream> for Stream {
    fn from(tcp: TcpStream) -> Stream {
        Stream { tcp, tls: None }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|s| s.read(buf))
    }
}

impl Write for Stream {
    /// Every write is flushed to the socket, so that errors show at once
    /// and nothing waits in rustls' buffers.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|s| s.write(buf).and_then(|n| s.flush().map(|()| n)))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(|s| s.flush())
    }
}
