//! The cache's read-through: a cached token (starting a refresh ahead in
//! its window), else a token from the service or from a call in flight for
//! the same key, identity and settings, cached when it succeeds. A fetch
//! owns what it needs, so that a refresh ahead can run on a thread of the
//! pool after the call that started it has returned.

use super::{Key, KeyRef, TOKENS};
use crate::aws;
use crate::clock::{unix_now, Deadline};
use crate::error::Error;
use crate::flight::Listener;
use crate::ids::IdSet;
use crate::kept::Cached;
use crate::keyed::Digest;
use crate::runtime;
use crate::snapshot::Snapshot;
use crate::token::{Api, Token};
use crate::workers;
use std::sync::Arc;
use std::time::Duration;

/// How a client caches: the settings a fetch needs besides its target.
#[derive(Clone)]
pub(crate) struct CachePolicy {
    /// Whether tokens are cached (and calls share flights) at all.
    pub cache: bool,
    /// The refresh margin (`None`: the default rule).
    pub margin: Option<Duration>,
    /// Whether tokens are refreshed ahead, in the background.
    pub ahead: bool,
    /// The digest of the settings that change a call's outcome: calls
    /// share a flight only when theirs are equal.
    pub flight_settings: Arc<Digest>,
    /// The whole-call time bound, for background refreshes.
    pub timeout: Duration,
}

/// One token to fetch: the API, the identifiers, whose credentials, and
/// the SDK clients to call with.
pub(crate) struct Fetch {
    pub api: Api,
    pub ids: IdSet,
    pub snapshot: Arc<Snapshot>,
    pub service: Arc<aws::Service>,
    pub policy: CachePolicy,
}

/// The cached token of `ids` for `api` under `snapshot`'s identity, handed
/// to `read`; on a miss `read` comes back unused. In the refresh-ahead
/// window the token is handed out and `refresh` is asked for the fetch to
/// start in the background (once per entry and process).
pub(crate) fn cached<R, F: FnOnce(&Token) -> R>(
    snapshot: &Arc<Snapshot>,
    api: Api,
    ids: &IdSet,
    read: F,
    refresh: impl FnOnce() -> Option<Fetch>,
) -> Result<R, F> {
    match super::read(KeyRef::of(snapshot, api, ids), unix_now(), read)? {
        Cached::Fresh(done) => Ok(done),
        Cached::RefreshAhead(done) => {
            match refresh() {
                Some(fetch) => fetch.start_in_background(),
                None => tracing::debug!("no refresh ahead: the client has no SDK clients yet"),
            }
            Ok(done)
        }
    }
}

/// Hands `listener` the outcome of the call in flight for `ids` under
/// `snapshot`'s identity and `policy`'s settings, if there is one; else
/// gives it back.
pub(crate) fn listen(
    snapshot: &Snapshot,
    api: Api,
    ids: &IdSet,
    policy: &CachePolicy,
    listener: Listener<Token>,
) -> Result<(), Listener<Token>> {
    if !policy.cache {
        return Err(listener);
    }
    let key = Key::new(KeyRef::of(snapshot, api, ids));
    TOKENS.listen(key, &policy.flight_settings, listener)
}

impl Fetch {
    /// A token from the service, or from a call in flight for the same
    /// key, identity and settings; a successful one is cached.
    pub(crate) fn run(&self, deadline: &Deadline) -> Result<Token, Error> {
        if !self.policy.cache {
            return self.call(deadline);
        }
        let key = Key::new(KeyRef::of(&self.snapshot, self.api, &self.ids));
        let settings = &self.policy.flight_settings;
        TOKENS.fly(
            &key,
            settings,
            deadline,
            |_| true,
            |_| {
                let minted_at = unix_now();
                let token = self.call(deadline)?;
                let due = super::due(&token, minted_at, self.policy.margin, self.policy.ahead);
                Ok((token, due))
            },
        )
    }

    /// Makes the API call with the snapshot's credentials.
    fn call(&self, deadline: &Deadline) -> Result<Token, Error> {
        let caller = Arc::clone(self.snapshot.caller(&self.service)?);
        let ids = self.ids.to_vec();
        let answer = runtime::run(deadline, aws::get_token(caller, self.api, ids))?;
        let token = Token::from_answer(answer, unix_now())?;
        tracing::info!(
            "{} token fetched: {} bytes, expires at {}",
            self.api.name(),
            token.secret().len(),
            token.expires_at()
        );
        Ok(token)
    }

    /// Runs the fetch on a thread of the pool: a refresh ahead. Its
    /// failure is logged and not cached; the cached token is served until
    /// it is due, and then the next call fetches and reports.
    fn start_in_background(self) {
        let started = workers::submit(Box::new(move || {
            let deadline = Deadline::after(self.policy.timeout);
            if let Err(err) = self.run(&deadline) {
                tracing::warn!(
                    "refresh ahead of a {} token failed ({:?}): {}; the cached token is \
                         served until it is due",
                    self.api.name(),
                    err.status(),
                    err.message()
                );
            }
        }));
        if let Err(err) = started {
            tracing::warn!("no refresh ahead: {}", err.message());
        }
    }
}
