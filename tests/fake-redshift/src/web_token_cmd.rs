//! `rs-idc-fake web-token SUB [TTL_SECS]`: asks the fake named by
//! `RS_IDC_FAKE_URL` (a plain `http://` URL on 127.0.0.1 or localhost) for a
//! web token and prints it.

use rs_idc_fake::Control;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

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

fn control(port: u16, request: &Control) -> io::Result<(u16, serde_json::Value)> {
    let body = serde_json::to_string(request)?;
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "POST /_fake/control HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: \
         application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let parsed = text.split_once("\r\n\r\n").and_then(|(head, body)| {
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some((status, serde_json::from_str(body).ok()?))
    });
    parsed.ok_or_else(|| io::Error::other("the answer is not HTTP with a JSON body"))
}

pub fn run(args: &[String]) -> ExitCode {
    let fail = |message: &str| {
        let _ = writeln!(io::stderr(), "rs-idc-fake web-token: {message}");
        ExitCode::FAILURE
    };
    let (sub, ttl) = match args {
        [sub] => (sub.clone(), 3600),
        [sub, ttl] => match ttl.parse::<i64>() {
            Ok(ttl) => (sub.clone(), ttl),
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
    let request = Control::WebToken {
        sub,
        ttl,
        iss: None,
        aud: None,
        wrong_key: false,
    };
    match control(port, &request) {
        Ok((200, answer)) => {
            let token = answer["token"].as_str().unwrap_or_default();
            let mut out = io::stdout();
            match writeln!(out, "{token}").and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("cannot write: {e}")),
            }
        }
        Ok((status, answer)) => fail(&format!("the fake answered {status}: {}", answer["error"])),
        Err(e) => fail(&format!("cannot reach the fake at {url}: {e}")),
    }
}
