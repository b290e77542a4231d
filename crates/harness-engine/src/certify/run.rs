//! Runs one case against its own instance of the subject (managed), or against the
//! running subject (black-box), and keeps its evidence.

use std::time::{Duration, Instant};

use super::cases::{Body, Case};
use super::check::CaseError;
use super::ctx::{Ctx, Launch};
use crate::results::certificate::{Exchange, Measure};

/// Where the cases run.
#[derive(Debug, Clone)]
pub enum Target {
    /// Each case gets a fresh environment and instance, started by the harness.
    Managed(Box<Launch>),
    /// The subject already runs at this URL; it verifies tokens with this secret.
    BlackBox {
        /// `http://host:port`.
        url: String,
        /// Its `JWT_SECRET`.
        secret: String,
    },
}

/// How one case ended, with what it saw.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Passed, or why not.
    pub outcome: Result<(), Ended>,
    /// The exchanges, in order.
    pub transcript: Vec<Exchange>,
    /// Figures against their limits.
    pub measures: Vec<Measure>,
    /// Seconds.
    pub duration_s: f64,
    /// The versions of the services the case's environment ran (managed runs).
    pub versions: std::collections::BTreeMap<String, String>,
    /// Every expectation that did not hold: the clause its check named, and what was
    /// observed, in the order seen.
    pub charged: Vec<Charge>,
    /// The clause whose failed check ended the case before its other checks ran; the
    /// case's clauses that no check charged were then not fully judged.
    pub stopped_by: Option<String>,
}

/// One expectation that did not hold, charged to the clause its check judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The clause.
    pub clause: String,
    /// What was expected and observed.
    pub why: String,
}

impl Charge {
    /// A charge to `clause`.
    pub fn new(clause: impl Into<String>, why: impl Into<String>) -> Self {
        Charge {
            clause: clause.into(),
            why: why.into(),
        }
    }
}

impl Ran {
    /// The clauses charged, once each, sorted.
    pub fn charged_clauses(&self) -> Vec<&str> {
        let mut c: Vec<&str> = self.charged.iter().map(|c| c.clause.as_str()).collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// A case that ran no check: the harness could not judge, for `why`.
    pub fn error(why: impl Into<String>, duration_s: f64) -> Self {
        Ran {
            outcome: Err(Ended::Error(why.into())),
            transcript: Vec::new(),
            measures: Vec::new(),
            duration_s,
            versions: Default::default(),
            charged: Vec::new(),
            stopped_by: None,
        }
    }
}

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The subject broke expectations: the text lists them, each with its clause.
    Fail(String),
    /// The harness could not judge.
    Error(String),
    /// The subject lacks the optional part the case judges.
    Unimplemented(String),
}

/// How a case's check function ended before its end.
enum Stop {
    /// A failed check that leaves nothing for the checks after it.
    Failed(Charge),
    /// The harness's own trouble.
    Error(String),
    /// The optional part is absent.
    Unimplemented(String),
}

/// The clause a subject that does not get ready breaks: `/ready` answers 200 once its
/// migrations and seed are done.
const READY: &str = "READY-1";

/// How long one case may take, start-up included, before it is an ERROR.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `case` against `target`.
pub async fn run(case: &Case, target: &Target) -> Ran {
    let started = Instant::now();
    let (outcome, ctx, versions) = match target {
        Target::BlackBox { url, secret } => {
            let ctx = Ctx::new(
                url.trim_end_matches('/').to_owned(),
                secret.clone(),
                None,
                None,
            );
            let outcome = timed(case, &ctx).await;
            (outcome, Some(ctx), Default::default())
        }
        Target::Managed(launch) => managed(case, launch).await,
    };
    let (transcript, measures, charged) = ctx
        .map(|c| (c.http.transcript(), c.measures(), c.broken()))
        .unwrap_or_default();
    let (outcome, charged, stopped_by) = settle(outcome, charged);
    Ran {
        outcome,
        transcript,
        measures,
        duration_s: started.elapsed().as_secs_f64(),
        charged,
        stopped_by,
        versions,
    }
}

/// The case's outcome from how its check function ended and the charges its checks
/// made on the way: FAIL when any expectation did not hold, ERROR when the harness
/// could not go on (whatever was charged before stays charged).
fn settle(
    ended: Result<(), Stop>,
    mut charged: Vec<Charge>,
) -> (Result<(), Ended>, Vec<Charge>, Option<String>) {
    let mut stopped_by = None;
    let error = match ended {
        Err(Stop::Unimplemented(why)) if charged.is_empty() => {
            return (Err(Ended::Unimplemented(why)), charged, None)
        }
        Err(Stop::Unimplemented(why)) => Some(why),
        Ok(()) => None,
        Err(Stop::Failed(c)) => {
            stopped_by = Some(c.clause.clone());
            charged.push(c);
            None
        }
        Err(Stop::Error(why)) => Some(why),
    };
    let listed = || {
        charged
            .iter()
            .map(|c| format!("{}: {}", c.clause, c.why))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let outcome = match error {
        Some(why) if charged.is_empty() => Err(Ended::Error(why)),
        Some(why) => Err(Ended::Error(format!("{}; then {why}", listed()))),
        None if charged.is_empty() => Ok(()),
        None => Err(Ended::Fail(listed())),
    };
    (outcome, charged, stopped_by)
}

async fn timed(case: &Case, ctx: &Ctx) -> Result<(), Stop> {
    let Body::Check(check) = &case.body else {
        return Err(Stop::Error(
            "a load case is run by the session, not as a check".into(),
        ));
    };
    match tokio::time::timeout(CASE_TIMEOUT, check(ctx)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(CaseError::Fail { clause, why })) => Err(Stop::Failed(Charge::new(clause, why))),
        Ok(Err(CaseError::Error(why))) => Err(Stop::Error(why)),
        Ok(Err(CaseError::Unimplemented(why))) => Err(Stop::Unimplemented(why)),
        Err(_) => Err(Stop::Error(format!(
            "the case did not end within {}s",
            CASE_TIMEOUT.as_secs()
        ))),
    }
}

/// A fresh environment and instance with the case's settings; both are stopped after,
/// whatever the case did.
type Managed = (
    Result<(), Stop>,
    Option<Ctx>,
    std::collections::BTreeMap<String, String>,
);

async fn managed(case: &Case, launch: &Launch) -> Managed {
    let env = match launch.start_env().await {
        Ok(env) => env,
        Err(e) => return (Err(Stop::Error(e.to_string())), None, Default::default()),
    };
    let versions = env.versions().await;
    let logs = match tempfile::tempdir() {
        Ok(d) => d,
        Err(_) => {
            let _ = env.shutdown().await;
            return (
                Err(Stop::Error("no temporary directory".into())),
                None,
                versions,
            );
        }
    };
    let mut sut = match launch.spawn(&env, case.settings, logs.path()) {
        Ok(s) => s,
        Err(e) => {
            let _ = env.shutdown().await;
            return (Err(Stop::Error(e.to_string())), None, versions);
        }
    };
    if let Err(e) = sut.wait_ready(launch.ready_timeout).await {
        let tail = sut.log_tail(10);
        let _ = sut.stop(Duration::from_secs(10)).await;
        let _ = env.shutdown().await;
        // Not getting ready with the contract's environment is the subject's failure,
        // of the clause that says when it must answer /ready; the case's own clauses
        // were not judged.
        return (
            Err(Stop::Failed(Charge::new(
                READY,
                format!("not ready: {e}\n{tail}"),
            ))),
            None,
            versions,
        );
    }
    let ctx = Ctx::new(
        sut.base_url().to_owned(),
        launch.secret.clone(),
        Some(env),
        Some(launch.clone()),
    )
    .with_settings(launch.settings(case.settings));
    let outcome = timed(case, &ctx).await;
    let _ = sut.stop(Duration::from_secs(40)).await;
    let (ctx, env) = ctx.split_env();
    if let Some(env) = env {
        let _ = env.shutdown().await;
    }
    (outcome, Some(ctx), versions)
}
