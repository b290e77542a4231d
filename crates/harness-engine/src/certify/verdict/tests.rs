use super::*;

use crate::certify::run::Charge;

/// A contract of a MUST, a SHOULD and an INFO clause, all judged by case `c`.
fn catalogue() -> Catalogue {
    Catalogue::parse(
        "| A-1 | MUST | a | — | `sut::c` |\n| A-2 | SHOULD | b | — | `sut::c` |\n| I-1 | INFO | i | — | `sut::c` |\n",
    )
    .expect("parses")
}

fn ran(outcome: Result<(), Ended>, charged: &[(&str, &str)], stopped_by: Option<&str>) -> Status {
    Status::Ran(Ran {
        outcome,
        transcript: vec![],
        measures: vec![],
        duration_s: 0.0,
        charged: charged.iter().map(|(c, w)| Charge::new(*c, *w)).collect(),
        stopped_by: stopped_by.map(str::to_owned),
        versions: Default::default(),
    })
}

/// The verdicts of case `c` on, I-1 and any other clause, in that order.
fn judged(status: &Status) -> Vec<(String, Verdict)> {
    let clauses = ["A-1", "A-2", "I-1"].map(String::from);
    judgements(&catalogue(), &clauses, status)
        .into_iter()
        .map(|j| (j.clause, j.verdict))
        .collect()
}

fn v(pairs: &[(&str, Verdict)]) -> Vec<(String, Verdict)> {
    pairs.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect()
}

#[test]
fn a_broken_should_is_non_strict_and_a_broken_must_fails_each_alone() {
    use Verdict::*;
    let fail = Err(Ended::Fail("x".into()));
    let must = ran(fail.clone(), &[("A-1", "x")], None);
    assert_eq!(
        judged(&must),
        v(&[("A-1", Fail), ("A-2", Pass), ("I-1", Informational)])
    );
    let should = ran(fail, &[("A-2", "x")], None);
    assert_eq!(
        judged(&should),
        v(&[("A-1", Pass), ("A-2", NonStrict), ("I-1", Informational)])
    );
    let j = judgements(&catalogue(), &["A-2".into()], &should);
    assert_eq!(case_verdict(&j, &should), NonStrict);
    let clean = ran(Ok(()), &[], None);
    assert_eq!(
        judged(&clean),
        v(&[("A-1", Pass), ("A-2", Pass), ("I-1", Informational)])
    );
}

#[test]
fn two_clauses_broken_in_one_case_are_both_charged_with_their_own_evidence() {
    let status = ran(
        Err(Ended::Fail("x".into())),
        &[("A-1", "no close"), ("A-2", "422")],
        None,
    );
    let j = judgements(&catalogue(), &["A-1".into(), "A-2".into()], &status);
    assert_eq!(j[0].observed, ["no close"]);
    assert_eq!(j[1].observed, ["422"]);
    assert_eq!(case_verdict(&j, &status), Verdict::Fail);
}

#[test]
fn a_check_that_ends_the_case_leaves_the_clauses_it_did_not_judge_not_run() {
    use Verdict::*;
    let status = ran(
        Err(Ended::Fail("x".into())),
        &[("A-2", "no answer")],
        Some("A-2"),
    );
    assert_eq!(
        judged(&status),
        v(&[("A-1", NotRun), ("A-2", NonStrict), ("I-1", NotRun)])
    );
    let j = judgements(&catalogue(), &["A-1".into(), "A-2".into()], &status);
    assert!(
        j[0].reason.as_deref().is_some_and(|r| r.contains("A-2")),
        "{j:?}"
    );
}

#[test]
fn an_error_after_a_charge_keeps_the_charge_and_errs_the_rest() {
    use Verdict::*;
    let status = ran(
        Err(Ended::Error("the fault would not apply".into())),
        &[("A-1", "x")],
        None,
    );
    assert_eq!(
        judged(&status),
        v(&[("A-1", Fail), ("A-2", Error), ("I-1", Error)])
    );
}

#[test]
fn a_charge_to_a_clause_the_contract_lacks_is_an_error_not_a_pass() {
    let status = ran(Err(Ended::Fail("x".into())), &[("Z-9", "x")], None);
    let j = judged(&status);
    assert_eq!(j[3], ("Z-9".to_owned(), Verdict::Error));
}

#[test]
fn a_clause_is_judged_by_each_cases_verdict_on_it_alone() {
    let status = ran(Err(Ended::Fail("x".into())), &[("A-1", "x")], None);
    let clauses = ["A-1", "A-2", "I-1"].map(String::from).to_vec();
    let j = judgements(&catalogue(), &clauses, &status);
    let result = CaseResult {
        id: "c".into(),
        clauses,
        level: Level::Must,
        expectation: String::new(),
        verdict: case_verdict(&j, &status),
        failed_clauses: vec!["A-1".into()],
        clause_verdicts: j,
        observed: String::new(),
        reason: None,
        transcript: vec![],
        measures: vec![],
        duration_s: 0.0,
        reproduce: String::new(),
    };
    let table = clauses_table(&[result]);
    assert_eq!(
        table,
        [Verdict::Fail, Verdict::Pass, Verdict::Informational]
    );
}

fn clauses_table(cases: &[CaseResult]) -> Vec<Verdict> {
    clauses(&catalogue(), cases)
        .into_iter()
        .map(|c| c.verdict)
        .collect()
}

#[test]
fn an_info_figure_is_informational_when_measured_and_error_when_not() {
    use Verdict::*;
    assert_eq!(clause_verdict(Level::Info, [Informational]), Informational);
    let (o, why) = outcome(
        SubjectMode::Managed,
        &[
            clause("A-1", Level::Must, Pass),
            clause("I-1", Level::Info, Error),
        ],
    );
    assert_eq!((o, why.len()), (CertOutcome::Certified, 0), "{why:?}");
}

#[test]
fn fail_outranks_error_which_outranks_the_rest() {
    use Verdict::*;
    assert_eq!(clause_verdict(Level::Must, [Pass, Error, Fail]), Fail);
    assert_eq!(clause_verdict(Level::Must, [Pass, NotRun, Error]), Error);
    assert_eq!(clause_verdict(Level::Should, [Pass, Fail]), NonStrict);
    assert_eq!(clause_verdict(Level::Must, [Pass, Excluded]), Excluded);
    assert_eq!(clause_verdict(Level::Must, [Pass, Pass]), Pass);
}

fn clause(id: &str, level: Level, verdict: Verdict) -> ClauseRef {
    ClauseRef {
        id: id.into(),
        level,
        seed: String::new(),
        text: String::new(),
        verdict,
        cases: vec![],
    }
}

#[test]
fn only_a_clean_managed_run_is_certified() {
    let clean = [
        clause("A-1", Level::Must, Verdict::Pass),
        clause("A-2", Level::Should, Verdict::NonStrict),
    ];
    assert_eq!(
        outcome(SubjectMode::Managed, &clean).0,
        CertOutcome::Certified
    );
    let (o, why) = outcome(SubjectMode::BlackBox, &clean);
    assert_eq!(o, CertOutcome::NotCertified);
    assert!(why[0].contains("not certifiable in black-box mode"));
    for v in [
        Verdict::Fail,
        Verdict::Error,
        Verdict::Excluded,
        Verdict::NotRun,
    ] {
        let (o, why) = outcome(SubjectMode::Managed, &[clause("A-1", Level::Must, v)]);
        assert_eq!(o, CertOutcome::NotCertified, "{v:?}");
        assert!(why[0].starts_with("MUST clause A-1"), "{why:?}");
    }
    let skipped_should = [clause("A-2", Level::Should, Verdict::Excluded)];
    assert_eq!(
        outcome(SubjectMode::Managed, &skipped_should).0,
        CertOutcome::Certified
    );
}

#[test]
fn an_absent_optional_route_is_unimplemented_and_withholds_no_certificate() {
    use Verdict::*;
    let status = ran(
        Err(Ended::Unimplemented(
            "POST /api/chat/stream answers 404".into(),
        )),
        &[],
        None,
    );
    let j = judged(&status);
    assert_eq!(
        j,
        v(&[
            ("A-1", Unimplemented),
            ("A-2", Unimplemented),
            ("I-1", Unimplemented)
        ])
    );
    let all = judgements(&catalogue(), &["A-1".into(), "A-2".into()], &status);
    assert_eq!(case_verdict(&all, &status), Unimplemented);
    let refs: Vec<ClauseRef> = catalogue()
        .clauses
        .iter()
        .map(|c| ClauseRef {
            id: c.id.clone(),
            level: c.level,
            seed: c.seed.clone(),
            text: c.text.clone(),
            verdict: clause_verdict(c.level, [Unimplemented]),
            cases: c.cases.clone(),
        })
        .collect();
    assert_eq!(
        outcome(SubjectMode::Managed, &refs).0,
        CertOutcome::Certified
    );
}
