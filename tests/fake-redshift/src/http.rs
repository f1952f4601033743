//! Just enough HTTP/1.1 for the fake: request parsing with bounded reads,
//! keep-alive, `Expect: 100-continue`, `Content-Length` and chunked
//! request bodies, and response heads.

use crate::tls::Stream;
use std::io::{self, Read, Write};

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A parsed request.
#[derive(Debug)]
pub struct Request {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Path as sent, without the query string.
    pub path: String,
    /// Query string as sent, without `?` (empty if none).
    pub query: String,
    /// Minor HTTP version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Headers in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if it was chunked.
    pub body: Vec<u8>,
}

impl Request {
    /// First value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection must be closed after answering.
    pub fn wants_close(&self) -> bool {
        let tokens = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect::<Vec<_>>();
        if tokens.iter().any(|t| t == "close") {
            return true;
        }
        self.minor_version == 0 && !tokens.iter().any(|t| t == "keep-alive")
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection (or it timed out or was shut down)
    /// between requests.
    Closed,
    /// The request was malformed or too large: answer with this status and
    /// message, then close.
    Reject(u16, &'static str),
}

/// A connection with its read buffer.
pub struct Conn {
    /// The socket (plain or TLS).
    pub stream: Stream,
    buf: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    /// Wraps an accepted socket.
    pub fn new(stream: impl Into<Stream>) -> Conn {
        Conn {
            stream: stream.into(),
            buf: Vec::new(),
        }
    }

    /// Reads more bytes into the buffer; `Ok(false)` at end of stream.
    fn fill(&mut self) -> Result<bool, ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(ReadError::Closed),
            }
        }
    }

    /// Makes sure the buffer holds at least `n` bytes.
    fn fill_to(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Err(ReadError::Closed);
            }
        }
        Ok(())
    }

    /// Takes one CRLF-terminated line (without the CRLF), at most `cap` bytes.
    fn take_line(&mut self, cap: usize) -> Result<Vec<u8>, ReadError> {
        let mut searched: usize = 0;
        loop {
            if let Some(pos) = find(&self.buf[searched.saturating_sub(1)..], b"\r\n") {
                let end = searched.saturating_sub(1) + pos;
                let line = self.buf[..end].to_vec();
                self.buf.drain(..end + 2);
                return Ok(line);
            }
            if self.buf.len() > cap {
                return Err(ReadError::Reject(400, "chunked body line too long"));
            }
            searched = self.buf.len();
            if !self.fill()? {
                return Err(ReadError::Closed);
            }
        }
    }

    /// Discards whatever is buffered (used before closing).
    pub fn discard_buffer(&mut self) {
        self.buf.clear();
    }

    /// Takes the bytes read past the last request, and the stream.
    pub fn into_parts(self) -> (Stream, Vec<u8>) {
        (self.stream, self.buf)
    }

    /// Reads the next request. `Err(Closed)` when the peer goes away
    /// cleanly between requests.
    pub fn read_request(&mut self) -> Result<Request, ReadError> {
        // Head.
        let mut searched: usize = 0;
        let head_end = loop {
            // Blank lines before a request line are allowed (RFC 9112, 2.2).
            while self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            }
            let from = searched.saturating_sub(3).min(self.buf.len());
            if let Some(pos) = find(&self.buf[from..], b"\r\n\r\n") {
                break from + pos;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(ReadError::Reject(431, "request header too large"));
            }
            searched = self.buf.len();
            let was_empty = self.buf.is_empty();
            if !self.fill()? {
                return if was_empty {
                    Err(ReadError::Closed)
                } else {
                    Err(ReadError::Reject(
                        400,
                        "connection closed inside the request header",
                    ))
                };
            }
        };
        if head_end > MAX_HEAD_BYTES {
            return Err(ReadError::Reject(431, "request header too large"));
        }
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);

        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or("");
        let mut parts = request_line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadError::Reject(400, "malformed request line"));
        };
        let minor_version = match version {
            "HTTP/1.1" => 1,
            "HTTP/1.0" => 0,
            _ => {
                return Err(ReadError::Reject(
                    505,
                    "only HTTP/1.0 and HTTP/1.1 are spoken here",
                ))
            }
        };
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ReadError::Reject(400, "malformed method"));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(ReadError::Reject(400, "malformed header line"));
            };
            if name.is_empty() || name.ends_with(' ') || name.ends_with('\t') {
                return Err(ReadError::Reject(400, "malformed header name"));
            }
            headers.push((
                name.to_string(),
                value.trim_matches([' ', '\t']).to_string(),
            ));
        }
        let mut request = Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            minor_version,
            headers,
            body: Vec::new(),
        };

        // Body.
        let chunked = match request.header("transfer-encoding") {
            None => false,
            Some(te) if te.to_ascii_lowercase().trim().ends_with("chunked") => true,
            Some(_) => return Err(ReadError::Reject(501, "unsupported transfer encoding")),
        };
        let content_length = if chunked {
            None
        } else {
            let mut lengths = request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.trim().parse::<u64>());
            let first = lengths.next();
            if lengths.any(|l| l.as_ref().ok() != first.as_ref().and_then(|f| f.as_ref().ok())) {
                return Err(ReadError::Reject(400, "conflicting Content-Length headers"));
            }
            match first {
                None => Some(0),
                Some(Ok(n)) => Some(n),
                Some(Err(_)) => return Err(ReadError::Reject(400, "malformed Content-Length")),
            }
        };
        if let Some(n) = content_length {
            if n > MAX_BODY_BYTES as u64 {
                return Err(ReadError::Reject(413, "request body too large"));
            }
        }
        let expects_continue = request
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
        let body_pending = match content_length {
            Some(n) => (self.buf.len() as u64) < n,
            None => self.buf.is_empty(),
        };
        if expects_continue && minor_version == 1 && body_pending {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        request.body = match content_length {
            Some(n) => {
                let n = n as usize;
                self.fill_to(n).map_err(|_| {
                    ReadError::Reject(400, "connection closed inside the request body")
                })?;
                self.buf.drain(..n).collect()
            }
            None => self.read_chunked()?,
        };
        Ok(request)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.take_line(1024)?;
            let line = String::from_utf8_lossy(&line);
            let size_text = line.split(';').next().unwrap_or("").trim();
            let Ok(size) = usize::from_str_radix(size_text, 16) else {
                return Err(ReadError::Reject(400, "malformed chunk size"));
            };
            if size == 0 {
                // Trailer section, ended by an empty line.
                let mut trailer_bytes = 0;
                loop {
                    let trailer = self.take_line(MAX_HEAD_BYTES)?;
                    if trailer.is_empty() {
                        return Ok(body);
                    }
                    trailer_bytes += trailer.len();
                    if trailer_bytes > MAX_HEAD_BYTES {
                        return Err(ReadError::Reject(431, "chunked trailer too large"));
                    }
                }
            }
            if body.len() + size > MAX_BODY_BYTES {
                return Err(ReadError::Reject(413, "request body too large"));
            }
            self.fill_to(size + 2)?;
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Reject(400, "malformed chunk"));
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }
}

/// Reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Builds a response head with `Content-Length`, `Date` and, if `close`,
/// `Connection: close`.
pub fn response_head(
    status: u16,
    headers: &[(&str, String)],
    content_length: u64,
    close: bool,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Date: {}\r\nContent-Length: {content_length}\r\n",
        crate::timefmt::http_date(crate::timefmt::now_epoch_secs())
    ));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Builds a whole response with a body.
pub fn response(status: u16, headers: &[(&str, String)], body: &[u8], close: bool) -> Vec<u8> {
    let mut out = response_head(status, headers, body.len() as u64, close);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    /// Feeds `input` to a `Conn` through a loopback socket and collects the
    /// outcome of reading requests until the stream ends.
    fn read_all(input: Vec<u8>) -> Vec<Result<Request, ReadError>> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let writer = thread::spawn(move || {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(&input).expect("write");
            s.shutdown(std::net::Shutdown::Write).expect("shutdown");
            // Drain anything the reader answers (e.g. 100 Continue).
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
            sink
        });
        let (stream, _) = listener.accept().expect("accept");
        let mut conn = Conn::new(stream);
        let mut out = Vec::new();
        loop {
            let r = conn.read_request();
            let stop = r.is_err();
            out.push(r);
            if stop {
                break;
            }
        }
        drop(conn);
        writer.join().expect("writer");
        out
    }

    #[test]
    fn reads_two_pipelined_requests() {
        let results = read_all(
            b"POST /?a=b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
              \r\nGET /_fake/stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                .to_vec(),
        );
        assert_eq!(results.len(), 3);
        let first = results[0].as_ref().expect("first");
        assert_eq!(first.method, "POST");
        assert_eq!(first.path, "/");
        assert_eq!(first.query, "a=b");
        assert_eq!(first.body, b"abc");
        assert_eq!(first.header("HOST"), Some("x"));
        assert!(!first.wants_close());
        let second = results[1].as_ref().expect("second");
        assert_eq!(second.path, "/_fake/stats");
        assert!(!second.wants_close());
        assert!(matches!(results[2], Err(ReadError::Closed)));
    }

    #[test]
    fn reads_chunked_bodies() {
        let results = read_all(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n"
                .to_vec(),
        );
        let first = results[0].as_ref().expect("request");
        assert_eq!(first.body, b"abcde");
        assert!(first.wants_close());
    }

    #[test]
    fn rejects_oversized_and_malformed_requests() {
        let big_head = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert!(matches!(
            read_all(big_head.into_bytes())[0],
            Err(ReadError::Reject(431, _))
        ));
        let big_body = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert!(matches!(
            read_all(big_body.into_bytes())[0],
            Err(ReadError::Reject(413, _))
        ));
        assert!(matches!(
            read_all(b"NONSENSE\r\n\r\n".to_vec())[0],
            Err(ReadError::Reject(400, _))
        ));
        assert!(matches!(
            read_all(b"GET / HTTP/2.0\r\n\r\n".to_vec())[0],
            Err(ReadError::Reject(505, _))
        ));
        assert!(matches!(
            read_all(
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec()
            )[0],
            Err(ReadError::Reject(400, _))
        ));
        assert!(matches!(
            read_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab".to_vec())[0],
            Err(ReadError::Reject(400, _))
        ));
    }

    #[test]
    fn http10_closes_by_default() {
        let results = read_all(b"GET / HTTP/1.0\r\n\r\n".to_vec());
        assert!(results[0].as_ref().expect("request").wants_close());
    }

    #[test]
    fn heads_carry_length_and_close() {
        let text = String::from_utf8(response(
            404,
            &[("Content-Type", "text/plain".into())],
            b"no",
            true,
        ))
        .expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(text.contains("\r\nContent-Type: text/plain\r\n"));
        assert!(text.contains("\r\nContent-Length: 2\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nno"));
    }
}
