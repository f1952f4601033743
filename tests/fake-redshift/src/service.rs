//! The two APIs: authentication, request decoding, the behaviour chosen by
//! the first identifier, and the answers in the query (XML) and JSON 1.1
//! protocols.

use crate::auth;
use crate::http::{self, Request};
use crate::identity;
use crate::keys::Kind;
use crate::server::State;
use crate::timefmt;
use serde_json::Value;
use std::time::Duration;

const XMLNS: &str = "http://redshift.amazonaws.com/doc/2012-12-01/";
const OPERATION: &str = "GetIdentityCenterAuthToken";
const JSON_TARGET: &str = "RedshiftServerless.GetIdentityCenterAuthToken";
/// Base64 makes 800 characters of them.
const TOKEN_BYTES: usize = 600;
pub(crate) const HUGE_BODY_BYTES: u64 = 50 * 1024 * 1024;
/// As the service documents.
const MAX_IDS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Query,
    Json,
}

impl Protocol {
    pub(crate) fn content_type(self) -> &'static str {
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

pub(crate) enum Reply {
    Bytes(Vec<u8>),
    Trickle(Vec<u8>),
    /// Write the first bytes, then this many token characters (`A`), then
    /// the last bytes.
    Huge(Vec<u8>, u64, Vec<u8>),
    Hang,
    Reset,
}

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
    #[rustfmt::skip]
    pub(crate) fn code(self, protocol: Protocol) -> (u16, &'static str) {
        use Error::*;
        let (query, json) = match self {
            ClusterNotFound => ((404, "ClusterNotFound"), (400, "ResourceNotFoundException")),
            InvalidClusterState => ((400, "InvalidClusterState"), (400, "ConflictException")),
            InvalidParameter => ((400, "RedshiftInvalidParameter"), (400, "ValidationException")),
            Unsupported => ((400, "UnsupportedOperation"), (400, "ValidationException")),
            AccessDenied => ((403, "AccessDenied"), (400, "AccessDeniedException")),
            Unmodelled => ((400, "SomethingUnexpected"), (400, "SomethingUnexpected")),
            Throttling => ((400, "Throttling"), (400, "ThrottlingException")),
            Internal => ((500, "InternalFailure"), (500, "InternalServerException")),
            Unavailable => ((503, "ServiceUnavailable"), (503, "ServiceUnavailableException")),
            MissingAuth => ((403, "MissingAuthenticationToken"), (400, "MissingAuthenticationTokenException")),
            InvalidClientToken => ((403, "InvalidClientTokenId"), (400, "UnrecognizedClientException")),
            SignatureMismatch => ((403, "SignatureDoesNotMatch"), (400, "InvalidSignatureException")),
            ExpiredToken => ((403, "ExpiredToken"), (400, "ExpiredTokenException")),
            IncompleteSignature => ((400, "IncompleteSignature"), (400, "IncompleteSignatureException")),
            UnknownOperation => ((400, "InvalidAction"), (400, "UnknownOperationException")),
            MissingAction => ((400, "MissingAction"), (400, "UnknownOperationException")),
            Serialization => ((400, "MalformedQueryString"), (400, "SerializationException")),
        };
        match protocol {
            Protocol::Query => query,
            Protocol::Json => json,
        }
    }
}

pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).expect("the system's random source");
    bytes
}

pub(crate) fn request_id() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut id = hex::encode(b);
    for at in [20, 16, 12, 8] {
        id.insert(at, '-');
    }
    id
}

pub(crate) fn json_string(s: &str) -> String {
    Value::from(s).to_string()
}

pub(crate) fn xml_escape(s: &str) -> String {
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

fn token_start(protocol: Protocol, body: &str) -> usize {
    let marker = match protocol {
        Protocol::Query => "<Token>",
        Protocol::Json => "\"token\":\"",
    };
    body.find(marker).map_or(0, |i| i + marker.len())
}

/// A success body with `token` and an expiry at `expires` (epoch seconds),
/// either left out when `None`.
fn token_body(out: &Answer, token: Option<&str>, expires: Option<i64>) -> String {
    let expiry = expires.map(timefmt::iso8601);
    if out.protocol == Protocol::Query {
        let token = token.map(|t| format!("    <Token>{}</Token>\n", xml_escape(t)));
        let expiry = expiry.map(|e| format!("    <ExpirationTime>{e}</ExpirationTime>\n"));
        return out.wrapped(
            OPERATION,
            &(token.unwrap_or_default() + &expiry.unwrap_or_default()),
        );
    }
    let token = token.map(|t| format!("\"token\":{}", json_string(t)));
    let expiry = expiry.map(|e| format!("\"expirationTime\":{}", json_string(&e)));
    format!(
        "{{{}}}",
        token
            .into_iter()
            .chain(expiry)
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// The answer that the behaviour `b` asks for. Tokens are 600 random bytes
/// in standard base64, the first ones naming the user for credentials
/// minted for one; whole ones are counted and kept for `issued_tokens()`.
fn behave(
    state: &State,
    out: &Answer,
    subject: Option<&str>,
    b: Behaviour,
    ids: &[String],
) -> Reply {
    let new_token = |record: bool| {
        let token = match subject {
            Some(subject) => identity::user_token(subject, TOKEN_BYTES),
            None => identity::b64_standard(&random_bytes(TOKEN_BYTES)),
        };
        if record {
            state.record_token(&token);
        }
        token
    };
    let now = timefmt::now_epoch_secs();
    let expires = Some(now + state.token_ttl_secs);
    let ok = |body: String| Reply::Bytes(out.ok(body.as_bytes()));
    match b {
        Behaviour::Slow(ms) => {
            state.pause(Duration::from_millis(ms));
            behave(
                state,
                out,
                subject,
                Behaviour::Token(state.token_ttl_secs),
                ids,
            )
        }
        Behaviour::Token(ttl) => ok(token_body(out, Some(&new_token(true)), Some(now + ttl))),
        Behaviour::Expired => ok(token_body(out, Some(&new_token(true)), Some(now - 3600))),
        Behaviour::NoExpiry => ok(token_body(out, Some(&new_token(true)), None)),
        Behaviour::NoToken => ok(token_body(out, None, expires)),
        Behaviour::EmptyToken => ok(token_body(out, Some(""), expires)),
        Behaviour::Truncated => {
            let token = new_token(false);
            let body = token_body(out, Some(&token), expires);
            let cut = token_start(out.protocol, &body) + token.len() / 2;
            Reply::Bytes(out.ok(&body.as_bytes()[..cut]))
        }
        Behaviour::Garbage => Reply::Bytes(
            out.ok(b"\x00\x01<<<garbage>>> this is neither XML nor JSON }{ ][ \xff\xfe\n"),
        ),
        Behaviour::Html => {
            let body = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>proxy</center>\r\n\
                </body>\r\n</html>\r\n";
            let headers = [
                ("Content-Type", "text/html".to_string()),
                ("Server", "proxy".to_string()),
            ];
            Reply::Bytes(http::response(502, &headers, body, out.close))
        }
        Behaviour::Trickle => {
            Reply::Trickle(out.ok(token_body(out, Some(&new_token(true)), expires).as_bytes()))
        }
        Behaviour::Huge => {
            let full = token_body(out, Some("T"), expires);
            let (start, end) = full.split_at(token_start(out.protocol, &full));
            let end = end.as_bytes()[1..].to_vec();
            let filler = HUGE_BODY_BYTES - (start.len() + end.len()) as u64;
            let mut head = http::response_head(200, &out.headers(), HUGE_BODY_BYTES, out.close);
            head.extend_from_slice(start.as_bytes());
            Reply::Huge(head, filler, end)
        }
        Behaviour::Hang => Reply::Hang,
        Behaviour::Reset => Reply::Reset,
        Behaviour::Fail(e) => out.error(out.fail(e, message(out.protocol, e, ids))),
    }
}

/// The message of an error chosen by the first identifier.
fn message(protocol: Protocol, e: Error, ids: &[String]) -> String {
    let first = ids.first().map_or("", String::as_str);
    let what = if protocol == Protocol::Query {
        "Cluster"
    } else {
        "Workgroup"
    };
    match e {
        Error::ClusterNotFound => format!("{what} {first} not found."),
        Error::InvalidClusterState => format!("{what} {first} is not in the available state."),
        Error::InvalidParameter => format!("The identifier {first} is not valid."),
        Error::Unsupported => format!("{OPERATION} is not supported for {first}."),
        Error::AccessDenied => {
            format!(
                "User is not authorized to perform: {}:{OPERATION}",
                protocol.service()
            )
        }
        Error::Unmodelled => "An error that no client models.".to_string(),
        Error::Throttling => "Rate exceeded".to_string(),
        Error::Internal => "We encountered an internal error. Please try again.".to_string(),
        Error::Unavailable => "The service is unavailable. Please try again later.".to_string(),
        _ => "Unexpected error.".to_string(),
    }
}

/// A query-protocol list such as `ClusterIds.ClusterIdentifier.1=a` (also
/// `ClusterIds.member.1`, `ClusterIds.1`), ordered by index.
fn list_param(params: &[(String, String)], name: &str) -> Vec<String> {
    let prefix = format!("{name}.");
    let mut entries: Vec<(u64, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(&prefix)?;
            let index = match rest.split_once('.') {
                Some((member, index)) if !member.is_empty() && !index.contains('.') => index,
                Some(_) => return None,
                None => rest,
            };
            Some((index.parse().ok()?, v.clone()))
        })
        .collect();
    entries.sort_by_key(|(i, _)| *i);
    entries.into_iter().map(|(_, v)| v).collect()
}

pub(crate) fn query_params(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query.as_bytes())
        .chain(form_urlencoded::parse(&req.body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn is_json(req: &Request) -> bool {
    req.header("x-amz-target").is_some()
        || req
            .header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-amz-json"))
}

fn identifiers(req: &Request, protocol: Protocol) -> Result<Vec<String>, (Error, String)> {
    let fail = |e: Error, message: &str| Err((e, message.to_string()));
    if protocol == Protocol::Query {
        let params = query_params(req);
        return match param(&params, "Action") {
            Some(OPERATION) => Ok(list_param(&params, "ClusterIds")),
            Some(other) => {
                let other: String = other.chars().take(64).collect();
                let version = param(&params, "Version").unwrap_or("2012-12-01");
                let version: String = version.chars().take(16).collect();
                let message = format!("Could not find operation {other} for version {version}");
                fail(Error::UnknownOperation, &message)
            }
            None => {
                let message = "The request must contain the parameter Action.";
                fail(Error::MissingAction, message)
            }
        };
    }
    if req.header("x-amz-target") != Some(JSON_TARGET) {
        let message = "The operation named in X-Amz-Target is not known.";
        return fail(Error::UnknownOperation, message);
    }
    let doc: Value = serde_json::from_slice(&req.body)
        .map_err(|e| (Error::Serialization, format!("Malformed JSON: {e}")))?;
    match doc.get("workgroupNames") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let names = items.iter().map(|i| i.as_str().map(String::from));
            let message = "workgroupNames must hold strings.".to_string();
            names
                .collect::<Option<_>>()
                .ok_or((Error::Serialization, message))
        }
        Some(_) => fail(Error::Serialization, "workgroupNames must be a list."),
    }
}

pub(crate) fn handle_api(state: &State, req: &Request, close: bool) -> Reply {
    let json = is_json(req);
    if let Some(reply) = crate::domains::dispatch(state, req, json, close) {
        return reply;
    }
    if let Some(reply) = (!json)
        .then(|| identity::dispatch(state, req, close))
        .flatten()
    {
        return reply;
    }
    let (protocol, list, counted) = if json {
        let counted = req.header("x-amz-target") == Some(JSON_TARGET);
        (Protocol::Json, "workgroupNames", counted)
    } else {
        let counted = param(&query_params(req), "Action") == Some(OPERATION);
        (Protocol::Query, "ClusterIds", counted)
    };
    let out = Answer::new(protocol, XMLNS, close);
    // Another STS action, signed for STS, is told it is unknown rather than
    // wrongly signed.
    let service = match protocol {
        Protocol::Query if !counted && auth::scope_service(req).as_deref() == Some("sts") => "sts",
        _ => protocol.service(),
    };
    let checked = auth::authenticate(state, req, service)
        .and_then(|caller| Ok((caller, identifiers(req, protocol)?)));
    let (caller, ids) = match checked {
        Ok(checked) => checked,
        Err((e, message)) => {
            if counted {
                state.identity.count(OPERATION);
            }
            return out.error(out.fail(e, message));
        }
    };
    let reply = if ids.is_empty() {
        let message = format!("{list} must contain at least 1 identifier.");
        out.error(out.fail(Error::InvalidParameter, message))
    } else if ids.len() > MAX_IDS {
        let message = format!("{list} can hold a maximum of {MAX_IDS} identifiers.");
        out.error(out.fail(Error::InvalidParameter, message))
    } else if caller.kind == Kind::Plain {
        let message = "The caller's credentials do not carry an IAM Identity Center identity.";
        out.error(out.fail(Error::Unsupported, message))
    } else {
        let subject = caller.subject.as_deref();
        behave(state, &out, subject, behaviour(state, &ids[0]), &ids)
    };
    state.identity.count(OPERATION);
    reply
}

pub(crate) type Failure = (u16, &'static str, String);

/// Builds the answers of one request in the query protocol (XML) or JSON
/// 1.1: every answer carries `x-amzn-RequestId`, errors have their
/// protocol's shape.
pub(crate) struct Answer {
    pub protocol: Protocol,
    pub xmlns: &'static str,
    pub request_id: String,
    pub close: bool,
}

impl Answer {
    pub(crate) fn new(protocol: Protocol, xmlns: &'static str, close: bool) -> Answer {
        Answer {
            protocol,
            xmlns,
            request_id: request_id(),
            close,
        }
    }

    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        let content_type = self.protocol.content_type().to_string();
        vec![
            ("x-amzn-RequestId", self.request_id.clone()),
            ("Content-Type", content_type),
        ]
    }

    /// `error` in the protocol's code names.
    pub(crate) fn fail(&self, error: Error, message: impl Into<String>) -> Failure {
        let (status, code) = error.code(self.protocol);
        (status, code, message.into())
    }

    /// `<ErrorResponse>` (query; `Receiver` for 5xx) or `{"__type",
    /// "message"}` with `x-amzn-ErrorType` (JSON).
    pub(crate) fn error(&self, (status, code, message): Failure) -> Reply {
        let (rid, xmlns, mut headers) = (&self.request_id, self.xmlns, self.headers());
        let body = if self.protocol == Protocol::Query {
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            let message = xml_escape(&message);
            format!(
                "<ErrorResponse xmlns=\"{xmlns}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
                 <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  \
                 <RequestId>{rid}</RequestId>\n</ErrorResponse>\n"
            )
        } else {
            headers.push(("x-amzn-ErrorType", code.to_string()));
            let (code, message) = (json_string(code), json_string(&message));
            format!("{{\"__type\":{code},\"message\":{message}}}")
        };
        Reply::Bytes(http::response(
            status,
            &headers,
            body.as_bytes(),
            self.close,
        ))
    }

    /// A whole `200` with `body`.
    pub(crate) fn ok(&self, body: &[u8]) -> Vec<u8> {
        http::response(200, &self.headers(), body, self.close)
    }

    /// A `200` with the body, or the failure.
    pub(crate) fn reply(&self, result: Result<String, Failure>) -> Reply {
        match result {
            Ok(body) => Reply::Bytes(self.ok(body.as_bytes())),
            Err(failure) => self.error(failure),
        }
    }

    /// `<{action}Response>` around `<{action}Result>` holding `result`, and
    /// the request ID.
    pub(crate) fn wrapped(&self, action: &str, result: &str) -> String {
        let (rid, xmlns) = (&self.request_id, self.xmlns);
        format!(
            "<{action}Response xmlns=\"{xmlns}\">\n  <{action}Result>\n{result}  </{action}Result>\n  \
             <ResponseMetadata>\n    <RequestId>{rid}</RequestId>\n  </ResponseMetadata>\n\
             </{action}Response>\n"
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    Token(i64),
    Slow(u64),
    Fail(Error),
    Reset,
    Hang,
    Trickle,
    Truncated,
    NoToken,
    EmptyToken,
    NoExpiry,
    Expired,
    Garbage,
    Html,
    Huge,
}

fn fault(name: &str) -> Option<Behaviour> {
    Some(match name {
        "fault-throttle" => Behaviour::Fail(Error::Throttling),
        "fault-500" => Behaviour::Fail(Error::Internal),
        "fault-503" => Behaviour::Fail(Error::Unavailable),
        "fault-reset" => Behaviour::Reset,
        "fault-hang" => Behaviour::Hang,
        "fault-trickle" => Behaviour::Trickle,
        "fault-truncated" => Behaviour::Truncated,
        "fault-notoken" => Behaviour::NoToken,
        "fault-emptytoken" => Behaviour::EmptyToken,
        "fault-noexpiry" => Behaviour::NoExpiry,
        "fault-expired" => Behaviour::Expired,
        "fault-garbage" => Behaviour::Garbage,
        "fault-html" => Behaviour::Html,
        "fault-huge" => Behaviour::Huge,
        _ => return None,
    })
}

pub(crate) const MAX_SLOW_MS: i64 = 60_000;

pub(crate) fn bounded(text: &str, max: i64) -> Option<i64> {
    if text.is_empty() || text.len() > 7 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (1..=max).contains(n))
}

/// The behaviour for a request whose first identifier is `first`;
/// `fault-X-N` counts its requests and applies fault X to the first N.
pub(crate) fn behaviour(state: &State, first: &str) -> Behaviour {
    let name = first.to_ascii_lowercase();
    let normal = Behaviour::Token(state.token_ttl_secs);
    match name.as_str() {
        "err-notfound" => return Behaviour::Fail(Error::ClusterNotFound),
        "err-state" => return Behaviour::Fail(Error::InvalidClusterState),
        "err-invalid" => return Behaviour::Fail(Error::InvalidParameter),
        "err-unsupported" => return Behaviour::Fail(Error::Unsupported),
        "err-denied" => return Behaviour::Fail(Error::AccessDenied),
        "err-unknown" => return Behaviour::Fail(Error::Unmodelled),
        _ => {}
    }
    if let Some(b) = fault(&name) {
        return b;
    }
    if let Some(ttl) = name.strip_prefix("ttl-").and_then(|n| bounded(n, 86_400)) {
        return Behaviour::Token(ttl);
    }
    if let Some(ms) = name
        .strip_prefix("slow-")
        .and_then(|n| bounded(n, MAX_SLOW_MS))
    {
        return Behaviour::Slow(ms as u64);
    }
    if let Some((base, count)) = name.rsplit_once('-') {
        if let (Some(b), Some(limit)) = (fault(base), bounded(count, 1_000_000)) {
            let seen = state.count_fault(&name);
            return if seen < limit as u64 { b } else { normal };
        }
    }
    normal
}
