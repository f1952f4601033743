//! The custom domain lookups over raw HTTP: Redshift
//! DescribeCustomDomainAssociations (query protocol) and Redshift
//! Serverless ListCustomDomainAssociations (JSON 1.1), their credentials,
//! counters, delay option and flag.

mod common;

use common::identity::user_credentials;
use common::{call, Credentials, Req, Resp, EXPIRED, IDC, IDC2, PLAIN};
use rs_idc_fake::{keys, timefmt, FakeServer};
use std::time::{Duration, Instant};

use rs_idc_fake::names::op::{DESCRIBE_DOMAINS as DESCRIBE, LIST_DOMAINS as LIST};

/// A request to `POST /` with `body`, unsigned.
fn post(port: u16, content_type: &str, target: Option<&str>, body: String) -> Req {
    let mut headers = vec![
        ("Host".to_string(), format!("127.0.0.1:{port}")),
        ("Content-Type".to_string(), content_type.to_string()),
    ];
    if let Some(target) = target {
        headers.push(("X-Amz-Target".to_string(), target.to_string()));
    }
    Req {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers,
        body: body.into_bytes(),
    }
}

/// DescribeCustomDomainAssociations for `name` (none if `None`) and other
/// parameters, unsigned.
fn describe_req(port: u16, name: Option<&str>, extra: &[(&str, &str)]) -> Req {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", DESCRIBE);
    form.append_pair("Version", "2012-12-01");
    if let Some(name) = name {
        form.append_pair("CustomDomainName", name);
    }
    form.extend_pairs(extra);
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    post(port, content_type, None, form.finish())
}

/// ListCustomDomainAssociations with `body`, unsigned.
fn list_req(port: u16, body: &str) -> Req {
    let target = format!("RedshiftServerless.{LIST}");
    post(
        port,
        "application/x-amz-json-1.1",
        Some(&target),
        body.to_string(),
    )
}

fn describe(port: u16, creds: &Credentials<'_>, name: &str) -> Resp {
    let mut req = describe_req(port, Some(name), &[]);
    req.sign_as("redshift", creds);
    call(port, &req)
}

fn list(port: u16, creds: &Credentials<'_>, name: &str) -> Resp {
    let mut req = list_req(
        port,
        &serde_json::json!({ "customDomainName": name }).to_string(),
    );
    req.sign_as("redshift-serverless", creds);
    call(port, &req)
}

/// Status and code of a query-protocol error answer.
fn query_error(resp: &Resp) -> (u16, String) {
    (resp.status, resp.xml("Code").unwrap_or_default())
}

/// Status and `__type` of a JSON 1.1 error answer (checked against
/// `x-amzn-ErrorType`).
fn json_error(resp: &Resp) -> (u16, String) {
    let code = resp.json_str("__type").unwrap_or_default();
    assert_eq!(resp.header("x-amzn-ErrorType"), Some(code.as_str()));
    (resp.status, code)
}

/// Seconds from now until an ISO-8601 time.
fn seconds_until(time: &str) -> i64 {
    timefmt::parse_iso8601(time).expect("ISO-8601") - timefmt::now_epoch_secs()
}

#[test]
fn describe_finds_clusters() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let resp = describe(port, &IDC, "analytics.clusters.rs-idc.test");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/xml"));
    let rid = resp.header("x-amzn-RequestId").expect("request ID");
    let text = resp.text();
    assert!(text.starts_with(&format!(
        "<{DESCRIBE}Response xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\">"
    )));
    for part in [
        &format!("<{DESCRIBE}Result>\n    <Associations>\n      <Association>\n")[..],
        "<CertificateAssociations>\n          <CertificateAssociation>\n",
        &format!("<ResponseMetadata>\n    <RequestId>{rid}</RequestId>"),
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert_eq!(resp.xml("ClusterIdentifier").as_deref(), Some("analytics"));
    assert_eq!(
        resp.xml("CustomDomainName").as_deref(),
        Some("analytics.clusters.rs-idc.test")
    );
    assert_eq!(
        resp.xml("CustomDomainCertificateArn").as_deref(),
        Some(keys::CUSTOM_DOMAIN_CERTIFICATE_ARN)
    );
    let expiry = resp
        .xml("CustomDomainCertificateExpiryDate")
        .expect("expiry");
    assert!(expiry.ends_with(".000Z"), "{expiry}");
    assert!(seconds_until(&expiry) > 300 * 86_400, "{expiry}");

    // Case and a trailing dot do not matter; the other parameters are ignored.
    let mut req = describe_req(
        port,
        Some("Sales-EU.Clusters.RS-IDC.test."),
        &[
            (
                "CustomDomainCertificateArn",
                keys::CUSTOM_DOMAIN_CERTIFICATE_ARN,
            ),
            ("MaxRecords", "20"),
            ("Marker", "m"),
        ],
    );
    req.sign_as("redshift", &PLAIN);
    let resp = call(port, &req);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.xml("ClusterIdentifier").as_deref(), Some("sales-eu"));
    assert_eq!(
        resp.xml("CustomDomainName").as_deref(),
        Some("sales-eu.clusters.rs-idc.test")
    );
    assert_eq!(fake.operations(DESCRIBE), 2);
    assert_eq!(fake.operations(LIST), 0);
    assert_eq!(fake.operations(rs_idc_fake::names::op::GET_TOKEN), 0);
    assert_eq!((fake.requests(), fake.tokens_issued()), (2, 0));
}

#[test]
fn describe_answers_not_found_for_other_names() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    for name in [
        Some("sales.workgroups.rs-idc.test"),
        Some("analytics.example.com"),
        Some("clusters.rs-idc.test"),
        Some(""),
        None,
    ] {
        let mut req = describe_req(port, name, &[]);
        req.sign_as("redshift", &IDC);
        let resp = call(port, &req);
        let expected = (404, "CustomDomainAssociationNotFoundFault".to_string());
        assert_eq!(query_error(&resp), expected, "{name:?}");
        assert_eq!(resp.xml("Type").as_deref(), Some("Sender"));
        assert!(resp.text().starts_with("<ErrorResponse"));
        let rid = resp.header("x-amzn-RequestId").expect("request ID");
        assert_eq!(resp.xml("RequestId").as_deref(), Some(rid));
        let message = resp.xml("Message").unwrap_or_default();
        assert!(message.contains(name.unwrap_or("")), "{message}");
    }
    assert_eq!(fake.operations(DESCRIBE), 5);
}

#[test]
fn list_finds_workgroups() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let resp = list(port, &IDC, "sales.workgroups.rs-idc.test");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert!(resp.header("x-amzn-RequestId").is_some());
    assert_eq!(resp.json_member_names(), ["associations"]);
    let doc = resp.json().expect("JSON");
    let associations = doc["associations"].as_array().expect("a list");
    assert_eq!(associations.len(), 1);
    let one = &associations[0];
    assert_eq!(one["customDomainName"], "sales.workgroups.rs-idc.test");
    assert_eq!(one["workgroupName"], "sales");
    assert_eq!(
        one["customDomainCertificateArn"],
        keys::CUSTOM_DOMAIN_CERTIFICATE_ARN
    );
    let expiry = one["customDomainCertificateExpiryTime"]
        .as_str()
        .expect("an ISO-8601 string, not epoch seconds");
    assert!(seconds_until(expiry) > 300 * 86_400, "{expiry}");
    let text = resp.text();
    let order = [
        "customDomainName",
        "workgroupName",
        "customDomainCertificateArn",
        "customDomainCertificateExpiryTime",
    ]
    .map(|m| text.find(&format!("\"{m}\"")).expect(m));
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");

    // Case, a trailing dot and other members do not matter.
    let body = serde_json::json!({
        "customDomainName": "ETL.Workgroups.rs-idc.test.",
        "customDomainCertificateArn": keys::CUSTOM_DOMAIN_CERTIFICATE_ARN,
        "maxResults": 10,
        "nextToken": "t",
    });
    let mut req = list_req(port, &body.to_string());
    req.sign_as("redshift-serverless", &PLAIN);
    let doc = call(port, &req).json().expect("JSON");
    assert_eq!(doc["associations"][0]["workgroupName"], "etl");
    assert_eq!(
        doc["associations"][0]["customDomainName"],
        "etl.workgroups.rs-idc.test"
    );

    // Every other name: an empty list.
    for body in [
        r#"{"customDomainName":"analytics.clusters.rs-idc.test"}"#,
        r#"{"customDomainName":"sales.example.com"}"#,
        r#"{"customDomainName":null}"#,
        "{}",
    ] {
        let mut req = list_req(port, body);
        req.sign_as("redshift-serverless", &IDC);
        let resp = call(port, &req);
        assert_eq!(resp.status, 200, "{body}: {}", resp.text());
        assert_eq!(resp.text(), r#"{"associations":[]}"#, "{body}");
    }
    assert_eq!(fake.operations(LIST), 6);
    assert_eq!(fake.operations(DESCRIBE), 0);
    assert_eq!(fake.requests(), 6);
}

#[test]
fn denied_names_are_refused() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    for name in [
        "denied.clusters.rs-idc.test",
        "Denied.Workgroups.rs-idc.test.",
    ] {
        let resp = describe(port, &IDC, name);
        assert_eq!(query_error(&resp), (403, "AccessDenied".into()), "{name}");
        assert_eq!(resp.xml("Type").as_deref(), Some("Sender"));
        let message = resp.xml("Message").unwrap_or_default();
        assert!(message.contains("redshift:DescribeCustomDomainAssociations"));
        let resp = list(port, &IDC, name);
        let expected = (400, "AccessDeniedException".into());
        assert_eq!(json_error(&resp), expected, "{name}");
        let message = resp.json_str("message").unwrap_or_default();
        assert!(message.contains("redshift-serverless:ListCustomDomainAssociations"));
    }
    assert_eq!((fake.operations(DESCRIBE), fake.operations(LIST)), (2, 2));
}

#[test]
fn lookups_check_credentials() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let user = user_credentials(port, &fake.web_token("alice", 300));
    let cluster = "analytics.clusters.rs-idc.test";
    let workgroup = "sales.workgroups.rs-idc.test";
    for creds in [IDC, IDC2, PLAIN, user.creds()] {
        let resp = describe(port, &creds, cluster);
        assert_eq!(resp.status, 200, "{}: {}", creds.access_key_id, resp.text());
        let resp = list(port, &creds, workgroup);
        assert_eq!(resp.status, 200, "{}: {}", creds.access_key_id, resp.text());
    }
    let wrong_secret = Credentials {
        secret_access_key: "not-the-secret-xxxxxxxxxxxxxxxxxxxxxxxxx",
        ..IDC
    };
    let cases = [
        (EXPIRED, "ExpiredToken", "ExpiredTokenException"),
        (
            wrong_secret,
            "SignatureDoesNotMatch",
            "InvalidSignatureException",
        ),
    ];
    for (creds, query, json) in cases {
        let resp = describe(port, &creds, cluster);
        assert_eq!(query_error(&resp), (403, query.to_string()));
        let resp = list(port, &creds, workgroup);
        assert_eq!(json_error(&resp), (400, json.to_string()));
    }

    // Signed for the other service, or not at all.
    let mut req = describe_req(port, Some(cluster), &[]);
    req.sign_as("redshift-serverless", &IDC);
    let resp = call(port, &req);
    assert_eq!(query_error(&resp), (403, "SignatureDoesNotMatch".into()));
    let resp = call(port, &describe_req(port, Some(cluster), &[]));
    let expected = (403, "MissingAuthenticationToken".into());
    assert_eq!(query_error(&resp), expected);
    let mut req = list_req(port, "{}");
    req.sign_as("redshift", &IDC);
    let resp = call(port, &req);
    assert_eq!(json_error(&resp), (400, "InvalidSignatureException".into()));
    assert_eq!((fake.operations(DESCRIBE), fake.operations(LIST)), (8, 7));
}

#[test]
fn list_refuses_malformed_bodies() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    for body in ["not json", "[]", r#"{"customDomainName":5}"#] {
        let mut req = list_req(port, body);
        req.sign_as("redshift-serverless", &IDC);
        let resp = call(port, &req);
        let expected = (400, "SerializationException".into());
        assert_eq!(json_error(&resp), expected, "{body}");
    }
    assert_eq!(fake.operations(LIST), 3);
}

#[test]
fn stats_count_the_lookups() {
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    describe(port, &IDC, "analytics.clusters.rs-idc.test");
    describe(port, &IDC, "nothing.example.com");
    list(port, &IDC, "sales.workgroups.rs-idc.test");
    let counted = [(DESCRIBE, 2), (LIST, 1)];
    assert_eq!(common::stats_of(port), common::counts(3, 0, &counted));
    fake.reset_counters();
    assert_eq!(common::stats_of(port), common::counts(0, 0, &[]));
    assert_eq!(fake.operations(DESCRIBE), 0);
}

/// How long one call takes.
fn timed(f: impl FnOnce() -> Resp) -> (Duration, u16) {
    let started = Instant::now();
    let status = f().status;
    (started.elapsed(), status)
}

#[test]
fn a_second_label_slow_n_slows_that_name_only() {
    let delay = Duration::from_millis(500);
    let fake = FakeServer::start().expect("start");
    let port = fake.port();
    let (took, status) = timed(|| describe(port, &IDC, "a.slow-500.clusters.rs-idc.test"));
    assert!(took >= delay && status == 200, "{took:?} {status}");
    let body = describe(port, &IDC, "a.slow-1.clusters.rs-idc.test").text();
    assert!(
        body.contains("<ClusterIdentifier>a</ClusterIdentifier>"),
        "{body}"
    );
    let (took, status) = timed(|| list(port, &IDC, "s.slow-500.workgroups.rs-idc.test"));
    assert!(took >= delay && status == 200, "{took:?} {status}");
    let (took, status) = timed(|| describe(port, &IDC, "slow-500.clusters.rs-idc.test"));
    assert!(took < delay && status == 200, "{took:?} {status}");
}
