//! The architecture test: what the compiler cannot see. The crates are the big layers
//! (`cargo tree`): `harness` (the command line, plans, sessions, reports) over
//! `harness-engine` over `harness-environment`, `harness-faults`, `harness-llm-fake` and
//! `harness-support`, with `harness-results` at the bottom; a crate cannot import one
//! above it. Inside a crate the modules are layered too, and that is checked here: every
//! `crate::…` path of a crate's `src/` (tests aside) must be an edge its map allows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `harness`'s own modules, top to bottom. A module may import only modules in a lower
/// layer, or one listed after it in its own. Each command's folder is a module of its own
/// (`commands::certify`), listed so that a command builds only on the ones after it.
#[rustfmt::skip]
const LAYERS: &[(&str, &[&str])] = &[
    ("cli", &["cli"]),
    ("commands", &[
        "commands::certify", "commands::capacity", "commands::gate", "commands::merge",
        "commands::chaos", "commands::compare", "commands::up", "commands::run", "commands",
    ]),
    ("plan", &["plan"]),
    ("session", &["session"]),
    ("report", &["report"]),
];

/// The modules of `src/lib.rs` that re-export a crate below `harness`: any module may
/// import them, and the compiler keeps them from importing `harness`.
const CRATES_BELOW: &[&str] = &[
    "certify",
    "chaos",
    "load",
    "record",
    "scenario",
    "scoring",
    "service",
    "environment",
    "faults",
    "llm",
    "datafile",
    "units",
    "net",
    "process",
    "cpu",
    "shutdown",
    "sse",
    "results",
    "exit",
];

/// Every edge allowed between `harness`'s own modules.
#[rustfmt::skip]
const ALLOWED: &[(&str, &[&str])] = &[
    ("cli", &[
        "commands::certify", "commands::capacity", "commands::gate", "commands::merge",
        "commands::chaos", "commands::compare", "commands::up", "commands::run", "plan",
        "session", "report",
    ]),
    // Certification's load cases are runs, chaos runs and capacity searches.
    ("commands::certify", &[
        "commands::capacity", "commands::chaos", "commands::run", "plan", "session", "report",
    ]),
    // Each probe is a run.
    ("commands::capacity", &["commands::run", "plan", "session", "report"]),
    // Each block is a run's stand, loaded and scored as a run.
    ("commands::gate", &["commands::run", "plan", "session", "report"]),
    // The shards are runs; a chaos run's shards are judged as `chaos` judges one run.
    ("commands::merge", &["commands::chaos", "commands::run", "plan", "report"]),
    // A chaos run is a run with faults.
    ("commands::chaos", &["commands::run", "plan", "session", "report"]),
    ("commands::compare", &["report"]),
    ("commands::up", &[]),
    ("commands::run", &["plan", "session", "report"]),
    ("commands", &[]),
    ("plan", &["session", "report"]),
    ("session", &["report"]),
    ("report", &[]),
];

/// `harness-engine`'s modules, top to bottom; a module may import one listed after it
/// in its own layer.
#[rustfmt::skip]
const ENGINE_LAYERS: &[(&str, &[&str])] = &[
    ("engine", &["certify", "chaos", "load", "scenario", "service"]),
    ("scoring", &["scoring"]),
    ("record", &["record"]),
];

/// The crates below `harness-engine`, under the names its `lib.rs` gives them.
const ENGINE_BELOW: &[&str] = &[
    "environment",
    "faults",
    "llm",
    "datafile",
    "units",
    "net",
    "process",
    "cpu",
    "shutdown",
    "sse",
    "results",
    "exit",
];

/// Every edge allowed between `harness-engine`'s modules.
#[rustfmt::skip]
const ENGINE_ALLOWED: &[(&str, &[&str])] = &[
    // Certification cases drive the subject, its environment and the fault layer.
    ("certify", &["service"]),
    ("chaos", &["scoring", "record"]),
    ("load", &["scenario", "record"]),
    ("scenario", &[]),
    ("service", &[]),
    ("scoring", &["record"]),
    ("record", &[]),
];

/// The reference SUT's layers, top to bottom: handlers apart from the domain. `lib.rs`,
/// `main.rs`, `entry.rs` and `bin/` (the router and start-up) sit above them all.
#[rustfmt::skip]
const SUT_LAYERS: &[(&str, &[&str])] = &[
    ("handlers", &["http"]),
    ("runtime", &["worker", "state"]),
    ("domain", &["chat", "documents"]),
    ("services", &["llm", "ratelimit", "kv"]),
    ("base", &["auth", "config", "metrics", "timing", "seed", "defect"]),
];

/// Every edge allowed in `sut/src`.
#[rustfmt::skip]
const SUT_ALLOWED: &[(&str, &[&str])] = &[
    ("http", &["state", "chat", "documents", "ratelimit", "auth", "timing", "defect"]),
    ("worker", &["state", "documents", "llm"]),
    ("state", &["chat", "config", "kv", "llm", "metrics", "ratelimit"]),
    // The breach that slows entity resolution (`entity-resolution-slow`), for the gate.
    ("chat", &["llm", "kv", "config", "metrics", "timing", "defect"]),
    ("documents", &["kv"]),
    ("llm", &["config", "metrics", "defect"]),
    ("ratelimit", &["kv"]),
    ("kv", &[]),
    ("auth", &[]),
    ("config", &[]),
    // The breach whose breaker metric never moves (`breaker-metric-stuck`).
    ("metrics", &["defect"]),
    // The one breach that lies about its own timings (`server-timing-under-reports`).
    ("timing", &["defect"]),
    ("seed", &[]),
    ("defect", &[]),
];

/// One crate's tree of modules and its map.
struct Tree {
    /// Its `src/`, relative to the workspace.
    src: &'static str,
    layers: &'static [(&'static str, &'static [&'static str])],
    allowed: &'static [(&'static str, &'static [&'static str])],
    /// Names at its root that stand for crates below it: always allowed.
    below: &'static [&'static str],
    /// Whether a module may import one listed after it in its own layer.
    later_in_layer: bool,
}

const TREES: [Tree; 3] = [
    Tree {
        src: "src",
        layers: LAYERS,
        allowed: ALLOWED,
        below: CRATES_BELOW,
        later_in_layer: true,
    },
    Tree {
        src: "crates/harness-engine/src",
        layers: ENGINE_LAYERS,
        allowed: ENGINE_ALLOWED,
        below: ENGINE_BELOW,
        later_in_layer: true,
    },
    Tree {
        src: "sut/src",
        layers: SUT_LAYERS,
        allowed: SUT_ALLOWED,
        below: &[],
        later_in_layer: true,
    },
];

fn rank_in(layers: &[(&str, &[&str])], module: &str) -> Option<(usize, usize)> {
    layers
        .iter()
        .enumerate()
        .find_map(|(layer, (_, mods))| mods.iter().position(|m| *m == module).map(|i| (layer, i)))
}

/// An import that the map does not allow.
#[derive(Debug, PartialEq, Eq)]
struct BackEdge {
    from: String,
    to: String,
    at: String,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file of `src/` belongs to: its top-level module, or for a file in a
/// command's folder, `commands::NAME`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let mut parts = rel.components().map(|c| {
        c.as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned()
    });
    let name = parts.next()?;
    // The crate root and the process entry points sit above every layer.
    if matches!(name.as_str(), "lib" | "main" | "entry" | "bin") {
        return None;
    }
    match parts.next() {
        Some(command) if name == COMMANDS && command != "mod" => {
            Some(format!("{COMMANDS}::{command}"))
        }
        _ => Some(name),
    }
}

/// The module whose folders are modules of their own, one per command.
const COMMANDS: &str = "commands";

/// `name`, or for `commands`, the command named after it in `after` (`::run…` or a
/// `::{capacity, run}` group), each as `commands::NAME`.
fn with_command(name: String, after: &str, out: &mut Vec<String>) {
    if name != COMMANDS {
        out.push(name);
        return;
    }
    let Some(rest) = after.strip_prefix("::") else {
        out.push(name);
        return;
    };
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let named: Vec<String> = match rest.strip_prefix('{') {
        Some(group) => group
            .split('}')
            .next()
            .unwrap_or("")
            .split(',')
            .map(ident)
            .collect(),
        None => vec![ident(rest)],
    };
    out.extend(
        named
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(|n| format!("{COMMANDS}::{n}")),
    );
}

/// The modules `line` names as `crate::X`.
fn imports(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            let tail = &after[name.len()..];
            with_command(name, tail, &mut out);
        }
        rest = after;
    }
    let trimmed = line.trim_start();
    // `use crate::{a, b}` names several.
    if let Some(group) = trimmed
        .strip_prefix("use crate::{")
        .or_else(|| trimmed.strip_prefix("pub use crate::{"))
    {
        for part in group.split(',') {
            let name: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// Every edge in `src` that `allowed` does not list, imports of `below` aside.
fn back_edges(src: &Path, allowed: &BTreeMap<&str, &[&str]>, below: &[&str]) -> Vec<BackEdge> {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Some(from) = module_of(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            if line.trim_start().starts_with("//") {
                continue;
            }
            for to in imports(line) {
                if to == from || below.contains(&to.as_str()) {
                    continue;
                }
                let ok = allowed
                    .get(from.as_str())
                    .is_some_and(|a| a.contains(&to.as_str()));
                if !ok {
                    bad.push(BackEdge {
                        from: from.clone(),
                        to,
                        at: format!("{}:{}: {}", file.display(), n + 1, line.trim()),
                    });
                }
            }
        }
    }
    bad
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_module_imports_one_above_it() {
    for tree in &TREES {
        let allowed: BTreeMap<&str, &[&str]> = tree.allowed.iter().copied().collect();
        let lines: Vec<String> = back_edges(&root().join(tree.src), &allowed, tree.below)
            .iter()
            .map(|b| format!("{} imports {}: {}", b.from, b.to, b.at))
            .collect();
        assert!(
            lines.is_empty(),
            "{}: edges the layer map does not allow:\n{}",
            tree.src,
            lines.join("\n")
        );
    }
}

#[test]
fn each_map_only_points_down_and_holds_every_module() {
    for tree in &TREES {
        for (from, tos) in tree.allowed {
            let f = rank_in(tree.layers, from)
                .unwrap_or_else(|| panic!("{}: {from} is in no layer", tree.src));
            for to in *tos {
                let t = rank_in(tree.layers, to)
                    .unwrap_or_else(|| panic!("{}: {to} is in no layer", tree.src));
                let later = tree.later_in_layer && t.0 == f.0 && t.1 > f.1;
                assert!(t.0 > f.0 || later, "{}: {from} → {to} points up", tree.src);
            }
        }
        let src = root().join(tree.src);
        let mut files = Vec::new();
        rs_files(&src, &mut files);
        assert!(!files.is_empty(), "{} has no source", tree.src);
        for f in files {
            if let Some(m) = module_of(&src, &f) {
                assert!(
                    rank_in(tree.layers, &m).is_some(),
                    "{m} ({}) is in no layer of {}",
                    f.display(),
                    tree.src
                );
            }
        }
    }
}

#[test]
fn a_back_edge_is_caught_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scoring = dir.path().join("scoring");
    std::fs::create_dir(&scoring).expect("dir");
    std::fs::write(
        scoring.join("mod.rs"),
        "use crate::record::Latency;\nuse crate::{results, chaos};\n#[cfg(test)]\nuse crate::certify;\n",
    )
    .expect("file");
    let allowed: BTreeMap<&str, &[&str]> = ENGINE_ALLOWED.iter().copied().collect();
    let bad = back_edges(dir.path(), &allowed, ENGINE_BELOW);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        (bad[0].from.as_str(), bad[0].to.as_str()),
        ("scoring", "chaos")
    );
    assert!(
        bad[0]
            .at
            .ends_with("mod.rs:2: use crate::{results, chaos};"),
        "{}",
        bad[0].at
    );
}

#[test]
fn a_command_that_imports_one_built_on_it_is_caught_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("commands").join("run");
    std::fs::create_dir_all(&run).expect("dir");
    std::fs::write(
        run.join("plan.rs"),
        "use crate::commands::run::RunPlan;\nuse crate::plan::PlanError;\n\
         use crate::commands::{chaos, run};\n",
    )
    .expect("file");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let bad = back_edges(dir.path(), &allowed, CRATES_BELOW);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        (bad[0].from.as_str(), bad[0].to.as_str()),
        ("commands::run", "commands::chaos")
    );
    assert!(bad[0]
        .at
        .ends_with("plan.rs:3: use crate::commands::{chaos, run};"));
}
