//! The listening socket, one thread per connection, the control endpoint
//! and the counters.

use crate::conns::{lock, reset_on_close, Registry};
use crate::control;
use crate::http::{self, Conn, ReadError};
use crate::proxy::{FakeProxy, ProxyCounters};
use crate::rng::{Rng, BASE64_ALPHABET};
use crate::service::{self, Reply};
use crate::tls::{self, Stream};
use rustls::ServerConfig;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle keep-alive connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a single blocked write may take before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `fault-hang` keeps a connection open at most.
const HANG_LIMIT: Duration = Duration::from_secs(600);
/// Pause between bytes of `fault-trickle`.
const TRICKLE_PAUSE: Duration = Duration::from_millis(250);

/// Options of a [`FakeServer`].
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Lifetime of normal tokens, in seconds (default 3600).
    pub token_ttl_secs: i64,
    /// Write one line per request to stderr (default false). Lines never
    /// hold tokens, secret keys or session tokens.
    pub verbose: bool,
    /// Serve HTTPS instead of plain HTTP (default false), with a
    /// certificate made at start for `127.0.0.1`, `localhost` and
    /// [`crate::NAMED_HOST`], signed by
    /// a certificate authority also made at start (see
    /// [`FakeServer::ca_pem`]).
    pub tls: bool,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            token_ttl_secs: 3600,
            verbose: false,
            tls: false,
        }
    }
}

/// State shared by every connection of one server.
pub(crate) struct State {
    pub token_ttl_secs: i64,
    verbose: bool,
    pub requests: AtomicU64,
    pub tokens: AtomicU64,
    /// `GET /_fake/credentials` answers.
    pub credentials: AtomicU64,
    issued: Mutex<Vec<String>>,
    fault_counts: Mutex<HashMap<String, u64>>,
    rng: Mutex<Rng>,
    conns: Registry,
    /// The counters of a proxy whose count `/_fake/stats` reports.
    pub proxy: Mutex<Option<Arc<ProxyCounters>>>,
    /// The same for a proxy that requires authentication.
    pub auth_proxy: Mutex<Option<Arc<ProxyCounters>>>,
}

impl State {
    pub(crate) fn new(token_ttl_secs: i64, verbose: bool) -> State {
        State {
            token_ttl_secs,
            verbose,
            requests: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            credentials: AtomicU64::new(0),
            issued: Mutex::new(Vec::new()),
            fault_counts: Mutex::new(HashMap::new()),
            rng: Mutex::new(Rng::new()),
            conns: Registry::new(),
            proxy: Mutex::new(None),
            auth_proxy: Mutex::new(None),
        }
    }

    pub(crate) fn rng(&self) -> MutexGuard<'_, Rng> {
        lock(&self.rng)
    }

    /// Counts a successful token answer and remembers the token.
    pub(crate) fn record_token(&self, token: &str) {
        self.tokens.fetch_add(1, Ordering::SeqCst);
        lock(&self.issued).push(token.to_string());
    }

    /// Counts one request for a counted fault name; returns the count
    /// before this request.
    pub(crate) fn count_fault(&self, name: &str) -> u64 {
        let mut counts = lock(&self.fault_counts);
        let n = counts.entry(name.to_string()).or_insert(0);
        let before = *n;
        *n = n.saturating_add(1);
        before
    }

    /// Zeroes the request, token and credential counters, the `fault-X-N`
    /// counts and the linked proxies' counters.
    pub(crate) fn reset_counters(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.tokens.store(0, Ordering::SeqCst);
        self.credentials.store(0, Ordering::SeqCst);
        lock(&self.fault_counts).clear();
        for linked in [&self.proxy, &self.auth_proxy] {
            if let Some(proxy) = lock(linked).as_ref() {
                proxy.reset();
            }
        }
    }

    /// Sleeps for `pause` in short steps, ending early if the server shuts
    /// down.
    pub(crate) fn pause(&self, pause: Duration) {
        let deadline = Instant::now() + pause;
        while !self.shutting_down() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    pub(crate) fn log(&self, line: &str) {
        if self.verbose {
            let _ = writeln!(io::stderr(), "rs-idc-fake: {line}");
        }
    }

    fn shutting_down(&self) -> bool {
        self.conns.shutting_down()
    }
}

/// A running fake of the Redshift and Redshift Serverless
/// `GetIdentityCenterAuthToken` endpoints on 127.0.0.1.
///
/// It speaks plain HTTP, or HTTPS when started with [`FakeOptions::tls`].
///
/// Dropping it stops accepting connections and releases open ones
/// (including hanging and trickling ones) without waiting for them.
pub struct FakeServer {
    state: Arc<State>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    ca_pem: Option<String>,
}

impl FakeServer {
    /// Starts a server on a free port of 127.0.0.1 with default options.
    pub fn start() -> io::Result<FakeServer> {
        FakeServer::start_with(FakeOptions::default())
    }

    /// Starts a server on a free port of 127.0.0.1.
    pub fn start_with(opts: FakeOptions) -> io::Result<FakeServer> {
        FakeServer::start_on_port(0, opts)
    }

    /// Starts a server on the given port of 127.0.0.1 (0 picks a free one).
    pub fn start_on_port(port: u16, opts: FakeOptions) -> io::Result<FakeServer> {
        let identity = if opts.tls {
            Some(tls::generate()?)
        } else {
            None
        };
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(opts.token_ttl_secs, opts.verbose));
        let accept_state = Arc::clone(&state);
        let config = identity.as_ref().map(|id| Arc::clone(&id.config));
        let acceptor = thread::Builder::new()
            .name("rs-idc-fake-accept".into())
            .spawn(move || accept_loop(&listener, &accept_state, config))?;
        let scheme = if opts.tls { "https" } else { "http" };
        state.log(&format!("listening on {scheme}://{addr}"));
        Ok(FakeServer {
            state,
            addr,
            acceptor: Some(acceptor),
            ca_pem: identity.map(|id| id.ca_pem),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The base URL: `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT`
    /// with TLS.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.port())
    }

    /// The base URL with [`crate::NAMED_HOST`] as host:
    /// `http://fake.rs-idc.test:PORT` (`https://` with TLS; the
    /// certificate names that host too). The name does not resolve: use
    /// it through a [`FakeProxy`], which connects to 127.0.0.1, or with a
    /// client told to connect it to 127.0.0.1.
    pub fn named_url(&self) -> String {
        format!("{}://{}:{}", self.scheme(), crate::NAMED_HOST, self.port())
    }

    fn scheme(&self) -> &'static str {
        if self.is_tls() {
            "https"
        } else {
            "http"
        }
    }

    /// Whether the server speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.ca_pem.is_some()
    }

    /// With TLS, the PEM text of the certificate authority that signed the
    /// server's certificate: what a client must trust (one `CERTIFICATE`
    /// block, no key). `None` without TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Writes [`FakeServer::ca_pem`] to `path` (created or truncated).
    /// Fails with [`io::ErrorKind::InvalidInput`] without TLS.
    pub fn write_ca_file(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let pem = self.ca_pem.as_deref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the fake was started without TLS",
            )
        })?;
        std::fs::write(path, pem)
    }

    /// Makes `GET /_fake/stats` report `proxy`'s [`FakeProxy::requests`] as
    /// a third line, `proxied N`, and `POST /_fake/reset` (and
    /// [`FakeServer::reset_counters`]) zero the proxy's counters too.
    pub fn link_proxy(&self, proxy: &FakeProxy) {
        *lock(&self.state.proxy) = Some(proxy.counters());
    }

    /// Like [`FakeServer::link_proxy`], for a proxy started with
    /// [`FakeProxy::start_with_auth`]: `GET /_fake/stats` ends with
    /// `auth_proxied N` ([`FakeProxy::requests`]) and `auth_refused N`
    /// ([`FakeProxy::auth_refused`]), and resets zero its counters.
    pub fn link_auth_proxy(&self, proxy: &FakeProxy) {
        *lock(&self.state.auth_proxy) = Some(proxy.counters());
    }

    /// API requests received: every request except control ones, whatever
    /// its outcome (faults and rejections included).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Answers that handed out a complete token (normal, `ttl-N`,
    /// `slow-N`, `fault-trickle`, `fault-expired` and `fault-noexpiry`
    /// answers).
    pub fn tokens_issued(&self) -> u64 {
        self.state.tokens.load(Ordering::SeqCst)
    }

    /// Every complete token handed out so far, oldest first (not cleared
    /// by [`FakeServer::reset_counters`]).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.state.issued).clone()
    }

    /// `GET /_fake/credentials` requests answered (they are not counted
    /// in [`FakeServer::requests`]).
    pub fn credential_requests(&self) -> u64 {
        self.state.credentials.load(Ordering::SeqCst)
    }

    /// Zeroes [`FakeServer::requests`], [`FakeServer::tokens_issued`],
    /// [`FakeServer::credential_requests`], the counts behind
    /// `fault-X-N` identifiers and the counters of proxies linked with
    /// [`FakeServer::link_proxy`] or [`FakeServer::link_auth_proxy`].
    pub fn reset_counters(&self) {
        self.state.reset_counters();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.state.conns.begin_shutdown();
        // Wake the acceptor, which then sees the shutdown flag and returns,
        // closing the listening socket.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woke {
                let _ = acceptor.join();
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>, tls: Option<Arc<ServerConfig>>) {
    for stream in listener.incoming() {
        if state.shutting_down() {
            return;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or similar: back off a little.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let Some(id) = state.conns.register(&stream) else {
            return;
        };
        let conn_state = Arc::clone(state);
        let conn_tls = tls.clone();
        let spawned = thread::Builder::new()
            .name("rs-idc-fake-conn".into())
            .spawn(move || {
                serve_connection(&conn_state, conn_tls.as_ref(), stream, id);
                conn_state.conns.unregister(id);
            });
        if spawned.is_err() {
            state.conns.unregister(id);
        }
    }
}

fn serve_connection(state: &State, tls: Option<&Arc<ServerConfig>>, tcp: TcpStream, id: u64) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let stream = match tls {
        None => Stream::Plain(tcp),
        Some(config) => {
            let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
            match Stream::accept_tls(config, tcp) {
                Ok(s) => s,
                Err(e) => {
                    // Not a request: nothing is counted.
                    state.log(&format!("TLS handshake failed: {e}"));
                    return;
                }
            }
        }
    };
    let _ = stream.tcp().set_read_timeout(Some(IDLE_TIMEOUT));
    let mut conn = Conn::new(stream);
    if serve_requests(state, &mut conn, id) == End::Finish {
        conn.stream.finish();
    }
}

/// How a connection's request loop ended.
#[derive(PartialEq, Eq)]
enum End {
    /// Normally (close requested, peer gone, error): end TLS cleanly.
    Finish,
    /// The socket was reset or released on purpose: nothing more to send.
    Abandon,
}

fn serve_requests(state: &State, conn: &mut Conn, id: u64) -> End {
    loop {
        let req = match conn.read_request() {
            Ok(req) => req,
            Err(ReadError::Closed) => return End::Finish,
            Err(ReadError::Reject(status, message)) => {
                state.requests.fetch_add(1, Ordering::SeqCst);
                state.log(&format!("rejected request: {status} {message}"));
                let body = format!("{message}\n");
                let headers = [("Content-Type", "text/plain".to_string())];
                let _ =
                    conn.stream
                        .write_all(&http::response(status, &headers, body.as_bytes(), true));
                return End::Finish;
            }
        };
        let close = req.wants_close();
        if let Some(reply) = control::control(state, &req, close) {
            if conn.stream.write_all(&reply).is_err() || close {
                return End::Finish;
            }
            continue;
        }
        let number = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let outcome = service::handle_api(state, &req, close);
        state.log(&format!(
            "#{number} {} {} {}",
            req.method, req.path, outcome.summary
        ));
        let written = match outcome.reply {
            Reply::Bytes(bytes) => conn.stream.write_all(&bytes),
            Reply::Trickle(bytes) => trickle(state, &mut conn.stream, &bytes),
            Reply::Huge {
                head,
                prefix,
                filler,
                suffix,
            } => write_huge(&mut conn.stream, &head, &prefix, filler, &suffix),
            Reply::Hang => {
                hang(state, &mut conn.stream);
                return End::Abandon;
            }
            Reply::Reset => {
                state.conns.unregister(id);
                conn.discard_buffer();
                reset_on_close(conn.stream.tcp());
                return End::Abandon;
            }
        };
        if written.is_err() || close {
            return End::Finish;
        }
    }
}

fn trickle(state: &State, stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
    for (i, b) in bytes.iter().enumerate() {
        if state.shutting_down() {
            return Err(io::Error::other("shutting down"));
        }
        if i > 0 {
            thread::sleep(TRICKLE_PAUSE);
        }
        stream.write_all(std::slice::from_ref(b))?;
    }
    Ok(())
}

fn write_huge(
    stream: &mut Stream,
    head: &[u8],
    prefix: &[u8],
    filler: u64,
    suffix: &[u8],
) -> io::Result<()> {
    stream.write_all(head)?;
    stream.write_all(prefix)?;
    let chunk: Vec<u8> = BASE64_ALPHABET
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024)
        .collect();
    let mut left = filler;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    stream.write_all(suffix)
}

/// Keeps the connection open without answering until the peer closes it,
/// the server shuts down, or the hang limit passes.
fn hang(state: &State, stream: &mut Stream) {
    let _ = stream
        .tcp()
        .set_read_timeout(Some(Duration::from_millis(500)));
    let deadline = Instant::now() + HANG_LIMIT;
    let mut scratch = [0u8; 4096];
    while Instant::now() < deadline && !state.shutting_down() {
        match stream.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}
