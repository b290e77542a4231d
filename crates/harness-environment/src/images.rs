//! Container image references for the docker backend, with their defaults and the
//! `HARNESS_IMAGE_*` overrides.

use std::fmt;

/// The official Postgres image; `ci/images/build` tags its local build with this name.
pub const DEFAULT_POSTGRES: &str = "postgres:15";
/// The official Redis image.
pub const DEFAULT_REDIS: &str = "redis:7";
/// The official Toxiproxy image.
pub const DEFAULT_TOXIPROXY: &str = "ghcr.io/shopify/toxiproxy:2.9.0";
/// The official Prometheus image, of the version Debian 12 packages.
pub const DEFAULT_PROMETHEUS: &str = "prom/prometheus:v2.42.0";
/// The official Alertmanager image, of the version Debian 12 packages.
pub const DEFAULT_ALERTMANAGER: &str = "prom/alertmanager:v0.25.0";

/// Text that is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an image reference (name[:tag])")]
pub struct ImageError(pub String);

impl std::str::FromStr for ImageRef {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Self, ImageError> {
        ImageRef::parse(s)
    }
}

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
    pub fn parse(s: &str) -> Result<Self, ImageError> {
        let s = s.trim();
        if s.is_empty() || s.contains(char::is_whitespace) || s.contains('@') {
            return Err(ImageError(s.to_owned()));
        }
        let last_slash = s.rfind('/').map_or(0, |i| i + 1);
        match s[last_slash..].rfind(':') {
            Some(i) => {
                let (name, tag) = (&s[..last_slash + i], &s[last_slash + i + 1..]);
                if name.is_empty() || tag.is_empty() {
                    return Err(ImageError(s.to_owned()));
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

/// The images the docker backend runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Postgres.
    pub postgres: ImageRef,
    /// Redis.
    pub redis: ImageRef,
    /// Toxiproxy.
    pub toxiproxy: ImageRef,
    /// Prometheus, when the alert components run.
    pub prometheus: ImageRef,
    /// Alertmanager, when the alert components run.
    pub alertmanager: ImageRef,
}

impl Default for Images {
    fn default() -> Self {
        let parse = |s: &str| ImageRef::parse(s).unwrap_or_else(|e| unreachable!("{e}"));
        Images {
            postgres: parse(DEFAULT_POSTGRES),
            redis: parse(DEFAULT_REDIS),
            toxiproxy: parse(DEFAULT_TOXIPROXY),
            prometheus: parse(DEFAULT_PROMETHEUS),
            alertmanager: parse(DEFAULT_ALERTMANAGER),
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
}
