//! `harness certify`: every case of the catalogue against the subject, each in its own
//! environment (managed) or against the running subject (black-box), two at a time;
//! then the certificate, its digests, and every report format. Ctrl-C stops the run and
//! everything it started.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::certify::cases::{self, Case, LoadCase};
use crate::certify::catalogue::{Catalogue, CatalogueError};
use crate::certify::run::{self, Ended, Target};
use crate::certify::verdict::{self, Status};
use crate::certify::Launch;
use crate::environment::EnvConfig;
use crate::results::certificate::{
    CaseResult, CertEnvironment, CertLevel, Certificate, Digests, Level, Product, Subject,
    SubjectMode, Verdict, CERTIFICATE_SCHEMA_VERSION,
};
use crate::service::{build_reference, ServiceError, SutCommand};
use crate::shutdown;

use crate::commands::capacity;
use crate::commands::run::{assemble, execute, machine_info, RunPlan, TargetPlan};
use crate::session::{error_chain, Recorder};

/// The `SUT_*` settings every managed instance gets at `--level quick` (contract CFG-5):
/// short backoffs and LLM timeouts and no LLM throttle, so the resilience cases take
/// seconds, not the seeds' minutes. Cases add their own on top.
pub const QUICK_SETTINGS: [(&str, &str); 4] = [
    ("SUT_LLM_BACKOFF_MS", "10"),
    ("SUT_LLM_REQUESTS_PER_MINUTE", "100000"),
    ("SUT_LLM_TIMEOUT_MS", "3000"),
    ("SUT_LLM_FALLBACK_TIMEOUT_MS", "3000"),
];

/// The runs the load cases are judged on, planned with everything else.
#[derive(Clone)]
pub struct LoadRuns {
    /// The budgets at the level's named profile.
    pub budgets: RunPlan,
    /// One chaos run per fault of the matrix (none in black-box mode).
    pub faults: Vec<RunPlan>,
    /// The LLM failing while clients abandon requests (none in black-box mode).
    pub abandon: Option<RunPlan>,
    /// The capacity search (`--level full` only, and not in black-box mode).
    pub capacity: Option<capacity::CapacityPlan>,
}

impl std::fmt::Debug for LoadRuns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadRuns")
            .field("budgets", &self.budgets.scenario.name)
            .field("faults", &self.faults.len())
            .field("abandon", &self.abandon.is_some())
            .field("capacity", &self.capacity.is_some())
            .finish()
    }
}

impl LoadRuns {
    /// The run `case` is judged on.
    fn plan_for(&self, case: &LoadCase) -> Option<RunPlan> {
        match case {
            LoadCase::Budgets => Some(self.budgets.clone()),
            LoadCase::Fault(f) => self
                .faults
                .iter()
                .find(|p| p.chaos.as_ref().is_some_and(|c| c.faults == [f.clone()]))
                .cloned(),
            LoadCase::Abandon => self.abandon.clone(),
            LoadCase::Capacity => None,
        }
    }
}

/// A validated certification run.
#[derive(Debug, Clone)]
pub struct CertifyPlan {
    /// The reference, a command, or a URL.
    pub target: TargetPlan,
    /// Each case's environment (managed runs).
    pub env: EnvConfig,
    /// `JWT_SECRET`: given to a managed subject, or the one a running subject uses.
    pub jwt_secret: String,
    /// `SUT_SEED_FILE` for managed instances.
    pub seed_file: PathBuf,
    /// How long an instance may take to get ready.
    pub ready_timeout: Duration,
    /// `--product`.
    pub product: Product,
    /// `--level`.
    pub level: CertLevel,
    /// `--case`: only these run (empty: all).
    pub only: Vec<String>,
    /// `--exclude` with `--reason`.
    pub excluded: Vec<(String, String)>,
    /// `reports/`; the run writes `reports/<id>/`.
    pub reports: PathBuf,
    /// Cases run at once.
    pub jobs: usize,
    /// How the command line reproduces a case: everything but `--case`.
    pub reproduce: String,
    /// The load cases' runs.
    pub loads: LoadRuns,
}

/// Why certification could not run.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The built-in contract could not be read.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The reference SUT could not be built.
    #[error("building the reference SUT")]
    Build(#[source] ServiceError),
    /// The certificate could not be written (the error names the file).
    #[error("writing the certificate")]
    Write(#[from] crate::report::files::ReportError),
    /// Ctrl-C or SIGTERM.
    #[error("interrupted by {0}; every environment and instance it started was stopped")]
    Interrupted(String),
}

/// What a run wrote.
#[derive(Debug)]
pub struct Certified {
    /// The certificate.
    pub certificate: Certificate,
    /// `reports/<id>/`.
    pub dir: PathBuf,
}

/// The level of a case: MUST when it judges any MUST clause.
pub fn case_level(
    catalogue: &Catalogue,
    judged: &BTreeMap<String, Vec<String>>,
    id: &str,
) -> Level {
    let levels = judged
        .get(id)
        .into_iter()
        .flatten()
        .filter_map(|c| catalogue.clause(c));
    levels.map(|c| c.level).min().unwrap_or(Level::Should)
}

/// Runs the plan; `each` hears of every case as it ends.
pub async fn certify(
    plan: &CertifyPlan,
    each: &(dyn Fn(&CaseResult) + Sync),
) -> Result<Certified, CertifyError> {
    let catalogue = Catalogue::built_in()?;
    let started_at = assemble::now_rfc3339();
    let (target, binary) = resolve(plan).await?;
    let mode = match target {
        Target::Managed(_) => SubjectMode::Managed,
        Target::BlackBox { .. } => SubjectMode::BlackBox,
    };
    let judged = catalogue.cases();
    let dir = plan
        .reports
        .join(assemble::run_id("certify", plan.level.name()));
    let (checks, loads): (Vec<&'static Case>, Vec<&'static Case>) = cases::ALL
        .iter()
        .filter(|c| judged.contains_key(&c.id))
        .partition(|c| c.load().is_none());
    let versions = std::sync::Mutex::new(std::collections::BTreeMap::new());
    let finish = |case: &Case, status: Status| {
        if let (Status::Ran(r), Ok(mut v)) = (&status, versions.lock()) {
            v.extend(r.versions.clone());
        }
        let result = case_result(plan, &catalogue, &judged, case, status);
        each(&result);
        result
    };
    // The checks run a few at a time; the load cases after them, one at a time, with
    // the machine to themselves, since they measure latency.
    let work = async {
        let mut results = futures::stream::iter(
            checks
                .iter()
                .map(|case| async { finish(case, status(plan, &target, case).await) }),
        )
        .buffered(plan.jobs.max(1))
        .collect::<Vec<_>>()
        .await;
        for case in &loads {
            let status = match selected(plan, &target, case) {
                Some(s) => s,
                None => load_status(plan, case, &dir.join("runs")).await,
            };
            results.push(finish(case, status));
        }
        results
    };
    let mut results = tokio::select! {
        r = work => r,
        s = shutdown::signalled() => return Err(CertifyError::Interrupted(s.to_string())),
    };
    crate::certify::load::cross_check(&mut results);
    let clauses = verdict::clauses(&catalogue, &results);
    let (outcome, reasons) = verdict::outcome(mode, &clauses);
    let mut machine = machine_info();
    machine
        .versions
        .insert("harness".into(), env!("CARGO_PKG_VERSION").into());
    if let Ok(v) = versions.into_inner() {
        machine.versions.extend(v);
    }
    let mut certificate = Certificate {
        schema_version: CERTIFICATE_SCHEMA_VERSION,
        suite_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        level: plan.level,
        subject: Subject {
            mode,
            target: describe(&plan.target),
            binary_sha256: binary.as_deref().and_then(sha256_file),
            product: plan.product.clone(),
        },
        environment: CertEnvironment {
            backend: match &target {
                Target::Managed(l) => Some(format!("{:?}", l.env.backend).to_lowercase()),
                Target::BlackBox { .. } => None,
            },
            machine,
        },
        expected_cases: results.len(),
        cases_run: results
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::NotRun | Verdict::Excluded))
            .count(),
        outcome,
        reasons,
        clauses,
        cases: results,
        digests: Digests {
            catalogue_sha256: catalogue.sha256(),
            results_sha256: String::new(),
        },
    };
    certificate.digests.results_sha256 = verdict::results_sha256(&certificate);
    crate::report::exporter::write_all(&certificate, &dir)?;
    assemble::point_latest(&plan.reports, &dir);
    Ok(Certified { certificate, dir })
}

/// The subject as cases reach it, and the file its command starts.
async fn resolve(plan: &CertifyPlan) -> Result<(Target, Option<PathBuf>), CertifyError> {
    let command = match &plan.target {
        TargetPlan::Url(url) => {
            let target = Target::BlackBox {
                url: url.clone(),
                secret: plan.jwt_secret.clone(),
            };
            return Ok((target, None));
        }
        TargetPlan::Reference(profile) => SutCommand::Binary(
            build_reference(*profile)
                .await
                .map_err(CertifyError::Build)?,
        ),
        TargetPlan::Command(line) => SutCommand::Shell(line.clone()),
    };
    let binary = match &command {
        SutCommand::Binary(path) => Some(path.clone()),
        SutCommand::Shell(line) => program(line),
    };
    let base = match plan.level {
        CertLevel::Quick => QUICK_SETTINGS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        CertLevel::Full => Vec::new(),
    };
    let launch = Launch {
        command,
        env: plan.env.clone(),
        secret: plan.jwt_secret.clone(),
        seed_file: plan.seed_file.clone(),
        base,
        seed_timers: plan.level == CertLevel::Full,
        ready_timeout: plan.ready_timeout,
    };
    Ok((Target::Managed(Box::new(launch)), binary))
}

/// The subject as the certificate names it.
fn describe(target: &TargetPlan) -> String {
    match target {
        TargetPlan::Reference(_) => "the reference SUT, built from this workspace".to_owned(),
        TargetPlan::Command(line) => line.clone(),
        TargetPlan::Url(url) => url.clone(),
    }
}

/// The program a command line starts: its first word, as a path or found on `PATH`.
fn program(line: &str) -> Option<PathBuf> {
    let first = line.split_whitespace().next()?;
    let direct = PathBuf::from(first);
    if first.contains('/') {
        return direct.is_file().then_some(direct);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(first))
            .find(|p| p.is_file())
    })
}

/// Why `case` does not run, if it does not: excluded, not selected, or not possible in
/// black-box mode.
fn selected(plan: &CertifyPlan, target: &Target, case: &Case) -> Option<Status> {
    if let Some((_, why)) = plan.excluded.iter().find(|(id, _)| *id == case.id) {
        return Some(Status::Excluded(why.clone()));
    }
    if !plan.only.is_empty() && !plan.only.contains(&case.id) {
        return Some(Status::NotRun("not selected: --case named others".into()));
    }
    if let (Target::BlackBox { .. }, Some(why)) = (target, case.needs.black_box_reason()) {
        return Some(Status::NotRun(why.into()));
    }
    None
}

async fn status(plan: &CertifyPlan, target: &Target, case: &Case) -> Status {
    match selected(plan, target, case) {
        Some(s) => s,
        None => Status::Ran(run::run(case, target).await),
    }
}

/// Runs a load case's planned run (`harness run` or `harness chaos`, in its own
/// environment, into `runs/`) and judges its results.
async fn load_status(plan: &CertifyPlan, case: &Case, runs: &Path) -> Status {
    let started = std::time::Instant::now();
    let error = |why: String| Status::Ran(run::Ran::error(why, started.elapsed().as_secs_f64()));
    let Some(load) = case.load() else {
        return error("not a load case".into());
    };
    if *load == LoadCase::Capacity {
        return capacity_status(plan, runs, started).await;
    }
    let Some(mut run_plan) = plan.loads.plan_for(load) else {
        return error("no run was planned for this case".into());
    };
    if let Err(e) = std::fs::create_dir_all(runs) {
        return error(format!("{}: {e}", runs.display()));
    }
    run_plan.reports_dir = runs.to_path_buf();
    match execute(run_plan, &Recorder::default()).await {
        Ok(o) => {
            let file = o.dir.join("results.json").display().to_string();
            Status::Ran(crate::certify::load::judge(
                load,
                &o.results,
                &file,
                started.elapsed().as_secs_f64(),
            ))
        }
        Err(e) => error(error_chain(&e)),
    }
}

/// Runs the capacity search into `runs/` and records what it found.
async fn capacity_status(plan: &CertifyPlan, runs: &Path, started: std::time::Instant) -> Status {
    let Some(mut search) = plan.loads.capacity.clone() else {
        return Status::NotRun(format!(
            "capacity at budget is measured at --level full only (this run: {})",
            plan.level.name()
        ));
    };
    let error = |why: String| Status::Ran(run::Ran::error(why, started.elapsed().as_secs_f64()));
    if let Err(e) = std::fs::create_dir_all(runs) {
        return error(format!("{}: {e}", runs.display()));
    }
    search.run.reports_dir = runs.to_path_buf();
    match capacity::run(search, &Recorder::default(), &|_| {}).await {
        Ok((found, dir)) => Status::Ran(crate::certify::load::capacity(
            &found,
            &dir.join("capacity.json").display().to_string(),
            started.elapsed().as_secs_f64(),
        )),
        Err(e) => error(error_chain(&e)),
    }
}

fn case_result(
    plan: &CertifyPlan,
    catalogue: &Catalogue,
    judged: &BTreeMap<String, Vec<String>>,
    case: &Case,
    status: Status,
) -> CaseResult {
    let clauses = judged.get(&case.id).cloned().unwrap_or_default();
    let clause_verdicts = verdict::judgements(catalogue, &clauses, &status);
    let verdict = verdict::case_verdict(&clause_verdicts, &status);
    let failed_clauses = clause_verdicts
        .iter()
        .filter(|j| matches!(j.verdict, Verdict::Fail | Verdict::NonStrict))
        .map(|j| j.clause.clone())
        .collect();
    let (observed, reason, transcript, measures, duration_s) = match status {
        Status::Ran(r) => {
            let observed = match r.outcome {
                Ok(()) => "as expected".to_owned(),
                Err(Ended::Fail(why)) | Err(Ended::Error(why)) | Err(Ended::Unimplemented(why)) => {
                    why
                }
            };
            (observed, None, r.transcript, r.measures, r.duration_s)
        }
        Status::NotRun(why) | Status::Excluded(why) => {
            (String::new(), Some(why), Vec::new(), Vec::new(), 0.0)
        }
    };
    CaseResult {
        id: case.id.clone(),
        clauses,
        level: case_level(catalogue, judged, &case.id),
        expectation: case.expects.clone(),
        verdict,
        failed_clauses,
        clause_verdicts,
        observed,
        reason,
        transcript,
        measures,
        duration_s,
        reproduce: format!("{} --case {}", plan.reproduce, case.id),
    }
}

/// SHA-256 (hex) of a file's bytes, if it can be read.
pub fn sha256_file(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| hex::encode(Sha256::digest(&b)))
}
