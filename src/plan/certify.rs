//! `harness certify`'s options, validated into a [`CertifyPlan`]: the subject, the
//! level, the cases chosen and excluded (each checked against the catalogue), and the
//! product file.

use std::path::PathBuf;
use std::time::Duration;

use super::{fixtures_dir, EnvOptions, PlanError};
use crate::certify::cases;
use crate::certify::catalogue::Catalogue;
use crate::results::certificate::{CertLevel, Product};
use crate::service::BuildProfile;
use crate::session::certify::CertifyPlan;
use crate::session::TargetPlan;

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
        let mut env = self.env;
        if env.llm_profile == EnvOptions::default().llm_profile {
            // The cases set the fake's latency themselves; otherwise it answers at once.
            env.llm_profile = "instant".into();
        }
        Ok(CertifyPlan {
            target,
            env: env.into_config()?,
            jwt_secret: self.jwt_secret.unwrap_or_else(|| MANAGED_SECRET.into()),
            seed_file: fixtures.join("seed.json"),
            ready_timeout: self.ready_timeout,
            product,
            level: self.level,
            only: self.cases,
            excluded: self.exclude.into_iter().zip(self.reasons).collect(),
            reports: self.reports,
            jobs: self.jobs,
            reproduce,
        })
    }
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
