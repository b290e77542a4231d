//! What every command's report shares: the one exporter trait and its registry, the
//! results' exporters (HTML, JUnit, Markdown, JSON) that `run`, `chaos` and `merge`
//! write, the verdict table, text columns, and the code that reads and writes report files. Each
//! command's own report (a capacity curve, a certificate, a comparison, a chaos run's
//! phases) lives in its folder under `commands/`.

pub mod columns;
mod error;
pub mod export;
pub mod exporter;
pub mod files;
pub mod table;
