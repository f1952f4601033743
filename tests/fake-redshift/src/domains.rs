//! The custom domain name lookups, Redshift `DescribeCustomDomainAssociations`
//! and Serverless `ListCustomDomainAssociations`: `NAME.clusters.rs-idc.test`
//! is the cluster `NAME`, `NAME.workgroups.rs-idc.test` the workgroup.

use crate::auth;
use crate::http::Request;
use crate::keys::CUSTOM_DOMAIN_CERTIFICATE_ARN;
use crate::server::State;
use crate::service::{
    self as behaviour, json_string, param, query_params, xml_escape, Answer, Error, Failure,
    Protocol, Reply,
};
use crate::timefmt;
use serde_json::Value;
use std::time::Duration;

pub(crate) const DESCRIBE: &str = "DescribeCustomDomainAssociations";
pub(crate) const LIST: &str = "ListCustomDomainAssociations";
const LIST_TARGET: &str = "RedshiftServerless.ListCustomDomainAssociations";
const XMLNS: &str = "http://redshift.amazonaws.com/doc/2012-12-01/";
pub(crate) const CLUSTERS_SUFFIX: &str = ".clusters.rs-idc.test";
pub(crate) const WORKGROUPS_SUFFIX: &str = ".workgroups.rs-idc.test";
const DENIED_LABEL: &str = "denied";
const CERTIFICATE_LIFETIME_SECS: i64 = 365 * 86_400;
/// Most characters of a name repeated in a message or log line (the
/// longest DNS name).
const MAX_SHOWN: usize = 253;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Cluster(String),
    Workgroup(String),
    Denied,
    Unknown,
}

/// A name as compared and answered: ASCII lower-case, without one trailing
/// dot.
pub(crate) fn normalise(name: &str) -> String {
    let mut name = name.to_ascii_lowercase();
    if name.ends_with('.') {
        name.pop();
    }
    name
}

pub(crate) fn target(name: &str) -> Target {
    let under = |suffix| name.strip_suffix(suffix).and_then(|r| r.split('.').next());
    let (first, cluster) = match (under(CLUSTERS_SUFFIX), under(WORKGROUPS_SUFFIX)) {
        (Some(first), _) => (first, true),
        (None, Some(first)) => (first, false),
        (None, None) => return Target::Unknown,
    };
    match first {
        "" => Target::Unknown,
        DENIED_LABEL => Target::Denied,
        first if cluster => Target::Cluster(first.to_string()),
        first => Target::Workgroup(first.to_string()),
    }
}

/// The pause a name asks for of its lookups, in milliseconds: a second
/// label `slow-N` (N from 1 to 60000) under either suffix, as in
/// `analytics.slow-700.clusters.rs-idc.test` (still the cluster
/// `analytics`). `name` is already normalised.
pub(crate) fn name_delay_ms(name: &str) -> Option<u64> {
    let rest = name
        .strip_suffix(CLUSTERS_SUFFIX)
        .or_else(|| name.strip_suffix(WORKGROUPS_SUFFIX))?;
    let second = rest.split('.').nth(1)?;
    let ms = second
        .strip_prefix("slow-")
        .and_then(|n| behaviour::bounded(n, behaviour::MAX_SLOW_MS))?;
    Some(ms as u64)
}

fn fail(answer: &Answer, error: Error, message: impl Into<String>) -> Failure {
    let (status, code) = error.code(answer.protocol);
    (status, code, message.into())
}

impl Answer {
    fn lookup(&self, name: &str) -> Result<Reply, Failure> {
        let expiry = timefmt::iso8601(timefmt::now_epoch_secs() + CERTIFICATE_LIFETIME_SECS);
        let (arn, shown) = (CUSTOM_DOMAIN_CERTIFICATE_ARN, shown(name));
        match (self.protocol, target(name)) {
            (_, Target::Denied) => {
                let (service, operation) = match self.protocol {
                    Protocol::Query => ("redshift", DESCRIBE),
                    Protocol::Json => ("redshift-serverless", LIST),
                };
                let message = format!("User is not authorized to perform: {service}:{operation}");
                Err(fail(self, Error::AccessDenied, message))
            }
            (Protocol::Query, Target::Cluster(cluster)) => {
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
                    xml_escape(&cluster),
                );
                let body = self.wrapped(DESCRIBE, &result);
                Ok(self.success(body.as_bytes()))
            }
            (Protocol::Query, _) => Err((
                404,
                "CustomDomainAssociationNotFoundFault",
                format!("The custom domain name {shown} is not associated with a cluster."),
            )),
            (Protocol::Json, Target::Workgroup(workgroup)) => {
                let body = format!(
                    "{{\"associations\":[{{\"customDomainName\":{},\"workgroupName\":{},\
                     \"customDomainCertificateArn\":{},\"customDomainCertificateExpiryTime\":{}}}]}}",
                    json_string(name),
                    json_string(&workgroup),
                    json_string(arn),
                    json_string(&expiry),
                );
                Ok(self.success(body.as_bytes()))
            }
            (Protocol::Json, _) => Ok(self.success(b"{\"associations\":[]}")),
        }
    }

    fn domain_name(&self, req: &Request) -> Result<Option<String>, Failure> {
        if self.protocol == Protocol::Query {
            let params = query_params(req);
            return Ok(param(&params, "CustomDomainName").map(String::from));
        }
        let doc: Value = serde_json::from_slice(&req.body)
            .map_err(|e| fail(self, Error::Serialization, format!("Malformed JSON: {e}")))?;
        if !doc.is_object() {
            return Err(fail(
                self,
                Error::Serialization,
                "The body must be a JSON object.",
            ));
        }
        match doc.get("customDomainName") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(name)) => Ok(Some(name.clone())),
            Some(_) => Err(fail(
                self,
                Error::Serialization,
                "customDomainName must be a string.",
            )),
        }
    }
}

fn shown(name: &str) -> String {
    name.chars().take(MAX_SHOWN).collect()
}

pub(crate) fn dispatch(state: &State, req: &Request, json: bool, close: bool) -> Option<Reply> {
    let protocol = if json {
        (req.header("x-amz-target") == Some(LIST_TARGET)).then_some(Protocol::Json)?
    } else {
        (param(&query_params(req), "Action") == Some(DESCRIBE)).then_some(Protocol::Query)?
    };
    Some(handle(state, req, protocol, close))
}

/// One lookup: the pause, the credentials, the name, the answer and the
/// count. A missing, null or empty name is unknown, as any other.
fn handle(state: &State, req: &Request, protocol: Protocol, close: bool) -> Reply {
    let (service, operation) = match protocol {
        Protocol::Query => ("redshift", DESCRIBE),
        Protocol::Json => ("redshift-serverless", LIST),
    };
    let answer = Answer::new(protocol, XMLNS, close);
    // A name's own pause (`NAME.slow-N.clusters.rs-idc.test`), also before
    // the credentials are checked.
    if let Ok(Some(name)) = answer.domain_name(req) {
        if let Some(ms) = name_delay_ms(&normalise(&name)) {
            state.pause(Duration::from_millis(ms));
        }
    }
    let result = auth::authenticate(state, req, service)
        .map_err(|(e, message)| fail(&answer, e, message))
        .and_then(|_| {
            let name = normalise(&answer.domain_name(req)?.unwrap_or_default());
            answer.lookup(&name)
        });
    state.identity.count(operation);
    result.unwrap_or_else(|failure| answer.error(failure))
}
