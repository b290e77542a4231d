//! Turning a finished load phase into [`Results`]: identifiers, tokens, the machine,
//! summaries, the timeline and the verdict.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::{RunPlan, TargetPlan};
use crate::chaos::{self, driver::Observed};
use crate::load::LoadOutcome;
use crate::record::{Latency, Recorded};
use crate::results::{
    HistogramSummary, LoadInfo, LoadModel, MachineInfo, Results, ScenarioInfo, SecondPoint,
    ShardInfo, TargetInfo, TargetKind, SCHEMA_VERSION,
};
use crate::scoring;

/// Now, RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// `20261123T093000Z-smoke-smoke`: sortable, unique per second, says what ran.
pub fn run_id(scenario: &str, profile: &str) -> String {
    let t = now_rfc3339().replace([':', '-'], "");
    format!("{t}-{scenario}-{profile}")
}

#[derive(Serialize)]
struct Claims<'a> {
    user_id: String,
    roles: &'a [String],
    exp: u64,
    iat: u64,
}

/// An HS256 token for load user `i` (contract AUTH-1), valid for a day.
pub fn mint(secret: &str, i: usize, roles: &[String]) -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = Claims {
        user_id: format!("load-user-{i}"),
        roles,
        exp: now + 86_400,
        iat: now,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// Cores, memory, OS and the checkout's commit.
pub fn machine_info() -> MachineInfo {
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024);
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_owned()).ok();
    let os = match (
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
    ) {
        (Some(t), Some(r)) => format!("{t} {r}"),
        _ => std::env::consts::OS.to_owned(),
    };
    let git_sha = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(crate::service::workspace_dir())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let versions = BTreeMap::from([("harness".to_owned(), env!("CARGO_PKG_VERSION").to_owned())]);
    MachineInfo {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes,
        os,
        git_sha,
        versions,
    }
}

/// `rustc --version` of the toolchain that built the reference SUT.
fn rustc_version() -> Option<String> {
    std::process::Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// Points `reports/latest` at `dir` (best effort: a report is not lost without it).
pub fn point_latest(reports: &Path, dir: &Path) {
    let Some(name) = dir.file_name() else {
        return;
    };
    // A new link renamed over the old one: a reader (a CI step, a browser) never finds
    // `latest` missing while another run finishes.
    let tmp = reports.join(format!(".latest.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let pointed = std::os::unix::fs::symlink(name, &tmp)
        .and_then(|()| std::fs::rename(&tmp, reports.join("latest")));
    if let Err(e) = pointed {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!(error = %e, "could not point reports/latest");
    }
}

/// What [`results`] needs.
pub struct Inputs<'a> {
    pub plan: &'a RunPlan,
    pub run_id: String,
    pub started_at: String,
    pub base_url: String,
    pub backend: Option<String>,
    pub outcome: LoadOutcome,
    /// What the chaos driver saw (chaos runs).
    pub observed: Option<Observed>,
    /// Versions the environment reported (Postgres, Redis).
    pub versions: BTreeMap<String, String>,
}

/// Scores the run and assembles its results.
pub fn results(i: Inputs<'_>) -> Results {
    let plan = i.plan;
    let rec = &i.outcome.recorded;
    // Budgets of a chaos run look at the baseline only: the stages end with the scored
    // window.
    let stages = plan.shape.stage_infos();
    // A shard scores nothing: its share of the load says nothing about the budgets.
    let mut budgets = match plan.shard {
        Some(_) => Vec::new(),
        None => scoring::score(&plan.budgets, rec, &stages, plan.shape.peak_users),
    };
    let chaos = match (&plan.chaos, &i.observed) {
        (Some(spec), Some(seen)) => Some(chaos::score::score(spec, rec, seen, &plan.budgets)),
        _ => None,
    };
    let (phases, chaos) = match chaos {
        // A shard keeps what its driver saw, for the merge, and judges nothing.
        Some(mut c) if plan.shard.is_some() => {
            c.info.time_to_recover_s = None;
            c.info.recovery_rule = "not scored: one shard's record; harness merge scores the \
                                    whole run"
                .into();
            (Vec::new(), Some(c.info))
        }
        Some(c) => {
            budgets.extend(c.outcomes);
            (c.phases, Some(c.info))
        }
        None => (Vec::new(), None),
    };
    let verdict = scoring::verdict(&budgets, &[]);
    // Samples are scored by when they started, so the window ends where sends stop:
    // the planned length (or the chaos baseline), or earlier if the run was cut short.
    // The drain after it adds answers, not sends.
    let scored_end = [rec.until, plan.shape.planned()]
        .into_iter()
        .flatten()
        .fold(i.outcome.elapsed, Duration::min);
    let scored_s = (scored_end.saturating_sub(rec.warmup))
        .as_secs_f64()
        .max(1e-3);
    let (kind, command) = match &plan.target {
        TargetPlan::Reference(_) => (
            TargetKind::Reference,
            Some("sut (built from this workspace)".to_owned()),
        ),
        TargetPlan::Command(c) => (TargetKind::Command, Some(c.clone())),
        TargetPlan::Url(_) => (TargetKind::Url, None),
    };
    Results {
        schema_version: SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_id: i.run_id,
        command: plan.command_line.clone(),
        started_at: i.started_at,
        scenario: ScenarioInfo {
            name: plan.scenario.name.clone(),
            file: plan.scenario_file.display().to_string(),
            profile: plan.profile_name.clone(),
            users: plan.shape.peak_users,
            stages,
            think_time_ms: (
                plan.scenario.think_time.min.as_millis() as u64,
                plan.scenario.think_time.max.as_millis() as u64,
            ),
            llm_profile: plan.scenario.llm_profile.clone(),
            mix: plan
                .scenario
                .transactions
                .iter()
                .map(|t| (t.name.clone(), t.weight))
                .collect(),
        },
        target: TargetInfo {
            kind,
            url: i.base_url,
            command,
            faults_available: i.backend.is_some(),
            backend: i.backend,
        },
        machine: {
            let mut m = machine_info();
            m.versions.extend(i.versions);
            if matches!(plan.target, TargetPlan::Reference(_)) {
                if let Some(v) = rustc_version() {
                    m.versions.insert("rustc".into(), v);
                }
            }
            m
        },
        coordinated_omission: i.outcome.coordinated_omission.clone(),
        streams: rec.stream_results(scored_s),
        goodput: rec.goodput(),
        load: Some(LoadInfo {
            model: if plan.shape.open.is_some() {
                LoadModel::Open
            } else {
                LoadModel::Closed
            },
            backfilled: rec.backfilled,
            cadence_ms: rec.cadence.map(|c| c.as_secs_f64() * 1e3),
            late: rec.late,
            max_late_ms: rec.max_late.as_secs_f64() * 1e3,
            dropped: rec.dropped,
            cut: rec.cut,
            abandoned: rec.abandoned,
            abandon_rule: plan.abandon.map(|a| a.describe(rec.abandoned)),
        }),
        duration_s: i.outcome.elapsed.as_secs_f64(),
        warmup_s: rec.warmup.as_secs_f64(),
        totals: rec.totals.to_totals(rec.totals.requests as f64 / scored_s),
        overall: rec.overall.summary(),
        overall_raw: rec.overall_raw.summary(),
        transactions: summaries(&rec.transactions),
        operations: summaries(&rec.operations),
        timeline: timeline(rec),
        phases,
        chaos,
        shard: plan.shard.as_ref().map(|s| ShardInfo {
            index: s.shard.index,
            count: s.shard.count,
            start_at: s
                .start_at
                .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            chaos: plan.chaos.as_ref().map(chaos::ChaosSpec::shard_info),
        }),
        merged: None,
        budgets,
        verdict,
    }
}

/// Each histogram of `map`, summarised with itself stored.
pub fn summaries(map: &BTreeMap<String, Latency>) -> BTreeMap<String, HistogramSummary> {
    map.iter().map(|(k, h)| (k.clone(), h.summary())).collect()
}

/// The per-second timeline, each second with its histogram stored.
pub fn timeline(rec: &Recorded) -> Vec<SecondPoint> {
    rec.seconds
        .iter()
        .enumerate()
        .map(|(t, s)| s.to_point(t as u64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::point_latest;

    #[test]
    fn latest_moves_to_the_newest_run_and_leaves_nothing_behind() {
        let reports = tempfile::tempdir().expect("tempdir");
        for run in ["20261125-080000-a", "20261125-080100-b"] {
            let dir = reports.path().join(run);
            std::fs::create_dir(&dir).expect("run dir");
            std::fs::write(dir.join("results.json"), run).expect("results");
            point_latest(reports.path(), &dir);
            let through = std::fs::read_to_string(reports.path().join("latest/results.json"))
                .expect("latest resolves");
            assert_eq!(through, run);
        }
        let mut names: Vec<String> = std::fs::read_dir(reports.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["20261125-080000-a", "20261125-080100-b", "latest"]);
        // Relative, so the reports folder can be moved or archived whole.
        let target = std::fs::read_link(reports.path().join("latest")).expect("a link");
        assert_eq!(target, std::path::Path::new("20261125-080100-b"));
    }
}
