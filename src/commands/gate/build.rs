//! A gate's two sides, ready to start: a command as given, or a git ref of this
//! checkout built into a worktree of its own (`git worktree add --detach`), with one
//! cargo target directory for every ref so that what the refs share compiles once.

use std::path::{Path, PathBuf};

use super::{Side, SidePlan};
use crate::results::GateSubject;
use crate::service::{build_sut_in, workspace_dir, BuildProfile, ServiceError};

/// Why a side's git ref could not be made into a binary.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// git could not be run, or refused.
    #[error("{flag} {git_ref}: git {args} failed: {why}")]
    Git {
        /// `--base` or `--head`.
        flag: &'static str,
        /// The ref.
        git_ref: String,
        /// What git was asked.
        args: String,
        /// What it said (its last line).
        why: String,
    },
    /// The ref's `sut` did not build.
    #[error("{flag} {git_ref}: the sut binary did not build")]
    Cargo {
        /// `--base` or `--head`.
        flag: &'static str,
        /// The ref.
        git_ref: String,
        /// cargo's error.
        #[source]
        source: Box<ServiceError>,
    },
    /// The built binary could not be kept.
    #[error("{0}: cannot write")]
    Keep(PathBuf, #[source] std::io::Error),
}

/// Where the gate's worktrees and shared target directory live.
fn gate_dir() -> PathBuf {
    workspace_dir().join("target").join("gate")
}

/// `side` as a command to start; a git ref is built first (its binary kept in
/// `target/gate/bin/`, so a second gate of the same commit builds nothing).
pub async fn subject(
    flag: &'static str,
    side: &SidePlan,
    profile: BuildProfile,
) -> Result<Side, BuildError> {
    let git_ref = match side {
        SidePlan::Command(c) => {
            return Ok(Side {
                command: c.clone(),
                subject: GateSubject {
                    command: c.clone(),
                    git_ref: None,
                    commit: None,
                },
            })
        }
        SidePlan::GitRef(r) => r,
    };
    let git = |args: &[&str]| -> Result<String, BuildError> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(workspace_dir())
            .output()
            .map_err(|e| e.to_string())
            .and_then(|o| {
                if o.status.success() {
                    Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned())
                } else {
                    let err = String::from_utf8_lossy(&o.stderr);
                    Err(err.lines().last().unwrap_or("failed").to_owned())
                }
            });
        out.map_err(|why| BuildError::Git {
            flag,
            git_ref: git_ref.clone(),
            args: args.join(" "),
            why,
        })
    };
    let commit = git(&[
        "rev-parse",
        "--verify",
        "--end-of-options",
        &format!("{git_ref}^{{commit}}"),
    ])?;
    let kept = gate_dir()
        .join("bin")
        .join(format!("sut-{commit}-{}", profile_name(profile)));
    if !kept.is_file() {
        let tree = gate_dir().join("worktrees").join(&commit);
        let tree_s = tree.display().to_string();
        if tree.exists() {
            git(&["worktree", "remove", "--force", &tree_s])?;
        }
        git(&["worktree", "add", "--detach", &tree_s, &commit])?;
        let built = build_sut_in(&tree, Some(&gate_dir().join("target")), profile).await;
        // The worktree only served the build.
        let _ = git(&["worktree", "remove", "--force", &tree_s]);
        let built = built.map_err(|source| BuildError::Cargo {
            flag,
            git_ref: git_ref.clone(),
            source: Box::new(source),
        })?;
        keep(&built, &kept)?;
    }
    let command = kept.display().to_string();
    Ok(Side {
        command: command.clone(),
        subject: GateSubject {
            command,
            git_ref: Some(git_ref.clone()),
            commit: Some(commit),
        },
    })
}

fn profile_name(p: BuildProfile) -> &'static str {
    match p {
        BuildProfile::Debug => "debug",
        BuildProfile::Release => "release",
    }
}

/// Copies the binary beside and renames it into place, so that a gate killed halfway
/// leaves no half a binary under the name a later gate trusts.
fn keep(built: &Path, kept: &Path) -> Result<(), BuildError> {
    let dir = kept.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| BuildError::Keep(dir.to_owned(), e))?;
    let tmp = kept.with_extension("tmp");
    std::fs::copy(built, &tmp)
        .and_then(|_| std::fs::rename(&tmp, kept))
        .map_err(|e| BuildError::Keep(kept.to_owned(), e))
}
