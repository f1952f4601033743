//! HTTP/1.1 requests read with bounded buffers (heads and chunk sizes parsed
//! by `httparse`), and response heads.

use crate::tls::Stream;
use std::io::{self, Read, Write};

pub const MAX_HEAD_BYTES: usize = 64 * 1024;
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_CHUNK_LINE: usize = 1024;

pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn connection_tokens(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect()
    }

    pub fn wants_close(&self) -> bool {
        let tokens = self.connection_tokens();
        tokens.iter().any(|t| t == "close")
            || (self.minor_version == 0 && !tokens.iter().any(|t| t == "keep-alive"))
    }
}

pub enum ReadError {
    Closed,
    Reject(u16, &'static str),
}

use ReadError::{Closed, Reject};

pub struct Conn {
    pub stream: Stream,
    buf: Vec<u8>,
}

/// A header as a [`Request`] keeps it: the value trimmed, bytes that are
/// not UTF-8 replaced.
fn header(h: &httparse::Header<'_>) -> (String, String) {
    let value = String::from_utf8_lossy(h.value);
    (
        h.name.to_string(),
        value.trim_matches([' ', '\t']).to_string(),
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    pub fn new(stream: impl Into<Stream>) -> Conn {
        Conn {
            stream: stream.into(),
            buf: Vec::new(),
        }
    }

    /// Reads more bytes into the buffer: how many (0 at end of stream), or
    /// `Closed` if reading fails.
    fn fill(&mut self) -> Result<usize, ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
            }
        }
    }

    fn more(&mut self) -> Result<(), ReadError> {
        (self.fill()? > 0).then_some(()).ok_or(Closed)
    }

    fn fill_to(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n {
            self.more()?;
        }
        Ok(())
    }

    pub fn into_parts(self) -> (Stream, Vec<u8>) {
        (self.stream, self.buf)
    }

    /// Reads the next request. `Err(Closed)` when the peer goes away
    /// cleanly between requests.
    pub fn read_request(&mut self) -> Result<Request, ReadError> {
        let mut request = self.read_head()?;
        let chunked = match request.header("transfer-encoding") {
            None => false,
            Some(te) if te.to_ascii_lowercase().trim().ends_with("chunked") => true,
            Some(_) => return Err(Reject(501, "unsupported transfer encoding")),
        };
        let mut lengths = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim().parse::<u64>().ok());
        let first = lengths.next();
        let content_length = match first {
            _ if chunked => None,
            _ if lengths.any(|l| Some(l) != first) => {
                return Err(Reject(400, "conflicting Content-Length headers"))
            }
            None => Some(0),
            Some(Some(n)) => Some(n),
            Some(None) => return Err(Reject(400, "malformed Content-Length")),
        };
        if content_length.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(Reject(413, "request body too large"));
        }
        let expects_continue = request
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
        let body_pending = match content_length {
            Some(n) => (self.buf.len() as u64) < n,
            None => self.buf.is_empty(),
        };
        if expects_continue && request.minor_version == 1 && body_pending {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        request.body = match content_length {
            Some(n) => {
                let n = n as usize;
                self.fill_to(n)
                    .map_err(|_| Reject(400, "connection closed inside the request body"))?;
                self.buf.drain(..n).collect()
            }
            None => self.read_chunked()?,
        };
        Ok(request)
    }

    fn read_head(&mut self) -> Result<Request, ReadError> {
        let mut searched: usize = 0;
        let head_end = loop {
            // Blank lines before a request line are allowed (RFC 9112, 2.2).
            while self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            }
            let from = searched.saturating_sub(3).min(self.buf.len());
            if let Some(pos) = find(&self.buf[from..], b"\r\n\r\n") {
                break from + pos + 4;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(Reject(431, "request header too large"));
            }
            searched = self.buf.len();
            if self.fill()? == 0 {
                return Err(if self.buf.is_empty() {
                    Closed
                } else {
                    Reject(400, "connection closed inside the request header")
                });
            }
        };
        if head_end - 4 > MAX_HEAD_BYTES {
            return Err(Reject(431, "request header too large"));
        }
        let lines = self.buf[..head_end].iter().filter(|&&b| b == b'\n').count();
        let mut headers = vec![httparse::EMPTY_HEADER; lines];
        let mut head = httparse::Request::new(&mut headers);
        match head.parse(&self.buf[..head_end]) {
            Ok(httparse::Status::Complete(_)) => {}
            Err(httparse::Error::Version) => {
                return Err(Reject(505, "only HTTP/1.0 and HTTP/1.1 are spoken here"))
            }
            Err(httparse::Error::HeaderName) => return Err(Reject(400, "malformed header name")),
            Err(httparse::Error::HeaderValue) => return Err(Reject(400, "malformed header line")),
            _ => return Err(Reject(400, "malformed request line")),
        }
        let method = head.method.unwrap_or_default();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Reject(400, "malformed method"));
        }
        let target = head.path.unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let request = Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            minor_version: head.version.unwrap_or(1),
            headers: head.headers.iter().map(header).collect(),
            body: Vec::new(),
        };
        self.buf.drain(..head_end);
        Ok(request)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let (used, size) = match httparse::parse_chunk_size(&self.buf) {
                // "\r\n" alone has no size at all.
                Ok(httparse::Status::Complete((used, size))) if used > 2 => (used, size),
                Ok(httparse::Status::Partial) if self.buf.len() <= MAX_CHUNK_LINE => {
                    self.more()?;
                    continue;
                }
                Ok(httparse::Status::Partial) => {
                    return Err(Reject(400, "chunked body line too long"))
                }
                _ => return Err(Reject(400, "malformed chunk size")),
            };
            self.buf.drain(..used);
            if size == 0 {
                self.skip_trailers()?;
                return Ok(body);
            }
            let size = match usize::try_from(size) {
                Ok(size) if size <= MAX_BODY_BYTES - body.len() => size,
                _ => return Err(Reject(413, "request body too large")),
            };
            self.fill_to(size + 2)?;
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(Reject(400, "malformed chunk"));
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    fn skip_trailers(&mut self) -> Result<(), ReadError> {
        loop {
            if self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
                return Ok(());
            }
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                self.buf.drain(..pos + 4);
                return Ok(());
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(Reject(431, "chunked trailer too large"));
            }
            self.more()?;
        }
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
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

pub fn text(status: u16, body: &str, close: bool) -> Vec<u8> {
    let headers = [("Content-Type", "text/plain".to_string())];
    response(status, &headers, body.as_bytes(), close)
}

pub fn response(status: u16, headers: &[(&str, String)], body: &[u8], close: bool) -> Vec<u8> {
    let mut out = response_head(status, headers, body.len() as u64, close);
    out.extend_from_slice(body);
    out
}
