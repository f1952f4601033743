//! The fake spoken to over raw HTTP with requests signed by the crate's
//! own signer. Assertions never print tokens: success bodies are only
//! checked, never shown.

mod common;

use common::{api, call, stats, Api, Client, Req, EXPIRED, IDC, IDC2, PLAIN};
use rs_idc_fake::{keys, timefmt, FakeOptions, FakeServer};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

fn is_token(t: &str) -> bool {
    t.len() == 800 && t.chars().all(|c| BASE64.contains(c))
}

fn assert_expiry_near(text: &str, expected: i64) {
    let at = timefmt::parse_iso8601(text).expect("ExpirationTime is ISO-8601 with Z");
    assert!(
        (at - expected).abs() <= 5,
        "expiry {text} is not near {expected}"
    );
}

/// Token and expiry of a success answer in either protocol.
fn token_and_expiry(api: Api, resp: &common::Resp) -> (Option<String>, Option<String>) {
    match api {
        Api::Query => (resp.xml("Token"), resp.xml("ExpirationTime")),
        Api::Json => (resp.json_str("token"), resp.json_str("expirationTime")),
    }
}

#[test]
fn query_success_has_the_sdk_shape() {
    let fake = FakeServer::start().expect("start");
    let resp = api(fake.port(), Api::Query, &IDC, &["my-cluster", "other"]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/xml"));
    let rid = resp
        .header("x-amzn-RequestId")
        .expect("request id header")
        .to_string();
    assert_eq!(rid.len(), 36);
    let text = resp.text();
    assert!(text.starts_with(
        "<GetIdentityCenterAuthTokenResponse xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\">"
    ));
    assert!(text.contains("<GetIdentityCenterAuthTokenResult>"));
    assert!(text.contains(&format!(
        "<ResponseMetadata>\n    <RequestId>{rid}</RequestId>"
    )));
    let token = resp.xml("Token").expect("Token element");
    assert!(is_token(&token), "token is not 800 base64 characters");
    assert_expiry_near(
        &resp.xml("ExpirationTime").expect("ExpirationTime"),
        timefmt::now_epoch_secs() + 3600,
    );
    assert_eq!(fake.requests(), 1);
    assert_eq!(fake.tokens_issued(), 1);
    let issued = fake.issued_tokens();
    assert!(
        issued.len() == 1 && issued[0] == token,
        "issued_tokens does not hold the token"
    );
}

#[test]
fn json_success_has_the_sdk_shape() {
    let fake = FakeServer::start().expect("start");
    let resp = api(fake.port(), Api::Json, &IDC, &["wg-one"]);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert!(resp.header("x-amzn-RequestId").is_some());
    assert_eq!(resp.json_member_names(), ["token", "expirationTime"]);
    assert!(is_token(&resp.json_str("token").expect("token")));
    assert_expiry_near(
        &resp.json_str("expirationTime").expect("expirationTime"),
        timefmt::now_epoch_secs() + 3600,
    );
    assert_eq!(fake.tokens_issued(), 1);
}

#[test]
fn ttl_names_and_options_set_the_expiry() {
    let fake = FakeServer::start_with(FakeOptions {
        token_ttl_secs: 120,
        ..FakeOptions::default()
    })
    .expect("start");
    let now = timefmt::now_epoch_secs();
    for api_kind in [Api::Query, Api::Json] {
        let resp = api(fake.port(), api_kind, &IDC, &["ttl-90"]);
        assert_eq!(resp.status, 200);
        let (token, expiry) = token_and_expiry(api_kind, &resp);
        assert!(token.is_some_and(|t| is_token(&t)));
        assert_expiry_near(&expiry.expect("expiry"), now + 90);
        let resp = api(fake.port(), api_kind, &IDC, &["plain-name"]);
        assert_expiry_near(
            &token_and_expiry(api_kind, &resp).1.expect("expiry"),
            now + 120,
        );
        // Out of range: a normal token.
        let resp = api(fake.port(), api_kind, &IDC, &["ttl-86401"]);
        assert_expiry_near(
            &token_and_expiry(api_kind, &resp).1.expect("expiry"),
            now + 120,
        );
    }
}

#[test]
fn every_answer_has_a_new_token_and_identities_differ() {
    let fake = FakeServer::start().expect("start");
    let a1 = api(fake.port(), Api::Query, &IDC, &["c"])
        .xml("Token")
        .expect("token");
    let a2 = api(fake.port(), Api::Query, &IDC, &["c"])
        .xml("Token")
        .expect("token");
    let b1 = api(fake.port(), Api::Query, &IDC2, &["c"])
        .xml("Token")
        .expect("token");
    assert!(a1 != a2 && a1 != b1 && a2 != b1, "tokens repeat");
    assert_eq!(fake.tokens_issued(), 3);
    assert_eq!(fake.issued_tokens().len(), 3);
}

/// `(first id, status, code)` for the query protocol.
const QUERY_ERRORS: &[(&str, u16, &str)] = &[
    ("err-notfound", 404, "ClusterNotFound"),
    ("ERR-NotFound", 404, "ClusterNotFound"),
    ("err-state", 400, "InvalidClusterState"),
    ("err-invalid", 400, "RedshiftInvalidParameter"),
    ("err-unsupported", 400, "UnsupportedOperation"),
    ("err-denied", 403, "AccessDenied"),
    ("err-unknown", 400, "SomethingUnexpected"),
    ("fault-throttle", 400, "Throttling"),
    ("fault-500", 500, "InternalFailure"),
    ("fault-503", 503, "ServiceUnavailable"),
];

#[test]
fn query_errors_have_the_wrapped_error_shape() {
    let fake = FakeServer::start().expect("start");
    let mut client = Client::connect(fake.port());
    for &(id, status, code) in QUERY_ERRORS {
        let resp = client
            .call(&Req::api(fake.port(), Api::Query, &[id, "second"]).signed(Api::Query, &IDC));
        assert_eq!(resp.status, status, "{id}: {}", resp.shown());
        assert_eq!(resp.header("content-type"), Some("text/xml"), "{id}");
        let text = resp.text();
        assert!(
            text.starts_with(
                "<ErrorResponse xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\">"
            ),
            "{id}: {}",
            resp.shown()
        );
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        assert_eq!(resp.xml("Type").as_deref(), Some(kind), "{id}");
        assert_eq!(resp.xml("Code").as_deref(), Some(code), "{id}");
        assert!(resp.xml("Message").is_some_and(|m| !m.is_empty()), "{id}");
        let rid = resp.header("x-amzn-RequestId").expect("request id");
        assert_eq!(resp.xml("RequestId").as_deref(), Some(rid), "{id}");
    }
    assert_eq!(resp_message(&fake, "fault-throttle"), "Rate exceeded");
    assert_eq!(fake.requests(), QUERY_ERRORS.len() as u64 + 1);
    assert_eq!(fake.tokens_issued(), 0);
}

fn resp_message(fake: &FakeServer, id: &str) -> String {
    api(fake.port(), Api::Query, &IDC, &[id])
        .xml("Message")
        .expect("Message")
}

/// `(first id, status, __type)` for the JSON protocol.
const JSON_ERRORS: &[(&str, u16, &str)] = &[
    ("err-notfound", 400, "ResourceNotFoundException"),
    ("err-state", 400, "ConflictException"),
    ("err-invalid", 400, "ValidationException"),
    ("err-unsupported", 400, "ValidationException"),
    ("err-denied", 400, "AccessDeniedException"),
    ("err-unknown", 400, "SomethingUnexpected"),
    ("fault-throttle", 400, "ThrottlingException"),
    ("fault-500", 500, "InternalServerException"),
    ("fault-503", 503, "ServiceUnavailableException"),
];

#[test]
fn json_errors_have_type_and_header() {
    let fake = FakeServer::start().expect("start");
    for &(id, status, code) in JSON_ERRORS {
        let resp = api(fake.port(), Api::Json, &IDC, &[id]);
        assert_eq!(resp.status, status, "{id}: {}", resp.shown());
        assert_eq!(
            resp.header("content-type"),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(resp.header("x-amzn-ErrorType"), Some(code), "{id}");
        assert_eq!(resp.json_str("__type").as_deref(), Some(code), "{id}");
        assert!(
            resp.json_str("message").is_some_and(|m| !m.is_empty()),
            "{id}"
        );
    }
    assert_eq!(fake.requests(), JSON_ERRORS.len() as u64);
}

#[test]
fn counted_faults_stop_after_n_requests() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    for _ in 0..2 {
        let resp = api(port, Api::Query, &IDC, &["fault-throttle-2"]);
        assert_eq!(resp.xml("Code").as_deref(), Some("Throttling"));
    }
    let resp = api(port, Api::Query, &IDC, &["fault-throttle-2"]);
    assert_eq!(resp.status, 200);
    // The count is per name: the JSON API shares it, other names have their own.
    let resp = api(port, Api::Json, &IDC, &["fault-throttle-2"]);
    assert_eq!(resp.status, 200);
    let resp = api(port, Api::Json, &IDC, &["fault-503-1"]);
    assert_eq!(resp.status, 503);
    let resp = api(port, Api::Json, &IDC, &["fault-503-1"]);
    assert_eq!(resp.status, 200);
    let resp = api(port, Api::Query, &IDC, &["fault-500-1"]);
    assert_eq!(resp.status, 500);
    // Resetting the counters starts the counts again.
    fake.reset_counters();
    assert_eq!((fake.requests(), fake.tokens_issued()), (0, 0));
    let resp = api(port, Api::Query, &IDC, &["fault-500-1"]);
    assert_eq!(resp.status, 500);
    let resp = api(port, Api::Query, &IDC, &["fault-500-1"]);
    assert_eq!(resp.status, 200);
    assert_eq!((fake.requests(), fake.tokens_issued()), (2, 1));
}

#[test]
fn credential_errors_in_the_query_protocol() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let unsigned = Req::api(port, Api::Query, &["c"]);
    let cases: Vec<(&str, Req, u16, &str)> = vec![
        (
            "unsigned",
            unsigned.clone(),
            403,
            "MissingAuthenticationToken",
        ),
        (
            "wrong secret",
            unsigned.clone().signed(
                Api::Query,
                &common::Credentials {
                    secret_access_key: "not-the-secret",
                    ..IDC
                },
            ),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "unknown key",
            unsigned.clone().signed(
                Api::Query,
                &common::Credentials {
                    access_key_id: "AKIANOTKNOWN00000000",
                    ..IDC
                },
            ),
            403,
            "InvalidClientTokenId",
        ),
        (
            "no session token",
            unsigned.clone().signed(
                Api::Query,
                &common::Credentials {
                    session_token: None,
                    ..IDC
                },
            ),
            403,
            "InvalidClientTokenId",
        ),
        (
            "other identity's session token",
            unsigned.clone().signed(
                Api::Query,
                &common::Credentials {
                    session_token: Some(keys::IDC2_SESSION_TOKEN),
                    ..IDC
                },
            ),
            403,
            "InvalidClientTokenId",
        ),
        (
            "plain",
            unsigned.clone().signed(Api::Query, &PLAIN),
            400,
            "UnsupportedOperation",
        ),
        (
            "expired",
            unsigned.clone().signed(Api::Query, &EXPIRED),
            403,
            "ExpiredToken",
        ),
        (
            "serverless scope",
            {
                let mut r = unsigned.clone();
                r.sign_as("redshift-serverless", &IDC);
                r
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "body changed after signing",
            {
                let mut r = unsigned.clone().signed(Api::Query, &IDC);
                r.body
                    .extend_from_slice(b"&ClusterIds.ClusterIdentifier.2=x");
                r
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "malformed authorization",
            unsigned
                .clone()
                .header("Authorization", "AWS4-HMAC-SHA256 Credential=x"),
            400,
            "IncompleteSignature",
        ),
    ];
    for (what, req, status, code) in &cases {
        let resp = call(port, req);
        assert_eq!(resp.status, *status, "{what}: {}", resp.shown());
        assert_eq!(resp.xml("Code").as_deref(), Some(*code), "{what}");
    }
    assert_eq!(fake.requests(), cases.len() as u64);
    assert_eq!(fake.tokens_issued(), 0);
}

#[test]
fn credential_errors_in_the_json_protocol() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let unsigned = Req::api(port, Api::Json, &["wg"]);
    let cases: Vec<(&str, Req, u16, &str)> = vec![
        (
            "unsigned",
            unsigned.clone(),
            400,
            "MissingAuthenticationTokenException",
        ),
        (
            "wrong secret",
            unsigned.clone().signed(
                Api::Json,
                &common::Credentials {
                    secret_access_key: "nope",
                    ..IDC
                },
            ),
            400,
            "InvalidSignatureException",
        ),
        (
            "unknown key",
            unsigned.clone().signed(
                Api::Json,
                &common::Credentials {
                    access_key_id: "AKIANOTKNOWN00000000",
                    ..IDC
                },
            ),
            400,
            "UnrecognizedClientException",
        ),
        (
            "plain",
            unsigned.clone().signed(Api::Json, &PLAIN),
            400,
            "ValidationException",
        ),
        (
            "expired",
            unsigned.clone().signed(Api::Json, &EXPIRED),
            400,
            "ExpiredTokenException",
        ),
        (
            "redshift scope",
            {
                let mut r = unsigned.clone();
                r.sign_as("redshift", &IDC);
                r
            },
            400,
            "InvalidSignatureException",
        ),
    ];
    for (what, req, status, code) in &cases {
        let resp = call(port, req);
        assert_eq!(resp.status, *status, "{what}: {}", resp.shown());
        assert_eq!(resp.json_str("__type").as_deref(), Some(*code), "{what}");
        assert_eq!(resp.header("x-amzn-ErrorType"), Some(*code), "{what}");
    }
}

#[test]
fn credential_checks_come_before_behaviours() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // These would hang or reset the connection if the identifier were
    // looked at first.
    let resp = api(port, Api::Query, &PLAIN, &["fault-hang"]);
    assert_eq!(resp.xml("Code").as_deref(), Some("UnsupportedOperation"));
    let bad = common::Credentials {
        secret_access_key: "wrong",
        ..IDC
    };
    let resp = api(port, Api::Query, &bad, &["fault-reset"]);
    assert_eq!(resp.xml("Code").as_deref(), Some("SignatureDoesNotMatch"));
    let resp = api(port, Api::Json, &EXPIRED, &["fault-hang"]);
    assert_eq!(
        resp.json_str("__type").as_deref(),
        Some("ExpiredTokenException")
    );
}

#[test]
fn malformed_operations_are_refused() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // No ClusterIds.
    let resp = api(port, Api::Query, &IDC, &[]);
    assert_eq!(
        (resp.status, resp.xml("Code").as_deref()),
        (400, Some("RedshiftInvalidParameter"))
    );
    // Too many.
    let many: Vec<String> = (0..21).map(|i| format!("c{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let resp = api(port, Api::Query, &IDC, &many);
    assert_eq!(
        resp.xml("Code").as_deref(),
        Some("RedshiftInvalidParameter")
    );
    // Another action.
    let mut req = Req::api(port, Api::Query, &["c"]);
    req.body = b"Action=DescribeClusters&Version=2012-12-01".to_vec();
    let resp = call(port, &req.signed(Api::Query, &IDC));
    assert_eq!(
        (resp.status, resp.xml("Code").as_deref()),
        (400, Some("InvalidAction"))
    );
    // Parameters in the URL work too (the query protocol allows it).
    let mut req = Req::api(port, Api::Query, &[]);
    req.query = "ClusterIds.member.1=from-url".to_string();
    let resp = call(port, &req.signed(Api::Query, &IDC));
    assert_eq!(resp.status, 200);
    // JSON: no names, bad JSON, wrong target.
    let resp = api(port, Api::Json, &IDC, &[]);
    assert_eq!(
        resp.json_str("__type").as_deref(),
        Some("ValidationException")
    );
    let mut req = Req::api(port, Api::Json, &["wg"]);
    req.body = b"{\"workgroupNames\": [".to_vec();
    let resp = call(port, &req.signed(Api::Json, &IDC));
    assert_eq!(
        resp.json_str("__type").as_deref(),
        Some("SerializationException")
    );
    let mut req = Req::api(port, Api::Json, &["wg"]);
    for h in &mut req.headers {
        if h.0 == "X-Amz-Target" {
            h.1 = "RedshiftServerless.ListWorkgroups".to_string();
        }
    }
    let resp = call(port, &req.signed(Api::Json, &IDC));
    assert_eq!(
        resp.json_str("__type").as_deref(),
        Some("UnknownOperationException")
    );
}

#[test]
fn fault_reset_resets_the_connection() {
    let fake = FakeServer::start().expect("start");
    for api_kind in [Api::Query, Api::Json] {
        let mut client = Client::connect(fake.port());
        client.send(
            &Req::api(fake.port(), api_kind, &["fault-reset"])
                .signed(api_kind, &IDC)
                .bytes(),
        );
        let mut buf = [0u8; 16];
        let err = client.stream.read(&mut buf).expect_err("the read fails");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    }
    // Counted: the second request succeeds.
    let mut client = Client::connect(fake.port());
    let req = Req::api(fake.port(), Api::Query, &["fault-reset-1"]).signed(Api::Query, &IDC);
    client.send(&req.bytes());
    let mut buf = [0u8; 16];
    assert!(client.stream.read(&mut buf).is_err());
    assert_eq!(call(fake.port(), &req).status, 200);
    assert_eq!(fake.requests(), 4);
}

#[test]
fn fault_hang_never_answers_and_is_released_on_drop() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let mut hung = Client::connect(port);
    hung.stream
        .set_read_timeout(Some(Duration::from_millis(800)))
        .expect("timeout");
    hung.send(
        &Req::api(port, Api::Json, &["fault-hang"])
            .signed(Api::Json, &IDC)
            .bytes(),
    );
    let mut buf = [0u8; 16];
    let err = hung.stream.read(&mut buf).expect_err("no answer");
    assert!(matches!(
        err.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    // Other connections are served meanwhile.
    assert_eq!(api(port, Api::Query, &IDC, &["c"]).status, 200);
    assert_eq!(fake.requests(), 2);
    // Dropping the server releases the hanging connection promptly.
    let started = Instant::now();
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(3));
    hung.stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    match hung.stream.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("{n} unexpected bytes"),
        Err(e) => assert_ne!(e.kind(), ErrorKind::WouldBlock, "still hanging"),
    }
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
}

#[test]
fn fault_hang_ends_when_the_client_leaves() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    {
        let mut hung = Client::connect(port);
        hung.send(
            &Req::api(port, Api::Query, &["fault-hang-1"])
                .signed(Api::Query, &IDC)
                .bytes(),
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The count was used up by the hanging request.
    assert_eq!(api(port, Api::Query, &IDC, &["fault-hang-1"]).status, 200);
}

#[test]
fn fault_trickle_sends_slowly() {
    let fake = FakeServer::start().expect("start");
    let mut client = Client::connect(fake.port());
    client.send(
        &Req::api(fake.port(), Api::Query, &["fault-trickle"])
            .signed(Api::Query, &IDC)
            .bytes(),
    );
    let started = Instant::now();
    let mut got = Vec::new();
    client
        .stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    while started.elapsed() < Duration::from_millis(1100) {
        let mut buf = [0u8; 64];
        match client.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    assert!(
        (1..=7).contains(&got.len()),
        "{} bytes in about a second",
        got.len()
    );
    assert!(b"HTTP/1.1 200 OK".starts_with(&got));
    assert_eq!(fake.tokens_issued(), 1);
    // Dropping the server does not wait for the trickle.
    let started = Instant::now();
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn fault_truncated_stops_inside_the_token() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let mut client = Client::connect(port);
    let resp =
        client.call(&Req::api(port, Api::Query, &["fault-truncated"]).signed(Api::Query, &IDC));
    assert_eq!(resp.status, 200);
    let text = resp.text();
    let (_, partial) = text.split_once("<Token>").expect("Token start");
    assert_eq!(partial.len(), 400);
    assert!(!text.contains("</Token>") && !text.contains("ExpirationTime"));
    // Content-Length matched: the connection is still usable.
    let resp = client.call(&Req::api(port, Api::Query, &["c"]).signed(Api::Query, &IDC));
    assert_eq!(resp.status, 200);

    let resp = api(port, Api::Json, &IDC, &["fault-truncated"]);
    assert_eq!(resp.status, 200);
    let text = resp.text();
    let partial = text.strip_prefix("{\"token\":\"").expect("token start");
    assert_eq!(partial.len(), 400);
    assert!(resp.json().is_none());
    assert_eq!(fake.tokens_issued(), 1);
}

#[test]
fn missing_empty_and_expired_parts() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let now = timefmt::now_epoch_secs();
    for api_kind in [Api::Query, Api::Json] {
        let (t, e) = token_and_expiry(api_kind, &api(port, api_kind, &IDC, &["fault-notoken"]));
        assert!(t.is_none() && e.is_some(), "{api_kind:?} notoken");
        let (t, e) = token_and_expiry(api_kind, &api(port, api_kind, &IDC, &["fault-emptytoken"]));
        assert!(
            t.as_deref() == Some("") && e.is_some(),
            "{api_kind:?} emptytoken"
        );
        let (t, e) = token_and_expiry(api_kind, &api(port, api_kind, &IDC, &["fault-noexpiry"]));
        assert!(
            t.is_some_and(|t| is_token(&t)) && e.is_none(),
            "{api_kind:?} noexpiry"
        );
        let (t, e) = token_and_expiry(api_kind, &api(port, api_kind, &IDC, &["fault-expired"]));
        assert!(t.is_some_and(|t| is_token(&t)), "{api_kind:?} expired");
        assert_expiry_near(&e.expect("expiry"), now - 3600);
    }
    // noexpiry and expired hand out whole tokens.
    assert_eq!(fake.tokens_issued(), 4);
}

#[test]
fn garbage_html_and_huge_bodies() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    for api_kind in [Api::Query, Api::Json] {
        let resp = api(port, api_kind, &IDC, &["fault-garbage"]);
        assert_eq!(resp.status, 200);
        assert!(resp.json().is_none() && !resp.body.starts_with(b"<"));
        let resp = api(port, api_kind, &IDC, &["fault-html"]);
        assert_eq!(resp.status, 502);
        assert_eq!(resp.header("content-type"), Some("text/html"));
        assert!(resp.text().contains("<title>502 Bad Gateway</title>"));
    }
    let mut client = Client::connect(port);
    client.send(
        &Req::api(port, Api::Query, &["fault-huge"])
            .signed(Api::Query, &IDC)
            .bytes(),
    );
    let (status, headers) = client.read_head().expect("head");
    assert_eq!(status, 200);
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .expect("content-length");
    assert_eq!(len, 50 * 1024 * 1024);
    let body = client.read_exact_body(len).expect("the whole body");
    assert!(body.starts_with(b"<GetIdentityCenterAuthTokenResponse"));
    assert!(body.ends_with(b"</GetIdentityCenterAuthTokenResponse>\n"));
    // The same connection goes on.
    let resp = client.call(&Req::api(port, Api::Query, &["c"]).signed(Api::Query, &IDC));
    assert_eq!(resp.status, 200);
    assert_eq!(fake.tokens_issued(), 1);
}

#[test]
fn control_endpoint_reports_and_resets() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    assert_eq!(stats(port), (0, 0));
    api(port, Api::Query, &IDC, &["a"]);
    api(port, Api::Json, &IDC, &["b"]);
    api(port, Api::Query, &IDC, &["err-notfound"]);
    assert_eq!(stats(port), (3, 2));
    assert_eq!((fake.requests(), fake.tokens_issued()), (3, 2));
    let reset = common::control(port, &rs_idc_fake::Control::Reset);
    assert_eq!((reset.status, reset.text().as_str()), (200, "{}"));
    assert_eq!(stats(port), (0, 0));
    assert_eq!(fake.issued_tokens().len(), 2);
    let mut other = Req::api(port, Api::Query, &[]);
    other.path = "/_fake/nothing".into();
    assert_eq!(call(port, &other).status, 404);
    assert_eq!(common::control_raw(port, "GET", b"").status, 405);
    assert_eq!(fake.requests(), 0);
}

#[test]
fn keep_alive_close_and_continue() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // Two requests on one connection.
    let mut client = Client::connect(port);
    let first = client.call(&Req::api(port, Api::Query, &["a"]).signed(Api::Query, &IDC));
    let second = client.call(&Req::api(port, Api::Json, &["b"]).signed(Api::Json, &IDC2));
    assert_eq!((first.status, second.status), (200, 200));
    assert!(first.header("connection").is_none());
    // Connection: close is honoured.
    let resp = client.call(
        &Req::api(port, Api::Query, &["c"])
            .header("Connection", "close")
            .signed(Api::Query, &IDC),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(client.is_closed());
    // Expect: 100-continue.
    let req = Req::api(port, Api::Query, &["d"])
        .header("Expect", "100-continue")
        .signed(Api::Query, &IDC);
    let bytes = req.bytes();
    let split = bytes.len() - req.body.len();
    let mut client = Client::connect(port);
    client.send(&bytes[..split]);
    let (status, _) = client.read_head().expect("interim answer");
    assert_eq!(status, 100);
    client.send(&bytes[split..]);
    assert_eq!(client.read_response().expect("answer").status, 200);
    assert_eq!(fake.requests(), 4);
}

#[test]
fn chunked_bodies_are_accepted() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let req = Req::api(port, Api::Query, &["chunky"]).signed(Api::Query, &IDC);
    let mut raw = String::from("POST / HTTP/1.1\r\n");
    for (n, v) in &req.headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("Transfer-Encoding: chunked\r\n\r\n");
    let (a, b) = req.body.split_at(10);
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
    bytes.extend_from_slice(a);
    bytes.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
    bytes.extend_from_slice(b);
    bytes.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut client = Client::connect(port);
    client.send(&bytes);
    assert_eq!(client.read_response().expect("answer").status, 200);
}

#[test]
fn oversized_requests_are_refused() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let mut client = Client::connect(port);
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
    let resp = client.read_response().expect("answer");
    assert_eq!(resp.status, 413);
    assert!(client.is_closed());
    let mut client = Client::connect(port);
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70 * 1024));
    // The server may stop reading before everything is sent.
    let _ = client.stream.write_all(big.as_bytes());
    let resp = client.read_response().expect("answer");
    assert_eq!(resp.status, 431);
}

#[test]
fn drop_stops_listening_quickly() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    assert_eq!(fake.url(), format!("http://127.0.0.1:{port}"));
    // An idle keep-alive connection does not hold up the drop.
    let mut idle = Client::connect(port);
    assert_eq!(
        idle.call(&Req::api(port, Api::Query, &["a"]).signed(Api::Query, &IDC))
            .status,
        200
    );
    let started = Instant::now();
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(idle.is_closed());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn unencoded_and_percent_encoded_ids() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // An ID that needs encoding is decoded before use; the message echoes it.
    let resp = api(port, Api::Query, &IDC, &["err-notfound", "a b&c"]);
    assert_eq!(resp.status, 404);
    assert!(resp.text().contains("err-notfound"));
    let resp = api(port, Api::Json, &IDC, &["wg \"quoted\""]);
    assert_eq!(resp.status, 200);
}
