//! Per-request operation timings: handlers record each seed 002 §2.2 operation, and the
//! middleware turns them into one `Server-Timing` entry each and into the operation
//! histogram.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The operations of one request, in the order they finished, and those of them that
/// did not complete.
#[derive(Clone, Default)]
pub struct Timings {
    done: Arc<Mutex<Vec<(&'static str, Duration)>>>,
    failed: Arc<Mutex<Vec<&'static str>>>,
}

impl Timings {
    /// Records an operation's duration.
    pub fn record(&self, op: &'static str, d: Duration) {
        let d = if op == "entity_resolver.resolve"
            && crate::defect::active(crate::defect::Defect::ServerTimingUnderReports)
        {
            d / 4
        } else {
            d
        };
        self.done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((op, d));
    }

    /// Marks an operation recorded (or to be recorded) as not completed, for
    /// `operation_errors_total`.
    pub fn fail(&self, op: &'static str) {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(op);
    }

    /// The operations marked as not completed.
    pub fn failures(&self) -> Vec<&'static str> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `fut` and records how long it took under `op`.
    pub async fn measure<T>(&self, op: &'static str, fut: impl Future<Output = T>) -> T {
        let t = Instant::now();
        let out = fut.await;
        self.record(op, t.elapsed());
        out
    }

    /// Everything recorded so far.
    pub fn entries(&self) -> Vec<(&'static str, Duration)> {
        self.done.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Renders `Server-Timing`: `op;dur=12.345, op2;dur=0.5` (milliseconds).
pub fn header_value(entries: &[(&'static str, Duration)]) -> String {
    entries
        .iter()
        .map(|(op, d)| format!("{op};dur={:.3}", d.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_entry_per_operation() {
        let h = header_value(&[
            ("entity_resolver.resolve", Duration::from_micros(1500)),
            ("request_handler.handle_request", Duration::from_millis(20)),
        ]);
        assert_eq!(
            h,
            "entity_resolver.resolve;dur=1.500, request_handler.handle_request;dur=20.000"
        );
    }
}
