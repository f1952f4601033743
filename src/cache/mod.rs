//! The token cache.
//!
//! Entries are keyed by a keyed digest of the API, region, endpoint and the
//! complete credentials that minted the token (access key id, secret key,
//! session token), and by the normalised identifier set, so no token is
//! shared across identities. A token is served while more than its refresh
//! margin is left; after that the next caller refreshes it. Shortly before
//! that (refresh ahead), a caller still gets the cached token and one
//! background refresh is claimed. A token can be found by its own text to
//! be forgotten: entries keep a keyed digest of it.
//!
//! Readers take no lock: each shard's map is swapped whole when it changes
//! (which is rare: once per fetched token), so a cached call is one atomic
//! load, one lookup and one copy, and threads reading at once share no
//! written cache line. A lookup borrows its key; a cached call builds no
//! string.

use crate::fork;
use crate::keyed::{Digest, KeyedHash};
use crate::token::Token;
use arc_swap::ArcSwap;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
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
    /// The keyed digest of the token's text, for [`TokenCache::forget`].
    fingerprint: Digest,
    due: Due,
    /// The process that claimed this entry's background refresh; 0 when
    /// none did (a child after `fork()` may claim it again).
    refreshing: AtomicU32,
}

/// When a cached token is refreshed, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Due {
    /// From here on a call still gets the token and claims one background
    /// refresh (refresh ahead); equal to `refresh_at` without it.
    pub(crate) ahead_at: i64,
    /// From here on the token is no longer served.
    pub(crate) refresh_at: i64,
}

/// When a token of this lifetime is refreshed: `margin` before its expiry
/// (by default the smaller of five minutes and half its lifetime), and
/// with `ahead`, a background refresh from margin + min(60 s, margin / 2)
/// before its expiry.
pub(crate) fn due(token: &Token, minted_at: i64, margin: Option<Duration>, ahead: bool) -> Due {
    let lifetime = (token.expires_at() - minted_at).max(0);
    let margin = match margin {
        Some(margin) => margin.as_secs() as i64,
        None => (DEFAULT_REFRESH_MARGIN.as_secs() as i64).min(lifetime / 2),
    };
    let refresh_at = token.expires_at() - margin;
    let early = if ahead { (margin / 2).min(60) } else { 0 };
    Due {
        ahead_at: refresh_at - early,
        refresh_at,
    }
}

/// What a cached read found.
pub(crate) enum Cached<R> {
    /// The token, before its refresh-ahead time.
    Fresh(R),
    /// The token, in its refresh-ahead window: this caller claimed the
    /// background refresh and should start it.
    RefreshAhead(R),
}

#[cfg(test)]
impl<R> Cached<R> {
    fn into_inner(self) -> R {
        match self {
            Cached::Fresh(read) | Cached::RefreshAhead(read) => read,
        }
    }
}

/// The keyed digest that finds a token by its text.
fn fingerprint(text: &[u8]) -> Option<Digest> {
    let mut hash = KeyedHash::new("rs-idc cached token").ok()?;
    hash.field(text);
    Some(hash.finish())
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
    /// In the refresh-ahead window the first caller (per process) is told
    /// to start the background refresh. On a miss `read` comes back unused.
    pub(crate) fn read<R, F: FnOnce(&Token) -> R>(
        &self,
        key: KeyRef<'_>,
        now: i64,
        read: F,
    ) -> Result<Cached<R>, F> {
        let map = self.shard(&key).map.load();
        let Some(entry) = map.get(&key as &dyn KeyParts) else {
            return Err(read);
        };
        if now < entry.due.ahead_at {
            return Ok(Cached::Fresh(read(&entry.token)));
        }
        if now >= entry.due.refresh_at {
            return Err(read);
        }
        let pid = fork::current_pid();
        let claimed = entry.refreshing.load(Ordering::Relaxed) != pid
            && entry.refreshing.swap(pid, Ordering::AcqRel) != pid;
        let token = read(&entry.token);
        Ok(if claimed {
            Cached::RefreshAhead(token)
        } else {
            Cached::Fresh(token)
        })
    }

    /// The cached token for `key` if it is before its refresh-ahead time:
    /// what a call about to ask the service checks first.
    pub(crate) fn fresh(&self, key: KeyRef<'_>, now: i64) -> Option<Token> {
        let map = self.shard(&key).map.load();
        map.get(&key as &dyn KeyParts)
            .filter(|entry| now < entry.due.ahead_at)
            .map(|entry| entry.token.clone())
    }

    /// Drops the entry holding the token `text`, if there is one; the
    /// digests are compared in constant time. Whether one was dropped.
    pub(crate) fn forget(&self, text: &[u8]) -> bool {
        let Some(wanted) = fingerprint(text) else {
            return false;
        };
        let mut dropped = false;
        for shard in &self.shards {
            let _turn = fork::lock(&shard.writer);
            let map = shard.map.load();
            let found = map
                .iter()
                .filter(|(_, entry)| entry.fingerprint.same_as(&wanted))
                .map(|(key, _)| key.clone())
                .collect::<Vec<_>>();
            if !found.is_empty() {
                let mut map = Map::clone(&map);
                for key in found {
                    map.remove(&key);
                }
                shard.map.store(Arc::new(map));
                dropped = true;
            }
        }
        dropped
    }

    /// Stores a token; a full shard first drops what is past its refresh
    /// time, then the entry that is due soonest.
    pub(crate) fn put(&self, key: Key, token: Token, due: Due, now: i64) {
        let Some(fingerprint) = fingerprint(token.secret().as_bytes()) else {
            // No digest, no entry: the token is not cached, and still served.
            return;
        };
        let shard = self.shard(&key);
        let _turn = fork::lock(&shard.writer);
        let mut map = Map::clone(&shard.map.load());
        if map.len() >= SHARD_CAPACITY && !map.contains_key(&key) {
            map.retain(|_, entry| now < entry.due.refresh_at);
            if map.len() >= SHARD_CAPACITY {
                let due = map
                    .iter()
                    .min_by_key(|(_, entry)| entry.due.refresh_at)
                    .map(|(key, _)| key.clone());
                if let Some(due) = due {
                    map.remove(&due);
                }
            }
        }
        let entry = Entry {
            token,
            fingerprint,
            due,
            refreshing: AtomicU32::new(0),
        };
        map.insert(key, Arc::new(entry));
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
mod tests;
