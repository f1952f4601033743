//! `rs-idc-fake web-token SUB [TTL_SECS]`: asks the fake named by
//! `RS_IDC_FAKE_URL` (a plain `http://` URL on 127.0.0.1 or localhost) for a
//! web token and prints it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

/// Usage of the subcommand.
pub const USAGE: &str = "rs-idc-fake web-token SUB [TTL_SECS]";

/// The port of `http://127.0.0.1:PORT` or `http://localhost:PORT` (a
/// trailing `/` allowed).
fn loopback_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = rest.rsplit_once(':')?;
    let loopback = host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost");
    loopback.then(|| port.parse().ok()).flatten()
}

/// `GET /_fake/web-token` at 127.0.0.1:`port`: the status and body.
fn fetch(port: u16, subject: &str, ttl: i64) -> io::Result<(u16, String)> {
    let sub: String = form_urlencoded::byte_serialize(subject.as_bytes()).collect();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "GET /_fake/web-token?sub={sub}&ttl={ttl} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other("the answer has no header end"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("the answer has no status"))?;
    Ok((status, body.to_string()))
}

/// Runs the subcommand with the arguments after `web-token`.
pub fn run(args: &[String]) -> ExitCode {
    let fail = |message: &str| {
        let _ = writeln!(io::stderr(), "rs-idc-fake web-token: {message}");
        ExitCode::FAILURE
    };
    let (subject, ttl) = match args {
        [sub] => (sub, 3600),
        [sub, ttl] => match ttl.parse::<i64>() {
            Ok(ttl) => (sub, ttl),
            Err(_) => return fail(&format!("bad TTL_SECS {ttl:?}\nusage: {USAGE}")),
        },
        _ => return fail(&format!("usage: {USAGE}")),
    };
    let Ok(url) = std::env::var("RS_IDC_FAKE_URL") else {
        return fail("RS_IDC_FAKE_URL is not set (run this under `rs-idc-fake run`)");
    };
    let Some(port) = loopback_port(&url) else {
        return fail(&format!(
            "RS_IDC_FAKE_URL {url:?} is not http://127.0.0.1:PORT"
        ));
    };
    match fetch(port, subject, ttl) {
        Ok((200, token)) => {
            let mut out = io::stdout();
            match writeln!(out, "{token}").and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("cannot write: {e}")),
            }
        }
        Ok((status, body)) => fail(&format!("the fake answered {status}: {}", body.trim())),
        Err(e) => fail(&format!("cannot reach the fake at {url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::loopback_port;

    #[test]
    fn only_loopback_urls_are_used() {
        assert_eq!(loopback_port("http://127.0.0.1:8080"), Some(8080));
        assert_eq!(loopback_port("http://localhost:81/"), Some(81));
        for other in [
            "https://127.0.0.1:8080",
            "http://127.0.0.2:8080",
            "http://example.com:80",
            "http://127.0.0.1",
            "http://127.0.0.1:x",
        ] {
            assert_eq!(loopback_port(other), None, "{other}");
        }
    }
}
