//! Requests of the browser sign-in: RegisterClient, the authorization
//! endpoint and CreateToken, unsigned. Secrets in answers are checked,
//! never shown.

use super::{call, Req, Resp};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The issuer URL that the clients of these tests register.
pub const ISSUER: &str = "https://identitycenter.amazonaws.com/ssoins-1111222233334444";
/// A PKCE verifier and its S256 challenge (RFC 7636, appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The S256 challenge of [`VERIFIER`].
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The redirect URI of most clients here.
pub const REDIRECT: &str = "http://127.0.0.1:7890/";

/// BASE64URL-NOPAD(SHA-256(verifier)).
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An unsigned `POST path` with a JSON body.
pub fn json_post(port: u16, path: &str, body: &str) -> Resp {
    call(
        port,
        &Req {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: vec![
                ("Host".into(), format!("127.0.0.1:{port}")),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: body.as_bytes().to_vec(),
        },
    )
}

/// A RegisterClient body for a public client with these redirect URIs
/// and grant types, the `redshift:connect` scope and [`ISSUER`].
pub fn register_body(redirect_uris: &[&str], grants: &[&str]) -> String {
    serde_json::json!({
        "clientName": "rs-idc",
        "clientType": "public",
        "scopes": ["redshift:connect"],
        "redirectUris": redirect_uris,
        "grantTypes": grants,
        "issuerUrl": ISSUER,
    })
    .to_string()
}

/// `POST /client/register` with `body`.
pub fn register(port: u16, body: &str) -> Resp {
    json_post(port, "/client/register", body)
}

/// A registered client.
#[derive(Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// Registers a client of both grants sent back to `redirect_uri`.
pub fn client(port: u16, redirect_uri: &str) -> Client {
    client_with(port, redirect_uri, &["authorization_code", "refresh_token"])
}

/// Registers a client of `grants` sent back to `redirect_uri`.
pub fn client_with(port: u16, redirect_uri: &str, grants: &[&str]) -> Client {
    let resp = register(port, &register_body(&[redirect_uri], grants));
    assert_eq!(resp.status, 200, "{}", resp.shown());
    Client {
        id: resp.json_str("clientId").expect("clientId"),
        secret: resp.json_str("clientSecret").expect("clientSecret"),
        redirect_uri: redirect_uri.to_string(),
    }
}

/// `GET /authorize` with these parameters, form-encoded.
pub fn authorize(port: u16, params: &[(&str, &str)]) -> Resp {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    call(
        port,
        &Req {
            method: "GET".into(),
            path: "/authorize".into(),
            query: query.finish(),
            headers: vec![("Host".into(), format!("127.0.0.1:{port}"))],
            body: Vec::new(),
        },
    )
}

/// The parameters of a good authorization request of `client`, with
/// `extra` ones after them.
pub fn authorize_client(port: u16, client: &Client, extra: &[(&str, &str)]) -> Resp {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("state", "st-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("scopes", "redshift:connect"),
    ];
    params.extend_from_slice(extra);
    authorize(port, &params)
}

/// The decoded query parameters of a `302`'s `Location`.
pub fn location_params(resp: &Resp) -> Vec<(String, String)> {
    let location = resp.header("location").expect("a Location");
    let query = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One parameter of a `302`'s `Location`.
pub fn location_param(resp: &Resp, name: &str) -> Option<String> {
    location_params(resp)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The code of a good authorization request of `client`.
pub fn code(port: u16, client: &Client) -> String {
    let resp = authorize_client(port, client, &[]);
    assert_eq!(resp.status, 302, "{}", resp.text());
    location_param(&resp, "code").expect("a code")
}

/// A CreateToken body of the authorization code grant.
pub fn code_grant(client: &Client, code: &str, redirect_uri: &str, verifier: &str) -> String {
    serde_json::json!({
        "clientId": client.id,
        "clientSecret": client.secret,
        "grantType": "authorization_code",
        "code": code,
        "redirectUri": redirect_uri,
        "codeVerifier": verifier,
    })
    .to_string()
}

/// A CreateToken body of the refresh token grant.
pub fn refresh_grant(client: &Client, refresh_token: &str) -> String {
    serde_json::json!({
        "clientId": client.id,
        "clientSecret": client.secret,
        "grantType": "refresh_token",
        "refreshToken": refresh_token,
    })
    .to_string()
}

/// `POST /token` (CreateToken) with `body`.
pub fn create_token(port: u16, body: &str) -> Resp {
    json_post(port, "/token", body)
}

/// The whole sign-in of `client`: a code, then CreateToken.
pub fn sign_in(port: u16, client: &Client) -> Resp {
    let code = code(port, client);
    create_token(
        port,
        &code_grant(client, &code, &client.redirect_uri, VERIFIER),
    )
}

/// The OAuth `error` of an SSO-OIDC error code.
fn oauth_error(code: &str) -> &'static str {
    match code {
        "InvalidClientException" => "invalid_client",
        "InvalidGrantException" => "invalid_grant",
        "InvalidRequestException" => "invalid_request",
        "UnsupportedGrantTypeException" => "unsupported_grant_type",
        "UnauthorizedClientException" => "unauthorized_client",
        "InvalidClientMetadataException" => "invalid_client_metadata",
        "InvalidRedirectUriException" => "invalid_redirect_uri",
        "InvalidScopeException" => "invalid_scope",
        "AuthorizationPendingException" => "authorization_pending",
        "SlowDownException" => "slow_down",
        "ExpiredTokenException" => "expired_token",
        "AccessDeniedException" => "access_denied",
        _ => panic!("no OAuth error for {code}"),
    }
}

/// Asserts an SSO-OIDC error answer: the status the model gives `code`
/// (401 for `InvalidClientException`, else 400), `x-amzn-ErrorType`, the
/// OAuth `error`, an `error_description` and a request ID.
pub fn expect_error(resp: &Resp, code: &str, what: &str) {
    let status = if code == "InvalidClientException" {
        401
    } else {
        400
    };
    let got = (
        resp.status,
        resp.header("x-amzn-ErrorType").unwrap_or(""),
        resp.json_str("error").unwrap_or_default(),
    );
    let want = (status, code, oauth_error(code).to_string());
    assert_eq!(got, want, "{what}: {}", resp.shown());
    assert!(resp.json_str("error_description").is_some(), "{what}");
    assert!(resp.header("x-amzn-RequestId").is_some(), "{what}");
}

/// The claims of a JWT (not verified).
pub fn claims(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).expect("a payload part");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A request without a body.
pub fn bare(port: u16, method: &str, path: &str) -> Resp {
    call(
        port,
        &Req {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            headers: vec![("Host".into(), format!("127.0.0.1:{port}"))],
            body: Vec::new(),
        },
    )
}
