//! Conformance certification against `sut/CONTRACT.md`: the clause catalogue (generated
//! from the contract's own table), the cases that judge each clause, the recording
//! client that keeps their evidence, and how verdicts combine into a certificate.
//!
//! A case is a check of the subject through HTTP and the contract's environment only;
//! `tests/certify` runs them against the reference and against deliberately broken builds.

pub mod cases;
pub mod catalogue;
mod check;
mod ctx;
pub mod http;
pub mod load;
pub mod openapi;
pub mod run;
pub mod verdict;
pub mod verify;

pub(crate) use check::{check, check_eq, ensure, ensure_eq, ensure_ne};
pub use check::{CaseError, CaseResult, Or};
pub use ctx::{mint, Ctx, Launch};
