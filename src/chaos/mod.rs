//! `harness chaos`: faults under load, scored per phase. So far: faults as validated
//! values that apply to and remove from a running environment, and the time-to-recover
//! measure over a run's per-second timeline.

pub mod fault;
pub mod recovery;

pub use fault::{ApplyError, Fault, Target};
pub use recovery::{Band, Level};
