//! Every check of every case names the clause it judges, and a clause that case judges.
//! The check macros take the clause as an argument, so the compiler sees that one is
//! given; this reads the cases' sources to see which: a literal must be a clause the
//! catalogue lists for the enclosing case (or READY-1, which any case that starts its
//! own instance may charge when it does not get ready), and anything else must be a
//! plain name or call (a helper's `clause` parameter, `granted(status)`), whose literals
//! the cases calling it pass.

use crate::certify::catalogue::Catalogue;

/// The case sources, by file name.
const SOURCES: [(&str, &str); 9] = [
    ("access.rs", include_str!("access.rs")),
    ("chat.rs", include_str!("chat.rs")),
    ("faults.rs", include_str!("faults.rs")),
    ("findings.rs", include_str!("findings.rs")),
    ("jobs.rs", include_str!("jobs.rs")),
    ("lifecycle.rs", include_str!("lifecycle.rs")),
    ("llm.rs", include_str!("llm.rs")),
    ("metrics.rs", include_str!("metrics.rs")),
    ("timing.rs", include_str!("timing.rs")),
];

/// A check's opening and which of its arguments (from 0) names the clause.
const CHECKS: [(&str, usize); 10] = [
    ("ensure!(", 0),
    ("ensure_eq!(", 0),
    ("ensure_ne!(", 0),
    ("check!(", 1),
    ("check_eq!(", 1),
    (".or_fail(", 0),
    ("CaseError::fail(", 0),
    (".broke(", 0),
    ("openapi::check(", 0),
    ("openapi::check_as(", 1),
];

/// Any case may charge this: an instance it started did not get ready.
const ANY_CASE: &str = "READY-1";

/// The top-level arguments of the call whose `(` ends at `open`.
fn arguments(src: &str, open: usize) -> Vec<String> {
    let (mut depth, mut args, mut cur, mut in_str) = (0usize, Vec::new(), String::new(), false);
    let mut chars = src[open..].chars();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => in_str = !in_str,
            '\\' if in_str => {
                cur.push(ch);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => {
                if depth == 0 {
                    args.push(cur.trim().to_owned());
                    return args;
                }
                depth -= 1;
            }
            ',' if !in_str && depth == 0 => {
                args.push(cur.trim().to_owned());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    args
}

/// The name of the top-level function that holds byte `at`.
fn enclosing(src: &str, at: usize) -> &str {
    src[..at]
        .match_indices("\nfn ")
        .chain(src[..at].match_indices("\nasync fn "))
        .chain(src[..at].match_indices("\npub async fn "))
        .chain(src[..at].match_indices("\npub fn "))
        .chain(src[..at].match_indices("\npub(super) fn "))
        .max_by_key(|(i, _)| *i)
        .map(|(i, m)| {
            let rest = &src[i + m.len()..];
            &rest[..rest.find(['(', '<']).unwrap_or(0)]
        })
        .unwrap_or("")
}

/// What is wrong with each check of `src` (file `file`), given which clauses each case
/// judges.
fn unnamed(
    file: &str,
    src: &str,
    cases: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (opening, arg) in CHECKS {
        for (at, _) in src.match_indices(opening) {
            // `macro_rules!` and `use` lines are not checks.
            let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
            let line = &src[line_start..at];
            if line.trim_start().starts_with("//") {
                continue;
            }
            let args = arguments(src, at + opening.len());
            let func = enclosing(src, at);
            let lineno = src[..at].lines().count();
            let Some(named) = args.get(arg) else {
                wrong.push(format!(
                    "{file}:{lineno} {opening}…) in {func} has no clause argument"
                ));
                continue;
            };
            if let Some(id) = named.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
                let judged = cases.get(func);
                let ok = id == ANY_CASE || judged.is_some_and(|c| c.iter().any(|c| c == id));
                if !ok {
                    wrong.push(format!(
                        "{file}:{lineno} {opening}\"{id}\", …) in {func}: the catalogue lists {judged:?} for it"
                    ));
                }
            } else if named.is_empty()
                || !named
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_()&.".contains(c))
            {
                wrong.push(format!(
                    "{file}:{lineno} {opening}…) in {func} names no clause: its argument is `{named}`"
                ));
            }
        }
    }
    wrong
}

#[test]
fn every_check_names_a_clause_its_case_judges() {
    let catalogue = Catalogue::built_in().expect("the contract parses");
    let cases = catalogue.cases();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for (file, src) in SOURCES {
        seen += CHECKS
            .iter()
            .map(|(o, _)| src.matches(o).count())
            .sum::<usize>();
        wrong.extend(unnamed(file, src, &cases));
    }
    assert!(
        seen > 150,
        "only {seen} checks found: has the scan lost them?"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_check_that_names_no_clause_or_another_cases_is_caught() {
    let catalogue = Catalogue::built_in().expect("the contract parses");
    let cases = catalogue.cases();
    let src = "\npub async fn jwt_attacks_get_401_or_403(app: &Ctx) -> CaseResult {\n\
               ensure!(s == 401, \"status\");\n\
               check_eq!(app, \"LIM-3\", s, 401, \"x\");\n\
               ensure_eq!(\"AUTH-2\", s, 401);\n}\n";
    let wrong = unnamed("t.rs", src, &cases);
    assert_eq!(wrong.len(), 2, "{wrong:?}");
    assert!(
        wrong[0].contains("names no clause: its argument is `s == 401`"),
        "{wrong:?}"
    );
    assert!(wrong[1].contains("\"LIM-3\""), "{wrong:?}");
}
