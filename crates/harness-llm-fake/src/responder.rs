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
        }
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

/// Answers `POST /v1/messages` like the Anthropic Messages API.
pub(crate) struct Responder(pub(crate) Arc<Shared>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let s = &self.0;
        s.calls.fetch_add(1, Ordering::Relaxed);
        s.retained.fetch_add(1, Ordering::Relaxed);
        s.last_call_us
            .store(s.started.elapsed().as_micros() as u64, Ordering::Relaxed);
        s.record(&request.body);

        if !request.headers.contains_key("x-api-key") {
            return ResponseTemplate::new(401).set_body_json(api::error_body(
                "authentication_error",
                "x-api-key header is required",
            ));
        }
        let valid = match api::validate(&request.body) {
            Ok(v) => v,
            Err(msg) => {
                return ResponseTemplate::new(400)
                    .set_body_json(api::error_body("invalid_request_error", &msg.to_string()))
            }
        };

        let failure = *s.failure.read().unwrap_or_else(|p| p.into_inner());
        let profile = s.profile.read().unwrap_or_else(|p| p.into_inner()).clone();
        let (fails, delay, id) = {
            let mut rng = s.rng.lock().unwrap_or_else(|p| p.into_inner());
            let fails = failure.rate > 0.0 && rng.gen_bool(failure.rate);
            let tokens = profile.output_tokens_for(valid.max_tokens);
            let delay = profile.sample(&mut *rng, tokens);
            (fails, delay, rng.gen::<u64>())
        };
        if fails {
            s.failed.fetch_add(1, Ordering::Relaxed);
            let status = failure.status;
            let mut t = ResponseTemplate::new(status.code()).set_body_json(status.body());
            if status.code() == 429 {
                t = t.insert_header("retry-after", "1");
            }
            return t;
        }
        let tokens = profile.output_tokens_for(valid.max_tokens);
        let body = api::message_body(
            &format!("msg_{id:016x}"),
            &valid,
            &api::answer_text(
                *s.style.read().unwrap_or_else(|p| p.into_inner()),
                &valid,
                tokens,
            ),
            tokens,
        );
        s.record_answer(&request.body, delay);
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(delay)
    }
}
