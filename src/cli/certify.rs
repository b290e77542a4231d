//! `harness certify` and `harness certify verify`: flags, `--list`, progress lines and
//! the summary.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{EnvArgs, SubjectArgs};
use super::CliError;
use crate::certify::cases;
use crate::certify::catalogue::Catalogue;
use crate::certify::verify::verify;
use crate::commands::certify::{self, CertifyOptions};
use crate::exit::Outcome;
use crate::plan::EnvOptions;
use crate::results::certificate::{CaseResult, CertLevel, CertOutcome, Certificate, Verdict};
use crate::session::error_chain;

/// `harness certify`'s flags.
#[derive(Debug, Args)]
pub struct CertifyArgs {
    /// Check a certificate instead of making one.
    #[command(subcommand)]
    pub action: Option<CertifyAction>,
    /// The subject: the reference (built), a command started with the contract's
    /// environment, or a running URL (black-box: never CERTIFIED).
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// quick: the contract's timer overrides (CFG-5) shorten the resilience timers and
    /// the load profiles are short (about 9 minutes); full: the seeds' timers, the `ci`
    /// profiles and the capacity at budget (about an hour). Certificates are issued at full.
    #[arg(long, default_value = "quick", value_parser = level)]
    pub level: CertLevel,
    /// Run only this case (repeatable); the others are recorded as not run.
    #[arg(long = "case", value_name = "ID")]
    pub cases: Vec<String>,
    /// Leave this case out, recorded with its --reason (repeatable, one reason each).
    /// Excluding a case of a MUST clause means no certificate.
    #[arg(long, value_name = "ID")]
    pub exclude: Vec<String>,
    /// Why the --exclude in the same position is left out.
    #[arg(long = "reason", value_name = "TEXT")]
    pub reasons: Vec<String>,
    /// The product: a TOML file with vendor, name, version, and optionally url and contact.
    #[arg(long, value_name = "FILE")]
    pub product: Option<PathBuf>,
    /// Print every case with its clauses, level and needs, and run nothing.
    #[arg(long)]
    pub list: bool,
    /// Cases run at once, each in its own environment.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Where reports/<run-id>/ go.
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// No line per case; only the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
}

/// `harness certify`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum CertifyAction {
    /// Recompute a certificate's digests: exit 0 when intact, 1 when altered or judged
    /// against another catalogue, 2 when it cannot be read.
    Verify {
        /// The certificate.json to check.
        file: PathBuf,
    },
}

/// A `--level` that is not one.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not a level (quick, full)")]
pub struct LevelError(String);

fn level(v: &str) -> Result<CertLevel, LevelError> {
    match v {
        "quick" => Ok(CertLevel::Quick),
        "full" => Ok(CertLevel::Full),
        other => Err(LevelError(other.to_owned())),
    }
}

/// Runs `harness certify`.
pub async fn certify(args: CertifyArgs) -> Result<Outcome, CliError> {
    if let Some(CertifyAction::Verify { file }) = &args.action {
        return verify_file(file);
    }
    if args.list {
        return list();
    }
    let quiet = args.quiet;
    let plan = CertifyOptions {
        sut_cmd: args.subject.sut_cmd,
        sut_url: args.subject.sut_url,
        jwt_secret: args.subject.start.jwt_secret,
        sut_build: args.subject.start.sut_build,
        ready_timeout: args.subject.start.ready_timeout,
        level: args.level,
        cases: args.cases,
        exclude: args.exclude,
        reasons: args.reasons,
        product: args.product,
        reports: args.reports,
        jobs: args.jobs,
        env: EnvOptions::from(args.env),
    }
    .into_plan()?;
    let each = |r: &CaseResult| {
        if !quiet && !matches!(r.verdict, Verdict::NotRun) {
            eprintln!("{}", case_line(r));
        }
    };
    match certify::certify(&plan, &each).await {
        Ok(done) => {
            super::save_load_log("certify", &done.dir);
            summary(&done.certificate, &done.dir)?;
            Ok(match done.certificate.outcome {
                CertOutcome::Certified => Outcome::Passed,
                CertOutcome::NotCertified => Outcome::Failed,
            })
        }
        Err(e) => {
            eprintln!("harness certify: {}", error_chain(&e));
            Ok(Outcome::Error)
        }
    }
}

/// One line per finished case.
pub fn case_line(r: &CaseResult) -> String {
    let mut line = format!(
        "{:<13} {:<62} {:>6.1}s  {}",
        r.verdict.label(),
        r.id,
        r.duration_s,
        r.clauses.join(",")
    );
    if !matches!(r.verdict, Verdict::Pass) {
        let why = r.reason.as_deref().unwrap_or(&r.observed);
        let short: String = why.chars().take(200).collect();
        line.push_str(&format!("\n              {}", short.replace('\n', " ")));
    }
    line
}

fn summary(c: &Certificate, dir: &std::path::Path) -> Result<(), CliError> {
    std::io::stdout()
        .lock()
        .write_all(summary_text(c, dir).as_bytes())?;
    Ok(())
}

/// The lines printed after a run: the outcome, the clause counts, what withheld the
/// certificate, and where it is.
fn summary_text(c: &Certificate, dir: &std::path::Path) -> String {
    let outcome = c.outcome.label();
    let count = |v: Verdict| c.clauses.iter().filter(|cl| cl.verdict == v).count();
    let mut out = format!(
        "harness certify: {outcome}\nclauses: {} pass, {} fail, {} error, {} non-strict, {} not run, {} excluded (of {}); cases run {} of {}\n",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Error),
        count(Verdict::NonStrict),
        count(Verdict::NotRun),
        count(Verdict::Excluded),
        c.clauses.len(),
        c.cases_run,
        c.expected_cases
    );
    for r in &c.reasons {
        out.push_str(&format!("  {r}\n"));
    }
    out.push_str(&format!(
        "certificate: {}\n",
        dir.join("certificate.json").display()
    ));
    out
}

fn list() -> Result<Outcome, CliError> {
    let catalogue = Catalogue::built_in()
        .map_err(|e| CliError::Output(std::io::Error::other(e.to_string())))?;
    let judged = catalogue.cases();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<64} {:<6} {:<11} CLAUSES", "CASE", "LEVEL", "NEEDS")?;
    for case in cases::ALL.iter().filter(|c| judged.contains_key(&c.id)) {
        let level = certify::case_level(&catalogue, &judged, &case.id).name();
        let needs = match case.needs {
            cases::Needs::Http => "http",
            cases::Needs::Environment => "environment",
            cases::Needs::Launch => "launch",
        };
        writeln!(
            out,
            "{:<64} {level:<6} {needs:<11} {}",
            case.id,
            judged
                .get(&case.id)
                .map(|c| c.join(","))
                .unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "{} cases judge {} clauses (catalogue SHA-256 {})",
        judged.len(),
        catalogue.clauses.len(),
        catalogue.sha256()
    )?;
    Ok(Outcome::Passed)
}

fn verify_file(file: &std::path::Path) -> Result<Outcome, CliError> {
    let read = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Certificate>(&t).map_err(|e| e.to_string()));
    let cert = match read {
        Ok(c) => c,
        Err(why) => {
            eprintln!("harness certify verify: {}: {why}", file.display());
            return Ok(Outcome::Error);
        }
    };
    let catalogue = Catalogue::built_in()
        .map_err(|e| CliError::Output(std::io::Error::other(e.to_string())))?;
    let v = verify(&cert, &catalogue);
    let mut out = std::io::stdout().lock();
    if v.results_intact {
        writeln!(
            out,
            "{}: results digest matches ({})",
            file.display(),
            cert.digests.results_sha256
        )?;
    } else {
        writeln!(
            out,
            "{}: ALTERED: the results digest is {}, the file says {}",
            file.display(),
            v.recomputed,
            cert.digests.results_sha256
        )?;
    }
    if !v.same_catalogue {
        writeln!(
            out,
            "{}: judged against another catalogue ({}), not this harness's ({})",
            file.display(),
            cert.digests.catalogue_sha256,
            catalogue.sha256()
        )?;
    }
    Ok(if v.ok() {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::certify::report::tests::sample;

    #[test]
    fn summary_snapshot() {
        let dir = std::path::Path::new("reports/20261126T150000Z-certify-quick");
        insta::assert_snapshot!(summary_text(&sample(), dir));
    }

    #[test]
    fn case_lines_snapshot() {
        let lines: Vec<String> = sample().cases.iter().map(case_line).collect();
        insta::assert_snapshot!(lines.join("\n"));
    }
}
