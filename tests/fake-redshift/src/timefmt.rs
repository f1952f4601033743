//! Timestamps (ISO-8601, HTTP `Date`, SigV4 `x-amz-date`), formatted by the
//! AWS SDK's `aws_smithy_types::DateTime`.

use aws_smithy_types::date_time::{DateTime, Format};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
pub fn now_epoch_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats epoch seconds as RFC 3339 in UTC, `YYYY-MM-DDTHH:MM:SSZ`
/// (empty outside the years 1 to 9999).
pub fn rfc3339(epoch_secs: i64) -> String {
    format(epoch_secs, Format::DateTime)
}

fn format(epoch_secs: i64, format: Format) -> String {
    let time = DateTime::from_secs(epoch_secs);
    time.fmt(format).unwrap_or_default()
}

/// Formats epoch seconds as `YYYY-MM-DDTHH:MM:SS.000Z`, as the Redshift
/// APIs write expiry times.
pub fn iso8601(epoch_secs: i64) -> String {
    rfc3339(epoch_secs).replace('Z', ".000Z")
}

/// Formats epoch seconds as an HTTP date: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(epoch_secs: i64) -> String {
    format(epoch_secs, Format::HttpDate)
}

/// Formats epoch seconds as a SigV4 `x-amz-date` value: `YYYYMMDDTHHMMSSZ`.
pub fn amz_date(epoch_secs: i64) -> String {
    rfc3339(epoch_secs).replace(['-', ':'], "")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` back to epoch seconds (fractions
/// dropped; no offsets). Used by tests to check what the fake wrote.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    DateTime::from_str(text, Format::DateTime)
        .ok()
        .map(|t| t.secs())
}
