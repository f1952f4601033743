//! The library's own async runtime: one per process, built lazily, and
//! built anew in a child after `fork()` (see [`crate::fork::PerProcess`]).
//!
//! Callers never `block_on`: work is spawned onto this runtime and the
//! calling thread waits on a channel, so a thread that belongs to another
//! async runtime may call in as well.

use crate::error::Error;
use crate::fork::PerProcess;
use crate::status::Status;
use std::future::Future;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Worker threads of the library's runtime: the work is a few small HTTP
/// calls, so two threads are plenty and stay out of the host's way.
const WORKER_THREADS: usize = 2;

/// The runtime, shut down without waiting when dropped: a runtime that
/// lost a race to be the process's one may be dropped on a thread of
/// another async runtime, where a blocking shutdown is not allowed.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

static RUNTIME: PerProcess<Runtime> = PerProcess::new();

fn runtime() -> Result<Arc<Runtime>, Error> {
    RUNTIME.get_or_try_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("rs-idc-worker")
            .enable_all()
            .build()
            .map(|runtime| Runtime(Some(runtime)))
            .map_err(|e| Error::internal(format!("the async runtime could not start: {e}")))
    })
}

/// Runs `work` on the library's runtime, bounded by `deadline`, and waits
/// for its result.
///
/// The work is cut off at the deadline on the runtime; the wait here is the
/// backstop, with a little slack so that an error of the work's own (which
/// says more) normally wins.
pub(crate) fn run<T, F>(deadline: Instant, work: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    const SLACK: Duration = Duration::from_millis(250);
    let runtime = runtime()?;
    let handle = runtime
        .0
        .as_ref()
        .ok_or_else(|| Error::internal("the async runtime is gone"))?
        .handle();
    let (sender, receiver) = mpsc::sync_channel(1);
    let task = handle.spawn(async move {
        let result = tokio::time::timeout_at(deadline.into(), work)
            .await
            .unwrap_or_else(|_| Err(timed_out()));
        // The receiver may have given up already; nothing to do then.
        let _ = sender.send(result);
    });
    let wait = deadline.saturating_duration_since(Instant::now()) + SLACK;
    match receiver.recv_timeout(wait) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            task.abort();
            Err(timed_out())
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::internal(
            "the call ended without an answer (an internal task panicked)",
        )),
    }
}

fn timed_out() -> Error {
    Error::new(
        Status::Timeout,
        "the call did not finish within its time bound",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_work_and_returns_its_result() {
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(run(deadline, async { Ok(41 + 1) }).unwrap(), 42);
        let err = run::<(), _>(deadline, async { Err(Error::invalid("no")) }).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
    }

    #[test]
    fn gives_up_on_work_that_outlives_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(50);
        let started = Instant::now();
        let err = run(deadline, async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.status(), Status::Timeout);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_panicking_task_becomes_an_internal_error() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let err = run::<(), _>(deadline, async { panic!("test panic") }).unwrap_err();
        assert_eq!(err.status(), Status::Internal);
    }

    #[test]
    fn works_from_a_thread_of_another_async_runtime() {
        let other = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = other.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(5);
            run(deadline, async { Ok("inside") })
        });
        assert_eq!(got.unwrap(), "inside");
    }
}
