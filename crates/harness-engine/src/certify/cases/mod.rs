//! Every case of the catalogue: its ID (the name `sut/CONTRACT.md`'s *Checked by* column
//! gives it), what it needs of the harness, the settings it starts the subject with, and
//! the check itself. The checks reach the subject only through HTTP and the contract's
//! environment; `tests/certify` runs them all against the reference.

mod access;
mod chat;
mod faults;
mod findings;
mod jobs;
mod lifecycle;
mod llm;
mod metrics;
#[cfg(test)]
mod named;
pub mod stream;
mod timing;

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use super::check::CaseResult;
use super::ctx::Ctx;
use crate::faults::{matrix, Fault};

/// What a case needs beyond HTTP to the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: it runs against any URL (black-box mode).
    Http,
    /// The harness's environment: faults, the LLM fake, or `SUT_*` settings.
    Environment,
    /// Starting instances of the subject itself (start-up, SIGTERM, logs).
    Launch,
}

impl Needs {
    /// Why a black-box run cannot run such a case.
    pub fn black_box_reason(self) -> Option<&'static str> {
        match self {
            Needs::Http => None,
            Needs::Environment => Some(
                "needs fault injection, the LLM fake or SUT_* settings: not available with --sut-url",
            ),
            Needs::Launch => {
                Some("needs to start the subject itself: not available with --sut-url")
            }
        }
    }
}

/// A check's future.
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = CaseResult> + Send + 'a>>;

/// A check through HTTP and the environment.
pub type CheckFn = for<'a> fn(&'a Ctx) -> CaseFuture<'a>;

/// How a case is judged.
#[derive(Clone)]
pub enum Body {
    /// Checks through HTTP and the contract's environment ([`super::run`]).
    Check(CheckFn),
    /// A load run that the session drives (`harness run` or `harness chaos` in the
    /// case's own environment), judged on its results.
    Load(LoadCase),
}

/// A case judged on the results of a load run.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadCase {
    /// The budgets at the level's named load profile.
    Budgets,
    /// One fault of the chaos matrix: baseline, fault, recovery, scored by the
    /// degradation rules and the time to recover.
    Fault(Fault),
    /// The LLM failing under load while clients abandon a share of their requests
    /// mid-flight, through the fault and its recovery.
    Abandon,
    /// The highest arrival rate of the seed mix at which every budget holds, searched
    /// as `harness capacity` does (`--level full` only): a figure, not a verdict.
    Capacity,
}

/// One case.
pub struct Case {
    /// Its ID.
    pub id: String,
    /// What it needs.
    pub needs: Needs,
    /// `SUT_*` settings it starts the subject with, over the level's.
    pub settings: &'static [(&'static str, &'static str)],
    /// A short statement of what it expects, for `--list` and the evidence.
    pub expects: String,
    /// How it is judged.
    pub body: Body,
}

impl Case {
    /// The load run it is judged on, if it is a load case.
    pub fn load(&self) -> Option<&LoadCase> {
        match &self.body {
            Body::Load(l) => Some(l),
            Body::Check(_) => None,
        }
    }
}

macro_rules! case {
    ($module:ident :: $name:ident, $needs:ident, $settings:expr, $expects:expr) => {
        Case {
            id: stringify!($name).to_owned(),
            needs: Needs::$needs,
            settings: $settings,
            expects: $expects.to_owned(),
            body: Body::Check(|ctx| Box::pin($module::$name(ctx))),
        }
    };
}

/// The case that judges the budgets at the named load profile (PERF-1).
pub const BUDGETS_CASE: &str = "the_budgets_hold_at_the_named_load_profile";

/// The case that holds `Server-Timing` between measured bounds (HDR-4).
pub const TIMING_CASE: &str = "server_timing_is_bounded_by_what_the_harness_measured";

/// How the HDR-4 case's figure of the largest under-report of a bound ends.
pub const UNDER_REPORT: &str = timing::UNDER_REPORT;

/// Every case, in the order a run takes them: the checks, then the load cases (one per
/// fault of the chaos matrix, whose IDs derive from the fault kinds).
pub static ALL: LazyLock<Vec<Case>> = LazyLock::new(|| {
    let mut all = checks();
    all.push(Case {
        id: BUDGETS_CASE.into(),
        // The named profile is the scenario with its `SUT_*` settings and the LLM fake's
        // latency; a running subject has its own LLM and quota, which it would measure.
        needs: Needs::Environment,
        settings: &[],
        expects: "every budget of fixtures/budgets.toml holds under the level's named load profile"
            .into(),
        body: Body::Load(LoadCase::Budgets),
    });
    all.extend(matrix().map(|f| Case {
        id: fault_case_id(&f),
        needs: Needs::Environment,
        settings: &[],
        expects: format!(
            "under '{f}' the service degrades as fixtures/degradation.toml says, is back in its baseline band within the time it gives, and pages on-call as its alert tables say"
        ),
        body: Body::Load(LoadCase::Fault(f)),
    }));
    all.push(Case {
        id: "abandoned_requests_leave_no_stuck_state".into(),
        needs: Needs::Environment,
        settings: &[],
        expects: "with the LLM failing and clients abandoning a share of their requests mid-flight, through the fault and its recovery, the service recovers and the breaker closes".into(),
        body: Body::Load(LoadCase::Abandon),
    });
    all.push(Case {
        id: "capacity_at_budget".into(),
        needs: Needs::Environment,
        settings: &[],
        expects: "the highest arrival rate of the seed mix at which every budget holds, found by harness capacity's search (at --level full; recorded, never a verdict)".into(),
        body: Body::Load(LoadCase::Capacity),
    });
    all
});

/// The ID of the case that runs matrix fault `f`: `degrades_and_recovers_under_` and
/// the fault's kind.
pub fn fault_case_id(f: &Fault) -> String {
    format!("degrades_and_recovers_under_{}", f.kind().replace('-', "_"))
}

fn checks() -> Vec<Case> {
    vec![
    case!(chat::chat_answers_with_the_contract_fields_and_headers, Environment, &[],
        "a chat answer has the contract's fields, headers and Server-Timing names, and the question reaches the LLM"),
    case!(access::jwt_attacks_get_401_or_403, Http, &[],
        "missing, expired, wrongly signed, alg-none, tampered and garbage tokens get 401; a role without the permission gets 403"),
    case!(access::each_role_reaches_what_seed_000_grants_it, Http, &[],
        "viewer, processor, admin, auditor and an unknown role reach exactly what seed 000 grants"),
    case!(chat::decisions_follow_the_accounts_own_figures, Http, &[],
        "a decision question about a good payer proceeds, about a late payer does not, and names its factors"),
    case!(chat::server_timing_names_each_operation_that_ran, Http, &[],
        "Server-Timing names each operation that ran, and only those"),
    case!(chat::a_conversation_is_remembered_for_the_next_question, Http, &[],
        "a later question about the same customer is built from memory"),
    case!(findings::a_result_is_served_only_to_its_owner_for_the_same_content, Http, &[],
        "a cached result goes only to its owner, for the same content"),
    case!(findings::a_job_is_readable_by_its_owner_auditors_and_admins_only, Http, &[],
        "a job answers its owner, auditors and admins; anyone else gets 404 without job fields"),
    case!(findings::bad_input_gets_400_and_no_error_carries_library_text, Http, &[],
        "NUL bytes get 400, and a bad token's 401 says only 'invalid bearer token'"),
    case!(findings::null_is_refused_where_the_spec_does_not_allow_it, Http, &[],
        "null where openapi.yaml does not allow it gets 400"),
    case!(findings::fuzzy_names_resolve_to_their_customer, Http, &[],
        "misspelled names resolve to their customer; a lone shared word does not"),
    case!(findings::the_audit_trail_is_a_chain_that_shows_tampering, Http, &[],
        "the audit log is readable by auditors only, records every event, and its hash chain holds and shows tampering"),
    case!(findings::token_claims_are_checked_as_the_contract_states, Http, &[],
        "exp, nbf, user_id and roles are checked with no leeway"),
    case!(faults::database_latency_10s_still_answers_from_cache, Environment, &[],
        "with 10 s of database latency, chat answers 200 from the cache in under 8 s, less confident"),
    case!(faults::llm_failure_rate_1_gives_the_template, Environment, &[],
        "with every LLM call failing, chat answers 200 with the template (quality 0.6)"),
    case!(faults::pattern_timeout_answers_without_pattern_analysis, Environment, &[("SUT_PATTERN_TIMEOUT_MS", "100")],
        "when pattern analysis times out, the answer is 200, degraded, without patterns"),
    case!(faults::breaker_opens_after_5_failures_and_closes_after_its_timeout, Environment, &[("SUT_BREAKER_TIMEOUT_MS", "1500")],
        "the breaker opens after 5 failures, keeps calls away while open, and closes after one probe"),
    case!(access::rate_limit_body_limit_and_malformed_json, Environment, &[("SUT_RATE_LIMIT_PER_MINUTE", "3")],
        "the rate limit answers 429 with Retry-After; an oversized body gets 413 and Connection: close; malformed JSON gets 400"),
    case!(jobs::jobs_survive_redis_down_and_slow, Environment, &[],
        "a job submitted while Redis is down or slow completes after recovery"),
    case!(jobs::pii_never_reaches_the_llm, Environment, &[],
        "no PII reaches the LLM, and the audit chain holds"),
    case!(metrics::health_reflects_components, Environment, &[],
        "/health reports each component from real round trips; /metrics has the contract's series, and they follow the dependencies and count every answer"),
    case!(access::responses_validate_against_openapi, Environment, &[("SUT_RATE_LIMIT_PER_MINUTE", "40")],
        "every route's answers, bad inputs included, validate against openapi.yaml, and none is a 500"),
    case!(chat::cached_patterns_are_timed_apart_from_the_database_reads, Environment, &[],
        "each Server-Timing entry is its own operation's time"),
    case!(timing::server_timing_is_bounded_by_what_the_harness_measured, Environment, &[],
        "each Server-Timing figure is at most what the harness measured and at least the latency it put on the LLM and Postgres"),
    case!(findings::jobs_wait_while_the_breaker_is_open, Environment, &[("SUT_BREAKER_TIMEOUT_MS", "5000")],
        "queued jobs wait while the breaker is open and complete after"),
    case!(findings::a_request_ends_by_its_deadline_when_the_llm_hangs, Environment, &[("SUT_REQUEST_DEADLINE_MS", "2500")],
        "a chat request ends by its deadline with the template when the LLM hangs"),
    case!(findings::pattern_detectors_and_entities_run_at_once, Environment, &[("SUT_PATTERN_TIMEOUT_MS", "1000")],
        "the entities of one question are looked up at once"),
    case!(findings::an_access_that_cannot_be_audited_is_refused, Environment, &[],
        "a cache hit that cannot be audited gets 503"),
    case!(stream::a_stream_is_tokens_then_one_final_event_sent_as_generated, Environment, &[],
        "the optional streaming route sends token events as the model makes them, then one done event; a refused answer is retracted"),
    case!(stream::a_model_that_fails_falls_back_before_its_first_token_and_ends_in_an_error_event_after_it, Environment, &[("SUT_REQUEST_DEADLINE_MS", "3000")],
        "a model failing before its first token falls back to the template; after it, the stream ends in an error event, by the deadline"),
    case!(stream::a_client_that_leaves_mid_stream_cancels_the_llm_call, Environment, &[],
        "a client leaving mid-stream cancels the LLM call, and the breaker stays closed"),
    case!(llm::a_client_error_neither_opens_the_breaker_nor_is_retried, Environment, &[],
        "an LLM 4xx neither opens the breaker nor is retried"),
    case!(llm::a_429_waits_the_longer_of_retry_after_and_the_backoff, Environment, &[],
        "after a 429 the next attempt waits Retry-After"),
    case!(llm::a_probe_whose_caller_leaves_does_not_stick_the_breaker, Environment, &[("SUT_BREAKER_TIMEOUT_MS", "1000")],
        "a half-open probe whose client leaves does not stick the breaker"),
    case!(llm::llm_calls_beyond_the_token_bucket_take_the_fallback_path, Environment, &[("SUT_LLM_REQUESTS_PER_MINUTE", "1")],
        "calls beyond the token bucket take the fallback path at once"),
    case!(llm::the_quality_gate_refuses_an_answer_its_context_does_not_bear_out, Environment, &[],
        "an answer its context does not bear out is refused: three attempts, the fallback, then the template"),
    case!(lifecycle::ready_is_503_until_migrations_and_seed_loads_idempotently, Launch, &[],
        "/ready is 503 until the database answers and the seed is loaded; a second load changes nothing"),
    case!(lifecycle::sigterm_finishes_requests_in_flight_and_keeps_queued_jobs, Launch, &[],
        "SIGTERM finishes requests in flight, exits 0, and leaves queued jobs for the next instance"),
    case!(lifecycle::logs_are_json_lines_that_name_the_request_and_the_error_kind, Launch, &[],
        "logs are JSON lines; a failed request's line names its request id, route, status and error kind"),
    case!(lifecycle::a_missing_or_malformed_variable_is_named_at_start_up, Launch, &[],
        "a missing or malformed required variable stops start-up with a message naming it"),
    ]
}

/// The case with this ID.
pub fn find(id: &str) -> Option<&'static Case> {
    ALL.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod ids {
    #[test]
    fn the_cases_named_by_constants_exist() {
        assert!(super::find(super::BUDGETS_CASE).is_some());
        assert!(super::find(super::TIMING_CASE).is_some());
    }
}
