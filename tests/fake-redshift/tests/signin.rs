//! Browser sign-in over raw HTTP: RegisterClient, the authorization
//! endpoint with PKCE, CreateToken with the authorization code and refresh
//! token grants, lifetimes and counters (errors are in `signin_errors`).
//! Secrets in answers are checked, never shown.

mod common;

use common::signin::{
    authorize, authorize_client, challenge_of, claims, client, client_with, code_grant,
    create_token, expect_error, location_param, location_params, refresh_grant, register_body,
    sign_in, Client, CHALLENGE, ISSUER, REDIRECT, VERIFIER,
};
use common::{call, Req};
use rs_idc_fake::names::op;
use rs_idc_fake::{access_token_subject, timefmt, Control, FakeOptions, FakeServer};
use std::time::Duration;

#[test]
fn register_authorize_create_token_and_refresh() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // Unsigned; an Authorization header is ignored.
    let body = register_body(&[REDIRECT], &["authorization_code", "refresh_token"]);
    let req = Req {
        method: "POST".into(),
        path: "/client/register".into(),
        query: String::new(),
        headers: vec![
            ("Host".into(), format!("127.0.0.1:{port}")),
            ("Content-Type".into(), "application/json".into()),
            ("Authorization".into(), "AWS4-HMAC-SHA256 nonsense".into()),
        ],
        body: body.into_bytes(),
    };
    let resp = call(port, &req);
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(resp.header("x-amzn-RequestId").is_some());
    assert_eq!(
        resp.json_member_names(),
        [
            "clientId",
            "clientSecret",
            "clientIdIssuedAt",
            "clientSecretExpiresAt"
        ]
    );
    let doc = resp.json().expect("JSON");
    let issued = doc["clientIdIssuedAt"].as_i64().expect("a number");
    assert!((issued - timefmt::now_epoch_secs()).abs() <= 5);
    assert_eq!(
        doc["clientSecretExpiresAt"].as_i64(),
        Some(issued + 7_776_000)
    );
    let client = Client {
        id: resp.json_str("clientId").expect("clientId"),
        secret: resp.json_str("clientSecret").expect("clientSecret"),
        redirect_uri: REDIRECT.into(),
    };

    let resp = authorize_client(port, &client, &[]);
    assert_eq!(resp.status, 302, "{}", resp.text());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let location = resp.header("location").expect("Location");
    assert!(location.starts_with("http://127.0.0.1:7890/?code="));
    let names: Vec<String> = location_params(&resp).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["code", "state"]);
    assert_eq!(location_param(&resp, "state").as_deref(), Some("st-1"));
    let code = location_param(&resp, "code").expect("code");
    assert!(!resp.text().contains(&code), "the page shows the code");

    let resp = create_token(port, &code_grant(&client, &code, REDIRECT, VERIFIER));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(
        resp.json_member_names(),
        [
            "accessToken",
            "tokenType",
            "expiresIn",
            "refreshToken",
            "idToken"
        ]
    );
    let doc = resp.json().expect("JSON");
    assert_eq!(doc["tokenType"], "Bearer");
    assert_eq!(doc["expiresIn"], 3600);
    let member = |name: &str| doc[name].as_str().expect(name).to_string();
    let (access, refresh, id_token) = (
        member("accessToken"),
        member("refreshToken"),
        member("idToken"),
    );
    assert_eq!(
        access_token_subject(&access).as_deref(),
        Some("browser-user")
    );
    assert_eq!(
        fake.access_token_subject(&access).as_deref(),
        Some("browser-user")
    );
    let other = FakeServer::start().expect("start");
    assert_eq!(
        other.access_token_subject(&access),
        None,
        "not issued there"
    );
    assert_eq!(fake.access_token_subject(&client.secret), None);
    let id = claims(&id_token);
    assert_eq!(id["iss"], ISSUER);
    assert_eq!(id["aud"], client.id.as_str());
    assert_eq!(id["sub"], "browser-user");
    let resp = common::control(
        port,
        &Control::AccessTokenSubject {
            token: access.clone(),
        },
    );
    assert_eq!(
        (resp.status, resp.json_str("subject").as_deref()),
        (200, Some("browser-user"))
    );

    // Each refresh answers a new access token and a new refresh token; the
    // old refresh token stays valid.
    let resp = create_token(port, &refresh_grant(&client, &refresh));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let new_access = resp.json_str("accessToken").expect("accessToken");
    let new_refresh = resp.json_str("refreshToken").expect("refreshToken");
    assert!(new_access != access && new_refresh != refresh);
    assert_eq!(
        access_token_subject(&new_access).as_deref(),
        Some("browser-user")
    );
    let resp = create_token(port, &refresh_grant(&client, &refresh));
    assert_eq!(resp.status, 200, "{}", resp.shown());

    let secrets = fake.issued_secrets();
    for secret in [
        &client.secret,
        &code,
        &access,
        &refresh,
        &id_token,
        &new_refresh,
    ] {
        assert!(secrets.contains(secret));
    }
    // The client secret, the code, then three answers of three tokens.
    assert_eq!(secrets.len(), 11);
    let counted = [
        (op::REGISTER_CLIENT, 1),
        (op::AUTHORIZE, 1),
        (op::CODE, 1),
        (op::REFRESH_TOKEN, 2),
    ];
    for (name, n) in counted {
        assert_eq!(fake.operations(name), n, "{name}");
    }
    assert_eq!(fake.requests(), 5);
    assert_eq!(common::stats_of(port), common::counts(5, 0, &counted));
    fake.reset_counters();
    assert_eq!(common::stats_of(port), common::counts(0, 0, &[]));
}

#[test]
fn login_hints_states_and_redirect_queries() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let uri = "http://127.0.0.1:7891/callback?app=rs-idc";
    let client = client(port, uri);
    let verifier = "x~.-_".repeat(25);
    let challenge = challenge_of(&verifier);
    let resp = authorize(
        port,
        &[
            ("client_id", &client.id),
            ("response_type", "code"),
            ("redirect_uri", uri),
            ("code_challenge_method", "S256"),
            ("code_challenge", &challenge),
            ("scope", "redshift:connect"),
            ("state", "a b&c=d/é"),
            ("login_hint", "alice@example.com"),
        ],
    );
    assert_eq!(resp.status, 302, "{}", resp.text());
    let location = resp.header("location").expect("Location");
    assert!(location.starts_with(&format!("{uri}&code=")));
    assert_eq!(location_param(&resp, "app").as_deref(), Some("rs-idc"));
    assert_eq!(location_param(&resp, "state").as_deref(), Some("a b&c=d/é"));
    let code = location_param(&resp, "code").expect("code");
    let resp = create_token(port, &code_grant(&client, &code, uri, &verifier));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let access = resp.json_str("accessToken").expect("accessToken");
    assert_eq!(
        access_token_subject(&access).as_deref(),
        Some("alice@example.com")
    );
    let id = claims(&resp.json_str("idToken").expect("idToken"));
    assert_eq!(id["sub"], "alice@example.com");
    // Without a state, the redirect has none.
    let resp = authorize(
        port,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", uri),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    assert_eq!(resp.status, 302, "{}", resp.text());
    assert_eq!(location_param(&resp, "state"), None);
    assert!(location_param(&resp, "code").is_some());
}

#[test]
fn a_client_without_the_refresh_grant_gets_no_refresh_token() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let c = client_with(port, REDIRECT, &["authorization_code"]);
    let resp = sign_in(port, &c);
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(
        resp.json_member_names(),
        ["accessToken", "tokenType", "expiresIn", "idToken"]
    );
    let resp = create_token(port, &refresh_grant(&c, "aorAAAAAGanything"));
    expect_error(&resp, "UnauthorizedClientException", "refresh");
}

#[test]
fn lifetimes_of_access_and_refresh_tokens() {
    let short = FakeServer::start_with(FakeOptions {
        access_token_ttl_secs: 60,
        refresh_token_ttl_secs: 1,
        ..Default::default()
    })
    .expect("start");
    let c = client(short.port(), REDIRECT);
    let resp = sign_in(short.port(), &c);
    assert_eq!(resp.json().expect("JSON")["expiresIn"], 60);
    let id = claims(&resp.json_str("idToken").expect("idToken"));
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        60
    );
    let refresh = resp.json_str("refreshToken").expect("refreshToken");
    std::thread::sleep(Duration::from_millis(2100));
    let resp = create_token(short.port(), &refresh_grant(&c, &refresh));
    expect_error(&resp, "InvalidGrantException", "expired refresh token");
}

#[test]
fn the_access_token_subject_endpoint() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let ask = |token: &str| {
        common::control(
            port,
            &Control::AccessTokenSubject {
                token: token.into(),
            },
        )
    };
    assert_eq!(ask("aoaAAAAAGnobody").status, 404);
    assert_eq!(ask("").status, 404);
    assert_eq!(common::control_raw(port, "GET", b"").status, 405);
    assert_eq!(fake.requests(), 0);
}
