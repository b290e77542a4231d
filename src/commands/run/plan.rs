//! `harness run`'s options, validated into a [`RunPlan`] before anything starts: the
//! scenario file, the profile, every budget override, and the output directory.

use std::path::PathBuf;
use std::time::Duration;

use super::{RunPlan, ShardRun, TargetPlan};
use crate::datafile::DataFileError;
use crate::load::{Abandon, Chatter, LoadShape, Shard};
use crate::plan::{fixtures_dir, scenarios_dir, EnvOptions, PlanError};
use crate::scenario::{Feeder, Scenario};
use crate::scoring::budgets;
use crate::service::BuildProfile;

/// The options, typed by the command line (or a test).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--scenario`: a name in `scenarios/` or a path.
    pub scenario: String,
    /// `--profile`.
    pub profile: String,
    /// `--budget NAME=VALUE`, repeatable.
    pub budgets: Vec<String>,
    /// `--sut-cmd`.
    pub sut_cmd: Option<String>,
    /// `--sut-url`.
    pub sut_url: Option<String>,
    /// `--sut-build debug|release`.
    pub sut_build: BuildProfile,
    /// `--reports`.
    pub reports: PathBuf,
    /// `--scenarios`: where scenario names are looked up.
    pub scenarios_dir: PathBuf,
    /// `--ready-timeout`.
    pub ready_timeout: Duration,
    /// `--jwt-secret` (for `--sut-url`, the secret the running SUT verifies with).
    pub jwt_secret: Option<String>,
    /// `--llm-profile`, overriding the scenario's.
    pub llm_profile: Option<String>,
    /// Environment options.
    pub env: EnvOptions,
    /// The command line, for the report.
    pub command_line: Vec<String>,
    /// `--quiet`: nothing of the load generator's own output reaches the terminal.
    pub quiet: bool,
    /// `--abandon-after`.
    pub abandon_after: Option<Duration>,
    /// `--abandon-share`, as typed.
    pub abandon_share: Option<String>,
    /// `--shard I/N`, as typed.
    pub shard: Option<String>,
    /// `--run-id`: the id every shard of one run shares.
    pub run_id: Option<String>,
    /// `--start-at`: when every shard starts its schedule.
    pub start_at: Option<std::time::SystemTime>,
    /// `--sut-listen`: where the SUT the harness starts listens.
    pub sut_listen: Option<std::net::SocketAddr>,
    /// `--slo`: the objectives goodput counts against.
    pub slo: Option<crate::record::Slo>,
}

/// Which target each shard of a command loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShardTargets {
    /// `harness run`: every shard loads one running SUT (`--sut-url`).
    AllByUrl,
    /// `harness chaos`: shard 0 runs the SUT in the harness's environment and drives the
    /// faults; the others load that SUT by its URL.
    FirstDrives,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            scenario: "smoke".into(),
            profile: "smoke".into(),
            budgets: Vec::new(),
            sut_cmd: None,
            sut_url: None,
            sut_build: BuildProfile::Release,
            reports: "reports".into(),
            scenarios_dir: "scenarios".into(),
            ready_timeout: Duration::from_secs(60),
            jwt_secret: None,
            llm_profile: None,
            env: EnvOptions::default(),
            command_line: Vec::new(),
            quiet: false,
            abandon_after: None,
            abandon_share: None,
            shard: None,
            run_id: None,
            start_at: None,
            sut_listen: None,
            slo: None,
        }
    }
}

impl RunOptions {
    /// Validates everything into a plan.
    pub fn into_plan(self) -> Result<RunPlan, PlanError> {
        self.into_plan_for(ShardTargets::AllByUrl)
    }

    /// [`into_plan`](Self::into_plan), with the shard rule of the command.
    pub(crate) fn into_plan_for(self, targets: ShardTargets) -> Result<RunPlan, PlanError> {
        let abandon = abandon(self.abandon_after, self.abandon_share.as_deref())?;
        let (scenario, scenario_file) =
            Scenario::find(&self.scenario, &scenarios_dir(&self.scenarios_dir))
                .map_err(|e| PlanError::Scenario(self.scenario.clone(), e))?;
        let profile = scenario
            .profile(&self.profile)
            .map_err(|e| PlanError::Profile(self.profile.clone(), e))?;
        let shard = shard_run(
            self.shard.as_deref(),
            self.run_id,
            self.sut_url.is_some(),
            targets,
        )?;
        let shard = start_at(shard, self.start_at, std::time::SystemTime::now())?;
        let whole = shard.as_ref().map_or(Shard::WHOLE, |s| s.shard);
        let shape = whole.split(&LoadShape::settle(profile));
        let fixtures = fixtures_dir(&self.env.fixtures);
        let feeder = match &scenario.feeder {
            Some(f) => Some(std::sync::Arc::new(
                Feeder::load(&fixtures.join(&f.file), f.strategy)?
                    .lane(whole.index as usize, whole.count as usize),
            )),
            None => None,
        };
        let columns = feeder.as_ref().map_or(&[][..], |f| f.columns());
        if let Some((field, name)) = scenario.unbound(columns).into_iter().next() {
            return Err(PlanError::DataFile(DataFileError::invalid(
                &scenario_file,
                field,
                format!(
                    "{{{name}}} is not {{user}}, {{n}} or a column of the feeder ({})",
                    columns.join(", ")
                ),
            )));
        }
        let seed = fixtures.join(scenario.seed.as_deref().unwrap_or("seed.json"));
        if !seed.is_file() {
            return Err(PlanError::DataFile(DataFileError::invalid(
                &scenario_file,
                "seed",
                format!("{} is not a file", seed.display()),
            )));
        }
        let budgets = scored_budgets(&fixtures, &scenario, &scenario_file, &self.budgets)?;
        let target = match (self.sut_cmd, self.sut_url) {
            (Some(_), Some(_)) => return Err(PlanError::Conflict("--sut-cmd", "--sut-url")),
            (Some(cmd), None) if cmd.trim().is_empty() => {
                return Err(PlanError::Value {
                    flag: "--sut-cmd",
                    why: "empty command".into(),
                })
            }
            (Some(cmd), None) => TargetPlan::Command(cmd),
            (None, Some(url)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(PlanError::Value {
                        flag: "--sut-url",
                        why: format!("'{url}' must start with http:// or https://"),
                    });
                }
                TargetPlan::Url(url)
            }
            (None, None) => TargetPlan::Reference(self.sut_build),
        };
        let sut_listen = match (self.sut_listen, &target) {
            (Some(_), TargetPlan::Url(_)) => {
                return Err(PlanError::Conflict("--sut-listen", "--sut-url"))
            }
            (Some(a), _) if a.port() == 0 => {
                return Err(PlanError::Value {
                    flag: "--sut-listen",
                    why: format!("{a}: give a port, so the other shards know where to go"),
                })
            }
            (a, _) => a,
        };
        let mut env_opts = self.env;
        env_opts.llm_profile = self
            .llm_profile
            .unwrap_or_else(|| scenario.llm_profile.clone());
        let env = env_opts.into_config()?;
        // Bad output paths fail now, not after a ten-minute run.
        crate::report::files::check_dir(&self.reports).map_err(PlanError::Reports)?;
        Ok(RunPlan {
            scenario,
            scenario_file,
            profile_name: self.profile,
            shape,
            budgets,
            target,
            env,
            seed_file: std::fs::canonicalize(&seed).unwrap_or(seed),
            reports_dir: self.reports,
            ready_timeout: self.ready_timeout,
            jwt_secret: self
                .jwt_secret
                .unwrap_or_else(|| format!("harness-{:016x}", rand::random::<u64>())),
            command_line: self.command_line,
            chatter: if self.quiet {
                Chatter::Silenced
            } else {
                Chatter::Stderr
            },
            chaos: None,
            feeder,
            abandon,
            slo: self.slo,
            shard,
            sut_listen,
        })
    }
}

/// The longest `--start-at` may lie ahead: a shard waits for it, and a wait of hours is
/// a typo.
pub const START_AT_MAX_AHEAD: std::time::Duration = std::time::Duration::from_secs(3600);

/// `--start-at`, checked against `now`: it aligns shards, so it needs `--shard`, and it
/// lies no more than [`START_AT_MAX_AHEAD`] ahead. (One in the past starts at once; the
/// run then says how late it started.)
fn start_at(
    shard: Option<ShardRun>,
    at: Option<std::time::SystemTime>,
    now: std::time::SystemTime,
) -> Result<Option<ShardRun>, PlanError> {
    let Some(at) = at else {
        return Ok(shard);
    };
    let Some(mut shard) = shard else {
        return Err(PlanError::Value {
            flag: "--start-at",
            why: "lines up the shards of one run; give it with --shard".into(),
        });
    };
    if at
        .duration_since(now)
        .is_ok_and(|ahead| ahead > START_AT_MAX_AHEAD)
    {
        return Err(PlanError::Value {
            flag: "--start-at",
            why: format!(
                "{} is more than {} s ahead",
                humantime::format_rfc3339_seconds(at),
                START_AT_MAX_AHEAD.as_secs()
            ),
        });
    }
    shard.start_at = Some(at);
    Ok(Some(shard))
}

/// `--shard` and `--run-id`, checked: a shard loads a running SUT (`--sut-url`, which
/// every shard shares) under the run id that its merge will check.
fn shard_run(
    shard: Option<&str>,
    run_id: Option<String>,
    has_url: bool,
    targets: ShardTargets,
) -> Result<Option<ShardRun>, PlanError> {
    let Some(text) = shard else {
        return match run_id {
            Some(_) => Err(PlanError::Value {
                flag: "--run-id",
                why: "names the run that shards share; give it with --shard".into(),
            }),
            None => Ok(None),
        };
    };
    let shard = Shard::parse(text).map_err(|e| PlanError::Value {
        flag: "--shard",
        why: e.to_string(),
    })?;
    match (targets, shard.index, has_url) {
        (ShardTargets::AllByUrl, _, false) => {
            return Err(PlanError::Value {
                flag: "--shard",
                why: "needs --sut-url: every shard must load the same running SUT".into(),
            })
        }
        (ShardTargets::FirstDrives, 0, true) => {
            return Err(PlanError::Value {
                flag: "--sut-url",
                why: "shard 0 of a chaos run drives the faults, so it starts the SUT in the \
                      harness's own environment: leave out --sut-url, and give --sut-listen \
                      for the other shards to reach it"
                    .into(),
            })
        }
        (ShardTargets::FirstDrives, i, false) if i > 0 => {
            return Err(PlanError::Value {
                flag: "--shard",
                why: format!(
                    "shard {i} of a chaos run loads the SUT that shard 0 starts: give its \
                     --sut-url (shard 0's --sut-listen)"
                ),
            })
        }
        _ => {}
    }
    let run_id = run_id.ok_or_else(|| PlanError::Value {
        flag: "--shard",
        why: "needs --run-id: the id every shard of the run shares, which the merge checks".into(),
    })?;
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if run_id.is_empty() || run_id.starts_with('.') || !run_id.chars().all(fine) {
        return Err(PlanError::Value {
            flag: "--run-id",
            why: format!("'{run_id}' must be letters, digits, '-', '_' or '.' (a directory name)"),
        });
    }
    Ok(Some(ShardRun {
        shard,
        run_id,
        start_at: None,
    }))
}

/// The budgets a run of `scenario` is scored against: `budgets.toml` in `fixtures`, then
/// the scenario's `[budgets]` overrides (from `file`), then each `--budget NAME=VALUE`.
pub(crate) fn scored_budgets(
    fixtures: &std::path::Path,
    scenario: &Scenario,
    file: &std::path::Path,
    flags: &[String],
) -> Result<Vec<crate::scoring::Budget>, PlanError> {
    let mut budgets = budgets::load(&fixtures.join("budgets.toml"))?;
    let origin = format!("{} [budgets]", file.display());
    for (name, value) in &scenario.budgets {
        budgets::apply_override(&mut budgets, name, value, &origin)?;
    }
    for arg in flags {
        let (name, value) = budgets::split_override(arg).map_err(PlanError::BudgetSyntax)?;
        budgets::apply_override(&mut budgets, name, value, "--budget")?;
    }
    Ok(budgets)
}

/// `--abandon-after` and `--abandon-share`, checked: a share needs a time, and lies in
/// (0, 1], written as a fraction or a percentage.
pub fn abandon(after: Option<Duration>, share: Option<&str>) -> Result<Option<Abandon>, PlanError> {
    let share = match share {
        None => None,
        Some(text) => {
            let t = text.trim();
            let value = match t.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0).ok(),
                None => crate::units::rate(t).ok(),
            };
            match value {
                Some(v) if v > 0.0 && v <= 1.0 => Some(v),
                _ => {
                    return Err(PlanError::Value {
                        flag: "--abandon-share",
                        why: format!("'{text}' is not a share in (0, 1], such as 0.3 or 30%"),
                    })
                }
            }
        }
    };
    match (after, share) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(PlanError::Value {
            flag: "--abandon-share",
            why: "needs --abandon-after: how long a client waits before it leaves".into(),
        }),
        (Some(after), _) if after.is_zero() => Err(PlanError::Value {
            flag: "--abandon-after",
            why: "must be longer than 0s".into(),
        }),
        (Some(after), share) => Ok(Some(Abandon {
            after,
            share: share.unwrap_or(1.0),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_needs_a_shard_and_a_near_time() {
        let now = std::time::SystemTime::now();
        let soon = now + std::time::Duration::from_secs(30);
        let one = || {
            shard_run(Some("0/2"), Some("r".into()), true, ShardTargets::AllByUrl)
                .ok()
                .flatten()
        };
        let ok = start_at(one(), Some(soon), now).ok().flatten();
        assert_eq!(ok.and_then(|s| s.start_at), Some(soon));
        let e = |r: Result<Option<ShardRun>, PlanError>| {
            r.err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(e(start_at(None, Some(soon), now)).starts_with("--start-at: lines up the shards"));
        let late = now + std::time::Duration::from_secs(7200);
        assert!(e(start_at(one(), Some(late), now)).contains("is more than 3600 s ahead"));
    }

    #[test]
    fn shard_flags_are_checked_and_name_themselves() {
        let id = || Some("r1".to_owned());
        let run = ShardTargets::AllByUrl;
        let ok = shard_run(Some("1/2"), id(), true, run).ok().flatten();
        assert_eq!(
            ok.map(|s| (s.shard.index, s.run_id)),
            Some((1, "r1".into()))
        );
        assert_eq!(shard_run(None, None, false, run).ok(), Some(None));
        let chaos = ShardTargets::FirstDrives;
        assert!(shard_run(Some("0/2"), id(), false, chaos).is_ok());
        assert!(shard_run(Some("1/2"), id(), true, chaos).is_ok());
        for (shard, url, says) in [
            (
                Some("0/2"),
                true,
                "--sut-url: shard 0 of a chaos run drives the faults",
            ),
            (
                Some("1/2"),
                false,
                "--shard: shard 1 of a chaos run loads the SUT",
            ),
        ] {
            let e = shard_run(shard, id(), url, chaos)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with(says), "{e}");
        }
        for (shard, run_id, url, says) in [
            (Some("2/2"), id(), true, "--shard: '2/2' is not I/N"),
            (Some("0/2"), id(), false, "--shard: needs --sut-url"),
            (Some("0/2"), None, true, "--shard: needs --run-id"),
            (
                Some("0/2"),
                Some("../x".into()),
                true,
                "--run-id: '../x' must be",
            ),
            (None, id(), true, "--run-id: names the run"),
        ] {
            let e = shard_run(shard, run_id, url, run)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with(says), "{e}");
        }
    }

    #[test]
    fn abandonment_flags_are_checked_and_name_themselves() {
        let s = Duration::from_secs(1);
        assert_eq!(abandon(None, None).ok(), Some(None));
        let a = abandon(Some(s), Some("30%")).ok().flatten();
        assert_eq!(
            a.map(|a| (a.after, (a.share * 100.0).round())),
            Some((s, 30.0))
        );
        assert_eq!(
            abandon(Some(s), None).ok().flatten().map(|a| a.share),
            Some(1.0)
        );
        for (after, share, flag) in [
            (None, Some("0.3"), "--abandon-share: needs --abandon-after"),
            (Some(s), Some("0"), "--abandon-share: '0' is not a share"),
            (Some(s), Some("1.5"), "--abandon-share: '1.5' is not"),
            (Some(s), Some("lots"), "--abandon-share: 'lots' is not"),
            (
                Some(Duration::ZERO),
                None,
                "--abandon-after: must be longer",
            ),
        ] {
            let e = abandon(after, share)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with(flag), "{e}");
        }
    }
}
