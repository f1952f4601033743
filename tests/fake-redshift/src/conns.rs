//! Open sockets of a listener, so that stopping it can release every
//! connection at once, even ones blocked in a read or a write.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, ignoring poisoning (a panicking connection thread must
/// not take the whole listener down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sockets in use and the shutdown flag.
pub(crate) struct Registry {
    shutdown: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next: AtomicU64,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shutdown: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        }
    }

    /// Registers a socket so that shutdown can release it. `None` if the
    /// listener is already shutting down.
    pub(crate) fn register(&self, stream: &TcpStream) -> Option<u64> {
        let clone = stream.try_clone().ok()?;
        let mut conns = lock(&self.conns);
        if self.shutting_down() {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        conns.insert(id, clone);
        Some(id)
    }

    pub(crate) fn unregister(&self, id: u64) {
        lock(&self.conns).remove(&id);
    }

    /// Sets the shutdown flag and shuts every registered socket down.
    pub(crate) fn begin_shutdown(&self) {
        let mut conns = lock(&self.conns);
        self.shutdown.store(true, Ordering::SeqCst);
        for (_, stream) in conns.drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    pub(crate) fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// Makes the socket close with a TCP reset (SO_LINGER with a zero timeout)
/// once its last descriptor is closed.
pub(crate) fn reset_on_close(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open for the lifetime of `stream`, and the
    // option value points to a properly sized `linger` struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
