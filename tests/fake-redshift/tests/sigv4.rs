//! The fake's SigV4 pieces against the AWS SigV4 test suite, the signer
//! the tests use, and the shapes of the fixed credentials.

mod common;

use rs_idc_fake::keys::*;
use rs_idc_fake::sigv4::*;

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
    let creds = common::Credentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "secret",
        session_token: Some("tok"),
    };
    common::sign_request(
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
    // By name, then value: `a` comes before `a-b`.
    assert_eq!(canonical_query("a-b=y&a=x"), "a=x&a-b=y");
}

#[test]
fn constant_time_eq_compares() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}

#[test]
fn keys_have_the_usual_shapes() {
    for id in [
        IDC_ACCESS_KEY_ID,
        IDC2_ACCESS_KEY_ID,
        PLAIN_ACCESS_KEY_ID,
        EXPIRED_ACCESS_KEY_ID,
    ] {
        assert_eq!(id.len(), 20, "{id}");
        assert!(id.starts_with("AKIA"), "{id}");
    }
    for secret in [
        IDC_SECRET_ACCESS_KEY,
        IDC2_SECRET_ACCESS_KEY,
        PLAIN_SECRET_ACCESS_KEY,
        EXPIRED_SECRET_ACCESS_KEY,
    ] {
        assert_eq!(secret.len(), 40);
    }
    assert_ne!(IDC_SESSION_TOKEN, IDC2_SESSION_TOKEN);
}
