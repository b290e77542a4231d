//! Where the load generator's own log lines go. Goose logs through the `log` crate, which
//! reaches the harness's tracing subscriber; its warnings (a target that never answers
//! gives one per failed request) are noise beside `--quiet`'s one verdict line. Under
//! `--quiet` they are kept here instead of on stderr, written to the run's
//! `load-generator.log`, and counted in one line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;

/// The module path the load generator's log lines carry.
const GENERATOR: &str = "goose";

/// Whether a log line of `target` is the load generator's.
pub fn is_generator(target: &str) -> bool {
    target == GENERATOR || target.starts_with("goose::")
}

/// The generator's log lines kept under `--quiet`, and how many there were.
#[derive(Default)]
pub struct LoadLog {
    kept: Mutex<(Vec<u8>, usize)>,
}

/// The process's one [`LoadLog`]: the subscriber is set up before any run exists.
pub static LOAD_LOG: LoadLog = LoadLog {
    kept: Mutex::new((Vec::new(), 0)),
};

impl LoadLog {
    /// How many lines were kept.
    pub fn count(&self) -> usize {
        self.kept.lock().map_or(0, |k| k.1)
    }

    /// Writes the kept lines to `dir/load-generator.log` and forgets them; the file's
    /// path and how many lines went there, or `None` when there were none.
    pub fn save(&self, dir: &Path) -> Option<(PathBuf, usize)> {
        let (text, count) = {
            let mut k = self.kept.lock().ok()?;
            (std::mem::take(&mut k.0), std::mem::take(&mut k.1))
        };
        if count == 0 {
            return None;
        }
        let path = dir.join("load-generator.log");
        std::fs::write(&path, text).ok()?;
        Some((path, count))
    }
}

/// One log line on its way into a [`LoadLog`].
pub struct Line<'a>(&'a LoadLog);

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut k) = self.0.kept.lock() {
            k.0.extend_from_slice(buf);
            if buf.ends_with(b"\n") {
                k.1 += 1;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for &'static LoadLog {
    type Writer = Line<'a>;
    fn make_writer(&'a self) -> Line<'a> {
        Line(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_generators_targets_are_its() {
        assert!(is_generator("goose"));
        assert!(is_generator("goose::metrics"));
        assert!(!is_generator("gooseberry"));
        assert!(!is_generator("harness::load"));
    }

    #[test]
    fn kept_lines_are_counted_saved_once_and_forgotten() {
        let log: &'static LoadLog = Box::leak(Box::default());
        let mut w = log.make_writer();
        w.write_all(b"WARN one\n").expect("kept");
        let mut w = log.make_writer();
        w.write_all(b"WARN two\n").expect("kept");
        assert_eq!(log.count(), 2);
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, n) = log.save(dir.path()).expect("saved");
        assert_eq!(n, 2);
        assert_eq!(
            std::fs::read_to_string(path).expect("file"),
            "WARN one\nWARN two\n"
        );
        assert_eq!(log.count(), 0);
        assert!(log.save(dir.path()).is_none(), "nothing left to save");
    }
}
