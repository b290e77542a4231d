//! The architecture test: the map of the layers, with the allowed edges written once.
//! It reads every `crate::…` path in `src/` (tests aside) and fails on an edge the map
//! does not allow, naming both modules and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, top to bottom. A module may import only modules in a lower layer, or, in
/// the engine layer, a module listed after it.
#[rustfmt::skip]
const LAYERS: &[(&str, &[&str])] = &[
    ("cli", &["cli"]),
    ("plan", &["plan"]),
    ("session", &["session"]),
    ("report", &["report"]),
    ("engine", &["certify", "chaos", "load", "scenario", "service", "environment", "faults", "llm"]),
    ("scoring", &["scoring"]),
    ("record", &["record"]),
    ("support", &["datafile", "units", "net", "process", "shutdown"]),
    ("results", &["results", "exit"]),
];

/// Every edge allowed, from a module to the modules it may import.
#[rustfmt::skip]
const ALLOWED: &[(&str, &[&str])] = &[
    ("cli", &["plan", "session", "report", "certify", "scoring", "environment", "faults", "llm", "service", "units", "shutdown", "results", "exit"]),
    ("plan", &["session", "report", "certify", "chaos", "load", "scenario", "service", "environment", "faults", "llm", "scoring", "datafile", "units", "results"]),
    ("session", &["report", "certify", "chaos", "load", "scenario", "service", "environment", "scoring", "record", "net", "shutdown", "results", "exit"]),
    // Reports read results only, and decode the histograms stored in them.
    ("report", &["record", "datafile", "results", "exit"]),
    // Certification cases drive the subject, its environment and the fault layer.
    ("certify", &["service", "environment", "faults", "llm", "net", "results"]),
    ("chaos", &["environment", "faults", "llm", "scoring", "record", "datafile", "units", "results"]),
    ("load", &["scenario", "record", "shutdown", "results"]),
    ("scenario", &["faults", "datafile", "units"]),
    ("service", &["environment", "process", "net"]),
    ("environment", &["faults", "llm", "net", "process", "results", "exit"]),
    ("faults", &["llm", "units"]),
    ("llm", &["datafile", "units"]),
    ("scoring", &["record", "datafile", "units", "results", "exit"]),
    ("record", &["results"]),
    ("datafile", &[]),
    ("units", &[]),
    ("net", &[]),
    ("process", &[]),
    ("shutdown", &[]),
    ("results", &[]),
    ("exit", &[]),
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
    ("chat", &["llm", "kv", "config", "metrics", "timing"]),
    ("documents", &["kv"]),
    ("llm", &["config", "metrics", "defect"]),
    ("ratelimit", &["kv"]),
    ("kv", &[]),
    ("auth", &[]),
    ("config", &[]),
    ("metrics", &[]),
    ("timing", &[]),
    ("seed", &[]),
    ("defect", &[]),
];

fn rank(module: &str) -> Option<(usize, usize)> {
    rank_in(LAYERS, module)
}

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

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.trim_end_matches(".rs").to_owned();
    // The crate root and the process entry points sit above every layer.
    (!matches!(name.as_str(), "lib" | "main" | "entry" | "bin")).then_some(name)
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
            out.push(name);
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

/// Every edge in `src` that `allowed` does not list.
fn back_edges(src: &Path, allowed: &BTreeMap<&str, &[&str]>) -> Vec<BackEdge> {
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
                if to == from {
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

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_one_above_it() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let bad = back_edges(&src(), &allowed);
    let lines: Vec<String> = bad
        .iter()
        .map(|b| format!("{} imports {}: {}", b.from, b.to, b.at))
        .collect();
    assert!(
        lines.is_empty(),
        "edges the layer map does not allow:\n{}",
        lines.join("\n")
    );
}

#[test]
fn the_map_itself_only_points_down() {
    for (from, tos) in ALLOWED {
        let f = rank(from).unwrap_or_else(|| panic!("{from} is in no layer"));
        for to in *tos {
            let t = rank(to).unwrap_or_else(|| panic!("{to} is in no layer"));
            let down = t.0 > f.0 || (t.0 == f.0 && LAYERS[f.0].0 == "engine" && t.1 > f.1);
            assert!(down, "{from} → {to} points up the layers");
        }
    }
    // Every module of src/ is on the map.
    let mut files = Vec::new();
    rs_files(&src(), &mut files);
    for f in files {
        if let Some(m) = module_of(&src(), &f) {
            assert!(rank(&m).is_some(), "{m} ({}) is in no layer", f.display());
        }
    }
}

fn sut_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sut/src")
}

/// The reference SUT keeps its handlers apart from its domain (issue 15): no module of
/// `sut/src` imports one above it, and the map itself only points down.
#[test]
fn no_sut_module_imports_one_above_it() {
    let allowed: BTreeMap<&str, &[&str]> = SUT_ALLOWED.iter().copied().collect();
    let lines: Vec<String> = back_edges(&sut_src(), &allowed)
        .iter()
        .map(|b| format!("{} imports {}: {}", b.from, b.to, b.at))
        .collect();
    assert!(
        lines.is_empty(),
        "edges the SUT's layer map does not allow:\n{}",
        lines.join("\n")
    );
    for (from, tos) in SUT_ALLOWED {
        let f = rank_in(SUT_LAYERS, from).unwrap_or_else(|| panic!("{from} is in no layer"));
        for to in *tos {
            let t = rank_in(SUT_LAYERS, to).unwrap_or_else(|| panic!("{to} is in no layer"));
            let down = t.0 > f.0 || (t.0 == f.0 && t.1 > f.1);
            assert!(down, "{from} → {to} points up the SUT's layers");
        }
    }
    let mut files = Vec::new();
    rs_files(&sut_src(), &mut files);
    for f in files {
        if let Some(m) = module_of(&sut_src(), &f) {
            assert!(
                rank_in(SUT_LAYERS, &m).is_some(),
                "{m} ({}) is in no layer of the SUT",
                f.display()
            );
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
        "use crate::record::Latency;\nuse crate::{results, session};\n#[cfg(test)]\nuse crate::cli;\n",
    )
    .expect("file");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let bad = back_edges(dir.path(), &allowed);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        (bad[0].from.as_str(), bad[0].to.as_str()),
        ("scoring", "session")
    );
    assert!(
        bad[0]
            .at
            .ends_with("mod.rs:2: use crate::{results, session};"),
        "{}",
        bad[0].at
    );
}
