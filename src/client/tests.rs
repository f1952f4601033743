use super::*;
use crate::kept::{HandleId, Store};
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
    let mine = |id: HandleId| REGIONAL.find(|key, _| key.handle == id).is_some();
    for n in 1..=40 {
        let host = format!("c{n}.abc.us-test-{n}.redshift.amazonaws.com");
        client.get_token_for_host(host.as_bytes()).unwrap();
        assert!(REGIONAL.len() <= 32);
    }
    assert!(mine(client.id));
    let before = fake.requests();
    // A made-up region is refused before any client is made.
    let err = client
        .get_token_for_host(b"c1.abc.aa-bb-9.redshift.amazonaws.com")
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert_eq!(fake.requests(), before);
    // The regional clients go with their client.
    let other = Client::new(client.settings().clone());
    other
        .get_token_for_host(b"c1.abc.us-test-1.redshift.amazonaws.com")
        .unwrap();
    let id = client.id;
    drop(client);
    assert!(!mine(id));
    assert!(mine(other.id));
    assert_eq!(REGIONAL.name(), "regional clients");
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
