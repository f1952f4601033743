//! Per-user tokens (trusted identity propagation): a user's web token is
//! exchanged for that user's identity-enhanced credentials, which are kept
//! per client until shortly before they expire. Concurrent calls for one
//! user make one exchange; the user's Redshift tokens are then cached by
//! the identity rule, like anyone's.
//!
//! The exchange, and every decision in it, is here:
//! 1. credentials that sign it: the client's own, or those of
//!    `application_role_arn` assumed with the web token (kept while they
//!    last);
//! 2. SSO-OIDC CreateTokenWithIAM: the refresh token of the user's last
//!    exchange when there is one, else (or when it is refused) the web
//!    token;
//! 3. STS AssumeRole of `access_role_arn` with the identity context.

mod checked;
mod file;

pub(crate) use checked::{checked_web_token, CHECKED_WEB_TOKENS};
pub(crate) use file::{web_token_from_file, WEB_TOKEN_FILES};

use crate::aws::{self, propagation};
use crate::clock::{monotonic_ms, unix_now, Deadline};
use crate::error::Error;
use crate::kept::{Due, HandleId, Keepable, Kept, KeyHasher};
use crate::keyed::Digest;
use crate::runtime;
use crate::settings::UserSettings;
use crate::snapshot::{Keep, Snapshot};
use crate::status::Status;
use crate::steps::{self, Step};
use crate::web_token::WebToken;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Users' sessions, by handle and web token: at most 4096 in the process.
pub(crate) static USERS: LazyLock<Kept<UserKey, Arc<UserSession>, KeyHasher>> =
    LazyLock::new(|| Kept::new("user sessions", 16, 256));

/// Application-role credentials are used again while this much of their
/// life is left.
const BOOTSTRAP_MARGIN: Duration = Duration::from_secs(60);

/// A user's session: whose handle, and which web token (by its keyed
/// digest).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct UserKey {
    handle: HandleId,
    web_token: Digest,
}

impl Hash for UserKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The digest first, a uniform word (see KeyHasher).
        state.write_u64(self.web_token.first_word());
        self.handle.hash(state);
    }
}

impl UserKey {
    fn new(handle: HandleId, web_token: &WebToken) -> UserKey {
        UserKey {
            handle,
            web_token: web_token.digest().clone(),
        }
    }
}

/// One user's credentials and what renews them.
pub(crate) struct UserSession {
    /// The user's identity-enhanced credentials, trusted until shortly
    /// before they expire.
    snapshot: Arc<Snapshot>,
    /// When the web token they were made from expires.
    web_token_expires_at: i64,
    /// The refresh token of the exchange, wiped when dropped.
    refresh_token: Option<Zeroizing<String>>,
    /// The application role's credentials, when one signs the exchange:
    /// assumed with this session's web token, and used again only for it.
    bootstrap: Option<aws::Identity>,
}

impl Keepable for Arc<UserSession> {}

impl UserSession {
    /// The user's credentials, for cache keys and calls.
    pub(crate) fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// Whether the session may serve a call now: neither the credentials
    /// nor the web token are due.
    fn serves(&self, now: i64) -> bool {
        self.snapshot.is_fresh() && self.web_token_expires_at > now
    }
}

/// The kept session of `web_token`'s user for `handle`, if it may serve
/// now; no network traffic.
pub(crate) fn fresh_session(handle: HandleId, web_token: &WebToken) -> Option<Arc<UserSession>> {
    let now = unix_now();
    USERS
        .fresh(&UserKey::new(handle, web_token), now)
        .filter(|session| session.serves(now))
}

/// The session of `web_token`'s user for `handle`: kept, or made by an
/// exchange that concurrent calls for the same user (and `settings`)
/// share.
pub(crate) fn session(
    handle: HandleId,
    web_token: &WebToken,
    exchange: &Exchange<'_>,
    settings: &Digest,
) -> Result<Arc<UserSession>, Error> {
    let key = UserKey::new(handle, web_token);
    let serves = |session: &Arc<UserSession>| session.serves(unix_now());
    USERS.fly(&key, settings, exchange.deadline, serves, |previous| {
        let session = exchange.run(web_token, previous.as_deref())?;
        let due = Due::until(session.web_token_expires_at);
        Ok((Arc::new(session), due))
    })
}

/// Drops what is kept for `handle` (the handle is being freed).
pub(crate) fn drop_handle(handle: HandleId) {
    USERS.remove_where(|key, _| key.handle == handle);
    WEB_TOKEN_FILES.remove_where(|key, _| *key == handle);
}

/// What an exchange needs from its client.
pub(crate) struct Exchange<'a> {
    pub service: &'a Arc<aws::Service>,
    pub settings: &'a UserSettings,
    /// The client's own credentials, when no application role signs.
    pub own_identity: &'a dyn Fn() -> Result<aws::Identity, Error>,
    pub deadline: &'a Deadline,
}

impl Exchange<'_> {
    /// Makes the session of `web_token`'s user, reusing what the
    /// `previous` session for the same web token left: its
    /// application-role credentials while they last, and its refresh
    /// token.
    fn run(
        &self,
        web_token: &WebToken,
        previous: Option<&UserSession>,
    ) -> Result<UserSession, Error> {
        let settings = self.settings;
        let bootstrap = match &settings.application_role_arn {
            Some(role) => Some(self.bootstrap(role, web_token, previous)?),
            None => None,
        };
        let signer = match &bootstrap {
            Some(identity) => identity.clone(),
            None => {
                let own = (self.own_identity)()?;
                steps::happened(Step::OwnCredentialsSign);
                own
            }
        };
        let refresh_token = previous.and_then(|previous| previous.refresh_token.clone());
        let context = self.identity_context(&signer, web_token, refresh_token)?;
        let resolved_at = monotonic_ms();
        let service = Arc::clone(self.service);
        let role = settings.access_role_arn.clone();
        let session_name = settings.identity_context_session_name().to_owned();
        let assertion = context.context;
        let identity = runtime::run(self.deadline, async move {
            propagation::assume_role_with_context(&service, &signer, role, session_name, assertion)
                .await
        })?;
        let lifetime = identity
            .expiry()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .map_or(0, |left| left.as_secs());
        steps::happened(Step::UserCredentials(lifetime));
        Ok(UserSession {
            snapshot: Arc::new(Snapshot::new(
                self.service,
                identity,
                None,
                resolved_at,
                Keep::UntilExpiry,
            )?),
            web_token_expires_at: web_token.expires_at(),
            refresh_token: context.refresh_token,
            bootstrap,
        })
    }

    /// The application role's credentials: the previous session's while
    /// they last, else AssumeRoleWithWebIdentity with the web token.
    fn bootstrap(
        &self,
        role: &str,
        web_token: &WebToken,
        previous: Option<&UserSession>,
    ) -> Result<aws::Identity, Error> {
        let lasting = |identity: &&aws::Identity| {
            identity
                .expiry()
                .is_some_and(|at| at > SystemTime::now() + BOOTSTRAP_MARGIN)
        };
        if let Some(identity) = previous
            .and_then(|previous| previous.bootstrap.as_ref())
            .filter(lasting)
        {
            steps::happened(Step::ApplicationRoleReused);
            return Ok(identity.clone());
        }
        let service = Arc::clone(self.service);
        let role = role.to_owned();
        let session_name = self.settings.web_identity_session_name().to_owned();
        let token = Zeroizing::new(web_token.secret().to_owned());
        let identity = runtime::run(self.deadline, async move {
            propagation::assume_role_with_web_token(&service, role, session_name, token).await
        })?;
        steps::happened(Step::ApplicationRoleAssumed);
        Ok(identity)
    }

    /// The user's identity context: from the refresh token when there is
    /// one; from the web token when there is none or it is refused.
    fn identity_context(
        &self,
        signer: &aws::Identity,
        web_token: &WebToken,
        refresh_token: Option<Zeroizing<String>>,
    ) -> Result<propagation::IdentityContext, Error> {
        let create = |grant: propagation::Grant| {
            let service = Arc::clone(self.service);
            let signer = signer.clone();
            let client_id = self.settings.idc_application_arn.clone();
            runtime::run(self.deadline, async move {
                propagation::create_token_with_iam(&service, &signer, client_id, grant).await
            })
        };
        if let Some(refresh_token) = refresh_token {
            match create(propagation::Grant::RefreshToken(refresh_token)) {
                Ok(context) => {
                    steps::happened(Step::ContextFromRefreshToken);
                    return Ok(context);
                }
                Err(err) if err.status() == Status::Identity => {
                    steps::happened(Step::RefreshTokenRefused(err.message().to_owned()));
                }
                Err(err) => return Err(err),
            }
        }
        let token = Zeroizing::new(web_token.secret().to_owned());
        let context = create(propagation::Grant::WebToken(token))?;
        steps::happened(Step::ContextFromWebToken);
        Ok(context)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::settings::Settings;

    fn service() -> Arc<aws::Service> {
        let settings = Settings {
            region: Some("us-east-1".into()),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            credentials: Some(crate::StaticCredentials::new("AKIDAPP", "app-secret", None)),
            ..Settings::default()
        };
        let http = aws::http::http_client(&settings).unwrap();
        let deadline = Deadline::after(Duration::from_secs(10));
        let service = runtime::run(
            &deadline,
            async move { aws::connect(&settings, http).await },
        );
        Arc::new(service.unwrap())
    }

    pub(crate) fn web_token(subject: &str, expires_at: i64) -> WebToken {
        let b64 = |text: &str| crate::values::base64url_encode(text.as_bytes()).to_string();
        let payload = format!(r#"{{"sub":"{subject}","exp":{expires_at}}}"#);
        let jwt = format!("{}.{}.c2ln", b64(r#"{"alg":"none"}"#), b64(&payload));
        WebToken::parse("t", jwt.as_bytes(), 0).unwrap()
    }

    fn session(service: &aws::Service, web_token: &WebToken) -> Arc<UserSession> {
        let expiry = SystemTime::now() + Duration::from_secs(3600);
        let identity = aws::Identity::for_tests("ASIAUSER", expiry);
        Arc::new(UserSession {
            snapshot: Arc::new(
                Snapshot::new(service, identity, None, monotonic_ms(), Keep::UntilExpiry).unwrap(),
            ),
            web_token_expires_at: web_token.expires_at(),
            refresh_token: None,
            bootstrap: None,
        })
    }

    #[test]
    fn sessions_belong_to_one_handle_and_one_web_token() {
        let service = service();
        let (one, two) = (HandleId::new(), HandleId::new());
        let now = unix_now();
        let alice = web_token("alice", now + 3600);
        let bob = web_token("bob", now + 3600);
        let kept = session(&service, &alice);
        USERS.keep(
            UserKey::new(one, &alice),
            kept,
            Due::until(alice.expires_at()),
        );
        assert!(fresh_session(one, &alice).is_some());
        assert!(fresh_session(one, &bob).is_none(), "another web token");
        assert!(fresh_session(two, &alice).is_none(), "another handle");
        drop_handle(one);
        assert!(
            fresh_session(one, &alice).is_none(),
            "dropped with its handle"
        );
    }

    #[test]
    fn a_session_does_not_outlive_its_web_token() {
        let service = service();
        let handle = HandleId::new();
        let now = unix_now();
        let short = web_token("carol", now + 1);
        let kept = session(&service, &short);
        USERS.keep(UserKey::new(handle, &short), kept, Due::until(now + 3600));
        assert!(fresh_session(handle, &short).is_some());
        // Its `exp` is what ends it, whatever the store's time says.
        let expired = USERS
            .fresh(&UserKey::new(handle, &short), now)
            .is_some_and(|s| !s.serves(now + 2));
        assert!(expired);
        drop_handle(handle);
    }
}
