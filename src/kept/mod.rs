//! The one way the process keeps things: [`Kept`], a bounded map with an
//! expiry per entry and a built-in single flight.
//!
//! Tokens, users' sessions, web token files, custom-domain mappings,
//! browser sign-ins and regional clients are each kept in a `Kept` (see
//! [`crate::memory`], which lists them all). What every store does the same
//! way is here, once:
//! - reads take no lock: each shard's map is swapped whole when it changes
//!   (rarely: once per value made), so a read is one atomic load, one
//!   lookup and one copy, and readers share no written cache line;
//! - a full shard drops what is past its time, then what is due soonest;
//! - "look, fly, look again, make, keep" ([`Kept::fly`]): concurrent misses
//!   for one key make one value, and the flight key carries the digest of
//!   the settings that change the outcome, so a caller never receives a
//!   value (or an error) made with another identity or other settings;
//! - [`Store`]: emptied by `rs_idc_cache_clear`, searched by
//!   `rs_idc_forget_token`.

use crate::clock::{unix_now, Deadline};
use crate::error::Error;
use crate::flight::{Listener, SingleFlight};
use crate::fork;
use crate::keyed::Digest;
use arc_swap::ArcSwap;
use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// When a kept value is used, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Due {
    /// From here on a read still gets the value and one reader is told to
    /// make a new one in the background (refresh ahead); equal to `until`
    /// for values not refreshed ahead.
    pub(crate) ahead_at: i64,
    /// From here on the value is not served. The entry may stay (what
    /// renews it, a refresh token say, is part of it) until the bound
    /// makes room.
    pub(crate) until: i64,
}

impl Due {
    /// Served until `until`, with no refresh ahead.
    pub(crate) fn until(until: i64) -> Due {
        Due {
            ahead_at: until,
            until,
        }
    }

    /// Served until the bound makes room.
    pub(crate) const FOREVER: Due = Due {
        ahead_at: i64::MAX,
        until: i64::MAX,
    };
}

/// What forgetting a token leaves of a value.
pub(crate) enum Forgotten<V> {
    /// The value does not hold the token.
    NotHeld,
    /// The value held it and goes.
    Dropped,
    /// The value held it; this is what stays (due at once, so that the
    /// next call makes a new value from what it keeps).
    Kept(V),
}

/// A value a [`Kept`] store can hold.
pub(crate) trait Keepable: Clone + Send + Sync + 'static {
    /// What is left once the token whose keyed digest is `token` is
    /// forgotten (see [`crate::keyed::token_digest`]).
    fn forget(&self, _token: &Digest) -> Forgotten<Self> {
        Forgotten::NotHeld
    }
}

/// What every store answers to: the calls that act on everything the
/// process keeps.
pub(crate) trait Store: Sync {
    /// The store's name, for logs and tests.
    fn name(&self) -> &'static str;
    /// Drops every entry (what it holds is wiped as it drops).
    fn clear(&self);
    /// Drops (or strips) the entries holding the token whose keyed digest
    /// is `token`; whether there was one.
    fn forget(&self, token: &Digest) -> bool;
}

/// The handle (client) that entries of a per-handle store belong to: a
/// number never used twice in a process, so that a handle's entries are
/// never another's, and are dropped with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct HandleId(u64);

impl HandleId {
    /// A number no other handle of this process has.
    pub(crate) fn new() -> HandleId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        HandleId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a read found.
pub(crate) enum Cached<R> {
    /// The value, before its refresh-ahead time.
    Fresh(R),
    /// The value, in its refresh-ahead window: this caller claimed the
    /// background refresh and should start it.
    RefreshAhead(R),
}

#[cfg(test)]
impl<R> Cached<R> {
    /// What was read, whichever it was.
    pub(crate) fn into_inner(self) -> R {
        match self {
            Cached::Fresh(read) | Cached::RefreshAhead(read) => read,
        }
    }
}

struct Entry<V> {
    value: V,
    due: Due,
    /// The process that claimed this entry's background refresh; 0 when
    /// none did (a child after `fork()` may claim it again).
    refreshing: AtomicU32,
}

type Map<K, V, S> = HashMap<K, Arc<Entry<V>>, S>;

/// One shard: a map read without a lock, replaced whole by writers, who
/// take turns.
struct Shard<K, V, S> {
    map: ArcSwap<Map<K, V, S>>,
    writer: Mutex<()>,
}

/// A bounded, sharded map with an expiry per entry and a single flight
/// per key and settings. See the module documentation.
pub(crate) struct Kept<K, V, S = RandomState> {
    name: &'static str,
    shards: Box<[Shard<K, V, S>]>,
    per_shard: usize,
    hasher: S,
    flights: SingleFlight<(K, Digest), V>,
}

impl<K, V, S> Kept<K, V, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Keepable,
    S: BuildHasher + Clone + Default + Send + Sync,
{
    /// A store named `name` of at most `shards` × `per_shard` entries.
    /// Every store is listed in [`crate::memory`].
    pub(crate) fn new(name: &'static str, shards: usize, per_shard: usize) -> Self {
        let hasher = S::default();
        Kept {
            name,
            shards: (0..shards.max(1))
                .map(|_| Shard {
                    map: ArcSwap::from_pointee(Map::with_hasher(hasher.clone())),
                    writer: Mutex::new(()),
                })
                .collect(),
            per_shard: per_shard.max(1),
            hasher,
            flights: SingleFlight::new(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> &Shard<K, V, S> {
        let at = self.hasher.hash_one(key) as usize % self.shards.len();
        &self.shards[at]
    }

    /// Hands the value for `key` to `read`, if it is before its `until`;
    /// the value is not copied or counted on the way. In the refresh-ahead
    /// window the first reader (per process) is told to start the
    /// background refresh. On a miss `read` comes back unused.
    pub(crate) fn read<Q, R, F>(&self, key: &Q, now: i64, read: F) -> Result<Cached<R>, F>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        F: FnOnce(&V) -> R,
    {
        let map = self.shard(key).map.load();
        let Some(entry) = map.get(key) else {
            return Err(read);
        };
        if now < entry.due.ahead_at {
            return Ok(Cached::Fresh(read(&entry.value)));
        }
        if now >= entry.due.until {
            return Err(read);
        }
        let pid = fork::current_pid();
        let claimed = entry.refreshing.load(Ordering::Relaxed) != pid
            && entry.refreshing.swap(pid, Ordering::AcqRel) != pid;
        let value = read(&entry.value);
        Ok(if claimed {
            Cached::RefreshAhead(value)
        } else {
            Cached::Fresh(value)
        })
    }

    /// The value for `key` if it is before its refresh-ahead time (what a
    /// call about to make a new one checks first).
    pub(crate) fn fresh<Q>(&self, key: &Q, now: i64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.shard(key).map.load();
        map.get(key)
            .filter(|entry| now < entry.due.ahead_at)
            .map(|entry| entry.value.clone())
    }

    /// The value for `key`, due or not (what renews it may be in it).
    pub(crate) fn latest<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.shard(key).map.load();
        map.get(key).map(|entry| entry.value.clone())
    }

    /// Keeps `value` under `key`; a full shard first drops what is past
    /// its time, then the entry that is due soonest.
    pub(crate) fn keep(&self, key: K, value: V, due: Due) {
        let now = unix_now();
        let entry = Arc::new(Entry {
            value,
            due,
            refreshing: AtomicU32::new(0),
        });
        self.rewrite(self.shard(&key), |map| {
            if map.len() >= self.per_shard && !map.contains_key(&key) {
                map.retain(|_, entry| now < entry.due.until);
                while map.len() >= self.per_shard {
                    let soonest = map
                        .iter()
                        .min_by_key(|(_, entry)| entry.due.until)
                        .map(|(key, _)| key.clone());
                    match soonest {
                        Some(soonest) => map.remove(&soonest),
                        None => break,
                    };
                }
            }
            map.insert(key, entry);
            true
        });
    }

    /// The value for `key`: kept and fitting (`fits`), else made by
    /// `make` — once for all concurrent callers with the same key and
    /// `settings` — and kept. `make` gets the value kept before, due or
    /// not, to renew from. Each caller waits until its own `deadline`.
    pub(crate) fn fly(
        &self,
        key: &K,
        settings: &Digest,
        deadline: &Deadline,
        fits: impl Fn(&V) -> bool,
        make: impl FnOnce(Option<V>) -> Result<(V, Due), Error>,
    ) -> Result<V, Error> {
        if let Some(value) = self.fresh(key, unix_now()).filter(|v| fits(v)) {
            return Ok(value);
        }
        let flight = (key.clone(), settings.clone());
        self.flights.run(&flight, deadline, || {
            // Another flight may have kept one since the first look.
            if let Some(value) = self.fresh(key, unix_now()).filter(|v| fits(v)) {
                return Ok(value);
            }
            let (value, due) = make(self.latest(key))?;
            self.keep(key.clone(), value.clone(), due);
            Ok(value)
        })
    }

    /// Hands `listener` to the flight in progress for `key` and
    /// `settings`; without one, gives it back.
    pub(crate) fn listen(
        &self,
        key: K,
        settings: &Digest,
        listener: Listener<V>,
    ) -> Result<(), Listener<V>> {
        self.flights.listen(&(key, settings.clone()), listener)
    }

    /// A value for which `wanted` says so, if one is kept.
    pub(crate) fn find(&self, wanted: impl Fn(&K, &V) -> bool) -> Option<V> {
        self.shards.iter().find_map(|shard| {
            let map = shard.map.load();
            map.iter()
                .find(|(key, entry)| wanted(key, &entry.value))
                .map(|(_, entry)| entry.value.clone())
        })
    }

    /// Drops the entries for which `drop` says so; how many.
    pub(crate) fn remove_where(&self, drop: impl Fn(&K, &V) -> bool) -> usize {
        let mut removed = 0;
        for shard in self.shards.iter() {
            self.rewrite(shard, |map| {
                let before = map.len();
                map.retain(|key, entry| !drop(key, &entry.value));
                removed += before - map.len();
                before != map.len()
            });
        }
        removed
    }

    /// Replaces `shard`'s map with a copy that `change` edited (when it
    /// says it changed something). Writers take turns; the old map, and
    /// the values only it held, are dropped after the turn ends, so that
    /// dropping a value may use any store.
    fn rewrite(&self, shard: &Shard<K, V, S>, change: impl FnOnce(&mut Map<K, V, S>) -> bool) {
        let old = {
            let _turn = fork::lock(&shard.writer);
            let mut map = Map::clone(&shard.map.load_full());
            if !change(&mut map) {
                return;
            }
            shard.map.swap(Arc::new(map))
        };
        drop(old);
    }

    /// How many entries are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.map.load().len()).sum()
    }
}

impl<K, V, S> Store for Kept<K, V, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Keepable,
    S: BuildHasher + Clone + Default + Send + Sync,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn clear(&self) {
        for shard in self.shards.iter() {
            self.rewrite(shard, |map| {
                let had = !map.is_empty();
                map.clear();
                had
            });
        }
    }

    fn forget(&self, token: &Digest) -> bool {
        let mut found = false;
        for shard in self.shards.iter() {
            self.rewrite(shard, |map| {
                let mut changed = false;
                let keys: Vec<K> = map.keys().cloned().collect();
                for key in keys {
                    let Some(entry) = map.get(&key) else { continue };
                    match entry.value.forget(token) {
                        Forgotten::NotHeld => continue,
                        Forgotten::Dropped => {
                            map.remove(&key);
                        }
                        Forgotten::Kept(rest) => {
                            let stripped = Entry {
                                value: rest,
                                due: Due::until(i64::MIN),
                                refreshing: AtomicU32::new(0),
                            };
                            map.insert(key, Arc::new(stripped));
                        }
                    }
                    changed = true;
                }
                found |= changed;
                changed
            });
        }
        found
    }
}

/// A quick hash for keys that lead with a uniform word (a keyed digest's
/// first word, see [`Digest::first_word`]): a multiply-rotate mix, a few
/// nanoseconds where the default hash takes tens. Equality still compares
/// whole keys. The spread matters all the same: each shard is bounded, so
/// keys that crowd one shard push each other out early.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let words = bytes.chunks_exact(8);
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        // The length goes into the last word, so "a" and "a\0" differ.
        last[7] ^= bytes.len() as u8;
        for word in words {
            self.mix(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
        }
        self.mix(u64::from_le_bytes(last));
    }

    fn write_u64(&mut self, word: u64) {
        self.mix(word);
    }

    /// A multiply carries each bit only upward, so the low bits (where
    /// the shard and the bucket are taken) are the poorly mixed ones:
    /// the well mixed high bits are rotated down.
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl BuildHasher for KeyHasher {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        *self
    }
}

#[cfg(test)]
mod tests;
