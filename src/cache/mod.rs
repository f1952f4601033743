//! The token cache: its keys, when a token is due, and the store.
//!
//! Entries are keyed by a keyed digest of the API, region, endpoint and the
//! complete credentials that minted the token (access key id, secret key,
//! session token), and by the normalised identifier set, so no token is
//! shared across identities. A token is served while more than its refresh
//! margin is left; after that the next caller refreshes it. Shortly before
//! that (refresh ahead), a caller still gets the cached token and one
//! background refresh is claimed. A token can be found by its own text to
//! be forgotten.
//!
//! The store is a [`Kept`], read without a lock; a lookup borrows its key,
//! so a cached call builds no string.

mod read_through;

pub(crate) use read_through::{cached, listen, CachePolicy, Fetch};

use crate::ids::IdSet;
use crate::kept::{Cached, Due, Forgotten, Keepable, Kept, KeyHasher};
use crate::keyed::{token_digest, Digest};
use crate::snapshot::Snapshot;
use crate::token::{Api, Token};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;
use std::time::Duration;

/// The default refresh margin: five minutes, or half the token's lifetime
/// when that is shorter.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

const SHARDS: usize = 16;
/// Entries per shard; the whole cache holds at most `SHARDS` times this.
const SHARD_CAPACITY: usize = 64;

/// The process-wide token cache.
pub(crate) static TOKENS: LazyLock<Kept<Key, Token, KeyHasher>> =
    LazyLock::new(|| Kept::new("tokens", SHARDS, SHARD_CAPACITY));

/// The cached token of `key` handed to `read` (see [`Kept::read`]); on a
/// miss `read` comes back unused.
pub(crate) fn read<R, F: FnOnce(&Token) -> R>(
    key: KeyRef<'_>,
    now: i64,
    read: F,
) -> Result<Cached<R>, F> {
    TOKENS.read(&key as &dyn KeyParts, now, read)
}

/// A token is forgotten by its text: the digests are compared in constant
/// time (a forget is rare: a refused login).
impl Keepable for Token {
    fn forget(&self, token: &Digest) -> Forgotten<Token> {
        match token_digest(self.secret().as_bytes()) {
            Ok(own) if own.same_as(token) => Forgotten::Dropped,
            _ => Forgotten::NotHeld,
        }
    }
}

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

impl<'a> KeyRef<'a> {
    /// The key of `ids` for `api` under `snapshot`'s identity.
    pub(crate) fn of(snapshot: &'a Snapshot, api: Api, ids: &'a IdSet) -> KeyRef<'a> {
        KeyRef {
            scope: snapshot.scope(api),
            ids: ids.as_str(),
        }
    }
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
        // The scope is a keyed digest, uniform already: its first word
        // places a key as well as all of it (equality compares all of it).
        let parts = self.parts();
        state.write_u64(parts.scope.first_word());
        state.write(parts.ids.as_bytes());
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
    let until = token.expires_at() - margin;
    let early = if ahead { (margin / 2).min(60) } else { 0 };
    Due {
        ahead_at: until - early,
        until,
    }
}

#[cfg(test)]
mod tests;
