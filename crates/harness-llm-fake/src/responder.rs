//! The wiremock responder behind `POST /v1/messages`: validates, records, fails on
//! demand, and otherwise answers after a latency drawn from the profile.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use wiremock::{Request, Respond, ResponseTemplate};

use super::api;
use super::failure::FailureMode;
use super::profile::LatencyProfile;
use super::stream::fault::StreamFault;

/// State shared between the responder (on wiremock's tasks) and the control handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) calls: AtomicU64,
    pub(crate) failed: AtomicU64,
    /// Requests wiremock has retained since the last rotation (see `LlmFake`).
    pub(crate) retained: AtomicU64,
    pub(crate) last_call_us: AtomicU64,
    pub(crate) started: Instant,
    pub(crate) failure: RwLock<FailureMode>,
    pub(crate) profile: RwLock<LatencyProfile>,
    pub(crate) style: RwLock<api::AnswerStyle>,
    pub(crate) rng: Mutex<StdRng>,
    pub(crate) history: Mutex<VecDeque<Value>>,
    /// The answered calls, as many as `history_cap`, oldest first.
    pub(crate) answered: Mutex<VecDeque<Answered>>,
    pub(crate) history_cap: usize,
    /// The fault on the following streamed answers.
    pub(crate) stream_fault: RwLock<StreamFault>,
    /// Streamed answers begun.
    pub(crate) streams: AtomicU64,
    /// Streamed answers the caller left before their end.
    pub(crate) disconnects: AtomicU64,
}

/// One call the fake answered: its request body and how long the fake held the answer
/// back (the latency model's draw). The caller cannot have had the answer sooner, so
/// this is a floor under any time the caller reports for the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The request body (JSON, or a string if not JSON).
    pub body: Value,
    /// The time the fake took to answer.
    pub took: Duration,
}

impl Shared {
    pub(crate) fn new(profile: LatencyProfile, seed: u64, history_cap: usize) -> Self {
        Shared {
            calls: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retained: AtomicU64::new(0),
            last_call_us: AtomicU64::new(0),
            started: Instant::now(),
            failure: RwLock::new(FailureMode::NONE),
            profile: RwLock::new(profile),
            style: RwLock::new(api::AnswerStyle::default()),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            history: Mutex::new(VecDeque::with_capacity(history_cap.min(1024))),
            answered: Mutex::new(VecDeque::with_capacity(history_cap.min(1024))),
            history_cap,
            stream_fault: RwLock::new(StreamFault::None),
            streams: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
        }
    }

    /// The fault on the following streamed answers.
    pub(crate) fn stream_fault(&self) -> StreamFault {
        *self.stream_fault.read().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, body: &[u8]) {
        if self.history_cap == 0 {
            return;
        }
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if h.len() == self.history_cap {
            h.pop_front();
        }
        h.push_back(parse(body));
    }

    fn record_answer(&self, body: &[u8], took: Duration) {
        if self.history_cap == 0 {
            return;
        }
        let mut a = self.answered.lock().unwrap_or_else(|p| p.into_inner());
        if a.len() == self.history_cap {
            a.pop_front();
        }
        a.push_back(Answered {
            body: parse(body),
            took,
        });
    }
}

/// A request body as JSON, or as a string when it is not JSON.
fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// What the fake does with one call, decided before any answer is sent: the one place
/// that validates, draws failures and latencies and counts, for whole and streamed
/// answers alike.
#[derive(Debug)]
pub(crate) enum Decision {
    /// A 401 or 400 in the API's error shape, or an injected failure status.
    Refuse {
        /// The HTTP status.
        status: u16,
        /// The API error body.
        body: Value,
    },
    /// An answer, with its timing drawn from the profile.
    Answer(Answer),
}

/// A drawn answer: its text and when its parts are due.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) id: String,
    pub(crate) request: api::ValidRequest,
    pub(crate) text: String,
    pub(crate) tokens: u64,
    /// Time to the first token.
    pub(crate) prefill: Duration,
    /// Time per further token.
    pub(crate) decode: Duration,
}

impl Answer {
    /// When the whole answer is out: what a caller cannot undercut.
    pub(crate) fn took(&self) -> Duration {
        self.prefill + self.decode * self.tokens.saturating_sub(1) as u32
    }
}

impl Shared {
    /// Counts and records one call, then decides its fate.
    pub(crate) fn decide(&self, has_key: bool, body: &[u8]) -> Decision {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.last_call_us
            .store(self.started.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.record(body);
        if !has_key {
            return Decision::Refuse {
                status: 401,
                body: api::error_body("authentication_error", "x-api-key header is required"),
            };
        }
        let request = match api::validate(body) {
            Ok(v) => v,
            Err(msg) => {
                return Decision::Refuse {
                    status: 400,
                    body: api::error_body("invalid_request_error", &msg.to_string()),
                }
            }
        };
        let failure = *self.failure.read().unwrap_or_else(|p| p.into_inner());
        let profile = self
            .profile
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let tokens = profile.output_tokens_for(request.max_tokens);
        let (fails, prefill, id) = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            let fails = failure.rate > 0.0 && rng.gen_bool(failure.rate);
            (fails, profile.prefill(&mut *rng), rng.gen::<u64>())
        };
        if fails {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return Decision::Refuse {
                status: failure.status.code(),
                body: failure.status.body(),
            };
        }
        let style = *self.style.read().unwrap_or_else(|p| p.into_inner());
        let answer = Answer {
            id: format!("msg_{id:016x}"),
            text: api::answer_text(style, &request, tokens),
            request,
            tokens,
            prefill,
            decode: profile.decode(),
        };
        self.record_answer(body, answer.took());
        Decision::Answer(answer)
    }
}

/// Answers `POST /v1/messages` like the Anthropic Messages API, whole.
pub(crate) struct Responder(pub(crate) Arc<Shared>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.retained.fetch_add(1, Ordering::Relaxed);
        match self
            .0
            .decide(request.headers.contains_key("x-api-key"), &request.body)
        {
            Decision::Refuse { status, body } => {
                let t = ResponseTemplate::new(status).set_body_json(body);
                if status == 429 {
                    t.insert_header("retry-after", "1")
                } else {
                    t
                }
            }
            Decision::Answer(a) => ResponseTemplate::new(200)
                .set_body_json(api::message_body(&a.id, &a.request, &a.text, a.tokens))
                .set_delay(a.took()),
        }
    }
}
