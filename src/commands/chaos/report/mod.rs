//! A chaos run's words on the terminal: its phases beside the healthy baseline
//! (`phases`), and the summary of a `--matrix` (`matrix`).

pub mod matrix;
pub mod phases;
