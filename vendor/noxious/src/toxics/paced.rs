//! Patched for the harness (see vendor/noxious/PATCHES.md): latency, bandwidth and slicer
//! as one runner that paces chunks from their arrival.
//!
//! Upstream noxious 1.0.4 sleeps the full latency for every chunk in turn, so latency
//! piles up under load; Toxiproxy delays each chunk from its arrival. Here every chunk
//! is stamped on arrival and split into pieces, each with a time it may leave.

use crate::toxic::ToxicKind;
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::VecDeque;
use tokio::time::{sleep_until, Duration, Instant};

use super::slicer::SliceIter;

/// When a queued piece may leave.
#[derive(Debug, Clone, Copy)]
enum Due {
    /// At this instant (latency: arrival + delay).
    At(Instant),
    /// This long after the previous piece left (bandwidth and slicer pacing).
    After(Duration),
}

/// Whether `kind` runs here rather than in upstream's runners.
pub(crate) fn is_paced(kind: &ToxicKind) -> bool {
    matches!(
        kind,
        ToxicKind::Latency { .. } | ToxicKind::Bandwidth { .. } | ToxicKind::Slicer { .. }
    )
}

fn pieces(
    kind: &ToxicKind,
    chunk: Bytes,
    arrival: Instant,
    rng: &mut StdRng,
    seed: Option<u64>,
) -> Vec<(Due, Bytes)> {
    match *kind {
        ToxicKind::Latency { latency, jitter } => {
            let ms = if jitter == 0 {
                latency
            } else {
                (latency + rng.gen_range(0..jitter * 2)).saturating_sub(jitter)
            };
            vec![(Due::At(arrival + Duration::from_millis(ms)), chunk)]
        }
        ToxicKind::Bandwidth { rate } if rate > 0 => {
            let piece = (rate.saturating_mul(100)).max(1) as usize;
            let mut out = Vec::new();
            let mut rest = chunk;
            while !rest.is_empty() {
                let p = rest.split_to(piece.min(rest.len()));
                let secs = p.len() as f64 / (rate as f64 * 1000.0);
                out.push((Due::After(Duration::from_secs_f64(secs)), p));
            }
            out
        }
        ToxicKind::Slicer {
            average_size,
            size_variation,
            delay,
        } => SliceIter::new(chunk, average_size, size_variation, seed)
            .map(|s| (Due::After(Duration::from_micros(delay)), s))
            .collect(),
        _ => vec![(Due::After(Duration::ZERO), chunk)],
    }
}

/// Runs a paced toxic from `input` to `output` until the input ends.
pub(crate) async fn run_paced(
    kind: ToxicKind,
    mut input: mpsc::Receiver<Bytes>,
    mut output: mpsc::Sender<Bytes>,
    seed: Option<u64>,
) {
    let mut rng = match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_entropy(),
    };
    let mut queue: VecDeque<(Due, Bytes)> = VecDeque::new();
    let mut last_sent = Instant::now();
    let mut open = true;
    loop {
        if !open && queue.is_empty() {
            let _ = output.close().await;
            return;
        }
        let head = queue.front().map(|(due, _)| match *due {
            Due::At(t) => t,
            Due::After(d) => last_sent + d,
        });
        tokio::select! {
            biased;
            chunk = input.next(), if open => match chunk {
                Some(c) => queue.extend(pieces(&kind, c, Instant::now(), &mut rng, seed)),
                None => open = false,
            },
            _ = sleep_until(head.unwrap_or_else(Instant::now)), if head.is_some() => {
                if let Some((_, piece)) = queue.pop_front() {
                    if output.send(piece).await.is_err() {
                        return;
                    }
                    last_sent = Instant::now();
                }
            }
        }
    }
}
