//! The load phase, in the closed model (Goose users, [`closed`]) or the open model
//! (requests on an arrival schedule, [`open`]). Both send one sample per transaction to
//! one collector, and both end by the phase's deadline.

mod closed;
pub mod execute;
pub mod open;
mod request;
mod shape;
mod shard;
mod stream;
mod transaction;

use std::time::{Duration, Instant};

use crate::record::Recorded;
use crate::scenario::{Scenario, ThinkTime};

pub use shape::{LoadShape, OpenShape, DEFAULT_MAX_IN_FLIGHT};
pub use shard::{Shard, ShardSyntax};
pub use transaction::UserState;

/// The longest the load phase waits, after its planned end, for answers still in
/// flight; what is unanswered then is cut and counted as a timeout.
pub const DRAIN: Duration = Duration::from_secs(20);

/// What the load phase needs.
pub struct LoadPlan {
    /// The scenario.
    pub scenario: Scenario,
    /// The settled profile.
    pub shape: LoadShape,
    /// Base URL of the SUT.
    pub base_url: String,
    /// Mints a bearer token for user `i`.
    pub mint: Box<dyn Fn(usize) -> String + Send + Sync>,
    /// The start of the load phase, which sample times count from (shared with
    /// whatever else watches the run, such as the chaos driver).
    pub epoch: Instant,
    /// Where Goose's own output goes.
    pub chatter: Chatter,
    /// Rows for `{column}` placeholders, when the scenario has a feeder.
    pub feeder: Option<std::sync::Arc<crate::scenario::Feeder>>,
    /// Clients that give up on a share of their requests (`--abandon-after`).
    pub abandon: Option<Abandon>,
    /// Which part of a sharded load this is: `shape` is already this shard's share; user
    /// numbers (tokens, `{user}`) are run-wide.
    pub shard: Shard,
    /// Connections opened before `epoch` ([`connect`]); `None` starts cold.
    pub connections: Option<Connections>,
    /// The objectives goodput counts against (`--slo`), when given.
    pub slo: Option<crate::record::Slo>,
}

/// Connections opened before the load phase's clock starts, as wrk opens its own before
/// its clock: the open model's pool, with enough for a millisecond of its peak rate
/// (within its in-flight cap). Without them, the first second of a fast schedule queues
/// behind a storm of connects and drops sends it would otherwise make.
pub struct Connections(open::Workers);

/// The longest [`connect`] waits for its connections.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the connections `shape` starts with, before the caller takes its epoch: none
/// for the closed model, whose users connect through Goose. A connection that cannot
/// be opened within [`CONNECT_TIMEOUT`] is left to the requests to open.
pub async fn connect(base_url: &str, shape: &LoadShape) -> Result<Option<Connections>, LoadError> {
    let Some(open) = shape.open else {
        return Ok(None);
    };
    let workers = open::Workers::new(base_url)?;
    let want = ((shape.peak_rate() / 1000.0).ceil() as usize).clamp(1, open.max_in_flight as usize);
    // Those opened in time stay in the pool when the rest are given up.
    let _ = tokio::time::timeout(CONNECT_TIMEOUT, workers.warm(want)).await;
    Ok(Some(Connections(workers)))
}

/// Clients that give up: each request is, with probability `share`, abandoned when no
/// answer has come `after` its send (the connection is dropped mid-flight, as a user
/// closing the page does). An abandoned request has no latency and is no error: it is
/// counted apart (status `abandoned`), and the results say so.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Abandon {
    /// How long a client that abandons waits for an answer.
    pub after: Duration,
    /// The share of requests whose client abandons, in (0, 1].
    pub share: f64,
}

impl Abandon {
    /// How long this request's client waits before it leaves, or `None` when it stays;
    /// `draw` is uniform in [0, 1).
    pub fn pick(self, draw: f64) -> Option<Duration> {
        (draw < self.share).then_some(self.after)
    }

    /// How the results describe it.
    pub fn describe(self, abandoned: u64) -> String {
        format!(
            "clients abandoned {abandoned} requests: each request's client left, with \
             probability {:.0}%, when no answer had come {} ms after its send, dropping the \
             connection mid-flight. Abandoned requests have no latency and are no errors: they \
             are left out of every latency figure and error rate and counted under the status \
             `abandoned`, so the percentiles describe the requests that were answered.",
            self.share * 100.0,
            self.after.as_millis(),
        )
    }
}

/// Load that could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Goose (the closed model) refused the configuration or failed; its error as it
    /// prints it, since `GooseError` is neither `Send` nor an `Error` to chain.
    #[error("load generator: {0}")]
    Goose(String),
    /// The open model was given a base URL it cannot speak to.
    #[error("the open model speaks plain HTTP; {0} is not an http:// URL")]
    NotHttp(String),
    /// The scenario's transaction weights make no distribution.
    #[error("transaction weights")]
    Weights(#[source] rand::distributions::WeightedError),
    /// A task of the load engine (the collector, the open model's dispatcher) panicked
    /// or was cancelled.
    #[error("the load engine's {0} stopped")]
    Task(&'static str, #[source] tokio::task::JoinError),
}

impl From<goose::GooseError> for LoadError {
    fn from(e: goose::GooseError) -> Self {
        LoadError::Goose(format!("{e:?}"))
    }
}

/// What the load phase measured.
pub struct LoadOutcome {
    /// Histograms and timelines.
    pub recorded: Recorded,
    /// How long the load phase took.
    pub elapsed: Duration,
    /// How coordinated omission was handled, for the report.
    pub coordinated_omission: String,
    /// Whether the load was stopped early (Ctrl-C).
    pub interrupted: bool,
}

/// When the load phase's in-flight requests are cut, from its start: the planned length
/// plus the shorter of the request timeout and [`DRAIN`]. `None` for an iterations
/// profile, which ends when its users are done.
pub fn deadline(plan: &LoadPlan) -> Option<Duration> {
    let drain = plan.scenario.request_timeout.min(DRAIN);
    plan.shape.planned().map(|p| p + drain)
}

/// Runs the load phase and collects every sample. Returns when the load is over and the
/// collector has drained.
pub async fn run(plan: LoadPlan) -> Result<LoadOutcome, LoadError> {
    match plan.shape.open {
        Some(open) => open::run(plan, open).await,
        None => closed::run(plan).await,
    }
}

/// What the results say about the closed model's coordinated-omission correction.
fn describe_correction(r: &Recorded, think: ThinkTime) -> String {
    let cadence = r.cadence.map_or_else(
        || "n/a".to_owned(),
        |c| format!("{:.1} ms", c.as_secs_f64() * 1e3),
    );
    format!(
        "closed model, corrected against each user's schedule: a user's usual cadence is the \
         median response time plus the mean think time ({:?}–{:?}), here {cadence}. Sends it \
         would have made on that cadence while no user got any answer for longer than a \
         cadence (a stall) are added to `overall` and `transactions`, each with the latency it \
         would have had; {} samples were added to {} measured. `overall_raw` has the measured \
         samples only. Latency budgets score the corrected view; the timeline, error rates and \
         Server-Timing operations (the SUT's own times) are as measured.",
        think.min,
        think.max,
        r.backfilled,
        r.overall_raw.count(),
    )
}

/// Where the load generator's own chatter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chatter {
    /// To stderr, beside the progress bars.
    #[default]
    Stderr,
    /// Nowhere (`--quiet`).
    Silenced,
}
