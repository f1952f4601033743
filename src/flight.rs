//! Single flight: concurrent misses for one key make one call, and every
//! caller gets its outcome, success or error.
//!
//! Keys bind everything that may change the outcome (identity and settings;
//! see [`crate::kept`]), so a caller never receives the outcome of a call
//! made with another identity or other settings. Two rules keep a shared
//! call from deciding what is not its to decide:
//! - each caller waits only until its own deadline;
//! - a caller with a longer time bound than the leader's does not take the
//!   leader's timeout as its own: it runs the call again with the time it
//!   has left.
//!
//! Besides callers that wait, a flight takes listeners (non-blocking
//! requests), which get the outcome when it lands, on the landing thread.

use crate::clock::Deadline;
use crate::error::Error;
use crate::fork;
use crate::status::Status;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Gets the outcome of a flight when it lands; must not block.
pub(crate) type Listener<V> = Box<dyn FnOnce(&Result<V, Error>) + Send>;

/// One call in flight that other callers with the same key wait for.
struct Flight<V> {
    /// The process of the leader: after `fork()` a flight inherited from the
    /// parent has no leader in the child, so the child must not wait for it.
    pid: u32,
    /// The leader's time bound.
    bound: Duration,
    landed: Mutex<Landed<V>>,
    done: Condvar,
}

struct Landed<V> {
    outcome: Option<Result<V, Error>>,
    listeners: Vec<Listener<V>>,
}

/// Makes concurrent misses for one key share one call whose outcome is a
/// `V` or an error.
pub(crate) struct SingleFlight<K, V> {
    flights: Mutex<HashMap<K, Arc<Flight<V>>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    pub(crate) fn new() -> SingleFlight<K, V> {
        SingleFlight {
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `call` unless a call for `key` is already in flight, in which
    /// case waits (until `deadline`) for that call's outcome. A leader's
    /// timeout is run again by a follower whose bound is longer.
    pub(crate) fn run(
        &self,
        key: &K,
        deadline: &Deadline,
        call: impl FnOnce() -> Result<V, Error>,
    ) -> Result<V, Error> {
        let mut call = Some(call);
        loop {
            let (flight, leader) = self.join_or_lead(key, deadline);
            if leader {
                let call = call
                    .take()
                    .ok_or_else(|| Error::internal("a shared call was led twice"))?;
                return self.lead(key, &flight, call);
            }
            let outcome = wait(&flight, deadline)?;
            match outcome {
                Err(err)
                    if err.status() == Status::Timeout
                        && flight.bound < deadline.bound()
                        && !deadline.passed() =>
                {
                    tracing::debug!(
                        "a shared call ran out of its shorter time bound; running it again \
                         within this call's own"
                    );
                }
                outcome => return outcome,
            }
        }
    }

    /// Hands `listener` to the flight in progress for `key` in this
    /// process; without one, gives it back.
    pub(crate) fn listen(&self, key: &K, listener: Listener<V>) -> Result<(), Listener<V>> {
        let pid = fork::current_pid();
        let Some(flight) = fork::lock(&self.flights)
            .get(key)
            .filter(|flight| flight.pid == pid)
            .cloned()
        else {
            return Err(listener);
        };
        let mut landed = fork::lock_ungated(&flight.landed);
        match &landed.outcome {
            Some(outcome) => {
                let outcome = outcome.clone();
                drop(landed);
                listener(&outcome);
            }
            None => landed.listeners.push(listener),
        }
        Ok(())
    }

    /// The flight of `key` in this process, and whether this caller
    /// leads it.
    fn join_or_lead(&self, key: &K, deadline: &Deadline) -> (Arc<Flight<V>>, bool) {
        let pid = fork::current_pid();
        let mut flights = fork::lock(&self.flights);
        match flights.get(key) {
            Some(flight) if flight.pid == pid => (Arc::clone(flight), false),
            _ => {
                let flight = Arc::new(Flight {
                    pid,
                    bound: deadline.bound(),
                    landed: Mutex::new(Landed {
                        outcome: None,
                        listeners: Vec::new(),
                    }),
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
    }

    fn lead(
        &self,
        key: &K,
        flight: &Arc<Flight<V>>,
        call: impl FnOnce() -> Result<V, Error>,
    ) -> Result<V, Error> {
        // The guard publishes an outcome even if `call` panics, so that
        // no follower waits for nothing.
        let mut landing = Landing {
            flights: self,
            key,
            flight,
            outcome: None,
        };
        let outcome = call();
        landing.outcome = Some(outcome.clone());
        outcome
    }
}

/// Waits for `flight`'s outcome until `deadline`.
fn wait<V: Clone>(flight: &Flight<V>, deadline: &Deadline) -> Result<Result<V, Error>, Error> {
    let mut landed = fork::lock_ungated(&flight.landed);
    loop {
        if let Some(outcome) = landed.outcome.as_ref() {
            return Ok(outcome.clone());
        }
        let left = deadline.left();
        if left.is_zero() {
            return Err(Error::new(
                Status::Timeout,
                "the call did not finish within its time bound (waiting for the same request \
                 of another caller)",
            ));
        }
        landed = fork::wait_ungated(&flight.done, landed, left);
    }
}

/// Ends a flight: publishes the leader's outcome, wakes the followers and
/// hands it to the listeners.
struct Landing<'a, K: Hash + Eq + Clone, V: Clone> {
    flights: &'a SingleFlight<K, V>,
    key: &'a K,
    flight: &'a Arc<Flight<V>>,
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
            .is_some_and(|current| Arc::ptr_eq(current, self.flight))
        {
            flights.remove(self.key);
        }
        drop(flights);
        let listeners = {
            let mut landed = fork::lock_ungated(&self.flight.landed);
            landed.outcome = Some(outcome.clone());
            std::mem::take(&mut landed.listeners)
        };
        self.flight.done.notify_all();
        for listener in listeners {
            listener(&outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::sync::Barrier;

    fn key(name: &str) -> String {
        name.to_owned()
    }

    fn seconds(n: u64) -> Deadline {
        Deadline::after(Duration::from_secs(n))
    }

    #[test]
    fn concurrent_misses_share_one_call_and_its_error() {
        let flights = SingleFlight::<String, u32>::new();
        let calls = AtomicUsize::new(0);
        let (started, leader_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let deadline = seconds(30);
        let (flights, calls) = (&flights, &calls);
        let barrier = Barrier::new(8);
        let outcomes: Vec<Result<u32, Error>> = std::thread::scope(|scope| {
            let leader = scope.spawn(move || {
                flights.run(&key("x"), &deadline, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    started.send(()).unwrap();
                    released.recv().unwrap();
                    Err(Error::new(Status::NotFound, "gone"))
                })
            });
            leader_started.recv().unwrap();
            let followers: Vec<_> = (0..7)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        flights.run(&key("x"), &deadline, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            Ok(1)
                        })
                    })
                })
                .collect();
            barrier.wait();
            // Wait until all seven followers hold the flight (the map and
            // the leader hold the other two references).
            while Arc::strong_count(&flights.flights.lock().unwrap()[&key("x")]) < 9 {
                std::thread::yield_now();
            }
            release.send(()).unwrap();
            std::iter::once(leader)
                .chain(followers)
                .map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for outcome in outcomes {
            assert_eq!(outcome.unwrap_err().status(), Status::NotFound);
        }
        // The flight is over: the next miss calls again.
        assert_eq!(flights.run(&key("x"), &deadline, || Ok(7)).unwrap(), 7);
    }

    #[test]
    fn a_panicking_leader_still_releases_its_followers() {
        let flights = SingleFlight::<String, u32>::new();
        let k = key("p");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            flights.run(&k, &seconds(10), || panic!("leader fails"))
        }));
        assert!(result.is_err());
        assert!(flights.flights.lock().unwrap().is_empty());
    }

    #[test]
    fn a_longer_bound_runs_again_after_a_shorter_leaders_timeout() {
        let flights = SingleFlight::<String, u32>::new();
        let (started, leader_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let short = Deadline::after(Duration::from_secs(20));
        let long = Deadline::after(Duration::from_secs(60));
        let calls = AtomicUsize::new(0);
        let (flights, calls) = (&flights, &calls);
        let (short_outcome, long_outcome) = std::thread::scope(|scope| {
            let short = &short;
            let leader = scope.spawn(move || {
                flights.run(&key("t"), short, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    started.send(()).unwrap();
                    released.recv().unwrap();
                    Err(Error::new(Status::Timeout, "the leader's bound ran out"))
                })
            });
            leader_started.recv().unwrap();
            let follower = scope.spawn(|| {
                flights.run(&key("t"), &long, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(5)
                })
            });
            while Arc::strong_count(&flights.flights.lock().unwrap()[&key("t")]) < 3 {
                std::thread::yield_now();
            }
            release.send(()).unwrap();
            (leader.join().unwrap(), follower.join().unwrap())
        });
        assert_eq!(short_outcome.unwrap_err().status(), Status::Timeout);
        assert_eq!(long_outcome.unwrap(), 5);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn listeners_get_the_outcome_when_it_lands() {
        let flights = SingleFlight::<String, u32>::new();
        let (heard, hearing) = mpsc::channel();
        let nobody = flights.listen(&key("l"), Box::new(|_| {}));
        assert!(nobody.is_err(), "no flight, no listener");
        let outcome = flights.run(&key("l"), &seconds(10), || {
            for _ in 0..3 {
                let heard = heard.clone();
                let listener: Listener<u32> = Box::new(move |outcome| {
                    heard.send(outcome.as_ref().ok().copied()).unwrap();
                });
                assert!(flights.listen(&key("l"), listener).is_ok());
            }
            Ok(9)
        });
        assert_eq!(outcome.unwrap(), 9);
        let got: Vec<_> = hearing.try_iter().collect();
        assert_eq!(got, vec![Some(9); 3]);
    }
}
