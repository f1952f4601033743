//! Host names as the official Redshift drivers read them:
//! `cluster.xxxxxxxx.region.redshift.amazonaws.com` and
//! `workgroup.account.region.redshift-serverless.amazonaws.com`, also under
//! `amazonaws.com.cn`; any other DNS name is a custom domain, which the
//! services map to a cluster or workgroup (see `crate::domains`).

use crate::error::Error;
use crate::ids;
use crate::token::Api;
use crate::values::is_region;

/// The longest host name read, in bytes (DNS allows 253).
pub const RS_IDC_MAX_HOST_LEN: usize = 253;

/// What a host name names: a cluster or a workgroup, and its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    /// The API of the target: a provisioned cluster or a Serverless workgroup.
    pub api: Api,
    /// The cluster identifier (lower-cased) or the workgroup name.
    pub name: String,
    /// The region from the host name.
    pub region: String,
}

/// What a host name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A Redshift or Redshift Serverless host name, read locally.
    Aws(HostTarget),
    /// Any other DNS name, lower-cased and without a trailing dot: a custom
    /// domain name that the services may map to a cluster or workgroup.
    Custom(String),
}

/// Reads a host name: a Redshift one (see [`parse_host`]) or a custom
/// domain name. IP addresses and text with a scheme, port or path are
/// `InvalidArgument`.
pub fn classify_host(host: &[u8]) -> Result<Host, Error> {
    let text = String::from_utf8_lossy(host).to_ascii_lowercase();
    let text = text.strip_suffix('.').unwrap_or(&text);
    let aws = text.ends_with(".amazonaws.com") || text.ends_with(".amazonaws.com.cn");
    if aws || host.is_empty() || host.len() > RS_IDC_MAX_HOST_LEN {
        return parse_host(host).map(Host::Aws);
    }
    let labels: Vec<&str> = text.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        // Not a DNS name: the Redshift rules give the reason.
        return parse_host(host).map(Host::Aws);
    }
    if text.parse::<std::net::Ipv4Addr>().is_ok()
        || labels
            .iter()
            .all(|label| label.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Error::invalid(
            "host is an IP address: pass the cluster identifier or workgroup name instead",
        ));
    }
    Ok(Host::Custom(text.to_owned()))
}

/// Reads a Redshift or Redshift Serverless host name.
///
/// Anything else (a custom domain, an IP address, a port, a scheme or a
/// path) is `InvalidArgument`, with a message telling the caller to pass the
/// identifier instead.
pub fn parse_host(host: &[u8]) -> Result<HostTarget, Error> {
    let refuse = |why: &str| {
        Err(Error::invalid(format!(
            "host {why}: expected CLUSTER.ID.REGION.redshift.amazonaws.com or \
             WORKGROUP.ACCOUNT.REGION.redshift-serverless.amazonaws.com (also .com.cn); \
             for any other host pass the cluster identifier or workgroup name instead"
        )))
    };
    if host.is_empty() {
        return refuse("is empty");
    }
    if host.len() > RS_IDC_MAX_HOST_LEN {
        return refuse(&format!("is longer than {RS_IDC_MAX_HOST_LEN} bytes"));
    }
    if !host
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
    {
        return refuse("has a character that is not part of a host name (a scheme, port or path?)");
    }
    let host = String::from_utf8_lossy(host).to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let suffix_len = match labels.as_slice() {
        [.., "amazonaws", "com"] => 2,
        [.., "amazonaws", "com", "cn"] => 3,
        _ => return refuse("is not under amazonaws.com or amazonaws.com.cn"),
    };
    let [name, _account, region, service] = labels[..labels.len() - suffix_len] else {
        return refuse("does not have the NAME.ID.REGION.SERVICE form");
    };
    if !is_region(region) {
        return refuse(&format!(
            "has no region where one belongs (found '{region}')"
        ));
    }
    let region = region.to_owned();
    let (api, name) = match service {
        "redshift" => (
            Api::Provisioned,
            ids::check_cluster_id(0, name.as_bytes())
                .map_err(|e| Error::invalid(format!("host names a bad cluster: {e}")))?,
        ),
        "redshift-serverless" => (
            Api::Serverless,
            ids::check_workgroup(0, name.as_bytes())
                .map_err(|e| Error::invalid(format!("host names a bad workgroup: {e}")))?,
        ),
        _ => return refuse(&format!("is not a Redshift host (service '{service}')")),
    };
    Ok(HostTarget { api, name, region })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(id: &str, region: &str) -> HostTarget {
        HostTarget {
            api: Api::Provisioned,
            name: id.into(),
            region: region.into(),
        }
    }

    #[test]
    fn other_dns_names_are_custom_domains_and_addresses_are_not() {
        assert_eq!(
            classify_host(b"Analytics.Example.COM.").unwrap(),
            Host::Custom("analytics.example.com".into())
        );
        assert_eq!(
            classify_host(b"c1.abc.us-east-1.redshift.amazonaws.com").unwrap(),
            Host::Aws(cluster("c1", "us-east-1"))
        );
        for bad in [
            &b"10.0.0.1"[..],
            b"db.example.com:5439",
            b"https://db.example.com",
            b"db.example.com/dev",
            b"localhost",
            b"-bad.example.com",
            b"a..b.com",
            b"",
            b"1.2.3",
        ] {
            let err = classify_host(bad).unwrap_err();
            assert_eq!(
                err.status(),
                crate::status::Status::InvalidArgument,
                "{bad:?}"
            );
        }
        // A malformed Redshift name keeps its own reason.
        let err = classify_host(b"c1.us-east-1.redshift.amazonaws.com").unwrap_err();
        assert!(err.message().contains("NAME.ID.REGION.SERVICE"), "{err}");
    }

    #[test]
    fn reads_provisioned_and_serverless_hosts() {
        assert_eq!(
            parse_host(b"Examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com").unwrap(),
            cluster("examplecluster", "us-west-2")
        );
        assert_eq!(
            parse_host(b"my-cluster.c1a2b3.cn-north-1.redshift.amazonaws.com.cn").unwrap(),
            cluster("my-cluster", "cn-north-1")
        );
        assert_eq!(
            parse_host(b"wg-one.123456789012.eu-central-1.redshift-serverless.amazonaws.com")
                .unwrap(),
            HostTarget {
                api: Api::Serverless,
                name: "wg-one".into(),
                region: "eu-central-1".into()
            }
        );
        assert_eq!(
            parse_host(b"c.x.us-gov-west-1.redshift.amazonaws.com").unwrap(),
            cluster("c", "us-gov-west-1")
        );
    }

    #[test]
    fn refuses_everything_else_and_says_what_to_do() {
        for bad in [
            &b""[..],
            b"redshift.example.com",
            b"10.0.0.1",
            b"my-cluster.abc.us-east-1.redshift.amazonaws.com:5439",
            b"https://my-cluster.abc.us-east-1.redshift.amazonaws.com",
            b"my-cluster.abc.us-east-1.redshift.amazonaws.com/dev",
            b"my-cluster.us-east-1.redshift.amazonaws.com",
            b"a.b.my-cluster.abc.us-east-1.redshift.amazonaws.com",
            b"my-cluster.abc.useast1.redshift.amazonaws.com",
            b"my-cluster.abc.us-east-1.s3.amazonaws.com",
            b"my-cluster.abc.aa-bb-9.redshift.amazonaws.com",
            b"my-cluster.abc.zz-east-1.redshift.amazonaws.com",
            b"1cluster.abc.us-east-1.redshift.amazonaws.com",
            b"w.abc.us-east-1.redshift-serverless.amazonaws.com",
        ] {
            let err = parse_host(bad).unwrap_err();
            assert!(
                err.message().contains("pass the cluster identifier")
                    || err.message().contains("bad cluster")
                    || err.message().contains("bad workgroup"),
                "{}: {}",
                String::from_utf8_lossy(bad),
                err.message()
            );
        }
        assert!(parse_host(&[b'a'; 300]).is_err());
    }
}
