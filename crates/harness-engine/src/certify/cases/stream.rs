//! The optional streaming route, `POST /api/chat/stream` (STREAM-1 to STREAM-7). A
//! subject without it gets UNIMPLEMENTED for these clauses. Each case sets the LLM
//! fake's stream timing or faults and reads the answer event by event, timed.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::certify::http::StreamEnd;
use crate::certify::{check, check_eq, ensure, CaseError, CaseResult, Ctx, Or};
use crate::llm::{AnswerStyle, FailStatus, FailureMode, LatencyProfile, StreamFault};
use crate::sse::Parser;

/// What the client saw of one streamed answer.
struct Seen {
    status: u16,
    content_type: String,
    /// Each event: its arrival in ms after the send, its name, its data as JSON.
    events: Vec<(f64, String, Value)>,
    end: StreamEnd,
}

impl Seen {
    fn tokens(&self) -> Vec<f64> {
        self.events
            .iter()
            .filter(|(_, n, _)| n == "token")
            .map(|(t, _, _)| *t)
            .collect()
    }

    /// The last event's name and data.
    fn last(&self) -> (&str, &Value) {
        self.events
            .last()
            .map_or(("(none)", &Value::Null), |(_, n, d)| (n.as_str(), d))
    }

    fn names(&self) -> Vec<&str> {
        self.events.iter().map(|(_, n, _)| n.as_str()).collect()
    }
}

/// Streams the answer to `query` as a viewer; the client leaves `leave_after` its
/// send, if given. A route that is not there (404, 405) makes the case UNIMPLEMENTED.
async fn stream(app: &Ctx, query: &str, leave_after: Option<Duration>) -> Result<Seen, CaseError> {
    let sent_at = Instant::now();
    let sent = app
        .http
        .post(app.url("/api/chat/stream"))
        .bearer_auth(app.token(&["viewer"]))
        .json(&json!({"query": query, "session_id": "s-1"}))
        .send_stream(leave_after.map(|after| sent_at + after))
        .await
        .or_error("no answer from /api/chat/stream")?;
    let status = sent.status;
    if status == 404 || status == 405 {
        return Err(CaseError::Unimplemented(format!(
            "POST /api/chat/stream answers {status}: the optional streaming route is absent"
        )));
    }
    let mut parser = Parser::default();
    let mut events = Vec::new();
    for (at, chunk) in &sent.chunks {
        parser.push(chunk, |e| {
            let data = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data.clone()));
            events.push((*at, e.name, data));
        });
    }
    Ok(Seen {
        status,
        content_type: sent
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        events,
        end: sent.end,
    })
}

fn profile(prefill_ms: f64, decode_ms: f64, tokens: u64) -> LatencyProfile {
    LatencyProfile {
        base_ms: prefill_ms,
        spread: 0.0,
        per_output_token_ms: decode_ms,
        output_tokens: tokens,
    }
}

/// The model's prefill and decode in the timing case, and its tokens.
const PREFILL_MS: f64 = 100.0;
const DECODE_MS: f64 = 20.0;
const TOKENS: u64 = 30;

/// STREAM-1's grammar, STREAM-2's pacing and STREAM-7's rule for a refused answer.
pub async fn a_stream_is_tokens_then_one_final_event_sent_as_generated(app: &Ctx) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_profile(profile(PREFILL_MS, DECODE_MS, TOKENS))
        .or_error("profile")?;
    let seen = stream(app, "Summarise Delta Industries", None).await?;
    ensure!("STREAM-1", seen.status == 200, "status {}", seen.status);
    check!(
        app,
        "STREAM-1",
        seen.content_type.starts_with("text/event-stream"),
        "content-type {:?}",
        seen.content_type
    );
    check_eq!(
        app,
        "STREAM-1",
        seen.end,
        StreamEnd::Clean,
        "how the body ended"
    );
    let names = seen.names();
    let finals = names
        .iter()
        .filter(|n| matches!(**n, "done" | "error"))
        .count();
    check!(
        app,
        "STREAM-1",
        finals == 1 && matches!(names.last(), Some(&"done")),
        "events {names:?}: one final event, last, and done for a model that answered"
    );
    for (_, name, data) in &seen.events {
        if name == "token" {
            check!(
                app,
                "STREAM-1",
                data["text"].is_string(),
                "token data {data}"
            );
        }
    }
    let (_, done) = seen.last();
    for field in super::chat::ANSWER_FIELDS.into_iter().chain(["retracted"]) {
        check!(
            app,
            "STREAM-1",
            done.get(field).is_some(),
            "done lacks {field}: {done}"
        );
    }
    check_eq!(
        app,
        "STREAM-7",
        done["retracted"],
        false,
        "a passed answer: {done}"
    );

    let tokens = seen.tokens();
    check_eq!(app, "STREAM-1", tokens.len() as u64, TOKENS, "token events");
    let model_span = DECODE_MS * (TOKENS - 1) as f64;
    if let (Some(first), Some(last)) = (tokens.first(), tokens.last()) {
        app.measure("first token event", *first, "ms", None);
        app.measure(
            "token events' span",
            last - first,
            "ms",
            Some(&format!(">= {:.0}", model_span / 2.0)),
        );
        check!(
            app,
            "STREAM-2",
            last - first >= model_span / 2.0,
            "the token events span {:.0} ms; the model took {model_span:.0} ms between its first and last token",
            last - first
        );
        check!(
            app,
            "STREAM-2",
            *first < *last || TOKENS == 1,
            "the first token event came with the last ({first:.0} ms)"
        );
    }

    llm.set_answers(AnswerStyle::Filler);
    let refused = stream(app, "Summarise Delta Industries", None).await?;
    let (name, done) = refused.last();
    check!(
        app,
        "STREAM-7",
        name == "done" && done["fallback"] == "template" && done["retracted"] == true,
        "a refused answer ends in {name}: {done}"
    );
    llm.set_answers(AnswerStyle::Grounded);
    Ok(())
}

/// The request deadline the failure case runs with (`SUT_REQUEST_DEADLINE_MS`).
pub const STREAM_DEADLINE_MS: u64 = 3000;

/// How long past the request deadline a stream may take to end.
const DEADLINE_SLACK: Duration = Duration::from_millis(1500);

/// STREAM-3 before the first token, STREAM-4 after it, STREAM-6 for a stall. The case
/// runs with a request deadline of [`STREAM_DEADLINE_MS`].
pub async fn a_model_that_fails_falls_back_before_its_first_token_and_ends_in_an_error_event_after_it(
    app: &Ctx,
) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_profile(profile(20.0, 5.0, 20))
        .or_error("profile")?;
    let q = "Summarise Delta Industries";

    llm.set_failure(FailureMode::new(1.0, FailStatus::ApiError).or_error("mode")?);
    let seen = stream(app, q, None).await?;
    let (name, done) = seen.last();
    check!(
        app,
        "STREAM-3",
        seen.tokens().is_empty() && name == "done" && done["fallback"] == "template",
        "every call failing: events {:?}, last {done}",
        seen.names()
    );
    llm.set_failure(FailureMode::NONE);

    for fault in [
        StreamFault::Error { after: 5 },
        StreamFault::Truncate { after: 3 },
    ] {
        llm.set_stream_fault(fault);
        let seen = stream(app, q, None).await?;
        let (name, error) = seen.last();
        check!(
            app,
            "STREAM-4",
            !seen.tokens().is_empty() && name == "error",
            "the model's stream {fault}: events {:?}",
            seen.names()
        );
        if name == "error" {
            let text = error.to_string();
            check!(
                app,
                "STREAM-4",
                error["error"].is_string() && error["message"].is_string(),
                "error data {text}"
            );
            for word in [
                "reqwest",
                "hyper",
                "overloaded",
                "529",
                "connection",
                "stream ended",
            ] {
                check!(
                    app,
                    "STREAM-4",
                    !text.to_lowercase().contains(word),
                    "names '{word}': {text}"
                );
            }
        }
    }

    let deadline = Duration::from_millis(STREAM_DEADLINE_MS);
    llm.set_stream_fault(StreamFault::Stall {
        after: 3,
        pause: Duration::from_secs(30),
    });
    let t = Instant::now();
    let seen = stream(app, q, None).await?;
    let took = t.elapsed();
    app.measure(
        "a stalled model's stream ended after",
        took.as_secs_f64() * 1e3,
        "ms",
        Some(&format!("<= {}", (deadline + DEADLINE_SLACK).as_millis())),
    );
    check!(
        app,
        "STREAM-6",
        took <= deadline + DEADLINE_SLACK,
        "a stall of 30 s after 3 tokens: the stream ended after {took:?} (deadline {deadline:?})"
    );
    check!(
        app,
        "STREAM-4",
        seen.last().0 == "error",
        "a stall of 30 s after 3 tokens: the stream ended in {:?}, not an error event",
        seen.last().0
    );
    llm.set_stream_fault(StreamFault::None);
    Ok(())
}

/// When the clients of STREAM-5's case leave: mid-answer, whether or not the route has
/// sent anything by then (a route that holds its events back is STREAM-2's to judge).
const LEAVE_AFTER: Duration = Duration::from_millis(500);

/// STREAM-5: three clients leave mid-answer; each LLM call is cancelled and the
/// breaker stays closed.
pub async fn a_client_that_leaves_mid_stream_cancels_the_llm_call(app: &Ctx) -> CaseResult {
    let llm = app.env()?.llm();
    llm.set_profile(profile(20.0, 50.0, 60))
        .or_error("profile")?;
    let before = llm.disconnects();
    for _ in 0..3 {
        let seen = stream(app, "Summarise Delta Industries", Some(LEAVE_AFTER)).await?;
        ensure!(
            "STREAM-5",
            seen.end == StreamEnd::Left,
            "the stream of a 3 s answer ended before {LEAVE_AFTER:?}: {:?}",
            seen.names()
        );
    }
    let t = Instant::now();
    while llm.disconnects() < before + 3 && t.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = llm.disconnects() - before;
    app.measure(
        "LLM streams closed after their clients left",
        cancelled as f64,
        "count",
        Some("3"),
    );
    check_eq!(
        app,
        "STREAM-5",
        cancelled,
        3,
        "LLM calls cancelled within 2 s of 3 clients leaving"
    );
    llm.set_profile(LatencyProfile::instant())
        .or_error("profile")?;
    let (s, body, _) = app.chat("Summarise Delta Industries").await;
    check!(
        app,
        "STREAM-5",
        s == 200 && body["fallback"] == "none",
        "after the clients left, chat answers {s} with fallback {}: the breaker should be closed",
        body["fallback"]
    );
    Ok(())
}
