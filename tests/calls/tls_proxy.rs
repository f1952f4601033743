//! Extra trust roots and proxies against the local fake endpoint: a TLS
//! listener with a self-signed CA, and loopback proxies that count what
//! passes through them. Loopback destinations never go through a proxy,
//! so proxied calls go to the fake's test host name, which only the proxy
//! resolves (to 127.0.0.1).

use crate::common::{self, enhanced};
use rs_idc::options::settings_from_pairs;
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
    let client = Client::new(settings_from_pairs(&options).unwrap());
    std::fs::remove_file(&path).unwrap();
    client.get_serverless_token(&["wg-one"]).unwrap();
    assert_eq!(fake.requests(), 1);
}

/// A plain-http fake reached by the test host name, which only a proxy
/// can reach (the proxy connects to 127.0.0.1; nothing resolves the name).
fn named_plain(fake: &FakeServer) -> Settings {
    Settings {
        endpoint_url: Some(fake.named_url()),
        allow_http: true,
        ..settings(fake)
    }
}

/// A TLS fake reached by the test host name, its CA trusted.
fn named_tls(fake: &FakeServer) -> Settings {
    Settings {
        endpoint_url: Some(fake.named_url()),
        ca_bundle: Some(fake.ca_pem().unwrap().into_bytes()),
        ..settings(fake)
    }
}

#[test]
fn plain_http_calls_use_the_http_proxy_only() {
    let fake = FakeServer::start().unwrap();
    let https_proxy = FakeProxy::start().unwrap();
    let http_proxy = FakeProxy::start().unwrap();
    let client = Client::new(Settings {
        proxy: Some(https_proxy.url()),
        http_proxy: Some(http_proxy.url()),
        ..named_plain(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(http_proxy.requests(), 1);
    assert_eq!(http_proxy.tunnels(), 0);
    assert_eq!(https_proxy.requests(), 0);
    assert_eq!(fake.requests(), 1);
}

#[test]
fn tls_calls_tunnel_through_the_https_proxy_only() {
    let fake = tls_fake();
    let https_proxy = FakeProxy::start().unwrap();
    let http_proxy = FakeProxy::start().unwrap();
    let client = Client::new(Settings {
        proxy: Some(https_proxy.url()),
        http_proxy: Some(http_proxy.url()),
        ..named_tls(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(https_proxy.tunnels(), 1);
    assert_eq!(http_proxy.requests(), 0);
    assert_eq!(fake.requests(), 1);
}

#[test]
fn no_proxy_rules_are_applied_to_other_hosts_only() {
    let fake = tls_fake();
    let proxy = FakeProxy::start().unwrap();
    let client = Client::new(Settings {
        proxy: Some(proxy.url()),
        no_proxy: Some("example.com,.internal".into()),
        ..named_tls(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(proxy.tunnels(), 1);
}

#[test]
fn loopback_destinations_never_go_through_a_proxy() {
    for fake in [FakeServer::start().unwrap(), tls_fake()] {
        let proxy = FakeProxy::start().unwrap();
        let client = Client::new(Settings {
            proxy: Some(proxy.url()),
            http_proxy: Some(proxy.url()),
            ca_bundle: fake.ca_pem().map(String::into_bytes),
            ..settings(&fake)
        });
        client.get_token(&["c1"]).unwrap();
        assert_eq!(proxy.requests(), 0, "{}", fake.url());
        assert_eq!(fake.requests(), 1);
    }
}

#[test]
fn a_proxy_with_a_password_works_and_never_shows_it() {
    let password = "pw-Not-In-Any-Message";
    let fake = tls_fake();
    let proxy = FakeProxy::start_with_auth("rs-idc-user", password).unwrap();
    let client = Client::new(Settings {
        proxy: proxy.auth_url(),
        ..named_tls(&fake)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(proxy.authenticated(), 1);
    assert_eq!(proxy.auth_refused(), 0);
    let plain = FakeServer::start().unwrap();
    let client = Client::new(Settings {
        http_proxy: proxy.auth_url(),
        ..named_plain(&plain)
    });
    client.get_token(&["c1"]).unwrap();
    assert_eq!(proxy.authenticated(), 2);

    let wrong = proxy
        .auth_url()
        .unwrap()
        .replace(password, "pw-Wrong-In-No-Message");
    let client = Client::new(Settings {
        proxy: Some(wrong.clone()),
        ..named_tls(&fake)
    });
    let err = client.get_token(&["c2"]).unwrap_err();
    assert_eq!(err.status(), Status::Network, "{err}");
    assert_eq!(proxy.auth_refused(), 1);
    for secret in ["pw-Not-In-Any-Message", "pw-Wrong-In-No-Message"] {
        assert!(!err.message().contains(secret), "{err}");
    }
    let shown = format!(
        "{:?}",
        Settings {
            proxy: Some(wrong),
            ..Settings::default()
        }
    );
    assert!(!shown.contains("pw-Wrong"), "{shown}");
}
