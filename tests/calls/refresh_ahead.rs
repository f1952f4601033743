//! Refresh ahead and forgetting a refused token: what connection pools
//! need from the cache. The fake's `slow-250` answers after 250 ms, so a
//! call that waited for the network takes at least that long, and a call
//! served from the cache takes microseconds.

use crate::common::{self, enhanced};
use rs_idc::{forget_token, Client, Settings, Status};
use rs_idc_fake::{FakeOptions, FakeServer};
use std::time::{Duration, Instant};

/// Tokens that live 20 s: their margin is 10 s, and refresh ahead starts
/// 5 s before that.
fn short_tokens() -> FakeServer {
    FakeServer::start_with(FakeOptions {
        token_ttl_secs: 20,
        ..FakeOptions::default()
    })
    .unwrap()
}

fn client(fake: &FakeServer, refresh_ahead: bool) -> Client {
    Client::new(Settings {
        refresh_ahead,
        ..common::settings(fake, enhanced(), 1, Duration::from_secs(10))
    })
}

/// Calls every 20 ms for `seconds`; how many of them waited for the
/// network (took 250 ms or more).
fn waits(client: &Client, seconds: u64) -> usize {
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut waited = 0;
    while Instant::now() < end {
        let started = Instant::now();
        client.get_token(&["slow-250"]).unwrap();
        if started.elapsed() >= Duration::from_millis(250) {
            waited += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    waited
}

#[test]
fn with_refresh_ahead_only_the_first_call_waits() {
    let fake = short_tokens();
    let client = client(&fake, true);
    assert_eq!(waits(&client, 13), 1);
    assert!(
        fake.requests() >= 2,
        "background refreshes asked for new tokens ({})",
        fake.requests()
    );
}

#[test]
fn without_refresh_ahead_a_call_waits_at_each_margin() {
    let fake = short_tokens();
    let client = client(&fake, false);
    assert_eq!(waits(&client, 13), 2, "the first call, and one at 10 s");
}

#[test]
fn a_failed_refresh_ahead_keeps_the_old_token_until_its_margin() {
    let fake = short_tokens();
    let client = client(&fake, true);
    let first = client.get_token(&["c1"]).unwrap();
    let started = Instant::now();
    drop(fake);
    // In the refresh-ahead window: the old token, and a refresh that fails.
    std::thread::sleep(Duration::from_millis(5_300));
    for _ in 0..20 {
        let again = client.get_token(&["c1"]).unwrap();
        assert_eq!(again.secret(), first.secret());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Past the margin the failure reaches the caller.
    let left = Duration::from_millis(10_300).saturating_sub(started.elapsed());
    std::thread::sleep(left);
    let err = client.get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::Network, "{err}");
}

#[test]
fn a_forgotten_token_is_fetched_anew() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake, true);
    let refused = client.get_token(&["c1"]).unwrap();
    let other = client.get_token(&["c2"]).unwrap();
    assert_eq!(fake.requests(), 2);
    assert!(!forget_token(b"not a token anyone has"));
    assert!(!forget_token(&refused.secret().as_bytes()[1..]));
    assert!(forget_token(refused.secret().as_bytes()));
    let fresh = client.get_token(&["c1"]).unwrap();
    assert_ne!(fresh.secret(), refused.secret());
    assert_eq!(fake.requests(), 3);
    // The other cached token stays.
    assert_eq!(client.get_token(&["c2"]).unwrap().secret(), other.secret());
    assert_eq!(fake.requests(), 3);
    assert!(!forget_token(refused.secret().as_bytes()), "already gone");
}
