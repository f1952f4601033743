//! The fake's HTTP/1.1 reading (pipelining, HTTP/1.0, chunked bodies,
//! malformed requests), the names that pick a behaviour, query-protocol
//! lists, escaping and request IDs. Success bodies are checked, never shown.

mod common;

use common::{api, call, Api, Client, Req, IDC};
use rs_idc_fake::{timefmt, FakeServer};
use std::io::Write;
use std::net::Shutdown;

/// Whether a query-protocol answer is a 200 with an 800-character token.
fn has_token(resp: &common::Resp) -> bool {
    resp.status == 200 && resp.xml("Token").is_some_and(|t| t.len() == 800)
}

/// Seconds from now to the `ExpirationTime` of a query-protocol answer.
fn expires_in(resp: &common::Resp) -> i64 {
    let expiry = resp.xml("ExpirationTime").expect("an ExpirationTime");
    timefmt::parse_iso8601(&expiry).expect("ISO-8601") - timefmt::now_epoch_secs()
}

#[test]
fn pipelined_requests_and_http_1_0() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let mut client = Client::connect(port);
    // A blank line before a request line is allowed; two requests in one
    // write are answered in order.
    let mut bytes = b"\r\n".to_vec();
    bytes.extend(
        Req::api(port, Api::Query, &["a"])
            .signed(Api::Query, &IDC)
            .bytes(),
    );
    let stats = br#"{"op":"stats"}"#;
    bytes.extend(
        b"POST /_fake/control HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 14\r\n\r\n",
    );
    bytes.extend(stats);
    client.send(&bytes);
    let first = client.read_response().expect("first answer");
    assert!(has_token(&first), "{}", first.shown());
    let second = client.read_response().expect("second answer");
    let counted: rs_idc_fake::Stats = serde_json::from_slice(&second.body).expect("JSON");
    assert_eq!(
        counted,
        common::counts(1, 1, &[(rs_idc_fake::names::op::GET_TOKEN, 1)])
    );
    assert!(second.header("connection").is_none());
    // HTTP/1.0 without keep-alive: answered with Connection: close.
    client.send(b"POST /_fake/control HTTP/1.0\r\nContent-Length: 14\r\n\r\n");
    client.send(stats);
    let third = client.read_response().expect("third answer");
    assert_eq!(third.status, 200);
    assert_eq!(third.header("connection"), Some("close"));
    assert!(client.is_closed());
}

#[test]
fn chunk_extensions_and_trailers() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let req = Req::api(port, Api::Query, &["chunky"]).signed(Api::Query, &IDC);
    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (n, v) in &req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    let chunked = |size_line: &str| {
        let (a, b) = req.body.split_at(10);
        let mut bytes = head.clone().into_bytes();
        bytes.extend(format!("{:x};ext=1\r\n", a.len()).as_bytes());
        bytes.extend(a);
        bytes.extend(format!("\r\n{size_line}\r\n").as_bytes());
        bytes.extend(b);
        bytes.extend(b"\r\n0\r\nX-Trailer: y\r\nX-Other: z\r\n\r\n");
        bytes
    };
    let mut client = Client::connect(port);
    client.send(&chunked(&format!("{:X}", req.body.len() - 10)));
    let resp = client.read_response().expect("answer");
    assert!(has_token(&resp), "{}", resp.shown());
    // The connection goes on after the trailers.
    let resp = client.call(&Req::api(port, Api::Query, &["again"]).signed(Api::Query, &IDC));
    assert!(has_token(&resp), "{}", resp.shown());
    for bad_size in ["", "zz", "-1"] {
        let mut client = Client::connect(port);
        let mut bytes = head.clone().into_bytes();
        bytes.extend(format!("{bad_size}\r\n").as_bytes());
        client.send(&bytes);
        let resp = client.read_response().expect("answer");
        assert_eq!(resp.status, 400, "chunk size {bad_size:?}");
        assert_eq!(resp.text(), "malformed chunk size\n");
        assert!(client.is_closed());
    }
}

#[test]
fn malformed_requests_are_refused_and_counted() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let cases: &[(&[u8], u16, &str)] = &[
        (b"NONSENSE\r\n\r\n", 400, "malformed request line"),
        (
            b"GET / HTTP/2.0\r\n\r\n",
            505,
            "only HTTP/1.0 and HTTP/1.1 are spoken here",
        ),
        (b"get / HTTP/1.1\r\n\r\n", 400, "malformed method"),
        (
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            400,
            "malformed header name",
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            400,
            "conflicting Content-Length headers",
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            400,
            "malformed Content-Length",
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            501,
            "unsupported transfer encoding",
        ),
        // The client stops sending (shuts its side) inside the head or the body.
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            400,
            "connection closed inside the request header",
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab",
            400,
            "connection closed inside the request body",
        ),
    ];
    for &(raw, status, message) in cases {
        let mut client = Client::connect(port);
        client.send(raw);
        client.stream.shutdown(Shutdown::Write).expect("shutdown");
        let resp = client.read_response().expect("an answer");
        let shown = String::from_utf8_lossy(raw);
        assert_eq!(resp.status, status, "{shown:?}");
        assert_eq!(resp.text(), format!("{message}\n"), "{shown:?}");
        assert_eq!(resp.header("connection"), Some("close"), "{shown:?}");
        assert!(client.is_closed(), "{shown:?}");
    }
    assert_eq!(fake.requests(), cases.len() as u64);
    // A client that leaves between requests is not a request.
    let mut client = Client::connect(port);
    client.stream.shutdown(Shutdown::Write).expect("shutdown");
    assert!(client.is_closed());
    assert_eq!(fake.requests(), cases.len() as u64);
}

#[test]
fn names_pick_behaviours_in_any_case_and_only_in_range() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let resp = api(port, Api::Query, &IDC, &["TTL-90"]);
    assert!((expires_in(&resp) - 90).abs() <= 5);
    let resp = api(port, Api::Query, &IDC, &["Err-NotFound"]);
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.xml("Message").as_deref(),
        Some("Cluster Err-NotFound not found.")
    );
    assert!(has_token(&api(port, Api::Query, &IDC, &["SLOW-1"])));
    // Malformed or out-of-range names are ordinary names: a normal token
    // at once, expiring after the default lifetime.
    let ordinary = [
        "slow-0",
        "slow-60001",
        "slow-",
        "slow-1x",
        "slow-1-2",
        "slow",
        "ttl-0",
        "ttl-86401",
        "ttl-+5",
        "fault-throttle-0",
        "fault-nothing-1",
        "err-notfound-1",
    ];
    for name in ordinary {
        let resp = api(port, Api::Query, &IDC, &[name]);
        assert!(has_token(&resp), "{name}: {}", resp.shown());
        assert!((expires_in(&resp) - 3600).abs() <= 5, "{name}");
    }
    assert_eq!(fake.tokens_issued(), 2 + ordinary.len() as u64);
}

/// A signed query-protocol request whose body ends with `params`.
fn with_params(port: u16, params: &str) -> common::Resp {
    let mut req = Req::api(port, Api::Query, &[]);
    req.body.extend(format!("&{params}").as_bytes());
    call(port, &req.signed(Api::Query, &IDC))
}

#[test]
fn query_lists_are_ordered_by_index() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let resp = with_params(
        port,
        "ClusterIds.ClusterIdentifier.2=b&ClusterIds.ClusterIdentifier.1=err-notfound",
    );
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.xml("Message").as_deref(),
        Some("Cluster err-notfound not found.")
    );
    let resp = with_params(
        port,
        "ClusterIds.ClusterIdentifier.10=err-notfound&ClusterIds.ClusterIdentifier.2=x",
    );
    assert!(has_token(&resp), "{}", resp.shown());
    let resp = with_params(port, "ClusterIds.member.1=err%2Dstate");
    assert_eq!(resp.xml("Code").as_deref(), Some("InvalidClusterState"));
    let resp = with_params(port, "ClusterIds.1=err-denied");
    assert_eq!(resp.xml("Code").as_deref(), Some("AccessDenied"));
    let resp = with_params(
        port,
        "ClusterIds.a.b.1=x&ClusterIds.member.z=y&ClusterIds=z",
    );
    assert_eq!(
        resp.xml("Code").as_deref(),
        Some("RedshiftInvalidParameter")
    );
}

#[test]
fn messages_are_escaped() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let mut req = Req::api(port, Api::Query, &["c"]);
    req.body = b"Action=Describe%3C%26%3E%22&Version=2012-12-01".to_vec();
    let resp = call(port, &req.signed(Api::Query, &IDC));
    assert_eq!(resp.xml("Code").as_deref(), Some("InvalidAction"));
    assert_eq!(
        resp.xml("Message").as_deref(),
        Some("Could not find operation Describe&lt;&amp;&gt;&quot; for version 2012-12-01")
    );
    let mut req = Req::api(port, Api::Json, &["wg"]);
    req.body = b"{\"workgroupNames\": [1]}".to_vec();
    let resp = call(port, &req.signed(Api::Json, &IDC));
    assert_eq!(
        resp.json_str("__type").as_deref(),
        Some("SerializationException")
    );
    assert_eq!(
        resp.json_str("message").as_deref(),
        Some("workgroupNames must hold strings.")
    );
}

#[test]
fn request_ids_look_like_uuids() {
    let fake = FakeServer::start().expect("start");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let resp = api(fake.port(), Api::Json, &IDC, &["err-state"]);
        let id = resp
            .header("x-amzn-RequestId")
            .expect("a request ID")
            .to_string();
        assert_eq!(id.len(), 36);
        let dashes: Vec<usize> = id.match_indices('-').map(|(i, _)| i).collect();
        assert_eq!(dashes, [8, 13, 18, 23], "{id}");
        assert!(id
            .chars()
            .all(|c| c == '-' || matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(&id[14..15], "4", "{id}");
        assert!("89ab".contains(&id[19..20]), "{id}");
        assert!(!seen.contains(&id));
        seen.push(id);
    }
}

#[test]
fn bodies_larger_than_a_mebibyte_are_refused() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // Chunked: the limit applies to the sum of the chunks, and the fake
    // answers as soon as a chunk size would pass it.
    let mut client = Client::connect(port);
    let mut bytes = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    bytes.extend(format!("{:x}\r\n", 600 * 1024).as_bytes());
    bytes.extend(vec![b'a'; 600 * 1024]);
    bytes.extend(format!("\r\n{:x}\r\n", 500 * 1024).as_bytes());
    client.stream.write_all(&bytes).expect("send");
    let resp = client.read_response().expect("an answer");
    assert_eq!(resp.status, 413);
    assert_eq!(resp.text(), "request body too large\n");
    assert!(client.is_closed());
}

#[test]
fn timestamp_formats() {
    assert_eq!(timefmt::iso8601(1_795_813_589), "2026-11-27T21:06:29.000Z");
    assert_eq!(timefmt::iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
    assert_eq!(timefmt::rfc3339(1_795_813_589), "2026-11-27T21:06:29Z");
    assert_eq!(
        timefmt::http_date(784_111_777),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    assert_eq!(timefmt::amz_date(1_440_938_160), "20150830T123600Z");
    for t in [0, 951_782_400, 1_795_813_589] {
        assert_eq!(timefmt::parse_iso8601(&timefmt::iso8601(t)), Some(t));
    }
    assert_eq!(
        timefmt::parse_iso8601("2026-11-27T21:06:29.5Z"),
        Some(1_795_813_589)
    );
    for bad in [
        "2026-11-27 21:06:29Z",
        "2026-13-27T21:06:29Z",
        "2026-11-27T21:06:29+01:00",
    ] {
        assert_eq!(timefmt::parse_iso8601(bad), None, "{bad}");
    }
    // Every answer is dated.
    let fake = FakeServer::start().expect("start");
    let resp = api(fake.port(), Api::Query, &IDC, &["err-state"]);
    let date = resp.header("date").expect("a Date header");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
}
