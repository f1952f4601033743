//! The token cache and its single flight.
//!
//! Entries are keyed by a keyed digest of the API, region, endpoint and the
//! complete credentials that minted the token (access key id, secret key,
//! session token), and by the normalised identifier set. Flights are keyed
//! by that and by a digest of the settings that change a call's outcome,
//! so no token, flight or error is shared across identities or settings.
//! A token is served while more than its refresh margin is left; after that
//! the next caller refreshes it. Readers take a shard's read lock only, so
//! many threads read at once; concurrent misses for one key make one call.

use crate::error::Error;
use crate::fork;
use crate::keyed::Digest;
use crate::status::Status;
use crate::token::Token;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The default refresh margin: five minutes, or half the token's lifetime
/// when that is shorter.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

const SHARDS: usize = 16;
/// Entries per shard; the whole cache holds at most `SHARDS` times this.
const SHARD_CAPACITY: usize = 64;

/// A cache key: the scope digest (API, region, endpoint, credentials) and
/// the normalised identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    scope: Digest,
    ids: String,
}

impl Key {
    /// `ids` must be normalised.
    pub(crate) fn new(scope: &Digest, ids: &[String]) -> Key {
        Key {
            scope: scope.clone(),
            ids: ids.join(","),
        }
    }

    fn shard(&self) -> usize {
        let mut hasher = DefaultHasher::new();
        self.hash(&mut hasher);
        (hasher.finish() as usize) % SHARDS
    }
}

/// A flight key: a cache key and the digest of the settings that change
/// the outcome of a call (endpoint, proxies, CA certificates, time bounds,
/// attempts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FlightKey {
    key: Key,
    settings: Digest,
}

impl FlightKey {
    pub(crate) fn new(key: &Key, settings: &Digest) -> FlightKey {
        FlightKey {
            key: key.clone(),
            settings: settings.clone(),
        }
    }
}

struct Entry {
    token: Token,
    /// Unix seconds after which the entry is no longer served.
    refresh_at: i64,
}

/// When a token of this lifetime should be refreshed: `margin` before its
/// expiry, or by default the smaller of five minutes and half its lifetime.
pub(crate) fn refresh_at(token: &Token, minted_at: i64, margin: Option<Duration>) -> i64 {
    let lifetime = (token.expires_at() - minted_at).max(0);
    let margin = match margin {
        Some(margin) => margin.as_secs() as i64,
        None => (DEFAULT_REFRESH_MARGIN.as_secs() as i64).min(lifetime / 2),
    };
    token.expires_at() - margin
}

/// A bounded, sharded map of tokens.
pub(crate) struct TokenCache {
    shards: [RwLock<HashMap<Key, Entry>>; SHARDS],
}

impl TokenCache {
    pub(crate) fn new() -> TokenCache {
        TokenCache {
            shards: std::array::from_fn(|_| RwLock::new(HashMap::new())),
        }
    }

    /// The cached token for `key` if it is still before its refresh time.
    pub(crate) fn get(&self, key: &Key, now: i64) -> Option<Token> {
        let shard = fork::read(&self.shards[key.shard()]);
        shard
            .get(key)
            .filter(|entry| now < entry.refresh_at)
            .map(|entry| entry.token.clone())
    }

    /// Stores a token; a full shard first drops what is past its refresh
    /// time, then the entry that is due soonest. Dropped tokens are wiped.
    pub(crate) fn put(&self, key: Key, token: Token, refresh_at: i64, now: i64) {
        let mut shard = fork::write(&self.shards[key.shard()]);
        if shard.len() >= SHARD_CAPACITY && !shard.contains_key(&key) {
            shard.retain(|_, entry| now < entry.refresh_at);
            if shard.len() >= SHARD_CAPACITY {
                let due = shard
                    .iter()
                    .min_by_key(|(_, entry)| entry.refresh_at)
                    .map(|(key, _)| key.clone());
                if let Some(due) = due {
                    shard.remove(&due);
                }
            }
        }
        shard.insert(key, Entry { token, refresh_at });
    }

    /// Drops (and so wipes) every entry.
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            fork::write(shard).clear();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| fork::read(s).len()).sum()
    }
}

type Outcome = Result<Token, Error>;

/// One call in flight that other callers with the same key wait for.
struct Flight {
    /// The process of the leader: after `fork()` a flight inherited from the
    /// parent has no leader in the child, so the child must not wait for it.
    pid: u32,
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
}

/// Makes concurrent misses for one key share one call.
pub(crate) struct SingleFlight<K> {
    flights: Mutex<HashMap<K, Arc<Flight>>>,
}

impl<K: Hash + Eq + Clone> SingleFlight<K> {
    pub(crate) fn new() -> SingleFlight<K> {
        SingleFlight {
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `call` unless a call for `key` is already in flight, in which
    /// case waits (until `deadline`) for that call's outcome, success or error.
    pub(crate) fn run(
        &self,
        key: &K,
        deadline: Instant,
        call: impl FnOnce() -> Outcome,
    ) -> Outcome {
        let pid = std::process::id();
        let (flight, leader) = {
            let mut flights = fork::lock(&self.flights);
            match flights.get(key) {
                Some(flight) if flight.pid == pid => (Arc::clone(flight), false),
                _ => {
                    let flight = Arc::new(Flight {
                        pid,
                        outcome: Mutex::new(None),
                        done: Condvar::new(),
                    });
                    // An entry left by the parent's leader is replaced, not dropped
                    // in place of an answer: no one in this process waits for it.
                    if let Some(inherited) = flights.insert(key.clone(), Arc::clone(&flight)) {
                        std::mem::forget(inherited);
                    }
                    (flight, true)
                }
            }
        };
        if leader {
            // The guard publishes an outcome even if `call` panics, so that
            // no follower waits for nothing.
            let mut landing = Landing {
                flights: self,
                key,
                flight: &flight,
                outcome: None,
            };
            let outcome = call();
            landing.outcome = Some(outcome.clone());
            return outcome;
        }
        let mut outcome = fork::lock_ungated(&flight.outcome);
        loop {
            if let Some(outcome) = outcome.as_ref() {
                return outcome.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    Status::Timeout,
                    "the call did not finish within its time bound (waiting for the same request of another thread)",
                ));
            }
            outcome = fork::wait_ungated(&flight.done, outcome, left);
        }
    }
}

/// Ends a flight: publishes the leader's outcome and wakes the followers.
struct Landing<'a, K: Hash + Eq + Clone> {
    flights: &'a SingleFlight<K>,
    key: &'a K,
    flight: &'a Flight,
    outcome: Option<Outcome>,
}

impl<K: Hash + Eq + Clone> Drop for Landing<'_, K> {
    fn drop(&mut self) {
        let outcome = self
            .outcome
            .take()
            .unwrap_or_else(|| Err(Error::internal("the shared call ended without an answer")));
        let mut flights = fork::lock(&self.flights.flights);
        if flights
            .get(self.key)
            .is_some_and(|current| std::ptr::eq(Arc::as_ptr(current), self.flight))
        {
            flights.remove(self.key);
        }
        drop(flights);
        *fork::lock_ungated(&self.flight.outcome) = Some(outcome);
        self.flight.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    fn scope(name: &str) -> Digest {
        let mut hash = crate::keyed::KeyedHash::new("test scope").unwrap();
        hash.field(name.as_bytes());
        hash.finish()
    }

    fn key(ids: &[&str]) -> Key {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        Key::new(&scope("us-east-1 http://127.0.0.1:1 AKID"), &ids)
    }

    #[test]
    fn serves_a_token_until_its_refresh_time() {
        let cache = TokenCache::new();
        cache.put(key(&["a"]), Token::for_tests("t1", 1000), 900, 0);
        assert_eq!(cache.get(&key(&["a"]), 899).unwrap().secret(), "t1");
        assert!(cache.get(&key(&["a"]), 900).is_none());
        assert!(cache.get(&key(&["b"]), 0).is_none());
        cache.clear();
        assert!(cache.get(&key(&["a"]), 0).is_none());
    }

    #[test]
    fn keys_differ_by_every_part() {
        let ids = vec!["a".to_string()];
        let base = Key::new(&scope("one"), &ids);
        assert_eq!(base, Key::new(&scope("one"), &ids));
        assert_ne!(base, Key::new(&scope("two"), &ids));
        assert_ne!(base, Key::new(&scope("one"), &["b".to_string()]));
        let flight = FlightKey::new(&base, &scope("settings"));
        assert_ne!(flight, FlightKey::new(&base, &scope("other settings")));
    }

    #[test]
    fn default_margin_is_five_minutes_or_half_the_lifetime() {
        let hour = Token::for_tests("t", 3600);
        assert_eq!(refresh_at(&hour, 0, None), 3300);
        let minute = Token::for_tests("t", 60);
        assert_eq!(refresh_at(&minute, 0, None), 30);
        assert_eq!(refresh_at(&hour, 0, Some(Duration::from_secs(10))), 3590);
    }

    #[test]
    fn stays_bounded_and_drops_what_is_due_first() {
        let cache = TokenCache::new();
        for i in 0..(SHARDS * SHARD_CAPACITY * 3) {
            let id = format!("c{i}");
            cache.put(
                key(&[&id]),
                Token::for_tests("t", 10_000),
                5_000 + i as i64,
                0,
            );
        }
        assert!(cache.len() <= SHARDS * SHARD_CAPACITY);
        // The newest entry (due last) survives.
        let last = format!("c{}", SHARDS * SHARD_CAPACITY * 3 - 1);
        assert!(cache.get(&key(&[&last]), 0).is_some());
    }

    #[test]
    fn concurrent_misses_share_one_call_and_its_error() {
        let flights = SingleFlight::new();
        let calls = AtomicUsize::new(0);
        let barrier = Barrier::new(8);
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        flights.run(&key(&["x"]), deadline, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(200));
                            Err(Error::new(Status::NotFound, "gone"))
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for outcome in outcomes {
            assert_eq!(outcome.unwrap_err().status(), Status::NotFound);
        }
        // The flight is over: the next miss calls again.
        let again = flights.run(&key(&["x"]), deadline, || Ok(Token::for_tests("t", 1)));
        assert_eq!(again.unwrap().secret(), "t");
    }

    #[test]
    fn a_panicking_leader_still_releases_its_followers() {
        let flights = SingleFlight::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        let k = key(&["p"]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            flights.run(&k, deadline, || panic!("leader fails"))
        }));
        assert!(result.is_err());
        assert!(flights.flights.lock().unwrap().is_empty());
        let _: &SingleFlight<Key> = &flights;
    }
}
