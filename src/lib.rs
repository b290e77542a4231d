//! harness: a load, chaos and conformance test harness for LLM-backed HTTP services.
//!
//! The modules are layered, top to bottom, in the order a run flows through them; a
//! module imports only modules below it (`tests/architecture` holds the allowed edges):
//!
//! 1. [`cli`]: clap, progress bars, printing; the only place that knows the command line.
//! 2. [`plan`]: every option validated into a plan before any work starts.
//! 3. [`session`]: one run from plan to written results, the `--matrix` loop, `up`.
//! 4. [`report`]: the exporters (HTML, JUnit, Markdown, JSON), tables and comparisons.
//! 5. The engine parts: [`certify`] (the contract's clause catalogue and cases), [`chaos`] (fault timeline, expectations, recovery, scoring of
//!    phases), [`load`], [`scenario`], [`service`] (the SUT), [`environment`],
//!    [`faults`] (fault values and the fault layer), [`llm`] (the LLM fake).
//! 6. [`scoring`]: budgets and comparisons.
//! 7. [`record`]: the sample collector and HDR histograms.
//! 8. Support: [`datafile`], [`units`], [`net`], [`process`], [`shutdown`].
//! 9. [`results`]: the stable types of the `harness-results` crate, exit codes included.

pub mod cli;
pub mod plan;
pub mod session;

pub mod report;

pub mod certify;
pub mod chaos;
pub mod environment;
pub mod faults;
pub mod llm;
pub mod load;
pub mod scenario;
pub mod service;

pub mod scoring;

pub mod record;

pub mod datafile;
pub mod net;
pub mod process;
pub mod shutdown;
pub mod units;

/// The stable, machine-readable types (the `harness-results` crate).
pub use harness_results as results;
/// The documented exit codes and the one function that maps outcomes to them.
pub use harness_results::exit;
