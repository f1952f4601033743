//! Listening sockets with one thread per connection, whose connections are
//! all released when the listener stops, even ones blocked in a read.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Locks a mutex, ignoring poisoning (a panicking connection thread must
/// not take the whole listener down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
pub(crate) struct Registry {
    shutdown: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next: AtomicU64,
}

impl Registry {
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

/// A socket listening on 127.0.0.1 that serves each connection on a thread
/// of its own. Dropping it stops accepting and shuts every registered
/// connection down, without waiting for their threads.
pub(crate) struct Listener {
    pub addr: SocketAddr,
    conns: Arc<Registry>,
    acceptor: Option<JoinHandle<()>>,
}

impl Listener {
    pub(crate) fn start<F>(name: &str, conns: Arc<Registry>, serve: F) -> io::Result<Self>
    where
        F: Fn(TcpStream, u64) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let registry = Arc::clone(&conns);
        let serve = Arc::new(serve);
        let conn_name = format!("{name}-conn");
        let acceptor = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if registry.shutting_down() {
                        return;
                    }
                    let Ok(stream) = stream else {
                        // Out of descriptors or similar: back off a little.
                        thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let Some(id) = registry.register(&stream) else {
                        return;
                    };
                    let (conn_registry, conn_serve) = (Arc::clone(&registry), Arc::clone(&serve));
                    let spawned = thread::Builder::new()
                        .name(conn_name.clone())
                        .spawn(move || {
                            conn_serve(stream, id);
                            conn_registry.unregister(id);
                        });
                    if spawned.is_err() {
                        registry.unregister(id);
                    }
                }
            })?;
        Ok(Listener {
            addr,
            conns,
            acceptor: Some(acceptor),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.conns.begin_shutdown();
        // Wake the acceptor, which then sees the shutdown flag and returns,
        // closing the listening socket.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let (true, Some(acceptor)) = (woke, self.acceptor.take()) {
            let _ = acceptor.join();
        }
    }
}

/// Makes the socket close with a TCP reset (SO_LINGER with a zero timeout)
/// once its last descriptor is closed.
pub(crate) fn reset_on_close(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}
