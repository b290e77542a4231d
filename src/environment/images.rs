//! Container image references for the docker backend, with their defaults and the
//! `HARNESS_IMAGE_*` overrides.

use std::fmt;

use super::EnvError;

/// The official Postgres image; `ci/images/build` tags its local build with this name.
pub const DEFAULT_POSTGRES: &str = "postgres:15";
/// The official Redis image.
pub const DEFAULT_REDIS: &str = "redis:7";
/// The official Toxiproxy image.
pub const DEFAULT_TOXIPROXY: &str = "ghcr.io/shopify/toxiproxy:2.9.0";

/// An image reference split into repository and tag, as testcontainers wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository, with registry host if any: `ghcr.io/shopify/toxiproxy`.
    pub name: String,
    /// Tag; `latest` when none was given.
    pub tag: String,
}

impl ImageRef {
    /// Parses `name[:tag]`, where `name` may hold a registry with a port
    /// (`host:5000/x:1`). Digests are not supported.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s.contains(char::is_whitespace) || s.contains('@') {
            return Err(format!("'{s}' is not an image reference (name[:tag])"));
        }
        let last_slash = s.rfind('/').map_or(0, |i| i + 1);
        match s[last_slash..].rfind(':') {
            Some(i) => {
                let (name, tag) = (&s[..last_slash + i], &s[last_slash + i + 1..]);
                if name.is_empty() || tag.is_empty() {
                    return Err(format!("'{s}' is not an image reference (name[:tag])"));
                }
                Ok(ImageRef {
                    name: name.into(),
                    tag: tag.into(),
                })
            }
            None => Ok(ImageRef {
                name: s.into(),
                tag: "latest".into(),
            }),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

/// The three images the docker backend runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Postgres.
    pub postgres: ImageRef,
    /// Redis.
    pub redis: ImageRef,
    /// Toxiproxy.
    pub toxiproxy: ImageRef,
}

impl Images {
    /// Resolves each image from an explicit value (a flag), else the environment
    /// variable, else the default. Errors name the flag or variable.
    pub fn resolve(
        postgres: Option<&str>,
        redis: Option<&str>,
        toxiproxy: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, EnvError> {
        let pick = |flag: Option<&str>, flag_name: &str, var: &str, default: &str| {
            let (value, source) = match (flag, env(var)) {
                (Some(f), _) => (f.to_owned(), flag_name.to_owned()),
                (None, Some(v)) => (v, var.to_owned()),
                (None, None) => (default.to_owned(), "default".to_owned()),
            };
            ImageRef::parse(&value).map_err(|e| EnvError::Config(format!("{source}: {e}")))
        };
        Ok(Images {
            postgres: pick(
                postgres,
                "--image-postgres",
                "HARNESS_IMAGE_POSTGRES",
                DEFAULT_POSTGRES,
            )?,
            redis: pick(redis, "--image-redis", "HARNESS_IMAGE_REDIS", DEFAULT_REDIS)?,
            toxiproxy: pick(
                toxiproxy,
                "--image-toxiproxy",
                "HARNESS_IMAGE_TOXIPROXY",
                DEFAULT_TOXIPROXY,
            )?,
        })
    }
}

impl Default for Images {
    fn default() -> Self {
        let parse = |s: &str| ImageRef::parse(s).unwrap_or_else(|e| unreachable!("{e}"));
        Images {
            postgres: parse(DEFAULT_POSTGRES),
            redis: parse(DEFAULT_REDIS),
            toxiproxy: parse(DEFAULT_TOXIPROXY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_ports_and_missing_tags() {
        let r = ImageRef::parse("localhost:5000/team/pg:15-alpine").expect("ok");
        assert_eq!(
            (r.name.as_str(), r.tag.as_str()),
            ("localhost:5000/team/pg", "15-alpine")
        );
        let r = ImageRef::parse("localhost:5000/redis").expect("ok");
        assert_eq!(
            (r.name.as_str(), r.tag.as_str()),
            ("localhost:5000/redis", "latest")
        );
        assert!(ImageRef::parse("").is_err());
        assert!(ImageRef::parse("pg:").is_err());
    }

    #[test]
    fn flag_beats_env_beats_default_and_errors_name_the_source() {
        let env = |v: &str| (v == "HARNESS_IMAGE_REDIS").then(|| "my/redis:6".to_owned());
        let i = Images::resolve(Some("pg:16"), None, None, env).expect("ok");
        assert_eq!(i.postgres.to_string(), "pg:16");
        assert_eq!(i.redis.to_string(), "my/redis:6");
        assert_eq!(i.toxiproxy.to_string(), DEFAULT_TOXIPROXY);
        let bad = |v: &str| (v == "HARNESS_IMAGE_TOXIPROXY").then(|| "a b".to_owned());
        let err = Images::resolve(None, None, None, bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("HARNESS_IMAGE_TOXIPROXY"), "{err}");
    }
}
