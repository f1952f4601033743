//! AWS Signature Version 4: the pieces that verify the `Authorization`
//! header of a request (the tests sign requests with them too). Header
//! names may be in any case; the canonical request lower-cases them.

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only signing algorithm the fake accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Every byte but the unreserved characters `A-Z a-z 0-9 - . _ ~`.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same, keeping `/`.
const RESERVED_PATH: &AsciiSet = &RESERVED.remove(b'/');

/// Hex SHA-256 digest of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
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
    let set = if keep_slash { RESERVED_PATH } else { RESERVED };
    utf8_percent_encode(input, set).to_string()
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
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
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
    let words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    words.join(" ")
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
    let mut out = format!(
        "{}\n{}\n{}\n",
        parts.method,
        canonical_uri(parts.raw_path),
        canonical_query(parts.raw_query)
    );
    for name in parts.signed_headers {
        let values: Vec<String> = parts
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| trim_all(v))
            .collect();
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let signed = parts.signed_headers.join(";");
    out + &format!("\n{signed}\n{}", parts.payload_hash)
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
    hex::encode(hmac_sha256(&key, sts.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
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
    let param = |name: &str| {
        let missing = format!("Authorization header requires '{name}' parameter.");
        let prefix = format!("{name}=");
        rest.split(',')
            .find_map(|part| part.trim().strip_prefix(&prefix))
            .ok_or(missing)
    };
    let (credential, signed, sig) = (
        param("Credential")?,
        param("SignedHeaders")?,
        param("Signature")?,
    );
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
