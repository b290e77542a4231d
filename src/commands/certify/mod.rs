//! `harness certify`: every case of the catalogue against a subject, and a certificate.
//! `plan` validates its options against the catalogue, `session` runs the cases and
//! digests the evidence, `report` writes the certificate in every format.

mod plan;
pub mod report;
mod session;

pub use plan::{level_load, CertifyOptions, ABANDON, CAPACITY_CEILING, MANAGED_SECRET};
pub use session::{
    case_level, certify, sha256_file, Certified, CertifyError, CertifyPlan, LoadRuns,
    QUICK_SETTINGS,
};
