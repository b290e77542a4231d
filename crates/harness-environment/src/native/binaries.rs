//! Finding the PostgreSQL server binaries: `HARNESS_PG_BINDIR` if set, else `initdb` on
//! PATH, else `pg_config --bindir`, else the distribution's versioned directories
//! (`/usr/lib/postgresql/<version>/bin`), newest first.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where to look. Built from the real process environment by [`PgSearch::from_env`];
/// tests build it by hand.
#[derive(Debug, Clone, Default)]
pub struct PgSearch {
    /// `HARNESS_PG_BINDIR`: when set, the only place searched.
    pub override_dir: Option<PathBuf>,
    /// The PATH variable.
    pub path: Option<OsString>,
    /// What `pg_config --bindir` printed, if it ran.
    pub pg_config_bindir: Option<PathBuf>,
    /// The distribution's root of versioned installs.
    pub distro_root: PathBuf,
}

impl PgSearch {
    /// Reads the search space from this process's environment.
    pub fn from_env() -> Self {
        let path = std::env::var_os("PATH");
        let pg_config_bindir = std::env::split_paths(path.as_deref().unwrap_or_default())
            .map(|d| d.join("pg_config"))
            .find(|p| p.is_file())
            .and_then(|pg_config| {
                std::process::Command::new(pg_config)
                    .arg("--bindir")
                    .output()
                    .ok()
            })
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        PgSearch {
            override_dir: std::env::var_os("HARNESS_PG_BINDIR").map(PathBuf::from),
            path,
            pg_config_bindir,
            distro_root: PathBuf::from("/usr/lib/postgresql"),
        }
    }
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// No PostgreSQL server binaries; says every place searched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("searched {0}")]
pub struct NotFound(pub String);

/// Returns the directory holding `initdb` and `postgres`, or a description of every
/// place searched.
pub fn locate(search: &PgSearch) -> Result<PathBuf, NotFound> {
    if let Some(dir) = &search.override_dir {
        return if has_server(dir) {
            Ok(dir.clone())
        } else {
            Err(NotFound(format!("HARNESS_PG_BINDIR={}", dir.display())))
        };
    }
    let mut searched = Vec::new();
    for dir in std::env::split_paths(search.path.as_deref().unwrap_or_default()) {
        let initdb = dir.join("initdb");
        if initdb.is_file() {
            // /usr/local/bin/initdb is often a symlink into the real bindir, where
            // `postgres` also lives.
            let real = std::fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf));
            for d in [real, Some(dir.clone())].into_iter().flatten() {
                if has_server(&d) {
                    return Ok(d);
                }
            }
        }
    }
    searched.push("PATH".to_owned());
    if let Some(dir) = &search.pg_config_bindir {
        if has_server(dir) {
            return Ok(dir.clone());
        }
        searched.push(format!("pg_config --bindir ({})", dir.display()));
    } else {
        searched.push("pg_config (not found)".into());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(&search.distro_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    if let Some((_, dir)) = versions.into_iter().find(|(_, d)| has_server(d)) {
        return Ok(dir);
    }
    searched.push(format!("{}/*/bin", search.distro_root.display()));
    Err(NotFound(searched.join(", ")))
}

/// Finds `redis-server` on PATH.
pub fn locate_redis(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    on_path(&["redis-server"], path)
}

/// Finds the first of `names` on PATH (all of the first name's directories before the
/// second name).
pub fn on_path(names: &[&str], path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    names.iter().find_map(|name| {
        std::env::split_paths(path.unwrap_or_default())
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bindir(root: &Path, rel: &str) -> PathBuf {
        let dir = root.join(rel);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for b in ["initdb", "postgres"] {
            std::fs::write(dir.join(b), "").expect("write");
        }
        dir
    }

    #[test]
    fn prefers_path_then_pg_config_then_newest_distro_version() {
        let t = tempfile::tempdir().expect("tempdir");
        let v13 = fake_bindir(t.path(), "distro/13/bin");
        let v16 = fake_bindir(t.path(), "distro/16/bin");
        let mut s = PgSearch {
            distro_root: t.path().join("distro"),
            ..PgSearch::default()
        };
        assert_eq!(locate(&s).expect("distro"), v16);
        s.pg_config_bindir = Some(v13.clone());
        assert_eq!(locate(&s).expect("pg_config"), v13);
        let on_path = fake_bindir(t.path(), "onpath");
        s.path = Some(on_path.clone().into_os_string());
        assert_eq!(locate(&s).expect("path"), on_path);
    }

    #[test]
    fn reports_every_place_searched() {
        let t = tempfile::tempdir().expect("tempdir");
        let s = PgSearch {
            path: Some(t.path().as_os_str().to_owned()),
            distro_root: t.path().join("none"),
            ..PgSearch::default()
        };
        let err = locate(&s).unwrap_err();
        assert!(
            err.0.contains("PATH") && err.0.contains("pg_config") && err.0.contains("none/*/bin"),
            "{err}"
        );
    }

    #[test]
    fn override_is_the_only_place_searched() {
        let t = tempfile::tempdir().expect("tempdir");
        fake_bindir(t.path(), "distro/16/bin");
        let s = PgSearch {
            override_dir: Some(t.path().join("empty")),
            distro_root: t.path().join("distro"),
            ..PgSearch::default()
        };
        assert!(locate(&s).unwrap_err().0.contains("HARNESS_PG_BINDIR"));
    }
}
