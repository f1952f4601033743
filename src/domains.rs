//! Custom domain names: which cluster or workgroup a DNS name that is not
//! an AWS Redshift name stands for, as the services say, kept for an hour
//! per region, endpoint and identity. Concurrent lookups of one name make
//! one; failures are not kept.

use crate::aws;
use crate::error::Error;
use crate::flight::SingleFlight;
use crate::fork;
use crate::ids;
use crate::keyed::Digest;
use crate::runtime;
use crate::snapshot::{monotonic_ms, Snapshot};
use crate::status::Status;
use crate::token::Api;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

/// How long a mapping is kept, in milliseconds.
const KEEP_MS: u64 = 3_600_000;
/// The most mappings kept; beyond it the oldest go.
const MAX_DOMAINS: usize = 1024;

/// A cluster or workgroup that a custom domain name maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub api: Api,
    pub name: String,
}

/// A domain name under one identity, region and endpoint (the snapshot's
/// scope digests of both APIs).
#[derive(Clone, PartialEq, Eq, Hash)]
struct DomainKey {
    clusters: Digest,
    workgroups: Digest,
    domain: Box<str>,
}

struct Kept {
    target: Target,
    until_ms: u64,
}

struct Domains {
    kept: Mutex<HashMap<DomainKey, Kept>>,
    lookups: SingleFlight<DomainKey, Target>,
}

static DOMAINS: LazyLock<Domains> = LazyLock::new(|| Domains {
    kept: Mutex::new(HashMap::new()),
    lookups: SingleFlight::new(),
});

/// The cluster or workgroup `domain` maps to for `snapshot`'s identity,
/// asking the services (with `service`'s clients) when no mapping is kept.
/// `RS_IDC_ENOTFOUND` when neither service knows the name.
pub(crate) fn resolve(
    snapshot: &Snapshot,
    service: &Arc<aws::Service>,
    domain: &str,
    deadline: Instant,
) -> Result<Target, Error> {
    let (clusters, workgroups) = snapshot.scopes();
    let key = DomainKey {
        clusters: clusters.clone(),
        workgroups: workgroups.clone(),
        domain: domain.into(),
    };
    if let Some(target) = kept(&key) {
        return Ok(target);
    }
    DOMAINS.lookups.run(&key, deadline, || {
        if let Some(target) = kept(&key) {
            return Ok(target);
        }
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
        keep(key.clone(), target.clone());
        Ok(target)
    })
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

fn kept(key: &DomainKey) -> Option<Target> {
    let kept = fork::lock(&DOMAINS.kept);
    kept.get(key)
        .filter(|kept| monotonic_ms() < kept.until_ms)
        .map(|kept| kept.target.clone())
}

fn keep(key: DomainKey, target: Target) {
    let now = monotonic_ms();
    let mut kept = fork::lock(&DOMAINS.kept);
    if kept.len() >= MAX_DOMAINS {
        kept.retain(|_, kept| now < kept.until_ms);
    }
    while kept.len() >= MAX_DOMAINS {
        let oldest = kept
            .iter()
            .min_by_key(|(_, kept)| kept.until_ms)
            .map(|(key, _)| key.clone());
        match oldest {
            Some(oldest) => kept.remove(&oldest),
            None => break,
        };
    }
    kept.insert(
        key,
        Kept {
            target,
            until_ms: now + KEEP_MS,
        },
    );
}
