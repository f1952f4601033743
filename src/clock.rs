//! Clocks, and the one deadline of a call.
//!
//! Expiries are Unix seconds on a coarse clock (token expiries are whole
//! seconds, and a coarse read costs a few nanoseconds); trust windows run
//! on a coarse monotonic clock. A call's [`Deadline`] is fixed once, where
//! the call enters the library, and every step of it spends the same one.

use std::time::{Duration, Instant};

/// Milliseconds on a coarse monotonic clock (a few ns to read).
pub(crate) fn monotonic_ms() -> u64 {
    monotonic_ns(libc::CLOCK_MONOTONIC_COARSE) / 1_000_000
}

/// Unix seconds on a coarse clock: token expiries are whole seconds.
pub(crate) fn unix_now() -> i64 {
    coarse_clock(libc::CLOCK_REALTIME_COARSE)
        .map(|(secs, _)| secs)
        .unwrap_or(0)
}

fn coarse_clock(clock: libc::clockid_t) -> Option<(i64, i64)> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a writable timespec.
    let read = unsafe { libc::clock_gettime(clock, &mut now) };
    (read == 0).then_some((now.tv_sec, now.tv_nsec))
}

/// When a call must have its answer: set at the call's entry from its
/// time bound, and spent by every step (credentials, look-ups, exchanges,
/// the token call) rather than renewed by any of them.
///
/// It is kept on the coarse monotonic clock, which a call that the cache
/// answers reads in a few nanoseconds (the fine clock costs it several
/// times that), one tick of that clock added so that it never passes
/// before its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// Nanoseconds on the monotonic clock.
    at_ns: u64,
    /// When the call entered, in [`monotonic_ms`]'s milliseconds (the same
    /// read as `at_ns`'s): what the call's own checks of trust windows use
    /// instead of reading the clock again.
    started_ms: u64,
    bound: Duration,
}

/// Nanoseconds on the monotonic clock, coarse (the last tick) or fine.
fn monotonic_ns(clock: libc::clockid_t) -> u64 {
    coarse_clock(clock)
        .map(|(secs, nanos)| {
            (secs as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(nanos as u64)
        })
        .unwrap_or(0)
}

/// One tick of the coarse monotonic clock: how far it may lag.
fn coarse_tick_ns() -> u64 {
    static TICK_NS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *crate::fork::once(&TICK_NS, || {
        let mut res = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a writable timespec.
        match unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut res) } {
            0 => (res.tv_sec as u64).saturating_mul(1_000_000_000) + res.tv_nsec as u64,
            _ => 10_000_000,
        }
    })
}

impl Deadline {
    /// The deadline of a call that starts now with the time bound `bound`.
    pub(crate) fn after(bound: Duration) -> Deadline {
        let bound_ns = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        let now_ns = monotonic_ns(libc::CLOCK_MONOTONIC_COARSE);
        Deadline {
            at_ns: now_ns
                .saturating_add(coarse_tick_ns())
                .saturating_add(bound_ns),
            started_ms: now_ns / 1_000_000,
            bound,
        }
    }

    /// When the call entered, as [`monotonic_ms`] read it then.
    pub(crate) fn started_ms(&self) -> u64 {
        self.started_ms
    }

    /// The instant it passes: the same instant however often it is asked
    /// (in the past once it passed).
    pub(crate) fn at(&self) -> Instant {
        let now = Instant::now();
        let fine_now = monotonic_ns(libc::CLOCK_MONOTONIC);
        if self.at_ns >= fine_now {
            // A bound too far to be an instant waits a day, as good as forever.
            now.checked_add(Duration::from_nanos(self.at_ns - fine_now))
                .unwrap_or_else(|| now + Duration::from_secs(86_400))
        } else {
            now.checked_sub(Duration::from_nanos(fine_now - self.at_ns))
                .unwrap_or(now)
        }
    }

    /// The time bound the call was given: a call that shares another's
    /// flight compares bounds, not instants (see [`crate::flight`]).
    pub(crate) fn bound(&self) -> Duration {
        self.bound
    }

    /// The time left; zero once it passed.
    pub(crate) fn left(&self) -> Duration {
        Duration::from_nanos(
            self.at_ns
                .saturating_sub(monotonic_ns(libc::CLOCK_MONOTONIC)),
        )
    }

    /// Whether it passed.
    pub(crate) fn passed(&self) -> bool {
        self.left().is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn coarse_clocks_move_forward_and_agree_with_the_system_clock() {
        let before = monotonic_ms();
        std::thread::sleep(Duration::from_millis(30));
        assert!(monotonic_ms() > before);
        let system = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((unix_now() - system).abs() <= 1);
    }

    #[test]
    fn a_deadline_keeps_its_bound_and_runs_out() {
        let started = Instant::now();
        let deadline = Deadline::after(Duration::from_millis(20));
        assert_eq!(deadline.bound(), Duration::from_millis(20));
        assert!(
            deadline.left() <= Duration::from_millis(20) + Duration::from_nanos(coarse_tick_ns())
        );
        while !deadline.passed() {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(deadline.left(), Duration::ZERO);
        assert!(
            started.elapsed() >= Duration::from_millis(20),
            "passed before its bound"
        );
        let passed_at = deadline.at();
        assert!(
            passed_at < Instant::now(),
            "a passed deadline is in the past"
        );
        let forever = Deadline::after(Duration::MAX);
        assert!(!forever.passed());
    }
}
