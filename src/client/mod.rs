//! The safe core's entry: a client that checks identifiers, serves cached
//! tokens without touching the runtime, bounds every call in time, and
//! hands out only answers that carry a token and a future expiry.

mod hosts;
mod identity;

use crate::aws;
use crate::error::Error;
use crate::fetch::{self, CachePolicy, Fetch, CACHE};
use crate::fork::{self, PerProcess};
use crate::ids::IdSet;
use crate::keyed::Digest;
use crate::settings::Settings;
use crate::snapshot::{settings_digest, unix_now, Snapshot};
use crate::token::{Api, Token};
use crate::users::{UserSessions, WebTokenSource};
use crate::web_token::WebToken;
use arc_swap::ArcSwapOption;
use identity::{no_user_settings, Caller};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Empties the process-wide token cache; the dropped tokens are wiped.
pub fn clear_cache() {
    CACHE.clear();
}

/// Drops the cached token whose text is `token`, if there is one (a
/// driver whose login was refused with it): the next call for its
/// identifiers fetches a new one. The comparison runs in constant time.
/// Whether a token was dropped.
pub fn forget_token(token: &[u8]) -> bool {
    CACHE.forget(token)
}

/// A client: settings plus, per process, the SDK clients built from them.
///
/// A client may be used from many threads at once. After `fork()` the
/// child builds its own SDK clients on first use. Tokens are cached
/// process-wide, keyed by API, region, endpoint, the complete credentials
/// that minted them and the identifier set, so clients with the same
/// endpoint and identity share them; concurrent calls share one request
/// only when their outcome-changing settings match too.
pub struct Client {
    settings: Settings,
    service: PerProcess<aws::Service>,
    settings_digest: PerProcess<Digest>,
    /// Read without a lock by every call; replaced when it goes stale.
    snapshot: ArcSwapOption<Snapshot>,
    /// One identity resolution at a time per client and process (a lock
    /// held by a thread of the parent must not block a child).
    resolving: PerProcess<Mutex<()>>,
    /// Clients for the regions of host names, when no region is set, most
    /// recently used first.
    regional: Mutex<Vec<(String, Arc<Client>)>>,
    /// Users' credentials made from their web tokens.
    users: UserSessions,
}

impl Client {
    /// A client with the given settings. Nothing is resolved or contacted
    /// until the first call.
    pub fn new(settings: Settings) -> Client {
        crate::log::init_from_env();
        Client {
            settings,
            service: PerProcess::new(),
            settings_digest: PerProcess::new(),
            snapshot: ArcSwapOption::empty(),
            resolving: PerProcess::new(),
            regional: Mutex::new(Vec::new()),
            users: UserSessions::new(),
        }
    }

    /// The settings this client was made with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The access key id of the credentials the last call resolved, if
    /// any (not secret: it names the identity; for diagnostics).
    pub fn resolved_access_key_id(&self) -> Option<String> {
        self.resolved_identity()
            .map(|identity| identity.access_key_id().to_owned())
    }

    /// Whether the credentials the last call resolved carry a session
    /// token, as identity-enhanced credentials always do.
    pub fn resolved_has_session_token(&self) -> Option<bool> {
        self.resolved_identity()
            .map(|identity| identity.has_session_token())
    }

    /// The identity of this client's snapshot, or of a client it made for
    /// the region of a host name.
    fn resolved_identity(&self) -> Option<aws::Identity> {
        if let Some(snapshot) = self.snapshot.load().as_ref() {
            return Some(snapshot.identity().clone());
        }
        let regional = fork::lock(&self.regional);
        regional
            .iter()
            .find_map(|(_, client)| client.resolved_identity())
    }

    /// Gets a token for the clusters `cluster_ids` (1 to 20 identifiers).
    ///
    /// Identifiers are checked before any network traffic; their order,
    /// case and duplicates do not matter. A cached token is returned without
    /// touching the runtime; concurrent misses for one key make one call.
    pub fn get_token<I: AsRef<[u8]>>(&self, cluster_ids: &[I]) -> Result<Token, Error> {
        self.read_api_token(Api::Provisioned, cluster_ids, Token::clone)
    }

    /// Gets a token for the Redshift Serverless workgroups `workgroups`
    /// (1 to 20 names), with the same checks, bounds and cache.
    pub fn get_serverless_token<I: AsRef<[u8]>>(&self, workgroups: &[I]) -> Result<Token, Error> {
        self.read_api_token(Api::Serverless, workgroups, Token::clone)
    }

    /// Gets a token for the cluster or workgroup that a Redshift host name
    /// names (see [`hosts::parse_host`]). A region in the settings wins over
    /// the host's.
    pub fn get_token_for_host(&self, host: &[u8]) -> Result<Token, Error> {
        self.read_host_token(host, Token::clone)
    }

    /// Signs a person in through their browser with IAM Identity Center
    /// (authorization code with PKCE) and returns the Identity Center
    /// access token, to send to Redshift with `token_type=ACCESS_TOKEN`.
    /// The token is kept and renewed with its refresh token; the browser
    /// opens only when there is none that works (see [`crate::browser`]).
    pub fn get_browser_token(&self) -> Result<Token, Error> {
        self.read_browser_token(Token::clone)
    }

    /// As [`Client::get_browser_token`], handing the token to `read`.
    pub(crate) fn read_browser_token<R>(&self, read: impl FnOnce(&Token) -> R) -> Result<R, Error> {
        let deadline = Instant::now() + self.settings.browser.response_timeout;
        let service = self.service(deadline)?;
        crate::browser::read_browser_token(service, &self.settings, read)
    }

    /// Gets the token of the user whose identity-provider token (a JWT) is
    /// `web_token`, for the clusters `cluster_ids`: the user's credentials
    /// come from trusted identity propagation (see [`crate::UserSettings`]),
    /// made once per user and kept until shortly before they expire.
    ///
    /// The web token is checked before any network traffic: not a JWT with
    /// a numeric `exp` is [`Status::InvalidArgument`], expired is
    /// [`Status::Identity`], as is a web token the services refuse.
    pub fn get_user_token<I: AsRef<[u8]>>(
        &self,
        web_token: &[u8],
        cluster_ids: &[I],
    ) -> Result<Token, Error> {
        self.read_user_token(Api::Provisioned, web_token, cluster_ids, Token::clone)
    }

    /// As [`Client::get_user_token`], for Redshift Serverless workgroups.
    pub fn get_user_serverless_token<I: AsRef<[u8]>>(
        &self,
        web_token: &[u8],
        workgroups: &[I],
    ) -> Result<Token, Error> {
        self.read_user_token(Api::Serverless, web_token, workgroups, Token::clone)
    }

    /// As [`Client::get_user_token`] for `api`, handing the token to `read`.
    pub(crate) fn read_user_token<I: AsRef<[u8]>, R>(
        &self,
        api: Api,
        web_token: &[u8],
        ids: &[I],
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let ids = api_ids(api, ids)?;
        if self.settings.user.is_none() {
            return Err(no_user_settings());
        }
        let web_token = WebToken::parse("web_token", web_token, unix_now())?;
        self.read_token(
            api,
            &ids,
            &Caller::User(WebTokenSource::Given(&web_token)),
            read,
        )
    }

    /// As [`Client::get_token`] for `api`, handing the token to `read`
    /// instead of returning a copy: a cached token goes straight from the
    /// cache to `read`.
    pub(crate) fn read_api_token<I: AsRef<[u8]>, R>(
        &self,
        api: Api,
        ids: &[I],
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        self.read_set_token(api, &api_ids(api, ids)?, read)
    }

    /// The cached token of `ids` for `api`, if there is one, for the
    /// calls made without a web token; never a network request.
    pub(crate) fn cached_token(&self, api: Api, ids: &IdSet) -> Option<Token> {
        let caller = self.default_caller();
        self.cached_for(&caller, api, ids, Token::clone).ok()?.ok()
    }

    /// As [`Client::get_token`] for a checked identifier set, handing the
    /// token to `read`.
    pub(crate) fn read_set_token<R>(
        &self,
        api: Api,
        ids: &IdSet,
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        self.read_token(api, ids, &self.default_caller(), read)
    }

    /// Hands the token for `ids` to `read`, from the cache or the service,
    /// and logs the outcome (lengths and expiries only).
    fn read_token<R>(
        &self,
        api: Api,
        ids: &IdSet,
        caller: &Caller<'_>,
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let logged = |token: &Token| {
            tracing::debug!(
                "{} token for {} identifier(s): {} bytes, expires at {}",
                api.name(),
                ids.len(),
                token.secret().len(),
                token.expires_at()
            );
            read(token)
        };
        let logged = match self.cached_for(caller, api, ids, logged)? {
            Ok(done) => return Ok(done),
            Err(logged) => logged,
        };
        let deadline = Instant::now() + self.settings.timeout;
        let fetched = self
            .caller_snapshot(caller, deadline)
            .and_then(|snapshot| self.fetch(api, ids, snapshot, deadline))
            .and_then(|fetch| fetch.run(deadline));
        match fetched {
            Ok(token) => Ok(logged(&token)),
            Err(err) => {
                tracing::warn!(
                    "{} token for {} identifier(s) failed: {:?}: {}",
                    api.name(),
                    ids.len(),
                    err.status(),
                    err.message()
                );
                Err(err)
            }
        }
    }

    /// The cached token of `caller` handed to `read`; on a miss `read`
    /// comes back unused. No network request.
    fn cached_for<R, F: FnOnce(&Token) -> R>(
        &self,
        caller: &Caller<'_>,
        api: Api,
        ids: &IdSet,
        read: F,
    ) -> Result<Result<R, F>, Error> {
        Ok(match caller {
            Caller::Client => self.cached(self.snapshot.load().as_ref(), api, ids, read),
            Caller::User(source) => {
                let key = UserSessions::key(source)?;
                let session = self.users.fresh(&key, source);
                self.cached(session.as_ref().map(|s| s.snapshot()), api, ids, read)
            }
        })
    }

    /// The cached token handed to `read`, without locks, allocations or
    /// the runtime; on a miss `read` comes back unused.
    fn cached<R, F: FnOnce(&Token) -> R>(
        &self,
        snapshot: Option<&Arc<Snapshot>>,
        api: Api,
        ids: &IdSet,
        read: F,
    ) -> Result<R, F> {
        if !self.settings.cache {
            return Err(read);
        }
        let Some(snapshot) = snapshot.filter(|snapshot| snapshot.is_fresh()) else {
            return Err(read);
        };
        // A refresh ahead uses the SDK clients this process already built.
        let refresh = || {
            let service = Arc::clone(self.service.get()?);
            let policy = self.cache_policy().ok()?;
            let ids = ids.clone();
            let snapshot = Arc::clone(snapshot);
            Some(Fetch {
                api,
                ids,
                snapshot,
                service,
                policy,
            })
        };
        fetch::cached(snapshot, api, ids, read, refresh)
    }

    /// The fetch of `ids` for `api` with `snapshot`'s credentials.
    fn fetch(
        &self,
        api: Api,
        ids: &IdSet,
        snapshot: Arc<Snapshot>,
        deadline: Instant,
    ) -> Result<Fetch, Error> {
        Ok(Fetch {
            api,
            ids: ids.clone(),
            snapshot,
            service: Arc::clone(self.service(deadline)?),
            policy: self.cache_policy()?,
        })
    }

    /// How this client caches.
    fn cache_policy(&self) -> Result<CachePolicy, Error> {
        let flight_settings = self
            .settings_digest
            .get_or_try_init(|| settings_digest(&self.settings))?;
        Ok(CachePolicy {
            cache: self.settings.cache,
            margin: self.settings.refresh_margin,
            ahead: self.settings.refresh_ahead,
            flight_settings: Arc::clone(flight_settings),
            timeout: self.settings.timeout,
        })
    }
}

/// The identifier set of `ids` for `api`, checked.
fn api_ids<I: AsRef<[u8]>>(api: Api, ids: &[I]) -> Result<IdSet, Error> {
    match api {
        Api::Provisioned => IdSet::clusters(ids),
        Api::Serverless => IdSet::workgroups(ids),
    }
}

static DEFAULT_CLIENT: PerProcess<Client> = PerProcess::new();

/// The process-wide client that `rs_idc_get_token` uses, built on first use
/// from the environment (see [`Settings::from_env`]).
///
/// A bad setting is reported on every call until it is fixed; it is not
/// remembered.
pub fn default_client() -> Result<&'static Client, Error> {
    crate::log::init_from_env();
    DEFAULT_CLIENT
        .get_or_try_init(|| Settings::from_env().map(Client::new))
        .map(|client| &**client)
}

#[cfg(test)]
mod tests;
