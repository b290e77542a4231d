//! The one error of reading and writing report files, apart from both so that the
//! readers ([`super::files`]) and the writer ([`super::exporter`]) share it without
//! importing each other.

use std::path::PathBuf;

use crate::datafile::DataFileError;

/// Why reports could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results file cannot be read, is not results JSON, or is from a newer harness.
    #[error(transparent)]
    File(#[from] DataFileError),
    /// A format nobody exports.
    #[error("unknown format `{0}`; expected a comma-separated list of html, junit, md, json")]
    UnknownFormat(String),
    /// A report could not be written.
    #[error("{path}: cannot write")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}
