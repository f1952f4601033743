//! The container credential endpoint is reached directly even when proxies
//! are set, while the API call to a named host goes through the proxy.
//!
//! It changes the process environment: its turn alone (`common::alone()`)
//! puts the environment back afterwards.

use crate::common;
use rs_idc::{Client, Settings};
use rs_idc_fake::{FakeOptions, FakeProxy, FakeServer};
use std::time::Duration;

#[test]
fn credentials_come_straight_from_the_container_endpoint_past_the_proxies() {
    let _alone = common::alone();
    let plain = FakeServer::start().unwrap();
    let tls = FakeServer::start_with(FakeOptions {
        tls: true,
        ..FakeOptions::default()
    })
    .unwrap();
    let proxy = FakeProxy::start().unwrap();
    // The chain finds no keys in the environment and asks the container
    // endpoint, a loopback URL as the SDK allows for it.
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/_fake/credentials", plain.url()),
    );
    let client = Client::new(Settings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(tls.named_url()),
        ca_bundle: Some(tls.ca_pem().unwrap().into_bytes()),
        proxy: Some(proxy.url()),
        http_proxy: Some(proxy.url()),
        timeout: Duration::from_secs(10),
        ..Settings::default()
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(plain.credential_requests(), 1);
    assert_eq!(tls.requests(), 1);
    // The API call was tunnelled; the credential request was not proxied.
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(proxy.requests(), 1);
    assert_eq!(client.resolved_has_session_token(), Some(true));
}
