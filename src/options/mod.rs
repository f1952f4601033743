//! Client settings from string key/value options, the way drivers carry
//! them in a connection string.
//!
//! Keys are case-insensitive; each may appear once. Anything not given
//! falls back to the environment, as for the process-wide client. Values of
//! secret options are never echoed in messages.

use crate::arns::{parse_application_arn, parse_role_arn, parse_role_session_name};
use crate::error::Error;
use crate::files::check_regular_file;
use crate::places::{check_endpoint, parse_url};
use crate::settings::{self, Settings, StaticCredentials, UserSettings};
use crate::values::{parse_millis, parse_region, parse_switch, parse_whole};
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// The most options one handle may be made from.
pub const RS_IDC_MAX_OPTIONS: usize = 64;
/// The longest option key, in bytes.
pub const RS_IDC_MAX_OPTION_KEY_LEN: usize = 64;
/// The longest option value, in bytes (session tokens can be long).
pub const RS_IDC_MAX_OPTION_VALUE_LEN: usize = 16 * 1024;
/// The largest `max_attempts`.
const MAX_ATTEMPTS: u32 = 10;
/// The largest `idp_response_timeout_s`: one hour.
const MAX_RESPONSE_TIMEOUT_S: u64 = 3600;
/// The longest `idc_client_display_name`, in characters.
const MAX_DISPLAY_NAME: usize = 128;
/// The largest `refresh_margin_s`: one hour.
const MAX_REFRESH_MARGIN_S: u64 = 3600;

/// One option key: its name, the environment variables it stands for
/// (an option given hides them, so a bad value there is never read), and
/// whether its value is secret.
#[derive(Debug, Clone, Copy)]
pub struct OptionKey {
    /// The key, lower case.
    pub key: &'static str,
    /// The environment variables it overrides, in the order they are read.
    pub env: &'static [&'static str],
    /// Whether the value is secret: wiped after use, never shown.
    pub secret: bool,
}

const fn key(key: &'static str, env: &'static [&'static str]) -> OptionKey {
    OptionKey {
        key,
        env,
        secret: false,
    }
}

/// Every option key: the one list that the parser, the header's and the
/// README's tables and the tests follow.
pub const KEYS: &[OptionKey] = &[
    key("region", &["AWS_REGION", "AWS_DEFAULT_REGION"]),
    key("profile", &["AWS_PROFILE"]),
    key("endpoint_url", &["AWS_ENDPOINT_URL"]),
    key("access_key_id", &["AWS_ACCESS_KEY_ID"]),
    OptionKey {
        secret: true,
        ..key("secret_access_key", &["AWS_SECRET_ACCESS_KEY"])
    },
    OptionKey {
        secret: true,
        ..key("session_token", &["AWS_SESSION_TOKEN"])
    },
    key("ca_file", &[settings::ENV_CA_BUNDLE]),
    key("proxy", settings::ENV_HTTPS_PROXY),
    key("http_proxy", settings::ENV_HTTP_PROXY),
    key("no_proxy", settings::ENV_NO_PROXY),
    key("connect_timeout_ms", &[settings::ENV_CONNECT_TIMEOUT_MS]),
    key("timeout_ms", &[settings::ENV_TIMEOUT_MS]),
    key("max_attempts", &["AWS_MAX_ATTEMPTS"]),
    key("cache", &[settings::ENV_CACHE]),
    key("refresh_margin_s", &[]),
    key("refresh_ahead", &[settings::ENV_REFRESH_AHEAD]),
    key("allow_http", &[settings::ENV_ALLOW_HTTP]),
    key("idc_application_arn", &[]),
    key("access_role_arn", &[]),
    key("application_role_arn", &[]),
    key("web_token_file", &[]),
    key("role_session_name", &[]),
    key("issuer_url", &[]),
    key("idc_region", &[]),
    key("listen_port", &[]),
    key("idp_response_timeout_s", &[]),
    key("idc_client_display_name", &[]),
    key("token_cache_dir", &[settings::ENV_TOKEN_CACHE_DIR]),
];

/// One option as it came in: raw key bytes and raw value bytes (`None` for
/// a missing value).
pub type RawOption<'a> = (&'a [u8], Option<&'a [u8]>);

/// Settings from the environment, overridden by `options`.
pub fn settings_from_options(options: &[RawOption<'_>]) -> Result<Settings, Error> {
    settings_with_environment(options, |name| std::env::var_os(name))
}

/// As [`settings_from_options`], from key and value texts: the form a Rust
/// caller holds them in.
pub fn settings_from_pairs<K: AsRef<str>, V: AsRef<str>>(
    pairs: &[(K, V)],
) -> Result<Settings, Error> {
    settings_from_options(&raw_pairs(pairs))
}

/// Text pairs as raw options.
fn raw_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<RawOption<'_>> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_ref().as_bytes(), Some(v.as_ref().as_bytes())))
        .collect()
}

/// As [`settings_from_options`], reading the environment through `env`.
fn settings_with_environment(
    options: &[RawOption<'_>],
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Settings, Error> {
    if options.len() > RS_IDC_MAX_OPTIONS {
        return Err(Error::invalid(format!(
            "n must be at most {RS_IDC_MAX_OPTIONS} options, got {}",
            options.len()
        )));
    }
    let mut given: Vec<&'static OptionKey> = Vec::new();
    let mut values = Vec::with_capacity(options.len());
    for (i, (raw_key, raw_value)) in options.iter().enumerate() {
        let key = known_key(i, raw_key)?;
        if given.iter().any(|seen| seen.key == key.key) {
            return Err(Error::invalid(format!(
                "options[{i}]: {} is given twice",
                key.key
            )));
        }
        given.push(key);
        values.push((key, value_text(key, *raw_value)?));
    }
    // The environment fills in what the options leave out; a variable
    // that an option stands for is not even read.
    let hidden = |name: &str| given.iter().any(|key| key.env.contains(&name));
    let mut settings = Settings::from_lookup(|name| (!hidden(name)).then(|| env(name)).flatten())?;
    let mut access_key_id = None;
    let mut secret_access_key: Option<Zeroizing<String>> = None;
    let mut session_token: Option<Zeroizing<String>> = None;
    let mut user = UserOptions::default();
    for (key, value) in values {
        let name = key.key;
        match name {
            "region" => settings.region = Some(parse_region(name, &value)?),
            "profile" => settings.profile = Some(non_empty(name, &value)?.to_owned()),
            "endpoint_url" => {
                parse_url(name, &value)?;
                settings.endpoint_url = Some(value.to_string());
            }
            "access_key_id" => access_key_id = Some(non_empty(name, &value)?.to_owned()),
            "secret_access_key" => {
                non_empty(name, &value)?;
                secret_access_key = Some(value);
            }
            "session_token" => {
                non_empty(name, &value)?;
                session_token = Some(value);
            }
            "ca_file" => {
                let path = non_empty(name, &value)?;
                settings.ca_bundle = Some(settings::read_ca_file(name, path.as_ref())?);
            }
            "proxy" => {
                parse_url(name, &value)?;
                settings.proxy = Some(value.to_string());
            }
            "http_proxy" => {
                parse_url(name, &value)?;
                settings.http_proxy = Some(value.to_string());
            }
            "no_proxy" => settings.no_proxy = Some(value.to_string()),
            "connect_timeout_ms" => settings.connect_timeout = parse_millis(name, &value)?,
            "timeout_ms" => settings.timeout = parse_millis(name, &value)?,
            "max_attempts" => {
                settings.max_attempts =
                    Some(parse_whole(name, &value, 1, MAX_ATTEMPTS.into())? as u32)
            }
            "cache" => settings.cache = parse_switch(name, &value)?,
            "refresh_margin_s" => {
                let secs = parse_whole(name, &value, 0, MAX_REFRESH_MARGIN_S)?;
                settings.refresh_margin = Some(Duration::from_secs(secs));
            }
            "refresh_ahead" => settings.refresh_ahead = parse_switch(name, &value)?,
            "allow_http" => settings.allow_http = parse_switch(name, &value)?,
            "idc_application_arn" => {
                user.application = Some(parse_application_arn(name, &value)?);
            }
            "access_role_arn" => user.access_role = Some(parse_role_arn(name, &value)?),
            "application_role_arn" => {
                user.application_role = Some(parse_role_arn(name, &value)?);
            }
            "web_token_file" => user.web_token_file = Some(web_token_file(name, &value)?),
            "role_session_name" => {
                user.session_name = Some(parse_role_session_name(name, &value)?);
            }
            "issuer_url" => {
                parse_url(name, &value)?;
                settings.browser.issuer_url = Some(value.to_string());
            }
            "idc_region" => settings.browser.idc_region = Some(parse_region(name, &value)?),
            "listen_port" => {
                settings.browser.listen_port = parse_whole(name, &value, 1, 65535)? as u16;
            }
            "idp_response_timeout_s" => {
                let secs = parse_whole(name, &value, 1, MAX_RESPONSE_TIMEOUT_S)?;
                settings.browser.response_timeout = Duration::from_secs(secs);
            }
            "idc_client_display_name" => {
                settings.browser.display_name = display_name(name, &value)?;
            }
            "token_cache_dir" => {
                let path = non_empty(name, &value)?;
                settings.browser.token_cache_dir = Some(PathBuf::from(path));
            }
            other => return Err(Error::internal(format!("option {other} has no reader"))),
        }
    }
    settings.user = user.settings()?;
    // Identity-enhanced credentials always have a session token; the
    // application credentials that sign per-user exchanges need not.
    let session_optional = settings.user.is_some();
    settings.credentials = match (access_key_id, secret_access_key, session_token) {
        (None, None, None) => None,
        (Some(id), Some(secret), session) if session.is_some() || session_optional => {
            Some(StaticCredentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: session,
            })
        }
        (id, secret, session) => {
            let missing: Vec<&str> = [
                ("access_key_id", id.is_none()),
                ("secret_access_key", secret.is_none()),
                ("session_token", session.is_none()),
            ]
            .iter()
            .filter(|(_, absent)| *absent)
            .map(|(key, _)| *key)
            .collect();
            return Err(Error::invalid(format!(
                "access_key_id, secret_access_key and session_token go together \
                 (identity-enhanced credentials always have all three; with \
                 idc_application_arn the session token is optional): missing {}",
                missing.join(", ")
            )));
        }
    };
    if let Some(endpoint) = &settings.endpoint_url {
        check_endpoint("endpoint_url", endpoint, settings.allow_http)?;
    }
    Ok(settings)
}

/// The per-user options as given, before they are checked together.
#[derive(Default)]
struct UserOptions {
    application: Option<String>,
    access_role: Option<String>,
    application_role: Option<String>,
    web_token_file: Option<PathBuf>,
    session_name: Option<String>,
}

impl UserOptions {
    /// The per-user settings: none when no per-user option is given; the
    /// application and the access role are needed by the others.
    fn settings(self) -> Result<Option<UserSettings>, Error> {
        let needs_both = |key: &str| {
            Error::invalid(format!(
                "{key}: per-user tokens need both idc_application_arn and access_role_arn"
            ))
        };
        match (self.application, self.access_role) {
            (Some(idc_application_arn), Some(access_role_arn)) => Ok(Some(UserSettings {
                idc_application_arn,
                access_role_arn,
                application_role_arn: self.application_role,
                web_token_file: self.web_token_file,
                role_session_name: self.session_name,
            })),
            (Some(_), None) => Err(needs_both("idc_application_arn")),
            (None, Some(_)) => Err(needs_both("access_role_arn")),
            (None, None) => {
                let orphan = [
                    ("application_role_arn", self.application_role.is_some()),
                    ("web_token_file", self.web_token_file.is_some()),
                    ("role_session_name", self.session_name.is_some()),
                ]
                .into_iter()
                .find(|(_, given)| *given);
                match orphan {
                    Some((key, _)) => Err(needs_both(key)),
                    None => Ok(None),
                }
            }
        }
    }
}

/// A client display name: not empty, at most [`MAX_DISPLAY_NAME`]
/// characters.
fn display_name(name: &str, value: &str) -> Result<String, Error> {
    let value = non_empty(name, value)?;
    if value.chars().count() > MAX_DISPLAY_NAME {
        return Err(Error::invalid(format!(
            "{name}: at most {MAX_DISPLAY_NAME} characters"
        )));
    }
    Ok(value.to_owned())
}

/// A web token file: a path to a regular file now (it is read at each
/// exchange, so a missing file is reported here, not at the first call).
fn web_token_file(name: &str, value: &str) -> Result<PathBuf, Error> {
    let path = PathBuf::from(non_empty(name, value)?);
    check_regular_file(name, &path)?;
    Ok(path)
}

fn known_key(position: usize, raw: &[u8]) -> Result<&'static OptionKey, Error> {
    if raw.len() > RS_IDC_MAX_OPTION_KEY_LEN {
        return Err(Error::invalid(format!(
            "options[{position}]: the key is longer than {RS_IDC_MAX_OPTION_KEY_LEN} bytes"
        )));
    }
    let key = String::from_utf8_lossy(raw).to_ascii_lowercase();
    KEYS.iter().find(|known| known.key == key).ok_or_else(|| {
        // A key is not secret; escaping shows stray spaces and bytes.
        let shown = key.escape_default();
        Error::invalid(format!("options[{position}]: unknown option key '{shown}'"))
    })
}

fn value_text(option: &OptionKey, raw: Option<&[u8]>) -> Result<Zeroizing<String>, Error> {
    let key = option.key;
    let raw = raw.ok_or_else(|| Error::invalid(format!("{key}: the value is NULL")))?;
    if raw.len() > RS_IDC_MAX_OPTION_VALUE_LEN {
        return Err(Error::invalid(format!(
            "{key}: the value is longer than {RS_IDC_MAX_OPTION_VALUE_LEN} bytes"
        )));
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| Error::invalid(format!("{key}: the value is not UTF-8")))?;
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{key}: the value has a control character"
        )));
    }
    let value = Zeroizing::new(text.to_owned());
    if option.secret {
        return Ok(value);
    }
    Ok(Zeroizing::new(value.trim().to_owned()))
}

fn non_empty<'a>(key: &str, value: &'a str) -> Result<&'a str, Error> {
    if value.trim().is_empty() {
        Err(Error::invalid(format!("{key}: the value is empty")))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests;
