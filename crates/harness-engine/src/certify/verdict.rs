//! How case outcomes become verdicts, clause verdicts and the certificate's outcome, and
//! the digests that make an edited certificate detectable. Pure functions.

use sha2::{Digest, Sha256};

use super::catalogue::Catalogue;
use super::run::{Ended, Ran};
use crate::results::certificate::{
    CaseResult, CertOutcome, Certificate, ClauseJudgement, ClauseRef, Level, SubjectMode, Verdict,
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

/// The verdict on each clause of a case (`clauses`, the catalogue's list for it) and
/// on any other clause its checks charged. A clause is FAIL (NON-STRICT when it is not
/// a MUST) when a check of it did not hold, whatever happened to the others.
pub fn judgements(
    catalogue: &Catalogue,
    clauses: &[String],
    status: &Status,
) -> Vec<ClauseJudgement> {
    let judgement = |clause: &str, verdict, observed, reason| ClauseJudgement {
        clause: clause.to_owned(),
        verdict,
        observed,
        reason,
    };
    let r = match status {
        Status::Ran(r) => r,
        Status::NotRun(why) | Status::Excluded(why) => {
            let v = match status {
                Status::NotRun(_) => Verdict::NotRun,
                _ => Verdict::Excluded,
            };
            return clauses
                .iter()
                .map(|c| judgement(c, v, Vec::new(), Some(why.clone())))
                .collect();
        }
    };
    let mut ids: Vec<&str> = clauses.iter().map(String::as_str).collect();
    for c in &r.charged {
        if !ids.contains(&c.clause.as_str()) {
            ids.push(&c.clause);
        }
    }
    ids.into_iter()
        .map(|id| {
            let Some(level) = catalogue.clause(id).map(|c| c.level) else {
                return judgement(
                    id,
                    Verdict::Error,
                    Vec::new(),
                    Some(format!("a check named clause {id}, which sut/CONTRACT.md does not have")),
                );
            };
            let observed: Vec<String> = r
                .charged
                .iter()
                .filter(|c| c.clause == id)
                .map(|c| c.why.clone())
                .collect();
            if !observed.is_empty() {
                let v = if level == Level::Must {
                    Verdict::Fail
                } else {
                    Verdict::NonStrict
                };
                return judgement(id, v, observed, None);
            }
            let held = if level == Level::Info {
                Verdict::Informational
            } else {
                Verdict::Pass
            };
            match (&r.outcome, &r.stopped_by) {
                (Ok(()), _) => judgement(id, held, observed, None),
                (Err(Ended::Error(why)), _) => {
                    judgement(id, Verdict::Error, observed, Some(why.clone()))
                }
                (Err(Ended::Unimplemented(why)), _) => {
                    judgement(id, Verdict::Unimplemented, observed, Some(why.clone()))
                }
                (Err(Ended::Fail(_)), Some(by)) => judgement(
                    id,
                    Verdict::NotRun,
                    observed,
                    Some(format!(
                        "not fully judged: the case ended when a check of {by} did not hold, before the checks after it"
                    )),
                ),
                (Err(Ended::Fail(_)), None) => judgement(id, held, observed, None),
            }
        })
        .collect()
}

/// A case's verdict: the worst of its clauses' ([`judgements`]), so FAIL when any MUST
/// clause was charged, NON-STRICT when only SHOULD clauses were.
pub fn case_verdict(judgements: &[ClauseJudgement], status: &Status) -> Verdict {
    match status {
        Status::NotRun(_) => Verdict::NotRun,
        Status::Excluded(_) => Verdict::Excluded,
        Status::Ran(_) => Verdict::worst(judgements.iter().map(|j| j.verdict)),
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
            // Each case's verdict on this clause alone: a failure charged to another
            // clause of the case says nothing against this one.
            let verdicts = cases.iter().filter_map(|r| {
                match r.clause_verdicts.iter().find(|j| j.clause == c.id) {
                    Some(j) => Some(j.verdict),
                    None => c.cases.contains(&r.id).then_some(r.verdict),
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
mod tests;
