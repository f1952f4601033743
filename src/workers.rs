//! A few threads of the library's own, for work no caller's thread runs:
//! non-blocking requests and refreshes ahead.
//!
//! At most [`RS_IDC_MAX_WORKER_THREADS`] threads run jobs, taken in the order they came;
//! more jobs wait in the queue (each job is bounded by its own call's
//! deadline, queueing included). A thread with nothing to do for
//! [`IDLE_EXIT`] ends, so an idle process keeps none. The pool belongs to
//! one process: a child after `fork()` starts its own.

use crate::error::Error;
use crate::fork::{self, PerProcess};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The most threads the library runs for work no caller's thread runs
/// (non-blocking requests, refreshes ahead); more such calls wait their
/// turn, each within its own time bound.
pub const RS_IDC_MAX_WORKER_THREADS: usize = 8;
const MAX_WORKERS: usize = RS_IDC_MAX_WORKER_THREADS;
/// How long a thread waits for a job before it ends.
const IDLE_EXIT: Duration = Duration::from_secs(5);

/// Work for a thread of the pool.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    queue: Mutex<Queue>,
    arrived: Condvar,
}

struct Queue {
    jobs: VecDeque<Job>,
    workers: usize,
    idle: usize,
}

static POOL: PerProcess<Pool> = PerProcess::new();

/// Runs `job` on a thread of the pool, now or when one is free.
pub(crate) fn submit(job: Job) -> Result<(), Error> {
    let pool = POOL.get_or_try_init(|| {
        Ok(Pool {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                workers: 0,
                idle: 0,
            }),
            arrived: Condvar::new(),
        })
    })?;
    // The pool is this process's: no child takes its lock, so it need not
    // pass the fork gate (and its waits may be long).
    let mut queue = fork::lock_ungated(&pool.queue);
    queue.jobs.push_back(job);
    if queue.idle > 0 {
        pool.arrived.notify_one();
    }
    // An idle thread counts as idle until it wakes and takes the lock, so
    // it stands for one waiting job, not for all of them: a burst of jobs
    // must not queue behind the few threads that were idle.
    if queue.jobs.len() <= queue.idle || queue.workers >= MAX_WORKERS {
        return Ok(());
    }
    let worker = Arc::clone(pool);
    let started = std::thread::Builder::new()
        .name("rs-idc-worker".into())
        .spawn(move || work(&worker));
    match started {
        Ok(_) => {
            queue.workers += 1;
            Ok(())
        }
        Err(e) if queue.workers == 0 => {
            queue.jobs.clear();
            Err(Error::internal(format!(
                "no thread for the library's work: {e}"
            )))
        }
        // A thread of the pool will take the job.
        Err(_) => Ok(()),
    }
}

/// A worker's life: jobs until none came for [`IDLE_EXIT`].
fn work(pool: &Pool) {
    let mut queue = fork::lock_ungated(&pool.queue);
    loop {
        if let Some(job) = queue.jobs.pop_front() {
            drop(queue);
            // A job reports its own outcome; a panic must not end the pool.
            let _ = catch_unwind(AssertUnwindSafe(job));
            queue = fork::lock_ungated(&pool.queue);
            continue;
        }
        queue.idle += 1;
        let (back, waited) = pool
            .arrived
            .wait_timeout(queue, IDLE_EXIT)
            .unwrap_or_else(|p| p.into_inner());
        queue = back;
        queue.idle -= 1;
        if waited.timed_out() && queue.jobs.is_empty() {
            queue.workers -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    /// The pool is the process's: its tests take turns.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn pool() -> Arc<Pool> {
        POOL.get_or_try_init(|| Err(Error::internal("no pool yet")))
            .unwrap()
            .clone()
    }

    #[test]
    fn a_burst_of_jobs_gets_threads_beside_an_idle_one() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        // One job, then wait until its thread is idle.
        let (done, finished) = mpsc::channel();
        submit(Box::new(move || done.send(()).unwrap())).unwrap();
        finished.recv().unwrap();
        let pool = pool();
        let idle = |pool: &Pool| fork::lock_ungated(&pool.queue).idle;
        while idle(&pool) == 0 {
            std::thread::yield_now();
        }
        // Jobs that each wait until all of them run at once: they can only
        // finish if the burst got threads of its own.
        let all_running = Arc::new((Mutex::new(0usize), Condvar::new()));
        let (done, finished) = mpsc::channel();
        for _ in 0..MAX_WORKERS {
            let (all_running, done) = (all_running.clone(), done.clone());
            submit(Box::new(move || {
                let (count, changed) = &*all_running;
                let mut running = count.lock().unwrap();
                *running += 1;
                changed.notify_all();
                let (running, waited) = changed
                    .wait_timeout_while(running, Duration::from_secs(60), |n| *n < MAX_WORKERS)
                    .unwrap();
                done.send((*running, waited.timed_out())).unwrap();
            }))
            .unwrap();
        }
        for _ in 0..MAX_WORKERS {
            let (running, timed_out) = finished.recv().unwrap();
            assert!(
                !timed_out,
                "{running} of {MAX_WORKERS} jobs ran at once; the others waited in the queue"
            );
        }
    }

    #[test]
    fn many_jobs_run_on_a_few_threads() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (done, finished) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        for n in 0..40 {
            let (running, most, done) = (running.clone(), most.clone(), done.clone());
            let released = released.clone();
            submit(Box::new(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if n < MAX_WORKERS {
                    // The first jobs hold their threads until released.
                    let _ = released.lock().unwrap().recv();
                }
                running.fetch_sub(1, Ordering::SeqCst);
                done.send(n).unwrap();
            }))
            .unwrap();
        }
        for _ in 0..MAX_WORKERS {
            release.send(()).unwrap();
        }
        let mut got: Vec<usize> = (0..40).map(|_| finished.recv().unwrap()).collect();
        got.sort();
        assert_eq!(got, (0..40).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= MAX_WORKERS);
    }

    #[test]
    fn a_panicking_job_leaves_the_pool_working() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        submit(Box::new(|| panic!("a job fails"))).unwrap();
        let (done, finished) = mpsc::channel();
        submit(Box::new(move || done.send(7).unwrap())).unwrap();
        assert_eq!(finished.recv().unwrap(), 7);
    }
}
