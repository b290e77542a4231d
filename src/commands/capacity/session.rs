//! `harness capacity`: one stand (SUT and environment) kept up while the load steps
//! through rates (open model) or users (closed model), or searches for the highest
//! rate at which every budget holds: double from a start until a probe misses a
//! budget, then bisect between the last pass and the first miss. A fault can be held
//! for the whole search. Each probe is an ordinary scored run with its own results.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::chaos::{Fault, Inject};
use crate::commands::run::{assemble, interruptible, RunError, RunPlan, Stand};
use crate::load::{self, LoadShape};
use crate::results::{Capacity, CapacityStep, LoadModel, Results, SCHEMA_VERSION};
use crate::scenario::{Arrival, Model, Profile};
use crate::session::{Observer, Step};

/// Which loads to probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Probes {
    /// These rates, requests a second, in order.
    Rates(Vec<f64>),
    /// These user counts, in order (closed model).
    Users(Vec<u32>),
    /// Double from `start` until a probe misses a budget or `max` is passed, then
    /// bisect until the bracket is within `precision` (a fraction).
    Search {
        /// The first rate.
        start: f64,
        /// The highest rate tried.
        max: f64,
        /// Stop bisecting when `high / low − 1` is below this.
        precision: f64,
    },
}

/// A validated capacity search.
#[derive(Clone)]
pub struct CapacityPlan {
    /// The scenario (its mix and think time), budgets, target and environment.
    pub run: RunPlan,
    /// The loads.
    pub probes: Probes,
    /// Probes per load; a load passes only when every repeat does.
    pub repeats: u32,
    /// Each probe's scored length.
    pub step: Duration,
    /// Each probe's unscored start.
    pub warmup: Duration,
    /// Held for the whole search.
    pub fault: Option<Fault>,
    /// The open model's in-flight cap.
    pub max_in_flight: u32,
    /// A request within this (and not failed) counts towards goodput.
    pub goodput_limit: Duration,
    /// What a probe must meet to pass.
    pub objective: Objective,
}

/// What a probe must meet to pass (`--objective`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Every applicable budget.
    Budgets,
    /// At least this share of its transactions met every objective of `--slo`.
    Goodput(f64),
}

impl Objective {
    /// What of `r` fell short of it (the failed budgets, or the goodput that was too
    /// low); `None` when `r` meets it.
    fn shortfall(self, r: &Results) -> Option<Vec<String>> {
        match self {
            Objective::Budgets => (!r.verdict.passed).then(|| r.verdict.failed.clone()),
            Objective::Goodput(min) => {
                let share = r.goodput.as_ref().map_or(0.0, |g| g.share);
                (share < min).then(|| {
                    vec![format!(
                        "goodput {:.1}% < {:.1}%",
                        share * 100.0,
                        min * 100.0
                    )]
                })
            }
        }
    }
}

/// Most probes a search makes, whatever its bracket.
const MAX_SEARCH_PROBES: usize = 12;

/// Runs the search; returns what it found and the directory it wrote to.
pub async fn run(
    plan: CapacityPlan,
    observer: &dyn Observer,
    on_step: &(dyn Fn(&CapacityStep) + Sync),
) -> Result<(Capacity, PathBuf), RunError> {
    let started_at = assemble::now_rfc3339();
    let id = assemble::run_id(&plan.run.scenario.name, "capacity");
    let dir = plan.run.reports_dir.join(&id);
    std::fs::create_dir_all(&dir).map_err(|source| RunError::Write {
        path: dir.clone(),
        source,
    })?;
    let mut stand = Stand::up(&plan.run, &dir, observer).await?;
    let mut prober = Prober {
        plan: &plan,
        stand: &stand,
        dir: &dir,
        observer,
        on_step,
        steps: Vec::new(),
    };
    let searched = search(&mut prober).await;
    let steps = prober.steps;
    if let (Some(f), Some(env)) = (&plan.fault, &stand.env) {
        if let Err(e) = f.remove(env, &plan.run.env.llm.profile).await {
            tracing::warn!(error = %e, "removing the capacity fault");
        }
    }
    stand.down().await;
    searched?;
    let capacity = summarise(&plan, id, started_at, steps);
    crate::report::exporter::write_all(&capacity, &dir)?;
    assemble::point_latest(&plan.run.reports_dir, &dir);
    Ok((capacity, dir))
}

/// Probes loads on one stand and keeps every step.
struct Prober<'a> {
    plan: &'a CapacityPlan,
    stand: &'a Stand,
    dir: &'a std::path::Path,
    observer: &'a dyn Observer,
    on_step: &'a (dyn Fn(&CapacityStep) + Sync),
    steps: Vec<CapacityStep>,
}

impl Prober<'_> {
    /// Probes `load` (every repeat); whether every repeat met every budget.
    async fn at(&mut self, load: f64) -> Result<bool, RunError> {
        let found = probe_load(
            self.plan,
            self.stand,
            self.dir,
            self.observer,
            load,
            self.steps.len(),
        )
        .await?;
        let passed = found.iter().all(|s| s.passed);
        for s in found {
            (self.on_step)(&s);
            self.steps.push(s);
        }
        Ok(passed)
    }
}

async fn search(p: &mut Prober<'_>) -> Result<(), RunError> {
    let plan = p.plan;
    if let Some(f) = &plan.fault {
        let env = p.stand.env.as_ref().ok_or_else(|| RunError::Fault {
            action: crate::results::EventAction::Apply,
            fault: f.to_string(),
            why: "no environment (--sut-url)".into(),
        })?;
        f.apply(env).await.map_err(|e| RunError::Fault {
            action: crate::results::EventAction::Apply,
            fault: f.to_string(),
            why: e.to_string(),
        })?;
    }
    match &plan.probes {
        Probes::Rates(rates) => {
            for &r in rates {
                p.at(r).await?;
            }
        }
        Probes::Users(users) => {
            for &u in users {
                p.at(f64::from(u)).await?;
            }
        }
        Probes::Search {
            start,
            max,
            precision,
        } => {
            let (mut low, mut high) = (None::<f64>, None::<f64>);
            let mut rate = *start;
            while rate <= *max && p.steps.len() < MAX_SEARCH_PROBES * plan.repeats as usize {
                if p.at(rate).await? {
                    low = Some(rate);
                    rate *= 2.0;
                } else {
                    high = Some(rate);
                    break;
                }
            }
            if let (Some(mut lo), Some(mut hi)) = (low, high) {
                while hi / lo - 1.0 > *precision
                    && p.steps.len() < MAX_SEARCH_PROBES * plan.repeats as usize
                {
                    let mid = ((lo + hi) / 2.0 * 10.0).round() / 10.0;
                    if p.at(mid).await? {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Every repeat at one load.
async fn probe_load(
    plan: &CapacityPlan,
    stand: &Stand,
    dir: &std::path::Path,
    observer: &dyn Observer,
    load: f64,
    before: usize,
) -> Result<Vec<CapacityStep>, RunError> {
    let mut out = Vec::new();
    for repeat in 1..=plan.repeats {
        let name = format!("probe-{:02}-r{repeat}", before + out.len() + 1);
        let (results, goodput) = probe_once(plan, stand, observer, load).await?;
        let probe_dir = dir.join(&name);
        std::fs::create_dir_all(&probe_dir).map_err(|source| RunError::Write {
            path: probe_dir.clone(),
            source,
        })?;
        crate::report::files::write(&results, &probe_dir, &crate::report::export::FORMATS)?;
        out.push(step_of(
            &results,
            load,
            repeat,
            goodput,
            name,
            plan.objective,
        ));
    }
    Ok(out)
}

/// The shape of one probe at `load`.
fn shape(plan: &CapacityPlan, load: f64) -> LoadShape {
    let duration = Some(plan.warmup + plan.step);
    let profile = if matches!(plan.probes, Probes::Users(_)) {
        let users = load as u32;
        Profile {
            users: Some(users),
            spawn_rate: Some(f64::from(users.max(1))),
            duration: Some(plan.warmup.max(Duration::from_secs(1)) + plan.step),
            warmup: Some(plan.warmup),
            ..Profile::default()
        }
    } else {
        Profile {
            model: Model::Open,
            rate: Some(load),
            arrival: Arrival::Poisson,
            max_in_flight: Some(plan.max_in_flight),
            duration,
            warmup: Some(plan.warmup),
            ..Profile::default()
        }
    };
    LoadShape::settle(&profile)
}

async fn probe_once(
    plan: &CapacityPlan,
    stand: &Stand,
    observer: &dyn Observer,
    load: f64,
) -> Result<(Results, f64), RunError> {
    let mut run = plan.run.clone();
    run.shape = shape(plan, load);
    let step = Step::Load {
        planned: run.shape.planned(),
        peak_users: run.shape.peak_users,
        peak_rate: run.shape.open.map(|_| load.ceil() as u32),
    };
    observer.started(step);
    let connections = interruptible(load::connect(&stand.base_url, &run.shape)).await??;
    let outcome = interruptible(load::run(run.load_plan(
        &stand.base_url,
        Instant::now(),
        connections,
    )))
    .await??;
    observer.finished(
        step,
        &format!("{} transactions", outcome.recorded.totals.requests),
    );
    if outcome.interrupted {
        return Err(RunError::Interrupted("a signal during the load".into()));
    }
    let good = outcome
        .recorded
        .succeeded
        .count_at_most(plan.goodput_limit.as_micros() as u64);
    let results = assemble::results(assemble::Inputs {
        plan: &run,
        run_id: assemble::run_id(&run.scenario.name, &format!("capacity-{load}")),
        started_at: assemble::now_rfc3339(),
        base_url: stand.base_url.clone(),
        backend: stand.backend(),
        outcome,
        observed: None,
        versions: stand.versions.clone(),
    });
    // Over the same window as the throughput.
    let goodput =
        results.totals.throughput_rps * good as f64 / results.totals.requests.max(1) as f64;
    Ok((results, goodput))
}

fn step_of(
    r: &Results,
    load: f64,
    repeat: u32,
    goodput_rps: f64,
    name: String,
    objective: Objective,
) -> CapacityStep {
    let ms = |us: u64| us as f64 / 1e3;
    let info = r.load.as_ref();
    let shortfall = objective.shortfall(r);
    CapacityStep {
        load,
        repeat,
        throughput_rps: r.totals.throughput_rps,
        goodput_rps,
        p50_ms: ms(r.overall.p50_us),
        p95_ms: ms(r.overall.p95_us),
        p99_ms: ms(r.overall.p99_us),
        operations_p95_ms: r
            .operations
            .iter()
            .map(|(k, h)| (k.clone(), ms(h.p95_us)))
            .collect(),
        error_rate: r.totals.error_rate,
        late: info.map_or(0, |l| l.late),
        dropped: info.map_or(0, |l| l.dropped),
        passed: shortfall.is_none() && r.totals.requests > 0,
        failed: shortfall.unwrap_or_default(),
        slo_goodput: r.goodput.as_ref().map(|g| g.share),
        results: format!("{name}/results.json"),
    }
}

/// The capacity, the knee and how they were found.
fn summarise(
    plan: &CapacityPlan,
    id: String,
    started_at: String,
    steps: Vec<CapacityStep>,
) -> Capacity {
    let mut loads: Vec<f64> = steps.iter().map(|s| s.load).collect();
    loads.sort_by(f64::total_cmp);
    loads.dedup();
    let at = |l: f64| steps.iter().filter(move |s| s.load == l);
    let capacity = loads
        .iter()
        .copied()
        .filter(|&l| at(l).all(|s| s.passed))
        .fold(None, |best: Option<f64>, l| {
            Some(best.map_or(l, |b| b.max(l)))
        });
    let median_p95 = |l: f64| {
        let mut v: Vec<f64> = at(l).map(|s| s.p95_ms).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let knee = loads.windows(2).find_map(|w| {
        let (p0, p1) = (median_p95(w[0]), median_p95(w[1]));
        (p0 > 0.0 && p1 / p0 > w[1] / w[0]).then_some(w[0])
    });
    let (model, unit, method) = match &plan.probes {
        Probes::Rates(_) => (LoadModel::Open, "rate", "rates"),
        Probes::Users(_) => (LoadModel::Closed, "users", "users"),
        Probes::Search { .. } => (LoadModel::Open, "rate", "search"),
    };
    Capacity {
        schema_version: SCHEMA_VERSION,
        capacity_id: id,
        command: plan.run.command_line.clone(),
        started_at,
        scenario: plan.run.scenario.name.clone(),
        model,
        load_unit: unit.into(),
        method: method.into(),
        fault: plan.fault.as_ref().map(ToString::to_string),
        repeats: plan.repeats,
        step_s: plan.step.as_secs_f64(),
        goodput_limit_ms: plan.goodput_limit.as_secs_f64() * 1e3,
        objective: match plan.objective {
            Objective::Budgets => None,
            Objective::Goodput(min) => Some(format!(
                "goodput >= {:.1}% (--slo {})",
                min * 100.0,
                plan.run.slo.map(|s| s.to_string()).unwrap_or_default()
            )),
        },
        steps,
        capacity,
        knee,
        method_note: format!(
            "Each probe is a scored run of the scenario's mix on the same SUT: {:.0} s warm-up, \
             then {:.0} s scored; open-model probes send on a Poisson schedule with latency from \
             the intended send time. A load passes when every repeat meets {}; \
             the capacity is the highest load that passed. The knee is the last load \
             before the first step whose median p95 grew by a larger ratio than the load. \
             Goodput counts transactions that did not fail and took at most {:.0} ms end to end, \
             per scored second.{}",
            plan.warmup.as_secs_f64(),
            plan.step.as_secs_f64(),
            match plan.objective {
                Objective::Budgets => "every applicable budget".to_owned(),
                Objective::Goodput(min) => format!(
                    "the objective: at least {:.1}% of its transactions meet every objective of \
                     --slo {} (budgets are reported, not judged)",
                    min * 100.0,
                    plan.run.slo.map(|s| s.to_string()).unwrap_or_default()
                ),
            },
            plan.goodput_limit.as_secs_f64() * 1e3,
            plan.fault
                .as_ref()
                .map(|f| format!(" The fault `{f}` was in place for the whole search."))
                .unwrap_or_default()
        ),
    }
}
