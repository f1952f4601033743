//! The sign-in's loopback listener, where the browser comes back with the
//! authorization code.
//!
//! The sign-in's own thread serves it with `poll()`: no thread per
//! connection. At most [`MAX_CONNECTIONS`] connections are read at once;
//! a new one beyond that closes the one that has been quiet longest, so
//! idle connections cannot keep the browser out. Each connection has one
//! total time bound ([`CONNECTION_BOUND`], and never past the sign-in's
//! deadline), and every connection still open is closed when the sign-in
//! ends. A forked child never keeps the listening socket (see
//! [`crate::fork::ClosedInChild`]).

use crate::clock::Deadline;
use crate::error::Error;
use crate::fork;
use crate::status::Status;
use crate::steps::{self, Step};
use std::io::{ErrorKind, Read, Write};
use std::mem::ManuallyDrop;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The most connections read at once.
pub(crate) const MAX_CONNECTIONS: usize = 4;
/// The longest a connection is kept, from accept to answer.
pub(crate) const CONNECTION_BOUND: Duration = Duration::from_secs(5);
/// The most bytes of a request read.
const MAX_REQUEST: usize = 16 * 1024;

/// A listener on 127.0.0.1 for one sign-in.
pub(crate) struct Listener {
    /// Closed when dropped, unless in a child after `fork()`, where the
    /// fork handler closed it already (see [`fork::ClosedInChild`]).
    socket: ManuallyDrop<TcpListener>,
    port: u16,
    /// The process that bound it: a child that runs on from a fork (in
    /// the host's open-URL callback, say) must not serve the parent's.
    pid: u32,
    /// Unregistered before the socket closes, so that a fork in between
    /// never closes another descriptor that took its number.
    closed_in_child: Option<fork::ClosedInChild>,
}

/// One browser connection being read.
struct Connection {
    stream: TcpStream,
    request: Zeroizing<Vec<u8>>,
    until: Instant,
    heard_at: Instant,
}

/// What one request from the browser said.
#[derive(Debug, PartialEq)]
enum Answer {
    /// The code, with this sign-in's state.
    Code(Zeroizing<String>),
    /// The person or the service refused, with this sign-in's state.
    Refused(String),
    /// An answer for another sign-in, or without a state: not ours.
    WrongState,
    /// Anything else (a browser asking for an icon, say).
    Other,
}

impl Listener {
    /// Listens on 127.0.0.1:`port`, before the browser is opened.
    pub(crate) fn bind(port: u16) -> Result<Listener, Error> {
        let socket = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
            Error::new(
                Status::Network,
                format!(
                    "listen_port: the browser sign-in cannot listen on 127.0.0.1:{port} ({e}); \
                     free the port or choose another with listen_port"
                ),
            )
        })?;
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::internal(format!("the sign-in listener: {e}")))?;
        let closed_in_child = fork::ClosedInChild::new(socket.as_raw_fd());
        Ok(Listener {
            socket: ManuallyDrop::new(socket),
            port,
            pid: fork::current_pid(),
            closed_in_child: Some(closed_in_child),
        })
    }

    /// Answers the browser's requests until one brings back a code (or a
    /// refusal) with `state`, or `deadline` passes. A redirect with
    /// another state, or none, is refused, logged and never exchanged.
    pub(crate) fn wait_for_code(
        &self,
        state: &str,
        deadline: &Deadline,
    ) -> Result<Zeroizing<String>, Error> {
        steps::happened(Step::WaitingForBrowser(self.port));
        let mut connections: Vec<Connection> = Vec::new();
        let mut refused = 0usize;
        loop {
            if fork::current_pid() != self.pid {
                return Err(Error::internal(
                    "the browser sign-in was forked: a child does not serve the parent's",
                ));
            }
            let now = Instant::now();
            if now >= deadline.at() {
                return Err(timed_out(refused));
            }
            connections.retain(|c| now < c.until);
            let wake = connections
                .iter()
                .map(|c| c.until)
                .fold(deadline.at(), Instant::min);
            let mut fds: Vec<libc::pollfd> = std::iter::once(self.socket.as_raw_fd())
                .chain(connections.iter().map(|c| c.stream.as_raw_fd()))
                .map(|fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            let wait_ms = wake
                .saturating_duration_since(now)
                .as_millis()
                .clamp(1, 1000) as i32;
            // SAFETY: `fds` is a live array of `fds.len()` pollfd records.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
            if ready <= 0 {
                continue;
            }
            // Readable connections first (in reverse, so removals keep
            // the indexes of the rest), then new ones.
            for at in (0..connections.len()).rev() {
                if fds[at + 1].revents == 0 {
                    continue;
                }
                match read_some(&mut connections[at]) {
                    Progress::More => continue,
                    Progress::Closed => {}
                    Progress::Whole => match respond(&mut connections[at], state) {
                        Answer::Code(code) => return Ok(code),
                        Answer::Refused(error) => return Err(refusal(&error)),
                        Answer::WrongState => {
                            refused += 1;
                            steps::happened(Step::StateRefused);
                        }
                        Answer::Other => {}
                    },
                }
                connections.swap_remove(at);
            }
            if fds[0].revents != 0 {
                self.accept(&mut connections, deadline);
            }
        }
    }

    /// Accepts every waiting connection; beyond [`MAX_CONNECTIONS`] the
    /// one quiet longest is closed.
    fn accept(&self, connections: &mut Vec<Connection>, deadline: &Deadline) {
        loop {
            match self.socket.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if connections.len() >= MAX_CONNECTIONS {
                        let quietest =
                            (0..connections.len()).min_by_key(|&i| connections[i].heard_at);
                        if let Some(quietest) = quietest {
                            connections.swap_remove(quietest);
                        }
                    }
                    let now = Instant::now();
                    connections.push(Connection {
                        stream,
                        request: Zeroizing::new(Vec::with_capacity(1024)),
                        until: (now + CONNECTION_BOUND).min(deadline.at()),
                        heard_at: now,
                    });
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // WouldBlock: none left; anything else: the next poll tells.
                Err(_) => return,
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        drop(self.closed_in_child.take());
        if fork::current_pid() == self.pid {
            // SAFETY: dropped once, here; never used again.
            unsafe { ManuallyDrop::drop(&mut self.socket) };
        }
    }
}

/// How far a connection's request came.
enum Progress {
    More,
    Whole,
    Closed,
}

/// Reads what a connection has sent so far.
fn read_some(connection: &mut Connection) -> Progress {
    let mut chunk = Zeroizing::new([0u8; 1024]);
    loop {
        match connection.stream.read(&mut chunk[..]) {
            Ok(0) => return Progress::Closed,
            Ok(n) => {
                connection.heard_at = Instant::now();
                connection.request.extend_from_slice(&chunk[..n]);
                let request = &connection.request;
                if request.windows(4).any(|w| w == b"\r\n\r\n") || request.len() >= MAX_REQUEST {
                    return Progress::Whole;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::More,
            Err(_) => return Progress::Closed,
        }
    }
}

/// Reads the request's target, writes the page the browser shows, and
/// says what the request was.
fn respond(connection: &mut Connection, state: &str) -> Answer {
    let answer = classify(&connection.request, state);
    let (status, page) = match &answer {
        Answer::Code(_) => (
            "200 OK",
            "Signed in to Amazon Redshift. You may close this window.",
        ),
        Answer::Refused(_) => (
            "200 OK",
            "The sign-in was refused. You may close this window.",
        ),
        Answer::WrongState => (
            "400 Bad Request",
            "This sign-in answer does not belong to the sign-in in progress.",
        ),
        Answer::Other => ("404 Not Found", "Not found."),
    };
    let body = format!(
        "<!DOCTYPE html><html><head><title>rs-idc</title></head><body><p>{page}</p></body></html>"
    );
    // A small answer on a fresh socket fits its buffer: one write, without
    // waiting for a browser that does not read.
    let _ = write!(
        connection.stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    answer
}

/// What the request `request` says, for a sign-in with `state`.
fn classify(request: &[u8], state: &str) -> Answer {
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let target = Zeroizing::new(
        String::from_utf8_lossy(line)
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned(),
    );
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let (mut code, mut given_state, mut error) = (None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "code" => code = Some(Zeroizing::new(value.into_owned())),
            "state" => given_state = Some(Zeroizing::new(value.into_owned())),
            "error" => error = Some(value.into_owned()),
            _ => {}
        }
    }
    let same_state = given_state.as_ref().is_some_and(|given| {
        aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), state.as_bytes())
            .is_ok()
    });
    let about_a_sign_in = code.is_some() || error.is_some() || given_state.is_some();
    match (code, error) {
        _ if about_a_sign_in && !same_state => Answer::WrongState,
        (_, Some(error)) => Answer::Refused(error),
        (Some(code), None) => Answer::Code(code),
        (None, None) => Answer::Other,
    }
}

fn refusal(error: &str) -> Error {
    Error::new(
        Status::Identity,
        format!(
            "the browser sign-in was refused: {}",
            error.escape_default()
        ),
    )
}

fn timed_out(refused: usize) -> Error {
    let mut message =
        String::from("the browser sign-in did not finish within idp_response_timeout_s");
    if refused > 0 {
        message.push_str(&format!(
            "; {refused} answer(s) with a wrong or missing state were refused (a redirect \
             that does not belong to this sign-in, or a stale browser tab)"
        ));
    }
    Error::new(Status::Timeout, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
    }

    #[test]
    fn only_this_sign_ins_state_brings_a_code() {
        let ours = "s3cr3t";
        assert_eq!(
            classify(&request("/?code=c0de&state=s3cr3t"), ours),
            Answer::Code(Zeroizing::new("c0de".into()))
        );
        assert_eq!(
            classify(&request("/?code=c0de&state=other"), ours),
            Answer::WrongState
        );
        assert_eq!(classify(&request("/?code=c0de"), ours), Answer::WrongState);
        assert_eq!(
            classify(&request("/?error=denied"), ours),
            Answer::WrongState
        );
        assert_eq!(
            classify(&request("/?error=access_denied&state=s3cr3t"), ours),
            Answer::Refused("access_denied".into())
        );
        assert_eq!(classify(&request("/favicon.ico"), ours), Answer::Other);
        assert_eq!(classify(b"garbage", ours), Answer::Other);
    }

    #[test]
    fn a_timeout_says_how_many_answers_were_refused() {
        assert!(!timed_out(0).message().contains("state"));
        let message = timed_out(2).message().to_owned();
        assert!(message.contains("2 answer(s) with a wrong or missing state were refused"));
    }
}
