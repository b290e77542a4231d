//! The streamed answer of `POST /api/chat/stream` (contract STREAM-*): phases 1 to 4 as
//! `/api/chat` runs them, then the model's tokens as they come, then a `done` event with
//! `/api/chat`'s fields. The handler runs [`produce`] on a task of its own, into a
//! channel that the response body drains: when the client goes away the channel
//! closes, the task stops, and the model's stream is dropped with it (the LLM call is
//! cancelled).
//!
//! A model's stream that fails before its first token falls back as `/api/chat` does.
//! One that fails after it ends with an `error` event. A streamed answer that the
//! quality gate refuses once complete ends with a `done` event whose answer is the
//! template, marked `retracted`: the tokens already sent are withdrawn.

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{finish, Deps, Prepared, SYSTEM};
use crate::llm::{quality, Generation, Opened};

/// One event of a streamed answer.
#[derive(Debug)]
pub enum StreamEvent {
    /// A piece of the model's text.
    Token(String),
    /// The whole answer, `/api/chat`'s body with `retracted`.
    Done(Value),
    /// The stream failed after tokens were sent.
    Error(Value),
}

impl StreamEvent {
    /// The event's SSE name and its data.
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            StreamEvent::Token(t) => ("token", json!({ "text": t }).to_string()),
            StreamEvent::Done(v) => ("done", v.to_string()),
            StreamEvent::Error(v) => ("error", v.to_string()),
        }
    }
}

/// What the caller asked and of whom, for the answer and its memory.
pub struct Asked {
    /// The caller.
    pub user_id: String,
    /// The conversation.
    pub session_id: Option<String>,
    /// The question.
    pub query: String,
}

/// Produces the events of the answer to `asked`, prepared as `p`, into `tx`, until
/// the answer is done or `tx`'s receiver is gone.
pub async fn produce(deps: &Deps<'_>, p: Prepared, asked: Asked, tx: mpsc::Sender<StreamEvent>) {
    let llm = deps.llm;
    let opened = tokio::select! {
        o = llm.open_stream(SYSTEM, &p.prompt, p.max_tokens, p.request_deadline) => o,
        // Gone before the first token: the open call is dropped, cancelling it.
        () = tx.closed() => return,
    };
    let (generation, retracted) = match opened {
        None => (llm.template(), false),
        Some(Opened {
            first,
            mut rest,
            fallback,
        }) => {
            let mut text = first.clone();
            if tx.send(StreamEvent::Token(first)).await.is_err() {
                return;
            }
            let stall = deps.limits.llm_stream_stall;
            loop {
                let left = p
                    .request_deadline
                    .saturating_duration_since(tokio::time::Instant::now());
                let next = tokio::select! {
                    n = rest.next(stall.min(left)) => n,
                    () = tx.closed() => return,
                };
                match next {
                    Ok(Some(t)) => {
                        text.push_str(&t);
                        if tx.send(StreamEvent::Token(t)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "the model's stream broke off");
                        llm.breaker.broke_off();
                        let _ = tx
                            .send(StreamEvent::Error(json!({
                                "error": "generation_interrupted",
                                "message": "The answer could not be completed.",
                            })))
                            .await;
                        return;
                    }
                }
            }
            let q = p.grounds.score(&text);
            if q >= quality::PASS {
                let confidence = if fallback == crate::llm::Fallback::None {
                    0.85
                } else {
                    0.75
                };
                let g = Generation {
                    text: Some(text),
                    fallback,
                    quality_score: q,
                    confidence,
                };
                (g, false)
            } else {
                tracing::warn!(quality = q, "streamed answer failed the quality gate");
                (llm.template(), true)
            }
        }
    };
    let answer = finish(
        deps,
        p,
        generation,
        &asked.user_id,
        asked.session_id,
        &asked.query,
    );
    let mut done = serde_json::to_value(&answer).unwrap_or(Value::Null);
    if let Some(o) = done.as_object_mut() {
        o.insert("retracted".into(), Value::Bool(retracted));
    }
    let _ = tx.send(StreamEvent::Done(done)).await;
}
