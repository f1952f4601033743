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

use crate::aws::{self, exchange};
use crate::error::Error;
use crate::flight::SingleFlight;
use crate::fork;
use crate::keyed::{Digest, KeyedHash};
use crate::runtime;
use crate::settings::UserSettings;
use crate::snapshot::{monotonic_ms, unix_now, Keep, Snapshot};
use crate::status::Status;
use crate::web_token::WebToken;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use zeroize::Zeroizing;

/// The most users whose credentials one client keeps; beyond it, those
/// that can no longer be used go first, then the oldest.
const MAX_USERS: usize = 1024;

/// Application-role credentials are used again while this much of their
/// life is left.
const BOOTSTRAP_MARGIN: Duration = Duration::from_secs(60);

/// Where a call's web token comes from.
pub(crate) enum WebTokenSource<'a> {
    /// Given with the call, already checked.
    Given(&'a WebToken),
    /// The client's `web_token_file`, read at each exchange.
    File(&'a Path),
}

/// One user's credentials and what renews them.
pub(crate) struct UserSession {
    /// The user's identity-enhanced credentials, trusted until shortly
    /// before they expire.
    snapshot: Arc<Snapshot>,
    /// The web token they were made from: its digest and expiry.
    web_token: Digest,
    web_token_expires_at: i64,
    /// The refresh token of the exchange, wiped when dropped.
    refresh_token: Option<Zeroizing<String>>,
    /// The application role's credentials, when one signs the exchange.
    bootstrap: Option<aws::Identity>,
    /// The web token file as it was read: a session made from a file
    /// serves only while the file is unchanged.
    file: Option<FileStamp>,
    made_at_ms: u64,
}

/// What tells one version of a file from another, without reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    size: u64,
    modified_ns: i128,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        })
    }
}

impl UserSession {
    /// The user's credentials, for cache keys and calls.
    pub(crate) fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// Whether the session may serve a call for `source` now: the
    /// credentials and the web token are not due, and a web token file
    /// has not changed since it was read (it may hold another user's
    /// token now).
    fn serves(&self, source: &WebTokenSource<'_>, now: i64) -> bool {
        let same_file = match source {
            WebTokenSource::Given(_) => true,
            WebTokenSource::File(path) => self.file.is_some() && FileStamp::of(path) == self.file,
        };
        self.snapshot.is_fresh() && self.web_token_expires_at > now && same_file
    }
}

/// The sessions of one client, by web token (or web token file).
pub(crate) struct UserSessions {
    sessions: Mutex<HashMap<Digest, Arc<UserSession>>>,
    exchanges: SingleFlight<Digest, Arc<UserSession>>,
}

/// What an exchange needs from its client.
pub(crate) struct Exchange<'a> {
    pub service: &'a Arc<aws::Service>,
    pub settings: &'a UserSettings,
    /// The client's own credentials, when no application role signs.
    pub own_identity: &'a dyn Fn() -> Result<aws::Identity, Error>,
    pub deadline: Instant,
}

impl UserSessions {
    pub(crate) fn new() -> UserSessions {
        UserSessions {
            sessions: Mutex::new(HashMap::new()),
            exchanges: SingleFlight::new(),
        }
    }

    /// The key of a call's session: the web token's digest, or the file's.
    pub(crate) fn key(source: &WebTokenSource<'_>) -> Result<Digest, Error> {
        match source {
            WebTokenSource::Given(token) => token.digest(),
            WebTokenSource::File(path) => {
                let mut hash = KeyedHash::new("rs-idc web token file")?;
                hash.field(path.as_os_str().as_encoded_bytes());
                Ok(hash.finish())
            }
        }
    }

    /// The session under `key` if it may serve a call for `source` now.
    pub(crate) fn fresh(
        &self,
        key: &Digest,
        source: &WebTokenSource<'_>,
    ) -> Option<Arc<UserSession>> {
        let session = fork::lock(&self.sessions).get(key).cloned()?;
        session.serves(source, unix_now()).then_some(session)
    }

    /// The session under `key`, made by an exchange unless another thread
    /// made it meanwhile; concurrent callers share one exchange.
    pub(crate) fn session(
        &self,
        key: &Digest,
        source: &WebTokenSource<'_>,
        exchange: &Exchange<'_>,
    ) -> Result<Arc<UserSession>, Error> {
        self.exchanges.run(key, exchange.deadline, || {
            if let Some(session) = self.fresh(key, source) {
                return Ok(session);
            }
            let previous = fork::lock(&self.sessions).get(key).cloned();
            let session = Arc::new(exchange.run(source, previous.as_deref())?);
            self.keep(key, Arc::clone(&session));
            Ok(session)
        })
    }

    /// Keeps `session`, dropping unusable and then the oldest sessions
    /// beyond [`MAX_USERS`].
    fn keep(&self, key: &Digest, session: Arc<UserSession>) {
        let mut sessions = fork::lock(&self.sessions);
        sessions.insert(key.clone(), session);
        if sessions.len() > MAX_USERS {
            let now = unix_now();
            sessions.retain(|_, session| session.web_token_expires_at > now);
        }
        while sessions.len() > MAX_USERS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, session)| session.made_at_ms)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(oldest) => sessions.remove(&oldest),
                None => break,
            };
        }
    }

    /// How many sessions are kept (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        fork::lock(&self.sessions).len()
    }
}

impl Exchange<'_> {
    /// Makes a user's session from the web token, reusing what the
    /// `previous` session for the same key left: its application-role
    /// credentials while they last, and its refresh token when the web
    /// token is the same one.
    fn run(
        &self,
        source: &WebTokenSource<'_>,
        previous: Option<&UserSession>,
    ) -> Result<UserSession, Error> {
        let read;
        let mut file = None;
        let web_token = match source {
            WebTokenSource::Given(token) => *token,
            WebTokenSource::File(path) => {
                // Stamped before it is read: a change while it is read
                // makes the next call read it again.
                file = FileStamp::of(path);
                read = WebToken::read_file("web_token_file", path, unix_now())?;
                &read
            }
        };
        let digest = web_token.digest()?;
        let settings = self.settings;
        let bootstrap = match &settings.application_role_arn {
            Some(role) => Some(self.bootstrap(role, web_token, previous)?),
            None => None,
        };
        let signer = match &bootstrap {
            Some(identity) => identity.clone(),
            None => {
                let own = (self.own_identity)()?;
                tracing::info!("per-user exchange: the handle's own credentials sign it");
                own
            }
        };
        let refresh_token = previous
            .filter(|previous| previous.web_token == digest)
            .and_then(|previous| previous.refresh_token.clone());
        let context = self.identity_context(&signer, web_token, refresh_token)?;
        let resolved_at = monotonic_ms();
        let service = Arc::clone(self.service);
        let role = settings.access_role_arn.clone();
        let session_name = settings.role_session_name.clone();
        let assertion = context.context;
        let identity = runtime::run(self.deadline, async move {
            exchange::assume_role_with_context(&service, &signer, role, session_name, assertion)
                .await
        })?;
        let lifetime = identity
            .expiry()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .map_or(0, |left| left.as_secs());
        tracing::info!(
            "per-user exchange: AssumeRole of the access role gave the user's credentials; \
             they expire in {lifetime} s"
        );
        Ok(UserSession {
            snapshot: Arc::new(Snapshot::new(
                self.service,
                identity,
                None,
                resolved_at,
                Keep::UntilExpiry,
            )?),
            web_token: digest,
            web_token_expires_at: web_token.expires_at(),
            refresh_token: context.refresh_token,
            bootstrap,
            file,
            made_at_ms: resolved_at,
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
            tracing::info!("per-user exchange: the application role's credentials are used again");
            return Ok(identity.clone());
        }
        let service = Arc::clone(self.service);
        let role = role.to_owned();
        let session_name = self.settings.role_session_name.clone();
        let token = Zeroizing::new(web_token.secret().to_owned());
        let identity = runtime::run(self.deadline, async move {
            exchange::assume_role_with_web_token(&service, role, session_name, token).await
        })?;
        tracing::info!(
            "per-user exchange: AssumeRoleWithWebIdentity gave the application role's credentials"
        );
        Ok(identity)
    }

    /// The user's identity context: from the refresh token when there is
    /// one; from the web token when there is none or it is refused.
    fn identity_context(
        &self,
        signer: &aws::Identity,
        web_token: &WebToken,
        refresh_token: Option<Zeroizing<String>>,
    ) -> Result<exchange::IdentityContext, Error> {
        let create = |grant: exchange::Grant| {
            let service = Arc::clone(self.service);
            let signer = signer.clone();
            let client_id = self.settings.idc_application_arn.clone();
            runtime::run(self.deadline, async move {
                exchange::create_token_with_iam(&service, &signer, client_id, grant).await
            })
        };
        if let Some(refresh_token) = refresh_token {
            match create(exchange::Grant::RefreshToken(refresh_token)) {
                Ok(context) => {
                    tracing::info!(
                        "per-user exchange: CreateTokenWithIAM (refresh_token grant) gave the \
                         identity context"
                    );
                    return Ok(context);
                }
                Err(err) if err.status() == Status::Identity => {
                    tracing::info!(
                        "per-user exchange: the refresh token was refused ({}); presenting \
                         the web token again",
                        err.message()
                    );
                }
                Err(err) => return Err(err),
            }
        }
        let token = Zeroizing::new(web_token.secret().to_owned());
        let context = create(exchange::Grant::WebToken(token))?;
        tracing::info!(
            "per-user exchange: CreateTokenWithIAM (jwt-bearer grant) gave the identity context"
        );
        Ok(context)
    }
}

#[cfg(test)]
mod tests {
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
        let deadline = Instant::now() + Duration::from_secs(10);
        let service = runtime::run(deadline, async move { aws::connect(&settings, http).await });
        Arc::new(service.unwrap())
    }

    fn session(service: &aws::Service, n: usize, web_token_expires_at: i64) -> UserSession {
        let expiry = SystemTime::now() + Duration::from_secs(3600);
        let identity = aws::Identity::for_tests(&format!("ASIAUSER{n}"), expiry);
        let made_at_ms = monotonic_ms() + n as u64;
        UserSession {
            snapshot: Arc::new(
                Snapshot::new(service, identity, None, made_at_ms, Keep::UntilExpiry).unwrap(),
            ),
            web_token: crate::web_token::web_token_digest(format!("t{n}").as_bytes()).unwrap(),
            web_token_expires_at,
            refresh_token: None,
            bootstrap: None,
            file: None,
            made_at_ms,
        }
    }

    /// A source for lookups: a given web token (never read by `fresh`).
    fn any_given() -> WebTokenSource<'static> {
        static TOKEN: std::sync::LazyLock<WebToken> = std::sync::LazyLock::new(|| {
            let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.c2ln";
            WebToken::parse("t", jwt.as_bytes(), 0).unwrap()
        });
        WebTokenSource::Given(&TOKEN)
    }

    #[test]
    fn a_client_keeps_a_bounded_number_of_users_dropping_the_unusable_first() {
        let service = service();
        let users = UserSessions::new();
        let now = unix_now();
        let key = |n: usize| crate::web_token::web_token_digest(format!("k{n}").as_bytes());
        // Users whose web tokens expired can no longer be served.
        for n in 0..10 {
            users.keep(&key(n).unwrap(), Arc::new(session(&service, n, now - 1)));
        }
        for n in 10..MAX_USERS + 10 {
            users.keep(&key(n).unwrap(), Arc::new(session(&service, n, now + 3600)));
        }
        assert_eq!(users.len(), MAX_USERS);
        let given = |n: usize| {
            key(n)
                .map(|k| users.fresh(&k, &any_given()).is_some())
                .unwrap()
        };
        assert!(!given(3));
        assert!(given(10));
        // Beyond the bound among usable users, the oldest goes.
        let newest = key(MAX_USERS + 10).unwrap();
        users.keep(
            &newest,
            Arc::new(session(&service, MAX_USERS + 10, now + 3600)),
        );
        assert_eq!(users.len(), MAX_USERS);
        assert!(!given(10));
        assert!(given(MAX_USERS + 10));
    }
}
