//! Progress bars for the phases of a run (build, environment, warm-up, load, scoring),
//! on stderr. `--quiet` and non-terminals get none.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws phase bars, or nothing.
pub struct Progress {
    quiet: bool,
}

/// One phase's bar; finishing it leaves a one-line summary.
pub struct PhaseBar {
    bar: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Bars on stderr unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Progress { quiet }
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

    /// A spinner for a phase of unknown length.
    pub fn phase(&self, name: &str, what: &str) -> PhaseBar {
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

    /// The load phase: a bar over the planned seconds when time-bound.
    pub fn load_phase(&self, planned: Option<Duration>, users: u32) -> PhaseBar {
        let Some(planned) = planned else {
            return self.phase("load", &format!("{users} users, fixed iterations"));
        };
        let bar = self.bar(Some(planned.as_secs().max(1)));
        bar.set_style(
            ProgressStyle::with_template("  {prefix:>11.bold} [{bar:30}] {pos}/{len}s {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix("load");
        bar.set_message(format!("up to {users} users"));
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

impl PhaseBar {
    /// Ends the phase with a summary.
    pub fn finish(self, summary: &str) {
        if let Some(t) = &self.ticker {
            t.abort();
        }
        let prefix = self.bar.prefix();
        self.bar.finish_and_clear();
        if !self.bar.is_hidden() {
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
