//! Relaying: a request passed on in origin form and its answer streamed
//! back, or a `CONNECT` tunnel copying bytes both ways.

use super::answer;
use crate::conns::reset_on_close;
use crate::http::Request;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

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

pub(super) fn tunnel(mut client: TcpStream, mut upstream: TcpStream, leftover: &[u8]) {
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
                ("Proxy-Authorization".into(), "Basic dXNlcjpwYXNz".into()),
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
