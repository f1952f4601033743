//! What a client is built from: the library's own settings plus optional
//! overrides of the AWS environment.
//!
//! Anything left `None` is resolved by the AWS SDK's usual chain
//! (environment, profile, config and credentials files, SSO, web identity,
//! container and instance credentials).

use crate::error::Error;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// The whole-call time bound when nothing else is set (retries included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// The connect time bound when nothing else is set.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest time bound a setting may ask for: one hour.
pub(crate) const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// Environment variable for the whole-call time bound, in milliseconds.
pub const ENV_TIMEOUT_MS: &str = "RS_IDC_TIMEOUT_MS";
/// Environment variable for the connect time bound, in milliseconds.
pub const ENV_CONNECT_TIMEOUT_MS: &str = "RS_IDC_CONNECT_TIMEOUT_MS";
/// Environment variable that turns the token cache off (`0`) or on (`1`).
pub const ENV_CACHE: &str = "RS_IDC_CACHE";
/// Environment variable that allows plain `http://` endpoints that are not
/// on loopback (`1`).
pub const ENV_ALLOW_HTTP: &str = "RS_IDC_ALLOW_HTTP";
/// Environment variable naming a PEM file of extra trusted CA certificates.
pub const ENV_CA_BUNDLE: &str = "AWS_CA_BUNDLE";
/// The largest CA file read.
const MAX_CA_FILE_BYTES: u64 = 4 << 20;

/// Explicit AWS credentials, as drivers take them from a connection string.
///
/// The secret key and session token are wiped from memory when dropped and
/// never shown by `Debug`.
#[derive(Clone)]
pub struct StaticCredentials {
    /// The access key id (not secret; it names the identity).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Zeroizing<String>,
    /// The session token, which identity-enhanced credentials always have.
    pub session_token: Option<Zeroizing<String>>,
}

impl StaticCredentials {
    /// Credentials from their three parts; the session token is optional.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        StaticCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.map(Zeroizing::new),
        }
    }
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Settings of one client.
#[derive(Debug, Clone)]
pub struct Settings {
    /// AWS region; `None` lets the SDK resolve it.
    pub region: Option<String>,
    /// AWS profile name; `None` lets the SDK resolve it.
    pub profile: Option<String>,
    /// Endpoint URL; `None` lets the SDK resolve it (`AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_REDSHIFT`, or the public endpoint of the region).
    pub endpoint_url: Option<String>,
    /// Explicit credentials; `None` uses the SDK's credential chain.
    pub credentials: Option<StaticCredentials>,
    /// Most attempts per call; `None` lets the SDK resolve it
    /// (`AWS_MAX_ATTEMPTS`, default 3).
    pub max_attempts: Option<u32>,
    /// Bound on the whole call, retries included.
    pub timeout: Duration,
    /// Bound on establishing one connection.
    pub connect_timeout: Duration,
    /// Whether tokens are served from the process-wide cache.
    pub cache: bool,
    /// How long before its expiry a cached token is refreshed; `None` means
    /// the smaller of five minutes and half the token's lifetime.
    pub refresh_margin: Option<Duration>,
    /// Extra trusted CA certificates (PEM), added to the system's roots.
    pub ca_bundle: Option<Vec<u8>>,
    /// Proxy URL for all calls; `None` for none. From the environment:
    /// the first of `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (either case).
    pub proxy: Option<String>,
    /// Hosts that bypass `proxy` (comma-separated). From the environment:
    /// `NO_PROXY` (either case).
    pub no_proxy: Option<String>,
    /// Whether a plain `http://` endpoint off loopback is allowed.
    pub allow_http: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            region: None,
            profile: None,
            endpoint_url: None,
            credentials: None,
            max_attempts: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            cache: true,
            refresh_margin: None,
            ca_bundle: None,
            proxy: None,
            no_proxy: None,
            allow_http: false,
        }
    }
}

impl Settings {
    /// The library's settings from the environment (`RS_IDC_TIMEOUT_MS`,
    /// `RS_IDC_CONNECT_TIMEOUT_MS`, `RS_IDC_CACHE`, `RS_IDC_ALLOW_HTTP`,
    /// `AWS_CA_BUNDLE`, the proxy variables); everything else is left to
    /// the SDK.
    pub fn from_env() -> Result<Settings, Error> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Settings, Error> {
        let mut settings = Settings::default();
        let millis = |name: &str| -> Result<Option<Duration>, Error> {
            match lookup(name) {
                None => Ok(None),
                Some(raw) => parse_millis(name, raw.to_str().unwrap_or("")).map(Some),
            }
        };
        if let Some(timeout) = millis(ENV_TIMEOUT_MS)? {
            settings.timeout = timeout;
        }
        if let Some(timeout) = millis(ENV_CONNECT_TIMEOUT_MS)? {
            settings.connect_timeout = timeout;
        }
        if let Some(raw) = lookup(ENV_CACHE) {
            settings.cache = parse_switch(ENV_CACHE, raw.to_str().unwrap_or(""))?;
        }
        if let Some(raw) = lookup(ENV_ALLOW_HTTP) {
            settings.allow_http = parse_switch(ENV_ALLOW_HTTP, raw.to_str().unwrap_or(""))?;
        }
        if let Some(path) = lookup(ENV_CA_BUNDLE).filter(|p| !p.is_empty()) {
            settings.ca_bundle = Some(read_ca_file(ENV_CA_BUNDLE, path.as_ref())?);
        }
        let first = |names: &[&str]| {
            names
                .iter()
                .filter_map(|name| lookup(name))
                .filter_map(|value| value.into_string().ok())
                .find(|value| !value.trim().is_empty())
        };
        settings.proxy = first(&[
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]);
        settings.no_proxy = first(&["NO_PROXY", "no_proxy"]);
        Ok(settings)
    }
}

/// Parses a time bound in whole milliseconds, 1 to [`MAX_TIMEOUT_MS`];
/// `name` is the setting named in the error.
pub fn parse_millis(name: &str, value: &str) -> Result<Duration, Error> {
    match value.trim().parse::<u64>() {
        Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(Error::invalid(format!(
            "{name}: must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"
        ))),
    }
}

/// Parses an on/off setting: `1`, `on`, `true`, `yes` or `0`, `off`,
/// `false`, `no` (any case); `name` is the setting named in the error.
pub fn parse_switch(name: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(Error::invalid(format!(
            "{name}: must be 0 or 1 (also off/on, false/true, no/yes)"
        ))),
    }
}

/// Reads a PEM file of CA certificates; `name` is the setting named in
/// the error. At least one certificate must parse.
pub fn read_ca_file(name: &str, path: &std::path::Path) -> Result<Vec<u8>, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    use std::io::Read;
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_CA_FILE_BYTES).read_to_end(&mut pem))
        .map_err(|e| Error::invalid(format!("{name}: cannot read {}: {e}", path.display())))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::invalid(format!("{name}: {} is not valid PEM", path.display())))?;
    if certificates.is_empty() {
        return Err(Error::invalid(format!(
            "{name}: {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(pem)
}

/// Refuses a plain `http://` endpoint whose host is not loopback, unless
/// `allow_http`; `name` is the setting named in the error.
pub fn check_endpoint(name: &str, endpoint: &str, allow_http: bool) -> Result<(), Error> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| Error::invalid(format!("{name}: not a URL ({e})")))?;
    let host = url
        .host()
        .ok_or_else(|| Error::invalid(format!("{name}: the URL has no host")))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http || is_loopback(&host) => Ok(()),
        "http" => Err(Error::invalid(format!(
            "{name}: plain http:// to a host that is not loopback is refused \
             (use https://, or allow it with allow_http / {ENV_ALLOW_HTTP}=1)"
        ))),
        other => Err(Error::invalid(format!(
            "{name}: the scheme must be https or http, not {other}"
        ))),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Settings, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).map(Into::into))
    }

    #[test]
    fn defaults_bound_every_call() {
        let s = from(&[]).unwrap();
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert_eq!(s.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    }

    #[test]
    fn reads_time_bounds_from_the_environment() {
        let s = from(&[(ENV_TIMEOUT_MS, "1500"), (ENV_CONNECT_TIMEOUT_MS, " 250 ")]).unwrap();
        assert_eq!(s.timeout, Duration::from_millis(1500));
        assert_eq!(s.connect_timeout, Duration::from_millis(250));
    }

    #[test]
    fn bad_time_bounds_name_the_variable() {
        for bad in ["0", "-1", "abc", "", "3600001", "1.5"] {
            let err = from(&[(ENV_TIMEOUT_MS, bad)]).unwrap_err();
            assert!(err.message().starts_with(ENV_TIMEOUT_MS), "{bad}: {err}");
        }
        let err = from(&[(ENV_CONNECT_TIMEOUT_MS, "x")]).unwrap_err();
        assert!(err.message().starts_with(ENV_CONNECT_TIMEOUT_MS));
    }

    #[test]
    fn the_cache_switch_reads_common_spellings() {
        assert!(from(&[]).unwrap().cache);
        for off in ["0", "off", "FALSE", " no "] {
            assert!(!from(&[(ENV_CACHE, off)]).unwrap().cache, "{off}");
        }
        for on in ["1", "On", "true", "yes"] {
            assert!(from(&[(ENV_CACHE, on)]).unwrap().cache, "{on}");
        }
        let err = from(&[(ENV_CACHE, "maybe")]).unwrap_err();
        assert!(err.message().starts_with(ENV_CACHE));
    }

    #[test]
    fn proxies_come_from_the_usual_variables() {
        let s = from(&[
            ("https_proxy", "http://p1:3128"),
            ("HTTP_PROXY", "http://p2:3128"),
        ])
        .unwrap();
        assert_eq!(s.proxy.as_deref(), Some("http://p1:3128"));
        let s = from(&[("HTTP_PROXY", "http://p2:3128")]).unwrap();
        assert_eq!(s.proxy.as_deref(), Some("http://p2:3128"));
        let s = from(&[("https_proxy", "http://p1:3128"), ("no_proxy", "localhost")]).unwrap();
        assert_eq!(s.proxy.as_deref(), Some("http://p1:3128"));
        assert_eq!(s.no_proxy.as_deref(), Some("localhost"));
        let s = from(&[("HTTPS_PROXY", " ")]).unwrap();
        assert_eq!(s.proxy, None);
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
        check_endpoint("endpoint_url", "http://10.1.2.3", true).unwrap();
        assert!(check_endpoint("endpoint_url", "ftp://127.0.0.1", true).is_err());
        assert!(check_endpoint("endpoint_url", "not a url", true).is_err());
    }

    #[test]
    fn ca_files_must_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("rs-idc-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let err = read_ca_file("ca_file", &empty).unwrap_err();
        assert!(err.message().starts_with("ca_file: "), "{err}");
        let err = read_ca_file("ca_file", &dir.join("missing.pem")).unwrap_err();
        assert!(err.message().contains("cannot read"), "{err}");
        let err = from(&[(ENV_CA_BUNDLE, empty.to_str().unwrap())]).unwrap_err();
        assert!(err.message().starts_with(ENV_CA_BUNDLE), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = StaticCredentials::new(
            "AKIDVISIBLE",
            "very-secret-key",
            Some("very-secret-session".into()),
        );
        let shown = format!("{creds:?}");
        assert!(shown.contains("AKIDVISIBLE"));
        assert!(!shown.contains("very-secret"));
    }
}
