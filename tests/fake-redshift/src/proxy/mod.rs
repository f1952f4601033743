//! A small HTTP proxy on 127.0.0.1 that counts what goes through it: see
//! "Proxy" in the crate's README.

mod auth;
mod relay;
mod target;

use crate::conns::{Listener, Registry};
use crate::http::{self, Conn, ReadError, Request};
use auth::{ProxyAuth, REALM};
use relay::{forward, tunnel};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use target::{allowed_host, parse_target, Target};

/// How long the proxy waits for a client's request, or for more bytes from
/// a client inside a tunnel.
const CLIENT_IDLE: Duration = Duration::from_secs(300);
/// How long the proxy waits for bytes from a target. Longer than the
/// fake's longest hang, so that the fake's own behaviour shows through.
const TARGET_IDLE: Duration = Duration::from_secs(900);
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The counters of a proxy, shared with its connection threads and with a
/// [`crate::FakeServer`] that reports them.
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
        self.shared.auth.as_ref().map(|a| a.url(self.port()))
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

type Opened = (Request, Target, TcpStream);

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
    let target = parse_target(&req.method, &req.path, &req.query)?;
    if let Some(auth) = &shared.auth {
        if !auth.accepts(&req) {
            count(&shared.counters.auth_refused);
            return Err((407, "proxy authentication required"));
        }
        count(&shared.counters.authenticated);
    }
    if !allowed_host(&target.host) {
        count(&shared.counters.refused);
        return Err((
            403,
            "only 127.0.0.1, localhost and fake.rs-idc.test targets are allowed",
        ));
    }
    // Always 127.0.0.1, also for `localhost` and the named host, so that
    // nothing else is ever reached and no name is resolved.
    let upstream_addr = SocketAddr::from(([127, 0, 0, 1], target.port));
    let upstream = TcpStream::connect_timeout(&upstream_addr, CONNECT_TIMEOUT)
        .map_err(|_| (502, "cannot connect to the target"))?;
    Ok(Some((req, target, upstream)))
}

fn serve_client(shared: &Shared, client: TcpStream) {
    let _ = client.set_nodelay(true);
    let _ = client.set_read_timeout(Some(CLIENT_IDLE));
    let _ = client.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut conn = Conn::new(client);
    let (req, target, upstream) = match open(shared, &mut conn) {
        Ok(Some(opened)) => opened,
        Ok(None) => return,
        Err((status, message)) => return answer(&mut conn.stream, status, message),
    };
    let Some(upstream_id) = shared.conns.register(&upstream) else {
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = upstream.set_read_timeout(Some(TARGET_IDLE));
    let _ = upstream.set_write_timeout(Some(WRITE_TIMEOUT));
    count(&shared.counters.requests);
    let (client_stream, leftover) = conn.into_parts();
    let client = client_stream.into_tcp();
    match target.forward {
        None => {
            count(&shared.counters.tunnels);
            tunnel(client, upstream, &leftover);
        }
        Some((authority, path)) => forward(client, upstream, &req, &authority, &path),
    }
    shared.conns.unregister(upstream_id);
}
