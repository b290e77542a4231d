//! `harness chaos`: a run with faults on a timeline (`plan` builds it on `run`'s plan),
//! or `--matrix`, each fault alone in its own environment (`matrix`); `report` prints
//! a run's phases and the matrix summary.

pub mod matrix;
mod plan;
pub mod report;

pub(crate) use plan::{alert_spec, judged};
pub use plan::{AlertChoice, ChaosOptions, LabelledPlan, DEFAULT_PHASES};
