//! A token belongs to the complete credentials that minted it: the access
//! key id names an identity but does not prove it, so handles that share a
//! key id and differ in the secret key or the session token never share a
//! cached token, a call in flight or an error. Calls in flight are shared
//! only by handles whose outcome-changing settings match.

use crate::common::{self, credentials, enhanced};
use rs_idc::{Client, StaticCredentials, Status, Token};
use rs_idc_fake::{keys, FakeServer};
use std::sync::Barrier;
use std::time::{Duration, Instant};

fn client(fake: &FakeServer, creds: StaticCredentials, timeout: Duration) -> Client {
    Client::new(common::settings(fake, creds, 1, timeout))
}

/// The IDC identity's key id and session token with a wrong secret key.
fn wrong_secret() -> StaticCredentials {
    credentials(
        keys::IDC_ACCESS_KEY_ID,
        "not-the-secret-key-of-this-key-id",
        Some(keys::IDC_SESSION_TOKEN),
    )
}

/// The IDC identity's key id and secret key with another session token.
fn other_session() -> StaticCredentials {
    credentials(
        keys::IDC_ACCESS_KEY_ID,
        keys::IDC_SECRET_ACCESS_KEY,
        Some("another-sts-session-token"),
    )
}

const BOUND: Duration = Duration::from_secs(10);

#[test]
fn a_wrong_secret_key_never_gets_the_cached_token() {
    let fake = FakeServer::start().unwrap();
    let owner = client(&fake, enhanced(), BOUND);
    owner.get_token(&["id-shared"]).unwrap();
    assert_eq!(fake.requests(), 1);

    let impostor = client(&fake, wrong_secret(), BOUND);
    let err = impostor.get_token(&["id-shared"]).unwrap_err();
    assert_eq!(err.status(), Status::Denied, "{err}");
    assert!(err.message().contains("SignatureDoesNotMatch"), "{err}");
    assert_eq!(fake.requests(), 2, "the impostor made its own call");
    // The owner's token is still served to the owner alone.
    owner.get_token(&["id-shared"]).unwrap();
    assert_eq!(fake.requests(), 2);
}

#[test]
fn another_session_token_makes_its_own_call() {
    let fake = FakeServer::start().unwrap();
    client(&fake, enhanced(), BOUND)
        .get_token(&["id-session"])
        .unwrap();
    let err = client(&fake, other_session(), BOUND)
        .get_serverless_token(&["wg-session"])
        .unwrap_err();
    assert_eq!(err.status(), Status::Denied, "{err}");
    let err = client(&fake, other_session(), BOUND)
        .get_token(&["id-session"])
        .unwrap_err();
    assert_eq!(err.status(), Status::Denied, "{err}");
    assert_eq!(fake.requests(), 3);
}

/// Runs `calls` at once (released together) and returns their outcomes.
fn together(
    calls: Vec<Box<dyn FnOnce() -> Result<Token, rs_idc::Error> + Send + '_>>,
) -> Vec<Result<Token, rs_idc::Error>> {
    let barrier = Barrier::new(calls.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    call()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_wrong_secret_key_never_joins_the_owners_flight() {
    let fake = FakeServer::start().unwrap();
    let owner = client(&fake, enhanced(), BOUND);
    let impostor = client(&fake, wrong_secret(), BOUND);
    let outcomes = together(vec![
        Box::new(|| owner.get_token(&["slow-600"])),
        Box::new(|| impostor.get_token(&["slow-600"])),
    ]);
    assert!(outcomes[0].is_ok());
    let err = outcomes[1].as_ref().unwrap_err();
    assert_eq!(err.status(), Status::Denied, "{err}");
    assert_eq!(fake.requests(), 2);
}

#[test]
fn the_same_identity_and_settings_still_share_one_flight() {
    let fake = FakeServer::start().unwrap();
    let first = client(&fake, enhanced(), BOUND);
    let second = client(&fake, enhanced(), BOUND);
    let outcomes = together(vec![
        Box::new(|| first.get_token(&["slow-400"])),
        Box::new(|| second.get_token(&["slow-400"])),
    ]);
    let tokens: Vec<Token> = outcomes.into_iter().map(Result::unwrap).collect();
    assert_eq!(fake.requests(), 1);
    assert_eq!(tokens[0].secret(), tokens[1].secret());
}

/// A handle with a short time bound and one with a long bound race on one
/// key: the short one times out, the long one gets its token, whichever
/// started first.
#[test]
fn one_handles_time_bound_is_never_anothers_error() {
    let fake = FakeServer::start().unwrap();
    let short = client(&fake, enhanced(), Duration::from_millis(150));
    let long = client(&fake, enhanced(), BOUND);
    for (round, short_first) in [("slow-1200", true), ("slow-1201", false)] {
        let started = Instant::now();
        let (short_outcome, long_outcome) = std::thread::scope(|scope| {
            let delay = |me_first: bool| {
                if !me_first {
                    std::thread::sleep(Duration::from_millis(50));
                }
            };
            let (short, long) = (&short, &long);
            let s = scope.spawn(move || {
                delay(short_first);
                short.get_token(&[round])
            });
            let l = scope.spawn(move || {
                delay(!short_first);
                long.get_token(&[round])
            });
            (s.join().unwrap(), l.join().unwrap())
        });
        let err = short_outcome.unwrap_err();
        assert_eq!(err.status(), Status::Timeout, "{round}: {err}");
        let token = long_outcome.unwrap_or_else(|e| panic!("{round}: {e}"));
        assert!(!token.secret().is_empty());
        assert!(started.elapsed() >= Duration::from_millis(1200));
    }
}
