//! The open model's senders: one task per keep-alive connection, each sending its
//! requests one after another, as a wrk connection does. The dispatcher hands a request
//! to the worker that went idle last (its connection is the warmest), through that
//! worker's own channel: no task is spawned per request, and the only lock is the idle
//! list's, held for a push or a pop. When no worker is idle, another (another
//! connection) is started with the request, so the schedule never waits on the number
//! of connections; the in-flight cap bounds them all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::client::{Conn, Target};
use super::Job;
use crate::load::LoadError;

/// A request for a worker, with the way back onto the idle list.
struct Work {
    job: Job,
    worker: UnboundedSender<Work>,
}

/// The idle workers, most recently idle last, and whether the pool is gone.
#[derive(Default)]
struct Idle {
    workers: Vec<UnboundedSender<Work>>,
    closed: bool,
}

type Shared = Arc<Mutex<Idle>>;

fn lock(idle: &Shared) -> MutexGuard<'_, Idle> {
    // A panic while holding the lock leaves a list of senders, still usable.
    idle.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pool of workers for one target. Dropping it ends each worker once its request
/// is done, and with it its connection.
pub struct Workers {
    target: Target,
    idle: Shared,
    /// Workers started in all.
    started: AtomicUsize,
}

impl Workers {
    /// A pool for `base` (`http://host:port`, no path), with no worker yet.
    pub fn new(base: &str) -> Result<Self, LoadError> {
        let trimmed = base.trim_end_matches('/');
        let target = Target::new(trimmed).ok_or_else(|| LoadError::NotHttp(trimmed.to_owned()))?;
        Ok(Workers {
            target,
            idle: Shared::default(),
            started: AtomicUsize::new(0),
        })
    }

    /// Opens up to `n` connections at once and starts an idle worker on each as it
    /// opens. A connect that fails is not retried here: the requests start their own.
    pub async fn warm(&self, n: usize) {
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..n {
            let mut conn = Conn::new(self.target.clone());
            connects.spawn(async move { conn.open().await.then_some(conn) });
        }
        while let Some(done) = connects.join_next().await {
            if let Ok(Some(conn)) = done {
                let (tx, rx) = unbounded_channel();
                self.spawn(conn, rx);
                lock(&self.idle).workers.push(tx);
            }
        }
    }

    /// How many workers (connections) have been started.
    pub fn started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    /// Hands `job` to the worker that went idle last, or to a new one if none is idle.
    pub fn submit(&self, job: Job) {
        let idle = lock(&self.idle).workers.pop();
        let (worker, rx) = match idle {
            Some(tx) => (tx, None),
            None => {
                let (tx, rx) = unbounded_channel();
                (tx, Some(rx))
            }
        };
        if let Some(rx) = rx {
            self.spawn(Conn::new(self.target.clone()), rx);
        }
        let back = worker.clone();
        // A worker ends only once the pool is gone, so the send cannot fail here.
        let _ = worker.send(Work { job, worker: back });
    }

    fn spawn(&self, conn: Conn, rx: UnboundedReceiver<Work>) {
        self.started.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(work(conn, rx, self.idle.clone()));
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let mut idle = lock(&self.idle);
        idle.closed = true;
        // Their channels close, and the idle workers end.
        idle.workers.clear();
    }
}

/// A worker: sends each request it is given over `conn`, then goes back on the idle
/// list, until the pool is gone.
async fn work(mut conn: Conn, mut rx: UnboundedReceiver<Work>, idle: Shared) {
    while let Some(Work { job, worker }) = rx.recv().await {
        super::send(&mut conn, job).await;
        let mut list = lock(&idle);
        if list.closed {
            return;
        }
        list.workers.push(worker);
    }
}
