//! Clients made from driver options: Redshift Serverless, host names and
//! the plain-http rule, against the local fake endpoint.

use crate::common::{self, enhanced};
use rs_idc::options::settings_from_pairs;
use rs_idc::{Client, Settings, Status};
use rs_idc_fake::{keys, FakeServer};
use std::time::Duration;

/// A client made the way a driver makes one: from string options.
fn client_from_options(fake: &FakeServer, extra: &[(&str, &str)]) -> Client {
    let url = fake.url();
    let mut options = vec![
        ("region", "us-east-1"),
        ("endpoint_url", url.as_str()),
        ("access_key_id", keys::IDC_ACCESS_KEY_ID),
        ("secret_access_key", keys::IDC_SECRET_ACCESS_KEY),
        ("session_token", keys::IDC_SESSION_TOKEN),
        ("max_attempts", "2"),
        ("timeout_ms", "3000"),
    ];
    options.extend_from_slice(extra);
    Client::new(settings_from_pairs(&options).unwrap())
}

#[test]
fn serverless_workgroups_get_tokens_and_share_the_cache_rules() {
    let fake = FakeServer::start().unwrap();
    let client = client_from_options(&fake, &[]);
    let first = client.get_serverless_token(&["wg-one", "wg-two"]).unwrap();
    let again = client
        .get_serverless_token(&["wg-two", "wg-one", "wg-one"])
        .unwrap();
    assert_eq!(first.secret(), again.secret());
    assert_eq!(fake.requests(), 1);
    // A cluster and a workgroup of the same name are different entries.
    client.get_token(&["wg-one"]).unwrap();
    assert_eq!(fake.requests(), 2);
}

#[test]
fn serverless_errors_and_faults_map_onto_statuses() {
    let fake = FakeServer::start().unwrap();
    let client = client_from_options(&fake, &[]);
    let cases = [
        (
            "err-notfound",
            Status::NotFound,
            "ResourceNotFoundException",
        ),
        ("err-state", Status::InvalidState, "ConflictException"),
        (
            "err-invalid",
            Status::InvalidArgument,
            "ValidationException",
        ),
        ("err-denied", Status::Denied, "AccessDeniedException"),
        ("fault-throttle", Status::Throttled, "ThrottlingException"),
        ("fault-500", Status::Service, "InternalServerException"),
        ("fault-truncated", Status::BadResponse, ""),
        ("fault-noexpiry", Status::BadResponse, "no expiry"),
    ];
    for (name, status, words) in cases {
        let err = client.get_serverless_token(&[name]).unwrap_err();
        assert_eq!(err.status(), status, "{name}: {err}");
        assert!(err.message().contains(words), "{name}: {err}");
    }
    let err = client.get_serverless_token(&["Upper-Case"]).unwrap_err();
    assert!(err.message().starts_with("workgroups[0] "), "{err}");
}

#[test]
fn host_names_lead_to_the_cluster_or_workgroup() {
    let fake = FakeServer::start().unwrap();
    let client = client_from_options(&fake, &[]);
    let by_host = client
        .get_token_for_host(b"Pool-Cluster.abc123xyz.us-east-1.redshift.amazonaws.com")
        .unwrap();
    let by_id = client.get_token(&["pool-cluster"]).unwrap();
    assert_eq!(by_host.secret(), by_id.secret(), "one cache entry");
    client
        .get_token_for_host(b"wg-one.123456789012.us-east-1.redshift-serverless.amazonaws.com")
        .unwrap();
    assert_eq!(fake.requests(), 2);
    let err = client.get_token_for_host(b"10.1.2.3").unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert_eq!(fake.requests(), 2);
}

#[test]
fn without_a_region_option_the_host_region_is_used() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(Settings {
        region: None,
        ..common::settings(&fake, enhanced(), 1, Duration::from_secs(3))
    });
    // The environment of the test process has a region; the host's wins.
    client
        .get_token_for_host(b"c1.abc.eu-west-3.redshift.amazonaws.com")
        .unwrap();
    client
        .get_token_for_host(b"c1.abc.ap-south-1.redshift.amazonaws.com")
        .unwrap();
    assert_eq!(fake.requests(), 2, "two regions, two cache entries");
}

#[test]
fn plain_http_off_loopback_is_refused_before_any_traffic() {
    let fake = FakeServer::start().unwrap();
    // 192.0.2.0/24 is reserved for documentation: nothing answers there.
    let client = Client::new(Settings {
        endpoint_url: Some("http://192.0.2.1:8080".into()),
        ..common::settings(&fake, enhanced(), 1, Duration::from_secs(3))
    });
    let err = client.get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument, "{err}");
    assert!(err.message().contains("plain http://"), "{err}");
}
