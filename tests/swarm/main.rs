//! The Swarm path for real: `ci/swarm/run` initialises a one-node swarm on loopback,
//! runs the target as a `dnsrr` service and three shards as one replicated-job, collects
//! their records and merges them; then nothing of it is left: no service, network,
//! container or swarm state, also when the test fails.

use std::process::Command;

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn swarm_state() -> String {
    docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
}

/// Whatever the run left, removed when the test ends, however it ends.
struct Teardown {
    swarm_was_active: bool,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        for s in docker(&["service", "ls", "-q"]).lines() {
            let _ = Command::new("docker").args(["service", "rm", s]).output();
        }
        if !self.swarm_was_active {
            let _ = Command::new("docker")
                .args(["swarm", "leave", "--force"])
                .output();
            let _ = Command::new("docker")
                .args(["network", "rm", "docker_gwbridge"])
                .output();
        }
    }
}

/// What a run may have left: services, its networks, task containers, swarm state.
fn leftovers(swarm_was_active: bool) -> Vec<String> {
    let mut found = Vec::new();
    if swarm_state() == "active" && !swarm_was_active {
        found.push("an active swarm".to_owned());
    }
    for n in docker(&["network", "ls", "--format", "{{.Name}}"]).lines() {
        if n.starts_with("harness-swarm") || (n == "docker_gwbridge" && !swarm_was_active) {
            found.push(format!("network {n}"));
        }
    }
    let tasks = docker(&["ps", "-aq", "--filter", "label=com.docker.swarm.task"]);
    if !tasks.is_empty() {
        found.push(format!("containers {tasks}"));
    }
    found
}

#[test]
fn three_shards_on_swarm_merge_and_leave_nothing_behind() {
    if Command::new("docker")
        .arg("info")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        eprintln!("no Docker daemon: the Swarm path cannot run here");
        return;
    }
    let swarm_was_active = swarm_state() == "active";
    let _teardown = Teardown { swarm_was_active };
    let out_dir = tempfile::tempdir().expect("tempdir");
    let run = Command::new("bash")
        .arg("ci/swarm/run")
        .args(["--shards", "3", "--timeout", "240", "--harness"])
        .arg(env!("CARGO_BIN_EXE_harness"))
        .arg("--out")
        .arg(out_dir.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ci/swarm/run");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(run.status.code(), Some(0), "{said}");
    let runs: Vec<_> = std::fs::read_dir(out_dir.path())
        .expect("out")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let read = |p: std::path::PathBuf| -> harness::results::Results {
        serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("results")
    };
    let merged = read(runs[0].join("results.json"));
    let shards: Vec<_> = (0..3)
        .map(|i| read(runs[0].join(format!("shard-{i}/results.json"))))
        .collect();
    for (i, s) in shards.iter().enumerate() {
        assert_eq!(
            s.shard.as_ref().map(|s| (s.index, s.count)),
            Some((i as u32, 3))
        );
        assert_eq!(s.scenario.users, 8, "24 users in 3 shards");
        assert!(s.totals.requests > 0, "shard {i} sent nothing");
    }
    let sum: u64 = shards.iter().map(|s| s.totals.requests).sum();
    assert_eq!(merged.totals.requests, sum);
    assert_eq!(merged.scenario.users, 24);
    assert_eq!(merged.totals.errors, 0, "{:?}", merged.totals.statuses);
    eprintln!(
        "swarm, 3 shards: {:.0} requests/s, p95 {} µs",
        merged.totals.throughput_rps, merged.overall.p95_us
    );
    assert_eq!(leftovers(swarm_was_active), Vec::<String>::new());
}
