//! Progress bars for the steps of a run (build, environment, warm-up, load, scoring), on
//! stderr: the command line's [`Observer`]. `--quiet` and `--json` get none.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::session::{Observer, Step};

/// Draws one bar per step, or nothing.
pub struct Progress {
    quiet: bool,
    current: Mutex<Option<PhaseBar>>,
}

struct PhaseBar {
    bar: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Bars on stderr unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Progress {
            quiet,
            current: Mutex::new(None),
        }
    }

    fn bar(&self, len: Option<u64>) -> ProgressBar {
        let bar = match len {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        if self.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        } else {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar
    }

    /// A spinner for a step of unknown length.
    fn spinner(&self, name: &str, what: &str) -> PhaseBar {
        let bar = self.bar(None);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:>11.bold} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.to_owned());
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        PhaseBar { bar, ticker: None }
    }

    /// A bar over the planned seconds.
    fn timed(&self, name: &str, what: &str, planned: Duration) -> PhaseBar {
        let bar = self.bar(Some(planned.as_secs().max(1)));
        bar.set_style(
            ProgressStyle::with_template("  {prefix:>11.bold} [{bar:30}] {pos}/{len}s {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(name.to_owned());
        bar.set_message(what.to_owned());
        let ticking = bar.clone();
        let ticker = tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                ticking.set_position(start.elapsed().as_secs());
            }
        });
        PhaseBar {
            bar,
            ticker: Some(ticker),
        }
    }
}

impl Observer for Progress {
    fn started(&self, step: Step) {
        let what = step.describe();
        let bar = match step {
            Step::Load {
                planned: Some(planned),
                ..
            } => self.timed(step.name(), &what, planned),
            _ => self.spinner(step.name(), &what),
        };
        if let Ok(mut current) = self.current.lock() {
            *current = Some(bar);
        }
    }

    fn finished(&self, _step: Step, summary: &str) {
        let Some(done) = self.current.lock().ok().and_then(|mut c| c.take()) else {
            return;
        };
        if let Some(t) = &done.ticker {
            t.abort();
        }
        let prefix = done.bar.prefix();
        done.bar.finish_and_clear();
        if !done.bar.is_hidden() {
            eprintln!("  {prefix:>11} {summary}");
        }
    }
}

impl Drop for PhaseBar {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }
}
