//! harness: a load, chaos and conformance test harness for LLM-backed HTTP services.
//!
//! The modules are layered, top to bottom, in the order a run flows through them; a
//! module imports only modules below it (`tests/architecture` holds the allowed edges):
//!
//! 1. [`cli`]: clap, progress bars, printing; the only place that knows the command line.
//! 2. [`commands`]: one folder per command (`run`, `chaos`, `capacity`, `certify`,
//!    `gate`, `merge`, `compare`, `up`), each holding its plan, its orchestration and its report.
//! 3. [`plan`]: what every plan shares: the environment options and [`plan::PlanError`].
//! 4. [`session`]: what every orchestration shares: the observer of its steps.
//! 5. [`report`]: the exporter trait, the results' exporters, tables and report files.
//! 6. The engine parts: [`certify`] (the contract's clause catalogue and cases), [`chaos`] (fault timeline, expectations, recovery, scoring of
//!    phases), [`load`], [`scenario`], [`service`] (the SUT), [`environment`],
//!    [`faults`] (fault values and the fault layer), [`llm`] (the LLM fake).
//! 7. [`scoring`]: budgets and comparisons.
//! 8. [`record`]: the sample collector and HDR histograms.
//! 9. Support, the `harness-support` crate: [`datafile`], [`units`], [`net`], [`process`],
//!    [`cpu`], [`shutdown`].
//! 10. [`results`]: the stable types of the `harness-results` crate, exit codes included.

pub mod cli;
pub mod commands;
pub mod plan;
pub mod session;

pub mod report;

/// The engine (the `harness-engine` crate): load, record, scoring, chaos, certify and
/// the system under test.
pub use harness_engine::{certify, chaos, load, record, scenario, scoring, service};

/// The environment and the reaper (the `harness-environment` crate).
pub use harness_environment as environment;
/// The fault layer (the `harness-faults` crate).
pub use harness_faults as faults;
/// The LLM fake (the `harness-llm-fake` crate).
pub use harness_llm_fake as llm;

/// The bottom layer (the `harness-support` crate): units, data-file errors, ports,
/// child processes and their CPU time, shutdown signals and the Server-Sent Events parser.
pub use harness_support::{cpu, datafile, net, process, shutdown, sse, units};

/// The stable, machine-readable types (the `harness-results` crate).
pub use harness_results as results;
/// The documented exit codes and the one function that maps outcomes to them.
pub use harness_results::exit;
