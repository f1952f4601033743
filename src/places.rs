//! Rules for network places that come from outside: URLs, endpoints
//! (plain http only to loopback unless allowed), and which hosts are this
//! machine or link-local (never proxied). `name` is always the setting
//! named in the error; a URL is never echoed, since it may carry a
//! password.

use crate::error::Error;
use std::net::{IpAddr, Ipv4Addr};

/// Parses an `http://` or `https://` URL with a host. The URL is not
/// echoed: a proxy URL may carry a password.
pub fn parse_url(name: &str, value: &str) -> Result<url::Url, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(format!("{name}: the value is empty")));
    }
    let url =
        url::Url::parse(value).map_err(|e| Error::invalid(format!("{name}: not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!(
            "{name}: must be an http:// or https:// URL with a host"
        )));
    }
    Ok(url)
}

/// Refuses a plain `http://` endpoint whose host is not loopback, unless
/// `allow_http`.
pub fn check_endpoint(name: &str, endpoint: &str, allow_http: bool) -> Result<(), Error> {
    let url = parse_url(name, endpoint)?;
    let host = url.host_str().unwrap_or_default();
    if url.scheme() == "http" && !allow_http && !is_loopback_host(host) {
        return Err(Error::invalid(format!(
            "{name}: plain http:// to a host that is not loopback is refused \
             (use https://, or allow it with allow_http / RS_IDC_ALLOW_HTTP=1)"
        )));
    }
    Ok(())
}

/// Whether a URL host is this machine or a link-local address: loopback
/// (`localhost`, 127.0.0.0/8, ::1) and the addresses of the instance and
/// container credential endpoints (169.254.0.0/16, fe80::/10, and the
/// instance endpoint's fd00:ec2::/64). Such destinations never go through
/// a proxy, and plain `http://` to them is allowed.
pub fn is_local_host(host: &str) -> bool {
    host_reach(host) != Reach::Remote
}

/// Whether a URL host is loopback only (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback_host(host: &str) -> bool {
    host_reach(host) == Reach::Loopback
}

/// Where a URL host is, as far as its name or address tells.
#[derive(PartialEq, Eq)]
enum Reach {
    Loopback,
    LinkLocal,
    Remote,
}

/// The one rule for both questions above: a bracketed or bare IP address
/// by its range, a name only when it is `localhost`.
fn host_reach(host: &str) -> Reach {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => v4_reach(ip),
        Ok(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
            Some(v4) => v4_reach(v4),
            None if ip.is_loopback() => Reach::Loopback,
            None => {
                let segments = ip.segments();
                let link_local = segments[0] & 0xffc0 == 0xfe80;
                // fd00:ec2::/64, the IPv6 address of the EC2 instance
                // metadata service.
                let instance_endpoint = segments[..4] == [0xfd00, 0x0ec2, 0, 0];
                if link_local || instance_endpoint {
                    Reach::LinkLocal
                } else {
                    Reach::Remote
                }
            }
        },
        Err(_) if bare.trim_end_matches('.').eq_ignore_ascii_case("localhost") => Reach::Loopback,
        Err(_) => Reach::Remote,
    }
}

fn v4_reach(ip: Ipv4Addr) -> Reach {
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_link_local() {
        Reach::LinkLocal
    } else {
        Reach::Remote
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_a_web_scheme_and_a_host_and_are_never_echoed() {
        assert!(parse_url("u", "https://example.com:8443/x").is_ok());
        assert!(parse_url("u", "http://user:pw@127.0.0.1:3128").is_ok());
        for bad in [
            "",
            "nonsense",
            "socks5://127.0.0.1:1080",
            "file:///etc/passwd",
        ] {
            let err = parse_url("u", bad).unwrap_err();
            assert!(err.message().starts_with("u: "), "{bad}: {err}");
        }
        let err = parse_url("proxy", "ftp://user:hidden-pw@host").unwrap_err();
        assert!(!err.message().contains("hidden-pw"), "{err}");
    }

    #[test]
    fn plain_http_is_for_loopback_unless_allowed() {
        for ok in [
            "https://redshift.eu-west-1.amazonaws.com",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            check_endpoint("endpoint_url", ok, false).unwrap();
        }
        let err = check_endpoint("endpoint_url", "http://10.1.2.3", false).unwrap_err();
        assert!(err.message().starts_with("endpoint_url: plain http://"));
        // Link-local is not loopback: the credential endpoints are not endpoints.
        assert!(check_endpoint("endpoint_url", "http://169.254.169.254", false).is_err());
        check_endpoint("endpoint_url", "http://10.1.2.3", true).unwrap();
        assert!(check_endpoint("endpoint_url", "ftp://127.0.0.1", true).is_err());
        assert!(check_endpoint("endpoint_url", "not a url", true).is_err());
    }

    #[test]
    fn loopback_and_link_local_hosts_are_local() {
        for host in [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "127.9.8.7",
            "[::1]",
            "::1",
            "169.254.169.254",
            "169.254.170.2",
            "[fd00:ec2::254]",
            "[fe80::1]",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "192.168.1.1",
            "redshift.us-east-1.amazonaws.com",
            "fake.rs-idc.test",
            "[fd00:ec3::1]",
            "[2001:db8::1]",
            "notlocalhost",
            "localhost.example.com",
            "api.localhost",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
    }

    #[test]
    fn loopback_is_narrower_than_local() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("localhost"));
        assert!(!is_loopback_host("169.254.169.254"));
        assert!(!is_loopback_host("10.1.2.3"));
    }
}
