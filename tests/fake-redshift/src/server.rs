//! The listening socket, one thread per connection, the control endpoint
//! and the counters.

use crate::conns::{lock, reset_on_close, Listener, Registry};
use crate::control;
use crate::http::{self, Conn, ReadError};
use crate::identity;
use crate::proxy::{FakeProxy, ProxyCounters};
use crate::service::{self, Reply};
use crate::tls::{self, Stream};
use rustls::ServerConfig;
use std::collections::HashMap;
use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
const HANG_LIMIT: Duration = Duration::from_secs(600);
const TRICKLE_PAUSE: Duration = Duration::from_millis(250);

/// Options of a [`FakeServer`].
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Lifetime of normal tokens, in seconds (default 3600).
    pub token_ttl_secs: i64,
    /// Serve HTTPS with a certificate made at start (default false; see
    /// [`FakeServer::ca_pem`]).
    pub tls: bool,
    /// Lifetime of the credentials that AssumeRole and
    /// AssumeRoleWithWebIdentity mint, in seconds (default 3600).
    pub user_credentials_ttl_secs: i64,
    /// Lifetime of the refresh tokens that CreateTokenWithIAM and
    /// CreateToken hand out, in seconds (default 28800).
    pub refresh_token_ttl_secs: i64,
    /// `expiresIn` of the access tokens that CreateToken (browser sign-in)
    /// hands out, in seconds (default 3600).
    pub access_token_ttl_secs: i64,
    /// `expiresIn` of StartDeviceAuthorization's device codes, in seconds
    /// (default 600).
    pub device_code_ttl_secs: i64,
    /// `interval` of StartDeviceAuthorization, in seconds (default 1); a
    /// poll sooner than this after the previous one is answered
    /// `SlowDownException` (0: never).
    pub device_interval_secs: i64,
    /// The first this many polls (CreateToken) of each device code are
    /// answered `SlowDownException` (default 0).
    pub device_slow_downs: u32,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            token_ttl_secs: 3600,
            tls: false,
            user_credentials_ttl_secs: 3600,
            refresh_token_ttl_secs: 28_800,
            access_token_ttl_secs: 3600,
            device_code_ttl_secs: 600,
            device_interval_secs: 1,
            device_slow_downs: 0,
        }
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub token_ttl_secs: i64,
    pub requests: AtomicU64,
    pub tokens: AtomicU64,
    /// `GET /_fake/credentials` answers.
    pub credentials: AtomicU64,
    issued: Mutex<Vec<String>>,
    fault_counts: Mutex<HashMap<String, u64>>,
    conns: Arc<Registry>,
    /// The counters of a proxy whose count the stats report.
    pub proxy: Mutex<Option<Arc<ProxyCounters>>>,
    /// The same for a proxy that requires authentication.
    pub auth_proxy: Mutex<Option<Arc<ProxyCounters>>>,
    /// Keys, minted credentials, refresh tokens and operation counters of
    /// trusted identity propagation.
    pub identity: identity::Store,
    /// What clients said about themselves (neither is secret), oldest
    /// first, at most [`MOST_SEEN`] each: the distinct user agents of API
    /// requests, and the operation and role session name of STS calls.
    pub user_agents: Mutex<Vec<String>>,
    pub session_names: Mutex<Vec<(String, String)>>,
    /// `http://127.0.0.1:PORT` (`https://` with TLS), once listening.
    pub url: std::sync::OnceLock<String>,
}

const MOST_SEEN: usize = 256;

impl State {
    pub(crate) fn note<T: PartialEq>(list: &Mutex<Vec<T>>, item: T, distinct: bool) {
        let mut list = lock(list);
        if list.len() < MOST_SEEN && !(distinct && list.contains(&item)) {
            list.push(item);
        }
    }

    pub(crate) fn new(opts: &FakeOptions) -> State {
        State {
            token_ttl_secs: opts.token_ttl_secs,
            identity: identity::Store::new(opts),
            ..State::default()
        }
    }

    pub(crate) fn record_token(&self, token: &str) {
        self.tokens.fetch_add(1, Ordering::SeqCst);
        lock(&self.issued).push(token.to_string());
    }

    pub(crate) fn count_fault(&self, name: &str) -> u64 {
        let mut counts = lock(&self.fault_counts);
        let n = counts.entry(name.to_string()).or_insert(0);
        *n += 1;
        *n - 1
    }

    pub(crate) fn reset_counters(&self) {
        self.identity.reset_counters();
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

    fn shutting_down(&self) -> bool {
        self.conns.shutting_down()
    }
}

/// A running fake of the Redshift and Redshift Serverless
/// `GetIdentityCenterAuthToken` endpoints on 127.0.0.1. Dropping it stops
/// listening and releases open connections without waiting.
pub struct FakeServer {
    state: Arc<State>,
    listener: Listener,
    ca_pem: Option<String>,
}

impl FakeServer {
    /// Starts a server on a free port of 127.0.0.1 with default options.
    pub fn start() -> io::Result<FakeServer> {
        FakeServer::start_with(FakeOptions::default())
    }

    /// Starts a server on a free port of 127.0.0.1.
    pub fn start_with(opts: FakeOptions) -> io::Result<FakeServer> {
        let identity = opts.tls.then(tls::generate).transpose()?;
        let state = Arc::new(State::new(&opts));
        let conn_state = Arc::clone(&state);
        let config = identity.as_ref().map(|id| Arc::clone(&id.config));
        let serve = move |stream, id| serve_connection(&conn_state, config.as_ref(), stream, id);
        let listener = Listener::start("rs-idc-fake", Arc::clone(&state.conns), serve)?;
        let server = FakeServer {
            state,
            listener,
            ca_pem: identity.map(|id| id.ca_pem),
        };
        let _ = server.state.url.set(server.url());
        Ok(server)
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.listener.addr.port()
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.port())
    }

    /// `http://fake.rs-idc.test:PORT` (`https://` with TLS), a name that
    /// does not resolve: use it through a [`FakeProxy`].
    pub fn named_url(&self) -> String {
        format!("{}://{}:{}", self.scheme(), crate::NAMED_HOST, self.port())
    }

    fn scheme(&self) -> &'static str {
        if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// With TLS, the PEM of the certificate authority to trust (one
    /// `CERTIFICATE` block, no key).
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Writes [`FakeServer::ca_pem`] to `path`; `InvalidInput` without TLS.
    pub fn write_ca_file(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let no_tls = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the fake was started without TLS",
            )
        };
        std::fs::write(path, self.ca_pem.as_deref().ok_or_else(no_tls)?)
    }

    /// Reports `proxy`'s [`FakeProxy::requests`] as `proxied N` in
    /// the stats, and zeroes its counters on resets.
    pub fn link_proxy(&self, proxy: &FakeProxy) {
        *lock(&self.state.proxy) = Some(proxy.counters());
    }

    /// The same for a proxy that requires authentication: `auth_proxied N`
    /// and `auth_refused N`.
    pub fn link_auth_proxy(&self, proxy: &FakeProxy) {
        *lock(&self.state.auth_proxy) = Some(proxy.counters());
    }

    /// API requests received, whatever their outcome (not control ones).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// The distinct `User-Agent` headers of API requests, oldest first.
    pub fn user_agents(&self) -> Vec<String> {
        lock(&self.state.user_agents).clone()
    }

    /// The `RoleSessionName` of each `operation` call (`"AssumeRole"` or
    /// `"AssumeRoleWithWebIdentity"`), oldest first.
    pub fn role_session_names(&self, operation: &str) -> Vec<String> {
        lock(&self.state.session_names)
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, name)| name.clone())
            .collect()
    }

    /// Answers that handed out a whole token.
    pub fn tokens_issued(&self) -> u64 {
        self.state.tokens.load(Ordering::SeqCst)
    }

    /// Every whole token handed out, oldest first (never cleared); those
    /// answered to a user's credentials too (see [`crate::token_subject`]).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.state.issued).clone()
    }

    /// `GET /_fake/credentials` requests answered.
    pub fn credential_requests(&self) -> u64 {
        self.state.credentials.load(Ordering::SeqCst)
    }

    /// Zeroes the counters (per-operation ones too), the `fault-X-N`
    /// counts and linked proxies' counters.
    pub fn reset_counters(&self) {
        self.state.reset_counters();
    }
}

fn serve_connection(state: &State, tls: Option<&Arc<ServerConfig>>, tcp: TcpStream, id: u64) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let stream = match tls {
        None => Stream::from(tcp),
        Some(config) => {
            let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
            match Stream::accept_tls(config, tcp) {
                Ok(s) => s,
                // Not a request: nothing is counted.
                Err(_) => return,
            }
        }
    };
    let _ = stream.tcp().set_read_timeout(Some(IDLE_TIMEOUT));
    let mut conn = Conn::new(stream);
    if serve_requests(state, &mut conn, id) {
        conn.stream.finish();
    }
}

/// Answers requests until the connection ends: `true` if it ended normally
/// (close requested, peer gone, error) and TLS should end cleanly, `false`
/// if the socket was reset or released on purpose.
fn serve_requests(state: &State, conn: &mut Conn, id: u64) -> bool {
    loop {
        let req = match conn.read_request() {
            Ok(req) => req,
            Err(ReadError::Closed) => return true,
            Err(ReadError::Reject(status, message)) => {
                state.requests.fetch_add(1, Ordering::SeqCst);
                let _ = conn
                    .stream
                    .write_all(&http::text(status, &format!("{message}\n"), true));
                return true;
            }
        };
        let close = req.wants_close();
        if let Some(reply) = control::control(state, &req, close) {
            if conn.stream.write_all(&reply).is_err() || close {
                return true;
            }
            continue;
        }
        state.requests.fetch_add(1, Ordering::SeqCst);
        if let Some(agent) = req.header("user-agent") {
            State::note(&state.user_agents, agent.to_string(), true);
        }
        let written = match service::handle_api(state, &req, close) {
            Reply::Bytes(bytes) => conn.stream.write_all(&bytes),
            Reply::Trickle(bytes) => trickle(state, &mut conn.stream, &bytes),
            Reply::Huge(start, filler, end) => conn
                .stream
                .write_all(&start)
                .and_then(|()| io::copy(&mut io::repeat(b'A').take(filler), &mut conn.stream))
                .and_then(|_| conn.stream.write_all(&end)),
            Reply::Hang => {
                hang(state, &mut conn.stream);
                return false;
            }
            Reply::Reset => {
                state.conns.unregister(id);
                reset_on_close(conn.stream.tcp());
                return false;
            }
        };
        if written.is_err() || close {
            return true;
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
            Err(e) if !matches!(e.kind(), WouldBlock | TimedOut | Interrupted) => return,
            _ => {}
        }
    }
}
