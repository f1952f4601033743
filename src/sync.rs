//! Locks that a `fork()` cannot leave locked in the child.
//!
//! After `fork()` only the forking thread lives on in the child: a lock that
//! another thread held at that moment would stay locked there forever. So
//! every short-held lock of the library is taken through [`read`],
//! [`write`] or [`lock`], which first pass a gate; a `pthread_atfork`
//! handler closes the gate before the fork (waiting for the short sections
//! in flight to end) and opens it again in the parent and in the child.
//!
//! The gate is striped: each thread passes its own stripe, so threads do
//! not contend with each other for it. Locks held for long (a credential
//! lookup, waiting for another thread's answer) are per process or per
//! flight and never reused by a child, so they do not pass the gate.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once, RwLock, RwLockReadGuard, RwLockWriteGuard};

const STRIPES: usize = 32;

/// One stripe on its own cache line.
#[repr(align(64))]
struct Stripe(Mutex<()>);

static GATE: [Stripe; STRIPES] = [const { Stripe(Mutex::new(())) }; STRIPES];
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's stripe.
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
    /// How many gated locks this thread holds: only the outermost passes.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The stripes the forking thread holds between prepare and after.
    static CLOSED: RefCell<Vec<MutexGuard<'static, ()>>> = const { RefCell::new(Vec::new()) };
}

fn stripe_guard(index: usize) -> MutexGuard<'static, ()> {
    GATE[index].0.lock().unwrap_or_else(|p| p.into_inner())
}

/// A passage through the gate, held while a gated lock is held.
struct Pass {
    stripe: Option<MutexGuard<'static, ()>>,
}

impl Pass {
    fn new() -> Pass {
        static HANDLERS: Once = Once::new();
        HANDLERS.call_once(|| {
            // SAFETY: the handlers are plain functions of this library,
            // which is never unloaded (`-z nodelete`).
            unsafe {
                libc::pthread_atfork(Some(close_gate), Some(open_gate), Some(open_gate));
            }
        });
        let depth = DEPTH.with(|d| {
            let depth = d.get();
            d.set(depth + 1);
            depth
        });
        let stripe = (depth == 0).then(|| stripe_guard(STRIPE.with(|s| *s)));
        Pass { stripe }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.stripe.take();
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Before `fork()`: waits for every gated section to end and keeps new
/// ones out. A forking thread inside a gated section keeps its own stripe.
extern "C" fn close_gate() {
    let own = STRIPE.with(|s| *s);
    let inside = DEPTH.with(|d| d.get()) > 0;
    let guards: Vec<_> = (0..STRIPES)
        .filter(|i| !(inside && *i == own))
        .map(stripe_guard)
        .collect();
    CLOSED.with(|closed| *closed.borrow_mut() = guards);
}

/// After `fork()`, in the parent and in the child: lets sections in again.
extern "C" fn open_gate() {
    CLOSED.with(|closed| closed.borrow_mut().clear());
}

/// A lock guard that also holds a passage through the gate. The lock is
/// released before the passage.
pub(crate) struct Gated<G> {
    guard: G,
    _pass: Pass,
}

impl<G: Deref> Deref for Gated<G> {
    type Target = G::Target;
    fn deref(&self) -> &G::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Gated<G> {
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.guard
    }
}

// A panic elsewhere cannot leave the library's locked data half-written
// (every section either completes or changes nothing), so a poisoned lock
// is still safe to use.

/// Takes `lock` for reading, through the gate.
pub(crate) fn read<T>(lock: &RwLock<T>) -> Gated<RwLockReadGuard<'_, T>> {
    let pass = Pass::new();
    let guard = lock.read().unwrap_or_else(|p| p.into_inner());
    Gated { guard, _pass: pass }
}

/// Takes `lock` for writing, through the gate.
pub(crate) fn write<T>(lock: &RwLock<T>) -> Gated<RwLockWriteGuard<'_, T>> {
    let pass = Pass::new();
    let guard = lock.write().unwrap_or_else(|p| p.into_inner());
    Gated { guard, _pass: pass }
}

/// Takes `lock`, through the gate.
pub(crate) fn lock<T>(lock: &Mutex<T>) -> Gated<MutexGuard<'_, T>> {
    let pass = Pass::new();
    let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
    Gated { guard, _pass: pass }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sections_pass_the_gate_once() {
        let outer = RwLock::new(1);
        let inner = Mutex::new(2);
        let a = read(&outer);
        let b = lock(&inner);
        assert_eq!(*a + *b, 3);
        assert_eq!(DEPTH.with(|d| d.get()), 2);
        drop(b);
        drop(a);
        assert_eq!(DEPTH.with(|d| d.get()), 0);
    }

    #[test]
    fn closing_the_gate_waits_for_sections_and_opening_lets_them_in() {
        let data = Mutex::new(0);
        close_gate();
        // Another thread cannot enter while the gate is closed.
        let entered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&entered);
        let handle = std::thread::spawn(move || {
            let lock_here = Mutex::new(());
            let _g = lock(&lock_here);
            flag.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!entered.load(Ordering::SeqCst));
        open_gate();
        handle.join().unwrap();
        assert!(entered.load(Ordering::SeqCst));
        *lock(&data) += 1;
        assert_eq!(*lock(&data), 1);
    }
}
