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
        .map(Cached::into_inner)
}

fn at(refresh_at: i64) -> Due {
    Due {
        ahead_at: refresh_at,
        refresh_at,
    }
}

#[test]
fn serves_a_token_until_its_refresh_time() {
    let cache = TokenCache::new();
    cache.put(key(&["a"]), Token::for_tests("t1", 1000), at(900), 0);
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
    cache.put(base.clone(), Token::for_tests("t", 10), at(5), 0);
    assert!(cache.read(view(&one, "a"), 0, |_| ()).is_ok());
    assert!(cache.read(view(&two, "a"), 0, |_| ()).is_err());
    let flight = FlightKey::new(view(&one, "a"), &scope("settings"));
    assert_ne!(flight, FlightKey::new(view(&one, "a"), &scope("other")));
}

#[test]
fn default_margin_is_five_minutes_or_half_the_lifetime() {
    let hour = Token::for_tests("t", 3600);
    assert_eq!(due(&hour, 0, None, false), at(3300));
    let minute = Token::for_tests("t", 60);
    assert_eq!(due(&minute, 0, None, false), at(30));
    assert_eq!(
        due(&hour, 0, Some(Duration::from_secs(10)), false),
        at(3590)
    );
}

#[test]
fn refresh_ahead_starts_a_minute_or_half_a_margin_earlier() {
    let hour = Token::for_tests("t", 3600);
    let d = due(&hour, 0, None, true);
    assert_eq!((d.ahead_at, d.refresh_at), (3240, 3300));
    let twenty = Token::for_tests("t", 20);
    let d = due(&twenty, 0, None, true);
    assert_eq!((d.ahead_at, d.refresh_at), (5, 10));
}

#[test]
fn one_caller_claims_the_refresh_ahead() {
    let cache = TokenCache::new();
    let due = Due {
        ahead_at: 5,
        refresh_at: 10,
    };
    cache.put(key(&["a"]), Token::for_tests("t1", 20), due, 0);
    let read = |now| cache.read(key(&["a"]).parts(), now, |t| t.secret().to_owned());
    assert!(matches!(read(4), Ok(Cached::Fresh(ref t)) if t == "t1"));
    assert!(matches!(read(5), Ok(Cached::RefreshAhead(ref t)) if t == "t1"));
    assert!(matches!(read(6), Ok(Cached::Fresh(ref t)) if t == "t1"));
    assert!(read(10).is_err());
    // Until the refresh lands, a caller about to ask the service sees
    // no fresh token.
    assert!(cache.fresh(key(&["a"]).parts(), 5).is_none());
    assert!(cache.fresh(key(&["a"]).parts(), 4).is_some());
}

#[test]
fn a_token_is_forgotten_by_its_text_only() {
    let cache = TokenCache::new();
    cache.put(
        key(&["a"]),
        Token::for_tests("refused-token", 1000),
        at(900),
        0,
    );
    cache.put(
        key(&["b"]),
        Token::for_tests("good-token", 1000),
        at(900),
        0,
    );
    assert!(!cache.forget(b"refused"));
    assert!(!cache.forget(b"unknown-token"));
    assert!(cache.forget(b"refused-token"));
    assert!(get(&cache, &key(&["a"]), 0).is_none());
    assert_eq!(get(&cache, &key(&["b"]), 0).as_deref(), Some("good-token"));
    assert!(!cache.forget(b"refused-token"), "gone already");
}

#[test]
fn stays_bounded_and_drops_what_is_due_first() {
    let cache = TokenCache::new();
    for i in 0..(SHARDS * SHARD_CAPACITY * 3) {
        let id = format!("c{i}");
        cache.put(
            key(&[&id]),
            Token::for_tests("t", 10_000),
            at(5_000 + i as i64),
            0,
        );
    }
    assert!(cache.len() <= SHARDS * SHARD_CAPACITY);
    // The newest entry (due last) survives.
    let last = format!("c{}", SHARDS * SHARD_CAPACITY * 3 - 1);
    assert!(get(&cache, &key(&[&last]), 0).is_some());
}
