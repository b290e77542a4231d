//! `harness merge`: the shards of one split run read and checked (`plan`), added into
//! one record and scored as a whole (`session`), then written as `run`'s reports.

mod plan;
mod session;

pub use plan::{MergeInputError, MergeOptions};
pub use session::{merge, MergeError, MergePlan, ShardFile};
