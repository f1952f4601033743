//! The safe core: a client that checks identifiers, bounds every call in
//! time and hands out only answers that carry a token and a future expiry.

use crate::aws;
use crate::cache::{self, FlightKey, Key, SingleFlight, TokenCache};
use crate::error::Error;
use crate::fork::{self, PerProcess};
use crate::hosts;
use crate::ids;
use crate::keyed::{Digest, KeyedHash};
use crate::runtime;
use crate::settings::Settings;
use crate::token::{Api, Token};
use crate::values::check_endpoint;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// How long a resolved identity is trusted before it is resolved again,
/// when its credentials do not expire sooner.
const IDENTITY_RECHECK: Duration = Duration::from_secs(300);

/// The environment variables of credentials: when the chain took the
/// credentials from them, a change means the host switched identities.
const ENV_CREDENTIALS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// The credential variables as they were, wiped when dropped.
#[derive(PartialEq, Eq)]
struct EnvCredentials([Option<Zeroizing<Vec<u8>>>; 3]);

impl EnvCredentials {
    fn read() -> EnvCredentials {
        EnvCredentials(
            ENV_CREDENTIALS
                .map(|name| std::env::var_os(name).map(|v| Zeroizing::new(OsString::into_vec(v)))),
        )
    }
}

/// The identity that cache keys are built from, resolved on a miss and
/// trusted by hits until it goes stale.
struct Snapshot {
    identity: aws::Identity,
    /// The cache-key scope of each API: a keyed digest of the API, the
    /// region, the endpoint and the complete credentials.
    cluster_scope: Digest,
    serverless_scope: Digest,
    /// The credential variables when the identity was resolved by the
    /// chain (not for explicit credentials, which the environment cannot
    /// change).
    env_credentials: Option<EnvCredentials>,
    stale_after: Instant,
}

impl Snapshot {
    fn is_fresh(&self) -> bool {
        Instant::now() < self.stale_after
            && self
                .env_credentials
                .as_ref()
                .is_none_or(|seen| *seen == EnvCredentials::read())
    }

    fn key(&self, api: Api, ids: &[String]) -> Key {
        let scope = match api {
            Api::Provisioned => &self.cluster_scope,
            Api::Serverless => &self.serverless_scope,
        };
        Key::new(scope, ids)
    }
}

/// The scope digest of `api`'s calls from `service` with `identity`.
fn scope_digest(
    service: &aws::Service,
    api: Api,
    identity: &aws::Identity,
) -> Result<Digest, Error> {
    let mut hash = KeyedHash::new("rs-idc token scope")?;
    hash.field(api.name().as_bytes())
        .field(service.region().as_bytes())
        .optional(service.endpoint(api).map(str::as_bytes));
    identity.bind(&mut hash);
    Ok(hash.finish())
}

/// The digest of the settings that change a call's outcome: two clients
/// share a flight only when theirs are equal.
fn settings_digest(settings: &Settings) -> Result<Digest, Error> {
    fn text(value: &Option<String>) -> Option<&[u8]> {
        value.as_deref().map(str::as_bytes)
    }
    let mut hash = KeyedHash::new("rs-idc flight settings")?;
    hash.optional(text(&settings.region))
        .optional(text(&settings.profile))
        .optional(text(&settings.endpoint_url))
        .optional(text(&settings.proxy))
        .optional(text(&settings.http_proxy))
        .optional(text(&settings.no_proxy))
        .optional(settings.ca_bundle.as_deref())
        .field(&settings.timeout.as_nanos().to_be_bytes())
        .field(&settings.connect_timeout.as_nanos().to_be_bytes())
        .optional(
            settings
                .max_attempts
                .map(u32::to_be_bytes)
                .as_ref()
                .map(|b| &b[..]),
        )
        .field(&[u8::from(settings.allow_http)]);
    Ok(hash.finish())
}

static CACHE: LazyLock<TokenCache> = LazyLock::new(TokenCache::new);
static FLIGHTS: LazyLock<SingleFlight<FlightKey>> = LazyLock::new(SingleFlight::<FlightKey>::new);

/// The most clients kept for the regions of host names; the least recently
/// used one is dropped beyond it, so memory stays flat however many
/// regions host names name.
const MAX_REGIONAL_CLIENTS: usize = 8;

/// Empties the process-wide token cache; the dropped tokens are wiped.
pub fn clear_cache() {
    CACHE.clear();
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
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// One identity resolution at a time per client and process (a lock
    /// held by a thread of the parent must not block a child).
    resolving: PerProcess<Mutex<()>>,
    /// Clients for the regions of host names, when no region is set, most
    /// recently used first.
    regional: Mutex<Vec<(String, Arc<Client>)>>,
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
            snapshot: RwLock::new(None),
            resolving: PerProcess::new(),
            regional: Mutex::new(Vec::new()),
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
        let own = fork::read(&self.snapshot);
        if let Some(snapshot) = own.as_ref() {
            return Some(snapshot.identity.clone());
        }
        drop(own);
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
        self.token(Api::Provisioned, ids::normalise_cluster_ids(cluster_ids)?)
    }

    /// Gets a token for the Redshift Serverless workgroups `workgroups`
    /// (1 to 20 names), with the same checks, bounds and cache.
    pub fn get_serverless_token<I: AsRef<[u8]>>(&self, workgroups: &[I]) -> Result<Token, Error> {
        self.token(Api::Serverless, ids::normalise_workgroups(workgroups)?)
    }

    /// Gets a token for the cluster or workgroup that a Redshift host name
    /// names (see [`hosts::parse_host`]). A region in the settings wins over
    /// the host's.
    pub fn get_token_for_host(&self, host: &[u8]) -> Result<Token, Error> {
        let target = hosts::parse_host(host)?;
        if self.settings.region.is_some() {
            return self.token(target.api, vec![target.name]);
        }
        self.regional(&target.region)
            .token(target.api, vec![target.name])
    }

    /// A client like this one, for `region`; at most
    /// [`MAX_REGIONAL_CLIENTS`] are kept.
    fn regional(&self, region: &str) -> Arc<Client> {
        let mut clients = fork::lock(&self.regional);
        let client = match clients.iter().position(|(name, _)| name == region) {
            Some(at) => clients.remove(at).1,
            None => Arc::new(Client::new(Settings {
                region: Some(region.to_owned()),
                ..self.settings.clone()
            })),
        };
        clients.insert(0, (region.to_owned(), Arc::clone(&client)));
        // The dropped client goes once no call uses it; its cached tokens
        // stay in the cache until they are due.
        clients.truncate(MAX_REGIONAL_CLIENTS);
        client
    }

    /// How many regional clients are kept (for tests).
    #[cfg(test)]
    fn regional_count(&self) -> usize {
        fork::lock(&self.regional).len()
    }

    /// Serves `ids` (already normalised) from the cache or the service,
    /// and logs the outcome (lengths and expiries only).
    fn token(&self, api: Api, ids: Vec<String>) -> Result<Token, Error> {
        let count = ids.len();
        let result = self.token_unlogged(api, ids);
        match &result {
            Ok(token) => tracing::debug!(
                "{} token for {count} identifier(s): {} bytes, expires at {}",
                api.name(),
                token.secret().len(),
                token.expires_at()
            ),
            Err(err) => tracing::warn!(
                "{} token for {count} identifier(s) failed: {:?}: {}",
                api.name(),
                err.status(),
                err.message()
            ),
        }
        result
    }

    fn token_unlogged(&self, api: Api, ids: Vec<String>) -> Result<Token, Error> {
        if self.settings.cache {
            if let Some(snapshot) = self.fresh_snapshot() {
                if let Some(token) = CACHE.get(&snapshot.key(api, &ids), unix_now()) {
                    return Ok(token);
                }
            }
        }
        let deadline = Instant::now() + self.settings.timeout;
        let snapshot = self.snapshot(deadline)?;
        if !self.settings.cache {
            return self.fetch(api, &snapshot, ids, deadline);
        }
        let key = snapshot.key(api, &ids);
        let settings = self
            .settings_digest
            .get_or_try_init(|| settings_digest(&self.settings))?;
        FLIGHTS.run(&FlightKey::new(&key, &settings), deadline, || {
            // Another flight may have filled the entry since the lookup above.
            if let Some(token) = CACHE.get(&key, unix_now()) {
                return Ok(token);
            }
            let minted_at = unix_now();
            let token = self.fetch(api, &snapshot, ids, deadline)?;
            let refresh_at = cache::refresh_at(&token, minted_at, self.settings.refresh_margin);

            CACHE.put(key.clone(), token.clone(), refresh_at, minted_at);
            Ok(token)
        })
    }

    /// Makes the API call with the snapshot's credentials.
    fn fetch(
        &self,
        api: Api,
        snapshot: &Snapshot,
        ids: Vec<String>,
        deadline: Instant,
    ) -> Result<Token, Error> {
        let service = self.service(deadline)?;
        let identity = snapshot.identity.clone();
        let answer = runtime::run(deadline, async move {
            aws::get_token(&service, api, &identity, ids).await
        })?;
        let token = Token::from_answer(answer, unix_now())?;
        tracing::info!(
            "{} token fetched: {} bytes, expires at {}",
            api.name(),
            token.secret().len(),
            token.expires_at()
        );
        Ok(token)
    }

    fn fresh_snapshot(&self) -> Option<Arc<Snapshot>> {
        let snapshot = fork::read(&self.snapshot);
        snapshot.as_ref().filter(|s| s.is_fresh()).cloned()
    }

    /// The current identity snapshot, resolved again when stale.
    fn snapshot(&self, deadline: Instant) -> Result<Arc<Snapshot>, Error> {
        if let Some(snapshot) = self.fresh_snapshot() {
            return Ok(snapshot);
        }
        let resolving = self.resolving.get_or_try_init(|| Ok(Mutex::new(())))?;
        let _one_at_a_time = fork::lock_ungated(&resolving);
        if let Some(snapshot) = self.fresh_snapshot() {
            return Ok(snapshot);
        }
        let env_credentials = self
            .settings
            .credentials
            .is_none()
            .then(EnvCredentials::read);
        let resolved_at = Instant::now();
        let service = self.service(deadline)?;
        let resolver = Arc::clone(&service);
        let identity = runtime::run(
            deadline,
            async move { aws::resolve_identity(&resolver).await },
        )?;
        let mut trust = IDENTITY_RECHECK;
        if let Some(left) = identity
            .expiry()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
        {
            trust = trust.min(left.saturating_sub(IDENTITY_RECHECK));
        }
        let snapshot = Arc::new(Snapshot {
            cluster_scope: scope_digest(&service, Api::Provisioned, &identity)?,
            serverless_scope: scope_digest(&service, Api::Serverless, &identity)?,
            identity,
            env_credentials,
            stale_after: resolved_at + trust,
        });
        *fork::write(&self.snapshot) = Some(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    /// The SDK clients of this process, built on first use. The HTTP
    /// client (and its TLS set-up) is built here, on the calling thread.
    /// Endpoints from the environment or a profile pass the same
    /// plain-http check as an explicit one.
    fn service(&self, deadline: Instant) -> Result<Arc<aws::Service>, Error> {
        self.service.get_or_try_init(|| {
            let settings = self.settings.clone();
            let http = aws::http::http_client(&settings)?;
            let service =
                runtime::run(deadline, async move { aws::connect(&settings, http).await })?;
            for api in [Api::Provisioned, Api::Serverless] {
                if let Some(endpoint) = service.endpoint(api) {
                    check_endpoint("endpoint", endpoint, self.settings.allow_http)?;
                }
            }
            Ok(service)
        })
    }
}

static DEFAULT_CLIENT: PerProcess<Client> = PerProcess::new();

/// The process-wide client that `rs_idc_get_token` uses, built on first use
/// from the environment (see [`Settings::from_env`]).
///
/// A bad setting is reported on every call until it is fixed; it is not
/// remembered.
pub fn default_client() -> Result<Arc<Client>, Error> {
    crate::log::init_from_env();
    DEFAULT_CLIENT.get_or_try_init(|| Settings::from_env().map(Client::new))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    #[test]
    fn host_names_keep_a_bounded_number_of_regional_clients() {
        let fake = rs_idc_fake::FakeServer::start().unwrap();
        let client = Client::new(Settings {
            endpoint_url: Some(fake.url()),
            credentials: Some(crate::StaticCredentials::new(
                rs_idc_fake::keys::IDC_ACCESS_KEY_ID,
                rs_idc_fake::keys::IDC_SECRET_ACCESS_KEY,
                Some(rs_idc_fake::keys::IDC_SESSION_TOKEN.into()),
            )),
            ..Settings::default()
        });
        for n in 1..=3 * MAX_REGIONAL_CLIENTS {
            let host = format!("c{n}.abc.us-test-{}.redshift.amazonaws.com", n % 100);
            client.get_token_for_host(host.as_bytes()).unwrap();
            assert!(client.regional_count() <= MAX_REGIONAL_CLIENTS);
        }
        assert_eq!(client.regional_count(), MAX_REGIONAL_CLIENTS);
        let before = fake.requests();
        // A made-up region is refused before any client is made.
        let err = client
            .get_token_for_host(b"c1.abc.aa-bb-9.redshift.amazonaws.com")
            .unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert_eq!(fake.requests(), before);
    }

    #[test]
    fn bad_identifiers_fail_before_any_service_is_built() {
        // The endpoint does not exist: reaching the network would fail
        // differently (and slowly).
        let client = Client::new(Settings {
            endpoint_url: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            ..Settings::default()
        });
        let err = client.get_token(&["ok", "not_ok"]).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(err.message().starts_with("ids[1] "));
    }
}
