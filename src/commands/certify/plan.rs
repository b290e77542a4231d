//! `harness certify`'s options, validated into a [`CertifyPlan`]: the subject, the
//! level, the cases chosen and excluded (each checked against the catalogue), and the
//! product file.

use std::path::PathBuf;
use std::time::Duration;

use super::session::{CertifyPlan, LoadRuns};
use crate::certify::cases;
use crate::certify::catalogue::Catalogue;
use crate::chaos::alerts::rules::SHORTENED_BY;
use crate::chaos::alerts::Windows;
use crate::commands::capacity::CapacityOptions;
use crate::commands::chaos::{AlertChoice, ChaosOptions};
use crate::commands::run::{RunOptions, RunPlan, TargetPlan};
use crate::load::Abandon;
use crate::plan::{fixtures_dir, EnvOptions, PlanError};
use crate::results::certificate::{CertLevel, Product};
use crate::service::BuildProfile;

/// The secret a managed subject is given when `--jwt-secret` is not.
pub const MANAGED_SECRET: &str = "harness-certify-secret";

/// The options, typed by the command line (or a test).
#[derive(Debug, Clone)]
pub struct CertifyOptions {
    /// `--sut-cmd`.
    pub sut_cmd: Option<String>,
    /// `--sut-url`.
    pub sut_url: Option<String>,
    /// `--jwt-secret`.
    pub jwt_secret: Option<String>,
    /// `--sut-build`.
    pub sut_build: BuildProfile,
    /// `--ready-timeout`.
    pub ready_timeout: Duration,
    /// `--level`.
    pub level: CertLevel,
    /// `--case`, repeatable.
    pub cases: Vec<String>,
    /// `--exclude`, repeatable, each with the `--reason` in the same position.
    pub exclude: Vec<String>,
    /// `--reason`.
    pub reasons: Vec<String>,
    /// `--product`.
    pub product: Option<PathBuf>,
    /// `--reports`.
    pub reports: PathBuf,
    /// `--jobs`.
    pub jobs: usize,
    /// Environment options.
    pub env: EnvOptions,
}

impl CertifyOptions {
    /// Validates everything into a plan.
    pub fn into_plan(self) -> Result<CertifyPlan, PlanError> {
        let catalogue = Catalogue::built_in().map_err(|e| PlanError::Value {
            flag: "sut/CONTRACT.md",
            why: e.to_string(),
        })?;
        let judged = catalogue.cases();
        let known = |flag: &'static str, id: &str| {
            if judged.contains_key(id) && cases::find(id).is_some() {
                Ok(())
            } else {
                Err(PlanError::Value {
                    flag,
                    why: format!("no case '{id}'; `harness certify --list` prints them"),
                })
            }
        };
        for id in &self.cases {
            known("--case", id)?;
        }
        for id in &self.exclude {
            known("--exclude", id)?;
        }
        if self.exclude.len() != self.reasons.len() {
            return Err(PlanError::Value {
                flag: "--reason",
                why: format!(
                    "give one --reason for each --exclude ({} excluded, {} reasons)",
                    self.exclude.len(),
                    self.reasons.len()
                ),
            });
        }
        if let Some(reason) = self.reasons.iter().find(|r| r.trim().is_empty()) {
            return Err(PlanError::Value {
                flag: "--reason",
                why: format!("'{reason}' is empty: say why the case is excluded"),
            });
        }
        if self.jobs == 0 {
            return Err(PlanError::Value {
                flag: "--jobs",
                why: "must be at least 1".into(),
            });
        }
        let target = match (self.sut_cmd, self.sut_url) {
            (Some(_), Some(_)) => return Err(PlanError::Conflict("--sut-cmd", "--sut-url")),
            (Some(cmd), None) if cmd.trim().is_empty() => {
                return Err(PlanError::Value {
                    flag: "--sut-cmd",
                    why: "is empty".into(),
                })
            }
            (Some(cmd), None) => TargetPlan::Command(cmd),
            (None, Some(url)) => {
                let parsed = reqwest::Url::parse(&url).map_err(|e| PlanError::Value {
                    flag: "--sut-url",
                    why: format!("'{url}' is not a URL: {e}"),
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(PlanError::Value {
                        flag: "--sut-url",
                        why: format!("'{url}' is not http or https"),
                    });
                }
                if self.jwt_secret.is_none() {
                    return Err(PlanError::Value {
                        flag: "--jwt-secret",
                        why: "needed with --sut-url: the secret the running subject verifies tokens with".into(),
                    });
                }
                TargetPlan::Url(url)
            }
            (None, None) => TargetPlan::Reference(self.sut_build),
        };
        let product = match &self.product {
            None => Product::default(),
            Some(path) => read_product(path)?,
        };
        let reproduce = reproduce_line(&target, self.level);
        let fixtures = fixtures_dir(&self.env.fixtures);
        let secret = self.jwt_secret.unwrap_or_else(|| MANAGED_SECRET.into());
        let loads = load_runs(&LoadInputs {
            level: self.level,
            target: &target,
            env: &self.env,
            secret: &secret,
            ready_timeout: self.ready_timeout,
            reports: &self.reports,
        })?;
        let mut env = self.env;
        if env.llm_profile == EnvOptions::default().llm_profile {
            // The cases set the fake's latency themselves; otherwise it answers at once.
            env.llm_profile = "instant".into();
        }
        Ok(CertifyPlan {
            target,
            env: env.into_config()?,
            jwt_secret: secret,
            seed_file: fixtures.join("seed.json"),
            ready_timeout: self.ready_timeout,
            product,
            level: self.level,
            only: self.cases,
            excluded: self.exclude.into_iter().zip(self.reasons).collect(),
            reports: self.reports,
            jobs: self.jobs,
            reproduce,
            loads,
        })
    }
}

/// The load a level certifies at: the scenario and profile the budgets are judged
/// under, and those of the chaos runs. `quick` takes the short profiles and the chaos
/// scenario with its timers scaled down (CFG-5); `full` the `ci` profiles with the
/// seeds' timers.
pub fn level_load(level: CertLevel) -> [(&'static str, &'static str); 2] {
    match level {
        CertLevel::Quick => [("smoke", "smoke"), ("chaos-fast", "smoke")],
        CertLevel::Full => [("seed-mix", "ci"), ("chaos", "ci")],
    }
}

/// How the abandonment case's clients leave: a third of the requests, each after
/// 50 ms. That is inside the time an LLM call takes under the chaos scenarios' `fast`
/// LLM profile (about 100 ms), so the requests left are those waiting on the LLM:
/// the baseline's, the attempts before the breaker opens, and the half-open probes of
/// the recovery.
pub const ABANDON: Abandon = Abandon {
    after: Duration::from_millis(50),
    share: 1.0 / 3.0,
};

/// The highest arrival rate, a second, the capacity case's search tries.
pub const CAPACITY_CEILING: f64 = 1280.0;

struct LoadInputs<'a> {
    level: CertLevel,
    target: &'a TargetPlan,
    env: &'a EnvOptions,
    secret: &'a str,
    ready_timeout: Duration,
    reports: &'a std::path::Path,
}

/// Plans the load cases' runs as `harness run` and `harness chaos` would, so a bad
/// scenario or budget file stops the run before anything starts.
fn load_runs(i: &LoadInputs<'_>) -> Result<LoadRuns, PlanError> {
    let [(scenario, profile), (chaos_scenario, chaos_profile)] = level_load(i.level);
    let run = |scenario: &str, profile: &str| {
        let (sut_cmd, sut_url, sut_build) = match i.target {
            TargetPlan::Reference(b) => (None, None, *b),
            TargetPlan::Command(c) => (Some(c.clone()), None, BuildProfile::Release),
            TargetPlan::Url(u) => (None, Some(u.clone()), BuildProfile::Release),
        };
        RunOptions {
            scenario: scenario.into(),
            profile: profile.into(),
            sut_cmd,
            sut_url,
            sut_build,
            reports: i.reports.to_path_buf(),
            ready_timeout: i.ready_timeout,
            jwt_secret: Some(i.secret.to_owned()),
            env: i.env.clone(),
            quiet: true,
            ..RunOptions::default()
        }
    };
    let budgets = run(scenario, profile).into_plan()?;
    if let TargetPlan::Url(_) = i.target {
        return Ok(LoadRuns {
            budgets,
            faults: Vec::new(),
            abandon: None,
            capacity: None,
        });
    }
    // The search `harness capacity` makes by default, over the named profile's mix, with
    // a higher ceiling: the reference passed the default 320 a second in one full run.
    let capacity = match i.level {
        CertLevel::Quick => None,
        CertLevel::Full => Some(
            CapacityOptions {
                run: run(scenario, profile),
                max_rate: CAPACITY_CEILING,
                ..CapacityOptions::default()
            }
            .into_plan()?,
        ),
    };
    // RES-4 judges the fault runs' pages, with the rules' windows of the level: the
    // seeds' at full (whose timers are the seeds' too), shortened at quick (CFG-5).
    let windows = match i.level {
        CertLevel::Quick => Windows::Shortened(SHORTENED_BY),
        CertLevel::Full => Windows::Seed,
    };
    let faults: Vec<RunPlan> = ChaosOptions {
        run: run(chaos_scenario, chaos_profile),
        matrix: true,
        alerts: AlertChoice::On {
            windows: Some(windows),
            rules: None,
        },
        ..ChaosOptions::default()
    }
    .into_plans()?
    .into_iter()
    .map(|(_, plan)| plan)
    .collect();
    // The matrix's own LLM-failure run, with clients that abandon.
    let abandon = faults
        .iter()
        .find(|p| {
            p.chaos
                .as_ref()
                .is_some_and(|c| c.faults.iter().any(|f| f.kind() == "llm-fail"))
        })
        .cloned()
        .map(|mut plan| {
            plan.abandon = Some(ABANDON);
            // RES-3 asks what abandoned requests leave behind; the pages of the same
            // fault are RES-4's, judged on the run without them.
            plan.env.alerts = None;
            if let Some(chaos) = plan.chaos.as_mut() {
                chaos.alerts = None;
            }
            plan
        });
    Ok(LoadRuns {
        budgets,
        faults,
        abandon,
        capacity,
    })
}

/// `--product`: a TOML file with vendor, name and version (url and contact optional).
fn read_product(path: &std::path::Path) -> Result<Product, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlanError::Value {
        flag: "--product",
        why: format!("{}: {e}", path.display()),
    })?;
    let product: Product = toml::from_str(&text).map_err(|e| PlanError::Value {
        flag: "--product",
        why: format!("{}: {}", path.display(), e.message()),
    })?;
    for (field, value) in [
        ("vendor", &product.vendor),
        ("name", &product.name),
        ("version", &product.version),
    ] {
        if value.trim().is_empty() {
            return Err(PlanError::Value {
                flag: "--product",
                why: format!("{}: `{field}` is empty", path.display()),
            });
        }
    }
    Ok(product)
}

/// The command line that runs a case again, short of its `--case`.
fn reproduce_line(target: &TargetPlan, level: CertLevel) -> String {
    let subject = match target {
        TargetPlan::Reference(_) => String::new(),
        TargetPlan::Command(cmd) => format!(" --sut-cmd '{}'", cmd.replace('\'', r"'\''")),
        TargetPlan::Url(url) => format!(" --sut-url {url} --jwt-secret \"$SECRET\""),
    };
    format!("harness certify{subject} --level {}", level.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(level: CertLevel) -> CertifyOptions {
        CertifyOptions {
            sut_cmd: Some("true".into()),
            sut_url: None,
            jwt_secret: None,
            sut_build: BuildProfile::Release,
            ready_timeout: Duration::from_secs(30),
            level,
            cases: Vec::new(),
            exclude: Vec::new(),
            reasons: Vec::new(),
            product: None,
            reports: PathBuf::from("reports"),
            jobs: 2,
            env: EnvOptions::default(),
        }
    }

    #[test]
    fn full_runs_the_ci_profiles_with_the_seeds_timers_and_searches_capacity() {
        let plan = options(CertLevel::Full).into_plan().expect("full plans");
        let loads = &plan.loads;
        assert_eq!(
            (
                loads.budgets.scenario.name.as_str(),
                loads.budgets.profile_name.as_str()
            ),
            ("seed-mix", "ci")
        );
        assert_eq!(loads.faults.len(), crate::faults::matrix().count());
        for run in &loads.faults {
            assert_eq!(run.profile_name, "ci");
            let chaos = run.chaos.as_ref().expect("a chaos run");
            assert_eq!(chaos.limits.breaker_timeout, Duration::from_secs(60));
            assert_eq!(chaos.limits.llm_timeout, Duration::from_secs(30));
            let alerts = chaos.alerts.as_ref().expect("RES-4 judges the pages");
            assert_eq!(alerts.rules.windows, Windows::Seed);
            assert!(run.env.alerts.is_some(), "the components run");
        }
        let search = loads.capacity.as_ref().expect("full searches capacity");
        assert_eq!(search.run.scenario.name, "seed-mix");
        assert!(matches!(
            search.probes,
            crate::commands::capacity::Probes::Search { max, .. } if max == CAPACITY_CEILING
        ));
        assert!(plan.reproduce.ends_with("--level full"));
    }

    #[test]
    fn quick_shortens_the_timers_and_leaves_capacity_out() {
        let plan = options(CertLevel::Quick).into_plan().expect("quick plans");
        assert!(plan.loads.capacity.is_none());
        for run in &plan.loads.faults {
            let chaos = run.chaos.as_ref().expect("a chaos run");
            assert!(chaos.limits.breaker_timeout < Duration::from_secs(60));
            let alerts = chaos.alerts.as_ref().expect("RES-4 judges the pages");
            assert_eq!(alerts.rules.windows, Windows::Shortened(SHORTENED_BY));
        }
        // RES-3's run abandons requests and judges no page.
        let abandon = plan.loads.abandon.as_ref().expect("an abandonment run");
        assert!(abandon.env.alerts.is_none());
        assert!(abandon.chaos.as_ref().is_some_and(|c| c.alerts.is_none()));
    }
}
