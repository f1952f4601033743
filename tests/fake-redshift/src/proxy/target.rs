//! Where a proxy request asks to go, and which targets are allowed.

use crate::NAMED_HOST;

/// Where a request asks to go.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `CONNECT host:port`.
    Tunnel { host: String, port: u16 },
    /// `METHOD http://host[:port]/path`: the origin-form path (with query).
    Forward {
        host: String,
        port: u16,
        authority: String,
        path: String,
    },
}

impl Target {
    pub(crate) fn host(&self) -> &str {
        match self {
            Target::Tunnel { host, .. } | Target::Forward { host, .. } => host,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        match self {
            Target::Tunnel { port, .. } | Target::Forward { port, .. } => *port,
        }
    }
}

/// Splits `host[:port]` (IPv6 literals in brackets); `None` if malformed.
fn split_authority(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let host = format!("[{inside}]");
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0)?,
        None => default_port?,
    };
    Some((host, port))
}

/// Where `req` asks to go, or the status and message to refuse it with.
pub(crate) fn parse_target(
    method: &str,
    path: &str,
    query: &str,
) -> Result<Target, (u16, &'static str)> {
    if method == "CONNECT" {
        if !query.is_empty() {
            return Err((400, "malformed CONNECT target"));
        }
        let (host, port) =
            split_authority(path, None).ok_or((400, "CONNECT needs a host:port target"))?;
        return Ok(Target::Tunnel { host, port });
    }
    let scheme_end = path
        .find("://")
        .ok_or((400, "not a proxy request: use an absolute URL or CONNECT"))?;
    if !path[..scheme_end].eq_ignore_ascii_case("http") {
        return Err((
            400,
            "only http:// URLs are forwarded; use CONNECT for https",
        ));
    }
    let rest = &path[scheme_end + 3..];
    let (authority, origin_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) =
        split_authority(authority, Some(80)).ok_or((400, "malformed URL authority"))?;
    let mut origin = origin_path.to_string();
    if !query.is_empty() {
        origin.push('?');
        origin.push_str(query);
    }
    Ok(Target::Forward {
        host,
        port,
        authority: authority.to_string(),
        path: origin,
    })
}

/// Whether the proxy may take a request for `host`: only `127.0.0.1`,
/// `localhost` and [`NAMED_HOST`] (names in any case). The proxy connects
/// to 127.0.0.1 for all three and never resolves a name.
pub(crate) fn allowed_host(host: &str) -> bool {
    host == "127.0.0.1"
        || host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case(NAMED_HOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_parsed() {
        assert_eq!(
            parse_target("CONNECT", "127.0.0.1:8443", ""),
            Ok(Target::Tunnel {
                host: "127.0.0.1".into(),
                port: 8443
            })
        );
        assert_eq!(
            parse_target("POST", "http://localhost:9000/a/b", "x=1"),
            Ok(Target::Forward {
                host: "localhost".into(),
                port: 9000,
                authority: "localhost:9000".into(),
                path: "/a/b?x=1".into()
            })
        );
        assert_eq!(
            parse_target("GET", "HTTP://127.0.0.1", ""),
            Ok(Target::Forward {
                host: "127.0.0.1".into(),
                port: 80,
                authority: "127.0.0.1".into(),
                path: "/".into()
            })
        );
        assert_eq!(
            parse_target("CONNECT", "Fake.RS-IDC.test:8443", ""),
            Ok(Target::Tunnel {
                host: "Fake.RS-IDC.test".into(),
                port: 8443
            })
        );
        assert_eq!(
            parse_target("GET", "http://fake.rs-idc.test/_fake/stats", ""),
            Ok(Target::Forward {
                host: "fake.rs-idc.test".into(),
                port: 80,
                authority: "fake.rs-idc.test".into(),
                path: "/_fake/stats".into()
            })
        );
        assert_eq!(
            parse_target("CONNECT", "[::1]:443", "").map(|t| t.host().to_string()),
            Ok("[::1]".to_string())
        );
        for (method, path) in [
            ("CONNECT", "127.0.0.1"),
            ("CONNECT", "127.0.0.1:0"),
            ("CONNECT", "127.0.0.1:99999"),
            ("CONNECT", "user@127.0.0.1:80"),
            ("POST", "/"),
            ("POST", "https://127.0.0.1:1/"),
            ("POST", "http:///x"),
        ] {
            assert!(
                matches!(parse_target(method, path, ""), Err((400, _))),
                "{method} {path} was accepted"
            );
        }
    }

    #[test]
    fn only_loopback_names_are_allowed() {
        assert!(allowed_host("127.0.0.1"));
        assert!(allowed_host("LocalHost"));
        assert!(allowed_host("fake.rs-idc.test"));
        assert!(allowed_host("FAKE.RS-IDC.Test"));
        for host in [
            "127.0.0.2",
            "[::1]",
            "example.com",
            "localhost.example.com",
            "10.0.0.1",
            "0.0.0.0",
            "fake.rs-idc.test.",
            "x.fake.rs-idc.test",
            "fake.rs-idc.test.example.com",
            "rs-idc.test",
        ] {
            assert!(!allowed_host(host), "{host} was allowed");
        }
    }
}
