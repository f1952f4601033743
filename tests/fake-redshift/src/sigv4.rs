//! AWS Signature Version 4, as far as the fake needs it: verifying the
//! `Authorization` header of a request, and signing requests in tests.
//!
//! Header names given to these functions may be in any case; they are
//! lower-cased for the canonical request.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The only signing algorithm the fake accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Lower-case hexadecimal form of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Hex SHA-256 digest of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Derives the SigV4 signing key for one day, region and service.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret_access_key}");
    let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Percent-encodes every byte except the unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) and, when `keep_slash` is true, `/`.
pub fn uri_encode(input: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes `.` and `..` segments from an absolute path (RFC 3986, 5.2.4).
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let trailing_slash = path.ends_with('/')
        || path.ends_with("/.")
        || path.ends_with("/..")
        || path == "."
        || path == "..";
    for segment in path.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(&segments.join("/"));
    if trailing_slash && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Canonical URI of a request path as sent on the wire (still
/// percent-encoded): dot segments removed, then every byte encoded once more,
/// as SigV4 does for every service except S3.
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    uri_encode(&remove_dot_segments(raw_path), true)
}

/// Canonical query string: parameters decoded, strictly re-encoded, and
/// sorted by name then value.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&crate::form::percent_decode(k, true), false),
                uri_encode(&crate::form::percent_decode(v, true), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trims spaces at both ends and collapses runs of spaces to one.
pub fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// What a canonical request is built from.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// Path as sent on the wire, without the query string.
    pub raw_path: &'a str,
    /// Query string as sent on the wire, without the `?`.
    pub raw_query: &'a str,
    /// Every header of the request, names in any case.
    pub headers: &'a [(String, String)],
    /// Lower-case names of the signed headers, in the order of the
    /// `SignedHeaders` list.
    pub signed_headers: &'a [String],
    /// Hex SHA-256 of the payload (or the `x-amz-content-sha256` value).
    pub payload_hash: &'a str,
}

/// Builds the SigV4 canonical request.
pub fn canonical_request(parts: &RequestParts<'_>) -> String {
    let mut out = String::new();
    out.push_str(parts.method);
    out.push('\n');
    out.push_str(&canonical_uri(parts.raw_path));
    out.push('\n');
    out.push_str(&canonical_query(parts.raw_query));
    out.push('\n');
    for name in parts.signed_headers {
        let values: Vec<String> = parts
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| trim_all(v))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&parts.signed_headers.join(";"));
    out.push('\n');
    out.push_str(parts.payload_hash);
    out
}

/// Builds the string to sign from the `x-amz-date` value, the credential
/// scope (`date/region/service/aws4_request`) and the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Computes the hex signature of a canonical request.
pub fn signature(
    secret_access_key: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let key = signing_key(secret_access_key, date, region, service);
    let sts = string_to_sign(amz_date, &scope, canonical_request);
    hex(&hmac_sha256(&key, sts.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The parts of a SigV4 `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// Access key ID from the credential.
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
    /// Lower-case signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
/// The error is a message fit for an `IncompleteSignature` answer.
pub fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let value = value.trim();
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| "Unsupported or missing signing algorithm.".to_string())?;
    let (mut credential, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            sig = Some(v);
        }
    }
    let credential = credential.ok_or("Authorization header requires 'Credential' parameter.")?;
    let signed = signed.ok_or("Authorization header requires 'SignedHeaders' parameter.")?;
    let sig = sig.ok_or("Authorization header requires 'Signature' parameter.")?;
    let fields: Vec<&str> = credential.split('/').collect();
    if fields.len() != 5 || fields[4] != "aws4_request" || fields.iter().any(|f| f.is_empty()) {
        return Err("Credential should be of the form \
                    ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request."
            .to_string());
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    if signed_headers.iter().any(|h| h.is_empty()) {
        return Err("SignedHeaders holds an empty header name.".to_string());
    }
    Ok(Authorization {
        access_key_id: fields[0].to_string(),
        date: fields[1].to_string(),
        region: fields[2].to_string(),
        service: fields[3].to_string(),
        signed_headers,
        signature: sig.to_string(),
    })
}

/// Credentials used to sign a request.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// Access key ID.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token, sent as `x-amz-security-token` when present.
    pub session_token: Option<&'a str>,
}

/// Signs a request the way the AWS SDKs do, for tests: adds `x-amz-date`,
/// `x-amz-security-token` (if the credentials have one) and
/// `Authorization` to `headers`. Every header already in `headers` (which
/// should include `host`) is signed.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &mut Vec<(String, String)>,
    body: &[u8],
    credentials: &Credentials<'_>,
    region: &str,
    service: &str,
    amz_date: &str,
) {
    headers.push(("x-amz-date".to_string(), amz_date.to_string()));
    if let Some(token) = credentials.session_token {
        headers.push(("x-amz-security-token".to_string(), token.to_string()));
    }
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    signed.sort();
    signed.dedup();
    let payload_hash = sha256_hex(body);
    let canonical = canonical_request(&RequestParts {
        method,
        raw_path,
        raw_query,
        headers,
        signed_headers: &signed,
        payload_hash: &payload_hash,
    });
    let sig = signature(
        credentials.secret_access_key,
        amz_date,
        region,
        service,
        &canonical,
    );
    let date = amz_date.get(..8).unwrap_or(amz_date);
    headers.push((
        "Authorization".to_string(),
        format!(
            "{ALGORITHM} Credential={}/{date}/{region}/{service}/aws4_request, \
             SignedHeaders={}, Signature={sig}",
            credentials.access_key_id,
            signed.join(";")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vanilla_parts() -> Vec<(String, String)> {
        vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ]
    }

    /// The "get-vanilla" case of the AWS SigV4 test suite.
    #[test]
    fn get_vanilla_vector() {
        let headers = vanilla_parts();
        let signed = vec!["host".to_string(), "x-amz-date".to_string()];
        let empty_hash = sha256_hex(b"");
        assert_eq!(
            empty_hash,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let canonical = canonical_request(&RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            signed_headers: &signed,
            payload_hash: &empty_hash,
        });
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let sts = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        let sig = signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
            "us-east-1",
            "service",
            &canonical,
        );
        assert_eq!(
            sig,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// The "get-vanilla-query-order-key-case" case of the same suite.
    #[test]
    fn query_order_vector() {
        let headers = vanilla_parts();
        let signed = vec!["host".to_string(), "x-amz-date".to_string()];
        let canonical = canonical_request(&RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query: "Param2=value2&Param1=value1",
            headers: &headers,
            signed_headers: &signed,
            payload_hash: &sha256_hex(b""),
        });
        assert!(canonical.starts_with("GET\n/\nParam1=value1&Param2=value2\n"));
        let sig = signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
            "us-east-1",
            "service",
            &canonical,
        );
        assert_eq!(
            sig,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn sign_request_round_trips_through_parse() {
        let mut headers = vec![("Host".to_string(), "127.0.0.1:1".to_string())];
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "secret",
            session_token: Some("tok"),
        };
        sign_request(
            "POST",
            "/",
            "",
            &mut headers,
            b"Action=X",
            &creds,
            "eu-west-1",
            "redshift",
            "20240102T030405Z",
        );
        let auth = &headers.last().expect("authorization header").1;
        let parsed = parse_authorization(auth).expect("parses");
        assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
        assert_eq!(parsed.date, "20240102");
        assert_eq!(parsed.region, "eu-west-1");
        assert_eq!(parsed.service, "redshift");
        assert_eq!(
            parsed.signed_headers,
            vec!["host", "x-amz-date", "x-amz-security-token"]
        );
        assert_eq!(parsed.signature.len(), 64);
    }

    #[test]
    fn malformed_authorization_is_rejected() {
        assert!(parse_authorization("Basic abc").is_err());
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c, Signature=x").is_err());
        assert!(parse_authorization(
            "AWS4-HMAC-SHA256 Credential=A/20200101/r/s/aws4_request, SignedHeaders=host"
        )
        .is_err());
        assert!(parse_authorization(
            "AWS4-HMAC-SHA256 Credential=A/20200101/r/s/aws4_request, \
             SignedHeaders=host;;x, Signature=00"
        )
        .is_err());
    }

    #[test]
    fn canonical_uri_normalises_and_encodes() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a/./b/../c"), "/a/c");
        assert_eq!(canonical_uri("/a/b/.."), "/a/");
        assert_eq!(canonical_uri("/x%20y"), "/x%2520y");
        assert_eq!(canonical_uri("/ü"), "/%C3%BC");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        assert_eq!(trim_all("  a   b  c "), "a b c");
        assert_eq!(trim_all(""), "");
    }

    #[test]
    fn canonical_query_encodes_strictly() {
        assert_eq!(canonical_query("b=2&a=x+y&a=%2F"), "a=%2F&a=x%20y&b=2");
        assert_eq!(canonical_query("flag"), "flag=");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
