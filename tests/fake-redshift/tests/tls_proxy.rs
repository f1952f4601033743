//! The fake over TLS, and the loopback proxy in front of plain and TLS
//! fakes. Success bodies are checked, never shown.

mod common;

use common::{connect_tcp, stats, tls_connect, Api, Client, Req, IDC};
use rs_idc_fake::{FakeOptions, FakeProxy, FakeServer};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;

fn tls_fake() -> FakeServer {
    FakeServer::start_with(FakeOptions {
        tls: true,
        ..Default::default()
    })
    .expect("start a TLS fake")
}

/// A signed query-protocol request for `ids` addressed to `port`.
fn signed(port: u16, ids: &[&str]) -> Req {
    Req::api(port, Api::Query, ids).signed(Api::Query, &IDC)
}

/// Whether a query-protocol answer is a 200 with an 800-character token.
fn has_token(resp: &common::Resp) -> bool {
    resp.status == 200 && resp.xml("Token").is_some_and(|t| t.len() == 800)
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn tls_fake_describes_itself() {
    let fake = tls_fake();
    assert_eq!(fake.url(), format!("https://127.0.0.1:{}", fake.port()));
    let pem = fake.ca_pem().expect("a CA with TLS");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        pem.matches("-----BEGIN ").count(),
        1,
        "one certificate only"
    );
    assert!(!pem.contains("PRIVATE KEY"));

    let dir = std::env::temp_dir().join(format!("rs-idc-fake-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("ca.pem");
    fake.write_ca_file(&path).expect("write the CA file");
    assert_eq!(std::fs::read_to_string(&path).expect("read back"), pem);
    let _ = std::fs::remove_dir_all(&dir);

    let plain = FakeServer::start().expect("start");
    assert!(plain.url().starts_with("http://"));
    assert!(plain.ca_pem().is_none());
    let err = plain
        .write_ca_file(std::env::temp_dir().join("rs-idc-fake-never-written.pem"))
        .expect_err("no CA without TLS");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn tls_fake_answers_when_the_ca_is_trusted() {
    let fake = tls_fake();
    let pem = fake.ca_pem().expect("pem");
    for name in ["127.0.0.1", "localhost"] {
        let tls = tls_connect(connect_tcp(fake.port()), name, Some(&pem))
            .unwrap_or_else(|e| panic!("handshake as {name}: {e}"));
        let mut client = Client::over(tls);
        // Two requests on one connection: keep-alive works over TLS.
        let first = client.call(&signed(fake.port(), &["cluster-a"]));
        assert!(has_token(&first), "first answer: {}", first.shown());
        let second = client.call(&signed(fake.port(), &["err-notfound"]));
        assert_eq!(second.status, 404, "{}", second.shown());
    }
    assert_eq!(fake.requests(), 4);
    assert_eq!(fake.tokens_issued(), 2);

    // The certificate names only 127.0.0.1 and localhost.
    let err = tls_connect(connect_tcp(fake.port()), "example.com", Some(&pem))
        .expect_err("another name must not verify");
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    assert_eq!(fake.requests(), 4);
}

#[test]
fn untrusted_handshakes_close_only_their_connection() {
    let fake = tls_fake();
    let other = tls_fake();
    let other_pem = other.ca_pem().expect("pem");
    // Nothing trusted, then another fake's CA: both handshakes fail.
    for roots in [None, Some(other_pem.as_str())] {
        let err = tls_connect(connect_tcp(fake.port()), "127.0.0.1", roots)
            .expect_err("the handshake must fail");
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    }
    // Plain HTTP on the TLS port: closed without an HTTP answer.
    let mut plain = Client::connect(fake.port());
    plain.send(&signed(fake.port(), &["c"]).bytes());
    let mut seen = Vec::new();
    let _ = plain.stream.read_to_end(&mut seen);
    assert!(!seen.starts_with(b"HTTP/"), "plain HTTP got an HTTP answer");
    assert_eq!(fake.requests(), 0, "failed handshakes are not requests");

    // The fake still serves trusted clients.
    let pem = fake.ca_pem().expect("pem");
    let tls = tls_connect(connect_tcp(fake.port()), "127.0.0.1", Some(&pem)).expect("handshake");
    let resp = Client::over(tls).call(&signed(fake.port(), &["c"]));
    assert!(has_token(&resp), "{}", resp.shown());
    assert_eq!(fake.requests(), 1);
}

#[test]
fn tls_fake_keeps_its_faults() {
    let fake = tls_fake();
    let pem = fake.ca_pem().expect("pem");
    let tls = tls_connect(connect_tcp(fake.port()), "127.0.0.1", Some(&pem)).expect("handshake");
    let mut client = Client::over(tls);
    client.send(&signed(fake.port(), &["fault-reset"]).bytes());
    assert!(
        client.read_response().is_err(),
        "fault-reset must not answer"
    );
    let tls = tls_connect(connect_tcp(fake.port()), "127.0.0.1", Some(&pem)).expect("handshake");
    let resp = Client::over(tls).call(&signed(fake.port(), &["fault-503"]));
    assert_eq!(resp.status, 503);
    assert_eq!(fake.requests(), 2);
}

#[test]
fn proxy_forwards_absolute_form_requests() {
    let fake = FakeServer::start().expect("start");
    let proxy = FakeProxy::start().expect("start the proxy");
    assert_eq!(proxy.url(), format!("http://127.0.0.1:{}", proxy.port()));
    for host in ["127.0.0.1", "localhost"] {
        let mut req = Req::api(fake.port(), Api::Query, &["via-proxy"]);
        for (name, value) in &mut req.headers {
            if name == "Host" {
                *value = format!("{host}:{}", fake.port());
            }
        }
        // Proxy-Connection is added after signing, as clients do: the
        // proxy drops it on the way.
        let req = req
            .signed(Api::Query, &IDC)
            .header("Proxy-Connection", "keep-alive");
        let mut client = Client::connect(proxy.port());
        client.send(&req.bytes_via(&format!("http://{host}:{}", fake.port())));
        let resp = client.read_response().expect("an answer through the proxy");
        assert!(has_token(&resp), "{}", resp.shown());
        assert_eq!(resp.header("connection"), Some("close"));
        assert!(client.is_closed(), "the proxy closes after one request");
    }
    assert_eq!(fake.requests(), 2);
    assert_eq!(fake.tokens_issued(), 2);
    assert_eq!(proxy.requests(), 2);
    assert_eq!(proxy.tunnels(), 0);
    assert_eq!(proxy.refused(), 0);
}

#[test]
fn proxy_relays_errors_and_chunked_bodies() {
    let fake = FakeServer::start().expect("start");
    let proxy = FakeProxy::start().expect("start the proxy");
    let req = signed(fake.port(), &["err-denied"]);
    let mut client = Client::connect(proxy.port());
    client.send(&req.bytes_via(&format!("http://127.0.0.1:{}", fake.port())));
    let resp = client.read_response().expect("answer");
    assert_eq!(resp.status, 403);
    assert!(resp.text().contains("<Code>AccessDenied</Code>"));

    // A chunked body with Expect: 100-continue reaches the fake whole.
    let req = signed(fake.port(), &["chunked"]);
    let mut head = format!("POST http://127.0.0.1:{}/ HTTP/1.1\r\n", fake.port());
    for (name, value) in &req.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    let mut client = Client::connect(proxy.port());
    client.send(head.as_bytes());
    let (status, _) = client.read_head().expect("100 Continue");
    assert_eq!(status, 100);
    let (first, rest) = req.body.split_at(10);
    let mut body = format!("{:x}\r\n", first.len()).into_bytes();
    body.extend_from_slice(first);
    body.extend_from_slice(format!("\r\n{:x}\r\n", rest.len()).as_bytes());
    body.extend_from_slice(rest);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    client.send(&body);
    let resp = client.read_response().expect("answer");
    assert!(has_token(&resp), "{}", resp.shown());
    assert_eq!(proxy.requests(), 2);
    assert_eq!(fake.requests(), 2);
}

#[test]
fn proxy_tunnels_connect_to_a_tls_fake() {
    let fake = tls_fake();
    let proxy = FakeProxy::start().expect("start the proxy");
    let pem = fake.ca_pem().expect("pem");
    for host in ["127.0.0.1", "localhost"] {
        let mut client = Client::connect(proxy.port());
        client.send(
            format!(
                "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n",
                port = fake.port()
            )
            .as_bytes(),
        );
        let (status, _) = client.read_head().expect("CONNECT answer");
        assert_eq!(status, 200);
        assert!(client.leftover().is_empty());
        let tls = tls_connect(client.stream, host, Some(&pem)).expect("handshake in the tunnel");
        let mut inner = Client::over(tls);
        let resp = inner.call(&signed(fake.port(), &["tunnelled"]));
        assert!(has_token(&resp), "{}", resp.shown());
        // The tunnel stays open for more requests.
        let resp = inner.call(&signed(fake.port(), &["err-state"]));
        assert_eq!(resp.status, 400);
    }
    assert_eq!(proxy.requests(), 2);
    assert_eq!(proxy.tunnels(), 2);
    assert_eq!(fake.requests(), 4);
}

#[test]
fn proxy_refuses_other_hosts_before_connecting() {
    let proxy = FakeProxy::start().expect("start the proxy");
    // Names and addresses that are never reached: the check comes first.
    let requests = [
        "CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n\r\n".to_string(),
        "CONNECT 192.0.2.1:443 HTTP/1.1\r\n\r\n".to_string(),
        "CONNECT 127.0.0.2:443 HTTP/1.1\r\n\r\n".to_string(),
        "POST http://example.invalid/ HTTP/1.1\r\nHost: example.invalid\r\nContent-Length: 2\r\n\r\nab"
            .to_string(),
        "GET http://192.0.2.1:8080/x HTTP/1.1\r\n\r\n".to_string(),
    ];
    for raw in &requests {
        let mut client = Client::connect(proxy.port());
        client.send(raw.as_bytes());
        let resp = client.read_response().expect("an answer");
        assert_eq!(resp.status, 403, "{raw:?} got {}", resp.status);
        assert!(resp
            .text()
            .contains("only 127.0.0.1, localhost and fake.rs-idc.test"));
    }
    assert_eq!(proxy.refused(), requests.len() as u64);
    assert_eq!(proxy.requests(), 0);

    // Not proxy requests at all: 400, neither counted nor refused.
    for raw in [
        "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "GET https://127.0.0.1:1/ HTTP/1.1\r\n\r\n",
        "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n",
    ] {
        let mut client = Client::connect(proxy.port());
        client.send(raw.as_bytes());
        assert_eq!(client.read_response().expect("an answer").status, 400);
    }
    // Nothing listening at the target: 502, not counted.
    let port = closed_port();
    let mut client = Client::connect(proxy.port());
    client.send(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes());
    assert_eq!(client.read_response().expect("an answer").status, 502);
    assert_eq!(proxy.requests(), 0);
    assert_eq!(proxy.refused(), requests.len() as u64);
}

#[test]
fn stats_report_a_linked_proxy() {
    let fake = FakeServer::start().expect("start");
    let proxy = FakeProxy::start().expect("start the proxy");
    assert_eq!(common::stats_of(fake.port()), common::counts(0, 0, &[]));
    fake.link_proxy(&proxy);
    let resp = {
        let mut client = Client::connect(proxy.port());
        client.send(
            &signed(fake.port(), &["c"]).bytes_via(&format!("http://127.0.0.1:{}", fake.port())),
        );
        client.read_response().expect("answer")
    };
    assert!(has_token(&resp), "{}", resp.shown());
    assert_eq!(
        common::stats_of(fake.port()),
        rs_idc_fake::Stats {
            proxied: Some(1),
            ..common::counts(1, 1, &[(rs_idc_fake::names::op::GET_TOKEN, 1)])
        }
    );
    assert_eq!(stats(fake.port()), (1, 1));
    fake.reset_counters();
    assert_eq!(proxy.requests(), 0);
    assert_eq!(
        common::stats_of(fake.port()),
        rs_idc_fake::Stats {
            proxied: Some(0),
            ..common::counts(0, 0, &[])
        }
    );
}

#[test]
fn dropping_the_proxy_closes_open_tunnels() {
    let fake = FakeServer::start().expect("start");
    let proxy = FakeProxy::start().expect("start the proxy");
    let port = proxy.port();
    let mut client = Client::connect(port);
    client.send(format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n\r\n", fake.port()).as_bytes());
    assert_eq!(client.read_head().expect("CONNECT answer").0, 200);
    // Plain HTTP through the tunnel works, then the proxy goes away.
    let resp = client.call(&signed(fake.port(), &["c"]));
    assert!(has_token(&resp), "{}", resp.shown());
    drop(proxy);
    assert!(client.is_closed(), "the tunnel must close with the proxy");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    // The fake itself keeps running.
    let mut direct = Client::connect(fake.port());
    direct
        .stream
        .write_all(&signed(fake.port(), &["c"]).bytes())
        .expect("send");
    assert!(has_token(&direct.read_response().expect("answer")));
}

#[test]
fn proxy_passes_resets_on() {
    let fake = FakeServer::start().expect("start");
    let tls = tls_fake();
    let proxy = FakeProxy::start().expect("start the proxy");
    // Absolute form: the fake resets, so does the proxy.
    let mut client = Client::connect(proxy.port());
    client.send(
        &signed(fake.port(), &["fault-reset"])
            .bytes_via(&format!("http://127.0.0.1:{}", fake.port())),
    );
    let err = client.read_response().err().expect("no answer");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    // Tunnel: the same inside TLS.
    let mut client = Client::connect(proxy.port());
    client.send(format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n\r\n", tls.port()).as_bytes());
    assert_eq!(client.read_head().expect("CONNECT answer").0, 200);
    let pem = tls.ca_pem().expect("pem");
    let mut inner =
        Client::over(tls_connect(client.stream, "127.0.0.1", Some(&pem)).expect("handshake"));
    inner.send(&signed(tls.port(), &["fault-reset"]).bytes());
    let err = inner.read_response().err().expect("no answer");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert_eq!(proxy.requests(), 2);
    assert_eq!(fake.requests() + tls.requests(), 2);
}

/// A target that records the request head and body it gets and answers
/// `answer`; the recorded request comes out of the returned thread.
fn recording_target(answer: &'static [u8]) -> (u16, std::thread::JoinHandle<String>) {
    let target = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = target.local_addr().expect("addr").port();
    let seen = std::thread::spawn(move || {
        let (mut s, _) = target.accept().expect("accept");
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // The proxy sends an exact Content-Length: read the head, then it.
        loop {
            let n = s.read(&mut buf).expect("read");
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length || n == 0 {
                    break;
                }
            }
        }
        s.write_all(answer).expect("answer");
        String::from_utf8_lossy(&seen).into_owned()
    });
    (port, seen)
}

#[test]
fn proxy_drops_hop_by_hop_headers_both_ways() {
    let proxy = FakeProxy::start().expect("start the proxy");
    let (port, seen) = recording_target(
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\
          Content-Length: 2\r\n\r\nok",
    );
    let raw = format!(
        "POST http://127.0.0.1:{port}/p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n\
         TE: trailers\r\nTransfer-Encoding: chunked\r\nX-Kept: 2\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    );
    let mut client = Client::connect(proxy.port());
    client.send(raw.as_bytes());
    let resp = client.read_response().expect("an answer");
    assert_eq!(
        seen.join().expect("target"),
        format!(
            "POST /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Kept: 2\r\n\
             Content-Length: 3\r\nConnection: close\r\n\r\nabc"
        )
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"ok");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(resp.header("keep-alive").is_none());
    let connections = resp.headers.iter().filter(|(n, _)| n == "Connection");
    assert_eq!(connections.count(), 1);
    assert!(client.is_closed());
}

#[test]
fn proxy_target_rules() {
    let fake = FakeServer::start().expect("start");
    let proxy = FakeProxy::start().expect("start the proxy");
    let refused: &[(&str, u16)] = &[
        ("CONNECT 127.0.0.1:0 HTTP/1.1", 400),
        ("CONNECT 127.0.0.1:99999 HTTP/1.1", 400),
        ("CONNECT user@127.0.0.1:80 HTTP/1.1", 400),
        ("CONNECT 127.0.0.1:80?x HTTP/1.1", 400),
        ("GET http:///x HTTP/1.1", 400),
        ("GET http://127.0.0.1:/x HTTP/1.1", 400),
        ("CONNECT [::1]:443 HTTP/1.1", 403),
        ("GET http://[::1]:80/ HTTP/1.1", 403),
        ("GET http://LOCALHOST.:80/ HTTP/1.1", 403),
    ];
    for &(line, status) in refused {
        let mut client = Client::connect(proxy.port());
        client.send(format!("{line}\r\n\r\n").as_bytes());
        let resp = client.read_response().expect("an answer");
        assert_eq!(resp.status, status, "{line}");
        assert!(resp.text().starts_with("rs-idc-fake proxy: "), "{line}");
        assert!(client.is_closed(), "{line}");
    }
    assert_eq!(proxy.refused(), 3);
    assert_eq!(proxy.requests(), 0);
    // The scheme and host name in any case; no Host header: the proxy
    // adds one from the URL.
    let mut client = Client::connect(proxy.port());
    let url = format!("HTTP://LocalHost:{}/_fake/control", fake.port());
    let body = r#"{"op":"stats"}"#;
    let len = body.len();
    client.send(format!("POST {url} HTTP/1.1\r\nContent-Length: {len}\r\n\r\n{body}").as_bytes());
    let resp = client.read_response().expect("an answer");
    let stats: rs_idc_fake::Stats = serde_json::from_slice(&resp.body).expect("JSON");
    assert_eq!(stats, common::counts(0, 0, &[]));
    assert_eq!(proxy.requests(), 1);
}
