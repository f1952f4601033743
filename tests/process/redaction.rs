//! No token, secret key or session token in any log line or error message,
//! on every path: success, each service error and fault, each kind of
//! credentials, bad input and options, cache hits, with the most verbose
//! logging and the SDK's own body logging switched on.
//!
//! It owns the process-wide logger, sets an environment variable and the
//! browser's open-URL callback: its turn alone (`common::alone()`) puts
//! them back afterwards.

use crate::common::{self, credentials, enhanced};
use rs_idc::log::{set_level, set_sink, LogLevel};
use rs_idc::options::settings_from_pairs;
use rs_idc::{Client, Error};
use rs_idc_fake::{keys, FakeOptions, FakeProxy, FakeServer};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRETS: &[&str] = &[
    keys::IDC_SECRET_ACCESS_KEY,
    keys::IDC_SESSION_TOKEN,
    keys::IDC2_SECRET_ACCESS_KEY,
    keys::IDC2_SESSION_TOKEN,
    keys::PLAIN_SECRET_ACCESS_KEY,
    keys::EXPIRED_SECRET_ACCESS_KEY,
    "wrong-secret-for-redaction",
    "wrong-session-for-redaction",
    PROXY_PASSWORD,
    WRONG_PROXY_PASSWORD,
];

const PROXY_PASSWORD: &str = "proxy-password-for-redaction";
const WRONG_PROXY_PASSWORD: &str = "wrong-proxy-password-for-redaction";

#[test]
fn no_secret_in_any_log_line_or_message() {
    let _alone = common::alone();
    // The SDK would print whole answers at trace level with this set.
    std::env::set_var("LOG_SENSITIVE_BODIES", "true");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink_lines = Arc::clone(&lines);
    set_sink(Some(Arc::new(move |_level, line: &str| {
        sink_lines.lock().unwrap().push(line.to_owned())
    })));
    set_level(LogLevel::Trace);

    let fake = FakeServer::start().unwrap();
    let mut messages: Vec<String> = Vec::new();
    let mut note = |result: Result<rs_idc::Token, Error>| {
        if let Err(err) = result {
            messages.push(err.message().to_owned());
        }
    };
    let settings = |creds| common::settings(&fake, creds, 2, Duration::from_secs(3));
    let client = Client::new(settings(enhanced()));
    let uncached = Client::new(rs_idc::Settings {
        cache: false,
        ..settings(enhanced())
    });

    for id in [
        "c1",
        "c1",
        "err-notfound",
        "err-state",
        "err-invalid",
        "err-unsupported",
        "err-denied",
        "err-unknown",
        "fault-throttle",
        "fault-throttle-1",
        "fault-500",
        "fault-503-1",
        "fault-reset",
        "fault-truncated",
        "fault-notoken",
        "fault-emptytoken",
        "fault-noexpiry",
        "fault-expired",
        "fault-garbage",
        "fault-html",
        "fault-hang",
        "ttl-60",
        "bad_id",
    ] {
        note(client.get_token(&[id]));
        note(uncached.get_token(&[id]));
        let workgroup = id.replace('_', "-");
        note(client.get_serverless_token(&[workgroup.as_str()]));
    }
    note(client.get_token_for_host(b"c1.abc.us-east-1.redshift.amazonaws.com"));
    note(client.get_token_for_host(b"wg-1.123.us-east-1.redshift-serverless.amazonaws.com"));
    note(client.get_token_for_host(b"https://db.example.com:5439"));
    for creds in [
        credentials(
            keys::PLAIN_ACCESS_KEY_ID,
            keys::PLAIN_SECRET_ACCESS_KEY,
            None,
        ),
        credentials(
            keys::EXPIRED_ACCESS_KEY_ID,
            keys::EXPIRED_SECRET_ACCESS_KEY,
            None,
        ),
        credentials(
            keys::IDC_ACCESS_KEY_ID,
            "wrong-secret-for-redaction",
            Some(keys::IDC_SESSION_TOKEN),
        ),
        credentials(
            keys::IDC_ACCESS_KEY_ID,
            keys::IDC_SECRET_ACCESS_KEY,
            Some("wrong-session-for-redaction"),
        ),
        credentials(
            keys::IDC2_ACCESS_KEY_ID,
            keys::IDC2_SECRET_ACCESS_KEY,
            Some(keys::IDC2_SESSION_TOKEN),
        ),
    ] {
        let other = Client::new(settings(creds));
        note(other.get_token(&["c1"]));
        note(other.get_serverless_token(&["wg-one"]));
    }
    // Per-user tokens: every path of the exchange, good and refused, with
    // a renewal through the refresh token.
    let renewing = FakeServer::start_with(FakeOptions {
        user_credentials_ttl_secs: 4,
        ..FakeOptions::default()
    })
    .unwrap();
    let mut web_tokens = Vec::new();
    for (server, role) in [
        (&fake, None),
        (&fake, Some(keys::APPLICATION_ROLE_ARN)),
        (&renewing, None),
    ] {
        let user = rs_idc::UserSettings {
            idc_application_arn: keys::APPLICATION_ARN.into(),
            access_role_arn: keys::ACCESS_ROLE_ARN.into(),
            application_role_arn: role.map(Into::into),
            web_token_file: None,
            role_session_name: Some("redaction".into()),
        };
        let plain = credentials(
            keys::PLAIN_ACCESS_KEY_ID,
            keys::PLAIN_SECRET_ACCESS_KEY,
            None,
        );
        let users = Client::new(rs_idc::Settings {
            user: Some(user.clone()),
            ..common::settings(server, plain.clone(), 2, Duration::from_secs(3))
        });
        let mut spec = rs_idc_fake::WebTokenSpec::new("redaction-user", 3600);
        let good = server.web_token_with(&spec);
        spec.wrong_key = true;
        let forged = server.web_token_with(&spec);
        let expired = server.web_token("redaction-user", -10);
        for web_token in [&good, &good, &forged, &expired] {
            note(users.get_user_token(web_token.as_bytes(), &["c1"]));
            note(users.get_user_serverless_token(web_token.as_bytes(), &["wg-one"]));
        }
        std::thread::sleep(Duration::from_millis(2100));
        note(users.get_user_token(good.as_bytes(), &["c1"]));
        let denied = Client::new(rs_idc::Settings {
            user: Some(rs_idc::UserSettings {
                access_role_arn: keys::DENIED_ROLE_ARN.into(),
                ..user
            }),
            ..common::settings(server, plain, 2, Duration::from_secs(3))
        });
        note(denied.get_user_token(good.as_bytes(), &["c1"]));
        web_tokens.extend([good, forged, expired]);
    }
    assert!(renewing.operations(rs_idc_fake::names::op::IAM_REFRESH_TOKEN) >= 1);

    // The browser sign-in: a sign-in, a kept token, a renewal.
    let signing = FakeServer::start_with(FakeOptions {
        access_token_ttl_secs: 4,
        ..FakeOptions::default()
    })
    .unwrap();
    rs_idc::browser::set_open_url(Some(Arc::new(|url: &str| {
        let url = url.to_owned();
        std::thread::spawn(move || {
            if let Some(redirect) = follow(&url) {
                follow(&redirect);
            }
        });
        Ok(())
    })));
    let mut signing_settings = common::settings(&signing, enhanced(), 2, Duration::from_secs(5));
    signing_settings.browser.issuer_url =
        Some("https://identitycenter.amazonaws.com/ssoins-redact".into());
    signing_settings.browser.listen_port = 17899;
    signing_settings.browser.response_timeout = Duration::from_secs(10);
    let desktop = Client::new(signing_settings);
    note(desktop.get_browser_token());
    note(desktop.get_browser_token());
    std::thread::sleep(Duration::from_millis(2_100));
    note(desktop.get_browser_token());
    rs_idc::browser::set_open_url(None);
    assert!(signing.operations(rs_idc_fake::names::op::REFRESH_TOKEN) >= 1);
    // The device-code sign-in: the person opens the URL shown, which
    // approves the code. The codes shown are secrets too.
    let user_codes: Arc<Mutex<Vec<String>>> = Arc::default();
    let shown_codes = Arc::clone(&user_codes);
    rs_idc::device::set_show_device_code(Some(Arc::new(move |url: &str, code: &str| {
        shown_codes.lock().unwrap().push(code.to_owned());
        let url = url.to_owned();
        std::thread::spawn(move || follow(&url));
        Ok(())
    })));
    let mut device_settings = common::settings(&signing, enhanced(), 2, Duration::from_secs(5));
    device_settings.browser.issuer_url =
        Some("https://identitycenter.amazonaws.com/ssoins-redact-device".into());
    device_settings.browser.response_timeout = Duration::from_secs(10);
    note(Client::new(device_settings).get_device_token());
    rs_idc::device::set_show_device_code(None);
    assert!(signing.operations(rs_idc_fake::names::op::DEVICE_CODE) >= 1);
    // Proxies with passwords: through a tunnel and a forwarding proxy, with
    // the right and a wrong password, and in options, good and bad.
    let tls = FakeServer::start_with(FakeOptions {
        tls: true,
        ..FakeOptions::default()
    })
    .unwrap();
    let proxy = FakeProxy::start_with_auth("redaction-user", PROXY_PASSWORD).unwrap();
    let mut shown = Vec::new();
    let right = proxy.auth_url().unwrap();
    let wrong = right.replace(PROXY_PASSWORD, WRONG_PROXY_PASSWORD);
    for (url, id) in [(&right, "right"), (&wrong, "wrong")] {
        let through_tunnel = Client::new(rs_idc::Settings {
            endpoint_url: Some(tls.named_url()),
            ca_bundle: Some(tls.ca_pem().unwrap().into_bytes()),
            proxy: Some(url.clone()),
            ..settings(enhanced())
        });
        note(through_tunnel.get_token(&[id]));
        let forwarded = Client::new(rs_idc::Settings {
            endpoint_url: Some(fake.named_url()),
            allow_http: true,
            http_proxy: Some(url.clone()),
            ..settings(enhanced())
        });
        note(forwarded.get_token(&[id]));
        shown.push(format!("{:?}", forwarded.settings()));
    }
    assert!(proxy.authenticated() >= 2 && proxy.auth_refused() >= 2);
    messages.append(&mut shown);
    for options in [
        vec![("proxy", right.as_str())],
        vec![("http_proxy", wrong.as_str())],
        vec![(
            "proxy",
            "socks5://u:proxy-password-for-redaction@127.0.0.1:1",
        )],
    ] {
        match settings_from_pairs(&options) {
            Ok(settings) => messages.push(format!("{settings:?}")),
            Err(err) => messages.push(err.message().to_owned()),
        }
    }
    // Options with secrets, good and bad.
    for options in [
        vec![
            ("access_key_id", keys::IDC_ACCESS_KEY_ID),
            ("secret_access_key", keys::IDC_SECRET_ACCESS_KEY),
        ],
        vec![
            ("session_token", keys::IDC_SESSION_TOKEN),
            ("colour", "blue"),
        ],
        vec![
            ("secret_access_key", keys::IDC_SECRET_ACCESS_KEY),
            ("timeout_ms", "soon"),
        ],
    ] {
        if let Err(err) = settings_from_pairs(&options) {
            messages.push(err.message().to_owned());
        }
    }

    set_level(LogLevel::Off);
    let lines = lines.lock().unwrap();
    let mut tokens = fake.issued_tokens();
    tokens.extend(renewing.issued_tokens());
    tokens.extend(signing.issued_secrets());
    // Everything derived from a web token: the refresh, access and ID
    // tokens, the identity contexts, and the users' credentials.
    let mut derived: Vec<String> = web_tokens;
    for server in [&fake, &renewing, &signing] {
        derived.extend(server.issued_secrets());
        for (_, secret, session) in server.minted_credentials() {
            derived.extend([secret, session]);
        }
    }
    let user_codes = user_codes.lock().unwrap();
    assert!(!user_codes.is_empty(), "a device code was shown");
    derived.extend(user_codes.iter().cloned());
    assert!(derived.len() > 20, "the exchanges handed out secrets");
    assert!(lines.iter().any(|l| l.contains("per-user exchange:")));
    assert!(tokens.len() >= 5, "the run issued tokens");
    assert!(
        lines.len() > 100,
        "trace logging produced records ({})",
        lines.len()
    );
    assert!(lines.iter().any(|l| l.contains("token fetched")));
    assert!(
        lines.iter().any(|l| l.contains("aws_smithy")),
        "the SDK's records arrive too"
    );
    assert!(
        messages.len() > 30,
        "the run failed on purpose many times ({})",
        messages.len()
    );
    for (i, text) in lines.iter().chain(messages.iter()).enumerate() {
        for secret in &derived {
            assert!(
                !text.contains(secret.as_str()),
                "line {i} holds a web token or a secret derived from one"
            );
        }
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "line {i} holds a secret key or session token"
            );
        }
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "line {i} holds a token");
            // Half a token (the truncated answer) is a leak too.
            assert!(
                !text.contains(&token[..token.len() / 2]),
                "line {i} holds part of a token"
            );
        }
    }
}

/// `GET url` on loopback, as a browser would; the redirect's target, if
/// the answer is one.
fn follow(url: &str) -> Option<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .lines()
        .find_map(|line| line.strip_prefix("Location: "))
        .map(|l| l.trim().to_owned())
}
