//! How case outcomes become verdicts, clause verdicts and the certificate's outcome, and
//! the digests that make an edited certificate detectable. Pure functions.

use sha2::{Digest, Sha256};

use super::catalogue::Catalogue;
use super::run::{Ended, Ran};
use crate::results::certificate::{
    CaseResult, CertOutcome, Certificate, ClauseRef, Level, SubjectMode, Verdict,
};

/// What happened to one case of the catalogue.
#[derive(Debug, Clone)]
pub enum Status {
    /// It ran.
    Ran(Ran),
    /// It could not run in this mode, or was not selected; the reason says which.
    NotRun(String),
    /// `--exclude`, with the reason given.
    Excluded(String),
}

/// A case's verdict: a broken expectation is FAIL when it is charged to a MUST clause,
/// NON-STRICT when only to SHOULD clauses. `level` is the highest level among the
/// clauses the failure is charged to.
pub fn case_verdict(level: Level, status: &Status) -> Verdict {
    match status {
        Status::Ran(r) => match &r.outcome {
            Ok(()) if level == Level::Info => Verdict::Informational,
            Ok(()) => Verdict::Pass,
            Err(Ended::Fail(_)) if level == Level::Must => Verdict::Fail,
            Err(Ended::Fail(_)) => Verdict::NonStrict,
            Err(Ended::Error(_)) => Verdict::Error,
        },
        Status::NotRun(_) => Verdict::NotRun,
        Status::Excluded(_) => Verdict::Excluded,
    }
}

/// A clause's verdict from its cases' verdicts. A SHOULD clause is never FAIL: what
/// would fail it is NON-STRICT.
pub fn clause_verdict(level: Level, cases: impl IntoIterator<Item = Verdict>) -> Verdict {
    let worst = Verdict::worst(cases);
    match (level, worst) {
        (Level::Should | Level::Info, Verdict::Fail) => Verdict::NonStrict,
        (Level::Must, Verdict::NonStrict) => Verdict::Fail,
        (_, v) => v,
    }
}

/// The outcome and the reasons that withhold a certificate: a black-box run, or any
/// MUST clause that failed, erred, or whose case was excluded or not run.
pub fn outcome(mode: SubjectMode, clauses: &[ClauseRef]) -> (CertOutcome, Vec<String>) {
    let mut reasons = Vec::new();
    if mode == SubjectMode::BlackBox {
        reasons.push("not certifiable in black-box mode: --sut-url runs only the cases that need no environment".to_owned());
    }
    for c in clauses.iter().filter(|c| c.level == Level::Must) {
        let why = match c.verdict {
            Verdict::Fail => "failed",
            Verdict::Error => "could not be judged (ERROR)",
            Verdict::Excluded => "has an excluded case",
            Verdict::NotRun => "was not run",
            _ => continue,
        };
        reasons.push(format!("MUST clause {} {why}", c.id));
    }
    let outcome = if reasons.is_empty() {
        CertOutcome::Certified
    } else {
        CertOutcome::NotCertified
    };
    (outcome, reasons)
}

/// The clause table of a certificate from its case results.
pub fn clauses(catalogue: &Catalogue, cases: &[CaseResult]) -> Vec<ClauseRef> {
    catalogue
        .clauses
        .iter()
        .map(|c| {
            // A failure charged to other clauses of the case says nothing against this one.
            let verdicts = cases.iter().filter(|r| c.cases.contains(&r.id)).map(|r| {
                let failed = matches!(r.verdict, Verdict::Fail | Verdict::NonStrict);
                if failed && !r.failed_clauses.contains(&c.id) {
                    Verdict::Pass
                } else {
                    r.verdict
                }
            });
            ClauseRef {
                id: c.id.clone(),
                level: c.level,
                seed: c.seed.clone(),
                text: c.text.clone(),
                verdict: clause_verdict(c.level, verdicts),
                cases: c.cases.clone(),
            }
        })
        .collect()
}

/// SHA-256 (hex) over the certificate's canonical JSON with its results digest left
/// blank: any edit to a verdict, a figure, the subject or the catalogue digest shows.
pub fn results_sha256(cert: &Certificate) -> String {
    let mut blank = cert.clone();
    blank.digests.results_sha256 = String::new();
    // serde_json's maps are sorted, so this text is canonical.
    let value = serde_json::to_value(&blank).unwrap_or_default();
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(outcome: Result<(), Ended>) -> Status {
        Status::Ran(Ran {
            outcome,
            transcript: vec![],
            measures: vec![],
            duration_s: 0.0,
            charged: None,
            versions: Default::default(),
        })
    }

    #[test]
    fn a_broken_should_is_non_strict_and_a_broken_must_fails() {
        let fail = ran(Err(Ended::Fail("x".into())));
        assert_eq!(case_verdict(Level::Must, &fail), Verdict::Fail);
        assert_eq!(case_verdict(Level::Should, &fail), Verdict::NonStrict);
        assert_eq!(case_verdict(Level::Must, &ran(Ok(()))), Verdict::Pass);
        let error = ran(Err(Ended::Error("x".into())));
        assert_eq!(case_verdict(Level::Should, &error), Verdict::Error);
    }

    #[test]
    fn an_info_figure_is_informational_when_measured_and_error_when_not() {
        use Verdict::*;
        assert_eq!(case_verdict(Level::Info, &ran(Ok(()))), Informational);
        let error = ran(Err(Ended::Error("x".into())));
        assert_eq!(case_verdict(Level::Info, &error), Error);
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
}
