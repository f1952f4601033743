//! STS AssumeRoleWithWebIdentity and AssumeRole over raw HTTP, and the
//! credentials they mint. Secrets in answers are checked, never shown.

mod common;

use common::identity::{assume_role, assume_web, credentials_of, sts, user_credentials, Owned};
use common::{api, call, Api, EXPIRED, IDC, IDC2, PLAIN};
use rs_idc_fake::{keys, timefmt, token_subject, Control, FakeOptions, FakeServer, WebTokenSpec};
use std::time::Duration;

/// The `<Code>` of an STS error answer.
fn code(resp: &common::Resp) -> String {
    resp.xml("Code").unwrap_or_default()
}

fn expires_in(expiration: &str) -> i64 {
    timefmt::parse_iso8601(expiration).expect("ISO-8601 with Z") - timefmt::now_epoch_secs()
}

#[test]
fn web_identity_mints_plain_credentials() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let jwt = fake.web_token("alice@example.com", 300);
    let resp = assume_web(port, keys::APPLICATION_ROLE_ARN, &jwt, &[]);
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(resp.header("content-type"), Some("text/xml"));
    let rid = resp
        .header("x-amzn-RequestId")
        .expect("request ID")
        .to_string();
    let text = resp.text();
    assert!(text.starts_with(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    assert!(text.contains("<AssumeRoleWithWebIdentityResult>"));
    assert!(text.contains(&format!("<RequestId>{rid}</RequestId>")));
    assert_eq!(
        resp.xml("SubjectFromWebIdentityToken").as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(
        resp.xml("Audience").as_deref(),
        Some(keys::WEB_TOKEN_AUDIENCE)
    );
    assert_eq!(
        resp.xml("Provider").as_deref(),
        Some(keys::WEB_TOKEN_ISSUER)
    );
    assert_eq!(
        resp.xml("Arn").as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/rs-idc-application/rs-idc-test")
    );
    let role_id = resp.xml("AssumedRoleId").expect("AssumedRoleId");
    assert!(role_id.starts_with("AROA") && role_id.ends_with(":rs-idc-test"));
    let (id, secret, token, expiration) = credentials_of(&resp);
    assert!(id.len() == 20 && id.starts_with("ASIA"));
    assert!(id[4..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(secret.len(), 40);
    assert_eq!(token.len(), 300);
    assert!(expiration.ends_with('Z'));
    assert!((expires_in(&expiration) - 3600).abs() <= 5);
    assert!(fake.minted_credentials() == vec![(id, secret, token)]);
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::ASSUME_ROLE_WITH_WEB_IDENTITY),
        1
    );
    assert_eq!(fake.requests(), 1);

    // Plain credentials: no Redshift token.
    let minted = Owned::from_sts(&resp);
    let resp = api(port, Api::Query, &minted.creds(), &["c"]);
    assert_eq!(
        (resp.status, code(&resp).as_str()),
        (400, "UnsupportedOperation")
    );
    let resp = api(port, Api::Json, &minted.creds(), &["wg"]);
    assert_eq!(
        resp.json_str("__type").as_deref(),
        Some("ValidationException")
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::GET_TOKEN), 2);
}

#[test]
fn web_identity_refuses_bad_tokens_and_roles() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let spec = |f: fn(&mut WebTokenSpec)| {
        let mut s = WebTokenSpec::new("alice", 300);
        f(&mut s);
        fake.web_token_with(&s)
    };
    let role = keys::APPLICATION_ROLE_ARN;
    let cases: Vec<(String, &str, u16, &str)> = vec![
        (
            spec(|s| s.wrong_key = true),
            role,
            400,
            "InvalidIdentityToken",
        ),
        (
            spec(|s| s.issuer = Some("https://other.test".into())),
            role,
            400,
            "InvalidIdentityToken",
        ),
        ("not.a.jwt".into(), role, 400, "InvalidIdentityToken"),
        ("garbage".into(), role, 400, "InvalidIdentityToken"),
        (
            spec(|s| s.audience = Some("other".into())),
            role,
            403,
            "IDPRejectedClaim",
        ),
        (
            spec(|s| s.ttl_secs = -10),
            role,
            400,
            "ExpiredTokenException",
        ),
        (spec(|_| {}), keys::DENIED_ROLE_ARN, 403, "AccessDenied"),
        (
            spec(|_| {}),
            "arn:aws:iam::123:role/x",
            400,
            "ValidationError",
        ),
        (
            spec(|_| {}),
            "not-an-arn-at-all-but-long",
            400,
            "ValidationError",
        ),
    ];
    for (i, (token, role, status, expected)) in cases.iter().enumerate() {
        let resp = assume_web(port, role, token, &[]);
        assert_eq!(
            (resp.status, code(&resp).as_str()),
            (*status, *expected),
            "case {i}: {}",
            resp.shown()
        );
        assert!(resp
            .text()
            .starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
        assert_eq!(resp.xml("Type").as_deref(), Some("Sender"));
        assert!(resp.header("x-amzn-RequestId").is_some());
        assert!(!resp.text().contains(token.as_str()), "the token is echoed");
    }
    let good = fake.web_token("alice", 300);
    for (name, value) in [("RoleSessionName", "x"), ("RoleSessionName", "a b c")] {
        let req = sts(
            port,
            "AssumeRoleWithWebIdentity",
            &[
                ("RoleArn", role),
                (name, value),
                ("WebIdentityToken", &good),
            ],
        );
        let resp = call(port, &req);
        assert_eq!(code(&resp), "ValidationError", "{value:?}");
    }
    let resp = call(
        port,
        &sts(port, "AssumeRoleWithWebIdentity", &[("RoleArn", role)]),
    );
    assert_eq!(code(&resp), "ValidationError");
    assert!(fake.minted_credentials().is_empty());
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::ASSUME_ROLE_WITH_WEB_IDENTITY),
        cases.len() as u64 + 3
    );
    // An unknown action is still InvalidAction.
    let resp = call(
        port,
        &sts(port, "GetCallerIdentity", &[]).signed(Api::Query, &IDC),
    );
    assert_eq!(code(&resp), "InvalidAction");
    let mut req = sts(port, "GetCallerIdentity", &[]);
    req.sign_as("sts", &IDC);
    let resp = call(port, &req);
    assert_eq!(code(&resp), "InvalidAction");
    assert!(resp
        .xml("Message")
        .unwrap_or_default()
        .contains("2011-06-15"));
}

#[test]
fn web_identity_ignores_any_authorization() {
    let fake = FakeServer::start_with(FakeOptions {
        user_credentials_ttl_secs: 1200,
        ..FakeOptions::default()
    })
    .expect("start");
    let port = fake.port();
    let jwt = fake.web_token("bob", 300);
    let req = sts(
        port,
        "AssumeRoleWithWebIdentity",
        &[
            ("RoleArn", keys::APPLICATION_ROLE_ARN),
            ("RoleSessionName", "s1"),
            ("WebIdentityToken", &jwt),
        ],
    )
    .header("Authorization", "AWS4-HMAC-SHA256 nonsense");
    let resp = call(port, &req);
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert!((expires_in(&credentials_of(&resp).3) - 1200).abs() <= 5);
}

#[test]
fn assume_role_is_signed() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    for creds in [PLAIN, IDC, IDC2] {
        let resp = assume_role(port, &creds, keys::APPLICATION_ROLE_ARN, &[], &[]);
        assert_eq!(resp.status, 200, "{}", resp.shown());
        let text = resp.text();
        assert!(text.starts_with(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleResult>"
        ));
        assert_eq!(
            resp.xml("Arn").as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/rs-idc-application/rs-idc-user")
        );
        // Without a context: plain credentials.
        let minted = Owned::from_sts(&resp);
        let resp = api(port, Api::Query, &minted.creds(), &["c"]);
        assert_eq!(code(&resp), "UnsupportedOperation");
    }
    let resp = assume_role(port, &EXPIRED, keys::APPLICATION_ROLE_ARN, &[], &[]);
    assert_eq!((resp.status, code(&resp).as_str()), (403, "ExpiredToken"));
    let resp = assume_role(port, &IDC, keys::DENIED_ROLE_ARN, &[], &[]);
    assert_eq!((resp.status, code(&resp).as_str()), (403, "AccessDenied"));
    let unsigned = sts(
        port,
        "AssumeRole",
        &[("RoleArn", keys::ACCESS_ROLE_ARN), ("RoleSessionName", "s")],
    );
    let resp = call(port, &unsigned);
    assert_eq!(
        (resp.status, code(&resp).as_str()),
        (403, "MissingAuthenticationToken")
    );
    // Signed for another service.
    let resp = call(port, &unsigned.clone().signed(Api::Query, &IDC));
    assert_eq!(
        (resp.status, code(&resp).as_str()),
        (403, "SignatureDoesNotMatch")
    );
    let mut wrong = common::Credentials { ..IDC };
    wrong.secret_access_key = "not-the-secret-xxxxxxxxxxxxxxxxxxxxxxxxx";
    let resp = assume_role(port, &wrong, keys::ACCESS_ROLE_ARN, &[], &[]);
    assert_eq!(code(&resp), "SignatureDoesNotMatch");
    assert_eq!(fake.operations(rs_idc_fake::names::op::ASSUME_ROLE), 8);
    assert_eq!(fake.minted_credentials().len(), 3);
}

#[test]
fn an_identity_context_makes_credentials_for_its_user() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let user = user_credentials(port, &fake.web_token("alice@example.com", 300));
    for api_kind in [Api::Query, Api::Json] {
        let resp = api(port, api_kind, &user.creds(), &["my-cluster"]);
        assert_eq!(resp.status, 200, "{}", resp.shown());
        let token = match api_kind {
            Api::Query => resp.xml("Token"),
            Api::Json => resp.json_str("token"),
        }
        .expect("a token");
        assert_eq!(token.len(), 800);
        assert_eq!(token_subject(&token).as_deref(), Some("alice@example.com"));
        let answer = common::control(
            port,
            &Control::TokenSubject {
                token: token.clone(),
            },
        );
        assert_eq!(
            (answer.status, answer.json_str("subject").as_deref()),
            (200, Some("alice@example.com"))
        );
        assert!(fake.issued_tokens().contains(&token));
    }
    // Tokens of the static keys name nobody.
    let resp = api(port, Api::Query, &IDC, &["c"]);
    let token = resp.xml("Token").expect("a token");
    assert_eq!(token_subject(&token), None);
    let answer = common::control(
        port,
        &Control::TokenSubject {
            token: token.clone(),
        },
    );
    assert_eq!(answer.status, 404);
    // The user's credentials may assume roles and use faults like any.
    let resp = api(port, Api::Query, &user.creds(), &["err-notfound"]);
    assert_eq!(code(&resp), "ClusterNotFound");
    assert_eq!(fake.operations(rs_idc_fake::names::op::GET_TOKEN), 4);
}

#[test]
fn bad_contexts_are_refused_without_echoing_them() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let context = {
        let resp = common::identity::create_token(
            port,
            &IDC,
            &common::identity::jwt_bearer(keys::APPLICATION_ARN, &fake.web_token("carol", 300)),
        );
        common::identity::identity_context(&resp)
    };
    let (payload, signature) = context.split_once('.').expect("two parts");
    let mut altered = payload.to_string();
    let first = if altered.starts_with('e') { "f" } else { "e" };
    altered.replace_range(..1, first);
    let altered = format!("{altered}.{signature}");
    let other = "arn:aws:iam::aws:contextProvider/Other";
    let jwt = fake.web_token("carol", 60);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![(other, &context)],
        vec![(keys::CONTEXT_PROVIDER_ARN, &altered)],
        vec![(keys::CONTEXT_PROVIDER_ARN, "bm90LWEtY29udGV4dA")],
        vec![(keys::CONTEXT_PROVIDER_ARN, &jwt)],
        vec![
            (keys::CONTEXT_PROVIDER_ARN, &context),
            (keys::CONTEXT_PROVIDER_ARN, &context),
        ],
    ];
    for (i, contexts) in cases.iter().enumerate() {
        let resp = assume_role(port, &IDC, keys::ACCESS_ROLE_ARN, contexts, &[]);
        assert_eq!(
            (resp.status, code(&resp).as_str()),
            (400, "InvalidParameterValue"),
            "case {i}: {}",
            resp.shown()
        );
        let message = resp.xml("Message").unwrap_or_default();
        assert!(message.contains("ProvidedContexts.member."), "{message}");
        for (_, assertion) in contexts {
            assert!(
                !resp.text().contains(assertion),
                "case {i} echoes the assertion"
            );
        }
    }
    let resp = assume_role(
        port,
        &IDC,
        keys::DENIED_ROLE_ARN,
        &[(keys::CONTEXT_PROVIDER_ARN, &context)],
        &[],
    );
    assert_eq!(code(&resp), "AccessDenied");
    assert!(fake.minted_credentials().is_empty());
}

#[test]
fn minted_credentials_expire() {
    let fake = FakeServer::start_with(FakeOptions {
        user_credentials_ttl_secs: 1,
        ..FakeOptions::default()
    })
    .expect("start");
    let port = fake.port();
    let user = user_credentials(port, &fake.web_token("dave", 300));
    let plain = Owned::from_sts(&assume_web(
        port,
        keys::APPLICATION_ROLE_ARN,
        &fake.web_token("dave", 300),
        &[],
    ));
    std::thread::sleep(Duration::from_millis(2100));
    for creds in [user.creds(), plain.creds()] {
        let resp = api(port, Api::Query, &creds, &["c"]);
        assert_eq!((resp.status, code(&resp).as_str()), (403, "ExpiredToken"));
        let resp = api(port, Api::Json, &creds, &["wg"]);
        assert_eq!(
            (resp.status, resp.json_str("__type").as_deref()),
            (400, Some("ExpiredTokenException"))
        );
        let resp = assume_role(port, &creds, keys::ACCESS_ROLE_ARN, &[], &[]);
        assert_eq!(code(&resp), "ExpiredToken");
        let resp = common::identity::create_token(
            port,
            &creds,
            &common::identity::jwt_bearer(keys::APPLICATION_ARN, &fake.web_token("dave", 60)),
        );
        assert_eq!(
            resp.header("x-amzn-ErrorType"),
            Some("ExpiredTokenException")
        );
    }
}

#[test]
fn web_identity_credentials_can_call_create_token_with_iam() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let jwt = fake.web_token("erin", 300);
    let app = Owned::from_sts(&assume_web(port, keys::APPLICATION_ROLE_ARN, &jwt, &[]));
    let resp = common::identity::create_token(
        port,
        &app.creds(),
        &common::identity::jwt_bearer(keys::APPLICATION_ARN, &jwt),
    );
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let context = common::identity::identity_context(&resp);
    let resp = assume_role(
        port,
        &app.creds(),
        keys::ACCESS_ROLE_ARN,
        &[(keys::CONTEXT_PROVIDER_ARN, &context)],
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert!((expires_in(&credentials_of(&resp).3) - 3600).abs() <= 5);
    let user = Owned::from_sts(&resp);
    let token = api(port, Api::Query, &user.creds(), &["c"])
        .xml("Token")
        .expect("a token");
    assert_eq!(token_subject(&token).as_deref(), Some("erin"));
}
