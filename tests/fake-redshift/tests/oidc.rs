//! SSO-OIDC CreateTokenWithIAM over raw HTTP, the web token control
//! endpoint, and the per-operation counters. Secrets in answers are
//! checked, never shown.

mod common;

use base64::Engine;
use common::identity::{
    assume_role, create_token, identity_context, jwt_bearer, oidc, refresh, Owned,
};
use common::{api, call, Api, EXPIRED, IDC, PLAIN};
use rs_idc_fake::names::op;
use rs_idc_fake::{keys, token_subject, Control, FakeOptions, FakeServer, WebTokenSpec};
use serde_json::Value;
use std::time::{Duration, Instant};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// `x-amzn-ErrorType` and the OAuth `error` of an error answer.
fn error(resp: &common::Resp) -> (u16, String, String) {
    (
        resp.status,
        resp.header("x-amzn-ErrorType").unwrap_or("").to_string(),
        resp.json_str("error").unwrap_or_default(),
    )
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a payload part");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The user that a Redshift token for the context's AssumeRole session
/// names.
fn user_of_context(port: u16, context: &str) -> Option<String> {
    let resp = assume_role(
        port,
        &PLAIN,
        keys::ACCESS_ROLE_ARN,
        &[(keys::CONTEXT_PROVIDER_ARN, context)],
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let user = Owned::from_sts(&resp);
    let token = api(port, Api::Query, &user.creds(), &["c"]).xml("Token")?;
    token_subject(&token)
}

#[test]
fn jwt_bearer_answers_tokens_and_an_identity_context() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let jwt = fake.web_token("alice", 300);
    let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(resp.header("x-amzn-RequestId").is_some());
    assert_eq!(
        resp.json_member_names(),
        [
            "accessToken",
            "tokenType",
            "expiresIn",
            "refreshToken",
            "idToken",
            "issuedTokenType",
            "scope",
            "awsAdditionalDetails"
        ]
    );
    let doc = resp.json().expect("JSON");
    assert_eq!(doc["tokenType"], "Bearer");
    assert_eq!(doc["expiresIn"], 3600);
    assert_eq!(
        doc["issuedTokenType"],
        "urn:ietf:params:oauth:token-type:refresh_token"
    );
    assert_eq!(
        doc["scope"],
        serde_json::json!(["openid", "aws", "sts:identity_context"])
    );
    let context = identity_context(&resp);
    let id_token = doc["idToken"].as_str().expect("idToken");
    let claims = payload(id_token);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], keys::APPLICATION_ARN);
    assert!(claims["sts:identity_context"].as_str() == Some(context.as_str()));
    let secrets = fake.issued_secrets();
    for member in ["accessToken", "refreshToken", "idToken"] {
        assert!(
            secrets.iter().any(|s| doc[member] == s.as_str()),
            "{member}"
        );
    }
    assert!(secrets.contains(&context));
    assert_eq!(secrets.len(), 4);
    assert_eq!(user_of_context(port, &context).as_deref(), Some("alice"));
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 1);
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::IAM_REFRESH_TOKEN),
        0
    );
    // Any application ARN of the right shape is trusted.
    let other_app = "arn:aws:sso::210987654321:application/ssoins-abcd/apl-efgh";
    let resp = create_token(port, &PLAIN, &jwt_bearer(other_app, &jwt));
    assert_eq!(resp.status, 200, "{}", resp.shown());
}

#[test]
fn refresh_tokens_give_new_tokens_for_the_same_user() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let jwt = fake.web_token("bob", 300);
    let first = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    let old = first.json_str("refreshToken").expect("refreshToken");
    let resp = create_token(port, &IDC, &refresh(keys::APPLICATION_ARN, &old));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let new = resp.json_str("refreshToken").expect("refreshToken");
    assert!(new != old);
    assert!(resp.json_str("accessToken") != first.json_str("accessToken"));
    let context = identity_context(&resp);
    assert!(context != identity_context(&first));
    assert_eq!(user_of_context(port, &context).as_deref(), Some("bob"));
    // The old refresh token stays valid until it expires; so does the new.
    for token in [&old, &new] {
        let resp = create_token(port, &IDC, &refresh(keys::APPLICATION_ARN, token));
        assert_eq!(resp.status, 200, "{}", resp.shown());
    }
    // Another client, or a token never issued: invalid_grant.
    let other_app = "arn:aws:sso::123456789012:application/ssoins-1111222233334444/apl-other";
    for body in [
        refresh(other_app, &new),
        refresh(keys::APPLICATION_ARN, "aorAAAAAGnot-issued"),
    ] {
        let resp = create_token(port, &IDC, &body);
        assert_eq!(
            error(&resp),
            (400, "InvalidGrantException".into(), "invalid_grant".into())
        );
        assert!(!resp.text().contains(&new));
    }
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::IAM_REFRESH_TOKEN),
        5
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 1);
}

#[test]
fn refresh_tokens_expire() {
    let fake = FakeServer::start_with(FakeOptions {
        refresh_token_ttl_secs: 1,
        ..FakeOptions::default()
    })
    .expect("start");
    let port = fake.port();
    let jwt = fake.web_token("carol", 300);
    let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    let token = resp.json_str("refreshToken").expect("refreshToken");
    std::thread::sleep(Duration::from_millis(2100));
    let resp = create_token(port, &IDC, &refresh(keys::APPLICATION_ARN, &token));
    assert_eq!(error(&resp).1, "InvalidGrantException");
}

#[test]
fn clients_grants_and_requests_are_checked() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let spec = |f: fn(&mut WebTokenSpec)| {
        let mut s = WebTokenSpec::new("dave", 300);
        f(&mut s);
        fake.web_token_with(&s)
    };
    let good = spec(|_| {});
    let app = keys::APPLICATION_ARN;
    let cases: Vec<(String, u16, &str, &str)> =
        vec![
        (
            jwt_bearer(keys::UNAUTHORIZED_APPLICATION_ARN, &good),
            400,
            "UnauthorizedClientException",
            "unauthorized_client",
        ),
        (
            jwt_bearer(keys::UNKNOWN_APPLICATION_ARN, &good),
            401,
            "InvalidClientException",
            "invalid_client",
        ),
        (jwt_bearer("my-client", &good), 401, "InvalidClientException", "invalid_client"),
        (
            jwt_bearer(app, &spec(|s| s.wrong_key = true)),
            400,
            "InvalidGrantException",
            "invalid_grant",
        ),
        (
            jwt_bearer(app, &spec(|s| s.issuer = Some("https://x.test".into()))),
            400,
            "InvalidGrantException",
            "invalid_grant",
        ),
        (
            jwt_bearer(app, &spec(|s| s.audience = Some("x".into()))),
            400,
            "InvalidGrantException",
            "invalid_grant",
        ),
        (jwt_bearer(app, "a.b.c"), 400, "InvalidGrantException", "invalid_grant"),
        (
            jwt_bearer(app, &spec(|s| s.ttl_secs = -1)),
            400,
            "ExpiredTokenException",
            "expired_token",
        ),
        (
            serde_json::json!({"clientId": app, "grantType": "authorization_code", "code": "x"})
                .to_string(),
            400,
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
        ),
        (
            serde_json::json!({"clientId": app, "grantType": JWT_BEARER}).to_string(),
            400,
            "InvalidRequestException",
            "invalid_request",
        ),
        (
            serde_json::json!({"grantType": JWT_BEARER, "assertion": good}).to_string(),
            400,
            "InvalidRequestException",
            "invalid_request",
        ),
        ("{not json".into(), 400, "InvalidRequestException", "invalid_request"),
    ];
    for (i, (body, status, code, oauth)) in cases.iter().enumerate() {
        let resp = create_token(port, &IDC, body);
        assert_eq!(
            error(&resp),
            (*status, code.to_string(), oauth.to_string()),
            "case {i}: {}",
            resp.shown()
        );
        assert!(resp.json_str("error_description").is_some());
        assert!(resp.header("x-amzn-RequestId").is_some());
        assert!(
            !resp.text().contains(good.as_str()),
            "case {i} echoes the token"
        );
    }
    assert!(fake.issued_secrets().is_empty());
    // Ten of the cases name the JWT bearer grant.
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 10);
}

#[test]
fn signing_failures_use_json_code_names() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let body = jwt_bearer(keys::APPLICATION_ARN, &fake.web_token("erin", 300));
    let unsigned = oidc(port, &body);
    let resp = call(port, &unsigned);
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("MissingAuthenticationTokenException")
    );
    let mut other_service = unsigned.clone();
    other_service.sign_as("sts", &IDC);
    let resp = call(port, &other_service);
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("InvalidSignatureException")
    );
    assert!(resp.json_str("message").is_some());
    let resp = create_token(port, &EXPIRED, &body);
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("ExpiredTokenException")
    );
    let unknown = common::Credentials {
        access_key_id: "AKIANOTKNOWN00000000",
        ..IDC
    };
    let resp = create_token(port, &unknown, &body);
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("UnrecognizedClientException")
    );
    assert!(fake.issued_secrets().is_empty());
}

#[test]
fn slow_subjects_are_answered_side_by_side() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let body = jwt_bearer(
        keys::APPLICATION_ARN,
        &fake.web_token("slow-400-frank", 300),
    );
    let started = Instant::now();
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || create_token(port, &IDC, &body).status)
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.join().expect("caller"), 200);
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(1150),
        "not side by side: {elapsed:?}"
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 3);
}

#[test]
fn the_web_token_control_makes_tokens_and_counts_nothing() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let web = |sub: &str, ttl: i64, iss: Option<&str>, aud: Option<&str>, wrong_key: bool| {
        let (sub, iss, aud) = (
            sub.to_string(),
            iss.map(String::from),
            aud.map(String::from),
        );
        common::control(
            port,
            &Control::WebToken {
                sub,
                ttl,
                iss,
                aud,
                wrong_key,
            },
        )
    };
    let resp = web("grace@example.com", 120, None, None, false);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let jwt = resp.json_str("token").expect("token");
    assert_eq!(jwt.split('.').count(), 3);
    let claims = payload(&jwt);
    assert_eq!(claims["sub"], "grace@example.com");
    assert_eq!(claims["iss"], keys::WEB_TOKEN_ISSUER);
    assert_eq!(claims["aud"], keys::WEB_TOKEN_AUDIENCE);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    for (resp, code) in [
        (web("a", 60, None, None, true), "InvalidGrantException"),
        (
            web("a", 60, Some("https://other.test"), None, false),
            "InvalidGrantException",
        ),
        (
            web("a", 60, None, Some("other"), false),
            "InvalidGrantException",
        ),
        (web("a", -5, None, None, false), "ExpiredTokenException"),
    ] {
        let jwt = resp.json_str("token").expect("token");
        let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
        assert_eq!(resp.header("x-amzn-ErrorType"), Some(code));
    }
    assert_eq!(web("", 5, None, None, false).status, 400);
    for bad in [
        r#"{"op":"web_token"}"#,
        r#"{"op":"web_token","sub":"a","ttl":"ten"}"#,
        "",
        "{",
    ] {
        assert_eq!(
            common::control_raw(port, "POST", bad.as_bytes()).status,
            400,
            "{bad:?}"
        );
    }
    assert_eq!(common::control_raw(port, "GET", b"").status, 405);
    let defaulted = common::control_raw(port, "POST", br#"{"op":"web_token","sub":"a"}"#);
    let claims = payload(&defaulted.json_str("token").expect("token"));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // Only the five CreateTokenWithIAM calls are API requests.
    assert_eq!(fake.requests(), 5);
}

#[test]
fn stats_report_and_reset_the_operation_counters() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let jwt = fake.web_token("heidi", 300);
    let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    let rt = resp.json_str("refreshToken").expect("refreshToken");
    create_token(port, &IDC, &refresh(keys::APPLICATION_ARN, &rt));
    common::identity::assume_web(port, keys::APPLICATION_ROLE_ARN, &jwt, &[]);
    assume_role(port, &IDC, keys::ACCESS_ROLE_ARN, &[], &[]);
    api(port, Api::Json, &IDC, &["wg"]);
    let counted = [
        (op::GET_TOKEN, 1),
        (op::ASSUME_ROLE, 1),
        (op::ASSUME_ROLE_WITH_WEB_IDENTITY, 1),
        (op::IAM_JWT_BEARER, 1),
        (op::IAM_REFRESH_TOKEN, 1),
    ];
    assert_eq!(common::stats_of(port), common::counts(5, 1, &counted));
    fake.reset_counters();
    assert_eq!(common::stats_of(port), common::counts(0, 0, &[]));
    assert_eq!(fake.operations(op::ASSUME_ROLE), 0);
    assert_eq!(fake.operations("NoSuchOperation"), 0);
}
