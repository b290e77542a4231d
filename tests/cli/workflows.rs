//! The user-facing workflow (`ci/github/*.yml`), the Kubernetes manifests (`ci/k8s/`),
//! the shard image's entrypoint and `ci/swarm/run` call harness commands with flags;
//! every one of them must exist, so that a renamed flag fails here, not in a user's CI.

use std::path::Path;

use clap::CommandFactory;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// (where, subcommand, flags) for every harness call in a shell-like text.
fn shell_calls(file: &str, text: &str) -> Vec<(String, String, Vec<String>)> {
    let joined = text.replace("\\\n", " ");
    let mut calls = Vec::new();
    for (n, line) in joined.lines().enumerate() {
        // Comments and messages name the harness without calling it.
        let line = line.split(" #").next().unwrap_or_default();
        if line.trim_start().starts_with('#') || line.contains("echo ") {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let flags = |from: usize| -> Vec<String> {
            tokens[from..]
                .iter()
                .map(|t| t.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == ')'))
                .filter(|t| t.starts_with("--") && t.len() > 2)
                .map(|t| t.split('=').next().unwrap_or(t).to_owned())
                .collect()
        };
        // `run_args=(--scenario …)`: the default arguments of every shard's run.
        if tokens.first().is_some_and(|t| t.starts_with("run_args=(")) {
            calls.push((format!("{file}:{}", n + 1), "run".into(), flags(0)));
            continue;
        }
        for (i, t) in tokens.iter().enumerate() {
            let bare = t.trim_matches('"');
            let harness = bare.ends_with("/harness") || bare == "harness" || bare == "$harness";
            let cargo = *t == "--" && tokens[..i].contains(&"cargo");
            if let (true, Some(sub)) = (harness || cargo, tokens.get(i + 1)) {
                if sub.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    calls.push((format!("{file}:{}", n + 1), (*sub).to_owned(), flags(i + 2)));
                }
            }
        }
    }
    calls
}

/// The calls a manifest's shard-image containers make: `merge ARGS` or `run ARGS`.
fn manifest_calls(file: &str, text: &str) -> Vec<(String, String, Vec<String>)> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).expect("YAML");
    let containers = &doc["spec"]["template"]["spec"]["containers"];
    let mut calls = Vec::new();
    for c in containers.as_sequence().into_iter().flatten() {
        if !c["image"]
            .as_str()
            .unwrap_or_default()
            .contains("harness-local/shard")
        {
            continue;
        }
        let args: Vec<String> = c["args"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let (sub, rest) = match args.first().map(String::as_str) {
            Some("merge") => ("merge", &args[1..]),
            _ => ("run", &args[..]),
        };
        let flags = rest
            .iter()
            .filter(|a| a.starts_with("--"))
            .cloned()
            .collect();
        calls.push((file.to_owned(), sub.to_owned(), flags));
    }
    calls
}

#[test]
fn workflows_and_manifests_use_only_commands_and_flags_that_exist() {
    let mut calls = Vec::new();
    let mut read_dir = |dir: &str, ext: &str, manifest: bool| {
        for e in std::fs::read_dir(Path::new(ROOT).join(dir))
            .expect(dir)
            .flatten()
        {
            let p = e.path();
            if p.extension().is_some_and(|x| x == ext) || ext.is_empty() {
                let text = std::fs::read_to_string(&p).expect("read");
                let name = p.strip_prefix(ROOT).unwrap_or(&p).display().to_string();
                calls.extend(if manifest {
                    manifest_calls(&name, &text)
                } else {
                    shell_calls(&name, &text)
                });
            }
        }
    };
    read_dir("ci/github", "yml", false);
    read_dir("ci/k8s", "yaml", true);
    read_dir("ci/swarm", "", false);
    read_dir("ci/images/shard", "", false);
    let cli = harness::cli::Cli::command();
    let mut bad = Vec::new();
    for (at, sub, flags) in &calls {
        let Some(cmd) = cli.find_subcommand(sub) else {
            bad.push(format!("{at}: no command `harness {sub}`"));
            continue;
        };
        let longs: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        for f in flags {
            if !longs.contains(&&f[2..]) && f != "--help" {
                bad.push(format!("{at}: `harness {sub}` has no {f}"));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    // The scan found what is there: the workflow's run and gate, the manifests' run
    // and merge, the entrypoint's and ci/swarm/run's merge.
    let seen = |sub: &str, file: &str| calls.iter().any(|(at, s, _)| s == sub && at.contains(file));
    for (sub, file) in [
        ("run", "ci/github/harness.yml"),
        ("gate", "ci/github/harness.yml"),
        ("run", "ci/k8s/shards.yaml"),
        ("merge", "ci/k8s/merge.yaml"),
        ("run", "ci/images/shard/shard-entry"),
        ("merge", "ci/swarm/run"),
        ("run", "ci/swarm/run"),
    ] {
        assert!(
            seen(sub, file),
            "no `harness {sub}` found in {file}: {calls:#?}"
        );
    }
}

#[test]
fn the_scan_catches_a_flag_that_does_not_exist() {
    let calls = shell_calls(
        "x",
        "cargo run --release -- run --scenario a \\\n  --no-such-flag 1",
    );
    assert_eq!(calls.len(), 1);
    let (_, sub, flags) = &calls[0];
    assert_eq!(
        (sub.as_str(), flags.as_slice()),
        (
            "run",
            &["--scenario".to_owned(), "--no-such-flag".to_owned()][..]
        )
    );
}
