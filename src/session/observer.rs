//! Progress as an observer: the session says which step of a run begins and ends, and
//! the front end decides what to show. The command line draws bars; tests record.

use std::sync::Mutex;
use std::time::Duration;

/// A step of a run, in the order a run goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Building the reference SUT.
    Build,
    /// Starting Postgres, Redis, the fault layer and the LLM fake.
    Environment,
    /// Starting the SUT and waiting for `/ready`.
    WarmUp,
    /// The load phase.
    Load {
        /// Its planned length, when it is time-bound.
        planned: Option<Duration>,
        /// The most users at any time (closed model).
        peak_users: u32,
        /// Open model: the highest rate, requests a second, rounded up for display.
        peak_rate: Option<u32>,
    },
    /// Scoring and writing the reports.
    Scoring,
}

impl Step {
    /// A short name for the step.
    pub fn name(self) -> &'static str {
        match self {
            Step::Build => "build",
            Step::Environment => "environment",
            Step::WarmUp => "warm-up",
            Step::Load { .. } => "load",
            Step::Scoring => "scoring",
        }
    }

    /// What the step does, for people.
    pub fn describe(self) -> String {
        match self {
            Step::Build => "cargo build --workspace --bin sut".into(),
            Step::Environment => "postgres, redis, fault layer, LLM fake".into(),
            Step::WarmUp => "starting the SUT, waiting for /ready".into(),
            Step::Load {
                peak_rate: Some(r), ..
            } => format!("open model, up to {r} requests/s"),
            Step::Load {
                planned: Some(_),
                peak_users,
                ..
            } => format!("up to {peak_users} users"),
            Step::Load {
                planned: None,
                peak_users,
                ..
            } => format!("{peak_users} users, fixed iterations"),
            Step::Scoring => "budgets".into(),
        }
    }
}

/// Told when each step of a run starts and ends.
///
/// ```
/// use harness::session::{Observer, Recorder, Step};
/// let seen = Recorder::default();
/// seen.started(Step::Build);
/// seen.finished(Step::Build, "target/release/sut");
/// assert_eq!(seen.lines(), ["start build", "end build: target/release/sut"]);
/// ```
pub trait Observer: Send + Sync {
    /// `step` begins.
    fn started(&self, step: Step);
    /// `step` ended; `summary` says how, in a few words.
    fn finished(&self, step: Step, summary: &str);
}

/// An observer that writes down what it is told, for tests.
#[derive(Debug, Default)]
pub struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    /// Everything it was told, one line per call.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn push(&self, line: String) {
        if let Ok(mut l) = self.0.lock() {
            l.push(line);
        }
    }
}

impl Observer for Recorder {
    fn started(&self, step: Step) {
        self.push(format!("start {}", step.name()));
    }

    fn finished(&self, step: Step, summary: &str) {
        self.push(format!("end {}: {summary}", step.name()));
    }
}
