//! `harness chaos`: faults under load, scored per phase. So far: faults as validated
//! values that apply to and remove from a running environment.

pub mod fault;

pub use fault::{ApplyError, Fault, Target};
