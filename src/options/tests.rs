use super::*;
use crate::status::Status;

fn parse(options: &[(&str, &str)]) -> Result<Settings, Error> {
    settings_from_pairs(options)
}

fn rejects(options: &[(&str, &str)], start: &str) {
    let err = parse(options).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(
        err.message().starts_with(start),
        "{options:?}: {}",
        err.message()
    );
}

#[test]
fn every_key_takes_a_good_value() {
    let s = parse(&[
        ("Region", "eu-west-1"),
        ("PROFILE", "analytics"),
        ("endpoint_url", "https://redshift.eu-west-1.amazonaws.com"),
        ("access_key_id", "ASIAEXAMPLE"),
        ("secret_access_key", "secret-value"),
        ("session_token", "session-value"),
        ("proxy", "http://127.0.0.1:3128"),
        ("http_proxy", "http://user:pw@127.0.0.1:3129"),
        ("no_proxy", "localhost,.internal"),
        ("connect_timeout_ms", "500"),
        ("timeout_ms", "7000"),
        ("max_attempts", "4"),
        ("cache", "off"),
        ("refresh_margin_s", "120"),
        ("refresh_ahead", "off"),
        ("allow_http", "1"),
        ("token_cache_dir", "/var/tmp/rs-idc sign-ins"),
    ])
    .unwrap();
    assert_eq!(s.region.as_deref(), Some("eu-west-1"));
    assert_eq!(s.profile.as_deref(), Some("analytics"));
    assert_eq!(s.credentials.as_ref().unwrap().access_key_id, "ASIAEXAMPLE");
    assert_eq!(s.proxy.as_deref(), Some("http://127.0.0.1:3128"));
    assert_eq!(
        s.http_proxy.as_deref(),
        Some("http://user:pw@127.0.0.1:3129")
    );
    assert_eq!(s.no_proxy.as_deref(), Some("localhost,.internal"));
    assert_eq!(s.connect_timeout, Duration::from_millis(500));
    assert_eq!(s.timeout, Duration::from_millis(7000));
    assert_eq!(s.max_attempts, Some(4));
    assert!(!s.cache);
    assert_eq!(s.refresh_margin, Some(Duration::from_secs(120)));
    assert!(!s.refresh_ahead);
    assert!(s.allow_http);
    assert_eq!(s.user, None);
    assert_eq!(
        s.browser.token_cache_dir.as_deref(),
        Some(std::path::Path::new("/var/tmp/rs-idc sign-ins"))
    );
    assert_eq!(KEYS.len(), 28);
}

#[test]
fn an_option_overrides_a_bad_environment_value() {
    let env = |name: &str| -> Option<std::ffi::OsString> {
        match name {
            "RS_IDC_TIMEOUT_MS" => Some("soon".into()),
            "HTTPS_PROXY" => Some("socks5://bad".into()),
            "AWS_CA_BUNDLE" => Some("/nonexistent/ca.pem".into()),
            "RS_IDC_CACHE" => Some("perhaps".into()),
            _ => None,
        }
    };
    // Without the options, each bad variable is reported by name.
    let err = settings_with_environment(&[], env).unwrap_err();
    assert!(err.message().starts_with("RS_IDC_TIMEOUT_MS"), "{err}");
    let options = raw_pairs(&[
        ("timeout_ms", "1500"),
        ("proxy", "http://127.0.0.1:3128"),
        ("cache", "off"),
        ("ca_file", "/nonexistent/other.pem"),
    ]);
    // ca_file is read: its own error, not the variable's.
    let err = settings_with_environment(&options, env).unwrap_err();
    assert!(err.message().starts_with("ca_file: "), "{err}");
    let options = raw_pairs(&[
        ("timeout_ms", "1500"),
        ("proxy", "http://127.0.0.1:3128"),
        ("cache", "off"),
    ]);
    let err = settings_with_environment(&options, env).unwrap_err();
    assert!(err.message().starts_with("AWS_CA_BUNDLE: "), "{err}");
    let env_without_ca = |name: &str| (name != "AWS_CA_BUNDLE").then(|| env(name)).flatten();
    let s = settings_with_environment(&options, env_without_ca).unwrap();
    assert_eq!(s.timeout, Duration::from_millis(1500));
    assert_eq!(s.proxy.as_deref(), Some("http://127.0.0.1:3128"));
    assert!(!s.cache);
}

#[test]
fn every_key_names_itself_when_its_value_is_bad() {
    rejects(&[("region", "US EAST")], "region:");
    rejects(&[("profile", " ")], "profile:");
    rejects(&[("endpoint_url", "nonsense")], "endpoint_url:");
    rejects(
        &[("endpoint_url", "http://10.0.0.1")],
        "endpoint_url: plain http://",
    );
    rejects(&[("ca_file", "/nonexistent/ca.pem")], "ca_file:");
    rejects(&[("proxy", "socks5://127.0.0.1:1080")], "proxy:");
    rejects(&[("http_proxy", "127.0.0.1:1080")], "http_proxy:");
    rejects(&[("region", "aa-bb-9")], "region:");
    rejects(&[("connect_timeout_ms", "fast")], "connect_timeout_ms");
    rejects(&[("timeout_ms", "0")], "timeout_ms");
    rejects(&[("max_attempts", "0")], "max_attempts:");
    rejects(&[("max_attempts", "11")], "max_attempts:");
    rejects(&[("cache", "sometimes")], "cache");
    rejects(&[("refresh_margin_s", "-1")], "refresh_margin_s:");
    rejects(&[("allow_http", "perhaps")], "allow_http");
    rejects(&[("refresh_ahead", "soon")], "refresh_ahead");
    rejects(
        &[("colour", "blue")],
        "options[0]: unknown option key 'colour'",
    );
    rejects(
        &[(" region", "x")],
        "options[0]: unknown option key ' region'",
    );
    rejects(
        &[("region", "us-east-1"), ("REGION", "us-east-2")],
        "options[1]: region is given twice",
    );
    rejects(
        &[("region", "us-\u{1}east")],
        "region: the value has a control character",
    );
}

#[test]
fn credentials_come_in_threes_and_secrets_are_never_echoed() {
    for partial in [
        vec![("access_key_id", "ASIA1")],
        vec![
            ("access_key_id", "ASIA1"),
            ("secret_access_key", "hidden-secret-1"),
        ],
        vec![
            ("secret_access_key", "hidden-secret-1"),
            ("session_token", "hidden-session-1"),
        ],
    ] {
        let err = parse(&partial).unwrap_err();
        assert!(err.message().contains("go together"), "{}", err.message());
        assert!(!err.message().contains("hidden-"));
    }
    let err = parse(&[
        ("access_key_id", "ASIA1"),
        ("secret_access_key", "hidden-secret-1"),
    ])
    .unwrap_err();
    assert!(
        err.message().ends_with("missing session_token"),
        "{}",
        err.message()
    );
    let long = "x".repeat(RS_IDC_MAX_OPTION_VALUE_LEN + 1);
    let err = parse(&[("session_token", &long)]).unwrap_err();
    assert!(err
        .message()
        .starts_with("session_token: the value is longer"));
}

const APPLICATION: &str =
    "arn:aws:sso::123456789012:application/ssoins-1111222233334444/apl-5555666677778888";
const ACCESS_ROLE: &str = "arn:aws:iam::123456789012:role/rs-idc-user-access";

#[test]
fn per_user_options_make_user_settings() {
    let s = parse(&[
        ("idc_application_arn", APPLICATION),
        ("ACCESS_ROLE_ARN", ACCESS_ROLE),
    ])
    .unwrap();
    let user = s.user.unwrap();
    assert_eq!(user.idc_application_arn, APPLICATION);
    assert_eq!(user.access_role_arn, ACCESS_ROLE);
    assert_eq!(user.application_role_arn, None);
    assert_eq!(user.web_token_file, None);
    assert_eq!(user.role_session_name, None);
    assert_eq!(user.web_identity_session_name(), "rs-idc-web-identity");
    assert_eq!(
        user.identity_context_session_name(),
        "rs-idc-identity-context"
    );
    let file = std::env::temp_dir().join(format!("rs-idc-options-{}", std::process::id()));
    std::fs::write(&file, "x").unwrap();
    let s = parse(&[
        ("idc_application_arn", APPLICATION),
        ("access_role_arn", ACCESS_ROLE),
        ("application_role_arn", "arn:aws:iam::123456789012:role/app"),
        ("web_token_file", file.to_str().unwrap()),
        ("role_session_name", "bi-server"),
    ])
    .unwrap();
    std::fs::remove_file(&file).unwrap();
    let user = s.user.unwrap();
    assert_eq!(
        user.application_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/app")
    );
    assert_eq!(user.web_token_file.as_deref(), Some(file.as_path()));
    assert_eq!(user.role_session_name.as_deref(), Some("bi-server"));
    assert_eq!(user.web_identity_session_name(), "bi-server");
    // Application credentials need no session token here.
    let s = parse(&[
        ("idc_application_arn", APPLICATION),
        ("access_role_arn", ACCESS_ROLE),
        ("access_key_id", "AKIAAPPLICATION"),
        ("secret_access_key", "application-secret"),
    ])
    .unwrap();
    assert!(s.credentials.unwrap().session_token.is_none());
    rejects(
        &[
            ("idc_application_arn", APPLICATION),
            ("access_role_arn", ACCESS_ROLE),
            ("access_key_id", "A"),
        ],
        "access_key_id, secret_access_key and session_token go together",
    );
}

#[test]
fn per_user_options_are_checked_alone_and_together() {
    rejects(
        &[("idc_application_arn", "apl-1")],
        "idc_application_arn: must be an ARN",
    );
    rejects(
        &[("access_role_arn", "role/x")],
        "access_role_arn: must be an ARN",
    );
    rejects(
        &[("application_role_arn", "arn:aws:iam::1:role/x")],
        "application_role_arn: must be an ARN",
    );
    rejects(
        &[("role_session_name", "a b")],
        "role_session_name: must be",
    );
    rejects(
        &[("web_token_file", "/nonexistent/t")],
        "web_token_file: /nonexistent/t cannot be read",
    );
    rejects(
        &[("web_token_file", "/")],
        "web_token_file: / is not a regular file",
    );
    rejects(
        &[("idc_application_arn", APPLICATION)],
        "idc_application_arn: per-user tokens need both",
    );
    rejects(
        &[("access_role_arn", ACCESS_ROLE)],
        "access_role_arn: per-user tokens need both",
    );
    rejects(
        &[("role_session_name", "bi-server")],
        "role_session_name: per-user tokens need both",
    );
}

#[test]
fn null_values_long_keys_and_too_many_options_are_refused() {
    let err = settings_from_options(&[(b"region", None)]).unwrap_err();
    assert_eq!(err.message(), "region: the value is NULL");
    let long_key = [b'k'; RS_IDC_MAX_OPTION_KEY_LEN + 1];
    let err = settings_from_options(&[(&long_key, Some(b"v"))]).unwrap_err();
    assert!(err.message().contains("longer than 64"));
    let many = vec![(&b"cache"[..], Some(&b"on"[..])); RS_IDC_MAX_OPTIONS + 1];
    let err = settings_from_options(&many).unwrap_err();
    assert!(err.message().contains("at most 64"));
    assert!(settings_from_options(&[]).is_ok());
}
