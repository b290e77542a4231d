//! Where the load generator's own log lines go. Goose logs through the `log` crate, which
//! reaches the harness's tracing subscriber; its warnings (a target that never answers
//! gives one per failed request) are noise beside `--quiet`'s one verdict line. Under
//! `--quiet` they are kept here instead of on stderr, written to the run's
//! `load-generator.log`, and counted in one line. Only the first [`KEEP`] bytes are
//! kept (a long run against a dead target logs a line per request); the rest are
//! counted, and the file says how many were left out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;

/// The module paths the load generator's log lines carry: Goose's, and the closed
/// model's transport, which sends the Goose users' requests.
const GENERATORS: [&str; 2] = ["goose", "harness_engine::load::transaction"];

/// Whether a log line of `target` is the load generator's.
pub fn is_generator(target: &str) -> bool {
    GENERATORS
        .iter()
        .any(|g| target == *g || target.strip_prefix(g).is_some_and(|r| r.starts_with("::")))
}

/// How much of the generator's log is kept in memory: 1 MiB.
pub const KEEP: usize = 1 << 20;

/// The generator's log lines kept under `--quiet`, and how many there were.
pub struct LoadLog {
    kept: Mutex<Kept>,
    cap: usize,
}

/// What a [`LoadLog`] holds: the text kept, every line counted, and the lines left out.
struct Kept {
    text: Vec<u8>,
    lines: usize,
    left_out: usize,
    /// The cap was reached: nothing more is kept.
    full: bool,
    /// A line has begun and not yet ended.
    mid_line: bool,
    /// The line being written is left out.
    dropping: bool,
}

/// The process's one [`LoadLog`]: the subscriber is set up before any run exists.
pub static LOAD_LOG: LoadLog = LoadLog::keeping(KEEP);

impl LoadLog {
    /// A log that keeps at most `cap` bytes of whole lines.
    pub const fn keeping(cap: usize) -> Self {
        LoadLog {
            kept: Mutex::new(Kept {
                text: Vec::new(),
                lines: 0,
                left_out: 0,
                full: false,
                mid_line: false,
                dropping: false,
            }),
            cap,
        }
    }

    /// How many lines were logged, kept or not.
    pub fn count(&self) -> usize {
        self.kept.lock().map_or(0, |k| k.lines)
    }

    /// Writes the kept lines to `dir/load-generator.log` and forgets them; the file's
    /// path and how many lines went there, or `None` when there were none.
    pub fn save(&self, dir: &Path) -> Option<(PathBuf, usize)> {
        let (mut text, count, left_out) = {
            let mut k = self.kept.lock().ok()?;
            (k.full, k.mid_line, k.dropping) = (false, false, false);
            (
                std::mem::take(&mut k.text),
                std::mem::take(&mut k.lines),
                std::mem::take(&mut k.left_out),
            )
        };
        if count == 0 {
            return None;
        }
        if left_out > 0 {
            text.extend_from_slice(
                format!(
                    "harness: {left_out} more lines were logged; only the first {} bytes \
                     are kept\n",
                    self.cap
                )
                .as_bytes(),
            );
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
            // A line is kept whole or not at all: its first write decides.
            if !k.mid_line {
                k.full = k.full || k.text.len() + buf.len() > self.0.cap;
                k.dropping = k.full;
            }
            let ends = buf.ends_with(b"\n");
            if !k.dropping {
                k.text.extend_from_slice(buf);
            }
            if ends {
                k.lines += 1;
                k.left_out += usize::from(k.dropping);
            }
            k.mid_line = !ends;
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
        assert!(is_generator("harness_engine::load::transaction"));
        assert!(!is_generator("harness_engine::load::transactions"));
        assert!(!is_generator("harness_engine::load"));
    }

    #[test]
    fn kept_lines_are_counted_saved_once_and_forgotten() {
        let log: &'static LoadLog = Box::leak(Box::new(LoadLog::keeping(KEEP)));
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

    #[test]
    fn past_its_cap_a_log_counts_lines_without_keeping_them() {
        let log: &'static LoadLog = Box::leak(Box::new(LoadLog::keeping(20)));
        for i in 0..1000 {
            let mut w = log.make_writer();
            w.write_all(format!("WARN {i}\n").as_bytes()).expect("kept");
        }
        assert_eq!(log.count(), 1000);
        let kept = log.kept.lock().expect("lock").text.len();
        assert!(kept <= 20, "{kept} bytes kept past a 20-byte cap");
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, n) = log.save(dir.path()).expect("saved");
        assert_eq!(n, 1000);
        let text = std::fs::read_to_string(path).expect("file");
        assert_eq!(
            text,
            "WARN 0\nWARN 1\nharness: 998 more lines were logged; only the first 20 bytes are \
             kept\n"
        );
    }
}
