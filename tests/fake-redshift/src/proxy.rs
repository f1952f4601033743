//! A small HTTP proxy on 127.0.0.1 that counts what goes through it: see
//! "Proxy" in the crate's README. It forwards a request in origin form and
//! streams its answer back, or copies bytes both ways in a `CONNECT`
//! tunnel; with a user and password it requires Basic credentials
//! (RFC 7617) in `Proxy-Authorization`.

use crate::conns::{reset_on_close, Listener, Registry};
use crate::http::{self, Conn, ReadError, Request};
use crate::sigv4::{constant_time_eq, uri_encode};
use crate::NAMED_HOST;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use std::io::ErrorKind::ConnectionReset;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How long the proxy waits for a client's request, or for more bytes from
/// a client inside a tunnel.
const CLIENT_IDLE: Duration = Duration::from_secs(300);
/// How long the proxy waits for bytes from a target. Longer than the
/// fake's longest hang, so that the fake's own behaviour shows through.
const TARGET_IDLE: Duration = Duration::from_secs(900);
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct ProxyCounters {
    pub requests: AtomicU64,
    tunnels: AtomicU64,
    refused: AtomicU64,
    pub auth_refused: AtomicU64,
    authenticated: AtomicU64,
}

impl ProxyCounters {
    pub(crate) fn reset(&self) {
        let counters = [&self.requests, &self.tunnels, &self.refused];
        let auth = [&self.auth_refused, &self.authenticated];
        for counter in counters.into_iter().chain(auth) {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

struct Shared {
    counters: Arc<ProxyCounters>,
    conns: Arc<Registry>,
    auth: Option<ProxyAuth>,
}

/// A running HTTP proxy on 127.0.0.1 that only ever connects to 127.0.0.1:
/// one forwarded request or one `CONNECT` tunnel per client connection,
/// for the targets `127.0.0.1`, `localhost` and [`crate::NAMED_HOST`].
/// Dropping it stops listening and closes open tunnels without waiting.
pub struct FakeProxy {
    shared: Arc<Shared>,
    listener: Listener,
}

impl FakeProxy {
    /// Starts a proxy on a free port of 127.0.0.1.
    pub fn start() -> io::Result<FakeProxy> {
        FakeProxy::launch(None)
    }

    /// Starts a proxy that answers 407 to requests without
    /// `Proxy-Authorization: Basic base64(user:password)`. `InvalidInput`
    /// if `user` is empty or holds `:`, or either holds a control
    /// character.
    pub fn start_with_auth(user: &str, password: &str) -> io::Result<FakeProxy> {
        FakeProxy::launch(Some(ProxyAuth::new(user, password)?))
    }

    fn launch(auth: Option<ProxyAuth>) -> io::Result<FakeProxy> {
        let shared = Arc::new(Shared {
            counters: Arc::default(),
            conns: Arc::default(),
            auth,
        });
        let conn_shared = Arc::clone(&shared);
        let serve = move |stream, _| serve_client(&conn_shared, stream);
        let listener = Listener::start("rs-idc-fake-proxy", Arc::clone(&shared.conns), serve)?;
        Ok(FakeProxy { shared, listener })
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.listener.addr.port()
    }

    /// `http://127.0.0.1:PORT`, never with credentials.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// With authentication, `http://USER:PASSWORD@127.0.0.1:PORT`
    /// (percent-encoded). It holds the password: do not print it.
    pub fn auth_url(&self) -> Option<String> {
        self.shared
            .auth
            .as_ref()
            .map(|a| format!("http://{}@127.0.0.1:{}", a.userinfo, self.port()))
    }

    /// Requests forwarded plus `CONNECT` tunnels opened.
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// The `CONNECT` tunnels among [`FakeProxy::requests`].
    pub fn tunnels(&self) -> u64 {
        self.shared.counters.tunnels.load(Ordering::SeqCst)
    }

    /// Requests answered 403 because of their target.
    pub fn refused(&self) -> u64 {
        self.shared.counters.refused.load(Ordering::SeqCst)
    }

    /// Requests answered 407 for want of the right credentials.
    pub fn auth_refused(&self) -> u64 {
        self.shared.counters.auth_refused.load(Ordering::SeqCst)
    }

    /// Requests that carried the right credentials.
    pub fn authenticated(&self) -> u64 {
        self.shared.counters.authenticated.load(Ordering::SeqCst)
    }

    /// Zeroes every counter.
    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    pub(crate) fn counters(&self) -> Arc<ProxyCounters> {
        Arc::clone(&self.shared.counters)
    }
}

fn answer(client: &mut impl Write, status: u16, message: &str) {
    let mut headers = Vec::new();
    if status == 407 {
        headers.push(("Proxy-Authenticate", format!("Basic realm=\"{REALM}\"")));
    }
    headers.push(("Content-Type", "text/plain".to_string()));
    let body = format!("rs-idc-fake proxy: {message}\n");
    let _ = client.write_all(&http::response(status, &headers, body.as_bytes(), true));
}

/// Where a request asks to go: host, port and, for `METHOD
/// http://host[:port]/path`, the authority as written and the origin-form
/// path (with query); `None` for `CONNECT host:port`.
type Target = (String, u16, Option<(String, String)>);
type Opened = (Request, Option<(String, String)>, TcpStream);

/// Reads the client's request, checks it and connects to its target;
/// `None` if the client went away, `Err` with the status and message to
/// refuse it with. The credentials are checked after the request is read
/// and parsed and before the target.
fn open(shared: &Shared, conn: &mut Conn) -> Result<Option<Opened>, (u16, &'static str)> {
    let req = match conn.read_request() {
        Ok(req) => req,
        Err(ReadError::Closed) => return Ok(None),
        Err(ReadError::Reject(status, message)) => return Err((status, message)),
    };
    let (host, port, forward) = parse_target(&req.method, &req.path, &req.query)?;
    if let Some(auth) = &shared.auth {
        if !auth.accepts(&req) {
            count(&shared.counters.auth_refused);
            return Err((407, "proxy authentication required"));
        }
        count(&shared.counters.authenticated);
    }
    if !allowed_host(&host) {
        count(&shared.counters.refused);
        let message = "only 127.0.0.1, localhost and fake.rs-idc.test targets are allowed";
        return Err((403, message));
    }
    // Always 127.0.0.1, also for `localhost` and the named host, so that
    // nothing else is ever reached and no name is resolved.
    let upstream_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let upstream = TcpStream::connect_timeout(&upstream_addr, CONNECT_TIMEOUT)
        .map_err(|_| (502, "cannot connect to the target"))?;
    Ok(Some((req, forward, upstream)))
}

fn serve_client(shared: &Shared, client: TcpStream) {
    tune(&client, CLIENT_IDLE);
    let mut conn = Conn::new(client);
    let (req, target, upstream) = match open(shared, &mut conn) {
        Ok(Some(opened)) => opened,
        Ok(None) => return,
        Err((status, message)) => return answer(&mut conn.stream, status, message),
    };
    let Some(upstream_id) = shared.conns.register(&upstream) else {
        return;
    };
    tune(&upstream, TARGET_IDLE);
    count(&shared.counters.requests);
    let (client_stream, leftover) = conn.into_parts();
    let client = client_stream.into_tcp();
    match target {
        None => {
            count(&shared.counters.tunnels);
            tunnel(client, upstream, &leftover);
        }
        Some((authority, path)) => forward(client, upstream, &req, &authority, &path),
    }
    shared.conns.unregister(upstream_id);
}

fn tune(socket: &TcpStream, read_timeout: Duration) {
    let _ = socket.set_nodelay(true);
    let _ = socket.set_read_timeout(Some(read_timeout));
    let _ = socket.set_write_timeout(Some(WRITE_TIMEOUT));
}

/// Splits `host[:port]`; `None` if malformed. An IPv6 literal
/// (`[::1]:443`) keeps its brackets in the host, which is then refused.
fn split_authority(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|&p| p != 0)?),
        None => (authority, default_port?),
    };
    (!host.is_empty() && !host.contains('@')).then(|| (host.to_string(), port))
}

fn parse_target(method: &str, path: &str, query: &str) -> Result<Target, (u16, &'static str)> {
    if method == "CONNECT" {
        if !query.is_empty() {
            return Err((400, "malformed CONNECT target"));
        }
        let (host, port) =
            split_authority(path, None).ok_or((400, "CONNECT needs a host:port target"))?;
        return Ok((host, port, None));
    }
    let scheme_end = path
        .find("://")
        .ok_or((400, "not a proxy request: use an absolute URL or CONNECT"))?;
    if !path[..scheme_end].eq_ignore_ascii_case("http") {
        return Err((
            400,
            "only http:// URLs are forwarded; use CONNECT for https",
        ));
    }
    let rest = &path[scheme_end + 3..];
    let (authority, origin_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) =
        split_authority(authority, Some(80)).ok_or((400, "malformed URL authority"))?;
    let mut origin = origin_path.to_string();
    if !query.is_empty() {
        origin.push('?');
        origin.push_str(query);
    }
    Ok((host, port, Some((authority.to_string(), origin))))
}

/// Whether the proxy takes a request for `host`: only `127.0.0.1`,
/// `localhost` and [`NAMED_HOST`] (names in any case).
pub(crate) fn allowed_host(host: &str) -> bool {
    host == "127.0.0.1"
        || host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case(NAMED_HOST)
}

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const REALM: &str = "rs-idc-fake";

/// The credentials a proxy requires. No `Debug`: the password must not end
/// up in a message.
struct ProxyAuth {
    /// `USER:PASSWORD`, percent-encoded, for the proxy's URL.
    userinfo: String,
    /// `user:password`, what a valid `Basic` token decodes to.
    expected: Vec<u8>,
}

impl ProxyAuth {
    /// Checks and keeps `user` and `password`. The user must be non-empty
    /// and hold no `:` (RFC 7617); neither may hold control characters.
    /// The error never holds the password.
    fn new(user: &str, password: &str) -> io::Result<ProxyAuth> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_string());
        if user.is_empty() || user.contains(':') {
            return Err(bad("the proxy user must be non-empty and hold no ':'"));
        }
        if user.chars().chain(password.chars()).any(char::is_control) {
            return Err(bad(
                "the proxy user and password must hold no control characters",
            ));
        }
        let (user_enc, password_enc) = (uri_encode(user, false), uri_encode(password, false));
        Ok(ProxyAuth {
            userinfo: format!("{user_enc}:{password_enc}"),
            expected: format!("{user}:{password}").into_bytes(),
        })
    }

    /// Whether one of the request's `Proxy-Authorization` headers carries
    /// `Basic` credentials (scheme in any case) equal to the expected ones.
    fn accepts(&self, req: &Request) -> bool {
        let basic = |value: &str| {
            let (scheme, token) = value.trim().split_once([' ', '\t'])?;
            let basic = scheme.eq_ignore_ascii_case("basic");
            basic.then(|| BASE64.decode(token.trim()).ok()).flatten()
        };
        req.headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
            .filter_map(|(_, value)| basic(value))
            .any(|sent| constant_time_eq(&sent, &self.expected))
    }
}

const MAX_ANSWER_HEAD: usize = 64 * 1024;

/// Hop-by-hop headers, not passed on to the target; also `Content-Length`
/// (the body goes on with its exact length) and `Expect` (the proxy
/// answered `100 Continue` itself).
#[rustfmt::skip]
const HOP_BY_HOP: &[&str] = &[
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect",
];

fn forwarded_request(req: &Request, authority: &str, path: &str) -> Vec<u8> {
    let named_in_connection = req.connection_tokens();
    let mut head = format!("{} {path} HTTP/1.1\r\n", req.method);
    if req.header("host").is_none() {
        head.push_str(&format!("Host: {authority}\r\n"));
    }
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&lower.as_str()) || named_in_connection.contains(&lower) {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    let mut out = head.into_bytes();
    out.extend_from_slice(&req.body);
    out
}

/// Rewrites an answer head from the target: connection headers replaced
/// by `Connection: close`. `head` excludes the blank line.
fn rewrite_answer_head(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for (i, line) in text.split("\r\n").enumerate() {
        if i > 0 {
            let name = line.split(':').next().unwrap_or("").trim();
            if ["connection", "keep-alive", "proxy-connection"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
            {
                continue;
            }
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn forward(
    mut client: TcpStream,
    mut upstream: TcpStream,
    req: &Request,
    authority: &str,
    path: &str,
) {
    if upstream
        .write_all(&forwarded_request(req, authority, path))
        .is_err()
    {
        answer(&mut client, 502, "cannot send the request to the target");
        return;
    }
    // Read the answer head, then stream the rest as it comes. If the
    // target closes (or resets) without answering, so does the proxy.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break Some(pos);
        }
        if buf.len() > MAX_ANSWER_HEAD {
            break None;
        }
        match upstream.read(&mut chunk) {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            end => {
                // Pass on whatever partial head there was, then the end.
                let _ = client.write_all(&buf);
                return pass_on(end.is_err_and(|e| e.kind() == ConnectionReset), &client);
            }
        }
    };
    let relayed = match head_end {
        Some(pos) => client
            .write_all(&rewrite_answer_head(&buf[..pos]))
            .and_then(|()| client.write_all(&buf[pos + 4..])),
        None => client.write_all(&buf),
    };
    pass_on(relayed.is_ok() && pump(&mut upstream, &mut client), &client);
}

/// Copies bytes from `from` to `to` until one side ends; whether reading
/// ended with a connection reset.
fn pump(from: &mut TcpStream, to: &mut TcpStream) -> bool {
    io::copy(from, to).is_err_and(|e| e.kind() == ConnectionReset)
}

/// Ends the relay towards `to` after reading from the other side ended:
/// a reset is passed on as a reset (and `to`'s reading side is shut so
/// that the other direction stops too), anything else as end of stream.
fn pass_on(reset: bool, to: &TcpStream) {
    if reset {
        reset_on_close(to);
        let _ = to.shutdown(Shutdown::Read);
    } else {
        let _ = to.shutdown(Shutdown::Write);
    }
}

fn tunnel(mut client: TcpStream, mut upstream: TcpStream, leftover: &[u8]) {
    let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let started = client
        .write_all(established)
        .and_then(|()| upstream.write_all(leftover));
    let (Ok(()), Ok(mut client_read), Ok(mut upstream_write)) =
        (started, client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let outbound = thread::Builder::new()
        .name("rs-idc-fake-proxy-tunnel".into())
        .spawn(move || {
            let reset = pump(&mut client_read, &mut upstream_write);
            pass_on(reset, &upstream_write);
        });
    let reset = pump(&mut upstream, &mut client);
    pass_on(reset, &client);
    if outbound.map(|handle| handle.join()).is_err() {
        let _ = upstream.shutdown(Shutdown::Both);
    }
}
