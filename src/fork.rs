//! The process layer: what must hold across `fork()`.
//!
//! - [`PerProcess`]: a value that belongs to one process; a child builds
//!   its own and never drops (or uses) the parent's.
//! - Locks that a `fork()` cannot leave locked in the child ([`read`],
//!   [`write`], [`lock`]), and [`lock_ungated`] for the few that need not.
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

use crate::error::Error;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{
    Arc, Condvar, Mutex, MutexGuard, Once, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

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

/// Registers the fork handlers, once per process image.
fn register_fork_handlers() {
    static HANDLERS: Once = Once::new();
    HANDLERS.call_once(|| {
        // SAFETY: the handlers are plain functions of this library, which
        // is never unloaded (`-z nodelete`).
        unsafe {
            libc::pthread_atfork(Some(close_gate), Some(open_gate), Some(child_after_fork));
        }
    });
}

/// This process's id, kept so that the hot path makes no system call
/// (glibc's getpid() is one); 0 until the first use.
static PID: AtomicU32 = AtomicU32::new(0);

/// This process's id. After `fork()` the child handler records the
/// child's, before `fork()` returns there.
pub(crate) fn current_pid() -> u32 {
    let pid = PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    // The handlers first: a fork after this point updates PID in the child.
    register_fork_handlers();
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

/// After `fork()`, in the child: the child's id, the descriptors a child
/// must not keep closed, and the gate open again.
extern "C" fn child_after_fork() {
    PID.store(std::process::id(), Ordering::Relaxed);
    for slot in &CLOSE_IN_CHILD {
        let fd = slot.swap(-1, Ordering::AcqRel);
        if fd >= 0 {
            // SAFETY: a descriptor registered by a ClosedInChild of the
            // parent, whose owner (on a thread that does not exist here)
            // never runs in the child; close() is async-signal-safe.
            unsafe { libc::close(fd) };
        }
    }
    open_gate();
}

/// How many descriptors can be registered at once to be closed in a child.
const CLOSE_IN_CHILD_SLOTS: usize = 16;

/// Descriptors a forked child closes (-1: a free slot). A fixed array of
/// atomics: the child's handler may neither lock nor allocate.
static CLOSE_IN_CHILD: [AtomicI32; CLOSE_IN_CHILD_SLOTS] =
    [const { AtomicI32::new(-1) }; CLOSE_IN_CHILD_SLOTS];

/// While it lives, a forked child closes the descriptor it names at
/// once: for sockets that belong to work on one of the parent's threads,
/// such as a browser sign-in's listener, which the child would otherwise
/// keep open (and its port taken) for as long as it lives.
pub(crate) struct ClosedInChild {
    slot: Option<usize>,
    fd: i32,
}

impl ClosedInChild {
    /// Registers `fd`; with every slot taken, the child keeps it (logged).
    pub(crate) fn new(fd: i32) -> ClosedInChild {
        register_fork_handlers();
        let slot = CLOSE_IN_CHILD.iter().position(|slot| {
            slot.compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        });
        if slot.is_none() {
            tracing::warn!("more than {CLOSE_IN_CHILD_SLOTS} descriptors to close after fork()");
        }
        ClosedInChild { slot, fd }
    }
}

impl Drop for ClosedInChild {
    fn drop(&mut self) {
        // Only its own registration: in a child the slot was emptied, and
        // may hold another descriptor since.
        if let Some(slot) = self.slot {
            let _ = CLOSE_IN_CHILD[slot].compare_exchange(
                self.fd,
                -1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }
}

impl Pass {
    fn new() -> Pass {
        register_fork_handlers();
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

/// The value of `cell`, made by `make` at the first use. The making passes
/// the gate, so a `fork()` on another thread waits for it to end and never
/// leaves `cell` half made (and every later use waiting) in a child.
pub(crate) fn once<T>(cell: &OnceLock<T>, make: impl FnOnce() -> T) -> &T {
    if let Some(made) = cell.get() {
        return made;
    }
    let _pass = Pass::new();
    cell.get_or_init(make)
}

/// Takes `lock`, through the gate.
pub(crate) fn lock<T>(lock: &Mutex<T>) -> Gated<MutexGuard<'_, T>> {
    let pass = Pass::new();
    let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
    Gated { guard, _pass: pass }
}

/// Takes `lock` without passing the gate: only for locks that may be held
/// long (waiting for a credential lookup or another thread's answer) and
/// that a child never takes, because they belong to one process (a
/// [`PerProcess`] value) or to one flight of one process.
pub(crate) fn lock_ungated<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits on `condvar` for at most `timeout` with a guard from
/// [`lock_ungated`], and gives the guard back.
pub(crate) fn wait_ungated<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> MutexGuard<'a, T> {
    condvar
        .wait_timeout(guard, timeout)
        .map_or_else(|p| p.into_inner().0, |(guard, _)| guard)
}

/// A value that belongs to one process: after `fork()` the child sees an
/// empty slot and builds its own.
///
/// The value of the process is read without a lock (one atomic load), so
/// many threads read it at once without touching a shared cache line. It
/// is never dropped while the slot lives, which is what lets readers hold
/// a plain reference.
///
/// The inherited value is never dropped in the child: its threads do not
/// exist there and its sockets are shared with the parent, so dropping it
/// could block forever or close the parent's connections. It is kept
/// instead, once per fork, in [`INHERITED`].
pub(crate) struct PerProcess<T: Send + Sync + 'static> {
    slot: AtomicPtr<Owned<T>>,
}

/// A slot's value and the process it belongs to.
struct Owned<T> {
    pid: u32,
    value: Arc<T>,
}

impl<T: Send + Sync + 'static> PerProcess<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        PerProcess {
            slot: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The value of this process, built by `init` on first use here.
    ///
    /// `init` runs without any lock held, so that a `fork()` while another
    /// thread builds (which may take until a call's deadline) cannot leave
    /// the child waiting for a lock no thread of it will release. When two
    /// threads build at once, the first value stored wins and the other is
    /// dropped.
    pub(crate) fn get_or_try_init(
        &self,
        init: impl FnOnce() -> Result<T, Error>,
    ) -> Result<&Arc<T>, Error> {
        let pid = current_pid();
        if let Some(value) = self.current(pid) {
            return Ok(value);
        }
        let built = Box::into_raw(Box::new(Owned {
            pid,
            value: Arc::new(init()?),
        }));
        let mut seen = self.slot.load(Ordering::Acquire);
        loop {
            // SAFETY: a pointer in the slot is a live Owned, never freed
            // while the slot lives (see `keep`).
            if let Some(owned) = unsafe { seen.as_ref() } {
                if owned.pid == pid {
                    // SAFETY: `built` was never shared.
                    drop(unsafe { Box::from_raw(built) });
                    return Ok(&owned.value);
                }
            }
            match self
                .slot
                .compare_exchange(seen, built, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(previous) => {
                    // Another process's value: kept, never dropped here.
                    keep(previous);
                    // SAFETY: just stored; lives as long as the slot.
                    return Ok(unsafe { &(*built).value });
                }
                Err(now) => seen = now,
            }
        }
    }

    /// This process's value, if it has one.
    /// The value of this process, if it was built.
    pub(crate) fn get(&self) -> Option<&Arc<T>> {
        self.current(current_pid())
    }

    fn current(&self, pid: u32) -> Option<&Arc<T>> {
        // SAFETY: as in `get_or_try_init`.
        let owned = unsafe { self.slot.load(Ordering::Acquire).as_ref() }?;
        (owned.pid == pid).then_some(&owned.value)
    }
}

impl<T: Send + Sync + 'static> Drop for PerProcess<T> {
    fn drop(&mut self) {
        let owned = *self.slot.get_mut();
        if owned.is_null() {
            return;
        }
        // SAFETY: the slot owns it and no reference outlives the slot.
        if unsafe { (*owned).pid } == current_pid() {
            drop(unsafe { Box::from_raw(owned) });
        } else {
            keep(owned);
        }
    }
}

/// Values inherited through `fork()`: kept, never dropped, and still
/// reachable, so that memory checkers do not report them as leaks.
static INHERITED: Mutex<Vec<Box<dyn Any + Send + Sync>>> = Mutex::new(Vec::new());

/// Keeps a value inherited through `fork()` for good.
fn keep<T: Send + Sync + 'static>(owned: *mut Owned<T>) {
    if owned.is_null() {
        return;
    }
    // SAFETY: taken out of its slot; nothing frees it but this Box, which
    // is never dropped.
    let owned = unsafe { Box::from_raw(owned) };
    lock(&INHERITED).push(Box::new(owned.value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

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

    #[test]
    fn per_process_values_are_built_once() {
        let slot: PerProcess<u32> = PerProcess::new();
        let mut builds = 0;
        for _ in 0..3 {
            let v = slot
                .get_or_try_init(|| {
                    builds += 1;
                    Ok(7)
                })
                .unwrap();
            assert_eq!(**v, 7);
        }
        assert_eq!(builds, 1);
        let err = PerProcess::<u32>::new()
            .get_or_try_init(|| Err(Error::internal("x")))
            .unwrap_err();
        assert_eq!(err.status(), Status::Internal);
    }
}
