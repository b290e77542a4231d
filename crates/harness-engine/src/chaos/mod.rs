//! `harness chaos`: faults under load, scored per phase. A run goes through baseline,
//! fault and recovery; the faults go in and come out at the phase boundaries; every
//! figure is kept per phase and per second; the seeds' degradation rules
//! (`fixtures/degradation.toml`) and the time to recover are scored beside the budgets.

pub mod alerts;
pub mod driver;
pub mod expect;
pub mod inject;
pub mod recovery;
pub mod score;
pub mod spec;

pub use expect::Expectation;
pub use inject::{ApplyError, Fault, Inject, Target};
pub use recovery::{Band, Level};
pub use spec::{label, ChaosSpec, Phases, SettingError, SutLimits};
