//! The safe core's entry: a client that checks what a call asks for,
//! serves cached tokens without touching the runtime, and hands out only
//! answers that carry a token and a future expiry.
//!
//! A call is described once, where it enters ([`Call`]: whose credentials
//! sign it, and its one deadline), and flows one way: what it asks for is
//! resolved (identifiers, a host name, a custom domain), then the cache,
//! then the fetch. Every step spends the call's deadline. A `Client` keeps
//! settings and state (its SDK clients and its identity snapshot);
//! everything else it keeps is in the process's stores, under its
//! [`HandleId`], and goes with it.

mod host_calls;
mod identity;

use crate::aws;
use crate::browser;
use crate::cache::{self, CachePolicy, Fetch};
use crate::clock::{monotonic_ms, unix_now, Deadline};
use crate::device;
use crate::error::Error;
use crate::flight::Listener;
use crate::fork::PerProcess;
use crate::ids::IdSet;
use crate::kept::{HandleId, Keepable};
use crate::keyed::Digest;
use crate::settings::Settings;
use crate::snapshot::{settings_digest, Snapshot};
use crate::token::{Api, Token};
use crate::users;
use crate::web_token::WebToken;
use arc_swap::ArcSwapOption;
pub(crate) use host_calls::REGIONAL;
use identity::no_user_settings;
use std::sync::{Arc, Mutex};

/// A client: settings plus, per process, the SDK clients built from them.
///
/// A client may be used from many threads at once. After `fork()` the
/// child builds its own SDK clients on first use. Tokens are cached
/// process-wide, keyed by API, region, endpoint, the complete credentials
/// that minted them and the identifier set, so clients with the same
/// endpoint and identity share them; concurrent calls share one request
/// only when their outcome-changing settings match too.
pub struct Client {
    /// Names what the process keeps for this client alone (users'
    /// sessions, its web token file, its regional clients).
    id: HandleId,
    settings: Settings,
    service: PerProcess<aws::Service>,
    settings_digest: PerProcess<Digest>,
    /// Read without a lock by every call; replaced when it goes stale.
    snapshot: ArcSwapOption<Snapshot>,
    /// One identity resolution at a time per client and process (a lock
    /// held by a thread of the parent must not block a child).
    resolving: PerProcess<Mutex<()>>,
}

/// Whose credentials sign a call.
pub(crate) enum Who {
    /// The client's own.
    Client,
    /// A user's, from their web token (given, or the client's
    /// `web_token_file` as it reads now).
    User(Arc<WebToken>),
}

/// A call as it entered: whose credentials sign it, and until when it
/// must be answered. Every step of the call uses this one description.
pub(crate) struct Call {
    who: Who,
    deadline: Deadline,
}

impl Client {
    /// A client with the given settings. Nothing is resolved or contacted
    /// until the first call.
    pub fn new(settings: Settings) -> Client {
        crate::log::init_from_env();
        Client {
            id: HandleId::new(),
            settings,
            service: PerProcess::new(),
            settings_digest: PerProcess::new(),
            snapshot: ArcSwapOption::empty(),
            resolving: PerProcess::new(),
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
    /// names (see [`crate::hosts::parse_host`]). A region in the settings
    /// wins over the host's.
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

    /// Gets the token of the user whose identity-provider token (a JWT) is
    /// `web_token`, for the clusters `cluster_ids`: the user's credentials
    /// come from trusted identity propagation (see [`crate::UserSettings`]),
    /// made once per user and kept until shortly before they expire.
    ///
    /// The web token is checked before any network traffic: not a JWT with
    /// a numeric `exp` is [`crate::Status::InvalidArgument`], expired is
    /// [`crate::Status::Identity`], as is a web token the services refuse.
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

    /// Signs a person in with a device code (for a machine without a
    /// browser) and returns the Identity Center access token; kept and
    /// renewed like the browser sign-in's (see [`crate::device`]).
    pub fn get_device_token(&self) -> Result<Token, Error> {
        self.read_device_token(Token::clone)
    }

    /// As [`Client::get_browser_token`], handing the token to `read`. The
    /// sign-in's time bound is `idp_response_timeout_s`.
    pub(crate) fn read_browser_token<R>(&self, read: impl FnOnce(&Token) -> R) -> Result<R, Error> {
        let deadline = Deadline::after(self.settings.browser.response_timeout);
        let service = self.service(&deadline)?;
        let flight_settings = self.flight_settings()?;
        browser::read_browser_token(service, &self.settings, flight_settings, &deadline, read)
    }

    /// As [`Client::get_device_token`], handing the token to `read`.
    pub(crate) fn read_device_token<R>(&self, read: impl FnOnce(&Token) -> R) -> Result<R, Error> {
        let deadline = Deadline::after(self.settings.browser.response_timeout);
        let service = self.service(&deadline)?;
        let flight_settings = self.flight_settings()?;
        device::read_device_token(service, &self.settings, flight_settings, &deadline, read)
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
        let web_token = users::checked_web_token("web_token", web_token, unix_now())?;
        let call = Call {
            who: Who::User(web_token),
            deadline: self.deadline(),
        };
        self.answer(api, &ids, &call, read)
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
        let ids = api_ids(api, ids)?;
        self.read_set_token(api, &ids, self.deadline(), read)
    }

    /// As [`Client::get_token`] for a checked identifier set, within a
    /// deadline set when the call entered (a non-blocking request's
    /// starts when it is started, not when a thread takes it up).
    pub(crate) fn read_set_token<R>(
        &self,
        api: Api,
        ids: &IdSet,
        deadline: Deadline,
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let call = Call {
            who: self.default_who()?,
            deadline,
        };
        self.answer(api, ids, &call, read)
    }

    /// The cached token of `ids` for `api`, if there is one, for the
    /// calls made without a web token; never a network request.
    pub(crate) fn cached_token(&self, api: Api, ids: &IdSet) -> Option<Token> {
        let who = self.default_who().ok()?;
        self.cached_for(&who, api, ids, monotonic_ms(), Token::clone)
            .ok()
    }

    /// Hands `listener` the outcome of the call for `ids` already in
    /// flight with this client's identity and settings, if there is one
    /// (and the identity is known without a network request); else gives
    /// it back.
    pub(crate) fn listen(
        &self,
        api: Api,
        ids: &IdSet,
        listener: Listener<Token>,
    ) -> Result<(), Listener<Token>> {
        let Ok(Who::Client) = self.default_who() else {
            return Err(listener);
        };
        let (Some(snapshot), Ok(policy)) = (self.fresh_snapshot(), self.cache_policy()) else {
            return Err(listener);
        };
        cache::listen(&snapshot, api, ids, &policy, listener)
    }

    /// A new call's deadline: the handle's time bound from now.
    pub(crate) fn deadline(&self) -> Deadline {
        Deadline::after(self.settings.timeout)
    }

    /// Hands the token of `ids` for `api` to `read`, from the cache or the
    /// service, as `call` says, and logs the outcome (lengths and expiries
    /// only).
    fn answer<R>(
        &self,
        api: Api,
        ids: &IdSet,
        call: &Call,
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
        let started_ms = call.deadline.started_ms();
        let logged = match self.cached_for(&call.who, api, ids, started_ms, logged) {
            Ok(done) => return Ok(done),
            Err(logged) => logged,
        };
        let fetched = self
            .signer(call)
            .and_then(|snapshot| self.fetch(api, ids, snapshot, &call.deadline))
            .and_then(|fetch| fetch.run(&call.deadline));
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

    /// The cached token of `who` handed to `read`, with the identity's
    /// trust checked at `now_ms` (on [`monotonic_ms`]'s clock); on a miss
    /// `read` comes back unused. No network request.
    fn cached_for<R, F: FnOnce(&Token) -> R>(
        &self,
        who: &Who,
        api: Api,
        ids: &IdSet,
        now_ms: u64,
        read: F,
    ) -> Result<R, F> {
        match who {
            Who::Client => self.cached(self.snapshot.load().as_ref(), api, ids, now_ms, read),
            Who::User(web_token) => {
                let session = users::fresh_session(self.id, web_token);
                let snapshot = session.as_ref().map(|s| s.snapshot());
                self.cached(snapshot, api, ids, now_ms, read)
            }
        }
    }

    /// The cached token under `snapshot`, if it is fresh at `now_ms`,
    /// handed to `read` without locks, allocations or the runtime; on a
    /// miss `read` comes back unused.
    fn cached<R, F: FnOnce(&Token) -> R>(
        &self,
        snapshot: Option<&Arc<Snapshot>>,
        api: Api,
        ids: &IdSet,
        now_ms: u64,
        read: F,
    ) -> Result<R, F> {
        if !self.settings.cache {
            return Err(read);
        }
        let Some(snapshot) = snapshot.filter(|snapshot| snapshot.is_fresh_at(now_ms)) else {
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
        cache::cached(snapshot, api, ids, read, refresh)
    }

    /// The fetch of `ids` for `api` with `snapshot`'s credentials.
    fn fetch(
        &self,
        api: Api,
        ids: &IdSet,
        snapshot: Arc<Snapshot>,
        deadline: &Deadline,
    ) -> Result<Fetch, Error> {
        Ok(Fetch {
            api,
            ids: ids.clone(),
            snapshot,
            service: Arc::clone(self.service(deadline)?),
            policy: self.cache_policy()?,
        })
    }

    /// The digest of this client's outcome-changing settings: its flights
    /// are shared only with clients whose digest is the same.
    fn flight_settings(&self) -> Result<&Arc<Digest>, Error> {
        self.settings_digest
            .get_or_try_init(|| settings_digest(&self.settings))
    }

    /// How this client caches.
    fn cache_policy(&self) -> Result<CachePolicy, Error> {
        Ok(CachePolicy {
            cache: self.settings.cache,
            margin: self.settings.refresh_margin,
            ahead: self.settings.refresh_ahead,
            flight_settings: Arc::clone(self.flight_settings()?),
            timeout: self.settings.timeout,
        })
    }
}

/// What the process keeps for a client alone goes with it.
impl Drop for Client {
    fn drop(&mut self) {
        users::drop_handle(self.id);
        let id = self.id;
        REGIONAL.remove_where(|key, _| key.handle == id);
    }
}

/// Regional clients are kept; they hold no token of their own.
impl Keepable for Arc<Client> {}

/// The identifier set of `ids` for `api`, checked.
pub(crate) fn api_ids<I: AsRef<[u8]>>(api: Api, ids: &[I]) -> Result<IdSet, Error> {
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
