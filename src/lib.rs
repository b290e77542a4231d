//! harness: a load, chaos and conformance test harness for LLM-backed HTTP services.
//!
//! The crate is laid out in the order a run flows through it:
//! [`plan`] (validated options) → [`environment`] (Postgres, Redis, the fault layer and the
//! LLM fake) → load and chaos → scoring → reports. The engine knows nothing of clap; the
//! command line lives in [`cli`] and only builds plans.

pub mod chaos;
pub mod cli;
pub mod environment;
pub mod exit;
pub mod faults;
pub mod llm;
pub mod load;
pub mod net;
pub mod plan;
pub mod process;
pub mod record;
pub mod report;
pub mod results;
pub mod run;
pub mod scenario;
pub mod scoring;
pub mod service;
pub mod shutdown;
