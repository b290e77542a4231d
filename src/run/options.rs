//! `harness run`'s options, validated into a [`RunPlan`] before anything starts: the
//! scenario file, the profile, every budget override, and the output directory.

use std::path::PathBuf;

use super::{RunPlan, TargetPlan};
use crate::plan::{fixtures_dir, parse_duration, EnvOptions, PlanError};
use crate::scenario::Scenario;
use crate::scoring::budgets;
use crate::service::BuildProfile;

/// The raw options, as the CLI (or a test) gives them.
#[derive(Debug, Clone, Default)]
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
    pub sut_build: String,
    /// `--reports`.
    pub reports: PathBuf,
    /// `--scenarios`: where scenario names are looked up.
    pub scenarios_dir: PathBuf,
    /// `--ready-timeout`.
    pub ready_timeout: String,
    /// `--jwt-secret` (for `--sut-url`, the secret the running SUT verifies with).
    pub jwt_secret: Option<String>,
    /// `--llm-profile`, overriding the scenario's.
    pub llm_profile: Option<String>,
    /// Environment options.
    pub env: EnvOptions,
    /// The command line, for the report.
    pub command_line: Vec<String>,
}

impl RunOptions {
    /// Validates everything into a plan.
    pub fn into_plan(self) -> Result<RunPlan, PlanError> {
        let (scenario, scenario_file) = Scenario::find(&self.scenario, &self.scenarios_dir)
            .map_err(|e| PlanError(e.to_string()))?;
        let profile = scenario.profile(&self.profile).map_err(PlanError)?.clone();
        let fixtures = fixtures_dir(&self.env.fixtures);
        let mut budgets =
            budgets::load(&fixtures.join("budgets.toml")).map_err(|e| PlanError(e.to_string()))?;
        let origin = format!("{} [budgets]", scenario_file.display());
        for (name, value) in &scenario.budgets {
            budgets::apply_override(&mut budgets, name, value, &origin)
                .map_err(|e| PlanError(e.to_string()))?;
        }
        for arg in &self.budgets {
            let (name, value) = budgets::split_override(arg).map_err(PlanError)?;
            budgets::apply_override(&mut budgets, name, value, "--budget")
                .map_err(|e| PlanError(e.to_string()))?;
        }
        let target = match (self.sut_cmd, self.sut_url) {
            (Some(_), Some(_)) => {
                return Err(PlanError(
                    "--sut-cmd and --sut-url: give one, not both".into(),
                ))
            }
            (Some(cmd), None) if cmd.trim().is_empty() => {
                return Err(PlanError("--sut-cmd: empty command".into()))
            }
            (Some(cmd), None) => TargetPlan::Command(cmd),
            (None, Some(url)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(PlanError(format!(
                        "--sut-url: '{url}' must start with http:// or https://"
                    )));
                }
                TargetPlan::Url(url)
            }
            (None, None) => TargetPlan::Reference(match self.sut_build.as_str() {
                "release" => BuildProfile::Release,
                "debug" => BuildProfile::Debug,
                other => {
                    return Err(PlanError(format!(
                        "--sut-build: '{other}' (expected debug or release)"
                    )))
                }
            }),
        };
        let ready_timeout = parse_duration("--ready-timeout", &self.ready_timeout)?;
        let mut env_opts = self.env;
        env_opts.llm_profile = self
            .llm_profile
            .unwrap_or_else(|| scenario.llm_profile.clone());
        let env = env_opts.into_config()?;
        // Bad output paths fail now, not after a ten-minute run.
        std::fs::create_dir_all(&self.reports)
            .map_err(|e| PlanError(format!("--reports {}: {e}", self.reports.display())))?;
        let probe = self.reports.join(".write-test");
        std::fs::write(&probe, b"").map_err(|e| {
            PlanError(format!(
                "--reports {}: not writable: {e}",
                self.reports.display()
            ))
        })?;
        let _ = std::fs::remove_file(probe);
        Ok(RunPlan {
            scenario,
            scenario_file,
            profile_name: self.profile,
            profile,
            budgets,
            target,
            env,
            seed_file: std::fs::canonicalize(fixtures.join("seed.json"))
                .unwrap_or_else(|_| fixtures.join("seed.json")),
            reports_dir: self.reports,
            ready_timeout,
            jwt_secret: self
                .jwt_secret
                .unwrap_or_else(|| format!("harness-{:016x}", rand::random::<u64>())),
            command_line: self.command_line,
            chaos: None,
        })
    }
}
