//! Custom domain names: which cluster or workgroup a DNS name that is not
//! an AWS Redshift name stands for, as the services say, kept for an hour
//! per region, endpoint and identity. Concurrent lookups of one name make
//! one; failures are not kept.

use crate::aws;
use crate::clock::{unix_now, Deadline};
use crate::error::Error;
use crate::ids;
use crate::kept::{Due, Keepable, Kept};
use crate::keyed::Digest;
use crate::runtime;
use crate::snapshot::Snapshot;
use crate::status::Status;
use crate::token::Api;
use std::sync::{Arc, LazyLock};

/// How long a mapping is kept, in seconds.
const KEEP_SECONDS: i64 = 3600;

/// The mappings of the process: at most 1024.
pub(crate) static DOMAINS: LazyLock<Kept<DomainKey, Target>> =
    LazyLock::new(|| Kept::new("custom domains", 4, 256));

/// A cluster or workgroup that a custom domain name maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub api: Api,
    pub name: String,
}

/// A domain name under one identity, region and endpoint (the snapshot's
/// scope digests of both APIs).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct DomainKey {
    clusters: Digest,
    workgroups: Digest,
    domain: Box<str>,
}

impl Keepable for Target {}

/// The cluster or workgroup `domain` maps to for `snapshot`'s identity,
/// asking the services (with `service`'s clients) when no mapping is kept;
/// concurrent lookups share one only when their `settings` digests match.
/// `RS_IDC_ENOTFOUND` when neither service knows the name.
pub(crate) fn resolve(
    snapshot: &Snapshot,
    service: &Arc<aws::Service>,
    domain: &str,
    settings: &Digest,
    deadline: &Deadline,
) -> Result<Target, Error> {
    let (clusters, workgroups) = snapshot.scopes();
    let key = DomainKey {
        clusters: clusters.clone(),
        workgroups: workgroups.clone(),
        domain: domain.into(),
    };
    DOMAINS.fly(
        &key,
        settings,
        deadline,
        |_| true,
        |_| {
            let caller = Arc::clone(snapshot.caller(service)?);
            let name = domain.to_owned();
            let found = runtime::run(deadline, aws::find_custom_domain(caller, name))?;
            let target = match found {
                Some((api, name)) => checked(domain, api, &name)?,
                None => {
                    return Err(Error::new(
                        Status::NotFound,
                        format!(
                            "host {domain}: no Redshift cluster or Redshift Serverless workgroup \
                         has this custom domain name in {}",
                            service.region()
                        ),
                    ))
                }
            };
            tracing::info!(
                "custom domain {domain} is the {} {}",
                target.api.name(),
                target.name
            );
            Ok((target, Due::until(unix_now() + KEEP_SECONDS)))
        },
    )
}

/// The target as the service named it, checked like any identifier.
fn checked(domain: &str, api: Api, name: &str) -> Result<Target, Error> {
    let name = match api {
        Api::Provisioned => ids::check_cluster_id(0, name.as_bytes()),
        Api::Serverless => ids::check_workgroup(0, name.as_bytes()),
    }
    .map_err(|e| {
        Error::new(
            Status::BadResponse,
            format!("host {domain}: the service mapped it to a malformed name ({e})"),
        )
    })?;
    Ok(Target { api, name })
}
