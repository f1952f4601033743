//! A small HTTP proxy on 127.0.0.1 that counts what goes through it.
//!
//! It takes absolute-form requests for `http://` targets (`POST
//! http://127.0.0.1:P/ HTTP/1.1`), forwards them and relays the answer,
//! and `CONNECT 127.0.0.1:P` tunnels for `https://` targets. It only ever
//! connects to 127.0.0.1: a request for any host other than `127.0.0.1`,
//! `localhost` or [`crate::NAMED_HOST`] is refused with 403 before anything
//! is connected, and no name is ever resolved. Started with a user and
//! password, it also requires `Proxy-Authorization: Basic` credentials.

mod auth;
mod relay;
mod target;

use crate::conns::Registry;
use crate::http::{self, Conn, ReadError};
use auth::{ProxyAuth, REALM};
use relay::{forward, tunnel};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;
use target::{allowed_host, parse_target, Target};

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

/// The counters of a proxy, shared with its connection threads and with a
/// [`crate::FakeServer`] that reports them.
#[derive(Default)]
pub(crate) struct ProxyCounters {
    requests: AtomicU64,
    tunnels: AtomicU64,
    refused: AtomicU64,
    auth_refused: AtomicU64,
    authenticated: AtomicU64,
}

impl ProxyCounters {
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub(crate) fn auth_refused(&self) -> u64 {
        self.auth_refused.load(Ordering::SeqCst)
    }

    pub(crate) fn reset(&self) {
        for counter in [
            &self.requests,
            &self.tunnels,
            &self.refused,
            &self.auth_refused,
            &self.authenticated,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

struct Shared {
    counters: Arc<ProxyCounters>,
    conns: Registry,
    /// The credentials required, if any.
    auth: Option<ProxyAuth>,
}

/// A running HTTP proxy on 127.0.0.1 that only reaches 127.0.0.1.
///
/// Each client connection carries one proxied request (answered with
/// `Connection: close`) or one tunnel. Targets may be `127.0.0.1`,
/// `localhost` or [`crate::NAMED_HOST`]; the proxy connects to 127.0.0.1
/// for all of them. Started with [`FakeProxy::start_with_auth`], it
/// answers requests without the right `Proxy-Authorization: Basic`
/// credentials with 407. Dropping the proxy stops accepting connections
/// and closes open ones, tunnels included, without waiting.
pub struct FakeProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeProxy {
    /// Starts a proxy on a free port of 127.0.0.1.
    pub fn start() -> io::Result<FakeProxy> {
        FakeProxy::launch(None)
    }

    /// Starts a proxy on a free port of 127.0.0.1 that requires
    /// `Proxy-Authorization: Basic base64(user:password)` on every request
    /// and `CONNECT`. Others get `407 Proxy Authentication Required` (with
    /// `Proxy-Authenticate: Basic realm="rs-idc-fake"`), are counted in
    /// [`FakeProxy::auth_refused`] and are not relayed.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] if `user` is empty or
    /// holds `:`, or either holds a control character.
    pub fn start_with_auth(user: &str, password: &str) -> io::Result<FakeProxy> {
        FakeProxy::launch(Some(ProxyAuth::new(user, password)?))
    }

    fn launch(auth: Option<ProxyAuth>) -> io::Result<FakeProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            counters: Arc::new(ProxyCounters::default()),
            conns: Registry::new(),
            auth,
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
    /// `HTTPS_PROXY` or a client's proxy setting), without credentials
    /// even when the proxy requires them.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// Whether the proxy was started with [`FakeProxy::start_with_auth`].
    pub fn requires_auth(&self) -> bool {
        self.shared.auth.is_some()
    }

    /// With authentication, the URL with the credentials in it,
    /// `http://USER:PASSWORD@127.0.0.1:PORT` (user and password
    /// percent-encoded); `None` without. It holds the password: do not
    /// print it.
    pub fn auth_url(&self) -> Option<String> {
        self.shared.auth.as_ref().map(|a| a.url(self.port()))
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

    /// Requests refused with 403 because their target was not 127.0.0.1,
    /// `localhost` or [`crate::NAMED_HOST`].
    pub fn refused(&self) -> u64 {
        self.shared.counters.refused.load(Ordering::SeqCst)
    }

    /// Requests and `CONNECT`s answered 407 because they lacked the
    /// credentials of a proxy started with [`FakeProxy::start_with_auth`]
    /// (always 0 for other proxies).
    pub fn auth_refused(&self) -> u64 {
        self.shared.counters.auth_refused()
    }

    /// Requests and `CONNECT`s that carried the right credentials, whatever
    /// happened to them next (always 0 for a proxy without
    /// authentication).
    pub fn authenticated(&self) -> u64 {
        self.shared.counters.authenticated.load(Ordering::SeqCst)
    }

    /// Zeroes every counter: [`FakeProxy::requests`],
    /// [`FakeProxy::tunnels`], [`FakeProxy::refused`],
    /// [`FakeProxy::auth_refused`] and [`FakeProxy::authenticated`].
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

/// Answers with `status` and a short text, then the connection closes.
fn answer(client: &mut impl Write, status: u16, message: &str) {
    answer_with(client, status, message, Vec::new());
}

fn answer_with(
    client: &mut impl Write,
    status: u16,
    message: &str,
    mut headers: Vec<(&'static str, String)>,
) {
    let body = format!("rs-idc-fake proxy: {message}\n");
    headers.push(("Content-Type", "text/plain".to_string()));
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
    if let Some(auth) = &shared.auth {
        if !auth.accepts(&req) {
            shared.counters.auth_refused.fetch_add(1, Ordering::SeqCst);
            answer_with(
                &mut conn.stream,
                407,
                "proxy authentication required",
                vec![("Proxy-Authenticate", format!("Basic realm=\"{REALM}\""))],
            );
            return;
        }
        shared.counters.authenticated.fetch_add(1, Ordering::SeqCst);
    }
    if !allowed_host(target.host()) {
        shared.counters.refused.fetch_add(1, Ordering::SeqCst);
        answer(
            &mut conn.stream,
            403,
            "only 127.0.0.1, localhost and fake.rs-idc.test targets are allowed",
        );
        return;
    }
    // Always 127.0.0.1, also for `localhost` and the named host, so that
    // nothing else is ever reached and no name is resolved.
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
