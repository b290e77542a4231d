//! Human-facing output: the verdict table, a chaos run's phases, the chaos matrix
//! summary and the comparison of two runs on the terminal, and the file exporters
//! (HTML, JUnit, Markdown, JSON) with the code that reads and writes report files.

pub mod capacity;
pub mod certificate;
pub mod compare;
mod error;
pub mod export;
pub mod exporter;
pub mod files;
pub mod matrix;
pub mod phases;
pub mod table;
