//! Rules for the plain values that come from outside: time bounds,
//! switches, numbers and region names, and the base64url text of web
//! tokens. The environment, the options and the host-name parser all use
//! these, so each rule lives here once. (Network places are in
//! [`crate::places`], files in `files`.) `name` is always the setting
//! named in the error (an option key or an environment variable); a value
//! is never echoed, since it may be secret.

use crate::error::Error;
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
}
