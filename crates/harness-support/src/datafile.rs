//! The one error of every data file the harness reads: scenarios, budgets, degradation
//! expectations, LLM profiles and results files. It names the file, the line when one
//! is known, and what is wrong, so a user can go straight to it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A data file that cannot be used.
#[derive(Debug)]
pub struct DataFileError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based), when the parser or the validation knows it.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: DataErrorKind,
}

/// What is wrong with a data file.
#[derive(Debug)]
pub enum DataErrorKind {
    /// It cannot be read.
    Read(std::io::Error),
    /// It does not parse; the parser's own message.
    Syntax(String),
    /// A field holds a value the harness cannot use.
    Invalid {
        /// The field, e.g. `profiles.ci.users` or `expectation llm.breaker_opens`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A results file written by a newer harness.
    Newer {
        /// Its `schema_version`.
        found: u32,
        /// The newest this harness reads.
        reads: u32,
    },
}

impl DataFileError {
    /// The file could not be read.
    pub fn read(path: &Path, e: std::io::Error) -> Self {
        DataFileError {
            path: path.to_owned(),
            line: None,
            kind: DataErrorKind::Read(e),
        }
    }

    /// A TOML file that does not parse, with the line of the error.
    pub fn toml(path: &Path, text: &str, e: &toml::de::Error) -> Self {
        DataFileError {
            path: path.to_owned(),
            line: e.span().map(|s| line_of(text, s.start)),
            kind: DataErrorKind::Syntax(e.message().trim_end().to_owned()),
        }
    }

    /// A JSON file that does not parse, with the line of the error.
    pub fn json(path: &Path, e: &serde_json::Error) -> Self {
        let text = e.to_string();
        // serde_json appends " at line L column C" to its message; the line goes apart.
        let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
        DataFileError {
            path: path.to_owned(),
            line: (e.line() > 0).then_some(e.line()),
            kind: DataErrorKind::Syntax(message),
        }
    }

    /// A field with a value the harness cannot use.
    pub fn invalid(path: &Path, field: impl Into<String>, problem: impl fmt::Display) -> Self {
        DataFileError {
            path: path.to_owned(),
            line: None,
            kind: DataErrorKind::Invalid {
                field: field.into(),
                problem: problem.to_string(),
            },
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

impl fmt::Display for DataFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        match &self.kind {
            DataErrorKind::Read(_) => f.write_str(": cannot read"),
            DataErrorKind::Syntax(m) => write!(f, ": {m}"),
            DataErrorKind::Invalid { field, problem } => write!(f, ": {field}: {problem}"),
            DataErrorKind::Newer { found, reads } => write!(
                f,
                ": schema_version {found} is newer than this harness reads ({reads}); use a \
                 newer harness"
            ),
        }
    }
}

impl std::error::Error for DataFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            DataErrorKind::Read(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_file_and_the_line() {
        let text = "a = 1\nb = \n";
        let e = toml::from_str::<toml::Value>(text).unwrap_err();
        let d = DataFileError::toml(Path::new("x.toml"), text, &e);
        assert_eq!(d.line, Some(2), "{d}");
        assert!(d.to_string().starts_with("x.toml:2: "), "{d}");
        let missing = std::fs::read("no/such").unwrap_err();
        let r = DataFileError::read(Path::new("no/such"), missing);
        assert_eq!(r.to_string(), "no/such: cannot read");
        assert!(std::error::Error::source(&r).is_some());
        let i = DataFileError::invalid(
            Path::new("s.toml"),
            "profiles.ci.users",
            "must be at least 1",
        );
        assert_eq!(
            i.to_string(),
            "s.toml: profiles.ci.users: must be at least 1"
        );
    }
}
