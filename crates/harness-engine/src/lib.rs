//! The engine of harness: everything a run does between its plan and its report, with no
//! command line. Load generation under both models ([`load`]) from scenarios
//! ([`scenario`]), recording into HDR histograms ([`record`]), scoring against budgets
//! ([`scoring`]), the fault timeline and degradation rules ([`chaos`]), the contract's
//! clause catalogue and cases ([`certify`]), and the system under test itself
//! ([`service`]). It sits on the environment, the fault layer and the LLM fake, which
//! are crates of their own below it.

pub mod certify;
pub mod chaos;
pub mod load;
pub mod record;
pub mod scenario;
pub mod scoring;
pub mod service;

// The crates below, under the names every module of the engine uses for them.
use harness_environment as environment;
use harness_faults as faults;
use harness_llm_fake as llm;
use harness_results as results;
use harness_results::exit;
use harness_support::{datafile, net, process, shutdown, sse, units};
