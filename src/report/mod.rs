//! Human-facing output of a run. (File exporters for HTML, JUnit and Markdown come
//! with the reports work; the terminal table lives here already.)

pub mod table;
