//! A small HTTP proxy on 127.0.0.1 that counts what goes through it.
//!
//! It takes absolute-form requests for `http://` targets (`POST
//! http://127.0.0.1:P/ HTTP/1.1`), forwards them and relays the answer,
//! and `CONNECT 127.0.0.1:P` tunnels for `https://` targets. It only ever
//! connects to 127.0.0.1: a request for any host other than `127.0.0.1` or
//! `localhost` is refused with 403 before anything is connected.

use crate::conns::{reset_on_close, Registry};
use crate::http::{self, Conn, ReadError, Request};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long the proxy waits for a client's request, or for more bytes from
/// a client inside a tunnel.
const CLIENT_IDLE: Duration = Duration::from_secs(300);
/// How long the proxy waits for bytes from a target. Longer than the
/// fake's longest hang, so that the fake's own behaviour shows through.
const TARGET_IDLE: Duration = Duration::from_secs(900);
/// How long a single blocked write may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long connecting to a target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer head relayed from a target.
const MAX_ANSWER_HEAD: usize = 64 * 1024;

/// Hop-by-hop headers, not passed on to the target.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    // Replaced: the body is passed on with its exact length.
    "content-length",
    // The proxy already answered `100 Continue` itself when asked.
    "expect",
];

/// The counters of a proxy, shared with its connection threads and with a
/// [`crate::FakeServer`] that reports them.
pub(crate) struct ProxyCounters {
    requests: AtomicU64,
    tunnels: AtomicU64,
    refused: AtomicU64,
}

impl ProxyCounters {
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub(crate) fn reset(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.tunnels.store(0, Ordering::SeqCst);
        self.refused.store(0, Ordering::SeqCst);
    }
}

struct Shared {
    counters: Arc<ProxyCounters>,
    conns: Registry,
}

/// A running HTTP proxy on 127.0.0.1 that only reaches 127.0.0.1.
///
/// Each client connection carries one proxied request (answered with
/// `Connection: close`) or one tunnel. Dropping the proxy stops accepting
/// connections and closes open ones, tunnels included, without waiting.
pub struct FakeProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeProxy {
    /// Starts a proxy on a free port of 127.0.0.1.
    pub fn start() -> io::Result<FakeProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            counters: Arc::new(ProxyCounters {
                requests: AtomicU64::new(0),
                tunnels: AtomicU64::new(0),
                refused: AtomicU64::new(0),
            }),
            conns: Registry::new(),
        });
        let accept_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("rs-idc-fake-proxy-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(FakeProxy {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The proxy's URL, `http://127.0.0.1:PORT` (for `HTTP_PROXY`,
    /// `HTTPS_PROXY` or a client's proxy setting).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// Requests handled: absolute-form requests forwarded to their target
    /// plus `CONNECT` tunnels opened. Refused requests and targets that
    /// could not be reached are not counted.
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests()
    }

    /// The `CONNECT` tunnels among [`FakeProxy::requests`].
    pub fn tunnels(&self) -> u64 {
        self.shared.counters.tunnels.load(Ordering::SeqCst)
    }

    /// Requests refused with 403 because their target was not 127.0.0.1
    /// or `localhost`.
    pub fn refused(&self) -> u64 {
        self.shared.counters.refused.load(Ordering::SeqCst)
    }

    /// Zeroes [`FakeProxy::requests`], [`FakeProxy::tunnels`] and
    /// [`FakeProxy::refused`].
    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    pub(crate) fn counters(&self) -> Arc<ProxyCounters> {
        Arc::clone(&self.shared.counters)
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        self.shared.conns.begin_shutdown();
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woke {
                let _ = acceptor.join();
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.conns.shutting_down() {
            return;
        }
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let Some(id) = shared.conns.register(&stream) else {
            return;
        };
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("rs-idc-fake-proxy-conn".into())
            .spawn(move || {
                serve_client(&conn_shared, stream);
                conn_shared.conns.unregister(id);
            });
        if spawned.is_err() {
            shared.conns.unregister(id);
        }
    }
}

/// Where a request asks to go.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `CONNECT host:port`.
    Tunnel { host: String, port: u16 },
    /// `METHOD http://host[:port]/path`: the origin-form path (with query).
    Forward {
        host: String,
        port: u16,
        authority: String,
        path: String,
    },
}

impl Target {
    fn host(&self) -> &str {
        match self {
            Target::Tunnel { host, .. } | Target::Forward { host, .. } => host,
        }
    }

    fn port(&self) -> u16 {
        match self {
            Target::Tunnel { port, .. } | Target::Forward { port, .. } => *port,
        }
    }
}

/// Splits `host[:port]` (IPv6 literals in brackets); `None` if malformed.
fn split_authority(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let host = format!("[{inside}]");
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0)?,
        None => default_port?,
    };
    Some((host, port))
}

/// Where `req` asks to go, or the status and message to refuse it with.
pub(crate) fn parse_target(
    method: &str,
    path: &str,
    query: &str,
) -> Result<Target, (u16, &'static str)> {
    if method == "CONNECT" {
        if !query.is_empty() {
            return Err((400, "malformed CONNECT target"));
        }
        let (host, port) =
            split_authority(path, None).ok_or((400, "CONNECT needs a host:port target"))?;
        return Ok(Target::Tunnel { host, port });
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
    Ok(Target::Forward {
        host,
        port,
        authority: authority.to_string(),
        path: origin,
    })
}

/// Whether the proxy may connect to `host`: only 127.0.0.1 and localhost.
pub(crate) fn allowed_host(host: &str) -> bool {
    host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost")
}

fn answer(client: &mut impl Write, status: u16, message: &str) {
    let body = format!("rs-idc-fake proxy: {message}\n");
    let headers = [("Content-Type", "text/plain".to_string())];
    let _ = client.write_all(&http::response(status, &headers, body.as_bytes(), true));
}

fn serve_client(shared: &Shared, client: TcpStream) {
    let _ = client.set_nodelay(true);
    let _ = client.set_read_timeout(Some(CLIENT_IDLE));
    let _ = client.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut conn = Conn::new(client);
    let req = match conn.read_request() {
        Ok(req) => req,
        Err(ReadError::Closed) => return,
        Err(ReadError::Reject(status, message)) => {
            answer(&mut conn.stream, status, message);
            return;
        }
    };
    let target = match parse_target(&req.method, &req.path, &req.query) {
        Ok(t) => t,
        Err((status, message)) => {
            answer(&mut conn.stream, status, message);
            return;
        }
    };
    if !allowed_host(target.host()) {
        shared.counters.refused.fetch_add(1, Ordering::SeqCst);
        answer(
            &mut conn.stream,
            403,
            "only 127.0.0.1 and localhost targets are allowed",
        );
        return;
    }
    // Always 127.0.0.1, also for `localhost`, so that nothing else is
    // ever reached.
    let upstream_addr = SocketAddr::from(([127, 0, 0, 1], target.port()));
    let upstream = match TcpStream::connect_timeout(&upstream_addr, CONNECT_TIMEOUT) {
        Ok(s) => s,
        Err(_) => {
            answer(&mut conn.stream, 502, "cannot connect to the target");
            return;
        }
    };
    let Some(upstream_id) = shared.conns.register(&upstream) else {
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = upstream.set_read_timeout(Some(TARGET_IDLE));
    let _ = upstream.set_write_timeout(Some(WRITE_TIMEOUT));
    shared.counters.requests.fetch_add(1, Ordering::SeqCst);
    let (client_stream, leftover) = conn.into_parts();
    let client = client_stream.into_tcp();
    match target {
        Target::Tunnel { .. } => {
            shared.counters.tunnels.fetch_add(1, Ordering::SeqCst);
            tunnel(client, upstream, &leftover);
        }
        Target::Forward {
            authority, path, ..
        } => forward(client, upstream, &req, &authority, &path),
    }
    shared.conns.unregister(upstream_id);
}

/// The request as sent on to the target: origin form, hop-by-hop headers
/// dropped, exact `Content-Length`, `Connection: close`.
pub(crate) fn forwarded_request(req: &Request, authority: &str, path: &str) -> Vec<u8> {
    let named_in_connection: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
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
            Ok(0) => {
                // Pass on whatever partial head there was, then close.
                let _ = client.write_all(&buf);
                let _ = client.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = client.write_all(&buf);
                if e.kind() == io::ErrorKind::ConnectionReset {
                    reset_on_close(&client);
                }
                return;
            }
        }
    };
    let relayed = match head_end {
        Some(pos) => client
            .write_all(&rewrite_answer_head(&buf[..pos]))
            .and_then(|()| client.write_all(&buf[pos + 4..])),
        None => client.write_all(&buf),
    };
    if relayed.is_ok() && pump(&mut upstream, &mut client) == PumpEnd::Reset {
        reset_on_close(&client);
        return;
    }
    let _ = client.shutdown(Shutdown::Write);
}

/// How copying from one socket to another ended.
#[derive(PartialEq, Eq)]
enum PumpEnd {
    /// End of stream, a write error or a timeout.
    Done,
    /// Reading failed with a connection reset.
    Reset,
}

/// Copies bytes from `from` to `to` until one side ends.
fn pump(from: &mut TcpStream, to: &mut TcpStream) -> PumpEnd {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return PumpEnd::Done,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return PumpEnd::Done;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return PumpEnd::Reset,
            Err(_) => return PumpEnd::Done,
        }
    }
}

/// Ends the relay towards `to` after reading from the other side ended:
/// a reset is passed on as a reset (and `to`'s reading side is shut so
/// that the other direction stops too), anything else as end of stream.
fn pass_on(end: PumpEnd, to: &TcpStream) {
    match end {
        PumpEnd::Reset => {
            reset_on_close(to);
            let _ = to.shutdown(Shutdown::Read);
        }
        PumpEnd::Done => {
            let _ = to.shutdown(Shutdown::Write);
        }
    }
}

fn tunnel(mut client: TcpStream, mut upstream: TcpStream, leftover: &[u8]) {
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    if !leftover.is_empty() && upstream.write_all(leftover).is_err() {
        return;
    }
    let (Ok(mut client_read), Ok(mut upstream_write)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let outbound = thread::Builder::new()
        .name("rs-idc-fake-proxy-tunnel".into())
        .spawn(move || {
            let end = pump(&mut client_read, &mut upstream_write);
            pass_on(end, &upstream_write);
        });
    let end = pump(&mut upstream, &mut client);
    pass_on(end, &client);
    match outbound {
        Ok(handle) => {
            let _ = handle.join();
        }
        Err(_) => {
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_parsed() {
        assert_eq!(
            parse_target("CONNECT", "127.0.0.1:8443", ""),
            Ok(Target::Tunnel {
                host: "127.0.0.1".into(),
                port: 8443
            })
        );
        assert_eq!(
            parse_target("POST", "http://localhost:9000/a/b", "x=1"),
            Ok(Target::Forward {
                host: "localhost".into(),
                port: 9000,
                authority: "localhost:9000".into(),
                path: "/a/b?x=1".into()
            })
        );
        assert_eq!(
            parse_target("GET", "HTTP://127.0.0.1", ""),
            Ok(Target::Forward {
                host: "127.0.0.1".into(),
                port: 80,
                authority: "127.0.0.1".into(),
                path: "/".into()
            })
        );
        assert_eq!(
            parse_target("CONNECT", "[::1]:443", "").map(|t| t.host().to_string()),
            Ok("[::1]".to_string())
        );
        for (method, path) in [
            ("CONNECT", "127.0.0.1"),
            ("CONNECT", "127.0.0.1:0"),
            ("CONNECT", "127.0.0.1:99999"),
            ("CONNECT", "user@127.0.0.1:80"),
            ("POST", "/"),
            ("POST", "https://127.0.0.1:1/"),
            ("POST", "http:///x"),
        ] {
            assert!(
                matches!(parse_target(method, path, ""), Err((400, _))),
                "{method} {path} was accepted"
            );
        }
    }

    #[test]
    fn only_loopback_names_are_allowed() {
        assert!(allowed_host("127.0.0.1"));
        assert!(allowed_host("LocalHost"));
        for host in [
            "127.0.0.2",
            "[::1]",
            "example.com",
            "localhost.example.com",
            "10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(!allowed_host(host), "{host} was allowed");
        }
    }

    #[test]
    fn forwarded_requests_drop_hop_by_hop_headers() {
        let req = Request {
            method: "POST".into(),
            path: "http://127.0.0.1:9/".into(),
            query: String::new(),
            minor_version: 1,
            headers: vec![
                ("Host".into(), "127.0.0.1:9".into()),
                ("Proxy-Connection".into(), "keep-alive".into()),
                ("Connection".into(), "keep-alive, X-Drop".into()),
                ("X-Drop".into(), "1".into()),
                ("Transfer-Encoding".into(), "chunked".into()),
                ("Expect".into(), "100-continue".into()),
                ("Authorization".into(), "AWS4-HMAC-SHA256 x".into()),
            ],
            body: b"abc".to_vec(),
        };
        let text = String::from_utf8(forwarded_request(&req, "127.0.0.1:9", "/")).expect("utf-8");
        assert_eq!(
            text,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAuthorization: AWS4-HMAC-SHA256 x\r\n\
             Content-Length: 3\r\nConnection: close\r\n\r\nabc"
        );
    }

    #[test]
    fn answer_heads_get_connection_close() {
        let head = b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2";
        assert_eq!(
            rewrite_answer_head(head),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n".to_vec()
        );
    }
}
