//! The device-code sign-in against the fake: the tests play the person,
//! who opens the verification URL (with its code) in a browser anywhere;
//! the fake approves the sign-in when that page is visited (and refuses
//! it with `deny=1`).
//!
//! The display of the code is process-wide: each test takes its turn alone
//! (`common::alone()`), which also puts the default display back.

use crate::common::{self, enhanced};
use rs_idc::device::{set_show_device_code, ShowDeviceCode};
use rs_idc::{Client, Status};
use rs_idc_fake::{FakeOptions, FakeServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `GET url` (plain http on loopback); the answer's status line.
fn visit(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

/// What the person was shown: the URL and the code, each time.
type Shown = Arc<Mutex<Vec<(String, String)>>>;

/// What the person does with the URL.
#[derive(Clone, Copy)]
enum Visit {
    Approve,
    Deny,
    Never,
}

/// A person who, when shown a code, waits for `before_visit` (on a thread
/// of their own) and then does `visit`.
fn person(before_visit: impl Fn() + Send + Sync + 'static, visit_as: Visit) -> Shown {
    let shown: Shown = Arc::default();
    let record = Arc::clone(&shown);
    let before_visit = Arc::new(before_visit);
    let show: ShowDeviceCode = Arc::new(move |url: &str, code: &str| {
        record
            .lock()
            .unwrap()
            .push((url.to_owned(), code.to_owned()));
        let url = match visit_as {
            Visit::Approve => url.to_owned(),
            Visit::Deny => format!("{url}&deny=1"),
            Visit::Never => return Ok(()),
        };
        let before_visit = Arc::clone(&before_visit);
        std::thread::spawn(move || {
            before_visit();
            visit(&url);
        });
        Ok(())
    });
    set_show_device_code(Some(show));
    shown
}

fn client(fake: &FakeServer, issuer: &str, timeout_s: u64) -> Client {
    let mut settings = common::settings(fake, enhanced(), 1, Duration::from_secs(10));
    settings.browser.issuer_url = Some(format!("https://identitycenter.amazonaws.com/{issuer}"));
    settings.browser.response_timeout = Duration::from_secs(timeout_s);
    Client::new(settings)
}

/// Waits until the fake has answered `n` device-code polls.
fn polls_answered(fake: &FakeServer, n: u64) {
    let bound = Instant::now() + Duration::from_secs(30);
    while fake.operations(rs_idc_fake::names::op::DEVICE_CODE) < n {
        assert!(Instant::now() < bound, "the library never polled");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_device_code_sign_in_waits_for_the_person_and_is_kept() {
    let _alone = common::alone();
    let fake = Arc::new(FakeServer::start().unwrap());
    // The person confirms only after the library was told to wait.
    let watched = Arc::clone(&fake);
    let shown = person(move || polls_answered(&watched, 1), Visit::Approve);
    let client = client(&fake, "ssoins-device", 20);
    let token = client.get_device_token().unwrap();
    assert!(fake.access_token_subject(token.secret()).is_some());
    let [(url, code)] = shown.lock().unwrap().clone().try_into().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.contains(&code), "the URL carries the code");
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::START_DEVICE), 1);
    // One poll told to wait (authorization_pending), one with the token.
    assert_eq!(fake.operations(rs_idc_fake::names::op::DEVICE_CODE), 2);
    // Kept: no second code, no request.
    let requests = fake.requests();
    assert_eq!(client.get_device_token().unwrap().secret(), token.secret());
    assert_eq!(fake.requests(), requests);
    assert_eq!(shown.lock().unwrap().len(), 1);
}

#[test]
fn slow_down_makes_the_polls_wait_longer() {
    let _alone = common::alone();
    let fake = FakeServer::start_with(FakeOptions {
        device_slow_downs: 1,
        ..FakeOptions::default()
    })
    .unwrap();
    person(|| {}, Visit::Approve);
    let token = client(&fake, "ssoins-slow", 30).get_device_token().unwrap();
    assert!(fake.access_token_subject(token.secret()).is_some());
    // The first poll was told to slow down; the next, at the longer
    // interval (the fake refuses a poll that comes too soon), succeeded.
    assert_eq!(fake.operations(rs_idc_fake::names::op::DEVICE_CODE), 2);
}

#[test]
fn a_refused_expired_or_unconfirmed_sign_in_fails_clearly() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let secrets_absent = |message: &str, shown: &Shown| {
        for (_, code) in shown.lock().unwrap().iter() {
            assert!(!message.contains(code.as_str()), "the code in {message}");
        }
        for secret in fake.issued_secrets() {
            assert!(!message.contains(&secret), "a secret in {message}");
        }
    };
    // Refused at the verification page.
    let shown = person(|| {}, Visit::Deny);
    let err = client(&fake, "ssoins-denied", 20)
        .get_device_token()
        .unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().contains("refused"), "{err}");
    secrets_absent(err.message(), &shown);
    // Nobody confirms within idp_response_timeout_s.
    let shown = person(|| {}, Visit::Never);
    let started = Instant::now();
    let err = client(&fake, "ssoins-idle", 2)
        .get_device_token()
        .unwrap_err();
    assert_eq!(err.status(), Status::Timeout, "{err}");
    // It ends at its own bound, not at the code's expiry (600 s at the
    // fake); the margin is wide for a machine under load.
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "a 2 s sign-in took {took:?}"
    );
    assert!(err.message().contains("idp_response_timeout_s"), "{err}");
    secrets_absent(err.message(), &shown);
    // A display that fails ends the sign-in at once.
    set_show_device_code(Some(Arc::new(|_: &str, _: &str| {
        Err("no terminal".to_owned())
    })));
    let err = client(&fake, "ssoins-no-display", 20)
        .get_device_token()
        .unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().contains("could not be shown"), "{err}");
    assert!(err.message().contains("no terminal"), "{err}");
}

#[test]
fn an_expired_device_code_fails_clearly() {
    let _alone = common::alone();
    let fake = FakeServer::start_with(FakeOptions {
        device_code_ttl_secs: 1,
        ..FakeOptions::default()
    })
    .unwrap();
    person(|| {}, Visit::Never);
    let err = client(&fake, "ssoins-expired", 20)
        .get_device_token()
        .unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().contains("expired"), "{err}");
}
