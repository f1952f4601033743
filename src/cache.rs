//! The token cache.
//!
//! Entries are keyed by a keyed digest of the API, region, endpoint and the
//! complete credentials that minted the token (access key id, secret key,
//! session token), and by the normalised identifier set, so no token is
//! shared across identities. A token is served while more than its refresh
//! margin is left; after that the next caller refreshes it.
//!
//! Readers take no lock: each shard's map is swapped whole when it changes
//! (which is rare: once per fetched token), so a cached call is one atomic
//! load, one lookup and one copy, and threads reading at once share no
//! written cache line. A lookup borrows its key; a cached call builds no
//! string.

use crate::fork;
use crate::keyed::Digest;
use crate::token::Token;
use arc_swap::ArcSwap;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The default refresh margin: five minutes, or half the token's lifetime
/// when that is shorter.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

const SHARDS: usize = 16;
/// Entries per shard; the whole cache holds at most `SHARDS` times this.
const SHARD_CAPACITY: usize = 64;

/// A cache key as a lookup borrows it: the scope digest (API, region,
/// endpoint, credentials) and the normalised identifiers, joined.
#[derive(Clone, Copy)]
pub(crate) struct KeyRef<'a> {
    pub(crate) scope: &'a Digest,
    pub(crate) ids: &'a str,
}

/// A cache key as the cache keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    scope: Digest,
    ids: Box<str>,
}

impl Key {
    pub(crate) fn new(view: KeyRef<'_>) -> Key {
        Key {
            scope: view.scope.clone(),
            ids: view.ids.into(),
        }
    }
}

/// What both key forms are made of, so that a `Key` map can be searched
/// with a `KeyRef`.
trait KeyParts {
    fn parts(&self) -> KeyRef<'_>;
}

impl KeyParts for Key {
    fn parts(&self) -> KeyRef<'_> {
        KeyRef {
            scope: &self.scope,
            ids: &self.ids,
        }
    }
}

impl KeyParts for KeyRef<'_> {
    fn parts(&self) -> KeyRef<'_> {
        *self
    }
}

impl<'a> Borrow<dyn KeyParts + 'a> for Key {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

impl Hash for dyn KeyParts + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let parts = self.parts();
        parts.scope.hash(state);
        parts.ids.hash(state);
    }
}

impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.parts(), other.parts());
        a.scope == b.scope && a.ids == b.ids
    }
}

impl Eq for dyn KeyParts + '_ {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn KeyParts).hash(state)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn KeyParts) == (other as &dyn KeyParts)
    }
}

impl Eq for Key {}

/// A flight key: a cache key and the digest of the settings that change
/// the outcome of a call (endpoint, proxies, CA certificates, time bounds,
/// attempts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FlightKey {
    key: Key,
    settings: Digest,
}

impl FlightKey {
    pub(crate) fn new(key: KeyRef<'_>, settings: &Digest) -> FlightKey {
        FlightKey {
            key: Key::new(key),
            settings: settings.clone(),
        }
    }
}

/// A quick hash for keys: the scope is already a keyed digest (uniform),
/// so its first word seeds a multiply-rotate mix of the identifiers.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for KeyHasher {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        *self
    }
}

fn hash_of(key: &dyn KeyParts) -> u64 {
    let mut hasher = KeyHasher::default();
    key.hash(&mut hasher);
    hasher.finish()
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

type Map = HashMap<Key, Arc<Entry>, KeyHasher>;

/// One shard: a map read without a lock, replaced whole by writers, who
/// take turns.
struct Shard {
    map: ArcSwap<Map>,
    writer: Mutex<()>,
}

/// A bounded, sharded map of tokens. Dropped tokens are wiped once no
/// reader holds them.
pub(crate) struct TokenCache {
    shards: [Shard; SHARDS],
}

impl TokenCache {
    pub(crate) fn new() -> TokenCache {
        TokenCache {
            shards: std::array::from_fn(|_| Shard {
                map: ArcSwap::from_pointee(Map::default()),
                writer: Mutex::new(()),
            }),
        }
    }

    fn shard(&self, key: &dyn KeyParts) -> &Shard {
        &self.shards[(hash_of(key) as usize) % SHARDS]
    }

    /// Hands the cached token for `key` to `read`, if it is still before
    /// its refresh time; the token is not copied or counted on the way.
    /// On a miss `read` comes back unused.
    pub(crate) fn read<R, F: FnOnce(&Token) -> R>(
        &self,
        key: KeyRef<'_>,
        now: i64,
        read: F,
    ) -> Result<R, F> {
        let map = self.shard(&key).map.load();
        match map.get(&key as &dyn KeyParts) {
            Some(entry) if now < entry.refresh_at => Ok(read(&entry.token)),
            _ => Err(read),
        }
    }

    /// Stores a token; a full shard first drops what is past its refresh
    /// time, then the entry that is due soonest.
    pub(crate) fn put(&self, key: Key, token: Token, refresh_at: i64, now: i64) {
        let shard = self.shard(&key);
        let _turn = fork::lock(&shard.writer);
        let mut map = Map::clone(&shard.map.load());
        if map.len() >= SHARD_CAPACITY && !map.contains_key(&key) {
            map.retain(|_, entry| now < entry.refresh_at);
            if map.len() >= SHARD_CAPACITY {
                let due = map
                    .iter()
                    .min_by_key(|(_, entry)| entry.refresh_at)
                    .map(|(key, _)| key.clone());
                if let Some(due) = due {
                    map.remove(&due);
                }
            }
        }
        map.insert(key, Arc::new(Entry { token, refresh_at }));
        shard.map.store(Arc::new(map));
    }

    /// Drops every entry.
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            let _turn = fork::lock(&shard.writer);
            shard.map.store(Arc::new(Map::default()));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.map.load().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(name: &str) -> Digest {
        let mut hash = crate::keyed::KeyedHash::new("test scope").unwrap();
        hash.field(name.as_bytes());
        hash.finish()
    }

    fn key(ids: &[&str]) -> Key {
        let scope = scope("us-east-1 http://127.0.0.1:1 AKID");
        Key::new(KeyRef {
            scope: &scope,
            ids: &ids.join(","),
        })
    }

    fn get(cache: &TokenCache, key: &Key, now: i64) -> Option<String> {
        cache
            .read(key.parts(), now, |token| token.secret().to_owned())
            .ok()
    }

    #[test]
    fn serves_a_token_until_its_refresh_time() {
        let cache = TokenCache::new();
        cache.put(key(&["a"]), Token::for_tests("t1", 1000), 900, 0);
        assert_eq!(get(&cache, &key(&["a"]), 899).as_deref(), Some("t1"));
        assert!(get(&cache, &key(&["a"]), 900).is_none());
        assert!(get(&cache, &key(&["b"]), 0).is_none());
        cache.clear();
        assert!(get(&cache, &key(&["a"]), 0).is_none());
    }

    #[test]
    fn keys_differ_by_every_part() {
        let (one, two) = (scope("one"), scope("two"));
        let view = |scope, ids| KeyRef { scope, ids };
        let base = Key::new(view(&one, "a"));
        assert!(base == Key::new(view(&one, "a")));
        assert!(base != Key::new(view(&two, "a")));
        assert!(base != Key::new(view(&one, "b")));
        // A borrowed key finds what an owned one stored, and only that.
        let cache = TokenCache::new();
        cache.put(base.clone(), Token::for_tests("t", 10), 5, 0);
        assert!(cache.read(view(&one, "a"), 0, |_| ()).is_ok());
        assert!(cache.read(view(&two, "a"), 0, |_| ()).is_err());
        let flight = FlightKey::new(view(&one, "a"), &scope("settings"));
        assert_ne!(flight, FlightKey::new(view(&one, "a"), &scope("other")));
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
        assert!(get(&cache, &key(&[&last]), 0).is_some());
    }
}
