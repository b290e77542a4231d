//! The one transaction executor both load models run: it builds the request from the
//! spec (placeholders filled), sends it through a [`Transport`], takes what the sample
//! needs from the answer, and polls the job when the transaction waits on one. The
//! models differ only in their transport (Goose's user for the closed model, a worker's
//! hyper connection for the open one) and in how they time and cut a transaction, which
//! stays with each model.

use std::future::Future;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use serde_json::Value;

use super::request::{fill, final_status, poll_path, read_answer, Vars};
use crate::record::{Sample, StreamSample};
use crate::scenario::{PollSpec, StreamSpec, TransactionSpec};

/// The two methods a scenario sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// One request the executor asks a transport to send.
pub struct Call<'a> {
    /// Its method.
    pub verb: Verb,
    /// Its path and query, placeholders filled.
    pub path: &'a str,
    /// The bearer token; empty sends none.
    pub token: &'a str,
    /// A JSON body, already serialised; empty sends none.
    pub body: Bytes,
    /// A deadline for this one exchange, for a transport with a timer per request; a
    /// transport without one leaves the cut to its caller.
    pub timeout: Option<Duration>,
    /// Read a 2xx answer as a stream of events (see [`super::stream::read`]), timed
    /// from this instant.
    pub stream: Option<(&'a StreamSpec, Instant)>,
}

/// One answer.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Server-Timing` header, when there is one.
    pub timing: Option<String>,
    /// The body; for a stream, the data of the event that ended it.
    pub body: Bytes,
    /// A streamed answer's timing and end.
    pub stream: Option<StreamSample>,
}

/// The `Server-Timing` header of an answer, as text: the one place a transport reads it.
pub fn server_timing(headers: &hyper::HeaderMap) -> Option<String> {
    headers
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// How a load model sends one request. `None` is a transport failure (no answer).
pub trait Transport {
    /// Sends `call` and reads its whole answer.
    fn send(&mut self, call: Call<'_>) -> impl Future<Output = Option<Answer>> + Send;
}

/// Runs `spec` as the user `vars` describes, over `transport`, filling `sample` with
/// what the answer says: status, `Server-Timing`, the contract's fields, a stream's
/// timing (from `origin`, the intended send time), and the job's final status when the
/// transaction polls. `timeout` bounds a single exchange (not a polled job, which its
/// caller bounds). A transport failure leaves the status `None`.
pub async fn execute<T: Transport>(
    transport: &mut T,
    spec: &TransactionSpec,
    token: &str,
    vars: &Vars<'_>,
    timeout: Option<Duration>,
    origin: Instant,
    sample: &mut Sample,
) {
    let body = match &spec.body {
        Some(b) => Bytes::from(fill(b, vars).to_string()),
        None => Bytes::new(),
    };
    let path = vars.apply(&spec.path);
    let call = Call {
        verb: if spec.method == "GET" {
            Verb::Get
        } else {
            Verb::Post
        },
        path: &path,
        token,
        body,
        timeout: timeout.filter(|_| spec.poll.is_none()),
        stream: spec.stream.as_ref().map(|s| (s, origin)),
    };
    let Some(answer) = transport.send(call).await else {
        return;
    };
    let first = read_answer(
        sample,
        answer.status,
        answer.timing.as_deref(),
        &answer.body,
    );
    sample.stream = answer.stream;
    if let (Some(poll), false) = (&spec.poll, sample.is_error()) {
        sample.status = poll_job(transport, poll, &first, token).await;
    }
}

/// Polls the job of `first` until its field is final: 200 or 500 then, 502 when
/// `first` has no id, 504 past the poll timeout, `None` when polling broke.
async fn poll_job<T: Transport>(
    transport: &mut T,
    poll: &PollSpec,
    first: &Value,
    token: &str,
) -> Option<u16> {
    // Already final in the first answer (a cached result).
    if let Some(status) = final_status(poll, first) {
        return Some(status);
    }
    let Some(path) = poll_path(poll, first) else {
        return Some(502);
    };
    let deadline = Instant::now() + poll.timeout;
    loop {
        tokio::time::sleep(poll.every).await;
        let call = Call {
            verb: Verb::Get,
            path: &path,
            token,
            body: Bytes::new(),
            timeout: None,
            stream: None,
        };
        let answer = transport.send(call).await?;
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if let Some(status) = final_status(poll, &body) {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return Some(504);
        }
    }
}
