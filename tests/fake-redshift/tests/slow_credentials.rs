//! `slow-N` answers and the container-credentials endpoint. Tokens and
//! secrets are compared, never shown.

mod common;

use common::{api, call, get_credentials, Api, Req, IDC};
use rs_idc_fake::{keys, timefmt, FakeServer};
use std::thread;
use std::time::{Duration, Instant};

/// Token and expiry of a success answer in either protocol.
fn token_and_expiry(api: Api, resp: &common::Resp) -> (Option<String>, Option<String>) {
    match api {
        Api::Query => (resp.xml("Token"), resp.xml("ExpirationTime")),
        Api::Json => (resp.json_str("token"), resp.json_str("expirationTime")),
    }
}

#[test]
fn slow_n_waits_then_answers_a_normal_token() {
    let fake = FakeServer::start().expect("start");
    for (i, api_kind) in [Api::Query, Api::Json].into_iter().enumerate() {
        let started = Instant::now();
        let resp = api(fake.port(), api_kind, &IDC, &["Slow-400", "other"]);
        let took = started.elapsed();
        assert_eq!(resp.status, 200, "{}", resp.shown());
        assert!(
            took >= Duration::from_millis(400),
            "answered after {took:?}"
        );
        assert!(took < Duration::from_secs(10), "answered after {took:?}");
        let (token, expiry) = token_and_expiry(api_kind, &resp);
        let token = token.expect("a token");
        assert_eq!(token.len(), 800);
        let at = timefmt::parse_iso8601(&expiry.expect("an expiry")).expect("ISO-8601");
        assert!((at - timefmt::now_epoch_secs() - 3600).abs() <= 5);
        assert_eq!(fake.requests(), i as u64 + 1);
        assert_eq!(fake.tokens_issued(), i as u64 + 1);
        assert!(fake.issued_tokens().last() == Some(&token));
    }
    // Out of range: a normal token at once.
    for name in ["slow-0", "slow-60001"] {
        let started = Instant::now();
        let resp = api(fake.port(), Api::Query, &IDC, &[name]);
        assert_eq!(resp.status, 200);
        assert!(started.elapsed() < Duration::from_millis(300), "{name}");
    }
}

#[test]
fn slow_requests_are_counted_at_once_and_answered_side_by_side() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let started = Instant::now();
    let callers: Vec<_> = (0..3)
        .map(|_| thread::spawn(move || api(port, Api::Json, &IDC, &["slow-1500"]).status))
        .collect();
    // Received and counted, not answered yet.
    let deadline = Instant::now() + Duration::from_secs(1);
    while fake.requests() < 3 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fake.requests(), 3);
    assert_eq!(fake.tokens_issued(), 0, "tokens before the pause ended");
    for caller in callers {
        assert_eq!(caller.join().expect("caller"), 200);
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(
        took < Duration::from_millis(4000),
        "not side by side: {took:?}"
    );
    assert_eq!(fake.tokens_issued(), 3);
}

#[test]
fn dropping_the_server_ends_a_slow_answer() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let caller = thread::spawn(move || {
        let mut client = common::Client::connect(port);
        client.send(
            &Req::api(port, Api::Query, &["slow-60000"])
                .signed(Api::Query, &IDC)
                .bytes(),
        );
        client.read_response().is_ok()
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while fake.requests() == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    drop(fake);
    assert!(!caller.join().expect("caller"), "no answer after the drop");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn credentials_endpoint_hands_out_the_idc_identity() {
    let fake = FakeServer::start().expect("start");
    let resp = get_credentials(fake.port());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(
        resp.json_member_names(),
        ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
    );
    let field = |k: &str| resp.json_str(k).unwrap_or_default();
    assert_eq!(field("AccessKeyId"), keys::IDC_ACCESS_KEY_ID);
    assert!(field("SecretAccessKey") == keys::IDC_SECRET_ACCESS_KEY);
    assert!(field("Token") == keys::IDC_SESSION_TOKEN);
    let expiration = field("Expiration");
    assert!(
        expiration.len() == 20 && expiration.ends_with('Z'),
        "{expiration}"
    );
    let at = timefmt::parse_iso8601(&expiration).expect("ISO-8601");
    assert!((at - timefmt::now_epoch_secs() - 3600).abs() <= 5);

    // An SDK may send an authorization token; it is not checked.
    let with_auth = call(
        fake.port(),
        &Req {
            method: "GET".into(),
            path: "/_fake/credentials".into(),
            query: String::new(),
            headers: vec![
                ("Host".into(), format!("127.0.0.1:{}", fake.port())),
                ("Authorization".into(), "any-token".into()),
            ],
            body: Vec::new(),
        },
    );
    assert_eq!(with_auth.status, 200);
    assert_eq!(fake.credential_requests(), 2);
    assert_eq!(fake.requests(), 0, "not an API request");
    assert_eq!(
        common::stats_of(fake.port()),
        rs_idc_fake::Stats {
            credentials: 2,
            ..common::counts(0, 0, &[])
        }
    );

    // Another method: 405, not counted.
    let mut post = Req::api(fake.port(), Api::Query, &[]);
    post.path = "/_fake/credentials".into();
    assert_eq!(call(fake.port(), &post).status, 405);
    assert_eq!(fake.credential_requests(), 2);

    fake.reset_counters();
    assert_eq!(fake.credential_requests(), 0);
    get_credentials(fake.port());
    let reset = common::control(fake.port(), &rs_idc_fake::Control::Reset);
    assert_eq!(reset.status, 200);
    assert_eq!(fake.credential_requests(), 0);
}
