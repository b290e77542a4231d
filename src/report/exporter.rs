//! The one exporter trait and the one registry. A report file is a document (a run's
//! [`Results`], and in their commands' folders a certificate and a capacity curve)
//! rendered by one exporter per format; each document names its exporters, in the order
//! they are written, and [`write`] puts any of them into a directory.

use std::path::{Path, PathBuf};

use super::error::ReportError;
use crate::results::Results;

/// One output format of a document `D`: a file name and the bytes. Rendering never
/// fails; writing is [`write`]'s business.
///
/// ```
/// use harness::report::exporter::{Document, Exporter};
/// use harness::results::Results;
/// let names: Vec<&str> = Results::exporters().iter().map(|e| e.file_name()).collect();
/// assert_eq!(names, ["report.html", "junit.xml", "summary.md", "results.json"]);
/// ```
pub trait Exporter<D: ?Sized>: Sync {
    /// The file it writes.
    fn file_name(&self) -> &'static str;
    /// The rendered file.
    fn render(&self, doc: &D) -> Vec<u8>;
}

/// A document the harness writes reports of: the registry of its exporters.
pub trait Document: 'static {
    /// Every exporter of this document, in the order they are written.
    fn exporters() -> &'static [&'static dyn Exporter<Self>];
}

impl Document for Results {
    fn exporters() -> &'static [&'static dyn Exporter<Self>] {
        &super::export::EXPORTERS
    }
}

/// Writes `doc` with each of `exporters` into `dir` (created if missing); returns the
/// files written. Each file is written beside and renamed into place, so a reader never
/// sees half a report.
pub fn write<D: ?Sized>(
    doc: &D,
    dir: &Path,
    exporters: &[&dyn Exporter<D>],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::with_capacity(exporters.len());
    for e in exporters {
        let path = dir.join(e.file_name());
        let tmp = dir.join(format!(".{}.tmp", e.file_name()));
        std::fs::write(&tmp, e.render(doc))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| ReportError::Write {
                path: path.clone(),
                source,
            })?;
        written.push(path);
    }
    Ok(written)
}

/// Writes every format of `doc` into `dir`; returns the files written.
pub fn write_all<D: Document>(doc: &D, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    write(doc, dir, D::exporters())
}
