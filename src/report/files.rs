//! Reading a results file back and writing a run's reports: every format into
//! `reports/<run-id>/`.

use std::path::{Path, PathBuf};

use super::export::{by_name, FORMATS};
use crate::datafile::{DataErrorKind, DataFileError};
use crate::results::{Results, SCHEMA_VERSION};

pub use super::error::ReportError;

/// Reads and checks a `results.json`.
pub fn load(path: &Path) -> Result<Results, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
    // Look at the version first, so a newer file says so instead of failing on a field.
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    if let Ok(v) = serde_json::from_str::<Version>(&text) {
        if v.schema_version > SCHEMA_VERSION {
            return Err(DataFileError {
                path: path.to_owned(),
                line: None,
                kind: DataErrorKind::Newer {
                    found: v.schema_version,
                    reads: SCHEMA_VERSION,
                },
            }
            .into());
        }
    }
    serde_json::from_str(&text).map_err(|e| {
        let mut d = DataFileError::json(path, &e);
        if let DataErrorKind::Syntax(m) = &mut d.kind {
            *m = format!("not a harness results file: {m}");
        }
        ReportError::File(d)
    })
}

/// `html,junit` as format names, checked; empty means all of them.
pub fn parse_formats(list: &str) -> Result<Vec<&'static str>, ReportError> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let name = if name == "markdown" { "md" } else { name };
        let known = FORMATS
            .iter()
            .find(|f| **f == name)
            .ok_or_else(|| ReportError::UnknownFormat(name.to_owned()))?;
        if !out.contains(known) {
            out.push(*known);
        }
    }
    if out.is_empty() {
        out.extend(FORMATS);
    }
    Ok(out)
}

/// Checks that reports can be written into `dir` before any work starts: it is created
/// if missing and must then be a writable directory.
pub fn check_dir(dir: &Path) -> Result<(), ReportError> {
    let write_err = |source| ReportError::Write {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let probe = tempfile::Builder::new()
        .prefix(".harness-write-check")
        .tempfile_in(dir)
        .map_err(write_err)?;
    drop(probe);
    Ok(())
}

/// Writes `formats` of `results` into `dir`; returns the files written.
pub fn write(results: &Results, dir: &Path, formats: &[&str]) -> Result<Vec<PathBuf>, ReportError> {
    let exporters = formats
        .iter()
        .map(|name| by_name(name).ok_or_else(|| ReportError::UnknownFormat((*name).to_owned())))
        .collect::<Result<Vec<_>, _>>()?;
    super::exporter::write(results, dir, &exporters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_unknown_ones_name_the_flag() {
        assert_eq!(parse_formats("").unwrap(), FORMATS.to_vec());
        assert_eq!(parse_formats("md, html,md").unwrap(), vec!["md", "html"]);
        assert_eq!(parse_formats("markdown").unwrap(), vec!["md"]);
        let e = parse_formats("html,pdf").unwrap_err().to_string();
        assert!(e.starts_with("unknown format `pdf`"), "{e}");
    }

    #[test]
    fn a_newer_schema_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        std::fs::write(&path, r#"{"schema_version": 99}"#).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("schema_version 99 is newer"), "{e}");
        std::fs::write(&path, r#"{"schema_version": 1}"#).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(
            e.contains("not a harness results file: missing field"),
            "{e}"
        );
    }

    #[test]
    fn every_format_is_written_and_a_bad_dir_fails_up_front() {
        let results = load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/results/chaos.json"
        )))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = write(&results, dir.path(), &FORMATS).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["report.html", "junit.xml", "summary.md", "results.json"]
        );
        let again = load(&dir.path().join("results.json")).unwrap();
        assert_eq!(again, results);
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        assert!(check_dir(&blocker.join("sub")).is_err());
    }
}
