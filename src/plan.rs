//! Validated plans: command-line options turned into everything a command needs, before
//! any work starts. Errors here name the flag, file or variable at fault.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::environment::{BackendChoice, EnvConfig, Images};
use crate::llm::{find_profile, LlmFakeConfig};

/// What `harness up` will do.
#[derive(Debug, Clone)]
pub struct UpPlan {
    /// The environment to start.
    pub env: EnvConfig,
    /// Print one JSON line instead of text when ready.
    pub json: bool,
}

/// The raw options of `harness up`, as the CLI (or a test) gives them.
#[derive(Debug, Clone, Default)]
pub struct EnvOptions {
    /// `--backend`.
    pub backend: String,
    /// `--image-postgres`.
    pub image_postgres: Option<String>,
    /// `--image-redis`.
    pub image_redis: Option<String>,
    /// `--image-toxiproxy`.
    pub image_toxiproxy: Option<String>,
    /// `--llm-profile`.
    pub llm_profile: String,
    /// `--llm-seed`.
    pub llm_seed: u64,
    /// `--startup-timeout`, e.g. `60s`.
    pub startup_timeout: String,
    /// `--fixtures`: the directory holding `llm_profiles.toml` and the budgets.
    pub fixtures: PathBuf,
}

/// A plan could not be made; the message names what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// Parses a duration with a unit (`300ms`, `10s`, `2m`), naming the flag on error.
pub fn parse_duration(flag: &str, value: &str) -> Result<Duration, PlanError> {
    humantime::parse_duration(value.trim()).map_err(|e| {
        PlanError(format!(
            "{flag}: '{value}' is not a duration with a unit such as 300ms, 10s or 2m ({e})"
        ))
    })
}

/// The fixtures directory: as given if it exists, else the one in this source tree
/// (so the binary also works when run from elsewhere in a checkout).
pub fn fixtures_dir(given: &Path) -> PathBuf {
    if given.is_dir() {
        return given.to_path_buf();
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    if given == Path::new("fixtures") && built_in.is_dir() {
        built_in
    } else {
        given.to_path_buf()
    }
}

impl EnvOptions {
    /// Validates the options into an environment configuration.
    pub fn into_config(self) -> Result<EnvConfig, PlanError> {
        let backend: BackendChoice = self
            .backend
            .parse()
            .map_err(|e| PlanError(format!("--backend: {e}")))?;
        let images = Images::resolve(
            self.image_postgres.as_deref(),
            self.image_redis.as_deref(),
            self.image_toxiproxy.as_deref(),
            |v| std::env::var(v).ok(),
        )
        .map_err(|e| PlanError(e.to_string()))?;
        let startup_timeout = parse_duration("--startup-timeout", &self.startup_timeout)?;
        if startup_timeout.is_zero() {
            return Err(PlanError(
                "--startup-timeout: must be greater than 0".into(),
            ));
        }
        let profiles = fixtures_dir(&self.fixtures).join("llm_profiles.toml");
        let profile = find_profile(&profiles, &self.llm_profile)
            .map_err(|e| PlanError(format!("--llm-profile: {e}")))?;
        Ok(EnvConfig {
            backend,
            images,
            llm: LlmFakeConfig {
                profile,
                seed: self.llm_seed,
                ..LlmFakeConfig::default()
            },
            startup_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> EnvOptions {
        EnvOptions {
            backend: "native".into(),
            llm_profile: "fast".into(),
            startup_timeout: "30s".into(),
            fixtures: "fixtures".into(),
            ..EnvOptions::default()
        }
    }

    #[test]
    fn good_options_make_a_config() {
        let c = opts().into_config().expect("valid");
        assert_eq!(c.backend, BackendChoice::Native);
        assert_eq!(c.startup_timeout, Duration::from_secs(30));
        assert!(c.llm.profile.base_ms > 0.0);
    }

    #[test]
    fn each_bad_option_names_its_flag() {
        type Breaker = fn(&mut EnvOptions);
        let cases: [(Breaker, &str); 4] = [
            (|o| o.backend = "podman".into(), "--backend"),
            (|o| o.startup_timeout = "10".into(), "--startup-timeout"),
            (|o| o.llm_profile = "warp".into(), "--llm-profile"),
            (
                |o| o.image_redis = Some("bad image".into()),
                "--image-redis",
            ),
        ];
        for (break_it, flag) in cases {
            let mut o = opts();
            break_it(&mut o);
            let err = o.into_config().unwrap_err().to_string();
            assert!(err.starts_with(flag), "{flag}: {err}");
        }
    }
}
