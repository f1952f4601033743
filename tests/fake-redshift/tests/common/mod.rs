//! A raw HTTP/1.1 client that signs requests with the crate's own signer.
#![allow(dead_code)]

pub mod identity;
pub mod signin;

use rs_idc_fake::{keys, sigv4, timefmt};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Credentials of the first identity-enhanced identity.
pub const IDC: Credentials<'static> = Credentials {
    access_key_id: keys::IDC_ACCESS_KEY_ID,
    secret_access_key: keys::IDC_SECRET_ACCESS_KEY,
    session_token: Some(keys::IDC_SESSION_TOKEN),
};
/// Credentials of the second identity-enhanced identity.
pub const IDC2: Credentials<'static> = Credentials {
    access_key_id: keys::IDC2_ACCESS_KEY_ID,
    secret_access_key: keys::IDC2_SECRET_ACCESS_KEY,
    session_token: Some(keys::IDC2_SESSION_TOKEN),
};
/// Plain credentials.
pub const PLAIN: Credentials<'static> = Credentials {
    access_key_id: keys::PLAIN_ACCESS_KEY_ID,
    secret_access_key: keys::PLAIN_SECRET_ACCESS_KEY,
    session_token: None,
};
/// Expired credentials.
pub const EXPIRED: Credentials<'static> = Credentials {
    access_key_id: keys::EXPIRED_ACCESS_KEY_ID,
    secret_access_key: keys::EXPIRED_SECRET_ACCESS_KEY,
    session_token: None,
};

/// Which API a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// Redshift (query protocol).
    Query,
    /// Redshift Serverless (JSON 1.1).
    Json,
}

/// A request before it is turned into bytes.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    /// The API request for `ids` (cluster IDs or workgroup names).
    pub fn api(port: u16, api: Api, ids: &[&str]) -> Req {
        let (content_type, body) = match api {
            Api::Query => {
                let mut body = "Action=GetIdentityCenterAuthToken&Version=2012-12-01".to_string();
                for (i, id) in ids.iter().enumerate() {
                    body.push_str(&format!(
                        "&ClusterIds.ClusterIdentifier.{}={}",
                        i + 1,
                        sigv4::uri_encode(id, false)
                    ));
                }
                ("application/x-www-form-urlencoded; charset=utf-8", body)
            }
            Api::Json => {
                let names: Vec<String> = ids
                    .iter()
                    .map(|n| serde_json::Value::from(*n).to_string())
                    .collect();
                (
                    "application/x-amz-json-1.1",
                    format!("{{\"workgroupNames\":[{}]}}", names.join(",")),
                )
            }
        };
        let mut headers = vec![
            ("Host".to_string(), format!("127.0.0.1:{port}")),
            ("Content-Type".to_string(), content_type.to_string()),
        ];
        if api == Api::Json {
            headers.push((
                "X-Amz-Target".to_string(),
                "RedshiftServerless.GetIdentityCenterAuthToken".to_string(),
            ));
        }
        Req {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers,
            body: body.into_bytes(),
        }
    }

    /// Signs with `creds` for the service of `api`.
    pub fn signed(mut self, api: Api, creds: &Credentials<'_>) -> Req {
        let service = match api {
            Api::Query => "redshift",
            Api::Json => "redshift-serverless",
        };
        self.sign_as(service, creds);
        self
    }

    /// Signs with `creds` for an explicit service name.
    pub fn sign_as(&mut self, service: &str, creds: &Credentials<'_>) {
        sign_request(
            &self.method,
            &self.path,
            &self.query,
            &mut self.headers,
            &self.body,
            creds,
            "us-east-1",
            service,
            &timefmt::amz_date(timefmt::now_epoch_secs()),
        );
    }

    /// Adds a header (after signing, it is not signed).
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The request bytes with a `Content-Length`.
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes_via("")
    }

    /// The request bytes with `prefix` (e.g. `http://127.0.0.1:P`) before
    /// the path: the absolute form sent to a proxy. The signature still
    /// covers the path alone, as for a client that uses a proxy.
    pub fn bytes_via(&self, prefix: &str) -> Vec<u8> {
        let mut out = format!("{} {prefix}{}", self.method, self.path);
        if !self.query.is_empty() {
            out.push('?');
            out.push_str(&self.query);
        }
        out.push_str(" HTTP/1.1\r\n");
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A response read off the wire (no `Debug`, so that a token in a body
/// cannot end up in a test failure message).
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body for a failure message: error bodies only, since a success
    /// body holds a token.
    pub fn shown(&self) -> String {
        if self.status == 200 {
            "(200 answer, body withheld)".to_string()
        } else {
            self.text()
        }
    }

    /// Text between `<tag>` and `</tag>` in the body.
    pub fn xml(&self, tag: &str) -> Option<String> {
        let text = self.text();
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{tag}>"))? + start;
        Some(text[start..end].to_string())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The member names of the JSON object in the body, in the order
    /// written.
    pub fn json_member_names(&self) -> Vec<String> {
        let Some(serde_json::Value::Object(members)) = self.json() else {
            return Vec::new();
        };
        let text = self.text();
        let mut names: Vec<String> = members.keys().cloned().collect();
        names
            .sort_by_key(|name| text.find(&format!("{}:", serde_json::Value::from(name.as_str()))));
        names
    }

    /// A string member of the JSON body.
    pub fn json_str(&self, key: &str) -> Option<String> {
        self.json()?.get(key)?.as_str().map(str::to_string)
    }
}

/// One client connection, over plain TCP unless `S` says otherwise.
pub struct Client<S = TcpStream> {
    pub stream: S,
    buf: Vec<u8>,
}

impl Client {
    /// Connects to the fake, with a read timeout.
    pub fn connect(port: u16) -> Client {
        Client::over(connect_tcp(port))
    }
}

/// A TCP connection to 127.0.0.1:`port` with a read timeout.
pub fn connect_tcp(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to 127.0.0.1");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    stream
}

impl<S: Read + Write> Client<S> {
    /// A client over an already open stream.
    pub fn over(stream: S) -> Client<S> {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
        self.stream.flush().expect("flush");
    }

    /// Bytes read past the last response (for a client that switches
    /// protocols, e.g. after `CONNECT`).
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            // A signal to the test process (a child ending, say) may cut
            // a read short; that is not an answer.
            match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
            }
        }
    }

    /// Reads one response head: status and headers.
    pub fn read_head(&mut self) -> io::Result<(u16, Vec<(String, String)>)> {
        loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 4);
                let mut lines = head.split("\r\n");
                let status_line = lines.next().unwrap_or("");
                let status = status_line
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| io::Error::other("bad status line"))?;
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.to_string(), v.trim().to_string()))
                    .collect();
                return Ok((status, headers));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
            }
        }
    }

    /// Reads `n` body bytes.
    pub fn read_exact_body(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed in body",
                ));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one whole response (skipping `100 Continue`).
    pub fn read_response(&mut self) -> io::Result<Resp> {
        loop {
            let (status, headers) = self.read_head()?;
            if status == 100 {
                continue;
            }
            let len = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            let body = self.read_exact_body(len)?;
            return Ok(Resp {
                status,
                headers,
                body,
            });
        }
    }

    /// Sends a request and reads its response.
    pub fn call(&mut self, req: &Req) -> Resp {
        self.send(&req.bytes());
        self.read_response().expect("a response")
    }

    /// Whether the server closed the connection (reads end of stream).
    pub fn is_closed(&mut self) -> bool {
        matches!(self.fill(), Ok(0))
    }
}

/// Sends one request on a new connection.
pub fn call(port: u16, req: &Req) -> Resp {
    Client::connect(port).call(req)
}

/// A signed API request on a new connection.
pub fn api(port: u16, api: Api, creds: &Credentials<'_>, ids: &[&str]) -> Resp {
    call(port, &Req::api(port, api, ids).signed(api, creds))
}

/// The stats counters as `(requests, tokens)`.
pub fn stats(port: u16) -> (u64, u64) {
    let all = stats_of(port);
    (all.requests, all.tokens)
}

/// A rustls client stream over `tcp` for server name `name`, trusting only
/// `ca_pem` (nothing if `None`), with the handshake already done.
pub fn tls_connect(
    tcp: TcpStream,
    name: &str,
    ca_pem: Option<&str>,
) -> io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;

    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots
                .add(cert.map_err(io::Error::other)?)
                .map_err(io::Error::other)?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(io::Error::other)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let server_name = ServerName::try_from(name.to_string()).map_err(io::Error::other)?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), server_name).map_err(io::Error::other)?;
    let mut tcp = tcp;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// The control API's stats on plain HTTP.
pub fn stats_of(port: u16) -> rs_idc_fake::Stats {
    let resp = control(port, &rs_idc_fake::Control::Stats);
    assert_eq!(resp.status, 200);
    serde_json::from_slice(&resp.body).expect("stats are JSON")
}

/// One control request (`POST /_fake/control`).
pub fn control(port: u16, request: &rs_idc_fake::Control) -> Resp {
    control_raw(port, "POST", &serde_json::to_vec(request).expect("JSON"))
}

/// `method /_fake/control` with `body`, as sent.
pub fn control_raw(port: u16, method: &str, body: &[u8]) -> Resp {
    call(
        port,
        &Req {
            method: method.into(),
            path: "/_fake/control".into(),
            query: String::new(),
            headers: vec![("Host".into(), format!("127.0.0.1:{port}"))],
            body: body.to_vec(),
        },
    )
}

/// `Basic base64(user:password)`, a `Proxy-Authorization` value.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// A signed query-protocol request for `ids` whose `Host` is `host:port`
/// (signed with that `Host`, as a client addressing that name would).
pub fn signed_for_host(host: &str, port: u16, ids: &[&str]) -> Req {
    let mut req = Req::api(port, Api::Query, ids);
    for (name, value) in &mut req.headers {
        if name == "Host" {
            *value = format!("{host}:{port}");
        }
    }
    req.signed(Api::Query, &IDC)
}

/// `GET /_fake/credentials` on plain HTTP.
pub fn get_credentials(port: u16) -> Resp {
    call(
        port,
        &Req {
            method: "GET".into(),
            path: "/_fake/credentials".into(),
            query: String::new(),
            headers: vec![("Host".into(), format!("127.0.0.1:{port}"))],
            body: Vec::new(),
        },
    )
}

/// Credentials used to sign a request.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// Access key ID.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token, sent as `x-amz-security-token` when present.
    pub session_token: Option<&'a str>,
}

/// Signs a request the way the AWS SDKs do, with the fake's SigV4 pieces: adds `x-amz-date`,
/// `x-amz-security-token` (if the credentials have one) and
/// `Authorization` to `headers`. Every header already in `headers` (which
/// should include `host`) is signed.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &mut Vec<(String, String)>,
    body: &[u8],
    credentials: &Credentials<'_>,
    region: &str,
    service: &str,
    amz_date: &str,
) {
    headers.push(("x-amz-date".to_string(), amz_date.to_string()));
    if let Some(token) = credentials.session_token {
        headers.push(("x-amz-security-token".to_string(), token.to_string()));
    }
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    signed.sort();
    signed.dedup();
    let payload_hash = sigv4::sha256_hex(body);
    let canonical = sigv4::canonical_request(&sigv4::RequestParts {
        method,
        raw_path,
        raw_query,
        headers,
        signed_headers: &signed,
        payload_hash: &payload_hash,
    });
    let sig = sigv4::signature(
        credentials.secret_access_key,
        amz_date,
        region,
        service,
        &canonical,
    );
    let date = amz_date.get(..8).unwrap_or(amz_date);
    headers.push((
        "Authorization".to_string(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{date}/{region}/{service}/aws4_request, \
             SignedHeaders={}, Signature={sig}",
            credentials.access_key_id,
            signed.join(";")
        ),
    ));
}

/// Every counted operation at 0, but those of `counts`.
pub fn ops(counts: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    let mut all: std::collections::BTreeMap<String, u64> = rs_idc_fake::names::op::ALL
        .iter()
        .map(|(_, n)| (n.to_string(), 0))
        .collect();
    for (name, n) in counts {
        *all.get_mut(*name).expect("a counted operation") = *n;
    }
    all
}

/// The stats of a server with no proxies linked.
pub fn counts(requests: u64, tokens: u64, operations: &[(&str, u64)]) -> rs_idc_fake::Stats {
    rs_idc_fake::Stats {
        requests,
        tokens,
        operations: ops(operations),
        ..Default::default()
    }
}
