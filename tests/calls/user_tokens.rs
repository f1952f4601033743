//! Per-user tokens: each user's web token becomes that user's own token,
//! through SSO-OIDC CreateTokenWithIAM and STS AssumeRole with the
//! identity context, against the fake, which verifies the web tokens and
//! marks every token with the user it was issued to.

use crate::common::{self, credentials};
use rs_idc::{Client, Settings, StaticCredentials, Status, UserSettings};
use rs_idc_fake::{keys, token_subject, FakeOptions, FakeServer, WebTokenSpec};
use std::sync::Barrier;
use std::time::Duration;

use rs_idc_fake::names::op::{
    ASSUME_ROLE, ASSUME_ROLE_WITH_WEB_IDENTITY as WEB_IDENTITY, GET_TOKEN as REDSHIFT,
    IAM_JWT_BEARER as JWT_BEARER, IAM_REFRESH_TOKEN as REFRESH,
};

/// Plain application credentials: no Identity Center identity of their own.
fn application() -> StaticCredentials {
    credentials(
        keys::PLAIN_ACCESS_KEY_ID,
        keys::PLAIN_SECRET_ACCESS_KEY,
        None,
    )
}

fn user_settings() -> UserSettings {
    UserSettings {
        idc_application_arn: keys::APPLICATION_ARN.into(),
        access_role_arn: keys::ACCESS_ROLE_ARN.into(),
        application_role_arn: None,
        web_token_file: None,
        role_session_name: Some("rs-idc-tests".into()),
    }
}

fn settings(fake: &FakeServer, user: UserSettings, creds: StaticCredentials) -> Settings {
    Settings {
        user: Some(user),
        ..common::settings(fake, creds, 1, Duration::from_secs(10))
    }
}

fn client(fake: &FakeServer) -> Client {
    Client::new(settings(fake, user_settings(), application()))
}

fn subject(token: &rs_idc::Token) -> String {
    token_subject(token.secret()).unwrap_or_else(|| "<none>".into())
}

#[test]
fn several_users_get_their_own_tokens_and_then_the_cached_ones() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let users = ["alice", "bob", "carol"];
    let web_tokens: Vec<String> = users.iter().map(|u| fake.web_token(u, 3600)).collect();
    for (user, web_token) in users.iter().zip(&web_tokens) {
        let token = client
            .get_user_token(web_token.as_bytes(), &["c1"])
            .unwrap();
        assert_eq!(subject(&token), *user);
    }
    // Three requests per user: CreateTokenWithIAM, AssumeRole, the token.
    assert_eq!(fake.operations(JWT_BEARER), 3);
    assert_eq!(fake.operations(ASSUME_ROLE), 3);
    assert_eq!(fake.operations(REDSHIFT), 3);
    let before = fake.requests();
    for (user, web_token) in users.iter().zip(&web_tokens) {
        let token = client
            .get_user_token(web_token.as_bytes(), &["c1"])
            .unwrap();
        assert_eq!(subject(&token), *user);
    }
    assert_eq!(fake.requests(), before, "cached calls make no request");
    // Another cluster: the user's credentials are kept, one request.
    let token = client
        .get_user_serverless_token(web_tokens[1].as_bytes(), &["wg-one"])
        .unwrap();
    assert_eq!(subject(&token), "bob");
    assert_eq!(fake.requests(), before + 1);
    // The handle's own credentials still get nothing from Redshift.
    let err = client.get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::Unsupported, "{err}");
}

#[test]
fn many_users_on_many_threads_never_get_each_others_tokens() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let users: Vec<(String, String)> = (0..16)
        .map(|i| {
            let user = format!("user{i:02}");
            let web_token = fake.web_token(&user, 3600);
            (user, web_token)
        })
        .collect();
    let barrier = Barrier::new(8);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let (client, users, barrier) = (&client, &users, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for round in 0..3 {
                    for k in 0..users.len() {
                        let (user, web_token) = &users[(k + thread * 3 + round) % users.len()];
                        let ids = if k % 2 == 0 { ["c1"] } else { ["c2"] };
                        let token = client.get_user_token(web_token.as_bytes(), &ids).unwrap();
                        assert_eq!(&subject(&token), user);
                    }
                }
            });
        }
    });
    assert_eq!(fake.operations(JWT_BEARER), 16, "one exchange per user");
    assert_eq!(fake.operations(ASSUME_ROLE), 16);
    assert_eq!(
        fake.operations(REDSHIFT),
        32,
        "one token per user and cluster"
    );
}

#[test]
fn a_burst_for_one_new_user_makes_one_exchange() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let web_token = fake.web_token("slow-300-dave", 3600);
    let barrier = Barrier::new(64);
    std::thread::scope(|scope| {
        for _ in 0..64 {
            scope.spawn(|| {
                barrier.wait();
                let token = client
                    .get_user_token(web_token.as_bytes(), &["c1"])
                    .unwrap();
                assert_eq!(subject(&token), "slow-300-dave");
            });
        }
    });
    assert_eq!(fake.operations(JWT_BEARER), 1);
    assert_eq!(fake.operations(ASSUME_ROLE), 1);
    assert_eq!(fake.operations(REDSHIFT), 1);
}

#[test]
fn malformed_and_expired_web_tokens_make_no_request() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let good = fake.web_token("erin", 3600);
    let (header, rest) = good.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let not_json = format!("{header}.bm90IGpzb24.{signature}");
    let cases: Vec<(String, Status)> = vec![
        ("".into(), Status::InvalidArgument),
        ("not-a-jwt".into(), Status::InvalidArgument),
        (good.replacen('.', "!", 1), Status::InvalidArgument),
        (not_json, Status::InvalidArgument),
        (
            "x".repeat(rs_idc::RS_IDC_MAX_WEB_TOKEN_LEN + 1),
            Status::InvalidArgument,
        ),
        (fake.web_token("erin", -30), Status::Identity),
    ];
    for (web_token, status) in &cases {
        let err = client
            .get_user_token(web_token.as_bytes(), &["c1"])
            .unwrap_err();
        assert_eq!(err.status(), *status, "{err}");
        assert!(err.message().starts_with("web_token: "), "{err}");
        if web_token.len() > 8 {
            assert!(!err.message().contains(web_token.as_str()));
        }
    }
    // Identifiers are checked first; a handle without the options refuses.
    let err = client
        .get_user_token(good.as_bytes(), &["bad_id"])
        .unwrap_err();
    assert!(err.message().starts_with("ids[0] "), "{err}");
    let plain = Client::new(common::settings(
        &fake,
        application(),
        1,
        Duration::from_secs(5),
    ));
    let err = plain.get_user_token(good.as_bytes(), &["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("idc_application_arn"), "{err}");
    assert_eq!(fake.requests(), 0);
}

#[test]
fn refusals_have_their_statuses_and_never_echo_the_web_token() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let spec = |f: fn(&mut WebTokenSpec)| {
        let mut spec = WebTokenSpec::new("frank", 3600);
        f(&mut spec);
        fake.web_token_with(&spec)
    };
    let refused = [
        (spec(|s| s.wrong_key = true), "InvalidGrantException"),
        (
            spec(|s| s.issuer = Some("https://other.example".into())),
            "InvalidGrantException",
        ),
        (
            spec(|s| s.audience = Some("someone-else".into())),
            "InvalidGrantException",
        ),
    ];
    for (web_token, code) in &refused {
        let err = client
            .get_user_token(web_token.as_bytes(), &["c1"])
            .unwrap_err();
        assert_eq!(err.status(), Status::Identity, "{err}");
        assert!(err.message().contains(code), "{err}");
        assert!(err.message().contains("request id"), "{err}");
        // The service's own description of the refusal is passed on.
        assert!(!err.message().contains("no message"), "{err}");
        assert!(!err.message().contains(web_token.as_str()));
    }
    let good = fake.web_token("frank", 3600);
    let with = |f: fn(&mut UserSettings)| {
        let mut user = user_settings();
        f(&mut user);
        Client::new(settings(&fake, user, application()))
    };
    for (handle, status, code) in [
        (
            with(|u| u.idc_application_arn = keys::UNAUTHORIZED_APPLICATION_ARN.into()),
            Status::Identity,
            "UnauthorizedClientException",
        ),
        (
            with(|u| u.idc_application_arn = keys::UNKNOWN_APPLICATION_ARN.into()),
            Status::Identity,
            "InvalidClientException",
        ),
        (
            with(|u| u.access_role_arn = keys::DENIED_ROLE_ARN.into()),
            Status::Denied,
            "AccessDenied",
        ),
        (
            with(|u| u.application_role_arn = Some(keys::DENIED_ROLE_ARN.into())),
            Status::Denied,
            "AccessDenied",
        ),
    ] {
        let err = handle.get_user_token(good.as_bytes(), &["c1"]).unwrap_err();
        assert_eq!(err.status(), status, "{err}");
        assert!(err.message().contains(code), "{err}");
        assert!(!err.message().contains(good.as_str()));
    }
    // The application role refuses a bad web token itself.
    let bootstrapped = with(|u| u.application_role_arn = Some(keys::APPLICATION_ROLE_ARN.into()));
    let bad = spec(|s| s.wrong_key = true);
    let err = bootstrapped
        .get_user_token(bad.as_bytes(), &["c1"])
        .unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().contains("InvalidIdentityToken"), "{err}");
}

#[test]
fn an_application_role_signs_the_exchange_without_credentials_of_its_own() {
    let fake = FakeServer::start().unwrap();
    let user = UserSettings {
        application_role_arn: Some(keys::APPLICATION_ROLE_ARN.into()),
        ..user_settings()
    };
    // Credentials that would be refused: they must never be used.
    let expired = credentials(
        keys::EXPIRED_ACCESS_KEY_ID,
        keys::EXPIRED_SECRET_ACCESS_KEY,
        None,
    );
    let client = Client::new(settings(&fake, user, expired));
    for name in ["gina", "hal"] {
        let web_token = fake.web_token(name, 3600);
        let token = client
            .get_user_token(web_token.as_bytes(), &["c1"])
            .unwrap();
        assert_eq!(subject(&token), name);
    }
    assert_eq!(fake.operations(WEB_IDENTITY), 2);
    assert_eq!(fake.operations(JWT_BEARER), 2);
    assert_eq!(fake.operations(ASSUME_ROLE), 2);
}

#[test]
fn the_role_calls_name_their_sessions_and_the_library_names_itself() {
    let fake = FakeServer::start().unwrap();
    let defaults = UserSettings {
        application_role_arn: Some(keys::APPLICATION_ROLE_ARN.into()),
        role_session_name: None,
        ..user_settings()
    };
    let client = Client::new(settings(&fake, defaults.clone(), application()));
    let web_token = fake.web_token("ida", 3600);
    client
        .get_user_token(web_token.as_bytes(), &["c1"])
        .unwrap();
    // Two distinct default names, so the two sessions tell apart in
    // CloudTrail.
    assert_eq!(
        fake.role_session_names(WEB_IDENTITY),
        ["rs-idc-web-identity"]
    );
    assert_eq!(
        fake.role_session_names(ASSUME_ROLE),
        ["rs-idc-identity-context"]
    );
    // A name set by the handle names both.
    let named = UserSettings {
        role_session_name: Some("bi-server".into()),
        ..defaults
    };
    let client = Client::new(settings(&fake, named, application()));
    client
        .get_user_token(web_token.as_bytes(), &["c2"])
        .unwrap();
    assert_eq!(fake.role_session_names(WEB_IDENTITY)[1], "bi-server");
    assert_eq!(fake.role_session_names(ASSUME_ROLE)[1], "bi-server");
    // Every request says which library made it.
    let version = env!("CARGO_PKG_VERSION");
    let agents = fake.user_agents();
    assert!(!agents.is_empty());
    for agent in agents {
        assert!(
            agent.contains(&format!("lib/rs-idc/{version}"))
                || agent.contains(&format!("lib/rs-idc#{version}")),
            "{agent}"
        );
    }
}

#[test]
fn a_web_token_file_gives_the_handles_plain_calls_its_user() {
    let fake = FakeServer::start().unwrap();
    let dir = std::env::temp_dir().join(format!("rs-idc-user-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("web-token");
    std::fs::write(&file, format!("{}\n", fake.web_token("ivy", 3600))).unwrap();
    let user = UserSettings {
        web_token_file: Some(file.clone()),
        ..user_settings()
    };
    let client = Client::new(settings(&fake, user, application()));
    assert_eq!(subject(&client.get_token(&["c1"]).unwrap()), "ivy");
    assert_eq!(
        subject(&client.get_serverless_token(&["wg-one"]).unwrap()),
        "ivy"
    );
    let host = b"c1.abc123.us-east-1.redshift.amazonaws.com";
    assert_eq!(subject(&client.get_token_for_host(host).unwrap()), "ivy");
    assert_eq!(fake.operations(JWT_BEARER), 1, "one exchange for the file");
    // The file now holds another user's token: the next call is theirs.
    std::fs::write(&file, fake.web_token("jon", 3600)).unwrap();
    assert_eq!(subject(&client.get_token(&["c1"]).unwrap()), "jon");
    assert_eq!(fake.operations(JWT_BEARER), 2);
    assert_eq!(
        fake.operations(REFRESH),
        0,
        "no refresh token of another user"
    );
    assert_eq!(subject(&client.get_token(&["c1"]).unwrap()), "jon");
    assert_eq!(fake.operations(JWT_BEARER), 2);
    // An expired token in the file is refused before any request.
    std::fs::write(&file, fake.web_token("ivy", -5)).unwrap();
    let stale = Client::new(settings(
        &fake,
        UserSettings {
            web_token_file: Some(file.clone()),
            ..user_settings()
        },
        application(),
    ));
    let before = fake.requests();
    let err = stale.get_token(&["c1"]).unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().starts_with("web_token_file: "), "{err}");
    assert_eq!(fake.requests(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fake whose user credentials live 20 s: they are renewed after 10 s.
fn short_lived(refresh_token_ttl_secs: i64) -> FakeServer {
    FakeServer::start_with(FakeOptions {
        user_credentials_ttl_secs: 20,
        refresh_token_ttl_secs,
        ..FakeOptions::default()
    })
    .unwrap()
}

#[test]
fn renewed_credentials_come_from_the_refresh_token() {
    let fake = short_lived(3600);
    let client = client(&fake);
    let web_token = fake.web_token("jay", 3600);
    let first = client
        .get_user_token(web_token.as_bytes(), &["c1"])
        .unwrap();
    std::thread::sleep(Duration::from_millis(10_500));
    let second = client
        .get_user_token(web_token.as_bytes(), &["c1"])
        .unwrap();
    assert_eq!(subject(&second), "jay");
    assert_ne!(
        first.secret(),
        second.secret(),
        "new credentials, new token"
    );
    assert_eq!(fake.operations(JWT_BEARER), 1);
    assert_eq!(fake.operations(REFRESH), 1);
    assert_eq!(fake.operations(ASSUME_ROLE), 2);
}

#[test]
fn an_expired_refresh_token_falls_back_to_the_web_token() {
    let fake = short_lived(5);
    let client = client(&fake);
    let web_token = fake.web_token("kim", 3600);
    client
        .get_user_token(web_token.as_bytes(), &["c1"])
        .unwrap();
    std::thread::sleep(Duration::from_millis(10_500));
    let token = client
        .get_user_token(web_token.as_bytes(), &["c1"])
        .unwrap();
    assert_eq!(subject(&token), "kim");
    assert_eq!(fake.operations(REFRESH), 1, "the refresh token was tried");
    assert_eq!(fake.operations(JWT_BEARER), 2, "then the web token");
    assert_eq!(fake.operations(ASSUME_ROLE), 2);
}
