use super::hosts::MAX_REGIONAL_CLIENTS;
use super::*;
use crate::status::Status;

#[test]
fn host_names_keep_a_bounded_number_of_regional_clients() {
    let fake = rs_idc_fake::FakeServer::start().unwrap();
    let client = Client::new(Settings {
        endpoint_url: Some(fake.url()),
        credentials: Some(crate::StaticCredentials::new(
            rs_idc_fake::keys::IDC_ACCESS_KEY_ID,
            rs_idc_fake::keys::IDC_SECRET_ACCESS_KEY,
            Some(rs_idc_fake::keys::IDC_SESSION_TOKEN.into()),
        )),
        ..Settings::default()
    });
    for n in 1..=3 * MAX_REGIONAL_CLIENTS {
        let host = format!("c{n}.abc.us-test-{}.redshift.amazonaws.com", n % 100);
        client.get_token_for_host(host.as_bytes()).unwrap();
        assert!(client.regional_count() <= MAX_REGIONAL_CLIENTS);
    }
    assert_eq!(client.regional_count(), MAX_REGIONAL_CLIENTS);
    let before = fake.requests();
    // A made-up region is refused before any client is made.
    let err = client
        .get_token_for_host(b"c1.abc.aa-bb-9.redshift.amazonaws.com")
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert_eq!(fake.requests(), before);
}

#[test]
fn bad_identifiers_fail_before_any_service_is_built() {
    // The endpoint does not exist: reaching the network would fail
    // differently (and slowly).
    let client = Client::new(Settings {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        region: Some("us-east-1".into()),
        ..Settings::default()
    });
    let err = client.get_token(&["ok", "not_ok"]).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().starts_with("ids[1] "));
}
