//! The endpoint check and the cache scope use the endpoint the SDK will
//! really call: a profile's `[services]` section counts, and
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` turns configured endpoints off.
//!
//! It changes the process environment: its turn alone (`common::alone()`)
//! puts the environment back afterwards. As a safety net every https call
//! goes to a loopback proxy that refuses any target but the fake, so
//! nothing can leave the machine.

use crate::common;
use rs_idc::options::settings_from_pairs;
use rs_idc::{Client, Status};
use rs_idc_fake::{keys, FakeProxy, FakeServer};

fn handle(options: &[(&str, &str)]) -> Client {
    Client::new(settings_from_pairs(options).unwrap())
}

#[test]
fn profile_service_endpoints_are_checked_used_and_ignorable() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let proxy = FakeProxy::start().unwrap();
    let dir = std::env::temp_dir().join(format!("rs-idc-endpoints-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile far]\nregion = us-east-1\nservices = far-services\n\n\
             [services far-services]\nredshift =\n  endpoint_url = http://10.9.8.7:1\n\n\
             [profile near]\nregion = us-east-1\nservices = near-services\n\n\
             [services near-services]\nredshift =\n  endpoint_url = {}\n\
             redshift-serverless =\n  endpoint_url = {}\n",
            fake.url(),
            fake.url()
        ),
    )
    .unwrap();
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("AWS_CONFIG_FILE", &config);
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("HTTPS_PROXY", proxy.url());
    let creds = [
        ("access_key_id", keys::IDC_ACCESS_KEY_ID),
        ("secret_access_key", keys::IDC_SECRET_ACCESS_KEY),
        ("session_token", keys::IDC_SESSION_TOKEN),
    ];

    // A plain-http service endpoint off loopback in the profile is refused
    // like an explicit one, before any traffic.
    let mut options = vec![("profile", "far")];
    options.extend(creds);
    let err = handle(&options).get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument, "{err}");
    assert!(
        err.message().starts_with("endpoint: plain http://"),
        "{err}"
    );

    // A loopback service endpoint in the profile is where the calls go.
    let mut options = vec![("profile", "near")];
    options.extend(creds);
    let near = handle(&options);
    near.get_token(&["c1"]).unwrap();
    near.get_serverless_token(&["wg-one"]).unwrap();
    assert_eq!(fake.requests(), 2);

    // With configured endpoints ignored, the profile's endpoint is not the
    // one called, so it is not refused either: the default endpoint would
    // be, and without credentials the call ends before any traffic.
    std::env::set_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    let err = handle(&[("profile", "far")])
        .get_token(&["c1"])
        .unwrap_err();
    assert_eq!(err.status(), Status::NoCredentials, "{err}");
    // One readable chain of causes, no Debug dump of the SDK's types.
    println!("{err}");
    assert!(
        err.message()
            .starts_with("no AWS credentials could be resolved: "),
        "{err}"
    );
    for dump in [
        "CredentialsNotLoaded(",
        "ProviderChainError",
        "{",
        "Some(",
        "\n",
    ] {
        assert!(!err.message().contains(dump), "{err}");
    }
    assert_eq!(proxy.requests(), 0);
    assert_eq!(proxy.refused(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
