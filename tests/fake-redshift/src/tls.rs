//! TLS for the fake: a certificate authority and a server certificate made
//! at start, and a stream that is either plain TCP or rustls over TCP.

use crate::NAMED_HOST;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::aws_lc_rs;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

/// What a TLS listener needs: the server configuration and the PEM of the
/// certificate authority that clients must trust.
pub(crate) struct TlsIdentity {
    pub config: Arc<ServerConfig>,
    pub ca_pem: String,
}

fn cert_error(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("certificate generation failed: {e}"))
}

/// Makes a fresh certificate authority (ECDSA P-256, self-signed, only for
/// signing certificates) and a server certificate signed by it for
/// `127.0.0.1` (IP address), `localhost` and [`NAMED_HOST`] (DNS names).
/// The private keys never leave the process.
pub(crate) fn generate() -> io::Result<TlsIdentity> {
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "rs-idc-fake test CA");
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
    leaf_params.distinguished_name = rcgen::DistinguishedName::new();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "rs-idc-fake");
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

/// A connection's byte stream: plain TCP, or TLS over TCP.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS (the handshake is done before requests are read).
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    /// Runs the server side of a TLS handshake on `tcp`. Any failure (the
    /// client does not trust the certificate, speaks plain HTTP, goes
    /// away, ...) is an error, and the caller just closes the socket.
    pub fn accept_tls(config: &Arc<ServerConfig>, mut tcp: TcpStream) -> io::Result<Stream> {
        let mut conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    /// Gives up the TLS state (if any) and returns the TCP socket.
    pub fn into_tcp(self) -> TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.sock,
        }
    }

    /// Ends the stream cleanly: a TLS `close_notify` alert (best effort;
    /// nothing to do for plain TCP).
    pub fn finish(&mut self) {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    }
}

impl From<TcpStream> for Stream {
    fn from(s: TcpStream) -> Stream {
        Stream::Plain(s)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    /// For TLS, every write is flushed to the socket, so that errors show
    /// at once and nothing waits in rustls' buffers.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => {
                let n = s.write(buf)?;
                s.flush()?;
                Ok(n)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
