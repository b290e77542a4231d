use std::path::Path;
use std::time::Duration;

use super::*;
use crate::load::LoadShape;

fn dir() -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("scenarios")
}

#[test]
fn shipped_scenarios_parse_with_all_four_profiles() {
    for name in ["seed-mix", "documents", "smoke"] {
        let (s, _) = Scenario::find(name, &dir()).expect(name);
        for p in ["smoke", "ci", "full", "soak"] {
            let shape = LoadShape::settle(s.profile(p).expect(p));
            assert!(shape.peak_users > 0, "{name}/{p}");
        }
        let ci = LoadShape::settle(s.profile("ci").expect("ci"));
        assert_eq!(ci.peak_users, 100, "{name}");
        assert!(ci.planned() <= Some(Duration::from_secs(120)));
        let full = LoadShape::settle(s.profile("full").expect("full"));
        let users: Vec<u32> = full.stages.iter().map(|st| st.users).collect();
        assert_eq!(users, vec![100, 500], "{name}");
    }
    let (smoke, _) = Scenario::find("smoke", &dir()).expect("smoke");
    for p in smoke.profiles.values() {
        let planned = LoadShape::settle(p).planned();
        assert!(planned.is_some_and(|d| d <= Duration::from_secs(30)));
    }
    let (mix, _) = Scenario::find("seed-mix", &dir()).expect("seed-mix");
    let weights: Vec<u32> = mix.transactions.iter().map(|t| t.weight).collect();
    assert_eq!(weights, vec![60, 20, 20]);
    assert_eq!(mix.think_time.min, Duration::from_secs(1));
    assert_eq!(mix.think_time.max, Duration::from_secs(3));
}

#[test]
fn malformed_files_name_the_file_and_line() {
    let text = "name = \"x\"\n[[transactions]]\nname = \"t\"\nweight = \"heavy\"\npath = \"/\"\n";
    let e = Scenario::parse(text, Path::new("scenarios/bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("scenarios/bad.toml:4: "), "{e}");

    let text = "name = \"x\"\nthink_time = { min = \"3s\", max = \"1s\" }\n\
                [[transactions]]\nname = \"t\"\nweight = 1\npath = \"/\"\n\
                [profiles.smoke]\nusers = 1\nduration = \"5s\"\n";
    let e = Scenario::parse(text, Path::new("b.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("think_time"), "{e}");

    let text = "name = \"x\"\n[[transactions]]\nname = \"t\"\nweight = 1\npath = \"/\"\n\
                [profiles.smoke]\nusers = 1\n";
    let e = Scenario::parse(text, Path::new("b.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("profiles.smoke.duration"), "{e}");

    let e = Scenario::find("nope", &dir()).unwrap_err().to_string();
    assert!(e.contains("seed-mix") && e.contains("nope.toml"), "{e}");
}

#[test]
fn goose_test_plans_ramp_then_hold() {
    let (s, _) = Scenario::find("seed-mix", &dir()).expect("seed-mix");
    let plan = LoadShape::settle(s.profile("full").expect("full")).goose_test_plan();
    assert_eq!(plan.as_deref(), Some("100,20;100,280;500,40;500,260;0,0"));
    let plan = LoadShape::settle(s.profile("smoke").expect("smoke")).goose_test_plan();
    assert_eq!(plan.as_deref(), Some("10,1;10,19;0,0"));
}

#[test]
fn realistic_mix_spreads_the_seed_mix_over_a_feeder() {
    let (s, _) = Scenario::find("realistic-mix", &dir()).expect("realistic-mix");
    let weights: Vec<u32> = s.transactions.iter().map(|t| t.weight).collect();
    assert_eq!(weights, vec![60, 20, 20]);
    assert_eq!(s.seed.as_deref(), Some("seed-realistic.json"));
    let f = s.feeder.as_ref().expect("a feeder");
    assert_eq!(f.strategy, Strategy::Random);
    assert_eq!(s.unbound(&["customer".into(), "written".into()]), vec![]);
    let open = LoadShape::settle(s.profile("open").expect("open"));
    assert_eq!(open.peak_rate(), 50.0);
    assert!(open.open.is_some() && open.goose_test_plan().is_none());
}

#[test]
fn placeholders_are_found_and_unbound_ones_named() {
    assert_eq!(
        placeholders("a {user} {n} {x_1} {not one} {} {"),
        vec!["user", "n", "x_1"]
    );
    let text = "name = \"x\"\n[[transactions]]\nname = \"t\"\nweight = 1\n\
                path = \"/c/{id}\"\nbody = { q = \"{written} {user}\" }\n\
                [profiles.smoke]\nusers = 1\nduration = \"5s\"\n";
    let s = Scenario::parse(text, Path::new("x.toml")).expect("parses");
    assert_eq!(
        s.unbound(&["written".into()]),
        vec![("transactions[0] (t).path".to_owned(), "id".to_owned())]
    );
}

#[test]
fn open_profiles_need_a_rate_and_refuse_users() {
    let parse = |profile: &str| {
        let text = format!(
            "name = \"x\"\n[[transactions]]\nname = \"t\"\nweight = 1\npath = \"/\"\n\
             [profiles.p]\n{profile}\n"
        );
        Scenario::parse(&text, Path::new("o.toml")).map_err(|e| e.to_string())
    };
    assert!(parse("model = \"open\"\nrate = 5\nduration = \"5s\"").is_ok());
    let e = parse("model = \"open\"\nduration = \"5s\"").unwrap_err();
    assert!(e.contains("profiles.p.rate"), "{e}");
    let e = parse("model = \"open\"\nrate = 5\nusers = 3\nduration = \"5s\"").unwrap_err();
    assert!(e.contains("profiles.p.users"), "{e}");
    let e = parse("rate = 5\nusers = 3\nduration = \"5s\"").unwrap_err();
    assert!(e.contains("profiles.p.rate") && e.contains("open"), "{e}");
    let e = parse("model = \"open\"\nstages = [{ rate = 0, ramp = \"1s\", hold = \"1s\" }]")
        .unwrap_err();
    assert!(e.contains("profiles.p.stages[0]"), "{e}");
}
