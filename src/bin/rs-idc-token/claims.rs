//! What `--check` says about a web token file: its size, and the subject
//! and expiry that its JWT claims, read by the library's own checks
//! without verifying the signature (the services do that). The token
//! itself is never shown.

use crate::output::readable_time;
use std::path::Path;

/// The longest subject shown, in characters.
const MAX_SHOWN_SUBJECT: usize = 128;

/// One line about the web token in the file at `path`, at Unix time `now`:
/// `812 bytes, a JWT for subject "alice", expires ... (in 3599 s)`, or
/// what is wrong with it.
pub fn describe_file(path: &Path, now: i64) -> String {
    let claims = match rs_idc::web_token::web_token_file_claims("the file", path) {
        Ok(claims) => claims,
        Err(err) => return err.message().to_owned(),
    };
    let subject = match &claims.subject {
        Some(subject) => format!("a JWT for subject \"{}\"", shown_subject(subject)),
        None => "a JWT without a sub claim".into(),
    };
    let at = claims.expires_at;
    let expiry = if at > now {
        format!(
            "expires {} (in {} s)",
            readable_time(at),
            at.saturating_sub(now)
        )
    } else {
        format!(
            "EXPIRED {} ({} s ago): get a new one from the identity provider",
            readable_time(at),
            now.saturating_sub(at)
        )
    };
    format!("{} bytes, {subject}, {expiry}", claims.len)
}

/// A subject as shown: control characters escaped, cut after
/// [`MAX_SHOWN_SUBJECT`] characters.
fn shown_subject(subject: &str) -> String {
    let mut shown: String = subject
        .chars()
        .take(MAX_SHOWN_SUBJECT)
        .flat_map(char::escape_debug)
        .collect();
    if subject.chars().count() > MAX_SHOWN_SUBJECT {
        shown.push_str("...");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(bytes: &[u8]) -> String {
        aws_smithy_types::base64::encode(bytes)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    }

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64url(br#"{"alg":"HS256"}"#),
            b64url(payload.as_bytes())
        )
    }

    #[test]
    fn describes_a_file_without_its_token() {
        let dir = std::env::temp_dir().join(format!("rs-idc-token-wt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("user.jwt");
        let token = jwt(r#"{"sub":"bob","exp":1000}"#);
        std::fs::write(&path, format!("{token}\n")).unwrap();
        let fresh = describe_file(&path, 400);
        assert!(!fresh.contains(&token));
        assert!(fresh.contains("a JWT for subject \"bob\""), "{fresh}");
        assert!(fresh.contains("(in 600 s)"), "{fresh}");
        let late = describe_file(&path, 1060);
        assert!(
            late.contains("EXPIRED") && late.contains("(60 s ago)"),
            "{late}"
        );
        std::fs::write(&path, jwt(r#"{"exp":1"#)).unwrap();
        assert!(describe_file(&path, 0).contains("not a JSON object"));
        std::fs::write(&path, "not a token").unwrap();
        assert!(describe_file(&path, 0).contains("not a JSON web token"));
        std::fs::write(&path, "\n").unwrap();
        assert!(describe_file(&path, 0).contains("is empty"));
        assert!(describe_file(&dir, 0).contains("not a regular file"));
        assert!(describe_file(&dir.join("missing"), 0).contains("cannot be read"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn long_and_odd_subjects_are_cut_and_escaped() {
        assert_eq!(shown_subject("a\nb"), "a\\nb");
        let long = "x".repeat(MAX_SHOWN_SUBJECT + 5);
        assert_eq!(shown_subject(&long).len(), MAX_SHOWN_SUBJECT + 3);
    }
}
