//! The steps of a per-user exchange and of a browser sign-in, as typed
//! events. Each step is logged (an info record, a warning for a refused
//! redirect) and handed to the observer, if one is set: the command line's
//! `--check` reports them from here, never by reading log text.

use crate::fork;
use std::fmt;
use std::sync::{Arc, RwLock};

/// One step of a per-user exchange or a browser sign-in. Nothing secret is
/// in a step: no token, code, state or web token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Exchange: the handle's own credentials sign it.
    OwnCredentialsSign,
    /// Exchange: the application role's credentials, assumed with the same
    /// web token before, are used again.
    ApplicationRoleReused,
    /// Exchange: AssumeRoleWithWebIdentity gave the application role's
    /// credentials.
    ApplicationRoleAssumed,
    /// Exchange: CreateTokenWithIAM with the refresh token gave the
    /// identity context.
    ContextFromRefreshToken,
    /// Exchange: the refresh token was refused (why, without secrets); the
    /// web token is presented again.
    RefreshTokenRefused(String),
    /// Exchange: CreateTokenWithIAM with the web token gave the identity
    /// context.
    ContextFromWebToken,
    /// Exchange: AssumeRole of the access role gave the user's
    /// credentials, which expire in this many seconds.
    UserCredentials(u64),
    /// Sign-in: a client was registered.
    ClientRegistered,
    /// Sign-in: waiting for the browser on this loopback port.
    WaitingForBrowser(u16),
    /// Sign-in: an answer with a wrong or missing state was refused.
    StateRefused,
    /// Sign-in: the device code's URL and code were shown; waiting for the
    /// person to confirm them.
    DeviceCodeShown,
    /// Sign-in: signed in.
    SignedIn,
    /// Sign-in: renewed with the refresh token, without a browser.
    Renewed,
    /// Sign-in: the refresh token was not taken (why, without secrets);
    /// signing in in the browser again.
    RenewalRefused(String),
}

/// Which flow a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The per-user exchange (trusted identity propagation).
    Exchange,
    /// The browser sign-in.
    SignIn,
}

impl Step {
    /// The flow the step belongs to.
    pub fn flow(&self) -> Flow {
        match self {
            Step::OwnCredentialsSign
            | Step::ApplicationRoleReused
            | Step::ApplicationRoleAssumed
            | Step::ContextFromRefreshToken
            | Step::RefreshTokenRefused(_)
            | Step::ContextFromWebToken
            | Step::UserCredentials(_) => Flow::Exchange,
            Step::ClientRegistered
            | Step::WaitingForBrowser(_)
            | Step::StateRefused
            | Step::DeviceCodeShown
            | Step::SignedIn
            | Step::Renewed
            | Step::RenewalRefused(_) => Flow::SignIn,
        }
    }
}

/// The step as a sentence (what `--check` prints after `exchange:` or
/// `sign-in:`).
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::OwnCredentialsSign => f.write_str("the handle's own credentials sign it"),
            Step::ApplicationRoleReused => {
                f.write_str("the application role's credentials are used again")
            }
            Step::ApplicationRoleAssumed => {
                f.write_str("AssumeRoleWithWebIdentity gave the application role's credentials")
            }
            Step::ContextFromRefreshToken => {
                f.write_str("CreateTokenWithIAM (refresh_token grant) gave the identity context")
            }
            Step::RefreshTokenRefused(why) => write!(
                f,
                "the refresh token was refused ({why}); presenting the web token again"
            ),
            Step::ContextFromWebToken => {
                f.write_str("CreateTokenWithIAM (jwt-bearer grant) gave the identity context")
            }
            Step::UserCredentials(seconds) => write!(
                f,
                "AssumeRole of the access role gave the user's credentials; they expire in \
                 {seconds} s"
            ),
            Step::ClientRegistered => f.write_str("a client was registered"),
            Step::WaitingForBrowser(port) => {
                write!(f, "waiting for the browser on 127.0.0.1:{port}")
            }
            Step::StateRefused => f.write_str(
                "an answer with a wrong or missing state was refused (it does not belong to \
                 this sign-in)",
            ),
            Step::DeviceCodeShown => f.write_str(
                "the verification URL and code were shown; waiting for the person to confirm them",
            ),
            Step::SignedIn => f.write_str("signed in"),
            Step::Renewed => f.write_str("renewed with the refresh token"),
            Step::RenewalRefused(why) => write!(
                f,
                "the refresh token was not taken ({why}); signing in again in the browser"
            ),
        }
    }
}

/// Gets every step as it happens, on the thread of the call.
pub type Observer = Arc<dyn Fn(&Step) + Send + Sync>;

static OBSERVER: RwLock<Option<Observer>> = RwLock::new(None);

/// Sets the observer of steps; `None` removes it.
pub fn observe(observer: Option<Observer>) {
    *fork::write(&OBSERVER) = observer;
}

/// Records that `step` happened: a log record, and the observer.
pub(crate) fn happened(step: Step) {
    let flow = match step.flow() {
        Flow::Exchange => "per-user exchange",
        Flow::SignIn => "browser sign-in",
    };
    match step {
        Step::StateRefused => tracing::warn!("{flow}: {step}"),
        _ => tracing::info!("{flow}: {step}"),
    }
    let observer = fork::read(&OBSERVER).clone();
    if let Some(observer) = observer {
        observer(&step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn an_observer_sees_each_step_as_it_happens() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        observe(Some(Arc::new(move |step: &Step| {
            sink.lock().unwrap().push(step.clone())
        })));
        happened(Step::ClientRegistered);
        happened(Step::UserCredentials(60));
        observe(None);
        happened(Step::SignedIn);
        let seen = seen.lock().unwrap();
        // Other tests may record steps while this observer is set.
        assert!(seen.contains(&Step::ClientRegistered));
        assert!(seen.contains(&Step::UserCredentials(60)));
        assert_eq!(Step::ClientRegistered.flow(), Flow::SignIn);
        assert_eq!(
            Step::UserCredentials(60).to_string(),
            "AssumeRole of the access role gave the user's credentials; they expire in 60 s"
        );
    }
}
