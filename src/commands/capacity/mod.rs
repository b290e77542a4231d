//! `harness capacity`: the load the service sustains within budget, healthy or under a
//! fault. `plan` validates its options, `session` steps or searches the load on one
//! stand, `report` writes `capacity.json`, `.md` and `.html`.

mod plan;
pub mod report;
mod session;

pub use plan::{CapacityOptions, GOODPUT_BUDGET};
pub use session::{run, CapacityPlan, Probes};
