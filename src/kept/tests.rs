use super::*;
use crate::keyed::KeyedHash;
use crate::status::Status;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
struct Held(&'static str);

impl Keepable for Held {
    fn forget(&self, token: &Digest) -> Forgotten<Held> {
        match self.0 {
            "whole" if *token == digest("whole") => Forgotten::Dropped,
            "part" if *token == digest("part") => Forgotten::Kept(Held("rest")),
            _ => Forgotten::NotHeld,
        }
    }
}

fn digest(text: &str) -> Digest {
    let mut hash = KeyedHash::new("kept tests").unwrap();
    hash.field(text.as_bytes());
    hash.finish()
}

fn store() -> Kept<String, Held> {
    Kept::new("test", 2, 4)
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

#[test]
fn serves_until_due_and_claims_one_refresh_ahead() {
    let kept = store();
    let now = unix_now();
    kept.keep(
        "a".into(),
        Held("x"),
        Due {
            ahead_at: now + 10,
            until: now + 20,
        },
    );
    let read = |at| kept.read("a", at, |v: &Held| v.0).ok();
    assert!(matches!(read(now), Some(Cached::Fresh("x"))));
    assert!(matches!(read(now + 10), Some(Cached::RefreshAhead("x"))));
    assert!(matches!(read(now + 11), Some(Cached::Fresh("x"))));
    assert!(read(now + 20).is_none());
    assert_eq!(
        kept.fresh("a", now + 10),
        None,
        "in the window it is not fresh"
    );
    assert_eq!(
        kept.latest("a"),
        Some(Held("x")),
        "due values stay for renewal"
    );
}

#[test]
fn stays_bounded_and_drops_what_is_due_first() {
    let kept: Kept<String, Held> = Kept::new("test", 1, 4);
    let now = unix_now();
    for n in 0..4 {
        kept.keep(format!("k{n}"), Held("v"), Due::until(now + 100 + n));
    }
    // Full: the entry due soonest makes room.
    kept.keep("past".into(), Held("old"), Due::until(now - 1));
    assert_eq!(kept.len(), 4);
    assert!(kept.latest("k0").is_none());
    // Full again: what is past its time goes first.
    kept.keep("new".into(), Held("n"), Due::until(now + 1000));
    assert_eq!(kept.len(), 4);
    assert!(kept.latest("past").is_none());
    for key in ["k1", "k2", "k3", "new"] {
        assert!(kept.fresh(key, now).is_some(), "{key} is kept");
    }
}

#[test]
fn flies_once_and_keeps_what_it_made() {
    let kept = store();
    let settings = digest("settings");
    let made = std::sync::atomic::AtomicUsize::new(0);
    for _ in 0..3 {
        let value = kept.fly(
            &"f".into(),
            &settings,
            &deadline(),
            |_| true,
            |previous| {
                made.fetch_add(1, Ordering::SeqCst);
                assert!(previous.is_none());
                Ok((Held("made"), Due::until(unix_now() + 60)))
            },
        );
        assert_eq!(value.unwrap(), Held("made"));
    }
    assert_eq!(made.load(Ordering::SeqCst), 1);
    // A value that no longer fits is made again, from the one before.
    let again = kept.fly(
        &"f".into(),
        &settings,
        &deadline(),
        |_| false,
        |previous| {
            assert_eq!(previous, Some(Held("made")));
            Ok((Held("again"), Due::until(unix_now() + 60)))
        },
    );
    assert_eq!(again.unwrap(), Held("again"));
    // Failures are not kept.
    let failed = kept.fly(
        &"g".into(),
        &settings,
        &deadline(),
        |_| true,
        |_| Err(Error::new(Status::NotFound, "no")),
    );
    assert_eq!(failed.unwrap_err().status(), Status::NotFound);
    assert!(kept.latest("g").is_none());
}

#[test]
fn clear_and_forget_reach_every_entry() {
    let kept = store();
    let later = Due::until(unix_now() + 60);
    kept.keep("w".into(), Held("whole"), later);
    kept.keep("p".into(), Held("part"), later);
    kept.keep("o".into(), Held("other"), later);
    assert!(!kept.forget(&digest("nothing")));
    assert!(kept.forget(&digest("whole")));
    assert!(kept.latest("w").is_none());
    assert!(kept.forget(&digest("part")));
    assert_eq!(kept.latest("p"), Some(Held("rest")));
    assert!(kept.fresh("p", unix_now()).is_none(), "what stays is due");
    assert_eq!(kept.remove_where(|key, _| key == "o"), 1);
    kept.keep("z".into(), Held("z"), later);
    kept.clear();
    assert_eq!(kept.len(), 0);
}
