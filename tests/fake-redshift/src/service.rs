//! The two APIs: authentication, request decoding, the behaviour chosen by
//! the first identifier, and the answers in the query (XML) and JSON 1.1
//! protocols.

use crate::behaviour::{behaviour, Behaviour};
use crate::form;
use crate::http::{self, Request};
use crate::json::{self, Json};
use crate::keys::{self, Kind};
use crate::server::State;
use crate::sigv4;
use crate::timefmt;
use std::time::Duration;

/// XML namespace of the Redshift query API.
const XMLNS: &str = "http://redshift.amazonaws.com/doc/2012-12-01/";
/// Operation name, the same in both APIs.
const OPERATION: &str = "GetIdentityCenterAuthToken";
/// `X-Amz-Target` of the Redshift Serverless operation.
const JSON_TARGET: &str = "RedshiftServerless.GetIdentityCenterAuthToken";
/// Random bytes per token; base64 makes 800 characters of them.
const TOKEN_BYTES: usize = 600;
/// Size of the `fault-huge` body.
pub(crate) const HUGE_BODY_BYTES: u64 = 50 * 1024 * 1024;
/// Most identifiers one request may name (as the service documents).
const MAX_IDS: usize = 20;

/// Which API a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Redshift, AWS query protocol, XML answers.
    Query,
    /// Redshift Serverless, AWS JSON 1.1.
    Json,
}

impl Protocol {
    fn content_type(self) -> &'static str {
        match self {
            Protocol::Query => "text/xml",
            Protocol::Json => "application/x-amz-json-1.1",
        }
    }

    fn service(self) -> &'static str {
        match self {
            Protocol::Query => "redshift",
            Protocol::Json => "redshift-serverless",
        }
    }
}

/// What the connection handler does with a request.
pub(crate) enum Reply {
    /// Write this whole response.
    Bytes(Vec<u8>),
    /// Write this whole response one byte every 250 ms.
    Trickle(Vec<u8>),
    /// Write `head`, `prefix`, `filler` token characters, then `suffix`.
    Huge {
        head: Vec<u8>,
        prefix: Vec<u8>,
        filler: u64,
        suffix: Vec<u8>,
    },
    /// Never answer; keep the socket open.
    Hang,
    /// Reset the connection.
    Reset,
}

/// A reply and a one-line description for the verbose log (never holding
/// a token or secret).
pub(crate) struct Outcome {
    pub reply: Reply,
    pub summary: String,
}

/// Every error the fake answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    ClusterNotFound,
    InvalidClusterState,
    InvalidParameter,
    Unsupported,
    AccessDenied,
    Unmodelled,
    Throttling,
    Internal,
    Unavailable,
    MissingAuth,
    InvalidClientToken,
    SignatureMismatch,
    ExpiredToken,
    IncompleteSignature,
    UnknownOperation,
    MissingAction,
    Serialization,
}

impl Error {
    /// HTTP status and error code in each protocol.
    fn code(self, protocol: Protocol) -> (u16, &'static str) {
        use Error::*;
        match protocol {
            Protocol::Query => match self {
                ClusterNotFound => (404, "ClusterNotFound"),
                InvalidClusterState => (400, "InvalidClusterState"),
                InvalidParameter => (400, "RedshiftInvalidParameter"),
                Unsupported => (400, "UnsupportedOperation"),
                AccessDenied => (403, "AccessDenied"),
                Unmodelled => (400, "SomethingUnexpected"),
                Throttling => (400, "Throttling"),
                Internal => (500, "InternalFailure"),
                Unavailable => (503, "ServiceUnavailable"),
                MissingAuth => (403, "MissingAuthenticationToken"),
                InvalidClientToken => (403, "InvalidClientTokenId"),
                SignatureMismatch => (403, "SignatureDoesNotMatch"),
                ExpiredToken => (403, "ExpiredToken"),
                IncompleteSignature => (400, "IncompleteSignature"),
                UnknownOperation => (400, "InvalidAction"),
                MissingAction => (400, "MissingAction"),
                Serialization => (400, "MalformedQueryString"),
            },
            Protocol::Json => match self {
                ClusterNotFound => (400, "ResourceNotFoundException"),
                InvalidClusterState => (400, "ConflictException"),
                InvalidParameter | Unsupported => (400, "ValidationException"),
                AccessDenied => (400, "AccessDeniedException"),
                Unmodelled => (400, "SomethingUnexpected"),
                Throttling => (400, "ThrottlingException"),
                Internal => (500, "InternalServerException"),
                Unavailable => (503, "ServiceUnavailableException"),
                MissingAuth => (400, "MissingAuthenticationTokenException"),
                InvalidClientToken => (400, "UnrecognizedClientException"),
                SignatureMismatch => (400, "InvalidSignatureException"),
                ExpiredToken => (400, "ExpiredTokenException"),
                IncompleteSignature => (400, "IncompleteSignatureException"),
                UnknownOperation | MissingAction => (400, "UnknownOperationException"),
                Serialization => (400, "SerializationException"),
            },
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Body of an error answer.
fn error_body(
    protocol: Protocol,
    status: u16,
    code: &str,
    message: &str,
    request_id: &str,
) -> Vec<u8> {
    match protocol {
        Protocol::Query => {
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            format!(
                "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
                 <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
                 <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
                xml_escape(message)
            )
            .into_bytes()
        }
        Protocol::Json => format!(
            "{{\"__type\":\"{}\",\"message\":\"{}\"}}",
            json::escape(code),
            json::escape(message)
        )
        .into_bytes(),
    }
}

/// Body of a success answer; either part may be left out.
fn success_body(
    protocol: Protocol,
    token: Option<&str>,
    expiry: Option<&str>,
    request_id: &str,
) -> String {
    match protocol {
        Protocol::Query => {
            let mut result = String::new();
            if let Some(t) = token {
                result.push_str(&format!("    <Token>{}</Token>\n", xml_escape(t)));
            }
            if let Some(e) = expiry {
                result.push_str(&format!("    <ExpirationTime>{e}</ExpirationTime>\n"));
            }
            format!(
                "<{OPERATION}Response xmlns=\"{XMLNS}\">\n  <{OPERATION}Result>\n{result}  \
                 </{OPERATION}Result>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  \
                 </ResponseMetadata>\n</{OPERATION}Response>\n"
            )
        }
        Protocol::Json => {
            let mut members = Vec::new();
            if let Some(t) = token {
                members.push(format!("\"token\":\"{}\"", json::escape(t)));
            }
            if let Some(e) = expiry {
                members.push(format!("\"expirationTime\":\"{e}\""));
            }
            format!("{{{}}}", members.join(","))
        }
    }
}

/// Where the token text starts in a success body.
fn token_start(protocol: Protocol, body: &str) -> usize {
    let marker = match protocol {
        Protocol::Query => "<Token>",
        Protocol::Json => "\"token\":\"",
    };
    body.find(marker).map_or(0, |i| i + marker.len())
}

/// Builds API answers for one request.
struct Answer<'a> {
    protocol: Protocol,
    request_id: String,
    close: bool,
    state: &'a State,
}

impl Answer<'_> {
    fn headers(&self, content_type: &str) -> Vec<(&'static str, String)> {
        vec![
            ("x-amzn-RequestId", self.request_id.clone()),
            ("Content-Type", content_type.to_string()),
        ]
    }

    fn error(&self, error: Error, message: &str) -> Outcome {
        let (status, code) = error.code(self.protocol);
        let body = error_body(self.protocol, status, code, message, &self.request_id);
        let mut headers = self.headers(self.protocol.content_type());
        if self.protocol == Protocol::Json {
            headers.push(("x-amzn-ErrorType", code.to_string()));
        }
        Outcome {
            reply: Reply::Bytes(http::response(status, &headers, &body, self.close)),
            summary: format!("{status} {code}"),
        }
    }

    fn success(&self, body: &[u8]) -> Vec<u8> {
        http::response(
            200,
            &self.headers(self.protocol.content_type()),
            body,
            self.close,
        )
    }

    fn new_token(&self, record: bool) -> String {
        let token = self.state.rng().token(TOKEN_BYTES);
        if record {
            self.state.record_token(&token);
        }
        token
    }

    fn behave(&self, b: Behaviour, ids: &[String]) -> Outcome {
        let now = timefmt::now_epoch_secs();
        let p = self.protocol;
        let rid = &self.request_id;
        let first = ids.first().map_or("", String::as_str);
        let bytes = |reply: Vec<u8>, summary: String| Outcome {
            reply: Reply::Bytes(reply),
            summary,
        };
        match b {
            Behaviour::Slow { ms } => {
                self.state.pause(Duration::from_millis(ms));
                let normal = Behaviour::Token {
                    ttl: self.state.token_ttl_secs,
                };
                let mut outcome = self.behave(normal, ids);
                outcome.summary = format!("{} after {ms} ms", outcome.summary);
                outcome
            }
            Behaviour::Token { ttl } => {
                let token = self.new_token(true);
                let body = success_body(p, Some(&token), Some(&timefmt::iso8601(now + ttl)), rid);
                bytes(
                    self.success(body.as_bytes()),
                    format!("200 token ({} chars, expires in {ttl} s)", token.len()),
                )
            }
            Behaviour::Expired => {
                let token = self.new_token(true);
                let body = success_body(p, Some(&token), Some(&timefmt::iso8601(now - 3600)), rid);
                bytes(
                    self.success(body.as_bytes()),
                    "200 token expired an hour ago".into(),
                )
            }
            Behaviour::NoExpiry => {
                let token = self.new_token(true);
                let body = success_body(p, Some(&token), None, rid);
                bytes(
                    self.success(body.as_bytes()),
                    "200 token without expiry".into(),
                )
            }
            Behaviour::NoToken => {
                let expiry = timefmt::iso8601(now + self.state.token_ttl_secs);
                let body = success_body(p, None, Some(&expiry), rid);
                bytes(self.success(body.as_bytes()), "200 without token".into())
            }
            Behaviour::EmptyToken => {
                let expiry = timefmt::iso8601(now + self.state.token_ttl_secs);
                let body = success_body(p, Some(""), Some(&expiry), rid);
                bytes(self.success(body.as_bytes()), "200 empty token".into())
            }
            Behaviour::Truncated => {
                let token = self.new_token(false);
                let expiry = timefmt::iso8601(now + self.state.token_ttl_secs);
                let body = success_body(p, Some(&token), Some(&expiry), rid);
                let cut = token_start(p, &body) + token.len() / 2;
                bytes(
                    self.success(&body.as_bytes()[..cut]),
                    format!("200 truncated after {cut} bytes"),
                )
            }
            Behaviour::Garbage => bytes(
                self.success(
                    b"\x00\x01<<<garbage>>> this is neither XML nor JSON }{ ][ \xff\xfe\n",
                ),
                "200 garbage".into(),
            ),
            Behaviour::Html => {
                let body = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>proxy</center>\r\n\
                    </body>\r\n</html>\r\n";
                let headers = [
                    ("Content-Type", "text/html".to_string()),
                    ("Server", "proxy".to_string()),
                ];
                bytes(
                    http::response(502, &headers, body, self.close),
                    "502 html".into(),
                )
            }
            Behaviour::Trickle => {
                let token = self.new_token(true);
                let expiry = timefmt::iso8601(now + self.state.token_ttl_secs);
                let body = success_body(p, Some(&token), Some(&expiry), rid);
                Outcome {
                    reply: Reply::Trickle(self.success(body.as_bytes())),
                    summary: "200 token, trickled".into(),
                }
            }
            Behaviour::Huge => {
                let expiry = timefmt::iso8601(now + self.state.token_ttl_secs);
                let full = success_body(p, Some("T"), Some(&expiry), rid);
                let at = token_start(p, &full);
                let prefix = full.as_bytes()[..at].to_vec();
                let suffix = full.as_bytes()[at + 1..].to_vec();
                let filler = HUGE_BODY_BYTES - (prefix.len() + suffix.len()) as u64;
                let head = http::response_head(
                    200,
                    &self.headers(p.content_type()),
                    HUGE_BODY_BYTES,
                    self.close,
                );
                Outcome {
                    reply: Reply::Huge {
                        head,
                        prefix,
                        filler,
                        suffix,
                    },
                    summary: format!("200 huge body ({HUGE_BODY_BYTES} bytes)"),
                }
            }
            Behaviour::Hang => Outcome {
                reply: Reply::Hang,
                summary: "no answer (hang)".into(),
            },
            Behaviour::Reset => Outcome {
                reply: Reply::Reset,
                summary: "connection reset".into(),
            },
            Behaviour::Fail(e) => {
                let what = match p {
                    Protocol::Query => "Cluster",
                    Protocol::Json => "Workgroup",
                };
                let message = match e {
                    Error::ClusterNotFound => format!("{what} {first} not found."),
                    Error::InvalidClusterState => {
                        format!("{what} {first} is not in the available state.")
                    }
                    Error::InvalidParameter => format!("The identifier {first} is not valid."),
                    Error::Unsupported => {
                        format!("GetIdentityCenterAuthToken is not supported for {first}.")
                    }
                    Error::AccessDenied => format!(
                        "User is not authorized to perform: {}:{OPERATION}",
                        p.service()
                    ),
                    Error::Unmodelled => "An error that no client models.".to_string(),
                    Error::Throttling => "Rate exceeded".to_string(),
                    Error::Internal => {
                        "We encountered an internal error. Please try again.".to_string()
                    }
                    Error::Unavailable => {
                        "The service is unavailable. Please try again later.".to_string()
                    }
                    _ => "Unexpected error.".to_string(),
                };
                self.error(e, &message)
            }
        }
    }
}

/// Checks SigV4 and the credentials. `Ok` carries the caller's kind.
fn authenticate(req: &Request, protocol: Protocol) -> Result<(Kind, String), (Error, String)> {
    let auth = req.header("authorization").ok_or_else(|| {
        (
            Error::MissingAuth,
            "Request is missing Authentication Token".to_string(),
        )
    })?;
    let auth = sigv4::parse_authorization(auth).map_err(|m| (Error::IncompleteSignature, m))?;
    let amz_date = req.header("x-amz-date").unwrap_or("");
    let date_ok = amz_date.len() == 16
        && amz_date.as_bytes()[8] == b'T'
        && amz_date.ends_with('Z')
        && amz_date[..8]
            .bytes()
            .chain(amz_date[9..15].bytes())
            .all(|b| b.is_ascii_digit());
    if !date_ok {
        return Err((
            Error::IncompleteSignature,
            "Authorization header requires existence of a valid 'X-Amz-Date' header.".to_string(),
        ));
    }
    let identity = keys::lookup(&auth.access_key_id).ok_or_else(|| {
        (
            Error::InvalidClientToken,
            "The security token included in the request is invalid.".to_string(),
        )
    })?;
    if auth.date != amz_date[..8] {
        return Err((
            Error::SignatureMismatch,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP."
                .to_string(),
        ));
    }
    if auth.service != protocol.service() {
        return Err((
            Error::SignatureMismatch,
            format!(
                "Credential should be scoped to correct service: '{}'.",
                protocol.service()
            ),
        ));
    }
    let payload_hash = req
        .header("x-amz-content-sha256")
        .map_or_else(|| sigv4::sha256_hex(&req.body), str::to_string);
    let canonical = sigv4::canonical_request(&sigv4::RequestParts {
        method: &req.method,
        raw_path: &req.path,
        raw_query: &req.query,
        headers: &req.headers,
        signed_headers: &auth.signed_headers,
        payload_hash: &payload_hash,
    });
    let expected = sigv4::signature(
        identity.secret_access_key,
        amz_date,
        &auth.region,
        &auth.service,
        &canonical,
    );
    if !sigv4::constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err((
            Error::SignatureMismatch,
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
                .to_string(),
        ));
    }
    let sent_token = req.header("x-amz-security-token");
    let token_ok = match (identity.session_token, sent_token) {
        (Some(expected), Some(sent)) => {
            sigv4::constant_time_eq(expected.as_bytes(), sent.as_bytes())
        }
        (None, None) => true,
        _ => false,
    };
    if !token_ok {
        return Err((
            Error::InvalidClientToken,
            "The security token included in the request is invalid.".to_string(),
        ));
    }
    if identity.kind == Kind::Expired {
        return Err((
            Error::ExpiredToken,
            "The security token included in the request is expired".to_string(),
        ));
    }
    Ok((identity.kind, auth.access_key_id))
}

/// Reads the identifiers out of the request body.
fn identifiers(req: &Request, protocol: Protocol) -> Result<Vec<String>, (Error, String)> {
    match protocol {
        Protocol::Query => {
            let mut params = form::decode_form(&req.query);
            params.extend(form::decode_form(&String::from_utf8_lossy(&req.body)));
            match form::param(&params, "Action") {
                None => {
                    return Err((
                        Error::MissingAction,
                        "The request must contain the parameter Action.".to_string(),
                    ))
                }
                Some(OPERATION) => {}
                Some(other) => {
                    return Err((
                        Error::UnknownOperation,
                        format!(
                            "Could not find operation {} for version 2012-12-01",
                            other.chars().take(64).collect::<String>()
                        ),
                    ))
                }
            }
            Ok(form::list_param(&params, "ClusterIds"))
        }
        Protocol::Json => {
            if req.header("x-amz-target") != Some(JSON_TARGET) {
                return Err((
                    Error::UnknownOperation,
                    "The operation named in X-Amz-Target is not known.".to_string(),
                ));
            }
            let doc = json::parse(&req.body)
                .map_err(|e| (Error::Serialization, format!("Malformed JSON: {e}")))?;
            match doc.get("workgroupNames") {
                None | Some(Json::Null) => Ok(Vec::new()),
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        (
                            Error::Serialization,
                            "workgroupNames must hold strings.".to_string(),
                        )
                    }),
                Some(_) => Err((
                    Error::Serialization,
                    "workgroupNames must be a list.".to_string(),
                )),
            }
        }
    }
}

/// Handles one API request (anything but the control endpoint).
pub(crate) fn handle_api(state: &State, req: &Request, close: bool) -> Outcome {
    let protocol = if req.header("x-amz-target").is_some()
        || req
            .header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-amz-json"))
    {
        Protocol::Json
    } else {
        Protocol::Query
    };
    let answer = Answer {
        protocol,
        request_id: state.rng().request_id(),
        close,
        state,
    };
    let (kind, key_id) = match authenticate(req, protocol) {
        Ok(ok) => ok,
        Err((e, m)) => return answer.error(e, &m),
    };
    let ids = match identifiers(req, protocol) {
        Ok(ids) => ids,
        Err((e, m)) => return answer.error(e, &m),
    };
    let list = match protocol {
        Protocol::Query => "ClusterIds",
        Protocol::Json => "workgroupNames",
    };
    let mut outcome = if ids.is_empty() {
        answer.error(
            Error::InvalidParameter,
            &format!("{list} must contain at least 1 identifier."),
        )
    } else if ids.len() > MAX_IDS {
        answer.error(
            Error::InvalidParameter,
            &format!("{list} can hold a maximum of {MAX_IDS} identifiers."),
        )
    } else if kind == Kind::Plain {
        answer.error(
            Error::Unsupported,
            "The caller's credentials do not carry an IAM Identity Center identity.",
        )
    } else {
        answer.behave(behaviour(state, &ids[0]), &ids)
    };
    let first = ids.first().map_or("-", String::as_str);
    outcome.summary = format!(
        "{} key={key_id} ids={} first={:?} -> {}",
        protocol.service(),
        ids.len(),
        first.chars().take(64).collect::<String>(),
        outcome.summary
    );
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_table_matches_the_models() {
        assert_eq!(
            Error::ClusterNotFound.code(Protocol::Query),
            (404, "ClusterNotFound")
        );
        assert_eq!(
            Error::ClusterNotFound.code(Protocol::Json),
            (400, "ResourceNotFoundException")
        );
        assert_eq!(
            Error::Internal.code(Protocol::Query),
            (500, "InternalFailure")
        );
        assert_eq!(
            Error::Unavailable.code(Protocol::Query),
            (503, "ServiceUnavailable")
        );
        assert_eq!(
            Error::Throttling.code(Protocol::Json),
            (400, "ThrottlingException")
        );
    }

    #[test]
    fn success_bodies_have_the_parsed_shape() {
        let xml = success_body(
            Protocol::Query,
            Some("tok&"),
            Some("2026-11-27T21:06:29.000Z"),
            "rid",
        );
        assert!(xml.starts_with(
            "<GetIdentityCenterAuthTokenResponse xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\">\n  \
             <GetIdentityCenterAuthTokenResult>\n    <Token>tok&amp;</Token>\n    \
             <ExpirationTime>2026-11-27T21:06:29.000Z</ExpirationTime>\n"
        ));
        assert!(xml.contains("<ResponseMetadata>\n    <RequestId>rid</RequestId>"));
        let js = success_body(
            Protocol::Json,
            Some("t\"k"),
            Some("2026-11-27T21:06:29.000Z"),
            "rid",
        );
        assert_eq!(
            js,
            r#"{"token":"t\"k","expirationTime":"2026-11-27T21:06:29.000Z"}"#
        );
        let doc = json::parse(js.as_bytes()).expect("valid JSON");
        assert_eq!(doc.get("token").and_then(Json::as_str), Some("t\"k"));
        assert_eq!(success_body(Protocol::Json, None, None, "r"), "{}");
    }

    #[test]
    fn error_bodies_have_the_parsed_shape() {
        let xml = String::from_utf8(error_body(
            Protocol::Query,
            503,
            "ServiceUnavailable",
            "a<b",
            "rid",
        ))
        .expect("utf-8");
        assert!(xml.contains("<Error>\n    <Type>Receiver</Type>\n    <Code>ServiceUnavailable</Code>\n    <Message>a&lt;b</Message>\n  </Error>\n  <RequestId>rid</RequestId>"));
        let js = error_body(
            Protocol::Json,
            400,
            "ValidationException",
            "bad \"x\"",
            "rid",
        );
        let doc = json::parse(&js).expect("valid JSON");
        assert_eq!(
            doc.get("__type").and_then(Json::as_str),
            Some("ValidationException")
        );
        assert_eq!(doc.get("message").and_then(Json::as_str), Some("bad \"x\""));
    }
}
