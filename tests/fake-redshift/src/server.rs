//! The listening socket, one thread per connection, the control endpoint
//! and the counters.

use crate::http::{self, Conn, ReadError, Request};
use crate::rng::{Rng, BASE64_ALPHABET};
use crate::service::{self, Reply};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

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
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            token_ttl_secs: 3600,
            verbose: false,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// State shared by every connection of one server.
pub(crate) struct State {
    pub token_ttl_secs: i64,
    verbose: bool,
    requests: AtomicU64,
    tokens: AtomicU64,
    issued: Mutex<Vec<String>>,
    fault_counts: Mutex<HashMap<String, u64>>,
    rng: Mutex<Rng>,
    shutdown: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

impl State {
    pub(crate) fn new(token_ttl_secs: i64, verbose: bool) -> State {
        State {
            token_ttl_secs,
            verbose,
            requests: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            issued: Mutex::new(Vec::new()),
            fault_counts: Mutex::new(HashMap::new()),
            rng: Mutex::new(Rng::new()),
            shutdown: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
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

    /// Zeroes the request and token counters and the `fault-X-N` counts.
    pub(crate) fn reset_counters(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.tokens.store(0, Ordering::SeqCst);
        lock(&self.fault_counts).clear();
    }

    fn log(&self, line: &str) {
        if self.verbose {
            let _ = writeln!(io::stderr(), "rs-idc-fake: {line}");
        }
    }

    /// Registers a connection so that shutdown can release it. `None` if
    /// the server is already shutting down.
    fn register(&self, stream: &TcpStream) -> Option<u64> {
        let clone = stream.try_clone().ok()?;
        let mut conns = lock(&self.conns);
        if self.shutdown.load(Ordering::SeqCst) {
            return None;
        }
        let id = self.next_conn.fetch_add(1, Ordering::SeqCst);
        conns.insert(id, clone);
        Some(id)
    }

    fn unregister(&self, id: u64) {
        lock(&self.conns).remove(&id);
    }

    fn begin_shutdown(&self) {
        let mut conns = lock(&self.conns);
        self.shutdown.store(true, Ordering::SeqCst);
        for (_, stream) in conns.drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// A running fake of the Redshift and Redshift Serverless
/// `GetIdentityCenterAuthToken` endpoints on 127.0.0.1.
///
/// Dropping it stops accepting connections and releases open ones
/// (including hanging and trickling ones) without waiting for them.
pub struct FakeServer {
    state: Arc<State>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
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
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(opts.token_ttl_secs, opts.verbose));
        let accept_state = Arc::clone(&state);
        let acceptor = thread::Builder::new()
            .name("rs-idc-fake-accept".into())
            .spawn(move || accept_loop(&listener, &accept_state))?;
        state.log(&format!("listening on http://{addr}"));
        Ok(FakeServer {
            state,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// API requests received: every request except control ones, whatever
    /// its outcome (faults and rejections included).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Answers that handed out a complete token (normal, `ttl-N`,
    /// `fault-trickle`, `fault-expired` and `fault-noexpiry` answers).
    pub fn tokens_issued(&self) -> u64 {
        self.state.tokens.load(Ordering::SeqCst)
    }

    /// Every complete token handed out so far, oldest first (not cleared
    /// by [`FakeServer::reset_counters`]).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.state.issued).clone()
    }

    /// Zeroes [`FakeServer::requests`], [`FakeServer::tokens_issued`] and
    /// the counts behind `fault-X-N` identifiers.
    pub fn reset_counters(&self) {
        self.state.reset_counters();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.state.begin_shutdown();
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

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    for stream in listener.incoming() {
        if state.shutting_down() {
            return;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or similar: back off a little.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let Some(id) = state.register(&stream) else {
            return;
        };
        let conn_state = Arc::clone(state);
        let spawned = thread::Builder::new()
            .name("rs-idc-fake-conn".into())
            .spawn(move || {
                serve_connection(&conn_state, stream, id);
                conn_state.unregister(id);
            });
        if spawned.is_err() {
            state.unregister(id);
        }
    }
}

fn serve_connection(state: &State, stream: TcpStream, id: u64) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut conn = Conn::new(stream);
    loop {
        let req = match conn.read_request() {
            Ok(req) => req,
            Err(ReadError::Closed) => return,
            Err(ReadError::Reject(status, message)) => {
                state.requests.fetch_add(1, Ordering::SeqCst);
                state.log(&format!("rejected request: {status} {message}"));
                let body = format!("{message}\n");
                let headers = [("Content-Type", "text/plain".to_string())];
                let _ =
                    conn.stream
                        .write_all(&http::response(status, &headers, body.as_bytes(), true));
                return;
            }
        };
        let close = req.wants_close();
        if let Some(reply) = control(state, &req, close) {
            if conn.stream.write_all(&reply).is_err() || close {
                return;
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
                return;
            }
            Reply::Reset => {
                state.unregister(id);
                conn.discard_buffer();
                reset(conn.stream);
                return;
            }
        };
        if written.is_err() || close {
            return;
        }
    }
}

/// Answers `/_fake/...` requests; `None` for any other path.
fn control(state: &State, req: &Request, close: bool) -> Option<Vec<u8>> {
    if !req.path.starts_with("/_fake/") {
        return None;
    }
    let text = [("Content-Type", "text/plain".to_string())];
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_fake/stats") => {
            let body = format!(
                "requests {}\ntokens {}\n",
                state.requests.load(Ordering::SeqCst),
                state.tokens.load(Ordering::SeqCst)
            );
            http::response(200, &text, body.as_bytes(), close)
        }
        ("POST", "/_fake/reset") => {
            state.reset_counters();
            http::response(200, &text, b"ok\n", close)
        }
        (_, "/_fake/stats" | "/_fake/reset") => {
            http::response(405, &text, b"method not allowed\n", close)
        }
        _ => http::response(404, &text, b"no such control endpoint\n", close),
    })
}

fn trickle(state: &State, stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
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
    stream: &mut TcpStream,
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
fn hang(state: &State, stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
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

/// Closes the connection with a TCP reset (SO_LINGER with a zero timeout).
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open for the lifetime of `stream`, and the
    // option value points to a properly sized `linger` struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}
