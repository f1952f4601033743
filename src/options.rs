//! Client settings from string key/value options, the way drivers carry
//! them in a connection string.
//!
//! Keys are case-insensitive; each may appear once. Anything not given
//! falls back to the environment, as for the process-wide client. Values of
//! secret options are never echoed in messages.

use crate::error::Error;
use crate::settings::{
    self, check_endpoint, parse_millis, parse_switch, Settings, StaticCredentials,
};
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
/// The largest `refresh_margin_s`: one hour.
const MAX_REFRESH_MARGIN_S: u64 = 3600;

/// Every option key, with the environment setting it stands for.
pub const KEYS: &[(&str, &str)] = &[
    ("region", "AWS_REGION"),
    ("profile", "AWS_PROFILE"),
    ("endpoint_url", "AWS_ENDPOINT_URL"),
    ("access_key_id", "AWS_ACCESS_KEY_ID"),
    ("secret_access_key", "AWS_SECRET_ACCESS_KEY"),
    ("session_token", "AWS_SESSION_TOKEN"),
    ("ca_file", "AWS_CA_BUNDLE"),
    ("proxy", "HTTPS_PROXY"),
    ("no_proxy", "NO_PROXY"),
    ("connect_timeout_ms", "RS_IDC_CONNECT_TIMEOUT_MS"),
    ("timeout_ms", "RS_IDC_TIMEOUT_MS"),
    ("max_attempts", "AWS_MAX_ATTEMPTS"),
    ("cache", "RS_IDC_CACHE"),
    ("refresh_margin_s", "(none)"),
    ("allow_http", "RS_IDC_ALLOW_HTTP"),
];

/// Options whose values are secret: wiped after use, never shown.
const SECRET_KEYS: &[&str] = &["secret_access_key", "session_token"];

/// One option as it came in: raw key bytes and raw value bytes (`None` for
/// a missing value).
pub type RawOption<'a> = (&'a [u8], Option<&'a [u8]>);

/// Settings from the environment, overridden by `options`.
pub fn settings_from_options(options: &[RawOption<'_>]) -> Result<Settings, Error> {
    if options.len() > RS_IDC_MAX_OPTIONS {
        return Err(Error::invalid(format!(
            "n must be at most {RS_IDC_MAX_OPTIONS} options, got {}",
            options.len()
        )));
    }
    let mut settings = Settings::from_env()?;
    let mut seen: Vec<&'static str> = Vec::new();
    let mut access_key_id = None;
    let mut secret_access_key: Option<Zeroizing<String>> = None;
    let mut session_token: Option<Zeroizing<String>> = None;
    for (i, (raw_key, raw_value)) in options.iter().enumerate() {
        let key = known_key(i, raw_key)?;
        if seen.contains(&key) {
            return Err(Error::invalid(format!(
                "options[{i}]: {key} is given twice"
            )));
        }
        seen.push(key);
        let value = value_text(key, *raw_value)?;
        match key {
            "region" => settings.region = Some(region(&value)?),
            "profile" => settings.profile = Some(non_empty(key, &value)?.to_owned()),
            "endpoint_url" => settings.endpoint_url = Some(url_text(key, &value)?),
            "access_key_id" => access_key_id = Some(non_empty(key, &value)?.to_owned()),
            "secret_access_key" => {
                non_empty(key, &value)?;
                secret_access_key = Some(value);
            }
            "session_token" => {
                non_empty(key, &value)?;
                session_token = Some(value);
            }
            "ca_file" => {
                let path = non_empty(key, &value)?;
                settings.ca_bundle = Some(settings::read_ca_file(key, path.as_ref())?);
            }
            "proxy" => settings.proxy = Some(url_text(key, &value)?),
            "no_proxy" => settings.no_proxy = Some(value.to_string()),
            "connect_timeout_ms" => settings.connect_timeout = parse_millis(key, &value)?,
            "timeout_ms" => settings.timeout = parse_millis(key, &value)?,
            "max_attempts" => {
                settings.max_attempts = Some(whole(key, &value, 1, MAX_ATTEMPTS.into())? as u32)
            }
            "cache" => settings.cache = parse_switch(key, &value)?,
            "refresh_margin_s" => {
                let secs = whole(key, &value, 0, MAX_REFRESH_MARGIN_S)?;
                settings.refresh_margin = Some(Duration::from_secs(secs));
            }
            "allow_http" => settings.allow_http = parse_switch(key, &value)?,
            _ => unreachable!("every known key has an arm"),
        }
    }
    settings.credentials = match (access_key_id, secret_access_key, session_token) {
        (None, None, None) => None,
        (Some(id), Some(secret), Some(session)) => Some(StaticCredentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: Some(session),
        }),
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
                 (identity-enhanced credentials always have all three): missing {}",
                missing.join(", ")
            )));
        }
    };
    if let Some(endpoint) = &settings.endpoint_url {
        check_endpoint("endpoint_url", endpoint, settings.allow_http)?;
    }
    Ok(settings)
}

fn known_key(position: usize, raw: &[u8]) -> Result<&'static str, Error> {
    if raw.len() > RS_IDC_MAX_OPTION_KEY_LEN {
        return Err(Error::invalid(format!(
            "options[{position}]: the key is longer than {RS_IDC_MAX_OPTION_KEY_LEN} bytes"
        )));
    }
    let key = String::from_utf8_lossy(raw).to_ascii_lowercase();
    KEYS.iter()
        .map(|(known, _)| *known)
        .find(|known| *known == key)
        .ok_or_else(|| {
            // A key is not secret; escaping shows stray spaces and bytes.
            let shown = key.escape_default();
            Error::invalid(format!("options[{position}]: unknown option key '{shown}'"))
        })
}

fn value_text(key: &str, raw: Option<&[u8]>) -> Result<Zeroizing<String>, Error> {
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
    if SECRET_KEYS.contains(&key) {
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

fn region(value: &str) -> Result<String, Error> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(
            "region: must be a region name such as us-east-1",
        ))
    }
}

fn url_text(key: &str, value: &str) -> Result<String, Error> {
    let url = url::Url::parse(non_empty(key, value)?)
        .map_err(|e| Error::invalid(format!("{key}: not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::invalid(format!(
            "{key}: must be an http:// or https:// URL with a host"
        )));
    }
    Ok(value.to_owned())
}

fn whole(key: &str, value: &str, min: u64, max: u64) -> Result<u64, Error> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Error::invalid(format!(
            "{key}: must be a whole number from {min} to {max}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn parse(options: &[(&str, &str)]) -> Result<Settings, Error> {
        let raw: Vec<RawOption<'_>> = options
            .iter()
            .map(|(k, v)| (k.as_bytes(), Some(v.as_bytes())))
            .collect();
        settings_from_options(&raw)
    }

    fn rejects(options: &[(&str, &str)], start: &str) {
        let err = parse(options).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(
            err.message().starts_with(start),
            "{options:?}: {}",
            err.message()
        );
    }

    #[test]
    fn every_key_takes_a_good_value() {
        let s = parse(&[
            ("Region", "eu-west-1"),
            ("PROFILE", "analytics"),
            ("endpoint_url", "https://redshift.eu-west-1.amazonaws.com"),
            ("access_key_id", "ASIAEXAMPLE"),
            ("secret_access_key", "secret-value"),
            ("session_token", "session-value"),
            ("proxy", "http://127.0.0.1:3128"),
            ("no_proxy", "localhost,.internal"),
            ("connect_timeout_ms", "500"),
            ("timeout_ms", "7000"),
            ("max_attempts", "4"),
            ("cache", "off"),
            ("refresh_margin_s", "120"),
            ("allow_http", "1"),
        ])
        .unwrap();
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.profile.as_deref(), Some("analytics"));
        assert_eq!(s.credentials.as_ref().unwrap().access_key_id, "ASIAEXAMPLE");
        assert_eq!(s.proxy.as_deref(), Some("http://127.0.0.1:3128"));
        assert_eq!(s.no_proxy.as_deref(), Some("localhost,.internal"));
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        assert_eq!(s.timeout, Duration::from_millis(7000));
        assert_eq!(s.max_attempts, Some(4));
        assert!(!s.cache);
        assert_eq!(s.refresh_margin, Some(Duration::from_secs(120)));
        assert!(s.allow_http);
        assert_eq!(KEYS.len(), 15);
    }

    #[test]
    fn every_key_names_itself_when_its_value_is_bad() {
        rejects(&[("region", "US EAST")], "region:");
        rejects(&[("profile", " ")], "profile:");
        rejects(&[("endpoint_url", "nonsense")], "endpoint_url:");
        rejects(
            &[("endpoint_url", "http://10.0.0.1")],
            "endpoint_url: plain http://",
        );
        rejects(&[("ca_file", "/nonexistent/ca.pem")], "ca_file:");
        rejects(&[("proxy", "socks5://127.0.0.1:1080")], "proxy:");
        rejects(&[("connect_timeout_ms", "fast")], "connect_timeout_ms");
        rejects(&[("timeout_ms", "0")], "timeout_ms");
        rejects(&[("max_attempts", "0")], "max_attempts:");
        rejects(&[("max_attempts", "11")], "max_attempts:");
        rejects(&[("cache", "sometimes")], "cache");
        rejects(&[("refresh_margin_s", "-1")], "refresh_margin_s:");
        rejects(&[("allow_http", "perhaps")], "allow_http");
        rejects(
            &[("colour", "blue")],
            "options[0]: unknown option key 'colour'",
        );
        rejects(
            &[(" region", "x")],
            "options[0]: unknown option key ' region'",
        );
        rejects(
            &[("region", "us-east-1"), ("REGION", "us-east-2")],
            "options[1]: region is given twice",
        );
        rejects(
            &[("region", "us-\u{1}east")],
            "region: the value has a control character",
        );
    }

    #[test]
    fn credentials_come_in_threes_and_secrets_are_never_echoed() {
        for partial in [
            vec![("access_key_id", "ASIA1")],
            vec![
                ("access_key_id", "ASIA1"),
                ("secret_access_key", "hidden-secret-1"),
            ],
            vec![
                ("secret_access_key", "hidden-secret-1"),
                ("session_token", "hidden-session-1"),
            ],
        ] {
            let err = parse(&partial).unwrap_err();
            assert!(err.message().contains("go together"), "{}", err.message());
            assert!(!err.message().contains("hidden-"));
        }
        let err = parse(&[
            ("access_key_id", "ASIA1"),
            ("secret_access_key", "hidden-secret-1"),
        ])
        .unwrap_err();
        assert!(
            err.message().ends_with("missing session_token"),
            "{}",
            err.message()
        );
        let long = "x".repeat(RS_IDC_MAX_OPTION_VALUE_LEN + 1);
        let err = parse(&[("session_token", &long)]).unwrap_err();
        assert!(err
            .message()
            .starts_with("session_token: the value is longer"));
    }

    #[test]
    fn null_values_long_keys_and_too_many_options_are_refused() {
        let err = settings_from_options(&[(b"region", None)]).unwrap_err();
        assert_eq!(err.message(), "region: the value is NULL");
        let long_key = [b'k'; RS_IDC_MAX_OPTION_KEY_LEN + 1];
        let err = settings_from_options(&[(&long_key, Some(b"v"))]).unwrap_err();
        assert!(err.message().contains("longer than 64"));
        let many = vec![(&b"cache"[..], Some(&b"on"[..])); RS_IDC_MAX_OPTIONS + 1];
        let err = settings_from_options(&many).unwrap_err();
        assert!(err.message().contains("at most 64"));
        assert!(settings_from_options(&[]).is_ok());
    }
}
