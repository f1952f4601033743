//! Browser sign-in refusals over raw HTTP: RegisterClient's checks, the
//! authorization endpoint's page and error redirects, and CreateToken's
//! client, code, PKCE and refresh token checks. Secrets in answers are
//! checked, never shown.

mod common;

use common::identity::jwt_bearer;
use common::signin::{
    authorize, bare, client, code, code_grant, create_token, expect_error, location_param,
    refresh_grant, register, register_body, Client, CHALLENGE, REDIRECT, VERIFIER,
};
use common::IDC;
use rs_idc_fake::{keys, FakeServer};
use serde_json::{json, Value};

#[test]
fn create_token_checks_clients_codes_and_refresh_tokens() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let (a, b) = (client(port, REDIRECT), client(port, REDIRECT));
    let grant = |code: &str, uri: &str, verifier: &str| code_grant(&a, code, uri, verifier);
    let invalid_grant = |body: &str, what: &str| {
        expect_error(&create_token(port, body), "InvalidGrantException", what);
    };

    // A wrong verifier; the code is spent by the failed try.
    let c = code(port, &a);
    invalid_grant(&grant(&c, REDIRECT, &"v".repeat(43)), "wrong verifier");
    invalid_grant(&grant(&c, REDIRECT, VERIFIER), "code spent by a failed try");
    let c = code(port, &a);
    invalid_grant(&grant(&c, REDIRECT, "short"), "short verifier");
    let c = code(port, &a);
    invalid_grant(
        &grant(&c, "http://127.0.0.1:7892/", VERIFIER),
        "other redirect URI",
    );
    let c = code(port, &b);
    invalid_grant(&grant(&c, REDIRECT, VERIFIER), "another client's code");
    let c = code(port, &a);
    let resp = create_token(port, &grant(&c, REDIRECT, VERIFIER));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let refresh = resp.json_str("refreshToken").expect("refreshToken");
    invalid_grant(&grant(&c, REDIRECT, VERIFIER), "reused code");
    invalid_grant(&grant("not-a-code", REDIRECT, VERIFIER), "unknown code");

    // Client authentication comes first and does not spend the code.
    let c = code(port, &a);
    let wrong = Client {
        secret: "not-the-secret".into(),
        ..a.clone()
    };
    let resp = create_token(port, &code_grant(&wrong, &c, REDIRECT, VERIFIER));
    expect_error(&resp, "InvalidClientException", "wrong secret");
    let unknown = Client {
        id: "no-such-client".into(),
        ..a.clone()
    };
    let resp = create_token(port, &code_grant(&unknown, &c, REDIRECT, VERIFIER));
    expect_error(&resp, "InvalidClientException", "unknown client");
    let resp = create_token(port, &grant(&c, REDIRECT, VERIFIER));
    assert_eq!(resp.status, 200, "{}", resp.shown());

    // Refresh tokens: unknown, another client's, one of CreateTokenWithIAM.
    invalid_grant(
        &refresh_grant(&a, "aorAAAAAGnot-issued"),
        "unknown refresh token",
    );
    invalid_grant(
        &refresh_grant(&b, &refresh),
        "another client's refresh token",
    );
    let jwt = fake.web_token("mallory", 300);
    let app = keys::APPLICATION_ARN;
    let resp = common::identity::create_token(port, &IDC, &jwt_bearer(app, &jwt));
    let iam_refresh = resp.json_str("refreshToken").expect("refreshToken");
    invalid_grant(
        &refresh_grant(&a, &iam_refresh),
        "CreateTokenWithIAM's refresh token",
    );

    let (id, secret) = (a.id.as_str(), a.secret.as_str());
    let device = "urn:ietf:params:oauth:grant-type:device_code";
    for (body, code, what) in [
        (
            json!({"clientId": id, "clientSecret": secret, "grantType": "authorization_code",
                   "code": "x", "redirectUri": REDIRECT}),
            "InvalidRequestException",
            "no codeVerifier",
        ),
        (
            json!({"clientId": id, "grantType": "refresh_token", "refreshToken": refresh}),
            "InvalidRequestException",
            "no clientSecret",
        ),
        (
            json!({"clientId": id, "clientSecret": secret, "grantType": device, "deviceCode": "d"}),
            "UnauthorizedClientException",
            "device code grant, client registered without it",
        ),
        (json!([1]), "InvalidRequestException", "not an object"),
    ] {
        expect_error(&create_token(port, &body.to_string()), code, what);
    }
    let resp = create_token(port, "{not json");
    expect_error(&resp, "InvalidRequestException", "not JSON");
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 12);
    assert_eq!(fake.operations(rs_idc_fake::names::op::REFRESH_TOKEN), 4);
}

#[test]
fn authorize_refuses_bad_clients_and_redirects_other_errors() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let c = client(port, REDIRECT);
    // A good request with `changes`: an empty value drops the parameter.
    let ask = |changes: &[(&'static str, &str)]| {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", c.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in changes {
            params.retain(|(k, _)| k != name);
            if !value.is_empty() {
                params.push((name, value));
            }
        }
        authorize(port, &params)
    };
    for (changes, what) in [
        (&[("client_id", "no-such-client")][..], "unknown client"),
        (&[("client_id", "")], "no client"),
        (&[("redirect_uri", "")], "no redirect URI"),
        (
            &[("redirect_uri", "http://127.0.0.1:7892/")],
            "unregistered URI",
        ),
        (
            &[("redirect_uri", "http://127.0.0.1:7890")],
            "not the same URI",
        ),
    ] {
        let resp = ask(changes);
        assert_eq!(resp.status, 400, "{what}");
        assert_eq!(resp.header("content-type"), Some("text/plain"), "{what}");
        assert!(resp.header("location").is_none(), "{what}");
    }
    for (changes, error) in [
        (
            &[("response_type", "token")][..],
            "unsupported_response_type",
        ),
        (&[("response_type", "")], "unsupported_response_type"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge", "")], "invalid_request"),
        (&[("code_challenge", "abc")], "invalid_request"),
        (&[("login_hint", "a b")], "invalid_request"),
        (&[("deny", "1")], "access_denied"),
    ] {
        let resp = ask(changes);
        let what = format!("{changes:?}");
        assert_eq!(resp.status, 302, "{what}: {}", resp.text());
        let location = resp.header("location").expect("Location");
        assert!(location.starts_with(REDIRECT), "{what}");
        assert_eq!(
            location_param(&resp, "error").as_deref(),
            Some(error),
            "{what}"
        );
        assert!(
            location_param(&resp, "error_description").is_some(),
            "{what}"
        );
        assert_eq!(
            location_param(&resp, "state").as_deref(),
            Some("s1"),
            "{what}"
        );
        assert_eq!(location_param(&resp, "code"), None, "{what}");
    }
    assert_eq!(bare(port, "POST", "/authorize").status, 405);
    // No code was handed out: the client secret is the only secret.
    assert_eq!(fake.issued_secrets(), std::slice::from_ref(&c.secret));
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 14);
}

#[test]
fn register_client_checks_its_request() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    // A good body with `patch` applied: a null member drops the member.
    let with = |patch: Value| {
        let both = ["authorization_code", "refresh_token"];
        let mut body: Value = serde_json::from_str(&register_body(&[REDIRECT], &both)).unwrap();
        let members = body.as_object_mut().expect("an object");
        for (name, value) in patch.as_object().expect("an object") {
            match value {
                Value::Null => members.remove(name),
                _ => members.insert(name.clone(), value.clone()),
            };
        }
        body.to_string()
    };
    let cases = [
        (json!({"clientName": null}), "InvalidRequestException"),
        (json!({"clientName": ""}), "InvalidRequestException"),
        (json!({"clientType": null}), "InvalidRequestException"),
        (
            json!({"clientType": "confidential"}),
            "InvalidClientMetadataException",
        ),
        (
            json!({"redirectUris": ["https://example.com/cb"]}),
            "InvalidRedirectUriException",
        ),
        (
            json!({"redirectUris": [REDIRECT, "http://localhost:7890/"]}),
            "InvalidRedirectUriException",
        ),
        (json!({"redirectUris": []}), "InvalidRedirectUriException"),
        (json!({"redirectUris": null}), "InvalidRedirectUriException"),
        (json!({"redirectUris": [7890]}), "InvalidRequestException"),
        (json!({"grantTypes": null}), "InvalidRequestException"),
        (
            json!({"grantTypes": ["refresh_token"]}),
            "InvalidRequestException",
        ),
        (
            json!({"grantTypes": ["authorization_code", "implicit"]}),
            "UnsupportedGrantTypeException",
        ),
        (json!({"issuerUrl": null}), "InvalidRequestException"),
        (
            json!({"issuerUrl": "ftp://identitycenter.test"}),
            "InvalidRequestException",
        ),
        (
            json!({"scopes": "redshift:connect"}),
            "InvalidRequestException",
        ),
        (
            json!({"scopes": ["redshift connect"]}),
            "InvalidScopeException",
        ),
    ];
    for (patch, code) in &cases {
        expect_error(
            &register(port, &with(patch.clone())),
            code,
            &patch.to_string(),
        );
    }
    for (body, what) in [("[1]", "not an object"), ("{not json", "not JSON")] {
        expect_error(&register(port, body), "InvalidRequestException", what);
    }
    expect_error(
        &bare(port, "GET", "/client/register"),
        "InvalidRequestException",
        "GET",
    );
    // Any list of scopes or none, an http issuer, other members.
    for patch in [
        json!({"scopes": ["sso:account:access", "openid"]}),
        json!({"scopes": null}),
        json!({"issuerUrl": "http://idp.rs-idc.test/ssoins-1"}),
        json!({"entitledApplicationArn": keys::APPLICATION_ARN}),
        json!({"redirectUris": [REDIRECT, "http://127.0.0.1:7891/cb?x=1"]}),
    ] {
        let resp = register(port, &with(patch));
        assert_eq!(resp.status, 200, "{}", resp.shown());
    }
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT),
        cases.len() as u64 + 8
    );
    assert_eq!(fake.issued_secrets().len(), 5);
}
