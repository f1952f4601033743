//! The custom domain name lookups, Redshift `DescribeCustomDomainAssociations`
//! and Serverless `ListCustomDomainAssociations`: `NAME.clusters.rs-idc.test`
//! is the cluster `NAME`, `NAME.workgroups.rs-idc.test` the workgroup.

use crate::auth;
use crate::http::Request;
use crate::keys::CUSTOM_DOMAIN_CERTIFICATE_ARN;
use crate::server::State;
use crate::service::{
    self, json_string, param, query_params, xml_escape, Answer, Error, Failure, Protocol, Reply,
};
use crate::timefmt;
use serde_json::Value;
use std::time::Duration;

const DESCRIBE: &str = "DescribeCustomDomainAssociations";
const LIST: &str = "ListCustomDomainAssociations";
const LIST_TARGET: &str = "RedshiftServerless.ListCustomDomainAssociations";
const XMLNS: &str = "http://redshift.amazonaws.com/doc/2012-12-01/";
const SUFFIXES: [&str; 2] = [".clusters.rs-idc.test", ".workgroups.rs-idc.test"];
const DENIED_LABEL: &str = "denied";
const CERTIFICATE_LIFETIME_SECS: i64 = 365 * 86_400;
/// Most characters of a name repeated in a message or log line (the
/// longest DNS name).
const MAX_SHOWN: usize = 253;

/// The labels before the suffix of `name` (ASCII lower-case, without one
/// trailing dot), and whether the suffix is the clusters' one.
fn labels(name: &str) -> Option<(Vec<&str>, bool)> {
    let (i, rest) = SUFFIXES
        .iter()
        .enumerate()
        .find_map(|(i, s)| Some((i, name.strip_suffix(s)?)))?;
    Some((rest.split('.').collect(), i == 0))
}

/// The pause a name asks for of its lookups, in milliseconds: a second
/// label `slow-N` (N from 1 to 60000) under either suffix, as in
/// `analytics.slow-700.clusters.rs-idc.test` (still the cluster
/// `analytics`).
fn name_delay_ms(name: &str) -> Option<u64> {
    let n = labels(name)?.0.get(1)?.strip_prefix("slow-")?;
    Some(service::bounded(n, service::MAX_SLOW_MS)? as u64)
}

/// The answer for `name` (normalised), once the caller is known.
fn lookup(answer: &Answer, name: &str) -> Result<String, Failure> {
    let expiry = timefmt::iso8601(timefmt::now_epoch_secs() + CERTIFICATE_LIFETIME_SECS);
    let arn = CUSTOM_DOMAIN_CERTIFICATE_ARN;
    let first = labels(name).map(|(labels, cluster)| (labels[0], cluster));
    match (answer.protocol, first) {
        (_, Some((DENIED_LABEL, _))) => {
            let (service, operation) = operation(answer.protocol);
            let message = format!("User is not authorized to perform: {service}:{operation}");
            Err(answer.fail(Error::AccessDenied, message))
        }
        (Protocol::Query, Some((cluster, true))) if !cluster.is_empty() => {
            let result = format!(
                "    <Associations>\n      <Association>\n        \
                 <CustomDomainCertificateArn>{arn}</CustomDomainCertificateArn>\n        \
                 <CustomDomainCertificateExpiryDate>{expiry}</CustomDomainCertificateExpiryDate>\n        \
                 <CertificateAssociations>\n          <CertificateAssociation>\n            \
                 <CustomDomainName>{}</CustomDomainName>\n            \
                 <ClusterIdentifier>{}</ClusterIdentifier>\n          \
                 </CertificateAssociation>\n        </CertificateAssociations>\n      \
                 </Association>\n    </Associations>\n",
                xml_escape(name),
                xml_escape(cluster),
            );
            Ok(answer.wrapped(DESCRIBE, &result))
        }
        (Protocol::Query, _) => {
            let shown: String = name.chars().take(MAX_SHOWN).collect();
            let message =
                format!("The custom domain name {shown} is not associated with a cluster.");
            Err((404, "CustomDomainAssociationNotFoundFault", message))
        }
        (Protocol::Json, Some((workgroup, false))) if !workgroup.is_empty() => Ok(format!(
            "{{\"associations\":[{{\"customDomainName\":{},\"workgroupName\":{},\
             \"customDomainCertificateArn\":{},\"customDomainCertificateExpiryTime\":{}}}]}}",
            json_string(name),
            json_string(workgroup),
            json_string(arn),
            json_string(&expiry),
        )),
        (Protocol::Json, _) => Ok("{\"associations\":[]}".to_string()),
    }
}

/// The `CustomDomainName` / `customDomainName` of the request, if any,
/// ASCII lower-case and without one trailing dot.
fn domain_name(answer: &Answer, req: &Request) -> Result<Option<String>, Failure> {
    let name = if answer.protocol == Protocol::Query {
        param(&query_params(req), "CustomDomainName").map(String::from)
    } else {
        let serialization = |message: String| answer.fail(Error::Serialization, message);
        let doc: Value = serde_json::from_slice(&req.body)
            .map_err(|e| serialization(format!("Malformed JSON: {e}")))?;
        if !doc.is_object() {
            return Err(serialization("The body must be a JSON object.".into()));
        }
        match doc.get("customDomainName") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(_) => return Err(serialization("customDomainName must be a string.".into())),
        }
    };
    Ok(name.map(|name| {
        let name = name.to_ascii_lowercase();
        name.strip_suffix('.').map_or(name.clone(), str::to_string)
    }))
}

fn operation(protocol: Protocol) -> (&'static str, &'static str) {
    match protocol {
        Protocol::Query => ("redshift", DESCRIBE),
        Protocol::Json => ("redshift-serverless", LIST),
    }
}

/// Answers the two lookups; `None` for any other request. `json` tells
/// whether the request is for JSON 1.1 rather than the query protocol.
/// A missing, null or empty name is unknown, as any other.
pub(crate) fn dispatch(state: &State, req: &Request, json: bool, close: bool) -> Option<Reply> {
    let protocol = if json {
        (req.header("x-amz-target") == Some(LIST_TARGET)).then_some(Protocol::Json)?
    } else {
        (param(&query_params(req), "Action") == Some(DESCRIBE)).then_some(Protocol::Query)?
    };
    let (service, operation) = operation(protocol);
    let answer = Answer::new(protocol, XMLNS, close);
    // A name's own pause, also before the credentials are checked.
    if let Some(ms) = domain_name(&answer, req)
        .ok()
        .flatten()
        .and_then(|n| name_delay_ms(&n))
    {
        state.pause(Duration::from_millis(ms));
    }
    let result = auth::authenticate(state, req, service)
        .map_err(|(e, message)| answer.fail(e, message))
        .and_then(|_| lookup(&answer, &domain_name(&answer, req)?.unwrap_or_default()));
    state.identity.count(operation);
    Some(answer.reply(result))
}
