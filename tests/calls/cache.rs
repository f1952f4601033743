//! The token cache against the local fake endpoint: single flight, key
//! normalisation, refresh inside the margin, switching it off, and
//! identities that never share tokens.

use crate::common::{self, enhanced, second_identity};
use rs_idc::{Client, Settings, StaticCredentials, Status};
use rs_idc_fake::FakeServer;
use std::sync::Barrier;
use std::time::Duration;

fn settings(fake: &FakeServer, creds: StaticCredentials) -> Settings {
    common::settings(fake, creds, 1, Duration::from_secs(5))
}

#[test]
fn sixty_four_threads_at_once_make_one_request() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(settings(&fake, enhanced()));
    let barrier = Barrier::new(64);
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    client
                        .get_token(&["pool-cluster"])
                        .map(|t| t.secret().to_owned())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    assert_eq!(fake.requests(), 1);
    assert_eq!(tokens.len(), 64);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "all callers share one token"
    );
}

#[test]
fn order_case_and_duplicates_share_one_entry() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(settings(&fake, enhanced()));
    let first = client.get_token(&["beta", "Alpha"]).unwrap();
    let second = client.get_token(&["ALPHA", "beta", "alpha"]).unwrap();
    assert_eq!(fake.requests(), 1);
    assert_eq!(first.secret(), second.secret());
    client.get_token(&["alpha"]).unwrap();
    assert_eq!(fake.requests(), 2, "a different set is a different entry");
}

#[test]
fn clients_with_the_same_settings_share_the_cache() {
    let fake = FakeServer::start().unwrap();
    let one = Client::new(settings(&fake, enhanced()));
    let two = Client::new(settings(&fake, enhanced()));
    let a = one.get_token(&["shared"]).unwrap();
    let b = two.get_token(&["shared"]).unwrap();
    assert_eq!(a.secret(), b.secret());
    assert_eq!(fake.requests(), 1);
}

#[test]
fn another_access_key_never_gets_the_first_identity_token() {
    let fake = FakeServer::start().unwrap();
    let first = Client::new(settings(&fake, enhanced()))
        .get_token(&["c1"])
        .unwrap();
    let second = Client::new(settings(&fake, second_identity()))
        .get_token(&["c1"])
        .unwrap();
    assert_eq!(fake.requests(), 2);
    assert_ne!(first.secret(), second.secret());
}

#[test]
fn a_token_inside_its_refresh_margin_is_refreshed() {
    let fake = FakeServer::start().unwrap();
    // A one-hour margin puts every one-minute token inside it at once.
    let eager = Client::new(Settings {
        refresh_margin: Some(Duration::from_secs(3600)),
        ..settings(&fake, enhanced())
    });
    let a = eager.get_token(&["ttl-60"]).unwrap();
    let b = eager.get_token(&["ttl-60"]).unwrap();
    assert_eq!(fake.requests(), 2);
    assert_ne!(a.secret(), b.secret());
}

#[test]
fn a_short_lived_token_is_refreshed_once_after_half_its_lifetime() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(settings(&fake, enhanced()));
    // Four seconds of life: the default margin is half of that.
    let first = client.get_token(&["ttl-4"]).unwrap();
    assert_eq!(
        client.get_token(&["ttl-4"]).unwrap().secret(),
        first.secret()
    );
    assert_eq!(fake.requests(), 1);
    std::thread::sleep(Duration::from_millis(3100));
    let refreshed = client.get_token(&["ttl-4"]).unwrap();
    assert_ne!(refreshed.secret(), first.secret());
    assert_eq!(
        client.get_token(&["ttl-4"]).unwrap().secret(),
        refreshed.secret()
    );
    assert_eq!(fake.requests(), 2);
}

#[test]
fn with_the_cache_off_every_call_reaches_the_endpoint() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(Settings {
        cache: false,
        ..settings(&fake, enhanced())
    });
    for _ in 0..3 {
        client.get_token(&["uncached"]).unwrap();
    }
    assert_eq!(fake.requests(), 3);
}

#[test]
fn failures_are_not_cached() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(settings(&fake, enhanced()));
    for _ in 0..2 {
        let err = client.get_token(&["err-notfound"]).unwrap_err();
        assert_eq!(err.status(), Status::NotFound);
    }
    assert_eq!(fake.requests(), 2);
}
