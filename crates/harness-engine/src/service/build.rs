//! Builds the reference SUT from this workspace with cargo, and finds the binary from
//! cargo's own JSON messages rather than guessing the target directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::ServiceError;

/// Debug or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProfile {
    /// A debug build: quick to build, for tests.
    Debug,
    /// A release build: what load figures are measured against.
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

/// Runs `cargo build --workspace --bin sut` and returns the path of the `sut` executable.
///
/// `--workspace` rather than `-p sut`: cargo settles the features of shared dependencies
/// (tokio, hyper, serde_json, …) over the packages a build selects, so `-p sut` alone
/// builds some eighty of them a second time, with the reference's features only, beside
/// the copies the harness and its tests were built with. Selecting the workspace and
/// filtering to the one binary reuses those.
///
/// ```no_run
/// # async fn demo() -> Result<(), harness_engine::service::ServiceError> {
/// use harness_engine::service::{build_reference, BuildProfile};
/// let binary = build_reference(BuildProfile::Release).await?;
/// assert!(binary.ends_with("sut"));
/// # Ok(()) }
/// ```
pub async fn build_reference(profile: BuildProfile) -> Result<PathBuf, ServiceError> {
    build_sut_in(workspace_dir(), None, profile).await
}

/// Builds the `sut` binary of the workspace checked out at `checkout` (another commit's
/// worktree, for `harness gate --base REF`), into `target_dir` when given; returns its
/// path.
pub async fn build_sut_in(
    checkout: &Path,
    target_dir: Option<&Path>,
    profile: BuildProfile,
) -> Result<PathBuf, ServiceError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = tokio::process::Command::new(&cargo);
    for name in cargo_run_vars() {
        cmd.env_remove(name);
    }
    if let Some(t) = target_dir {
        cmd.env("CARGO_TARGET_DIR", t);
    }
    cmd.current_dir(checkout)
        .args(["build", "--workspace", "--bin", "sut"])
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

/// The variables cargo sets for a process it runs (`cargo run`, `cargo test`), which a
/// cargo started from that process inherits: remove them from its environment. Some
/// crates' fingerprints include them (ring's records `CARGO_MANIFEST_DIR`), so with them
/// set the nested cargo rebuilds ring, rustls, reqwest and everything above them that a
/// build from a shell had already built.
pub fn cargo_run_vars() -> Vec<std::ffi::OsString> {
    const EXACT: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| {
            let n = name.to_string_lossy();
            EXACT.contains(&n.as_ref())
                || n.starts_with("CARGO_PKG_")
                || n.starts_with("CARGO_BIN_")
        })
        .collect()
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
    fn only_the_variables_cargo_sets_for_a_run_are_removed() {
        // A unit test runs under cargo test, which sets them.
        let names: Vec<String> = cargo_run_vars()
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n == "CARGO_MANIFEST_DIR"), "{names:?}");
        assert!(names.iter().any(|n| n == "CARGO_PKG_NAME"), "{names:?}");
        assert!(!names
            .iter()
            .any(|n| n == "CARGO_HOME" || n == "CARGO_TARGET_DIR" || n == "PATH"));
    }

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
