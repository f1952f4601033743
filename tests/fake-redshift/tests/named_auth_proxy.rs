//! The test host name (`fake.rs-idc.test`) through the proxy and in the
//! TLS certificate, and the proxy that requires Basic credentials. Success
//! bodies are checked, never shown; the proxy password is never printed.

mod common;

use common::{basic, connect_tcp, signed_for_host, tls_connect, Client, Resp};
use rs_idc_fake::{FakeOptions, FakeProxy, FakeServer, NAMED_HOST};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::thread;

const USER: &str = "proxy-user";
const PASSWORD: &str = "Pr0xy:Pass w@rd/99";

fn tls_fake() -> FakeServer {
    FakeServer::start_with(FakeOptions {
        tls: true,
        ..Default::default()
    })
    .expect("start a TLS fake")
}

fn auth_proxy() -> FakeProxy {
    FakeProxy::start_with_auth(USER, PASSWORD).expect("start the proxy with authentication")
}

/// Whether a query-protocol answer is a 200 with an 800-character token.
fn has_token(resp: &Resp) -> bool {
    resp.status == 200 && resp.xml("Token").is_some_and(|t| t.len() == 800)
}

/// Sends `raw` to the proxy on a new connection and reads one answer.
fn through(proxy: &FakeProxy, raw: &[u8]) -> (Resp, Client) {
    let mut client = Client::connect(proxy.port());
    client.send(raw);
    let resp = client.read_response().expect("an answer from the proxy");
    (resp, client)
}

/// A signed request for `ids` at `host:port`, in absolute form, with
/// `extra` headers added after signing.
fn absolute(host: &str, port: u16, ids: &[&str], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut req = signed_for_host(host, port, ids);
    for (name, value) in extra {
        req = req.header(name, value);
    }
    req.bytes_via(&format!("http://{host}:{port}"))
}

fn connect_request(host: &str, port: u16, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

#[test]
fn named_urls_use_the_test_host() {
    assert_eq!(NAMED_HOST, "fake.rs-idc.test");
    let plain = FakeServer::start().expect("start");
    assert_eq!(
        plain.named_url(),
        format!("http://fake.rs-idc.test:{}", plain.port())
    );
    let tls = tls_fake();
    assert_eq!(
        tls.named_url(),
        format!("https://fake.rs-idc.test:{}", tls.port())
    );
}

#[test]
fn tls_certificate_names_the_test_host() {
    let fake = tls_fake();
    let pem = fake.ca_pem().expect("pem");
    // Connected to 127.0.0.1, verified as the test host: no name lookup.
    for name in [NAMED_HOST, "127.0.0.1", "localhost"] {
        let tls = tls_connect(connect_tcp(fake.port()), name, Some(&pem))
            .unwrap_or_else(|e| panic!("handshake as {name}: {e}"));
        let resp = Client::over(tls).call(&signed_for_host(name, fake.port(), &["named"]));
        assert!(has_token(&resp), "{name}: {}", resp.shown());
    }
    for name in ["other.rs-idc.test", "x.fake.rs-idc.test"] {
        let err = tls_connect(connect_tcp(fake.port()), name, Some(&pem))
            .expect_err("another name must not verify");
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    }
    assert_eq!(fake.requests(), 3);
}

#[test]
fn proxy_forwards_and_tunnels_to_the_test_host() {
    let fake = FakeServer::start().expect("start");
    let tls = tls_fake();
    let proxy = FakeProxy::start().expect("start the proxy");
    for host in [NAMED_HOST, "FAKE.RS-IDC.Test"] {
        let (resp, mut client) = through(&proxy, &absolute(host, fake.port(), &["named"], &[]));
        assert!(has_token(&resp), "{host}: {}", resp.shown());
        assert!(client.is_closed());

        let mut client = Client::connect(proxy.port());
        client.send(&connect_request(host, tls.port(), &[]));
        assert_eq!(client.read_head().expect("CONNECT answer").0, 200);
        let pem = tls.ca_pem().expect("pem");
        let inner = tls_connect(client.stream, NAMED_HOST, Some(&pem)).expect("handshake");
        let resp = Client::over(inner).call(&signed_for_host(NAMED_HOST, tls.port(), &["t"]));
        assert!(has_token(&resp), "{host}: {}", resp.shown());
    }
    assert_eq!(proxy.requests(), 4);
    assert_eq!(proxy.tunnels(), 2);
    assert_eq!(proxy.refused(), 0);
    assert_eq!(fake.tokens_issued() + tls.tokens_issued(), 4);
}

#[test]
fn proxy_refuses_names_like_the_test_host() {
    let proxy = FakeProxy::start().expect("start the proxy");
    let hosts = [
        "x.fake.rs-idc.test",
        "fake.rs-idc.test.",
        "fake.rs-idc.test.example.invalid",
        "rs-idc.test",
        "fake-rs-idc.test",
    ];
    for host in hosts {
        let (resp, _) = through(&proxy, &connect_request(host, 443, &[]));
        assert_eq!(resp.status, 403, "CONNECT {host}");
        let (resp, _) = through(&proxy, &absolute(host, 80, &["x"], &[]));
        assert_eq!(resp.status, 403, "http://{host}");
    }
    assert_eq!(proxy.refused(), 2 * hosts.len() as u64);
    assert_eq!(proxy.requests(), 0);
}

#[test]
fn auth_proxy_answers_407_without_the_right_credentials() {
    let fake = FakeServer::start().expect("start");
    let tls = tls_fake();
    let proxy = auth_proxy();
    let wrong = [
        None,
        Some(basic(USER, "wrong")),
        Some(basic("other-user", PASSWORD)),
        Some(basic(USER, &format!("{PASSWORD} "))),
        Some(format!("Bearer {}", &basic(USER, PASSWORD)[6..])),
        Some("Basic !!!".to_string()),
    ];
    for value in &wrong {
        let extra: Vec<(&str, &str)> = value
            .iter()
            .map(|v| ("Proxy-Authorization", v.as_str()))
            .collect();
        for raw in [
            absolute("127.0.0.1", fake.port(), &["c"], &extra),
            connect_request("127.0.0.1", tls.port(), &extra),
        ] {
            let (resp, mut client) = through(&proxy, &raw);
            assert_eq!(resp.status, 407);
            assert_eq!(
                resp.header("proxy-authenticate"),
                Some("Basic realm=\"rs-idc-fake\"")
            );
            assert_eq!(resp.header("connection"), Some("close"));
            assert!(client.is_closed(), "the proxy closes after a 407");
            assert!(!resp.text().contains(PASSWORD));
        }
    }
    let refused = 2 * wrong.len() as u64;
    assert_eq!(proxy.auth_refused(), refused);
    assert_eq!(proxy.authenticated(), 0);
    assert_eq!(proxy.requests(), 0);
    assert_eq!(fake.requests() + tls.requests(), 0, "nothing was relayed");
    // Checked before the target: a refused target without credentials is
    // a 407 too.
    let (resp, _) = through(&proxy, &connect_request("example.invalid", 443, &[]));
    assert_eq!(resp.status, 407);
    assert_eq!(proxy.auth_refused(), refused + 1);
    assert_eq!(proxy.refused(), 0);
}

#[test]
fn auth_proxy_relays_with_the_right_credentials() {
    let fake = FakeServer::start().expect("start");
    let tls = tls_fake();
    let proxy = auth_proxy();
    let good = basic(USER, PASSWORD);
    let extra = [("Proxy-Authorization", good.as_str())];
    let (resp, _) = through(&proxy, &absolute(NAMED_HOST, fake.port(), &["c"], &extra));
    assert!(has_token(&resp), "{}", resp.shown());

    let mut client = Client::connect(proxy.port());
    client.send(&connect_request(NAMED_HOST, tls.port(), &extra));
    assert_eq!(client.read_head().expect("CONNECT answer").0, 200);
    let pem = tls.ca_pem().expect("pem");
    let inner = tls_connect(client.stream, NAMED_HOST, Some(&pem)).expect("handshake");
    let resp = Client::over(inner).call(&signed_for_host(NAMED_HOST, tls.port(), &["t"]));
    assert!(has_token(&resp), "{}", resp.shown());

    // Valid credentials and a target that is not allowed: 403.
    let (resp, _) = through(&proxy, &connect_request("example.invalid", 443, &extra));
    assert_eq!(resp.status, 403);
    assert_eq!(proxy.authenticated(), 3);
    assert_eq!(proxy.requests(), 2);
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(proxy.refused(), 1);
    assert_eq!(proxy.auth_refused(), 0);
    proxy.reset_counters();
    assert_eq!((proxy.authenticated(), proxy.requests()), (0, 0));
}

#[test]
fn auth_proxy_strips_the_credentials_before_forwarding() {
    let proxy = auth_proxy();
    let target = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = target.local_addr().expect("addr").port();
    let seen = thread::spawn(move || {
        let (mut s, _) = target.accept().expect("accept");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && matches!(s.read(&mut byte), Ok(1)) {
            head.push(byte[0]);
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        String::from_utf8_lossy(&head).into_owned()
    });
    let good = basic(USER, PASSWORD);
    let raw = format!(
        "GET http://{NAMED_HOST}:{port}/x HTTP/1.1\r\nHost: {NAMED_HOST}:{port}\r\n\
         Proxy-Authorization: {good}\r\nX-Kept: 1\r\n\r\n"
    );
    let (resp, _) = through(&proxy, raw.as_bytes());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"ok");
    let head = seen.join().expect("target thread");
    assert!(head.starts_with("GET /x HTTP/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("Host: {NAMED_HOST}:{port}\r\n")));
    assert!(head.contains("X-Kept: 1\r\n"));
    assert!(
        !head.to_ascii_lowercase().contains("proxy-authorization"),
        "the credentials reached the target"
    );
}

#[test]
fn auth_urls_and_bad_users() {
    let proxy = auth_proxy();
    let url = proxy.auth_url().expect("a URL with credentials");
    let expected = format!(
        "http://proxy-user:Pr0xy%3APass%20w%40rd%2F99@127.0.0.1:{}",
        proxy.port()
    );
    assert!(url == expected, "auth_url is not the expected URL");
    assert_eq!(proxy.url(), format!("http://127.0.0.1:{}", proxy.port()));
    let plain = FakeProxy::start().expect("start");
    assert!(plain.auth_url().is_none());
    for (user, password) in [("", "x"), ("a:b", "x"), ("a", "x\ny")] {
        let err = FakeProxy::start_with_auth(user, password)
            .err()
            .expect("must be refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    // A proxy without authentication ignores and drops the header.
    let fake = FakeServer::start().expect("start");
    let extra = [("Proxy-Authorization", "Basic eDp5")];
    let (resp, _) = through(&plain, &absolute("127.0.0.1", fake.port(), &["c"], &extra));
    assert!(has_token(&resp), "{}", resp.shown());
    assert_eq!((plain.authenticated(), plain.auth_refused()), (0, 0));
}

#[test]
fn stats_report_a_linked_auth_proxy() {
    let fake = FakeServer::start().expect("start");
    let proxy = FakeProxy::start().expect("start");
    let authed = auth_proxy();
    fake.link_proxy(&proxy);
    fake.link_auth_proxy(&authed);
    let good = basic(USER, PASSWORD);
    let (resp, _) = through(
        &authed,
        &absolute(
            "127.0.0.1",
            fake.port(),
            &["c"],
            &[("Proxy-Authorization", &good)],
        ),
    );
    assert!(has_token(&resp), "{}", resp.shown());
    let (resp, _) = through(&authed, &absolute("127.0.0.1", fake.port(), &["c"], &[]));
    assert_eq!(resp.status, 407);
    assert_eq!(
        common::stats_of(fake.port()),
        rs_idc_fake::Stats {
            proxied: Some(0),
            auth_proxied: Some(1),
            auth_refused: Some(1),
            ..common::counts(1, 1, &[(rs_idc_fake::names::op::GET_TOKEN, 1)])
        }
    );
    fake.reset_counters();
    assert_eq!((authed.requests(), authed.auth_refused()), (0, 0));
    assert_eq!(
        common::stats_of(fake.port()),
        rs_idc_fake::Stats {
            proxied: Some(0),
            auth_proxied: Some(0),
            auth_refused: Some(0),
            ..common::counts(0, 0, &[])
        }
    );
}

#[test]
fn auth_proxy_takes_basic_in_any_case_and_form() {
    let fake = FakeServer::start().expect("start");
    let proxy = auth_proxy();
    let good = basic(USER, PASSWORD);
    let token = good.strip_prefix("Basic ").expect("a Basic value");
    let unpadded = format!("Basic {}", token.trim_end_matches('='));
    assert_ne!(unpadded, good, "the test value has padding");
    let accepted = [
        vec![format!("basic  {token} ")],
        vec![format!("BASIC\t{token}")],
        vec![unpadded],
        vec!["Bearer abc".to_string(), good.clone()],
    ];
    for values in &accepted {
        let extra: Vec<(&str, &str)> = values
            .iter()
            .map(|v| ("Proxy-Authorization", v.as_str()))
            .collect();
        let (resp, _) = through(&proxy, &absolute("127.0.0.1", fake.port(), &["c"], &extra));
        assert!(has_token(&resp), "{}", resp.shown());
    }
    let refused = [
        "Basic".to_string(),
        format!("Basic {token}!"),
        format!("Basic {}", &token[1..]),
        format!("Digest {token}"),
    ];
    for value in &refused {
        let extra = [("Proxy-Authorization", value.as_str())];
        let (resp, _) = through(&proxy, &absolute("127.0.0.1", fake.port(), &["c"], &extra));
        assert_eq!(resp.status, 407);
    }
    assert_eq!(proxy.authenticated(), accepted.len() as u64);
    assert_eq!(proxy.auth_refused(), refused.len() as u64);
}
