//! Non-blocking requests: start, a descriptor that becomes readable, and
//! an outcome that is exactly the blocking call's.
//!
//! The tests count the process's descriptors: each takes its turn alone
//! (`common::alone()`).

use crate::common::{self, enhanced};
use rs_idc::requests::Request;
use rs_idc::{Api, Client, Status};
use rs_idc_fake::FakeServer;
use std::sync::Arc;
use std::time::Duration;

fn client(fake: &FakeServer) -> Arc<Client> {
    Arc::new(Client::new(common::settings(
        fake,
        enhanced(),
        1,
        Duration::from_secs(10),
    )))
}

/// Whether `fd` is readable within `ms` milliseconds.
fn readable(fd: i32, ms: i32) -> bool {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut poll, 1, ms) };
    ready == 1 && poll.revents & libc::POLLIN != 0
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn an_uncached_token_arrives_through_the_descriptor() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let request = Request::start(&client, Api::Provisioned, &["slow-300"]).unwrap();
    assert!(!readable(request.fd(), 0));
    assert!(request.read_outcome(|_| ()).is_none(), "pending");
    assert!(readable(request.fd(), 10_000));
    let token = request.read_outcome(|t| t.clone()).unwrap().unwrap();
    // The blocking call now gets the same, cached token.
    assert_eq!(
        client.get_token(&["slow-300"]).unwrap().secret(),
        token.secret()
    );
    assert_eq!(fake.requests(), 1);
    // Still readable, and the outcome may be read again.
    assert!(readable(request.fd(), 0));
    assert!(request.read_outcome(|_| ()).unwrap().is_ok());
}

#[test]
fn a_cached_token_is_ready_at_once_and_errors_are_the_blocking_calls() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    client.get_token(&["c1"]).unwrap();
    let request = Request::start(&client, Api::Provisioned, &["c1"]).unwrap();
    assert!(readable(request.fd(), 0), "ready without waiting");
    assert!(request.read_outcome(|_| ()).unwrap().is_ok());
    assert_eq!(fake.requests(), 1);

    let failing = Request::start(&client, Api::Provisioned, &["err-notfound"]).unwrap();
    assert!(readable(failing.fd(), 10_000));
    let err = failing.read_outcome(|_| ()).unwrap().unwrap_err();
    let blocking = client.get_token(&["err-notfound"]).unwrap_err();
    assert_eq!(err.status(), Status::NotFound);
    assert_eq!(err.status(), blocking.status());

    let before = fake.requests();
    let bad = Request::start(&client, Api::Provisioned, &["bad_id"])
        .err()
        .unwrap();
    assert_eq!(bad.status(), Status::InvalidArgument);
    assert_eq!(fake.requests(), before, "no traffic for a bad input");
}

#[test]
fn concurrent_requests_share_one_call() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let requests: Vec<Request> = (0..10)
        .map(|_| Request::start(&client, Api::Provisioned, &["slow-400"]).unwrap())
        .collect();
    for request in &requests {
        assert!(readable(request.fd(), 10_000));
        assert!(request.read_outcome(|_| ()).unwrap().is_ok());
    }
    assert_eq!(fake.requests(), 1);
}

#[test]
fn freed_requests_leak_no_descriptor_and_outlive_nothing() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    // Two rounds of 100 requests freed before they finish, on identifiers
    // not cached yet; after the first, the connection pool has grown to
    // what the calls need, so the second must leave the count where the
    // first did.
    let round = |first: usize| {
        for i in 0..100 {
            let id = format!("slow-{}", first + i % 3);
            drop(Request::start(&client, Api::Provisioned, &[id.as_str()]).unwrap());
        }
        // The calls already started finish on their own threads.
        std::thread::sleep(Duration::from_millis(500));
        open_fds()
    };
    let before = round(20);
    let now = round(30);
    assert!(now <= before, "descriptors: {before} before, {now} after");
    // The client may go before its requests.
    let request = Request::start(&client, Api::Provisioned, &["slow-200"]).unwrap();
    drop(client);
    assert!(readable(request.fd(), 10_000));
    assert!(request.read_outcome(|_| ()).unwrap().is_ok());
}
