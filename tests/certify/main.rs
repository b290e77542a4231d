//! `harness certify`, end to end: the catalogue covers the contract, the reference is
//! CERTIFIED, each deliberately broken build fails exactly the clauses it breaks, a
//! black-box run never certifies, and `--list`, `--case`, `--exclude` and `verify` do
//! what they say. Everything runs for real: Postgres, Redis, the fault layer, the LLM
//! fake and the subject as a process.

mod defects;
mod helpers;
mod runs;
#[path = "../support/mod.rs"]
mod support;

use harness::certify::cases;
use harness::certify::catalogue::Catalogue;

/// Every MUST and SHOULD clause has a case, and every case judges a clause.
#[test]
fn every_clause_has_a_case_and_every_case_a_clause() {
    let catalogue = Catalogue::built_in().expect("sut/CONTRACT.md parses");
    assert!(catalogue.clauses.len() >= 60, "{}", catalogue.clauses.len());
    for clause in &catalogue.clauses {
        assert!(!clause.cases.is_empty(), "{} has no case", clause.id);
        for case in &clause.cases {
            assert!(
                cases::find(case).is_some(),
                "{} names case {case}, which does not exist",
                clause.id
            );
        }
    }
    let judged = catalogue.cases();
    for case in cases::ALL.iter() {
        assert!(
            judged.contains_key(&case.id),
            "case {} judges no clause of sut/CONTRACT.md",
            case.id
        );
    }
    let mut ids: Vec<&str> = cases::ALL.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), cases::ALL.len(), "a case ID appears twice");
}

/// The contract's other references are real too: `reference::` tests in
/// tests/reference and `sut/src/…` unit tests, so the document claims no check that is
/// not there.
#[test]
fn the_contract_names_only_real_tests() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read =
        |path: String| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Every file of the reference suite: its tests live in main.rs and its modules.
    let reference: String = std::fs::read_dir(format!("{root}/tests/reference"))
        .expect("tests/reference")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| read(p.display().to_string()))
        .collect();
    let doc = read(format!("{root}/sut/CONTRACT.md"));
    let mut checked = 0;
    for row in doc
        .lines()
        .filter(|l| l.starts_with("| ") && (l.contains(" MUST ") || l.contains(" SHOULD ")))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let id = cells[1];
        for r in cells[cells.len() - 2].split(", ") {
            let r = r.trim_matches('`');
            if r.starts_with("sut::") {
                continue; // a certify case: the test above.
            } else if let Some(name) = r.strip_prefix("reference::") {
                assert!(
                    reference.contains(&format!("fn {name}()")),
                    "{id}: no test {r}"
                );
            } else if let Some(rest) = r.strip_prefix("sut/src/") {
                let mut parts = rest.split("` `");
                let file = parts.next().unwrap_or("");
                let src = read(format!("{root}/sut/src/{file}"));
                if let Some(name) = parts.next() {
                    assert!(
                        src.contains(&format!("fn {name}()")),
                        "{id}: no test {name} in {file}"
                    );
                }
            } else {
                panic!("{id}: '{r}' is not a test reference");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} references parsed");
}
