//! Where a proxy request asks to go, and which targets are allowed.

use crate::NAMED_HOST;

pub(crate) struct Target {
    pub host: String,
    pub port: u16,
    /// For `METHOD http://host[:port]/path`, the authority as written and
    /// the origin-form path (with query); `None` for `CONNECT host:port`.
    pub forward: Option<(String, String)>,
}

/// Splits `host[:port]`; `None` if malformed. An IPv6 literal
/// (`[::1]:443`) keeps its brackets in the host, which is then refused.
fn split_authority(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|&p| p != 0)?),
        None => (authority, default_port?),
    };
    (!host.is_empty() && !host.contains('@')).then(|| (host.to_string(), port))
}

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
        let forward = None;
        return Ok(Target {
            host,
            port,
            forward,
        });
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
    let forward = Some((authority.to_string(), origin));
    Ok(Target {
        host,
        port,
        forward,
    })
}

/// Whether the proxy takes a request for `host`: only `127.0.0.1`,
/// `localhost` and [`NAMED_HOST`] (names in any case).
pub(crate) fn allowed_host(host: &str) -> bool {
    host == "127.0.0.1"
        || host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case(NAMED_HOST)
}
