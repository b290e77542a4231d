//! Builds the reference SUT from this workspace with cargo, and finds the binary from
//! cargo's own JSON messages rather than guessing the target directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::ServiceError;

/// Debug or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProfile {
    /// `cargo build -p sut`: quick to build, for tests.
    Debug,
    /// `cargo build -p sut --release`: what load figures are measured against.
    Release,
}

/// A build profile that is not debug or release.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' (expected debug or release)")]
pub struct BuildProfileError(pub String);

impl std::str::FromStr for BuildProfile {
    type Err = BuildProfileError;
    fn from_str(s: &str) -> Result<Self, BuildProfileError> {
        match s {
            "debug" => Ok(BuildProfile::Debug),
            "release" => Ok(BuildProfile::Release),
            other => Err(BuildProfileError(other.to_owned())),
        }
    }
}

/// The workspace this harness was built from (two levels above this crate); it holds
/// the `sut` crate, `fixtures/` and `scenarios/`.
pub fn workspace_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Runs `cargo build -p sut` and returns the path of the `sut` executable.
///
/// ```no_run
/// # async fn demo() -> Result<(), harness_engine::service::ServiceError> {
/// use harness_engine::service::{build_reference, BuildProfile};
/// let binary = build_reference(BuildProfile::Release).await?;
/// assert!(binary.ends_with("sut"));
/// # Ok(()) }
/// ```
pub async fn build_reference(profile: BuildProfile) -> Result<PathBuf, ServiceError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = tokio::process::Command::new(&cargo);
    cmd.current_dir(workspace_dir())
        .args(["build", "-p", "sut", "--bin", "sut"])
        .arg("--message-format=json-render-diagnostics");
    if profile == BuildProfile::Release {
        cmd.arg("--release");
    }
    let command = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| ServiceError::Build {
            command: command.clone(),
            tail: e.to_string(),
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(ServiceError::Build {
            command,
            tail: tail(&stderr, 30),
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    executable(&stdout).ok_or_else(|| ServiceError::Build {
        command,
        tail: "cargo reported no 'sut' executable".into(),
    })
}

/// The `sut` executable named in cargo's `compiler-artifact` messages.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "sut")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_among_cargo_messages() {
        let msgs = r#"{"reason":"compiler-artifact","target":{"name":"serde"},"executable":null}
not json
{"reason":"compiler-artifact","target":{"name":"sut"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"sut"},"executable":"/t/release/sut"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(executable(msgs), Some(PathBuf::from("/t/release/sut")));
        assert_eq!(executable("{\"reason\":\"build-finished\"}"), None);
    }
}
