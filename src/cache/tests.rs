use super::*;
use crate::clock::unix_now;
use crate::kept::Store;

fn scope(name: &str) -> Digest {
    let mut hash = crate::keyed::KeyedHash::new("test scope").unwrap();
    hash.field(name.as_bytes());
    hash.finish()
}

/// A key no other test uses: the cache is the process's.
fn key(ids: &str) -> Key {
    let scope = scope("us-east-1 http://127.0.0.1:1 AKID");
    Key::new(KeyRef { scope: &scope, ids })
}

fn get(key: &Key, now: i64) -> Option<String> {
    read(key.parts(), now, |token| token.secret().to_owned())
        .ok()
        .map(Cached::into_inner)
}

fn at(until: i64) -> Due {
    Due::until(until)
}

#[test]
fn serves_a_token_until_its_refresh_time() {
    let now = unix_now();
    TOKENS.keep(
        key("serves-a"),
        Token::for_tests("t1", now + 1000),
        at(now + 900),
    );
    assert_eq!(get(&key("serves-a"), now + 899).as_deref(), Some("t1"));
    assert!(get(&key("serves-a"), now + 900).is_none());
    assert!(get(&key("serves-b"), now).is_none());
}

#[test]
fn keys_differ_by_every_part() {
    let (one, two) = (scope("one"), scope("two"));
    let view = |scope, ids| KeyRef { scope, ids };
    let base = Key::new(view(&one, "differ-a"));
    assert!(base == Key::new(view(&one, "differ-a")));
    assert!(base != Key::new(view(&two, "differ-a")));
    assert!(base != Key::new(view(&one, "differ-b")));
    // A borrowed key finds what an owned one stored, and only that.
    let now = unix_now();
    TOKENS.keep(base.clone(), Token::for_tests("t", now + 10), at(now + 5));
    assert!(read(view(&one, "differ-a"), now, |_| ()).is_ok());
    assert!(read(view(&two, "differ-a"), now, |_| ()).is_err());
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
    assert_eq!((d.ahead_at, d.until), (3240, 3300));
    let twenty = Token::for_tests("t", 20);
    let d = due(&twenty, 0, None, true);
    assert_eq!((d.ahead_at, d.until), (5, 10));
}

#[test]
fn a_token_is_forgotten_by_its_text_only() {
    let now = unix_now();
    let later = at(now + 900);
    TOKENS.keep(
        key("forget-a"),
        Token::for_tests("refused-token", now + 1000),
        later,
    );
    TOKENS.keep(
        key("forget-b"),
        Token::for_tests("good-token", now + 1000),
        later,
    );
    let digest = |text: &str| token_digest(text.as_bytes()).unwrap();
    assert!(!TOKENS.forget(&digest("refused")));
    assert!(!TOKENS.forget(&digest("unknown-token")));
    assert!(TOKENS.forget(&digest("refused-token")));
    assert!(get(&key("forget-a"), now).is_none());
    assert_eq!(get(&key("forget-b"), now).as_deref(), Some("good-token"));
    assert!(!TOKENS.forget(&digest("refused-token")), "gone already");
}

#[test]
fn one_identity_keeps_a_quarter_of_the_bound_without_evictions() {
    // A store of the process cache's shape, so that the other tests' keys
    // do not count. Names alike but for a few characters, as a driver's
    // cluster names are: each shard is bounded, so a hash that crowds
    // them into one shard would push them out long before the bound.
    let kept: Kept<Key, Token, KeyHasher> = Kept::new("test", SHARDS, SHARD_CAPACITY);
    let scope = scope("us-east-1 http://127.0.0.1:1 spread");
    let names: Vec<String> = (0..SHARDS * SHARD_CAPACITY / 4)
        .map(|i| match i % 3 {
            0 => format!("slow-{}", 100 + i),
            1 => format!("fd-second-{i}"),
            _ => format!("c{i}"),
        })
        .collect();
    let now = unix_now();
    for name in &names {
        let key = Key::new(KeyRef {
            scope: &scope,
            ids: name,
        });
        kept.keep(key, Token::for_tests("t", now + 1000), at(now + 900));
    }
    let evicted: Vec<&String> = names
        .iter()
        .filter(|name| {
            let view = KeyRef {
                scope: &scope,
                ids: name,
            };
            kept.read(&view as &dyn KeyParts, now, |_| ()).is_err()
        })
        .collect();
    assert!(evicted.is_empty(), "evicted early: {evicted:?}");
}
