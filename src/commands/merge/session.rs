//! `harness merge`: the shards of one run added into one record, scored against every
//! budget on the whole, and written as the usual reports. The histograms are merged bin
//! by bin, so each percentile is that of one histogram over all the shards' samples.

use std::path::PathBuf;

use crate::chaos::driver::Observed;
use crate::chaos::ChaosSpec;
use crate::commands::run::{assemble, RunOutcome};
use crate::record::{HistogramError, Recorded};
use crate::results::{MergeInfo, MergedShard, Results, StageInfo};
use crate::scoring::{self, Budget};

/// One shard's results file, read and checked.
#[derive(Debug, Clone)]
pub struct ShardFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// What it holds (`shard` is set).
    pub results: Results,
}

impl ShardFile {
    /// Its shard index.
    pub fn index(&self) -> u32 {
        self.results.shard.as_ref().map_or(0, |s| s.index)
    }
}

/// A validated merge: every shard of one run, in shard order, and the budgets.
#[derive(Debug, Clone)]
pub struct MergePlan {
    /// The shards, 0 to N − 1.
    pub shards: Vec<ShardFile>,
    /// Budgets, with the scenario's and `--budget` overrides applied.
    pub budgets: Vec<Budget>,
    /// The shards of a chaos run: its faults, phases and expectations, scored on the
    /// whole with what shard 0's driver saw.
    pub chaos: Option<ChaosSpec>,
    /// Where the merged reports go.
    pub dir: PathBuf,
    /// `reports/`, whose `latest` is pointed at the merged run.
    pub reports_dir: PathBuf,
    /// The command line, for the report.
    pub command_line: Vec<String>,
}

/// Why the merge could not complete (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A stored histogram is unreadable.
    #[error("{0}: stored histogram")]
    Histogram(PathBuf, #[source] HistogramError),
    /// A plan with no shard in it.
    #[error("no shard to merge")]
    NoShards,
    /// The merged reports could not be written.
    #[error(transparent)]
    Report(#[from] crate::report::files::ReportError),
}

/// How the merged figures were obtained, for the results.
fn method(n: usize, chaos: bool) -> String {
    let phases = if chaos {
        " Chaos phases, the time to recover and the degradation expectations are scored on \
         the merged seconds, with the fault events, /health samples and LLM call counts that \
         shard 0, which drove the faults, recorded."
    } else {
        ""
    };
    format!(
        "{n} shards merged exactly: every histogram (end to end, per transaction, per \
         operation, per second) is the bin-by-bin sum of the shards' stored HDR histograms, \
         and counters are sums, so each percentile is that of one histogram over every \
         shard's samples (never an average of percentiles). Throughput is the sum of the \
         shards' throughputs over the shared schedule. Budgets are scored on the merged data \
         only; the shards scored nothing.{phases}"
    )
}

/// Merges, scores and writes the reports.
pub fn merge(plan: MergePlan) -> Result<RunOutcome, MergeError> {
    let mut whole = Recorded::default();
    for s in &plan.shards {
        let rec = Recorded::from_results(&s.results)
            .map_err(|e| MergeError::Histogram(s.path.clone(), e))?;
        whole.absorb(&rec);
    }
    let shards: Vec<&Results> = plan.shards.iter().map(|s| &s.results).collect();
    let Some(&first) = shards.first() else {
        return Err(MergeError::NoShards);
    };
    whole.warmup = std::time::Duration::from_secs_f64(first.warmup_s.max(0.0));
    let stages = summed_stages(first, &shards[1..]);
    let users: u32 = shards.iter().map(|r| r.scenario.users).sum();
    let mut budgets = scoring::score(&plan.budgets, &whole, &stages, users);
    let (phases, chaos) = match (&plan.chaos, &first.chaos) {
        (Some(spec), Some(driven)) => {
            let seen = Observed::from(driven);
            let c = crate::chaos::score::score(spec, &whole, &seen, &plan.budgets);
            budgets.extend(c.outcomes);
            (c.phases, Some(c.info))
        }
        _ => (Vec::new(), None),
    };
    let verdict = scoring::verdict(&budgets, &[]);
    let mut load = first.load.clone().unwrap_or_default();
    load.backfilled = whole.backfilled;
    load.cadence_ms = None;
    load.late = whole.late;
    load.max_late_ms = whole.max_late.as_secs_f64() * 1e3;
    load.dropped = whole.dropped;
    load.cut = whole.cut;
    load.abandoned = whole.abandoned;
    load.abandon_rule = None;
    let results = Results {
        command: plan.command_line.clone(),
        started_at: shards
            .iter()
            .map(|r| r.started_at.clone())
            .min()
            .unwrap_or_default(),
        scenario: crate::results::ScenarioInfo {
            users,
            stages,
            ..first.scenario.clone()
        },
        coordinated_omission: format!(
            "{} Each shard: {}",
            method(shards.len(), plan.chaos.is_some()),
            first.coordinated_omission
        ),
        load: Some(load),
        duration_s: shards.iter().map(|r| r.duration_s).fold(0.0, f64::max),
        totals: whole
            .totals
            .to_totals(shards.iter().map(|r| r.totals.throughput_rps).sum()),
        overall: whole.overall.summary(),
        overall_raw: whole.overall_raw.summary(),
        transactions: assemble::summaries(&whole.transactions),
        operations: assemble::summaries(&whole.operations),
        timeline: assemble::timeline(&whole),
        streams: whole.stream_results(first.streams.as_ref().map_or(0.0, |s| s.window_s)),
        goodput: whole.goodput(),
        phases,
        chaos,
        shard: None,
        merged: Some(MergeInfo {
            shards: plan.shards.len() as u32,
            files: plan
                .shards
                .iter()
                .map(|s| MergedShard {
                    index: s.index(),
                    file: s.path.display().to_string(),
                    requests: s.results.totals.requests,
                })
                .collect(),
            method: method(shards.len(), plan.chaos.is_some()),
        }),
        budgets,
        verdict,
        ..first.clone()
    };
    std::fs::create_dir_all(&plan.dir).map_err(|source| {
        crate::report::files::ReportError::Write {
            path: plan.dir.clone(),
            source,
        }
    })?;
    crate::report::files::write(&results, &plan.dir, &crate::report::export::FORMATS)?;
    if plan.dir.parent() == Some(plan.reports_dir.as_path()) {
        assemble::point_latest(&plan.reports_dir, &plan.dir);
    }
    Ok(RunOutcome {
        results,
        dir: plan.dir,
    })
}

/// The shards' stages added up: the same times, the users and rates summed.
fn summed_stages(first: &Results, others: &[&Results]) -> Vec<StageInfo> {
    let mut stages = first.scenario.stages.clone();
    for r in others {
        for (sum, s) in stages.iter_mut().zip(&r.scenario.stages) {
            sum.users += s.users;
            sum.rate = match (sum.rate, s.rate) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
        }
    }
    stages
}
