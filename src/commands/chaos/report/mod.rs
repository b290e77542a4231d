//! A chaos run's words on the terminal: its phases beside the healthy baseline
//! (`phases`), its alerts (`alerts`), and the summary of a `--matrix` (`matrix`).

pub mod alerts;
pub mod matrix;
pub mod phases;
