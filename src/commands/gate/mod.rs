//! `harness gate`: base and head run side by side on one machine, in interleaved
//! blocks (A B, B A, A B, …), each block a fresh environment and SUT under the same
//! open-model load; after each scheduled look the statistics (`scoring::gate`) judge
//! every metric, and the gate stops once every metric is decided, one has regressed,
//! or its pairs or time run out. It writes `gate.json`, `gate.md` and `gate.html`.

mod block;
pub mod build;
mod plan;
pub mod report;

use std::path::PathBuf;
use std::time::Instant;

pub use plan::{GateOptions, GatePlan, SidePlan};

use crate::commands::run::{assemble, machine_info, RunError};
use crate::results::{
    GateBlock, GateCall, GateMetric, GateReport, GateSide, GateStop, GateSubject, MetricScale,
    GATE_SCHEMA_VERSION,
};
use crate::scoring::gate::{self as stats, metrics, Series};
use crate::session::Observer;

/// Why a gate could not come to a verdict (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// A side's git ref could not be built.
    #[error(transparent)]
    Build(#[from] build::BuildError),
    /// A block could not run.
    #[error("block {index} ({side})")]
    Block {
        /// The block.
        index: u32,
        /// Its side.
        side: &'static str,
        /// Why.
        #[source]
        source: RunError,
    },
    /// The gate's files could not be written.
    #[error(transparent)]
    Report(#[from] crate::report::files::ReportError),
}

/// What the front end hears as the gate goes.
pub trait GateProgress: Sync {
    /// A block ended.
    fn block(&self, b: &GateBlock);
    /// A look was taken at `pairs` pairs and came to `call`, with `undecided` of its
    /// `metrics` (the cost among them) INCONCLUSIVE.
    fn look(&self, pairs: u32, call: GateCall, undecided: usize, metrics: usize);
}

/// How `gate.json` says its figures were obtained.
pub const METHOD: &str = "Each block starts the side's SUT afresh in its own environment and \
loads it with open-model Poisson arrivals at the gate's rate; its figures are taken over the \
scored window after the warm-up, latencies from the block's merged HDR histograms (from the \
intended send time). Blocks run in pairs, A B then B A, so that drift falls on both sides alike. \
Each metric's change comes from the pairs' differences (of the logarithm for latencies and CPU, \
a ratio; in points for shares): the interval is a 95% percentile bootstrap over pairs of blocks, \
since the variance lives between blocks; the verdict is a one-sided paired t-test against the \
threshold, Holm-Bonferroni over the metrics with alpha split over the looks. The threshold is \
--max-regression, and for a latency at least --min-delta as a ratio of base's median. The noise floor is \
the half-width of the interval an A/A gate of these pairs would have: the spread between a \
side's blocks that the pairing does not cancel (that of the pairs' differences). CPU is the SUT's process group's user and system time from /proc \
over the scored window, a request, judged on its own. A block where the generator sent more than \
1% of its requests 10 ms late or dropped any, or the machine was 97% busy, is left out with its pair; so is a \
pair where processes the gate did not start (the machine's busy time less the harness's and its \
descendants') took 3 points more of the machine in one block than in the other.";

/// Runs the gate; its files go to `reports/<gate-id>/`.
pub async fn run(
    plan: &GatePlan,
    observer: &dyn Observer,
    progress: &dyn GateProgress,
) -> Result<(GateReport, PathBuf), GateError> {
    let started = Instant::now();
    let started_at = assemble::now_rfc3339();
    let dir = plan
        .run
        .reports_dir
        .join(assemble::run_id("gate", &plan.run.scenario.name));
    let base = build::subject("--base", &plan.base, plan.build).await?;
    let head = build::subject("--head", &plan.head, plan.build).await?;
    let looks_at = plan.look_at();
    let mut blocks: Vec<GateBlock> = Vec::new();
    let mut measured: Vec<Vec<metrics::Measured>> = Vec::new();
    let mut looks: Vec<(u32, GateCall)> = Vec::new();
    let mut judged: Option<Judged> = None;
    let mut stopped = GateStop::MaxPairs;
    // Pairs run two at a time, A B then B A, so that every look sees each side first
    // as often as second; the time check is before each such cycle.
    'cycles: for cycle in 0..plan.max_pairs / 2 {
        let per_cycle = started.elapsed().as_secs_f64() / f64::from(cycle.max(1));
        if cycle > 0
            && started.elapsed().as_secs_f64() + per_cycle > plan.max_duration.as_secs_f64()
        {
            stopped = GateStop::MaxDuration;
            break;
        }
        for (pair, order) in [
            (2 * cycle, [GateSide::Base, GateSide::Head]),
            (2 * cycle + 1, [GateSide::Head, GateSide::Base]),
        ] {
            for side in order {
                let index = blocks.len() as u32;
                let command = match side {
                    GateSide::Base => &base.command,
                    GateSide::Head => &head.command,
                };
                let block_dir = dir.join(format!("block-{index:02}-{}", side.as_str()));
                let mut ran = block::run(plan, (index, pair, side), command, &block_dir, observer)
                    .await
                    .map_err(|source| GateError::Block {
                        index,
                        side: side.as_str(),
                        source,
                    })?;
                // The pair's second block: judge the two together.
                let second = blocks.len() % 2 == 1;
                if let (true, Some(mate)) = (second, blocks.last_mut()) {
                    if let Some(why) = block::pair_exclusion(mate, &ran.block) {
                        mate.excluded = mate.excluded.or(Some(why));
                        ran.block.excluded = ran.block.excluded.or(Some(why));
                    }
                }
                progress.block(&ran.block);
                measured.push(metrics::of(&ran.results));
                blocks.push(ran.block);
            }
        }
        let pairs = 2 * cycle + 2;
        if looks_at.contains(&pairs) {
            let now = judge(plan, &blocks, &measured);
            looks.push((pairs, now.call));
            now.tell(progress, pairs);
            let open: Vec<&GateMetric> = now
                .all()
                .filter(|m| m.call == GateCall::Inconclusive)
                .collect();
            let stop = stop_after_look(&open, pairs, plan.max_pairs);
            judged = Some(now);
            if let Some(s) = stop {
                stopped = s;
                break 'cycles;
            }
        }
    }
    // Stopped between looks (out of time): this judgement is the last look.
    let pairs = (blocks.len() / 2) as u32;
    let judged = match judged {
        Some(j) if looks.last().map(|(p, _)| *p) == Some(pairs) => j,
        _ => {
            let j = judge(plan, &blocks, &measured);
            looks.push((pairs, j.call));
            j.tell(progress, pairs);
            j
        }
    };
    let mut machine = machine_info();
    machine
        .versions
        .insert("harness".into(), env!("CARGO_PKG_VERSION").into());
    let report = GateReport {
        schema_version: GATE_SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        duration_s: started.elapsed().as_secs_f64(),
        method: METHOD.to_owned(),
        machine,
        base: base.subject,
        head: head.subject,
        settings: plan.info(),
        blocks,
        looks,
        stopped,
        metrics: judged.metrics,
        cost: judged.cost,
        call: judged.call,
    };
    crate::report::exporter::write_all(&report, &dir)?;
    assemble::point_latest(&plan.run.reports_dir, &dir);
    Ok((report, dir))
}

/// A side, ready to start: the command each of its blocks runs.
pub struct Side {
    /// The command.
    pub command: String,
    /// What `gate.json` says of it.
    pub subject: GateSubject,
}

/// What a look found.
struct Judged {
    metrics: Vec<GateMetric>,
    cost: GateMetric,
    call: GateCall,
}

impl Judged {
    /// Every metric, the cost last.
    fn all(&self) -> impl Iterator<Item = &GateMetric> {
        self.metrics.iter().chain(std::iter::once(&self.cost))
    }

    fn tell(&self, progress: &dyn GateProgress, pairs: u32) {
        let undecided = self
            .all()
            .filter(|m| m.call == GateCall::Inconclusive)
            .count();
        progress.look(pairs, self.call, undecided, self.all().count());
    }
}

/// Why the gate stops after a look at `pairs` pairs that left `open` undecided, or
/// `None` to go on.
fn stop_after_look(open: &[&GateMetric], pairs: u32, max_pairs: u32) -> Option<GateStop> {
    if open.is_empty() {
        Some(GateStop::Decided)
    } else if pairs >= max_pairs {
        Some(GateStop::MaxPairs)
    } else if open.iter().all(|m| !could_decide(m, pairs, max_pairs)) {
        Some(GateStop::Undecidable)
    } else {
        None
    }
}

/// Whether more pairs, up to `max_pairs`, could still decide `m`, INCONCLUSIVE at
/// `pairs`: a missing or zero value stays so, and a noise floor shrinks as one over the
/// square root of the pairs (the t quantile shrinks too, which this leaves aside, so it
/// errs towards going on).
fn could_decide(m: &GateMetric, pairs: u32, max_pairs: u32) -> bool {
    use crate::results::GateReason;
    match m.reason {
        GateReason::Missing | GateReason::NotPositive => false,
        GateReason::TooFewBlocks => pairs < max_pairs,
        GateReason::Test | GateReason::Interval | GateReason::NoiseFloor => {
            let Some(floor) = m.noise_floor else {
                return false;
            };
            let lift = |v: f64| match m.scale {
                MetricScale::Ratio => (1.0 + v).ln(),
                MetricScale::Share => v,
            };
            // An interval wholly beyond the threshold is on its way to REGRESSED (or
            // IMPROVED): the test's t grows as the square root of the pairs, whatever
            // the floor, so more pairs can decide it.
            let tau = lift(m.threshold);
            let beyond =
                m.low.is_some_and(|l| lift(l) > tau) || m.high.is_some_and(|h| lift(h) < -tau);
            let shrink = (f64::from(pairs) / f64::from(max_pairs.max(1))).sqrt();
            pairs < max_pairs && (beyond || lift(floor) * shrink <= tau)
        }
    }
}

/// The cost metric's name.
pub const COST: &str = "cpu_ms_per_request";

/// Judges the pairs whose two blocks both count: every metric as one family, the CPU
/// cost on its own.
fn judge(plan: &GatePlan, blocks: &[GateBlock], measured: &[Vec<metrics::Measured>]) -> Judged {
    let mut base = Vec::new();
    let mut head = Vec::new();
    let mut cost = Series {
        metric: COST.into(),
        scale: MetricScale::Ratio,
        ms: false,
        base: Vec::new(),
        head: Vec::new(),
    };
    for pair in blocks.chunks(2).zip(measured.chunks(2)) {
        let ([a, b], [ma, mb]) = pair else { continue };
        if a.excluded.is_some() || b.excluded.is_some() {
            continue;
        }
        for (blk, m) in [(a, ma), (b, mb)] {
            let cpu = blk.cpu_ms_per_request.unwrap_or(f64::NAN);
            match blk.side {
                GateSide::Base => {
                    base.push(m.clone());
                    cost.base.push(cpu);
                }
                GateSide::Head => {
                    head.push(m.clone());
                    cost.head.push(cpu);
                }
            }
        }
    }
    let series = metrics::series(&base, &head);
    let all = stats::judge(&series, &plan.stats);
    let metrics: Vec<GateMetric> = all
        .iter()
        .zip(&series)
        .map(|(j, x)| stats::stated(j, x))
        .collect();
    let cost_judged = stats::judge(std::slice::from_ref(&cost), &plan.stats);
    let cost_metric = stats::stated(&cost_judged[0], &cost);
    let call = stats::overall(&all.iter().chain(&cost_judged).cloned().collect::<Vec<_>>());
    Judged {
        metrics,
        cost: cost_metric,
        call,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::GateReason;

    fn metric(scale: MetricScale, floor: f64, reason: GateReason) -> GateMetric {
        GateMetric {
            metric: "m".into(),
            scale,
            pairs: 4,
            base: Some(1.0),
            head: Some(1.0),
            change: Some(0.0),
            low: Some(-floor),
            high: Some(floor),
            noise_floor: Some(floor),
            threshold: 0.05,
            p_regressed: Some(0.5),
            p_improved: Some(0.5),
            call: GateCall::Inconclusive,
            reason,
            base_values: Vec::new(),
            head_values: Vec::new(),
        }
    }

    #[test]
    fn a_floor_that_would_fall_under_the_threshold_by_max_pairs_goes_on() {
        // 4 pairs to 16: the floor halves.
        let r = MetricScale::Ratio;
        assert!(could_decide(
            &metric(r, 0.09, GateReason::NoiseFloor),
            4,
            16
        ));
        assert!(!could_decide(
            &metric(r, 0.12, GateReason::NoiseFloor),
            4,
            16
        ));
        assert!(!could_decide(
            &metric(r, 0.09, GateReason::NoiseFloor),
            16,
            16
        ));
        assert!(could_decide(
            &metric(MetricScale::Share, 0.02, GateReason::Interval),
            4,
            16
        ));
        assert!(!could_decide(&metric(r, 0.01, GateReason::Missing), 4, 16));
        assert!(could_decide(
            &metric(r, 0.01, GateReason::TooFewBlocks),
            2,
            16
        ));
    }

    #[test]
    fn a_gate_that_runs_its_last_pair_with_a_metric_open_stopped_at_max_pairs() {
        // Real A/A gates ran their 10 pairs with entity resolution INCONCLUSIVE and
        // said they stopped "undecidable": at the last pair nothing could decide.
        let open = metric(MetricScale::Ratio, 0.09, GateReason::NoiseFloor);
        assert_eq!(stop_after_look(&[&open], 10, 10), Some(GateStop::MaxPairs));
        assert_eq!(stop_after_look(&[], 10, 10), Some(GateStop::Decided));
        let hopeless = metric(MetricScale::Ratio, 0.5, GateReason::NoiseFloor);
        assert_eq!(
            stop_after_look(&[&hopeless], 4, 10),
            Some(GateStop::Undecidable)
        );
        assert_eq!(stop_after_look(&[&open], 4, 16), None);
    }

    #[test]
    fn a_metric_shown_past_the_threshold_goes_on_whatever_its_floor() {
        // A real gate of the breach at 4 pairs: entity resolution +22.5% [+16.6%,
        // +29.5%], floor 9.8%, not yet significant after Holm. It stopped "undecidable".
        let entity = GateMetric {
            change: Some(0.225),
            low: Some(0.166),
            high: Some(0.295),
            ..metric(MetricScale::Ratio, 0.098, GateReason::NoiseFloor)
        };
        assert!(could_decide(&entity, 4, 10));
        assert!(!could_decide(&entity, 10, 10));
        let better = GateMetric {
            change: Some(-0.3),
            low: Some(-0.4),
            high: Some(-0.2),
            ..entity.clone()
        };
        assert!(could_decide(&better, 4, 10));
        // One that straddles the threshold with that floor still stops.
        let straddles = GateMetric {
            low: Some(-0.05),
            high: Some(0.12),
            ..entity
        };
        assert!(!could_decide(&straddles, 4, 10));
    }
}
