//! Deliberate breaches of the contract, for proving that `harness certify` catches them.
//! They exist only in a build with the `defects` feature (off by default: the reference
//! as shipped has none of this code); such a build reads `SUT_DEFECT` at start-up.
//!
//! Each names what it breaks:
//! - `no-template-fallback`: when no model answers, chat answers 503 instead of the
//!   template (CHAT-6, CHAT-7);
//! - `malformed-json-500`: malformed JSON gets 500, not 400 (LIM-3, LIM-4);
//! - `health-ignores-db`: `/health` answers 200 while the database is down (HEALTH-1);
//! - `chat-without-auth`: `POST /api/chat` takes a missing token as a viewer (AUTH-2,
//!   AUTH-3);
//! - `jobs-readable-by-anyone`: any caller may read any job (DOC-9);
//! - `breaker-never-closes`: once open, the LLM breaker never lets a probe through
//!   (LLM-1, LLM-3, DOC-10);
//! - `no-connection-close`: a 413 does not say `Connection: close` (LIM-2);
//! - `malformed-json-422`: malformed JSON gets 422, not 400 (LIM-3);
//! - `server-timing-under-reports`: `Server-Timing` (and the operation histogram) gives
//!   `entity_resolver.resolve` a quarter of its real time (HDR-4);
//! - `stream-without-end`: a streamed answer whose model fails after its first token
//!   just stops, with no `error` event (STREAM-4);
//! - `stream-buffers`: `/api/chat/stream` holds every event back until the answer is
//!   complete, so its first byte comes with its last (STREAM-2);
//! - `entity-resolution-slow`: entity resolution takes a fifth longer, truthfully
//!   reported: no clause breaks, but `harness gate` must call it REGRESSED;
//! - `breaker-metric-stuck`: `circuit_breaker_state` reads 0 whatever the breaker does
//!   (ALERT-1; RES-4 under the LLM failing);
//! - `dependency-metric-ignores-db`: `dependency_up{dependency="database"}` reads 1
//!   while the database is down (ALERT-2; RES-4 under the database down);
//! - `uncounted-5xx`: a 5xx answer is left out of `http_requests_total` (ALERT-3).
//!
//! `SUT_DEFECT` takes one name, or several separated by commas, so that one build can
//! break two clauses a single case judges.

/// One deliberate breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// 503 instead of the template.
    NoTemplateFallback,
    /// 500 on malformed JSON.
    MalformedJson500,
    /// `/health` never asks the database.
    HealthIgnoresDb,
    /// `/api/chat` without a token.
    ChatWithoutAuth,
    /// No owner check on jobs.
    JobsReadableByAnyone,
    /// The breaker stays open.
    BreakerNeverCloses,
    /// A 413 without `Connection: close`.
    NoConnectionClose,
    /// 422 on malformed JSON.
    MalformedJson422,
    /// Entity resolution reported at a quarter of its time.
    ServerTimingUnderReports,
    /// A stream that just stops.
    StreamWithoutEnd,
    /// A stream sent whole at its end.
    StreamBuffers,
    /// Entity resolution 20% slower.
    EntityResolutionSlow,
    /// `circuit_breaker_state` never moves.
    BreakerMetricStuck,
    /// `dependency_up` says the database is up whatever it is.
    DependencyMetricIgnoresDb,
    /// 5xx answers are not counted.
    Uncounted5xx,
}

impl Defect {
    /// Every defect with its `SUT_DEFECT` name.
    pub const ALL: [(&'static str, Defect); 15] = [
        ("no-template-fallback", Defect::NoTemplateFallback),
        ("malformed-json-500", Defect::MalformedJson500),
        ("health-ignores-db", Defect::HealthIgnoresDb),
        ("chat-without-auth", Defect::ChatWithoutAuth),
        ("jobs-readable-by-anyone", Defect::JobsReadableByAnyone),
        ("breaker-never-closes", Defect::BreakerNeverCloses),
        ("no-connection-close", Defect::NoConnectionClose),
        ("malformed-json-422", Defect::MalformedJson422),
        (
            "server-timing-under-reports",
            Defect::ServerTimingUnderReports,
        ),
        ("stream-without-end", Defect::StreamWithoutEnd),
        ("stream-buffers", Defect::StreamBuffers),
        ("entity-resolution-slow", Defect::EntityResolutionSlow),
        ("breaker-metric-stuck", Defect::BreakerMetricStuck),
        (
            "dependency-metric-ignores-db",
            Defect::DependencyMetricIgnoresDb,
        ),
        ("uncounted-5xx", Defect::Uncounted5xx),
    ];
}

/// Whether this build was asked to commit `d`.
#[cfg(feature = "defects")]
pub fn active(d: Defect) -> bool {
    static CHOSEN: std::sync::OnceLock<Vec<Defect>> = std::sync::OnceLock::new();
    let chosen = CHOSEN.get_or_init(|| {
        let names = std::env::var("SUT_DEFECT").unwrap_or_default();
        names
            .split(',')
            .filter_map(|name| {
                Defect::ALL
                    .iter()
                    .find(|(n, _)| *n == name.trim())
                    .map(|(_, d)| *d)
            })
            .collect()
    });
    chosen.contains(&d)
}

/// Whether this build was asked to commit `d`: never, without the `defects` feature.
#[cfg(not(feature = "defects"))]
pub const fn active(_: Defect) -> bool {
    false
}
