//! Single flight: concurrent misses for one key make one call, and every
//! caller gets its outcome, success or error.
//!
//! Keys bind everything that may change the outcome (see
//! [`crate::cache::FlightKey`]), so a caller never receives the outcome of
//! a call made with another identity or other settings.

use crate::error::Error;
use crate::fork;
use crate::status::Status;
use crate::token::Token;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// One call in flight that other callers with the same key wait for.
struct Flight<V> {
    /// The process of the leader: after `fork()` a flight inherited from the
    /// parent has no leader in the child, so the child must not wait for it.
    pid: u32,
    outcome: Mutex<Option<Result<V, Error>>>,
    done: Condvar,
}

/// Makes concurrent misses for one key share one call whose outcome is a
/// `V` (a token, by default) or an error.
pub(crate) struct SingleFlight<K, V = Token> {
    flights: Mutex<HashMap<K, Arc<Flight<V>>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    pub(crate) fn new() -> SingleFlight<K, V> {
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
        call: impl FnOnce() -> Result<V, Error>,
    ) -> Result<V, Error> {
        let pid = fork::current_pid();
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
struct Landing<'a, K: Hash + Eq + Clone, V: Clone> {
    flights: &'a SingleFlight<K, V>,
    key: &'a K,
    flight: &'a Flight<V>,
    outcome: Option<Result<V, Error>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Drop for Landing<'_, K, V> {
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
    use std::time::Duration;

    fn key(name: &str) -> String {
        name.to_owned()
    }

    #[test]
    fn concurrent_misses_share_one_call_and_its_error() {
        let flights = SingleFlight::<String>::new();
        let calls = AtomicUsize::new(0);
        let barrier = Barrier::new(8);
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcomes: Vec<Result<Token, Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        flights.run(&key("x"), deadline, || {
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
        let again = flights.run(&key("x"), deadline, || Ok(Token::for_tests("t", 1)));
        assert_eq!(again.unwrap().secret(), "t");
    }

    #[test]
    fn a_panicking_leader_still_releases_its_followers() {
        let flights = SingleFlight::<String>::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        let k = key("p");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            flights.run(&k, deadline, || panic!("leader fails"))
        }));
        assert!(result.is_err());
        assert!(flights.flights.lock().unwrap().is_empty());
    }
}
