//! `--check`: prints where the region, credentials and endpoint come from,
//! makes one call when a target is given, and ends with a verdict and the
//! next step. It never prints the token or a secret; the access key id is
//! shown by its ends only.
//!
//! With the per-user flags it also shows the web token file (its size,
//! subject and expiry, never the token) and each step of the exchange, as
//! the library's `per-user exchange:` log records tell them. With
//! `--browser` or `--device-code` it shows the sign-in's settings and
//! steps, the same way.

use crate::args::{Args, SignInFlow, Target, UserArgs};
use crate::call;
use crate::claims;
use crate::output::{exit_status, readable_time, status_name};
use crate::setup;
use crate::sign_in;
use rs_idc::steps::{Flow, Step};
use rs_idc::{Client, Error, Status, Token};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Which kind of token a check asks for, for its next steps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The token of the AWS credentials' own identity.
    Own,
    /// A user's token, from a web token file.
    User,
    /// An Identity Center access token from a person's sign-in.
    SignIn(SignInFlow),
}

/// Runs the check and returns the exit status: 0 when the settings were
/// read and the call (if any) gave a token, else that of the failure.
pub fn check(args: &Args) -> i32 {
    let profile = setup::profile_name(args);
    let facts = setup::read_profile(&profile);
    let user = args.user.as_ref();
    let sign_in = match &args.target {
        Some(Target::SignIn(sign_in)) => Some(sign_in),
        _ => None,
    };
    let kind = match (user, sign_in) {
        (Some(_), _) => Kind::User,
        (None, Some(sign_in)) => Kind::SignIn(sign_in.flow),
        (None, None) => Kind::Own,
    };
    println!("rs-idc-token {} check", env!("CARGO_PKG_VERSION"));
    let region = setup::region_source(args, &profile, &facts);
    println!("region:       {region}");
    let credentials = match sign_in {
        Some(_) => setup::sign_in_credential_source(&profile, &facts),
        None => setup::credential_source(&profile, &facts, user),
    };
    println!("credentials:  {credentials}");
    println!("endpoint:     {}", setup::endpoint_source(args));
    if let Some(why) = &facts.unreadable {
        println!("profiles:     cannot be read: {why}");
    }
    if let Some(user) = user {
        report_user(user);
    }
    if let Some(sign_in) = sign_in {
        let found = region.split_once(" (from ").map(|(region, _)| region);
        sign_in::report_settings(sign_in, found);
    }
    let client = match call::client(args) {
        Ok(client) => client,
        Err(err) => return report_outcome(Err(err), kind),
    };
    let Some(target) = &args.target else {
        println!(
            "call:         skipped (give --cluster-id, --workgroup, --host, --browser or \
             --device-code to try one)"
        );
        println!("verdict:      settings read; no call made");
        return 0;
    };
    let steps = match kind {
        Kind::User => Some(Steps::observe(Flow::Exchange)),
        Kind::SignIn(_) => Some(Steps::observe(Flow::SignIn)),
        Kind::Own => None,
    };
    let outcome = call::get_token(&client, target);
    match (steps, user) {
        (Some(steps), Some(user)) => {
            report_exchange(&steps.finish(), &outcome);
            println!("identity:     {}", user_identity(&client, user));
        }
        (Some(steps), None) => {
            sign_in::report_steps(&steps.finish(), &outcome);
        }
        _ => println!("identity:     {}", identity(&client)),
    }
    report_outcome(outcome, kind)
}

/// Prints the per-user settings and what the web token file holds.
fn report_user(user: &UserArgs) {
    println!("application:  {}", user.idc_application_arn);
    println!(
        "access role:  {} (session name {})",
        user.access_role_arn,
        user.role_session_name
            .as_deref()
            .unwrap_or(rs_idc::settings::DEFAULT_IDENTITY_CONTEXT_SESSION_NAME)
    );
    match &user.application_role_arn {
        Some(role) => {
            println!(
                "signed by:    {role}, assumed with the web token (AssumeRoleWithWebIdentity, \
                 session name {})",
                user.role_session_name
                    .as_deref()
                    .unwrap_or(rs_idc::settings::DEFAULT_WEB_IDENTITY_SESSION_NAME)
            )
        }
        None => println!("signed by:    the AWS credentials above"),
    }
    println!(
        "web token:    {}: {}",
        user.web_token_file,
        claims::describe_file(Path::new(&user.web_token_file), unix_now())
    );
}

/// Prints one `exchange:` line per step the library reported; when it
/// reported none, says why there may be none.
fn report_exchange(steps: &[String], outcome: &Result<Token, Error>) {
    for step in steps {
        println!("exchange:     {step}");
    }
    if steps.is_empty() {
        let why = match outcome {
            Err(_) => "no step ran: the call failed before the exchange",
            Ok(_) => "no step was reported",
        };
        println!("exchange:     {why}");
    }
}

/// The steps of a call (the exchange, or the sign-in) as the
/// library reports them while the call runs: typed events, not log text.
struct Steps {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Steps {
    /// Starts taking the steps of `flow`.
    fn observe(flow: Flow) -> Steps {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        rs_idc::steps::observe(Some(Arc::new(move |step: &Step| {
            if step.flow() == flow {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(step.to_string());
            }
        })));
        Steps { seen }
    }

    /// Stops and returns the steps, oldest first.
    fn finish(self) -> Vec<String> {
        rs_idc::steps::observe(None);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *seen)
    }
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

/// Who a user's token belongs to and who signed the exchange.
fn user_identity(client: &Client, user: &UserArgs) -> String {
    let signer = match (client.resolved_access_key_id(), &user.application_role_arn) {
        (Some(key), _) => format!("access key {} signed the exchange", mask(&key)),
        (None, Some(_)) => "the application role signed the exchange".into(),
        (None, None) => "the AWS credentials were not resolved".into(),
    };
    format!("the user of the web token file ({signer})")
}

/// Prints the `call:` line, and for a failure the next step, then the
/// verdict; returns the exit status.
fn report_outcome(outcome: Result<Token, Error>, kind: Kind) -> i32 {
    match outcome {
        Ok(token) => {
            println!(
                "call:         OK: {} of {} bytes, expires {} (in {} s)",
                if matches!(kind, Kind::SignIn(_)) {
                    "an access token"
                } else {
                    "a token"
                },
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
            let step = match kind {
                Kind::User => user_next_step(err.status()),
                Kind::SignIn(flow) => sign_in::next_step(&err, flow),
                Kind::Own => None,
            };
            println!(
                "next step:    {}",
                step.unwrap_or_else(|| next_step(err.status()))
            );
            println!("verdict:      FAILED ({name})");
            exit_status(err.status())
        }
    }
}

/// What to do about a failure of `status` of a user's token, where it
/// differs from [`next_step`].
fn user_next_step(status: Status) -> Option<&'static str> {
    Some(match status {
        Status::NoCredentials => {
            "give this process AWS credentials that may call sso-oauth:CreateTokenWithIAM \
             and sts:AssumeRole (a session token is not needed), or pass \
             --application-role-arn so that a role assumed with the web token signs the \
             exchange"
        }
        Status::Denied => {
            "check that the credentials that sign the exchange are valid, that the access \
             role trusts them for sts:AssumeRole and sts:SetContext, that the application \
             role (if any) trusts the web token's issuer, and that the access role may call \
             redshift:GetIdentityCenterAuthToken"
        }
        Status::Unsupported => {
            "check that the cluster or workgroup has an IAM Identity Center integration \
             with the instance of the application (--idc-application-arn)"
        }
        _ => return None,
    })
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
        Status::Identity => {
            "get a new web token from the identity provider, and check that the IAM Identity \
             Center application trusts its issuer and audience (trusted token issuer) and \
             allows the jwt-bearer grant"
        }
        // Blocking calls never leave a request pending.
        Status::Pending => "try again",
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
    fn per_user_failures_have_their_own_next_steps() {
        assert!(user_next_step(Status::NoCredentials)
            .is_some_and(|step| step.contains("--application-role-arn")));
        assert!(user_next_step(Status::Denied).is_some_and(|step| step.contains("SetContext")));
        assert_eq!(user_next_step(Status::Identity), None);
    }

    #[test]
    fn masks_keys_by_their_ends() {
        assert_eq!(mask("AKIAIDCENHANCED00001"), "AKIA...0001");
        assert_eq!(mask("AKIA1234"), "********");
        assert_eq!(mask(""), "");
        assert_eq!(mask("ÄÖÜßéèêëabc"), "ÄÖÜß...ëabc");
    }
}
