//! `certificate.json`: what `harness certify` found, case by case, with the digests
//! that let `harness certify verify` tell whether the file was altered.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::MachineInfo;

/// Bumped on any change that an older reader would misread.
pub const CERTIFICATE_SCHEMA_VERSION: u32 = 1;

/// A contract clause's level (sut/CONTRACT.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Required to conform.
    Must,
    /// Expected; scored, but never what withholds a certificate.
    Should,
    /// A figure recorded for comparison (capacity at budget), never a verdict: its case
    /// reads INFORMATIONAL when it could be measured.
    Info,
}

impl Level {
    /// `MUST`, `SHOULD` or `INFO`, as the contract writes it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Info => "INFO",
        }
    }
}

/// How one case came out. The order is the rank used when verdicts combine: a later
/// variant outranks an earlier one, so FAIL outranks ERROR, which outranks the rest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// A figure recorded for comparison, not judged (capacity at budget).
    Informational,
    /// An optional part is absent.
    Unimplemented,
    /// Not run: the mode cannot judge it (black-box), or it was not selected.
    NotRun,
    /// Left out on purpose with `--exclude`, with the reason recorded.
    Excluded,
    /// A SHOULD clause was not met.
    NonStrict,
    /// The harness could not judge: the environment failed, or the case timed out.
    Error,
    /// A MUST clause was broken.
    Fail,
}

impl Verdict {
    /// The worst of several verdicts (PASS when there are none).
    ///
    /// ```
    /// use harness_results::certificate::Verdict;
    /// assert_eq!(Verdict::worst([Verdict::Error, Verdict::Fail]), Verdict::Fail);
    /// assert_eq!(Verdict::worst([Verdict::Pass, Verdict::Error]), Verdict::Error);
    /// ```
    pub fn worst(all: impl IntoIterator<Item = Verdict>) -> Verdict {
        all.into_iter().max().unwrap_or(Verdict::Pass)
    }

    /// The upper-case name the reports print.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::NotRun => "NOT_RUN",
            Verdict::Excluded => "EXCLUDED",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Error => "ERROR",
            Verdict::Fail => "FAIL",
        }
    }
}

/// `quick` (shortened resilience timers, for CI) or `full` (the seeds' timers; the level
/// a certificate is issued at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CertLevel {
    /// The contract's timer overrides (CFG-5) shorten breaker and LLM timeouts.
    Quick,
    /// The seeds' timers.
    Full,
}

impl CertLevel {
    /// `quick` or `full`, as the flag takes it.
    pub fn name(self) -> &'static str {
        match self {
            CertLevel::Quick => "quick",
            CertLevel::Full => "full",
        }
    }
}

/// How the subject was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectMode {
    /// Started by the harness with the contract's environment (`--sut-cmd`, or the
    /// reference): every case can run.
    Managed,
    /// Already running (`--sut-url`): only cases that need no environment control run,
    /// and the result is never CERTIFIED.
    BlackBox,
}

impl SubjectMode {
    /// `managed` or `black-box`.
    pub fn name(self) -> &'static str {
        match self {
            SubjectMode::Managed => "managed",
            SubjectMode::BlackBox => "black-box",
        }
    }
}

/// The whole run's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertOutcome {
    /// No MUST case failed, erred, was excluded or was not run.
    Certified,
    /// Something withheld the certificate; `reasons` says what.
    NotCertified,
}

impl CertOutcome {
    /// `CERTIFIED` or `NOT CERTIFIED`, as the reports print it.
    pub fn label(self) -> &'static str {
        match self {
            CertOutcome::Certified => "CERTIFIED",
            CertOutcome::NotCertified => "NOT CERTIFIED",
        }
    }
}

/// What the vendor says the subject is (`--product product.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Who makes it.
    pub vendor: String,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where to read about it.
    #[serde(default)]
    pub url: String,
    /// Whom to ask.
    #[serde(default)]
    pub contact: String,
}

/// The subject under certification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Subject {
    /// Managed or black-box.
    pub mode: SubjectMode,
    /// The command line, or the URL.
    pub target: String,
    /// SHA-256 of the binary the command starts, when one could be found.
    pub binary_sha256: Option<String>,
    /// The product metadata.
    pub product: Product,
}

/// Where the run happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CertEnvironment {
    /// `docker`, `native`, or none in black-box mode.
    pub backend: Option<String>,
    /// The machine, with the versions of the harness and of the services it started.
    pub machine: MachineInfo,
}

/// One contract clause, as the catalogue holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClauseRef {
    /// The stable ID, e.g. `AUTH-2`.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// The seed reference, e.g. `002 §3.2`.
    pub seed: String,
    /// The clause's text.
    pub text: String,
    /// The worst verdict of the cases that judge it.
    pub verdict: Verdict,
    /// Those cases' IDs.
    pub cases: Vec<String>,
}

/// One HTTP exchange, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The URL.
    pub url: String,
    /// Request headers, secrets masked.
    pub request_headers: Vec<(String, String)>,
    /// The request body, cut to a readable size.
    pub request_body: String,
    /// The status, or none when no answer came.
    pub status: Option<u16>,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// The response body, cut to a readable size; or what went wrong.
    pub response_body: String,
    /// Milliseconds from send to the whole body.
    pub elapsed_ms: f64,
    /// A `curl` command that sends the same request (token masked).
    pub curl: String,
}

/// A figure measured against its limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measure {
    /// What was measured.
    pub name: String,
    /// The figure.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The limit it was held to, if any.
    pub limit: Option<String>,
}

/// One case's verdict on one clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClauseJudgement {
    /// The clause's ID.
    pub clause: String,
    /// FAIL (NON-STRICT for a SHOULD) when a check of this clause did not hold; PASS
    /// when every check of it ran and held; NOT_RUN when a failed check of another
    /// clause ended the case first; ERROR when the harness could not judge.
    pub verdict: Verdict,
    /// Each check of this clause that did not hold, with what was observed.
    pub observed: Vec<String>,
    /// Why it was not judged, for NOT_RUN and ERROR.
    pub reason: Option<String>,
}

/// One case of the catalogue and how it came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseResult {
    /// The case's ID.
    pub id: String,
    /// The clauses it judges.
    pub clauses: Vec<String>,
    /// The highest level among them.
    pub level: Level,
    /// What the contract expects.
    pub expectation: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The clauses a FAIL or NON-STRICT is charged to: the clauses whose own checks
    /// did not hold.
    #[serde(default)]
    pub failed_clauses: Vec<String>,
    /// The verdict on each clause the case judged (and on any other it charged), each
    /// with its own evidence: a failure of one clause says nothing of another.
    #[serde(default)]
    pub clause_verdicts: Vec<ClauseJudgement>,
    /// What was observed (for a failure: each expectation that did not hold).
    pub observed: String,
    /// Why it was not run or excluded.
    pub reason: Option<String>,
    /// The exchanges, in order.
    pub transcript: Vec<Exchange>,
    /// Figures against their limits.
    pub measures: Vec<Measure>,
    /// Seconds the case took.
    pub duration_s: f64,
    /// The command line that runs this case alone.
    pub reproduce: String,
}

/// The digests that make alteration detectable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Digests {
    /// SHA-256 over the clause catalogue (clauses and the cases that judge them).
    pub catalogue_sha256: String,
    /// SHA-256 over the canonical JSON of `outcome`, `clauses` and `cases`.
    pub results_sha256: String,
}

/// `certificate.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Certificate {
    /// [`CERTIFICATE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The harness version, which is the suite version.
    pub suite_version: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// Quick or full.
    pub level: CertLevel,
    /// What was certified.
    pub subject: Subject,
    /// Where.
    pub environment: CertEnvironment,
    /// Cases in the catalogue.
    pub expected_cases: usize,
    /// Cases that ran (neither not run nor excluded).
    pub cases_run: usize,
    /// The result.
    pub outcome: CertOutcome,
    /// What withheld the certificate, one line each.
    pub reasons: Vec<String>,
    /// Every MUST and SHOULD clause.
    pub clauses: Vec<ClauseRef>,
    /// Every case.
    pub cases: Vec<CaseResult>,
    /// The digests.
    pub digests: Digests,
}

impl Certificate {
    /// The exit code: 0 certified, 1 not.
    pub fn exit_code(&self) -> u8 {
        match self.outcome {
            CertOutcome::Certified => crate::exit::SUCCESS,
            CertOutcome::NotCertified => crate::exit::BUDGET_FAILED,
        }
    }
}
