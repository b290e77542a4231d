//! Human-facing output of a run: the verdict table, a chaos run's phases, and the
//! chaos matrix summary. (File exporters for HTML, JUnit and Markdown come with the
//! reports work.)

pub mod export;
pub mod matrix;
pub mod phases;
pub mod table;
