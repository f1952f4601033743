//! Device sign-in over raw HTTP: RegisterClient for the device code
//! grant, StartDeviceAuthorization, the verification page, the control
//! API's device actions and each answer of the CreateToken polls.

mod common;

use common::signin::{bare, client_with, create_token, expect_error, json_post, register};
use common::{call, Req, Resp};
use rs_idc_fake::names::op;
use rs_idc_fake::{access_token_subject, Control, DeviceAction, FakeOptions, FakeServer};
use serde_json::json;

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A registered device client (no redirect URI, no issuer URL).
fn device_client(port: u16) -> (String, String) {
    let body = json!({"clientName": "rs-idc", "clientType": "public",
                      "grantTypes": [DEVICE_CODE, "refresh_token"]});
    let resp = register(port, &body.to_string());
    assert_eq!(resp.status, 200, "{}", resp.shown());
    (
        resp.json_str("clientId").unwrap(),
        resp.json_str("clientSecret").unwrap(),
    )
}

fn start(port: u16, (id, secret): &(String, String)) -> Resp {
    let body = json!({"clientId": id, "clientSecret": secret,
                      "startUrl": "https://rs-idc-test.awsapps.com/start"});
    json_post(port, "/device_authorization", &body.to_string())
}

fn poll(port: u16, (id, secret): &(String, String), device_code: &str) -> Resp {
    let body = json!({"clientId": id, "clientSecret": secret,
                      "grantType": DEVICE_CODE, "deviceCode": device_code});
    create_token(port, &body.to_string())
}

/// `GET` of a page of the fake, by its full URL.
fn get(port: u16, url: &str) -> Resp {
    let rest = url
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .expect("a page of the fake");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let req = Req {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("Host".into(), format!("127.0.0.1:{port}"))],
        body: Vec::new(),
    };
    call(port, &req)
}

fn device_control(
    port: u16,
    action: DeviceAction,
    user_code: Option<&str>,
    user: Option<&str>,
) -> Resp {
    let (user_code, user) = (user_code.map(String::from), user.map(String::from));
    common::control(
        port,
        &Control::Device {
            action,
            user_code,
            user,
        },
    )
}

fn changed(resp: &Resp) -> Option<u64> {
    resp.json()?["changed"].as_u64()
}

#[test]
fn pending_approved_tokens_once_and_refresh() {
    let opts = FakeOptions {
        device_interval_secs: 0,
        ..FakeOptions::default()
    };
    let fake = FakeServer::start_with(opts).expect("start");
    let port = fake.port();
    let client = device_client(port);
    let resp = start(port, &client);
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let doc = resp.json().unwrap();
    let user_code = doc["userCode"].as_str().unwrap();
    assert!(
        user_code.len() == 9
            && user_code.as_bytes()[4] == b'-'
            && user_code
                .replace('-', "")
                .bytes()
                .all(|b| b.is_ascii_uppercase()),
        "{user_code}"
    );
    let page = format!("{}/device", fake.url());
    assert_eq!(doc["verificationUri"], page.as_str());
    let complete = doc["verificationUriComplete"].as_str().unwrap();
    assert_eq!(complete, format!("{page}?user_code={user_code}"));
    assert_eq!(
        (doc["expiresIn"].as_i64(), doc["interval"].as_i64()),
        (Some(600), Some(0))
    );
    let code = doc["deviceCode"].as_str().unwrap();
    for _ in 0..2 {
        let pending = poll(port, &client, code);
        expect_error(&pending, "AuthorizationPendingException", "pending");
    }
    let resp = get(port, &format!("{complete}&login_hint=dev-user"));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.text().contains("approved"));
    // The page does not decide twice.
    assert_eq!(get(port, complete).status, 404);
    let tokens = poll(port, &client, code);
    assert_eq!(tokens.status, 200, "{}", tokens.shown());
    let access = tokens.json_str("accessToken").unwrap();
    assert_eq!(access_token_subject(&access).as_deref(), Some("dev-user"));
    assert_eq!(
        fake.access_token_subject(&access).as_deref(),
        Some("dev-user")
    );
    let doc = tokens.json().unwrap();
    assert_eq!(
        (doc["tokenType"].as_str(), doc["expiresIn"].as_i64()),
        (Some("Bearer"), Some(3600))
    );
    assert!(doc["idToken"].is_string());
    let refresh = doc["refreshToken"].as_str().unwrap();
    expect_error(&poll(port, &client, code), "InvalidGrantException", "used");
    let body = json!({"clientId": client.0, "clientSecret": client.1,
                      "grantType": "refresh_token", "refreshToken": refresh});
    let again = create_token(port, &body.to_string());
    assert_eq!(again.status, 200, "{}", again.shown());
    let access = again.json_str("accessToken").unwrap();
    assert_eq!(access_token_subject(&access).as_deref(), Some("dev-user"));
    for (name, n) in [
        (op::REGISTER_CLIENT, 1),
        (op::START_DEVICE, 1),
        (op::VERIFY_DEVICE, 2),
        (op::DEVICE_CODE, 4),
        (op::REFRESH_TOKEN, 1),
    ] {
        assert!(fake.operations(name) >= n, "{name}");
    }
}

#[test]
fn polls_inside_the_interval_slow_down() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let client = device_client(port);
    let doc = start(port, &client).json().unwrap();
    assert_eq!(
        (doc["expiresIn"].as_i64(), doc["interval"].as_i64()),
        (Some(600), Some(1))
    );
    let slow = FakeServer::start_with(FakeOptions {
        device_interval_secs: 3600,
        ..FakeOptions::default()
    })
    .expect("start");
    let client = device_client(slow.port());
    let doc = start(slow.port(), &client).json().unwrap();
    let code = doc["deviceCode"].as_str().unwrap();
    let first = poll(slow.port(), &client, code);
    expect_error(&first, "AuthorizationPendingException", "first poll");
    // The next poll comes well inside the hour.
    expect_error(
        &poll(slow.port(), &client, code),
        "SlowDownException",
        "too soon",
    );
    expect_error(
        &poll(slow.port(), &client, code),
        "SlowDownException",
        "still too soon",
    );
}

#[test]
fn forced_slow_downs_deny_expire_and_control() {
    let opts = FakeOptions {
        device_interval_secs: 0,
        device_slow_downs: 2,
        device_code_ttl_secs: 30,
        ..FakeOptions::default()
    };
    let fake = FakeServer::start_with(opts).expect("start");
    let port = fake.port();
    let client = device_client(port);
    let doc = start(port, &client).json().unwrap();
    assert_eq!(
        (doc["expiresIn"].as_i64(), doc["interval"].as_i64()),
        (Some(30), Some(0))
    );
    let code = doc["deviceCode"].as_str().unwrap();
    for _ in 0..2 {
        expect_error(&poll(port, &client, code), "SlowDownException", "forced");
    }
    expect_error(
        &poll(port, &client, code),
        "AuthorizationPendingException",
        "pending",
    );
    let user_code = doc["userCode"].as_str();
    let resp = device_control(port, DeviceAction::Deny, user_code, None);
    assert_eq!((resp.status, changed(&resp)), (200, Some(1)));
    // Decided: nothing left to deny.
    assert_eq!(
        device_control(port, DeviceAction::Deny, user_code, None).status,
        404
    );
    expect_error(
        &poll(port, &client, code),
        "AccessDeniedException",
        "denied",
    );
    expect_error(&poll(port, &client, code), "InvalidGrantException", "gone");

    // Approve every pending one (no user code), as a test that never saw it.
    let first = start(port, &client).json().unwrap();
    let second = start(port, &client).json().unwrap();
    let approved = device_control(port, DeviceAction::Approve, None, Some("carol"));
    assert_eq!(changed(&approved), Some(2));
    for doc in [&first, &second] {
        let code = doc["deviceCode"].as_str().unwrap();
        for _ in 0..2 {
            expect_error(&poll(port, &client, code), "SlowDownException", "forced");
        }
        let resp = poll(port, &client, code);
        let access = resp.json_str("accessToken").expect("tokens");
        assert_eq!(access_token_subject(&access).as_deref(), Some("carol"));
    }

    let doc = start(port, &client).json().unwrap();
    let user_code = doc["userCode"].as_str();
    assert_eq!(
        device_control(port, DeviceAction::Expire, user_code, None).status,
        200
    );
    let code = doc["deviceCode"].as_str().unwrap();
    expect_error(
        &poll(port, &client, code),
        "ExpiredTokenException",
        "expired",
    );
    let page = doc["verificationUriComplete"].as_str().unwrap();
    assert_eq!(
        get(port, page).status,
        404,
        "expired codes are not approved"
    );

    for bad in [
        json!({"op": "device", "action": "explode"}),
        json!({"op": "nothing"}),
        json!({"op": "device", "action": "approve", "user": "a b"}),
        json!({"op": "device", "action": "approve", "extra": 1}),
    ] {
        let resp = common::control_raw(port, "POST", bad.to_string().as_bytes());
        assert_eq!(resp.status, 400, "{bad}");
    }
}

#[test]
fn device_errors() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let client = device_client(port);
    expect_error(
        &start(port, &(client.0.clone(), "wrong".into())),
        "InvalidClientException",
        "wrong secret",
    );
    expect_error(
        &start(port, &("unknown".into(), client.1.clone())),
        "InvalidClientException",
        "unknown client",
    );
    let code_client = client_with(port, "http://127.0.0.1:7890/", &["authorization_code"]);
    let code_client = (code_client.id, code_client.secret);
    expect_error(
        &start(port, &code_client),
        "UnauthorizedClientException",
        "no device grant",
    );
    let body = json!({"clientId": client.0, "clientSecret": client.1});
    expect_error(
        &json_post(port, "/device_authorization", &body.to_string()),
        "InvalidRequestException",
        "no startUrl",
    );
    expect_error(
        &bare(port, "GET", "/device_authorization"),
        "InvalidRequestException",
        "GET",
    );
    let doc = start(port, &client).json().unwrap();
    let code = doc["deviceCode"].as_str().unwrap();
    // Another client's poll, an unknown code, a client without the grant.
    let other = device_client(port);
    expect_error(
        &poll(port, &other, code),
        "InvalidGrantException",
        "other client",
    );
    expect_error(
        &poll(port, &client, "not-a-code"),
        "InvalidGrantException",
        "unknown",
    );
    expect_error(
        &poll(port, &code_client, code),
        "UnauthorizedClientException",
        "no grant",
    );
    assert_eq!(bare(port, "GET", "/device").status, 400);
    // Grants: device code alone is enough; neither grant is refused.
    let body = json!({"clientName": "x", "clientType": "public", "grantTypes": ["refresh_token"]});
    expect_error(
        &register(port, &body.to_string()),
        "InvalidRequestException",
        "no grant",
    );
}
