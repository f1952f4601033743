//! The safe core against the local fake endpoint: success, every service
//! error, every fault, the time bound, and credentials of each kind.

use crate::common::{self, credentials, enhanced};
use rs_idc::{Client, Error, Settings, StaticCredentials, Status};
use rs_idc_fake::{keys, FakeServer};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TIMEOUT: Duration = Duration::from_millis(3000);

fn client_with(fake: &FakeServer, creds: StaticCredentials) -> Client {
    Client::new(common::settings(fake, creds, 2, TIMEOUT))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Fails the test if any secret of the run shows up in an error message.
fn assert_no_secret(fake: &FakeServer, err: &Error) {
    let message = err.message();
    for secret in [
        keys::IDC_SECRET_ACCESS_KEY,
        keys::IDC_SESSION_TOKEN,
        keys::PLAIN_SECRET_ACCESS_KEY,
        keys::EXPIRED_SECRET_ACCESS_KEY,
    ] {
        assert!(
            !message.contains(secret),
            "a secret key leaked into a message"
        );
    }
    for token in fake.issued_tokens() {
        assert!(!message.contains(&token), "a token leaked into a message");
    }
}

#[test]
fn gets_a_token_that_the_endpoint_issued() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    let token = client.get_token(&["My-Cluster", "other"]).unwrap();
    assert!(token.expires_at() > now());
    assert_eq!(fake.requests(), 1);
    assert_eq!(fake.issued_tokens(), vec![token.secret().to_owned()]);
}

#[test]
fn service_errors_map_onto_statuses_with_code_and_request_id() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    let cases = [
        ("err-notfound", Status::NotFound, "ClusterNotFound"),
        ("err-state", Status::InvalidState, "InvalidClusterState"),
        (
            "err-invalid",
            Status::InvalidArgument,
            "RedshiftInvalidParameter",
        ),
        (
            "err-unsupported",
            Status::Unsupported,
            "UnsupportedOperation",
        ),
        ("err-denied", Status::Denied, "AccessDenied"),
        ("err-unknown", Status::Service, "SomethingUnexpected"),
    ];
    for (id, status, code) in cases {
        let err = client.get_token(&[id]).unwrap_err();
        assert_eq!(err.status(), status, "{id}: {err}");
        assert!(err.message().contains(code), "{id}: {err}");
        assert!(err.message().contains("request id"), "{id}: {err}");
        assert_no_secret(&fake, &err);
    }
    // Modelled errors are not retried: one request each.
    assert_eq!(fake.requests(), cases.len() as u64);
}

#[test]
fn faults_map_onto_statuses_and_the_next_call_succeeds() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    let cases = [
        ("fault-throttle", Status::Throttled),
        ("fault-500", Status::Service),
        ("fault-503", Status::Service),
        ("fault-reset", Status::Network),
        ("fault-truncated", Status::BadResponse),
        ("fault-notoken", Status::BadResponse),
        ("fault-emptytoken", Status::BadResponse),
        ("fault-noexpiry", Status::BadResponse),
        ("fault-expired", Status::BadResponse),
        ("fault-garbage", Status::BadResponse),
        ("fault-html", Status::Service),
    ];
    for (id, status) in cases {
        let err = client.get_token(&[id]).unwrap_err();
        assert_eq!(err.status(), status, "{id}: {err}");
        assert!(!err.message().is_empty());
        assert_no_secret(&fake, &err);
        client.get_token(&["healthy"]).unwrap();
    }
}

#[test]
fn transient_faults_are_retried_away() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    for id in [
        "fault-throttle-1",
        "fault-500-1",
        "fault-503-1",
        "fault-reset-1",
    ] {
        let before = fake.requests();
        let token = client.get_token(&[id]);
        assert!(token.is_ok(), "{id}: {:?}", token.err());
        assert_eq!(fake.requests() - before, 2, "{id}: one failure, one retry");
    }
}

#[test]
fn a_hanging_endpoint_times_out_within_the_bound() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    let started = Instant::now();
    let err = client.get_token(&["fault-hang"]).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.status(), Status::Timeout, "{err}");
    assert!(took < TIMEOUT + Duration::from_secs(1), "took {took:?}");
    client.get_token(&["healthy"]).unwrap();
}

#[test]
fn credentials_without_an_identity_center_identity_are_unsupported() {
    let fake = FakeServer::start().unwrap();
    let plain = credentials(
        keys::PLAIN_ACCESS_KEY_ID,
        keys::PLAIN_SECRET_ACCESS_KEY,
        None,
    );
    let err = client_with(&fake, plain).get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::Unsupported, "{err}");
    assert_no_secret(&fake, &err);
}

#[test]
fn refused_credentials_are_denied() {
    let fake = FakeServer::start().unwrap();
    let cases = [
        credentials(
            keys::EXPIRED_ACCESS_KEY_ID,
            keys::EXPIRED_SECRET_ACCESS_KEY,
            None,
        ),
        credentials(
            keys::IDC_ACCESS_KEY_ID,
            "not-the-secret-key",
            Some(keys::IDC_SESSION_TOKEN),
        ),
        credentials("AKIAUNKNOWNKEY000001", "whatever", None),
        credentials(
            keys::IDC_ACCESS_KEY_ID,
            keys::IDC_SECRET_ACCESS_KEY,
            Some("wrong-session"),
        ),
    ];
    for creds in cases {
        let err = client_with(&fake, creds).get_token(&["c1"]).unwrap_err();
        assert_eq!(err.status(), Status::Denied, "{err}");
        assert_no_secret(&fake, &err);
    }
}

#[test]
fn an_endpoint_that_refuses_connections_is_a_network_error() {
    let fake = FakeServer::start().unwrap();
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(Settings {
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        ..client_with(&fake, enhanced()).settings().clone()
    });
    let err = client.get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::Network, "{err}");
}

#[test]
fn works_when_called_from_inside_another_async_runtime() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    let host = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let token = host.block_on(async { client.get_token(&["from-async"]) });
    assert!(token.unwrap().expires_at() > now());
}

#[test]
fn many_threads_share_one_client() {
    let fake = FakeServer::start().unwrap();
    let client = client_with(&fake, enhanced());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| client.get_token(&["shared"])))
            .collect();
        for handle in handles {
            assert!(handle.join().unwrap().unwrap().expires_at() > now());
        }
    });
}
