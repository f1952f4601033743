//! The library's own async runtime: one per process, built lazily, and
//! built anew in a child after `fork()` (see [`crate::fork::PerProcess`]).
//!
//! It is a current-thread runtime that the calling threads drive: a call
//! runs its request, the HTTP connection's task, the I/O and the timers on
//! the thread that made it, with no hand-off to another thread and back.
//! When several threads call at once, one drives the runtime and the
//! others wait for their own answers. Between calls nothing runs: idle
//! pooled connections simply wait for the next call. A thread that may not
//! block on a future (one of another async runtime, or one whose
//! thread-locals are gone, in an `atexit()` handler) has its call driven
//! by a short-lived thread of its own.

use crate::clock::Deadline;
use crate::error::Error;
use crate::fork::PerProcess;
use crate::status::Status;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

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

fn runtime() -> Result<&'static Arc<Runtime>, Error> {
    RUNTIME.get_or_try_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .thread_name("rs-idc-blocking")
            .enable_all()
            .build()
            .map(|runtime| Runtime(Some(runtime)))
            .map_err(|e| Error::internal(format!("the async runtime could not start: {e}")))
    })
}

/// Runs `work` with the library's runtime, bounded by `deadline`, and
/// returns its result.
pub(crate) fn run<T, F>(deadline: &Deadline, work: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = runtime()?
        .0
        .as_ref()
        .ok_or_else(|| Error::internal("the async runtime is gone"))?;
    let bounded = bounded(deadline, work);
    let drive = || {
        catch_unwind(AssertUnwindSafe(|| runtime.block_on(bounded)))
            .unwrap_or_else(|_| Err(panicked()))
    };
    match tokio::runtime::Handle::try_current() {
        Err(outside) if outside.is_missing_context() => drive(),
        // Inside another runtime, or the thread's locals are gone: a thread
        // of its own drives the call; this one waits for it.
        _ => std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("rs-idc-call".into())
                .spawn_scoped(scope, drive)
                .map_err(|e| Error::internal(format!("no thread for the call: {e}")))?
                .join()
                .unwrap_or_else(|_| Err(panicked()))
        }),
    }
}

/// `work` bounded by `deadline`, then one turn for the tasks it woke.
///
/// Nothing runs between calls, so without that turn the connection tasks a
/// call woke at its end (one going back to the pool, one closing because
/// the pool is full) would wait for the next call, holding their sockets.
async fn bounded<T, F>(deadline: &Deadline, work: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    let outcome = tokio::time::timeout_at(deadline.at().into(), work)
        .await
        .unwrap_or_else(|_| Err(timed_out()));
    tokio::task::yield_now().await;
    outcome
}

fn panicked() -> Error {
    Error::internal("the call ended without an answer (an internal task panicked)")
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
    use std::time::{Duration, Instant};

    #[test]
    fn runs_work_and_returns_its_result() {
        let deadline = &Deadline::after(Duration::from_secs(5));
        assert_eq!(run(deadline, async { Ok(41 + 1) }).unwrap(), 42);
        let err = run::<(), _>(deadline, async { Err(Error::invalid("no")) }).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
    }

    #[test]
    fn gives_up_on_work_that_outlives_the_deadline() {
        let deadline = &Deadline::after(Duration::from_millis(50));
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
        let deadline = &Deadline::after(Duration::from_secs(5));
        let err = run::<(), _>(deadline, async { panic!("test panic") }).unwrap_err();
        assert_eq!(err.status(), Status::Internal);
    }

    #[test]
    fn many_threads_drive_calls_at_once() {
        let deadline = &Deadline::after(Duration::from_secs(5));
        let results: Vec<u32> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    scope.spawn(move || {
                        run(deadline, async move {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok(i)
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap())
                .collect()
        });
        assert_eq!(results, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn the_tasks_a_call_wakes_at_its_end_run_before_it_returns() {
        // A runtime of the test's own, so that no other test drives it.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = Arc::clone(&closed);
        let deadline = &Deadline::after(Duration::from_secs(5));
        let got = runtime.block_on(bounded(deadline, async move {
            // Stands for a pooled connection's task, which ends when the
            // call lets go of the connection.
            let (connection, released) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(async move {
                let _ = released.await;
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            drop(connection);
            Ok("answered")
        }));
        assert_eq!(got.unwrap(), "answered");
        assert!(
            closed.load(std::sync::atomic::Ordering::SeqCst),
            "the connection's task ran before the call returned"
        );
    }

    #[test]
    fn works_from_a_thread_of_another_async_runtime() {
        let other = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = other.block_on(async {
            let deadline = &Deadline::after(Duration::from_secs(5));
            run(deadline, async { Ok("inside") })
        });
        assert_eq!(got.unwrap(), "inside");
    }
}
