//! The environment options every command that starts one shares, validated into an
//! [`EnvConfig`].

use std::path::PathBuf;
use std::time::Duration;

use super::{fixtures_dir, PlanError};
use crate::environment::{BackendChoice, EnvConfig, ImageRef, Images};
use crate::llm::{find_profile, LlmFakeConfig};

/// The environment options, typed by the command line (or a test).
#[derive(Debug, Clone)]
pub struct EnvOptions {
    /// `--backend`.
    pub backend: BackendChoice,
    /// `--image-postgres`.
    pub image_postgres: Option<ImageRef>,
    /// `--image-redis`.
    pub image_redis: Option<ImageRef>,
    /// `--image-toxiproxy`.
    pub image_toxiproxy: Option<ImageRef>,
    /// `--image-prometheus`.
    pub image_prometheus: Option<ImageRef>,
    /// `--image-alertmanager`.
    pub image_alertmanager: Option<ImageRef>,
    /// `--llm-profile`.
    pub llm_profile: String,
    /// `--llm-seed`.
    pub llm_seed: u64,
    /// `--startup-timeout`.
    pub startup_timeout: Duration,
    /// `--fixtures`: the directory holding `llm_profiles.toml` and the budgets.
    pub fixtures: PathBuf,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            backend: BackendChoice::Auto,
            image_postgres: None,
            image_redis: None,
            image_toxiproxy: None,
            image_prometheus: None,
            image_alertmanager: None,
            llm_profile: "fast".into(),
            llm_seed: 0x5eed,
            startup_timeout: Duration::from_secs(90),
            fixtures: "fixtures".into(),
        }
    }
}

/// One image: the flag's value, else the variable's, else the default. An error names
/// the variable, since clap has already checked the flag.
fn image(
    flag: Option<ImageRef>,
    var: &'static str,
    default: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<ImageRef, PlanError> {
    match (flag, env(var)) {
        (Some(f), _) => Ok(f),
        (None, Some(v)) => ImageRef::parse(&v).map_err(|e| PlanError::Image(var, e)),
        (None, None) => ImageRef::parse(default).map_err(|e| PlanError::Image(var, e)),
    }
}

impl EnvOptions {
    /// Validates the options into an environment configuration; `env` reads the
    /// `HARNESS_IMAGE_*` variables.
    pub fn into_config_with(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<EnvConfig, PlanError> {
        use crate::environment::images::{
            DEFAULT_ALERTMANAGER, DEFAULT_POSTGRES, DEFAULT_PROMETHEUS, DEFAULT_REDIS,
            DEFAULT_TOXIPROXY,
        };
        let images = Images {
            postgres: image(
                self.image_postgres,
                "HARNESS_IMAGE_POSTGRES",
                DEFAULT_POSTGRES,
                &env,
            )?,
            redis: image(self.image_redis, "HARNESS_IMAGE_REDIS", DEFAULT_REDIS, &env)?,
            toxiproxy: image(
                self.image_toxiproxy,
                "HARNESS_IMAGE_TOXIPROXY",
                DEFAULT_TOXIPROXY,
                &env,
            )?,
            prometheus: image(
                self.image_prometheus,
                "HARNESS_IMAGE_PROMETHEUS",
                DEFAULT_PROMETHEUS,
                &env,
            )?,
            alertmanager: image(
                self.image_alertmanager,
                "HARNESS_IMAGE_ALERTMANAGER",
                DEFAULT_ALERTMANAGER,
                &env,
            )?,
        };
        let profiles = fixtures_dir(&self.fixtures).join("llm_profiles.toml");
        let profile = find_profile(&profiles, &self.llm_profile)?;
        Ok(EnvConfig {
            backend: self.backend,
            images,
            llm: LlmFakeConfig {
                profile,
                seed: self.llm_seed,
                ..LlmFakeConfig::default()
            },
            startup_timeout: self.startup_timeout,
            alerts: None,
        })
    }

    /// [`into_config_with`](Self::into_config_with) the process's environment.
    pub fn into_config(self) -> Result<EnvConfig, PlanError> {
        self.into_config_with(|v| std::env::var(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_options_make_a_config() {
        let c = EnvOptions::default()
            .into_config_with(|_| None)
            .expect("valid");
        assert_eq!(c.backend, BackendChoice::Auto);
        assert_eq!(c.startup_timeout, Duration::from_secs(90));
        assert!(c.llm.profile.base_ms > 0.0);
    }

    #[test]
    fn flag_beats_env_beats_default_and_errors_name_the_variable() {
        let env = |v: &str| (v == "HARNESS_IMAGE_REDIS").then(|| "my/redis:6".to_owned());
        let o = EnvOptions {
            image_postgres: Some(ImageRef::parse("pg:16").expect("ref")),
            ..EnvOptions::default()
        };
        let i = o.into_config_with(env).expect("ok").images;
        assert_eq!(i.postgres.to_string(), "pg:16");
        assert_eq!(i.redis.to_string(), "my/redis:6");
        assert_eq!(
            i.toxiproxy.to_string(),
            crate::environment::images::DEFAULT_TOXIPROXY
        );
        let bad = |v: &str| (v == "HARNESS_IMAGE_TOXIPROXY").then(|| "a b".to_owned());
        let err = EnvOptions::default().into_config_with(bad).unwrap_err();
        assert_eq!(err.to_string(), "HARNESS_IMAGE_TOXIPROXY");
        let unknown = EnvOptions {
            llm_profile: "warp".into(),
            ..EnvOptions::default()
        };
        let err = unknown.into_config_with(|_| None).unwrap_err().to_string();
        assert!(err.contains("profiles.warp"), "{err}");
    }
}
