//! What a client is built from: the library's own settings plus optional
//! overrides of the AWS environment.
//!
//! Anything left `None` is resolved by the AWS SDK's usual chain
//! (environment, profile, config and credentials files, SSO, web identity,
//! container and instance credentials).

use crate::certificates::check_ca_pem;
use crate::error::Error;
use crate::files::read_regular_file;
use crate::places::parse_url;
use crate::values::{parse_millis, parse_switch};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// The whole-call time bound when nothing else is set (retries included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// The connect time bound when nothing else is set.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Environment variable for the whole-call time bound, in milliseconds.
pub const ENV_TIMEOUT_MS: &str = "RS_IDC_TIMEOUT_MS";
/// Environment variable for the connect time bound, in milliseconds.
pub const ENV_CONNECT_TIMEOUT_MS: &str = "RS_IDC_CONNECT_TIMEOUT_MS";
/// Environment variable that turns the token cache off (`0`) or on (`1`).
pub const ENV_CACHE: &str = "RS_IDC_CACHE";
/// Environment variable that turns refreshing ahead off (`0`) or on (`1`).
pub const ENV_REFRESH_AHEAD: &str = "RS_IDC_REFRESH_AHEAD";
/// Environment variable that allows plain `http://` endpoints that are not
/// on loopback (`1`).
pub const ENV_ALLOW_HTTP: &str = "RS_IDC_ALLOW_HTTP";
/// Environment variable: the folder sign-ins for people are kept in.
pub const ENV_TOKEN_CACHE_DIR: &str = "RS_IDC_TOKEN_CACHE_DIR";
/// Environment variable naming a PEM file of extra trusted CA certificates.
pub const ENV_CA_BUNDLE: &str = "AWS_CA_BUNDLE";
/// Environment variables of the proxy for `https://` calls, in order.
pub const ENV_HTTPS_PROXY: &[&str] = &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
/// Environment variables of the proxy for plain `http://` calls, in order.
pub const ENV_HTTP_PROXY: &[&str] = &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
/// Environment variables of the hosts that bypass the proxies.
pub const ENV_NO_PROXY: &[&str] = &["NO_PROXY", "no_proxy"];
/// The largest CA file read: the system bundles are a few hundred KiB.
pub(crate) const MAX_CA_FILE_BYTES: u64 = 4 << 20;

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

/// How a client turns a user's web token into that user's token (trusted
/// identity propagation; see [`crate::Client::get_user_token`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSettings {
    /// The IAM Identity Center application with the trusted token issuer:
    /// the client id of SSO-OIDC CreateTokenWithIAM.
    pub idc_application_arn: String,
    /// The role assumed with the user's identity context.
    pub access_role_arn: String,
    /// A role assumed with the web token itself (AssumeRoleWithWebIdentity)
    /// to sign the exchange; `None`: the client's own credentials sign it.
    pub application_role_arn: Option<String>,
    /// A file holding the web token of a single-user program, read again
    /// at each exchange; the calls without a web token use it.
    pub web_token_file: Option<PathBuf>,
    /// The role session name of both role calls; `None`: each its own
    /// default ([`DEFAULT_WEB_IDENTITY_SESSION_NAME`],
    /// [`DEFAULT_IDENTITY_CONTEXT_SESSION_NAME`]).
    pub role_session_name: Option<String>,
}

impl UserSettings {
    /// The role session name of AssumeRoleWithWebIdentity.
    pub fn web_identity_session_name(&self) -> &str {
        self.role_session_name
            .as_deref()
            .unwrap_or(DEFAULT_WEB_IDENTITY_SESSION_NAME)
    }

    /// The role session name of AssumeRole with the identity context.
    pub fn identity_context_session_name(&self) -> &str {
        self.role_session_name
            .as_deref()
            .unwrap_or(DEFAULT_IDENTITY_CONTEXT_SESSION_NAME)
    }
}

/// How a client signs a person in through a browser (IAM Identity Center
/// authorization code with PKCE; see [`crate::Client::get_browser_token`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserSettings {
    /// The Identity Center issuer (start) URL; needed for the sign-in.
    pub issuer_url: Option<String>,
    /// The Identity Center region; `None`: the client's region.
    pub idc_region: Option<String>,
    /// The loopback port the browser is sent back to.
    pub listen_port: u16,
    /// How long the whole sign-in may take.
    pub response_timeout: Duration,
    /// The name the client registers under.
    pub display_name: String,
    /// A folder (the user's own, 0700) where sign-ins are kept for the
    /// next process too; `None`: kept in memory only. The browser and the
    /// device-code sign-in both use it.
    pub token_cache_dir: Option<PathBuf>,
}

impl Default for BrowserSettings {
    fn default() -> Self {
        BrowserSettings {
            issuer_url: None,
            idc_region: None,
            listen_port: 7890,
            response_timeout: Duration::from_secs(120),
            display_name: "rs-idc".into(),
            token_cache_dir: None,
        }
    }
}

/// The role session name of AssumeRoleWithWebIdentity (the application
/// role) when none is set.
pub const DEFAULT_WEB_IDENTITY_SESSION_NAME: &str = "rs-idc-web-identity";
/// The role session name of AssumeRole with the user's identity context
/// when none is set.
pub const DEFAULT_IDENTITY_CONTEXT_SESSION_NAME: &str = "rs-idc-identity-context";

/// Settings of one client.
#[derive(Clone)]
pub struct Settings {
    /// AWS region; `None` lets the SDK resolve it.
    pub region: Option<String>,
    /// AWS profile name; `None` lets the SDK resolve it.
    pub profile: Option<String>,
    /// Endpoint URL; `None` lets the SDK resolve it (`AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_REDSHIFT`, a profile's `endpoint_url`, or the
    /// public endpoint of the region).
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
    /// Whether a cached token is refreshed in the background shortly
    /// before its margin (the smaller of 60 s and half the margin), so
    /// that callers keep getting cached tokens.
    pub refresh_ahead: bool,
    /// Extra trusted CA certificates (PEM), added to the system's roots;
    /// every block a certificate (see [`read_ca_file`]).
    pub ca_bundle: Option<Vec<u8>>,
    /// Proxy URL for `https://` calls, possibly with `user:password@`;
    /// `None` for none. From the environment: `HTTPS_PROXY`, then
    /// `ALL_PROXY` (either case).
    pub proxy: Option<String>,
    /// Proxy URL for plain `http://` calls; `None` for none. From the
    /// environment: `HTTP_PROXY`, then `ALL_PROXY` (either case).
    pub http_proxy: Option<String>,
    /// Hosts that bypass the proxies (comma-separated, as `NO_PROXY`).
    /// Loopback and link-local destinations always bypass them.
    pub no_proxy: Option<String>,
    /// Whether a plain `http://` endpoint off loopback is allowed.
    pub allow_http: bool,
    /// Per-user tokens; `None` when the client has no Identity Center
    /// application.
    pub user: Option<UserSettings>,
    /// The browser sign-in.
    pub browser: BrowserSettings,
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
            refresh_ahead: true,
            ca_bundle: None,
            proxy: None,
            http_proxy: None,
            no_proxy: None,
            allow_http: false,
            user: None,
            browser: BrowserSettings::default(),
        }
    }
}

/// Shows a proxy URL without its user name and password.
fn shown_proxy(url: &Option<String>) -> Option<String> {
    url.as_ref().map(|url| match url::Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(None);
                format!("{parsed} (with credentials)")
            } else {
                parsed.to_string()
            }
        }
        Err(_) => "<not a URL>".into(),
    })
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("credentials", &self.credentials)
            .field("max_attempts", &self.max_attempts)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("cache", &self.cache)
            .field("refresh_margin", &self.refresh_margin)
            .field("refresh_ahead", &self.refresh_ahead)
            .field(
                "ca_bundle",
                &self
                    .ca_bundle
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .field("proxy", &shown_proxy(&self.proxy))
            .field("http_proxy", &shown_proxy(&self.http_proxy))
            .field("no_proxy", &self.no_proxy)
            .field("allow_http", &self.allow_http)
            .field("user", &self.user)
            .field("browser", &self.browser)
            .finish()
    }
}

impl Settings {
    /// The library's settings from the environment (`RS_IDC_TIMEOUT_MS`,
    /// `RS_IDC_CONNECT_TIMEOUT_MS`, `RS_IDC_CACHE`, `RS_IDC_REFRESH_AHEAD`,
    /// `RS_IDC_ALLOW_HTTP`,
    /// `AWS_CA_BUNDLE`, the proxy variables); everything else is left to
    /// the SDK.
    pub fn from_env() -> Result<Settings, Error> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// As [`Settings::from_env`], reading variables through `lookup`; a
    /// variable `lookup` hides (an option given instead) is never checked.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Settings, Error> {
        let mut settings = Settings::default();
        let text = |name: &str| lookup(name).map(|raw| raw.to_string_lossy().into_owned());
        if let Some(value) = text(ENV_TIMEOUT_MS) {
            settings.timeout = parse_millis(ENV_TIMEOUT_MS, &value)?;
        }
        if let Some(value) = text(ENV_CONNECT_TIMEOUT_MS) {
            settings.connect_timeout = parse_millis(ENV_CONNECT_TIMEOUT_MS, &value)?;
        }
        if let Some(value) = text(ENV_CACHE) {
            settings.cache = parse_switch(ENV_CACHE, &value)?;
        }
        if let Some(value) = text(ENV_REFRESH_AHEAD) {
            settings.refresh_ahead = parse_switch(ENV_REFRESH_AHEAD, &value)?;
        }
        if let Some(value) = text(ENV_ALLOW_HTTP) {
            settings.allow_http = parse_switch(ENV_ALLOW_HTTP, &value)?;
        }
        if let Some(path) = lookup(ENV_TOKEN_CACHE_DIR).filter(|p| !p.is_empty()) {
            settings.browser.token_cache_dir = Some(PathBuf::from(path));
        }
        if let Some(path) = lookup(ENV_CA_BUNDLE).filter(|p| !p.is_empty()) {
            settings.ca_bundle = Some(read_ca_file(ENV_CA_BUNDLE, path.as_ref())?);
        }
        let first = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                text(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (*name, v))
            })
        };
        if let Some((name, url)) = first(ENV_HTTPS_PROXY) {
            parse_url(name, &url)?;
            settings.proxy = Some(url.trim().to_owned());
        }
        if let Some((name, url)) = first(ENV_HTTP_PROXY) {
            parse_url(name, &url)?;
            settings.http_proxy = Some(url.trim().to_owned());
        }
        settings.no_proxy = first(ENV_NO_PROXY).map(|(_, rules)| rules);
        Ok(settings)
    }
}

/// Reads a PEM file of CA certificates; `name` is the setting named in
/// the error.
///
/// The path must be a regular file (a FIFO or a device would block or
/// never end) of at most [`MAX_CA_FILE_BYTES`], and every PEM block in it
/// must be a certificate that parses as X.509, as the TLS stack will
/// parse it; at least one must be there.
pub fn read_ca_file(name: &str, path: &Path) -> Result<Vec<u8>, Error> {
    let pem = read_regular_file(name, path, MAX_CA_FILE_BYTES)?;
    check_ca_pem(&pem)
        .map_err(|why| Error::invalid(format!("{name}: {} {why}", path.display())))?;
    // CA certificates are public: the caller keeps them as plain bytes.
    Ok(pem.to_vec())
}

#[cfg(test)]
mod tests;
