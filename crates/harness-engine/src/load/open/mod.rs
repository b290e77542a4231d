//! The open model: requests sent on an arrival schedule (constant, ramped or Poisson)
//! whatever the service does, as wrk2 sends them. Latency counts from each request's
//! intended send time, so a stall shows in full and nothing needs correcting.
//!
//! One dispatcher waits for each intended time, then hands the request to a worker, one
//! task per keep-alive connection ([`workers`]), starting another worker when none is
//! idle. A request that starts late is counted, and its latency
//! still counts from the intended time. A send due while `max_in_flight` requests are
//! outstanding is not made; it is counted as dropped, an error. Requests unanswered at
//! the phase's deadline are cut as timeouts.

mod client;
mod schedule;
mod workers;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc::UnboundedSender;

use super::execute::execute;
use super::request::Vars;
use super::{LoadError, LoadOutcome, LoadPlan, OpenShape};
use crate::record::{self, Correction, Sample};
use crate::scenario::{Feeder, TransactionSpec};

use client::Conn;
pub use schedule::Schedule;
pub use workers::Workers;

/// The last stretch before a send, which the dispatcher spends yielding to the
/// runtime's other tasks rather than asleep on its timer: the timer wheel wakes up to a
/// millisecond late, and a send must not be.
const SPIN: Duration = Duration::from_micros(1200);

/// The most sends the dispatcher makes without letting the workers run: when it is
/// behind, every send is due at once, and a single-threaded runtime would otherwise
/// queue them all before any worker takes an answer, leaving none idle and opening a
/// connection per send.
const BURST: u32 = 16;

/// Tokens minted for the open model's virtual users; request k acts as user k mod this.
const USERS: usize = 100;

/// What every request of one run shares.
struct RunCtx {
    deadline: Instant,
    timeout: Duration,
    samples: UnboundedSender<Sample>,
    in_flight: Arc<AtomicU32>,
}

/// One request, queued for a worker.
pub struct Job {
    run: Arc<RunCtx>,
    spec: Arc<TransactionSpec>,
    feeder: Option<Arc<Feeder>>,
    token: Arc<str>,
    user: usize,
    n: u64,
    intended: Instant,
    at: Duration,
    /// When its client gives up, if it does.
    leave_after: Option<Duration>,
}

/// Runs the open-model load phase of `plan`.
pub async fn run(mut plan: LoadPlan, open: OpenShape) -> Result<LoadOutcome, LoadError> {
    let warmup = plan.shape.warmup;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let collector = tokio::spawn(record::collect(
        rx,
        Correction::None,
        record::Recorded::scoring(warmup, plan.shape.scored_until).with_slo(plan.slo),
    ));
    let (workers, warm) = match plan.connections.take() {
        Some(super::Connections(w)) => {
            let opened = w.started();
            (w, opened)
        }
        None => (Workers::new(&plan.base_url)?, 0),
    };
    let tokens: Vec<Arc<str>> = (0..USERS)
        .map(|i| Arc::from((plan.mint)(plan.shard.user(i))))
        .collect();
    let specs: Vec<Arc<TransactionSpec>> = plan
        .scenario
        .transactions
        .iter()
        .map(|t| Arc::new(t.clone()))
        .collect();
    let weights = WeightedIndex::new(plan.scenario.transactions.iter().map(|t| t.weight))
        .map_err(LoadError::Weights)?;
    let deadline = plan.epoch + super::deadline(&plan).unwrap_or(super::DRAIN);
    let in_flight = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            crate::shutdown::signalled().await;
            stop.store(true, Ordering::SeqCst);
        })
    };
    let started = Instant::now();
    let dispatch = Dispatch {
        feeder: plan.feeder.clone(),
        workers,
        tokens,
        specs,
        weights,
        epoch: plan.epoch,
        abandon: plan.abandon,
        max_in_flight: open.max_in_flight,
        stop: stop.clone(),
        run: Arc::new(RunCtx {
            deadline,
            timeout: plan.scenario.request_timeout,
            samples: tx,
            in_flight: in_flight.clone(),
        }),
        shard: plan.shard,
    };
    // The dispatcher is a task on the runtime, as the workers are: a send wakes a worker
    // on the same runtime, with no thread to wake (a dispatcher on a thread of its
    // own cost a wake-up, two system calls and a context switch per send).
    let schedule = Schedule::new(&plan.shape.stages, open.arrival, plan.shard.seed(0x0a11));
    let (run_ctx, workers) = tokio::spawn(dispatch.run(schedule))
        .await
        .map_err(|e| LoadError::Task("dispatcher", e))?;
    watcher.abort();
    let interrupted = stop.load(Ordering::SeqCst);
    // Every request ends by the deadline on its own (cut there); the samples of any
    // still running after this backstop are lost, and the warning says how many.
    let backstop = deadline + Duration::from_secs(5);
    while in_flight.load(Ordering::Acquire) > 0 && Instant::now() < backstop {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lost = in_flight.load(Ordering::Acquire);
    if lost > 0 {
        tracing::warn!(
            lost,
            "requests still running 5 s past the load phase's deadline"
        );
    }
    // The last sender of samples, so the collector ends; and the workers, which end
    // their connections.
    drop(run_ctx);
    let connections = workers.started();
    drop(workers);
    // The schedule spans the planned length even when its last send came earlier.
    let planned = plan.shape.planned().unwrap_or_default();
    let elapsed = if interrupted {
        started.elapsed()
    } else {
        started.elapsed().max(planned)
    };
    let recorded = collector
        .await
        .map_err(|e| LoadError::Task("collector", e))?;
    let coordinated_omission = describe(&recorded, open, warm, connections);
    Ok(LoadOutcome {
        recorded,
        elapsed,
        coordinated_omission,
        interrupted,
    })
}

/// The dispatcher's state: everything it needs to send the schedule.
struct Dispatch {
    feeder: Option<Arc<Feeder>>,
    workers: Workers,
    tokens: Vec<Arc<str>>,
    specs: Vec<Arc<TransactionSpec>>,
    weights: WeightedIndex<u32>,
    epoch: Instant,
    abandon: Option<super::Abandon>,
    max_in_flight: u32,
    stop: Arc<AtomicBool>,
    run: Arc<RunCtx>,
    shard: super::Shard,
}

impl Dispatch {
    /// Waits for `intended`; false when a signal came first. It sleeps on the
    /// runtime's timer until [`SPIN`] before, then yields to the other tasks until the
    /// time comes, so that a send is late by microseconds, not by the timer's
    /// millisecond, and dense schedules (thousands a second) cost no timer at all.
    async fn wait_until(&self, intended: Instant) -> bool {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if now >= intended {
                return true;
            }
            let left = intended - now;
            if left > SPIN {
                // Short naps, so that a signal is seen within 50 ms.
                tokio::time::sleep((left - SPIN).min(Duration::from_millis(50))).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Queues the schedule's requests for the workers; returns what the requests
    /// share and the workers, which the caller drops once the requests in flight are done.
    async fn run(self, schedule: Schedule) -> (Arc<RunCtx>, Workers) {
        let mut rng = StdRng::seed_from_u64(self.shard.seed(0x5eed));
        let in_flight = &self.run.in_flight;
        let mut unyielded = 0u32;
        for (k, offset) in schedule.enumerate() {
            let intended = self.epoch + offset;
            unyielded += 1;
            if unyielded >= BURST {
                unyielded = 0;
                tokio::task::yield_now().await;
            }
            if !self.wait_until(intended).await {
                break;
            }
            let spec = self.specs[self.weights.sample(&mut rng)].clone();
            if in_flight.load(Ordering::Relaxed) >= self.max_in_flight {
                let _ = self.run.samples.send(Sample {
                    transaction: spec.name.clone(),
                    at: offset,
                    dropped: true,
                    ..Sample::default()
                });
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            self.workers.submit(Job {
                run: self.run.clone(),
                spec,
                feeder: self.feeder.clone(),
                token: self.tokens[k % USERS].clone(),
                user: self.shard.user(k % USERS),
                n: (k / USERS) as u64 + 1,
                intended,
                at: offset,
                leave_after: self.abandon.and_then(|a| a.pick(rng.gen::<f64>())),
            });
        }
        (self.run, self.workers)
    }
}

/// Sends one request over `conn` (and polls, if the transaction does), and hands its
/// sample, with latency from the intended send time, to the collector. Each request
/// ends by the deadline on its own, and says so through the in-flight count.
async fn send(conn: &mut Conn, job: Job) {
    let sample = exchange(conn, &job).await;
    let Job { run, .. } = job;
    let _ = run.samples.send(sample);
    let in_flight = run.in_flight.clone();
    // Before the count says it is done, so that a count of 0 means no request still
    // holds a sender of samples.
    drop(run);
    in_flight.fetch_sub(1, Ordering::Release);
}

/// One request's exchange and its sample.
async fn exchange(conn: &mut Conn, job: &Job) -> Sample {
    let (deadline, timeout) = (job.run.deadline, job.run.timeout);
    let begun = Instant::now();
    let mut sample = Sample {
        transaction: job.spec.name.clone(),
        at: job.at,
        late: begun.saturating_duration_since(job.intended),
        ..Sample::default()
    };
    let cut_at = deadline.min(begun + timeout);
    // A client that abandons leaves `after` its send, unless the cut comes first.
    let leave_at = job.leave_after.map(|a| begun + a).filter(|at| *at < cut_at);
    let vars = Vars {
        user: job.user,
        n: job.n,
        row: job
            .feeder
            .as_deref()
            .map(|f| f.row(job.user))
            .unwrap_or_default(),
    };
    let exchange = execute(
        conn,
        &job.spec,
        &job.token,
        &vars,
        None,
        job.intended,
        &mut sample,
    );
    match tokio::time::timeout_at(leave_at.unwrap_or(cut_at).into(), exchange).await {
        Ok(()) => {}
        Err(_) if leave_at.is_some() => {
            sample.status = None;
            sample.abandoned = true;
        }
        Err(_) => {
            sample.status = None;
            // Cut by the phase's deadline, or a transport timeout of its own.
            sample.cut = Instant::now() >= deadline;
        }
    }
    sample.latency = job.intended.elapsed();
    sample
}

/// What the results say about how the open model measured.
fn describe(r: &record::Recorded, open: OpenShape, warm: usize, connections: usize) -> String {
    format!(
        "open model, not corrected because nothing is held back: requests were sent on a {} \
         arrival schedule whatever the answers, and each latency counts from the request's \
         intended send time (wrk2's rule), so a stall shows in full in `overall`, which equals \
         `overall_raw`. {} requests started {} ms or more late (latest {:.1} ms), {} were not \
         sent because {} were in flight (counted as errors, status `dropped`), and {} were cut \
         at the phase's deadline (errors, status `timeout`). {warm} connections were opened \
         before the schedule's clock started, as wrk opens its own, and {connections} in all: each \
         sends its requests one after another, and one more is opened when a request finds none \
         idle.",
        match open.arrival {
            crate::scenario::Arrival::Constant => "constant",
            crate::scenario::Arrival::Poisson => "Poisson",
        },
        r.late,
        record::LATE.as_millis(),
        r.max_late.as_secs_f64() * 1e3,
        r.dropped,
        open.max_in_flight,
        r.cut,
    )
}
