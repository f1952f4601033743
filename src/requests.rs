//! Non-blocking requests, for event-loop clients: the caller's loop waits
//! for a file descriptor (an eventfd) to become readable while the call
//! runs elsewhere.
//!
//! A request never has a thread of its own. A cached token makes it ready
//! at once; a call for the same token already in flight takes it as a
//! listener (one flight, any number of requests); otherwise the call runs
//! on the library's small pool of threads ([`crate::workers`]), within the
//! deadline set when the request started. The call shares flights and the
//! cache with every other call and keeps the client alive until it is
//! done; dropping a request only drops the caller's interest.

use crate::client::{api_ids, Client};
use crate::error::Error;
use crate::fork;
use crate::token::{Api, Token};
use crate::workers;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// What a request's caller and the call share.
struct Shared {
    /// Readable once `outcome` is set; closed when both sides are done.
    ready: OwnedFd,
    outcome: Mutex<Option<Result<Token, Error>>>,
}

impl Shared {
    fn finish(&self, outcome: Result<Token, Error>) {
        *fork::lock(&self.outcome) = Some(outcome);
        let one: u64 = 1;
        // SAFETY: writing 8 bytes to the eventfd this value owns. It only
        // fails when the counter would overflow, which one write cannot do.
        unsafe {
            libc::write(
                self.ready.as_raw_fd(),
                std::ptr::addr_of!(one).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }
}

/// A token call in progress.
pub struct Request {
    shared: Arc<Shared>,
}

impl Request {
    /// Starts a call for `ids` (clusters or workgroups, as `api` says) with
    /// `client`'s settings. The identifiers are checked here (an error
    /// means no request and no traffic); a cached token makes the request
    /// ready at once.
    pub fn start<I: AsRef<[u8]>>(
        client: &Arc<Client>,
        api: Api,
        ids: &[I],
    ) -> Result<Request, Error> {
        let ids = api_ids(api, ids)?;
        let deadline = client.deadline();
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            let why = std::io::Error::last_os_error();
            return Err(Error::internal(format!(
                "no eventfd for the request: {why}"
            )));
        }
        let shared = Arc::new(Shared {
            // SAFETY: a new descriptor that nothing else owns.
            ready: unsafe { OwnedFd::from_raw_fd(fd) },
            outcome: Mutex::new(None),
        });
        if let Some(token) = client.cached_token(api, &ids) {
            shared.finish(Ok(token));
            return Ok(Request { shared });
        }
        let listener = {
            let shared = Arc::clone(&shared);
            Box::new(move |outcome: &Result<Token, Error>| shared.finish(outcome.clone()))
        };
        if client.listen(api, &ids, listener).is_ok() {
            return Ok(Request { shared });
        }
        let (worker, client) = (Arc::clone(&shared), Arc::clone(client));
        workers::submit(Box::new(move || {
            // The request gets an outcome whatever happens: its caller
            // waits for the descriptor.
            let call =
                AssertUnwindSafe(|| client.read_set_token(api, &ids, deadline, Token::clone));
            let outcome = catch_unwind(call).unwrap_or_else(|_| {
                Err(Error::internal(
                    "the request's call ended without an answer",
                ))
            });
            worker.finish(outcome)
        }))?;
        Ok(Request { shared })
    }

    /// The descriptor that becomes readable once the outcome is ready.
    pub fn fd(&self) -> RawFd {
        self.shared.ready.as_raw_fd()
    }

    /// The outcome handed to `read`, or `None` while the call runs.
    pub fn read_outcome<R>(&self, read: impl FnOnce(&Token) -> R) -> Option<Result<R, Error>> {
        let outcome = fork::lock(&self.shared.outcome);
        outcome.as_ref().map(|outcome| match outcome {
            Ok(token) => Ok(read(token)),
            Err(err) => Err(err.clone()),
        })
    }
}
