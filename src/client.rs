//! The safe core: a client that checks identifiers, bounds every call in
//! time and hands out only answers that carry a token and a future expiry.

use crate::aws::{self, Answer};
use crate::cache::{self, Flavour, Key, SingleFlight, TokenCache};
use crate::error::Error;
use crate::hosts::{self, HostTarget};
use crate::ids;
use crate::runtime::{self, PerProcess};
use crate::settings::{check_endpoint, Settings};
use crate::status::Status;
use crate::sync;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// An Identity Center auth token and its expiry.
///
/// The token is wiped from memory when dropped and never shown by `Debug`.
#[derive(Clone)]
pub struct Token {
    secret: Zeroizing<String>,
    expires_at: i64,
}

impl Token {
    /// The token text, to send to Redshift as the subject token.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Expiry in Unix seconds (UTC).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    #[cfg(test)]
    pub(crate) fn for_tests(secret: &str, expires_at: i64) -> Token {
        Token {
            secret: Zeroizing::new(secret.to_owned()),
            expires_at,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("len", &self.secret.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// How long a resolved identity is trusted before it is resolved again,
/// when its credentials do not expire sooner.
const IDENTITY_RECHECK: Duration = Duration::from_secs(300);

/// The identity (and endpoint scope) that cache keys are built from,
/// resolved on a miss and trusted by hits until it goes stale.
struct Snapshot {
    /// The cache-key scope of each flavour, see [`aws::Service::scope`].
    cluster_scope: String,
    serverless_scope: String,
    identity: aws::Identity,
    /// `AWS_ACCESS_KEY_ID` when the identity was resolved: a change means
    /// the host switched credentials.
    env_access_key: Option<OsString>,
    stale_after: Instant,
}

impl Snapshot {
    fn is_fresh(&self) -> bool {
        Instant::now() < self.stale_after && std::env::var_os(ENV_ACCESS_KEY) == self.env_access_key
    }

    fn key(&self, flavour: Flavour, ids: &[String]) -> Key {
        let scope = match flavour {
            Flavour::Cluster => &self.cluster_scope,
            Flavour::Serverless => &self.serverless_scope,
        };
        Key::new(flavour, scope, self.identity.access_key_id(), ids)
    }
}

const ENV_ACCESS_KEY: &str = "AWS_ACCESS_KEY_ID";

static CACHE: LazyLock<TokenCache> = LazyLock::new(TokenCache::new);
static FLIGHTS: LazyLock<SingleFlight> = LazyLock::new(SingleFlight::new);

/// Empties the process-wide token cache; the dropped tokens are wiped.
pub fn clear_cache() {
    CACHE.clear();
}

/// A client: settings plus, per process, the SDK clients built from them.
///
/// A client may be used from many threads at once. After `fork()` the
/// child builds its own SDK clients on first use. Tokens are cached
/// process-wide, keyed by endpoint, region, the access key that minted
/// them and the identifier set, so clients with the same settings share them.
pub struct Client {
    settings: Settings,
    service: PerProcess<aws::Service>,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// One identity resolution at a time per client and process (a lock
    /// held by a thread of the parent must not block a child).
    resolving: PerProcess<Mutex<()>>,
    /// Clients for the regions of host names, when no region is set.
    regional: Mutex<HashMap<String, Arc<Client>>>,
}

impl Client {
    /// A client with the given settings. Nothing is resolved or contacted
    /// until the first call.
    pub fn new(settings: Settings) -> Client {
        Client {
            settings,
            service: PerProcess::new(),
            snapshot: RwLock::new(None),
            resolving: PerProcess::new(),
            regional: Mutex::new(HashMap::new()),
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
        let own = sync::read(&self.snapshot);
        if let Some(snapshot) = own.as_ref() {
            return Some(snapshot.identity.clone());
        }
        drop(own);
        let regional = sync::lock(&self.regional);
        regional
            .values()
            .find_map(|client| client.resolved_identity())
    }

    /// Gets a token for the clusters `cluster_ids` (1 to 20 identifiers).
    ///
    /// Identifiers are checked before any network traffic; their order,
    /// case and duplicates do not matter. A cached token is returned without
    /// touching the runtime; concurrent misses for one key make one call.
    pub fn get_token<I: AsRef<[u8]>>(&self, cluster_ids: &[I]) -> Result<Token, Error> {
        self.token(Flavour::Cluster, ids::normalise_cluster_ids(cluster_ids)?)
    }

    /// Gets a token for the Redshift Serverless workgroups `workgroups`
    /// (1 to 20 names), with the same checks, bounds and cache.
    pub fn get_serverless_token<I: AsRef<[u8]>>(&self, workgroups: &[I]) -> Result<Token, Error> {
        self.token(Flavour::Serverless, ids::normalise_workgroups(workgroups)?)
    }

    /// Gets a token for the cluster or workgroup that a Redshift host name
    /// names (see [`hosts::parse_host`]). A region in the settings wins over
    /// the host's.
    pub fn get_token_for_host(&self, host: &[u8]) -> Result<Token, Error> {
        let (flavour, name, region) = match hosts::parse_host(host)? {
            HostTarget::Cluster { id, region } => (Flavour::Cluster, id, region),
            HostTarget::Workgroup { name, region } => (Flavour::Serverless, name, region),
        };
        if self.settings.region.is_some() {
            return self.token(flavour, vec![name]);
        }
        self.regional(&region).token(flavour, vec![name])
    }

    /// A client like this one, for `region`.
    fn regional(&self, region: &str) -> Arc<Client> {
        let mut clients = sync::lock(&self.regional);
        let client = clients.entry(region.to_owned()).or_insert_with(|| {
            Arc::new(Client::new(Settings {
                region: Some(region.to_owned()),
                ..self.settings.clone()
            }))
        });
        Arc::clone(client)
    }

    /// Serves `ids` (already normalised) from the cache or the service,
    /// and logs the outcome (lengths and expiries only).
    fn token(&self, flavour: Flavour, ids: Vec<String>) -> Result<Token, Error> {
        let count = ids.len();
        let result = self.token_unlogged(flavour, ids);
        match &result {
            Ok(token) => tracing::debug!(
                "{flavour:?} token for {count} identifier(s): {} bytes, expires at {}",
                token.secret().len(),
                token.expires_at()
            ),
            Err(err) => tracing::warn!(
                "{flavour:?} token for {count} identifier(s) failed: {:?}: {}",
                err.status(),
                err.message()
            ),
        }
        result
    }

    fn token_unlogged(&self, flavour: Flavour, ids: Vec<String>) -> Result<Token, Error> {
        if self.settings.cache {
            if let Some(snapshot) = self.fresh_snapshot() {
                if let Some(token) = CACHE.get(&snapshot.key(flavour, &ids), unix_now()) {
                    return Ok(token);
                }
            }
        }
        let deadline = Instant::now() + self.settings.timeout;
        let snapshot = self.snapshot(deadline)?;
        if !self.settings.cache {
            return self.fetch(flavour, &snapshot, ids, deadline);
        }
        let key = snapshot.key(flavour, &ids);
        FLIGHTS.run(&key, deadline, || {
            // Another flight may have filled the entry since the lookup above.
            if let Some(token) = CACHE.get(&key, unix_now()) {
                return Ok(token);
            }
            let minted_at = unix_now();
            let token = self.fetch(flavour, &snapshot, ids, deadline)?;
            let refresh_at = cache::refresh_at(&token, minted_at, self.settings.refresh_margin);

            CACHE.put(key.clone(), token.clone(), refresh_at, minted_at);
            Ok(token)
        })
    }

    /// Makes the API call with the snapshot's credentials.
    fn fetch(
        &self,
        flavour: Flavour,
        snapshot: &Snapshot,
        ids: Vec<String>,
        deadline: Instant,
    ) -> Result<Token, Error> {
        let service = self.service(deadline)?;
        let identity = snapshot.identity.clone();
        let answer = runtime::run(deadline, async move {
            aws::get_token(&service, flavour, &identity, ids).await
        })?;
        let token = check_answer(answer, unix_now())?;
        tracing::info!(
            "{flavour:?} token fetched: {} bytes, expires at {}",
            token.secret().len(),
            token.expires_at()
        );
        Ok(token)
    }

    fn fresh_snapshot(&self) -> Option<Arc<Snapshot>> {
        let snapshot = sync::read(&self.snapshot);
        snapshot.as_ref().filter(|s| s.is_fresh()).cloned()
    }

    /// The current identity snapshot, resolved again when stale.
    fn snapshot(&self, deadline: Instant) -> Result<Arc<Snapshot>, Error> {
        if let Some(snapshot) = self.fresh_snapshot() {
            return Ok(snapshot);
        }
        let resolving = self.resolving.get_or_try_init(|| Ok(Mutex::new(())))?;
        let _one_at_a_time = resolving.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(snapshot) = self.fresh_snapshot() {
            return Ok(snapshot);
        }
        let env_access_key = std::env::var_os(ENV_ACCESS_KEY);
        let resolved_at = Instant::now();
        let service = self.service(deadline)?;
        let cluster_scope = service.scope(Flavour::Cluster);
        let serverless_scope = service.scope(Flavour::Serverless);
        let identity = runtime::run(
            deadline,
            async move { aws::resolve_identity(&service).await },
        )?;
        let mut trust = IDENTITY_RECHECK;
        if let Some(left) = identity
            .expiry()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
        {
            trust = trust.min(left.saturating_sub(IDENTITY_RECHECK));
        }
        let snapshot = Arc::new(Snapshot {
            cluster_scope,
            serverless_scope,
            identity,
            env_access_key,
            stale_after: resolved_at + trust,
        });
        *sync::write(&self.snapshot) = Some(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    /// The SDK clients of this process, built on first use. Endpoints from
    /// the environment or a profile pass the same plain-http check as an
    /// explicit one.
    fn service(&self, deadline: Instant) -> Result<Arc<aws::Service>, Error> {
        self.service.get_or_try_init(|| {
            let settings = self.settings.clone();
            let service = runtime::run(deadline, async move { aws::connect(&settings).await })?;
            for flavour in [Flavour::Cluster, Flavour::Serverless] {
                let endpoint = service.endpoint(flavour);
                if endpoint != "default" {
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
    DEFAULT_CLIENT.get_or_try_init(|| Settings::from_env().map(Client::new))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Accepts a success answer only with a non-empty token and a future expiry.
///
/// A truncated XML body parses as half a token with no expiry, so a token
/// without an expiry is never handed out.
fn check_answer(answer: Answer, now: i64) -> Result<Token, Error> {
    let request_id = answer
        .request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default();
    let bad = |what: &str| {
        Err(Error::new(
            Status::BadResponse,
            format!("the answer {what}{request_id}"),
        ))
    };
    let secret = match answer.token {
        Some(token) if !token.is_empty() => token,
        _ => return bad("has no token"),
    };
    if secret.contains('\0') {
        return bad("has a token with a NUL byte");
    }
    match answer.expires_at {
        None => bad("has a token but no expiry"),
        Some(at) if at <= now => bad("has an expiry that is not in the future"),
        Some(expires_at) => Ok(Token { secret, expires_at }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(token: Option<&str>, expires_at: Option<i64>) -> Answer {
        Answer {
            token: token.map(|t| Zeroizing::new(t.to_owned())),
            expires_at,
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn a_complete_answer_becomes_a_token() {
        let token = check_answer(answer(Some("abc"), Some(200)), 100).unwrap();
        assert_eq!(token.secret(), "abc");
        assert_eq!(token.expires_at(), 200);
        assert!(!format!("{token:?}").contains("abc"));
    }

    #[test]
    fn incomplete_answers_are_bad_responses() {
        let cases = [
            (answer(None, Some(200)), "no token"),
            (answer(Some(""), Some(200)), "no token"),
            (answer(Some("half-a-tok"), None), "no expiry"),
            (answer(Some("abc"), Some(100)), "not in the future"),
            (answer(Some("abc"), Some(50)), "not in the future"),
        ];
        for (answer, words) in cases {
            let err = check_answer(answer, 100).unwrap_err();
            assert_eq!(err.status(), Status::BadResponse);
            assert!(err.message().contains(words), "{}", err.message());
            assert!(err.message().contains("req-1"));
            assert!(!err.message().contains("half-a-tok"));
        }
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
