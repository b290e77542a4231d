//! Runs beside the load: applies the faults at the start of the fault phase and removes
//! them at its end, recording when each happened, and samples `/health` and the LLM
//! fake's call counter throughout, so every figure has a per-second series.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::spec::ChaosSpec;
use super::Inject;
use crate::environment::Environment;
use crate::llm::LatencyProfile;
pub use crate::results::{Event, EventAction, HealthSample};

/// How often `/health` is asked.
pub const HEALTH_EVERY: Duration = Duration::from_millis(500);
/// How long one `/health` answer may take before it counts as no answer.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the LLM fake's counter is read.
pub const LLM_EVERY: Duration = Duration::from_millis(250);

/// Everything the driver saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Faults applied and removed.
    pub events: Vec<Event>,
    /// `/health` samples.
    pub health: Vec<HealthSample>,
    /// (seconds from the start of load, calls that reached the LLM fake so far).
    pub llm_calls: Vec<(f64, u64)>,
    /// The LLM fake's streamed answers, begun and cancelled, over the run.
    #[serde(default)]
    pub llm_streams: Option<crate::results::StreamCalls>,
    /// The alert notifications received, when the alert components ran (filled in by
    /// the run from the receiver, not by the driver).
    #[serde(default)]
    pub alerts: Option<Vec<crate::results::AlertNotice>>,
    /// Why Prometheus could not scrape the SUT, when it could not.
    #[serde(default)]
    pub unscraped: Option<String>,
}

impl Observed {
    /// The first fault that could not be applied or removed.
    pub fn first_error(&self) -> Option<&Event> {
        self.events.iter().find(|e| e.error.is_some())
    }
}

impl From<&crate::results::ChaosInfo> for Observed {
    /// What a driver saw, read back from its record (shard 0 of a sharded chaos run).
    fn from(info: &crate::results::ChaosInfo) -> Observed {
        Observed {
            events: info.events.clone(),
            health: info.health.clone(),
            llm_calls: info.llm_readings.iter().map(|r| (r.t_s, r.calls)).collect(),
            llm_streams: info.llm_streams,
            alerts: info.alerts.as_ref().map(|a| a.notices.clone()),
            unscraped: info.alerts.as_ref().and_then(|a| a.unscraped.clone()),
        }
    }
}

/// Parses a `/health` body (contract HEALTH-1).
pub fn parse_health(t_s: f64, http: Option<u16>, body: &serde_json::Value) -> HealthSample {
    let components = body
        .get("components")
        .and_then(|c| c.as_object())
        .map(|c| {
            c.iter()
                .filter_map(|(k, v)| {
                    let s = v.get("status").and_then(|s| s.as_str())?;
                    Some((k.clone(), s.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    HealthSample {
        t_s,
        http,
        status: body
            .get("status")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
        components,
        breaker: body
            .pointer("/components/llm/circuit_breaker")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
    }
}

/// Drives the fault timeline of `spec` against `env` while the load runs, from `epoch`
/// (the start of load) until the phases are over or `done` turns true.
pub async fn drive(
    spec: &ChaosSpec,
    env: &Environment,
    base_url: &str,
    epoch: Instant,
    baseline_llm: &LatencyProfile,
    mut done: watch::Receiver<bool>,
) -> Observed {
    let seen = RefCell::new(Observed::default());
    let since = |at: Instant| at.saturating_duration_since(epoch).as_secs_f64();
    let end = epoch + spec.phases.total();

    let schedule = async {
        tokio::time::sleep_until((epoch + spec.phases.fault_start()).into()).await;
        for f in &spec.faults {
            let error = f.apply(env).await.err().map(|e| e.to_string());
            seen.borrow_mut().events.push(Event {
                t_s: since(Instant::now()),
                action: EventAction::Apply,
                fault: f.to_string(),
                error,
            });
        }
        tokio::time::sleep_until((epoch + spec.phases.fault_end()).into()).await;
        for f in &spec.faults {
            let error = f
                .remove(env, baseline_llm)
                .await
                .err()
                .map(|e| e.to_string());
            seen.borrow_mut().events.push(Event {
                t_s: since(Instant::now()),
                action: EventAction::Remove,
                fault: f.to_string(),
                error,
            });
        }
    };

    let client = reqwest::Client::builder()
        .timeout(HEALTH_TIMEOUT)
        .build()
        .unwrap_or_default();
    let url = format!("{base_url}/health");
    let health = async {
        let mut tick = tokio::time::interval(HEALTH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while Instant::now() < end {
            tick.tick().await;
            let asked = Instant::now();
            let (http, body) = match client.get(&url).send().await {
                Ok(r) => {
                    let code = r.status().as_u16();
                    (
                        Some(code),
                        r.json().await.unwrap_or(serde_json::Value::Null),
                    )
                }
                Err(_) => (None, serde_json::Value::Null),
            };
            // The sample belongs to when it was asked: a slow answer describes then.
            seen.borrow_mut()
                .health
                .push(parse_health(since(asked), http, &body));
        }
    };

    let llm = env.llm();
    let calls = async {
        let mut tick = tokio::time::interval(LLM_EVERY);
        while Instant::now() < end {
            tick.tick().await;
            seen.borrow_mut()
                .llm_calls
                .push((since(Instant::now()), llm.calls()));
        }
    };

    let (begun, cancelled) = (llm.streams(), llm.disconnects());
    tokio::select! {
        _ = async { tokio::join!(schedule, health, calls) } => {}
        _ = done.wait_for(|d| *d) => {}
    }
    let mut seen = seen.into_inner();
    let begun = llm.streams().saturating_sub(begun);
    seen.llm_streams = (begun > 0).then(|| crate::results::StreamCalls {
        begun,
        cancelled: llm.disconnects().saturating_sub(cancelled),
    });
    seen
}
