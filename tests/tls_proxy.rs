//! Extra trust roots and proxies against the local fake endpoint: a TLS
//! listener with a self-signed CA, and a loopback proxy that counts what
//! passes through it.

mod common;

use common::enhanced;
use rs_idc::options::settings_from_options;
use rs_idc::{Client, Settings, Status};
use rs_idc_fake::{FakeOptions, FakeProxy, FakeServer};
use std::time::Duration;

fn settings(fake: &FakeServer) -> Settings {
    common::settings(fake, enhanced(), 1, Duration::from_secs(5))
}

fn tls_fake() -> FakeServer {
    FakeServer::start_with(FakeOptions {
        tls: true,
        ..FakeOptions::default()
    })
    .unwrap()
}

#[test]
fn an_untrusted_certificate_is_a_network_error() {
    let fake = tls_fake();
    let err = Client::new(settings(&fake)).get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::Network, "{err}");
    assert_eq!(fake.requests(), 0);
}

#[test]
fn an_extra_ca_makes_the_certificate_trusted() {
    let fake = tls_fake();
    let client = Client::new(Settings {
        ca_bundle: Some(fake.ca_pem().unwrap().into_bytes()),
        ..settings(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(fake.requests(), 1);
}

#[test]
fn the_ca_file_option_reads_the_ca() {
    let fake = tls_fake();
    let path = std::env::temp_dir().join(format!("rs-idc-test-ca-{}.pem", std::process::id()));
    fake.write_ca_file(&path).unwrap();
    let url = fake.url();
    let options = [
        ("endpoint_url", url.as_str()),
        ("ca_file", path.to_str().unwrap()),
        ("region", "us-east-1"),
        ("access_key_id", rs_idc_fake::keys::IDC_ACCESS_KEY_ID),
        (
            "secret_access_key",
            rs_idc_fake::keys::IDC_SECRET_ACCESS_KEY,
        ),
        ("session_token", rs_idc_fake::keys::IDC_SESSION_TOKEN),
    ];
    let raw: Vec<_> = options
        .iter()
        .map(|(k, v)| (k.as_bytes(), Some(v.as_bytes())))
        .collect();
    let client = Client::new(settings_from_options(&raw).unwrap());
    std::fs::remove_file(&path).unwrap();
    client.get_serverless_token(&["wg-one"]).unwrap();
    assert_eq!(fake.requests(), 1);
}

#[test]
fn plain_calls_go_through_the_proxy() {
    let fake = FakeServer::start().unwrap();
    let proxy = FakeProxy::start().unwrap();
    let client = Client::new(Settings {
        proxy: Some(proxy.url()),
        ..settings(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(proxy.requests(), 1);
    assert_eq!(fake.requests(), 1);
}

#[test]
fn no_proxy_hosts_bypass_it() {
    let fake = FakeServer::start().unwrap();
    let proxy = FakeProxy::start().unwrap();
    let client = Client::new(Settings {
        proxy: Some(proxy.url()),
        no_proxy: Some("127.0.0.1".into()),
        ..settings(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(proxy.requests(), 0);
    assert_eq!(fake.requests(), 1);
}

#[test]
fn tls_calls_tunnel_through_the_proxy() {
    let fake = tls_fake();
    let proxy = FakeProxy::start().unwrap();
    let client = Client::new(Settings {
        proxy: Some(proxy.url()),
        ca_bundle: Some(fake.ca_pem().unwrap().into_bytes()),
        ..settings(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(fake.requests(), 1);
}
