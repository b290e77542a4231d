//! One folder per command: its options validated into a plan (`plan.rs`), its
//! orchestration (`session.rs` or the folder's `mod.rs`), and its report (`report/`).
//! A newcomer who wants to change `certify` opens `commands/certify/`.
//!
//! `run` is the run every load command builds on: each run of `chaos`, each probe of
//! `capacity`, each shard `merge` adds up, and the load cases of `certify` are runs.
//! So those commands import `run`, and `certify` imports `capacity` and `chaos` for its
//! load cases; no command imports one that builds on it (`tests/architecture` holds the
//! edges). What every command shares sits in the layers below: `plan` (the environment
//! options and the one plan error), `session` (the observer), `report` (the exporter
//! trait, the results' exporters, files).

pub mod capacity;
pub mod certify;
pub mod chaos;
pub mod compare;
pub mod gate;
pub mod merge;
pub mod run;
pub mod up;
