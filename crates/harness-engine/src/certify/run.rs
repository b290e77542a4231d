//! Runs one case against its own instance of the subject (managed), or against the
//! running subject (black-box), and keeps its evidence.

use std::time::{Duration, Instant};

use super::cases::{Body, Case};
use super::ctx::{CaseError, Ctx, Launch};
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
    /// The clauses a failure is charged to: those its checks named, or `None` when a
    /// check that names no clause stopped the case (then every clause it judges).
    pub charged: Option<Vec<String>>,
}

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The subject broke an expectation.
    Fail(String),
    /// The harness could not judge.
    Error(String),
}

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
    let (transcript, measures, broken) = ctx
        .map(|c| (c.http.transcript(), c.measures(), c.broken()))
        .unwrap_or_default();
    let (outcome, charged) = charge(outcome, &broken);
    Ran {
        outcome,
        transcript,
        measures,
        duration_s: started.elapsed().as_secs_f64(),
        charged,
        versions,
    }
}

/// Folds the clause-named checks that did not hold into the case's outcome.
fn charge(
    outcome: Result<(), Ended>,
    broken: &[(String, String)],
) -> (Result<(), Ended>, Option<Vec<String>>) {
    let named = broken
        .iter()
        .map(|(clause, why)| format!("{clause}: {why}"))
        .collect::<Vec<_>>()
        .join("; ");
    match outcome {
        Ok(()) if broken.is_empty() => (Ok(()), None),
        Ok(()) => {
            let mut clauses: Vec<String> = broken.iter().map(|(c, _)| c.clone()).collect();
            clauses.dedup();
            (Err(Ended::Fail(named)), Some(clauses))
        }
        Err(Ended::Fail(why)) if !broken.is_empty() => {
            (Err(Ended::Fail(format!("{named}; then {why}"))), None)
        }
        other => (other, None),
    }
}

async fn timed(case: &Case, ctx: &Ctx) -> Result<(), Ended> {
    let Body::Check(check) = &case.body else {
        return Err(Ended::Error(
            "a load case is run by the session, not as a check".into(),
        ));
    };
    match tokio::time::timeout(CASE_TIMEOUT, check(ctx)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(CaseError::Fail(why))) => Err(Ended::Fail(why)),
        Ok(Err(CaseError::Error(why))) => Err(Ended::Error(why)),
        Err(_) => Err(Ended::Error(format!(
            "the case did not end within {}s",
            CASE_TIMEOUT.as_secs()
        ))),
    }
}

/// A fresh environment and instance with the case's settings; both are stopped after,
/// whatever the case did.
type Managed = (
    Result<(), Ended>,
    Option<Ctx>,
    std::collections::BTreeMap<String, String>,
);

async fn managed(case: &Case, launch: &Launch) -> Managed {
    let env = match launch.start_env().await {
        Ok(env) => env,
        Err(e) => return (Err(Ended::Error(e.to_string())), None, Default::default()),
    };
    let versions = env.versions().await;
    let logs = match tempfile::tempdir() {
        Ok(d) => d,
        Err(_) => {
            let _ = env.shutdown().await;
            return (
                Err(Ended::Error("no temporary directory".into())),
                None,
                versions,
            );
        }
    };
    let mut sut = match launch.spawn(&env, case.settings, logs.path()) {
        Ok(s) => s,
        Err(e) => {
            let _ = env.shutdown().await;
            return (Err(Ended::Error(e.to_string())), None, versions);
        }
    };
    if let Err(e) = sut.wait_ready(launch.ready_timeout).await {
        let tail = sut.log_tail(10);
        let _ = sut.stop(Duration::from_secs(10)).await;
        let _ = env.shutdown().await;
        // Not getting ready with the contract's environment is the subject's failure.
        return (
            Err(Ended::Fail(format!("not ready: {e}\n{tail}"))),
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
