//! A fake of the LLM API (Anthropic Messages API shape) on wiremock, with a seeded
//! latency model and failure injection that can be switched while it runs. With
//! `"stream": true` it answers Server-Sent Events, paced token by token, with stream
//! faults of their own (`StreamFault`).
//!
//! wiremock keeps a clone of every matched request, even with recording disabled, so a
//! long run would grow without bound. The fake therefore rotates: once `rotate_after`
//! requests have been retained it resets the server and mounts the mock again, which
//! frees them. wiremock has no atomic reset-and-remount, so a request handled between the
//! two gets a 404. Callers never see it: they talk to a thin front (`front.rs`) that
//! forwards to wiremock and replays a request that hit a rotation window. The rotation
//! waits for a quiet moment (no call for 1 ms) and is forced at four times the
//! threshold, which bounds memory. `benches/llm_fake_memory.rs` measures memory and
//! lost answers with and without rotation.

mod api;
mod failure;
mod front;
mod profile;
mod responder;
mod stream;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

pub use api::{validate, AnswerStyle, ValidRequest};
pub use failure::{FailStatus, FailureMode, StatusError};
pub use profile::{find_profile, load_profiles, LatencyProfile, ProfileError};
pub use stream::{StreamFault, StreamFaultError};

use front::Rotation;
pub use responder::Answered;
use responder::{Responder, Shared};

/// How to start the fake.
#[derive(Debug, Clone)]
pub struct LlmFakeConfig {
    /// The latency model.
    pub profile: LatencyProfile,
    /// Seed for latency and failure draws, so runs are repeatable.
    pub seed: u64,
    /// How many recent request bodies to keep for assertions.
    pub history: usize,
    /// Retained requests that trigger a rotation (see the module docs).
    pub rotate_after: u64,
}

impl Default for LlmFakeConfig {
    fn default() -> Self {
        LlmFakeConfig {
            profile: LatencyProfile::instant(),
            seed: 0x5eed,
            history: 256,
            rotate_after: 10_000,
        }
    }
}

/// Errors starting the fake.
#[derive(Debug, thiserror::Error)]
pub enum LlmFakeError {
    /// The loopback listener could not be bound.
    #[error("LLM fake: cannot bind a loopback port")]
    Bind(#[source] std::io::Error),
    /// The configured profile is not usable.
    #[error("LLM fake: invalid latency profile")]
    Profile(#[source] ProfileError),
}

/// A running LLM fake. Dropping it stops the server.
#[derive(Debug)]
pub struct LlmFake {
    address: SocketAddr,
    control: LlmControl,
    rotator: tokio::task::JoinHandle<()>,
    front: tokio::task::JoinHandle<()>,
    // Kept alive for the front; dropping it stops wiremock.
    _server: Arc<MockServer>,
}

impl LlmFake {
    /// Starts the fake on a free loopback port.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness_llm_fake::LlmFakeError> {
    /// use harness_llm_fake::{LlmFake, LlmFakeConfig};
    /// let fake = LlmFake::start(LlmFakeConfig::default()).await?;
    /// println!("POST {}/v1/messages", fake.uri());
    /// # Ok(()) }
    /// ```
    pub async fn start(config: LlmFakeConfig) -> Result<Self, LlmFakeError> {
        config.profile.validate().map_err(LlmFakeError::Profile)?;
        let listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(LlmFakeError::Bind)?;
        let server = Arc::new(
            MockServer::builder()
                .listener(listener)
                .disable_request_recording()
                .start()
                .await,
        );
        let shared = Arc::new(Shared::new(config.profile, config.seed, config.history));
        server.register(messages_mock(&shared)).await;
        let rotation = Arc::new(Rotation::default());
        let front_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(LlmFakeError::Bind)?;
        let address = front_listener.local_addr().map_err(LlmFakeError::Bind)?;
        let front = front::spawn(
            front_listener,
            shared.clone(),
            server.uri(),
            rotation.clone(),
        );
        let control = LlmControl {
            shared: shared.clone(),
            rotation: rotation.clone(),
        };
        let rotator = tokio::spawn(rotate(
            server.clone(),
            shared,
            rotation,
            config.rotate_after.max(1),
        ));
        Ok(LlmFake {
            address,
            control,
            rotator,
            front,
            _server: server,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The socket address the fake listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A cheap, cloneable handle to switch failures and read counters while it runs.
    pub fn control(&self) -> LlmControl {
        self.control.clone()
    }
}

impl Drop for LlmFake {
    fn drop(&mut self) {
        self.rotator.abort();
        self.front.abort();
    }
}

fn messages_mock(shared: &Arc<Shared>) -> Mock {
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(Responder(shared.clone()))
}

async fn rotate(
    server: Arc<MockServer>,
    shared: Arc<Shared>,
    rotation: Arc<Rotation>,
    threshold: u64,
) {
    loop {
        let retained = shared.retained.load(Ordering::Relaxed);
        if retained < threshold {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let now_us = shared.started.elapsed().as_micros() as u64;
        let quiet = now_us.saturating_sub(shared.last_call_us.load(Ordering::Relaxed)) > 1_000;
        if quiet || retained >= threshold.saturating_mul(4) {
            rotation.active.store(true, Ordering::Release);
            server.reset().await;
            server.register(messages_mock(&shared)).await;
            shared.retained.store(0, Ordering::Relaxed);
            rotation.count.fetch_add(1, Ordering::Release);
            rotation.active.store(false, Ordering::Release);
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Switches failures and latency, and reads what reached the fake.
#[derive(Debug, Clone)]
pub struct LlmControl {
    shared: Arc<Shared>,
    rotation: Arc<Rotation>,
}

impl LlmControl {
    /// Makes a fraction of the following calls fail with the given status.
    pub fn set_failure(&self, mode: FailureMode) {
        *self
            .shared
            .failure
            .write()
            .unwrap_or_else(|p| p.into_inner()) = mode;
    }

    /// The failure mode in force.
    pub fn failure(&self) -> FailureMode {
        *self
            .shared
            .failure
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the latency model for the following calls.
    pub fn set_profile(&self, profile: LatencyProfile) -> Result<(), LlmFakeError> {
        profile.validate().map_err(LlmFakeError::Profile)?;
        *self
            .shared
            .profile
            .write()
            .unwrap_or_else(|p| p.into_inner()) = profile;
        Ok(())
    }

    /// Sets how the following answers read (grounded by default).
    pub fn set_answers(&self, style: AnswerStyle) {
        *self.shared.style.write().unwrap_or_else(|p| p.into_inner()) = style;
    }

    /// Calls received so far, valid or not.
    pub fn calls(&self) -> u64 {
        self.shared.calls.load(Ordering::Relaxed)
    }

    /// Calls answered with an injected failure.
    pub fn injected_failures(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// The most recent request bodies, oldest first (JSON, or a string if not JSON).
    pub fn recent_requests(&self) -> Vec<Value> {
        let h = self
            .shared
            .history
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        h.iter().cloned().collect()
    }

    /// The most recent answered calls, oldest first, each with the time the fake took
    /// to answer it: what a caller's own timing of the call cannot undercut.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), harness_llm_fake::LlmFakeError> {
    /// use harness_llm_fake::{LlmFake, LlmFakeConfig};
    /// let fake = LlmFake::start(LlmFakeConfig::default()).await?;
    /// for call in fake.control().answered() {
    ///     println!("{} ms for {}", call.took.as_millis(), call.body["model"]);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn answered(&self) -> Vec<Answered> {
        let a = self
            .shared
            .answered
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        a.iter().cloned().collect()
    }

    /// Sets the fault on the following streamed answers (`"stream": true`).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use harness_llm_fake::{LlmFake, LlmFakeConfig, StreamFault};
    /// let fake = LlmFake::start(LlmFakeConfig::default()).await?;
    /// fake.control().set_stream_fault("stall:3:2s".parse::<StreamFault>()?);
    /// # Ok(()) }
    /// ```
    pub fn set_stream_fault(&self, fault: StreamFault) {
        *self
            .shared
            .stream_fault
            .write()
            .unwrap_or_else(|p| p.into_inner()) = fault;
    }

    /// The fault on the following streamed answers.
    pub fn stream_fault(&self) -> StreamFault {
        self.shared.stream_fault()
    }

    /// Streamed answers begun.
    pub fn streams(&self) -> u64 {
        self.shared.streams.load(Ordering::Relaxed)
    }

    /// Streamed answers whose caller went away before their end: cancelled calls.
    pub fn disconnects(&self) -> u64 {
        self.shared.disconnects.load(Ordering::Relaxed)
    }

    /// How many times wiremock's retained requests were freed.
    pub fn rotations(&self) -> u64 {
        self.rotation.count.load(Ordering::Relaxed)
    }
}
