//! Rules for the values that come from outside: region names, network
//! destinations, URLs, switches and numbers. The environment, the options
//! and the host-name parser all use these, so each rule lives here once.
//! `name` is always the setting named in the error (an option key or an
//! environment variable); a value is never echoed, since it may be secret.

use crate::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest time bound a setting may ask for: one hour.
pub(crate) const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// Parses a time bound in whole milliseconds, 1 to [`MAX_TIMEOUT_MS`].
pub fn parse_millis(name: &str, value: &str) -> Result<Duration, Error> {
    match value.trim().parse::<u64>() {
        Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(Error::invalid(format!(
            "{name}: must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"
        ))),
    }
}

/// Parses an on/off setting: `1`, `on`, `true`, `yes` or `0`, `off`,
/// `false`, `no` (any case).
pub fn parse_switch(name: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(Error::invalid(format!(
            "{name}: must be 0 or 1 (also off/on, false/true, no/yes)"
        ))),
    }
}

/// Parses a whole number from `min` to `max`.
pub fn parse_whole(name: &str, value: &str, min: u64, max: u64) -> Result<u64, Error> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Error::invalid(format!(
            "{name}: must be a whole number from {min} to {max}"
        ))),
    }
}

/// Parses a region name (see [`is_region`]).
pub fn parse_region(name: &str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    if is_region(value) {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(format!(
            "{name}: must be an AWS region name such as us-east-1"
        )))
    }
}

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

/// The first words of the regions of each AWS partition (`aws`, `aws-cn`,
/// `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f`,
/// `aws-eusc`), as the partitions' region patterns list them.
const REGION_PREFIXES: &[&str] = &[
    "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "us-gov", "us-iso", "us-isob",
    "us-isof", "eu-isoe", "eusc-de",
];

/// The longest region name accepted.
const MAX_REGION_LEN: usize = 32;

/// Whether `name` has the shape of a region of a known AWS partition:
/// a partition's prefix, one word of letters, and a number of one or two
/// digits (`us-east-1`, `ap-southeast-7`, `us-gov-west-1`, `cn-north-1`,
/// `eusc-de-east-1`).
///
/// Host names and options may name any region of that shape; a made-up
/// region outside it (`aa-bb-9`) is refused before anything is built.
pub fn is_region(name: &str) -> bool {
    if name.len() > MAX_REGION_LEN {
        return false;
    }
    let Some((rest, number)) = name.rsplit_once('-') else {
        return false;
    };
    let Some((prefix, word)) = rest.rsplit_once('-') else {
        return false;
    };
    REGION_PREFIXES.contains(&prefix)
        && !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_lowercase())
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
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

/// Checks that `path` (the setting `name`) is a regular file, without
/// opening it: a FIFO or a device is refused without blocking.
pub(crate) fn check_regular_file(name: &str, path: &Path) -> Result<std::fs::Metadata, Error> {
    let meta = std::fs::metadata(path)
        .map_err(|e| file_error(name, path, format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(file_error(name, path, "is not a regular file".into()));
    }
    Ok(meta)
}

/// Reads the regular file at `path` (the setting `name`) of at most `max`
/// bytes, wiped when dropped. It is checked before it is opened, opened
/// without blocking and checked again (the path may have been replaced
/// by a FIFO since), and read with the bound.
pub(crate) fn read_regular_file(
    name: &str,
    path: &Path,
    max: u64,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let too_large = || {
        let bound = if max.is_multiple_of(1 << 20) {
            format!("{} MiB", max >> 20)
        } else {
            format!("{max} bytes")
        };
        file_error(name, path, format!("is larger than {bound}"))
    };
    let cannot_read = |e: std::io::Error| file_error(name, path, format!("cannot be read: {e}"));
    if check_regular_file(name, path)?.len() > max {
        return Err(too_large());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot_read)?;
    let meta = file.metadata().map_err(cannot_read)?;
    if !meta.is_file() {
        return Err(file_error(name, path, "is not a regular file".into()));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len().min(max) as usize));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

fn file_error(name: &str, path: &Path, why: String) -> Error {
    Error::invalid(format!("{name}: {} {why}", path.display()))
}

/// Unpadded base64url (RFC 4648 section 5), as JWTs and PKCE use it;
/// wiped when dropped.
pub(crate) fn base64url_encode(bytes: &[u8]) -> Zeroizing<String> {
    let standard = Zeroizing::new(aws_smithy_types::base64::encode(bytes));
    Zeroizing::new(
        standard
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                other => other,
            })
            .collect(),
    )
}

/// Decodes unpadded base64url; `None` when `text` is not that. Wiped when
/// dropped.
pub(crate) fn base64url_decode(text: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut standard = Zeroizing::new(String::with_capacity(text.len() + 3));
    for &b in text {
        standard.push(match b {
            b'-' => '+',
            b'_' => '/',
            b if b.is_ascii_alphanumeric() => char::from(b),
            _ => return None,
        });
    }
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    aws_smithy_types::base64::decode(standard.as_str())
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_follows_rfc_4648_and_round_trips() {
        // RFC 4648 section 10, unpadded, and the two characters that
        // differ from standard base64.
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff][..], "-_8"),
        ] {
            assert_eq!(*base64url_encode(bytes), text);
            assert_eq!(*base64url_decode(text.as_bytes()).unwrap(), bytes);
        }
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(
                *base64url_decode(base64url_encode(&bytes).as_bytes()).unwrap(),
                bytes
            );
        }
        for bad in [&b"abcde"[..], b"ab+/", b"ab=c", b"a b"] {
            assert!(base64url_decode(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn time_bounds_are_whole_milliseconds_in_range() {
        assert_eq!(
            parse_millis("t", " 250 ").unwrap(),
            Duration::from_millis(250)
        );
        for bad in ["0", "-1", "abc", "", "3600001", "1.5"] {
            let err = parse_millis("t", bad).unwrap_err();
            assert!(err.message().starts_with("t: "), "{bad}: {err}");
        }
    }

    #[test]
    fn switches_read_common_spellings() {
        for on in ["1", "On", "true", " yes "] {
            assert!(parse_switch("s", on).unwrap(), "{on}");
        }
        for off in ["0", "off", "FALSE", "no"] {
            assert!(!parse_switch("s", off).unwrap(), "{off}");
        }
        assert!(parse_switch("s", "maybe").is_err());
    }

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
    fn region_values_follow_the_one_region_rule() {
        assert_eq!(parse_region("region", " eu-west-1 ").unwrap(), "eu-west-1");
        let err = parse_region("region", "US EAST").unwrap_err();
        assert!(err.message().starts_with("region: "), "{err}");
        assert!(parse_region("region", "aa-bb-9").is_err());
    }

    #[test]
    fn regions_of_every_partition_are_accepted() {
        for region in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-7",
            "mx-central-1",
            "il-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "cn-northwest-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "us-isof-south-1",
            "eusc-de-east-1",
            "ap-east-12",
        ] {
            assert!(is_region(region), "{region}");
        }
    }

    #[test]
    fn made_up_and_malformed_regions_are_refused() {
        for region in [
            "",
            "aa-bb-9",
            "zz-east-1",
            "us-east",
            "us-east-123",
            "US-EAST-1",
            "us-east-1a",
            "us--1",
            "us-ea5t-1",
            "useast1",
            "us-east-1-",
            "-us-east-1",
            "us east 1",
        ] {
            assert!(!is_region(region), "{region:?}");
        }
        assert!(!is_region(&format!("us-{}-1", "a".repeat(40))));
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
