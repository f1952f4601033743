//! Relaying: a request passed on in origin form and its answer streamed
//! back, or a `CONNECT` tunnel copying bytes both ways.

use super::answer;
use crate::conns::reset_on_close;
use crate::http::Request;
use std::io::ErrorKind::ConnectionReset;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

const MAX_ANSWER_HEAD: usize = 64 * 1024;

/// Hop-by-hop headers, not passed on to the target; also `Content-Length`
/// (the body goes on with its exact length) and `Expect` (the proxy
/// answered `100 Continue` itself).
#[rustfmt::skip]
const HOP_BY_HOP: &[&str] = &[
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
    "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect",
];

/// The request as sent on to the target: origin form, hop-by-hop headers
/// dropped, exact `Content-Length`, `Connection: close`.
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

pub(super) fn forward(
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

pub(super) fn tunnel(mut client: TcpStream, mut upstream: TcpStream, leftover: &[u8]) {
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
