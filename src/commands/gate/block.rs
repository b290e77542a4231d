//! One block of a gate: one side started afresh (its own environment, so that neither
//! side inherits the other's cache or data), loaded at the gate's open-model rate,
//! stopped, scored. Besides its results, a block reads the SUT's CPU time and the
//! machine's over the scored load, and judges whether the generator or the machine,
//! not the SUT, bounded its figures.

use std::path::Path;
use std::time::Instant;

use crate::commands::run::{assemble, interruptible, RunError, Stand, TargetPlan};
use crate::cpu::MachineTime;
use crate::load;
use crate::results::{BlockExclusion, GateBlock, GateSide, Results};
use crate::session::{Observer, Step};

use super::GatePlan;

/// More than this share of sends starting late marks the block as generator-bound.
pub const LATE_SHARE: f64 = 0.01;

/// The machine busier than this over a block marks it as saturated: the SUT and the
/// generator then wait on each other for a core.
pub const SATURATED: f64 = 0.97;

/// Other processes' share of the machine differing by more than this between the two
/// blocks of a pair marks the pair as disturbed: a steady neighbour (a busy loop) loads
/// both alike, and the pairing cancels it; one that came and went loads one side. The
/// SUT's own CPU is not in that share, so a change that costs CPU cannot trip it.
pub const INTERFERENCE: f64 = 0.03;

/// A finished block: its results and what the gate records of it.
pub struct Ran {
    /// The block's results, scored against the budgets as a run is.
    pub results: Results,
    /// What `gate.json` says of it.
    pub block: GateBlock,
}

/// Runs block `index` (of pair `pair`) of `side`, started with `command`; its files
/// go to `dir`.
pub async fn run(
    plan: &GatePlan,
    (index, pair, side): (u32, u32, GateSide),
    command: &str,
    dir: &Path,
    observer: &dyn Observer,
) -> Result<Ran, RunError> {
    let mut run = plan.run.clone();
    run.target = TargetPlan::Command(command.to_owned());
    std::fs::create_dir_all(dir).map_err(|source| RunError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut stand = Stand::up(&run, dir, observer).await?;
    let loaded = async {
        let step = Step::Load {
            planned: run.shape.planned(),
            peak_users: run.shape.peak_users,
            peak_rate: Some(plan.rate.ceil() as u32),
        };
        observer.started(step);
        let connections = interruptible(load::connect(&stand.base_url, &run.shape)).await??;
        let epoch = Instant::now();
        let load = load::run(run.load_plan(&stand.base_url, epoch, connections));
        // The readings at the scored window's start; the warm-up's work is not counted.
        let at_warmup = async {
            tokio::time::sleep_until((epoch + plan.warmup).into()).await;
            (stand.sut_cpu_seconds(), own_seconds(), MachineTime::now())
        };
        let (outcome, (cpu0, own0, machine0)) =
            interruptible(async { tokio::join!(load, at_warmup) }).await?;
        let outcome = outcome?;
        let cpu = cpu0.zip(stand.sut_cpu_seconds()).map(|(a, b)| b - a);
        let own = own0.zip(own_seconds()).map(|(a, b)| b - a);
        let machine = machine0.zip(MachineTime::now());
        let busy = machine.and_then(|(a, b)| b.busy_since(&a));
        let others = machine
            .zip(own)
            .and_then(|((a, b), own)| b.others_since(&a, own));
        observer.finished(
            step,
            &format!("{} transactions", outcome.recorded.totals.requests),
        );
        if outcome.interrupted {
            return Err(RunError::Interrupted("a signal during the load".into()));
        }
        Ok((outcome, cpu, (busy, others)))
    }
    .await;
    let backend = stand.backend();
    let versions = std::mem::take(&mut stand.versions);
    let base_url = stand.base_url.clone();
    stand.down().await;
    let (outcome, cpu, (busy, others)) = loaded?;
    if outcome.recorded.totals.requests == 0 {
        return Err(RunError::NoData);
    }
    let results = assemble::results(assemble::Inputs {
        plan: &run,
        run_id: format!("block-{index}-{}", side.as_str()),
        started_at: assemble::now_rfc3339(),
        base_url,
        backend,
        outcome,
        observed: None,
        versions,
    });
    crate::report::files::write(&results, dir, &["json"])?;
    let load = results.load.clone().unwrap_or_default();
    let requests = results.totals.requests;
    let block = GateBlock {
        index,
        pair,
        side,
        requests,
        cpu_ms_per_request: cpu.map(|s| s * 1000.0 / requests.max(1) as f64),
        machine_busy: busy,
        others_busy: others,
        late: load.late,
        max_late_ms: load.max_late_ms,
        dropped: load.dropped,
        excluded: exclusion(requests, load.late, load.dropped, busy),
        results: dir.join("results.json").display().to_string(),
    };
    Ok(Ran { results, block })
}

/// CPU seconds of the harness and everything it started.
fn own_seconds() -> Option<f64> {
    crate::cpu::tree_seconds(std::process::id())
}

/// Why a pair whose blocks each stand is still left out: other processes loaded the
/// machine in one block and not in the other.
pub fn pair_exclusion(a: &GateBlock, b: &GateBlock) -> Option<BlockExclusion> {
    let (x, y) = a.others_busy.zip(b.others_busy)?;
    ((x - y).abs() > INTERFERENCE).then_some(BlockExclusion::MachineInterference)
}

/// Why a block's figures are the generator's or the machine's rather than the SUT's.
pub fn exclusion(
    requests: u64,
    late: u64,
    dropped: u64,
    busy: Option<f64>,
) -> Option<BlockExclusion> {
    if dropped > 0 {
        Some(BlockExclusion::GeneratorDropped)
    } else if late as f64 > LATE_SHARE * requests.max(1) as f64 {
        Some(BlockExclusion::GeneratorLate)
    } else if busy.is_some_and(|b| b >= SATURATED) {
        Some(BlockExclusion::MachineSaturated)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_left_out_when_the_generator_or_machine_bounded_it() {
        assert_eq!(exclusion(1000, 10, 0, Some(0.5)), None);
        assert_eq!(
            exclusion(1000, 11, 0, Some(0.5)),
            Some(BlockExclusion::GeneratorLate)
        );
        assert_eq!(
            exclusion(1000, 0, 1, None),
            Some(BlockExclusion::GeneratorDropped)
        );
        assert_eq!(
            exclusion(1000, 0, 0, Some(0.98)),
            Some(BlockExclusion::MachineSaturated)
        );
        assert_eq!(exclusion(1000, 0, 0, None), None);
    }

    #[test]
    fn a_pair_is_left_out_when_something_else_loaded_one_block_only() {
        let block = |others: Option<f64>| GateBlock {
            index: 0,
            pair: 0,
            side: GateSide::Base,
            requests: 1000,
            cpu_ms_per_request: Some(3.0),
            machine_busy: Some(0.6),
            others_busy: others,
            late: 0,
            max_late_ms: 0.0,
            dropped: 0,
            excluded: None,
            results: String::new(),
        };
        // A steady busy loop beside both: kept.
        assert_eq!(pair_exclusion(&block(Some(0.50)), &block(Some(0.52))), None);
        assert_eq!(
            pair_exclusion(&block(Some(0.01)), &block(Some(0.052))),
            Some(BlockExclusion::MachineInterference)
        );
        assert_eq!(pair_exclusion(&block(None), &block(Some(0.14))), None);
    }
}
