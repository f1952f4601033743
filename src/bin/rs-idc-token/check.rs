//! `--check`: prints where the region, credentials and endpoint come from,
//! makes one call when a target is given, and ends with a verdict and the
//! next step. It never prints the token or a secret; the access key id is
//! shown by its ends only.

use crate::args::Args;
use crate::fetch;
use crate::output::{exit_status, readable_time, status_name};
use crate::setup;
use rs_idc::{Client, Error, Status, Token};
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs the check and returns the exit status: 0 when the settings were
/// read and the call (if any) gave a token, else that of the failure.
pub fn check(args: &Args) -> i32 {
    let profile = setup::profile_name(args);
    let facts = setup::read_profile(&profile);
    println!("rs-idc-token {} check", env!("CARGO_PKG_VERSION"));
    println!(
        "region:       {}",
        setup::region_source(args, &profile, &facts)
    );
    println!(
        "credentials:  {}",
        setup::credential_source(&profile, &facts)
    );
    println!("endpoint:     {}", setup::endpoint_source(args));
    if let Some(why) = &facts.unreadable {
        println!("profiles:     cannot be read: {why}");
    }
    let client = match fetch::client(args) {
        Ok(client) => client,
        Err(err) => return report_outcome(Err(err)),
    };
    let Some(target) = &args.target else {
        println!("call:         skipped (give --cluster-id, --workgroup or --host to try one)");
        println!("verdict:      settings read; no call made");
        return 0;
    };
    let outcome = fetch::get_token(&client, target);
    println!("identity:     {}", identity(&client));
    report_outcome(outcome)
}

/// The identity the call was signed with: the access key id by its ends,
/// and whether it can be identity-enhanced.
fn identity(client: &Client) -> String {
    match (
        client.resolved_access_key_id(),
        client.resolved_has_session_token(),
    ) {
        (Some(key), Some(true)) => format!(
            "access key {} (with a session token; may be identity-enhanced)",
            mask(&key)
        ),
        (Some(key), Some(false)) => format!(
            "access key {} (no session token; not identity-enhanced: those always have a \
             session token)",
            mask(&key)
        ),
        _ => "not resolved".into(),
    }
}

/// Prints the `call:` line, and for a failure the next step, then the
/// verdict; returns the exit status.
fn report_outcome(outcome: Result<Token, Error>) -> i32 {
    match outcome {
        Ok(token) => {
            println!(
                "call:         OK: a token of {} bytes, expires {} (in {} s)",
                token.secret().len(),
                readable_time(token.expires_at()),
                token.expires_at().saturating_sub(unix_now())
            );
            println!("verdict:      OK");
            0
        }
        Err(err) => {
            let name = status_name(err.status());
            println!("call:         FAILED: {name}: {}", err.message());
            println!("next step:    {}", next_step(err.status()));
            println!("verdict:      FAILED ({name})");
            exit_status(err.status())
        }
    }
}

/// What to do about a failure of `status`.
fn next_step(status: Status) -> &'static str {
    match status {
        Status::InvalidArgument => "fix the argument or setting named in the message",
        Status::NoCredentials => {
            "set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN to \
             identity-enhanced credentials, or pick a profile that has them (--profile)"
        }
        Status::NoRegion => {
            "pass --region, set AWS_REGION, or pass --host with a Redshift host name"
        }
        Status::Unsupported => {
            "use identity-enhanced credentials (an IAM role session that carries your IAM \
             Identity Center identity, from trusted identity propagation), and check that \
             the cluster or workgroup has an IAM Identity Center integration"
        }
        Status::NotFound => "check the cluster identifier or workgroup name, and the region",
        Status::InvalidState => "wait until the cluster or workgroup is available, then try again",
        Status::Denied => {
            "check that the credentials are valid and not expired, and that they may call \
             redshift:GetIdentityCenterAuthToken on this cluster or workgroup"
        }
        Status::Throttled => "try again in a moment, or allow more attempts (AWS_MAX_ATTEMPTS)",
        Status::Timeout => {
            "check the network path to the endpoint (and HTTPS_PROXY), or allow more time \
             (RS_IDC_TIMEOUT_MS)"
        }
        Status::Network => {
            "check DNS, the network path and the proxy settings; for a private CA set \
             AWS_CA_BUNDLE"
        }
        Status::Service => {
            "the service failed: try again; if it persists, contact AWS support with the \
             request id"
        }
        Status::BadResponse => {
            "the endpoint answered something that is not a token: check the endpoint URL and \
             any proxy in between"
        }
        Status::Internal => "report this, with the message above, as a bug in rs-idc",
    }
}

/// An access key id shown by its first and last four characters only;
/// one of eight characters or fewer is hidden whole.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

/// The current time in Unix seconds (0 if the clock is before 1970).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys_by_their_ends() {
        assert_eq!(mask("AKIAIDCENHANCED00001"), "AKIA...0001");
        assert_eq!(mask("AKIA1234"), "********");
        assert_eq!(mask(""), "");
        assert_eq!(mask("ÄÖÜßéèêëabc"), "ÄÖÜß...ëabc");
    }
}
