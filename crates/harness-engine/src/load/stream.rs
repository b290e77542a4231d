//! Reading a streamed answer as it arrives: both transports hand their body here, and
//! each event is timed by the arrival of the chunk that completed it. What the times
//! mean is `results::STREAM_METHOD`.

use std::future::Future;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Bytes;
use tokio::time::timeout_at;

use crate::record::StreamSample;
use crate::results::StreamEnd;
use crate::scenario::StreamSpec;
use crate::sse::Parser;

/// A response body read a chunk at a time: `None` at its end, `Err` when it broke.
pub trait Chunks: Send {
    /// The next chunk of the body.
    fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, ()>> + Send;
}

impl Chunks for reqwest::Response {
    async fn chunk(&mut self) -> Result<Option<Bytes>, ()> {
        reqwest::Response::chunk(self).await.map_err(|_| ())
    }
}

impl Chunks for hyper::body::Incoming {
    async fn chunk(&mut self) -> Result<Option<Bytes>, ()> {
        loop {
            match self.frame().await {
                None => return Ok(None),
                Some(Err(_)) => return Err(()),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// Reads the stream of `body` as `spec` names its events, timing them from `origin`
/// (the request's intended send time). Returns what the harness saw, and the data of
/// the event that ended it (the final event's is read as a whole answer's body is).
pub async fn read<C: Chunks>(
    body: &mut C,
    spec: &StreamSpec,
    origin: Instant,
) -> (StreamSample, Bytes) {
    let mut seen = StreamSample {
        ttft: None,
        gaps: Vec::new(),
        tokens: 0,
        end: StreamEnd::Truncated,
        e2e: Duration::ZERO,
    };
    let mut parser = Parser::default();
    let mut last_token: Option<Instant> = None;
    let mut last_event = Instant::now();
    let mut ended: Option<(StreamEnd, String)> = None;
    while ended.is_none() {
        let chunk = match timeout_at((last_event + spec.stall_after).into(), body.chunk()).await {
            Err(_) => {
                seen.end = StreamEnd::Stalled;
                return (seen, Bytes::new());
            }
            Ok(Ok(Some(c))) => c,
            // The body ended, or broke, before the final event.
            Ok(Ok(None)) | Ok(Err(())) => return (seen, Bytes::new()),
        };
        let now = Instant::now();
        parser.push(&chunk, |event| {
            if ended.is_some() {
                return;
            }
            last_event = now;
            seen.e2e = now.saturating_duration_since(origin);
            if event.name == spec.token {
                seen.tokens += 1;
                match last_token {
                    None => seen.ttft = Some(now.saturating_duration_since(origin)),
                    Some(prev) => seen.gaps.push(now.saturating_duration_since(prev)),
                }
                last_token = Some(now);
            } else if event.name == spec.done {
                ended = Some((StreamEnd::Done, event.data));
            } else if event.name == spec.error {
                ended = Some((StreamEnd::Error, event.data));
            }
        });
    }
    let (end, data) = ended.unwrap_or((StreamEnd::Truncated, String::new()));
    seen.end = end;
    // What follows the final event is the body's end, which lets its connection be
    // used again; a body that goes on is left to be dropped with its connection.
    let drain_until = Instant::now() + DRAIN;
    while let Ok(Ok(Some(_))) = timeout_at(drain_until.into(), body.chunk()).await {}
    (seen, Bytes::from(data))
}

/// How long the body's end is awaited after the final event.
const DRAIN: Duration = Duration::from_millis(20);
