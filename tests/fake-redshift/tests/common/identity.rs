//! Requests of trusted identity propagation: STS (query protocol) and
//! SSO-OIDC CreateTokenWithIAM (REST-JSON), and the web token control
//! endpoint. Success bodies hold secrets: check them, never show them.

use super::{call, Credentials, Req, Resp};
use rs_idc_fake::keys;

/// A form-encoded STS request with `Action` and `Version` first.
pub fn sts(port: u16, action: &str, params: &[(&str, &str)]) -> Req {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action);
    form.append_pair("Version", "2011-06-15");
    for (k, v) in params {
        form.append_pair(k, v);
    }
    Req {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("Host".into(), format!("127.0.0.1:{port}")),
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            ),
        ],
        body: form.finish().into_bytes(),
    }
}

/// AssumeRoleWithWebIdentity, unsigned.
pub fn assume_web(port: u16, role: &str, token: &str, extra: &[(&str, &str)]) -> Resp {
    let mut params = vec![
        ("RoleArn", role),
        ("RoleSessionName", "rs-idc-test"),
        ("WebIdentityToken", token),
    ];
    params.extend_from_slice(extra);
    call(port, &sts(port, "AssumeRoleWithWebIdentity", &params))
}

/// AssumeRole signed with `creds`, with `(provider, assertion)` contexts.
pub fn assume_role(
    port: u16,
    creds: &Credentials<'_>,
    role: &str,
    contexts: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> Resp {
    let mut owned: Vec<(String, String)> = vec![
        ("RoleArn".into(), role.into()),
        ("RoleSessionName".into(), "rs-idc-user".into()),
    ];
    for (i, (provider, assertion)) in contexts.iter().enumerate() {
        let at = format!("ProvidedContexts.member.{}", i + 1);
        owned.push((format!("{at}.ProviderArn"), provider.to_string()));
        owned.push((format!("{at}.ContextAssertion"), assertion.to_string()));
    }
    let mut params: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    params.extend_from_slice(extra);
    let mut req = sts(port, "AssumeRole", &params);
    req.sign_as("sts", creds);
    call(port, &req)
}

/// `(access key ID, secret, session token, expiration)` of an STS answer.
pub fn credentials_of(resp: &Resp) -> (String, String, String, String) {
    let get = |tag| resp.xml(tag).unwrap_or_else(|| panic!("no <{tag}>"));
    (
        get("AccessKeyId"),
        get("SecretAccessKey"),
        get("SessionToken"),
        get("Expiration"),
    )
}

/// Owned credentials, as minted.
pub struct Owned(pub String, pub String, pub String);

impl Owned {
    /// From an STS success answer.
    pub fn from_sts(resp: &Resp) -> Owned {
        let (id, secret, token, _) = credentials_of(resp);
        Owned(id, secret, token)
    }

    /// For signing.
    pub fn creds(&self) -> Credentials<'_> {
        Credentials {
            access_key_id: &self.0,
            secret_access_key: &self.1,
            session_token: Some(&self.2),
        }
    }
}

/// `POST /token?aws_iam=t` with a JSON body, unsigned.
pub fn oidc(port: u16, body: &str) -> Req {
    Req {
        method: "POST".into(),
        path: "/token".into(),
        query: "aws_iam=t".into(),
        headers: vec![
            ("Host".into(), format!("127.0.0.1:{port}")),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: body.as_bytes().to_vec(),
    }
}

/// The body of a JWT bearer grant.
pub fn jwt_bearer(client_id: &str, assertion: &str) -> String {
    serde_json::json!({
        "clientId": client_id,
        "grantType": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": assertion,
    })
    .to_string()
}

/// The body of a refresh token grant.
pub fn refresh(client_id: &str, refresh_token: &str) -> String {
    serde_json::json!({
        "clientId": client_id,
        "grantType": "refresh_token",
        "refreshToken": refresh_token,
    })
    .to_string()
}

/// CreateTokenWithIAM with `body`, signed with `creds` for `sso-oauth`.
pub fn create_token(port: u16, creds: &Credentials<'_>, body: &str) -> Resp {
    let mut req = oidc(port, body);
    req.sign_as("sso-oauth", creds);
    call(port, &req)
}

/// The identity context of a CreateTokenWithIAM answer.
pub fn identity_context(resp: &Resp) -> String {
    let doc = resp.json().expect("a JSON answer");
    doc["awsAdditionalDetails"]["identityContext"]
        .as_str()
        .expect("an identity context")
        .to_string()
}

/// Identity-enhanced credentials for the user of `web_token`: the JWT
/// bearer grant with the IDC keys, then AssumeRole with the context.
pub fn user_credentials(port: u16, web_token: &str) -> Owned {
    let resp = create_token(
        port,
        &super::IDC,
        &jwt_bearer(keys::APPLICATION_ARN, web_token),
    );
    assert_eq!(resp.status, 200, "{}", resp.shown());
    let context = identity_context(&resp);
    let resp = assume_role(
        port,
        &super::PLAIN,
        keys::ACCESS_ROLE_ARN,
        &[(keys::CONTEXT_PROVIDER_ARN, &context)],
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.shown());
    Owned::from_sts(&resp)
}
