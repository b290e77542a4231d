use super::*;
use crate::results::ShardInfo;

/// Shard `index` of `count` of run `run`, written as `dir/shard-<index>/results.json`.
fn shard(dir: &Path, run: &str, index: u32, count: u32) -> PathBuf {
    let mut r: Results =
        serde_json::from_str(include_str!("../../../../fixtures/results/smoke.json"))
            .expect("fixture");
    r.run_id = run.into();
    r.shard = Some(ShardInfo {
        index,
        count,
        start_at: None,
        chaos: None,
    });
    write(dir, &format!("shard-{index}"), &r)
}

fn write(dir: &Path, name: &str, r: &Results) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).expect("dir");
    let p = d.join("results.json");
    std::fs::write(&p, serde_json::to_string(r).expect("json")).expect("write");
    p
}

fn options(inputs: Vec<PathBuf>) -> MergeOptions {
    MergeOptions {
        inputs,
        reports: "reports".into(),
        fixtures: "fixtures".into(),
        scenarios_dir: "scenarios".into(),
        ..MergeOptions::default()
    }
}

fn refusal(o: MergeOptions) -> String {
    o.into_plan()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn a_directory_of_every_shard_makes_a_plan_in_shard_order() {
    let d = tempfile::tempdir().expect("tempdir");
    for i in [2, 0, 1] {
        shard(d.path(), "r1", i, 3);
    }
    let plan = options(vec![d.path().to_owned()])
        .into_plan()
        .expect("plan");
    let order: Vec<u32> = plan.shards.iter().map(ShardFile::index).collect();
    assert_eq!(order, [0, 1, 2]);
    assert_eq!(plan.dir, d.path());
    assert!(!plan.budgets.is_empty());
}

#[test]
fn shards_of_different_runs_or_a_missing_shard_are_refused_by_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let a = shard(d.path(), "r1", 0, 3);
    let b = shard(d.path(), "r1", 1, 3);
    let e = refusal(options(vec![a.clone(), b.clone()]));
    assert_eq!(e, "shard [2] of 3 missing: only [0, 1] were given");
    let e = refusal(options(vec![a.clone(), a.clone()]));
    assert!(
        e.ends_with(&format!("shard 0 is also {}", a.display())),
        "{e}"
    );
    let other = d.path().join("other");
    let c = shard(&other, "r2", 2, 3);
    let e = refusal(options(vec![a.clone(), b.clone(), c.clone()]));
    assert_eq!(
        e,
        format!("{}: run_id is r2, but {} has r1", c.display(), a.display())
    );
    let mut r = crate::report::files::load(&c).expect("load");
    r.run_id = "r1".into();
    r.scenario.profile = "ci".into();
    let c = write(&other, "shard-2", &r);
    let e = refusal(options(vec![a.clone(), b.clone(), c.clone()]));
    assert!(
        e.starts_with(&format!("{}: profile is ci", c.display())),
        "{e}"
    );
    r.shard = None;
    let c = write(&other, "shard-2", &r);
    let e = refusal(options(vec![a, b, c.clone()]));
    assert!(
        e.starts_with(&format!("{}: not a shard's results", c.display())),
        "{e}"
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let e = refusal(options(vec![empty.path().to_owned()]));
    assert!(e.ends_with("no shard-*/results.json in it"), "{e}");
    assert!(refusal(options(Vec::new())).starts_with("no results file given"));
}
