//! What the tool prints: the token as text or JSON (written with
//! `aws-smithy-json`), expiry times in ISO 8601 (formatted by
//! `aws-smithy-types`), and errors by their status name.

use aws_smithy_json::serialize::JsonObjectWriter;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::{DateTime, Number};
use rs_idc::{Error, Status, Token};
use std::io::Write;
use zeroize::Zeroizing;

/// The name of a status, e.g. `RS_IDC_ENOREGION`.
pub fn status_name(status: Status) -> String {
    rs_idc::status::status_name(status.code())
        .to_string_lossy()
        .into_owned()
}

/// The exit status for a failure: the absolute value of its status number.
pub fn exit_status(status: Status) -> i32 {
    status.code().saturating_abs()
}

/// Tells on stderr why no token came, as `rs-idc-token: NAME: message`.
pub fn print_error(err: &Error) {
    eprintln!(
        "rs-idc-token: {}: {}",
        status_name(err.status()),
        err.message()
    );
}

/// Writes `token` to `out`, alone on a line or, with `json`, as
/// `{"token":...,"expires_at":...,"expiration":...}` on one line.
pub fn write_token(out: &mut impl Write, token: &Token, json: bool) -> std::io::Result<()> {
    if json {
        let object = token_json(token);
        writeln!(out, "{}", object.as_str())?;
    } else {
        writeln!(out, "{}", token.secret())?;
    }
    out.flush()
}

/// The JSON object of `--json`: the token, its expiry in Unix seconds, and
/// the same in ISO 8601 (`null` for a time outside the years 0001-9999).
/// The text is wiped when dropped, as it holds the token.
pub fn token_json(token: &Token) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    let mut object = JsonObjectWriter::new(&mut text);
    object.key("token").string(token.secret());
    object
        .key("expires_at")
        .number(unix_seconds(token.expires_at()));
    match iso8601(token.expires_at()) {
        Some(expiration) => object.key("expiration").string(&expiration),
        None => object.key("expiration").null(),
    }
    object.finish();
    text
}

/// Unix seconds as a JSON number.
fn unix_seconds(secs: i64) -> Number {
    u64::try_from(secs).map_or(Number::NegInt(secs), Number::PosInt)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`; `None` outside the years
/// 0001-9999.
pub fn iso8601(secs: i64) -> Option<String> {
    DateTime::from_secs(secs).fmt(Format::DateTime).ok()
}

/// Unix seconds in ISO 8601, or as a number of Unix seconds when the time
/// has no ISO 8601 form.
pub fn readable_time(secs: i64) -> String {
    iso8601(secs).unwrap_or_else(|| format!("{secs} (Unix time)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_in_iso8601() {
        assert_eq!(iso8601(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            iso8601(1_795_000_000).as_deref(),
            Some("2026-11-18T11:06:40Z")
        );
        assert_eq!(iso8601(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
        assert_eq!(iso8601(i64::MAX), None);
        assert_eq!(readable_time(i64::MAX), format!("{} (Unix time)", i64::MAX));
    }

    #[test]
    fn numbers_keep_their_sign() {
        assert!(matches!(unix_seconds(5), Number::PosInt(5)));
        assert!(matches!(unix_seconds(-5), Number::NegInt(-5)));
    }

    #[test]
    fn status_names_and_exit_statuses() {
        assert_eq!(status_name(Status::NoRegion), "RS_IDC_ENOREGION");
        assert_eq!(exit_status(Status::InvalidArgument), 1);
        assert_eq!(exit_status(Status::Internal), 13);
    }
}
