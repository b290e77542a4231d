//! The harness's end of the alert components, in-process: the webhook receiver
//! Alertmanager routes every alert to, which records each alert of each notification
//! with the moment it arrived (when on-call would have been paged), and the target list
//! Prometheus discovers the SUT from.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use harness_results::AlertStatus;

/// The path Alertmanager posts to.
pub const PATH: &str = "/alerts";
/// The path Prometheus reads its targets from (HTTP service discovery).
pub const TARGETS: &str = "/targets";

/// One alert of one notification, stamped with its arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// When the notification arrived.
    pub at: Instant,
    /// The rule's name.
    pub alert: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// The rule's `seed` label.
    pub seed: Option<String>,
}

/// Alertmanager's webhook payload (version 4), the parts the harness reads.
#[derive(Debug, Deserialize)]
struct Payload {
    alerts: Vec<PayloadAlert>,
}

#[derive(Debug, Deserialize)]
struct PayloadAlert {
    status: AlertStatus,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

type Log = Arc<Mutex<Vec<Received>>>;
type Target = Arc<Mutex<Option<SocketAddr>>>;

#[derive(Clone, Default)]
struct Shared {
    log: Log,
    target: Target,
}

/// A running receiver. Dropping it stops the server.
pub struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Shared::default();
        let app = Router::new()
            .route(PATH, post(record))
            .route(TARGETS, get(targets))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the alert receiver stopped");
            }
        });
        Ok(Receiver { addr, shared, task })
    }

    /// The URL Alertmanager posts to.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// Both URLs, for the components' configuration.
    pub(crate) fn urls(&self) -> super::ReceiverUrls {
        super::ReceiverUrls {
            alerts: self.url(),
            targets: self.targets_url(),
        }
    }

    /// The URL Prometheus reads its targets from.
    pub fn targets_url(&self) -> String {
        format!("http://{}{TARGETS}", self.addr)
    }

    /// Names the one target Prometheus scrapes from its next refresh on.
    pub fn set_target(&self, sut: SocketAddr) {
        if let Ok(mut t) = self.shared.target.lock() {
            *t = Some(sut);
        }
    }

    /// Everything received so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Prometheus's HTTP service discovery: one target group, empty until one is named.
async fn targets(State(shared): State<Shared>) -> Json<serde_json::Value> {
    let target = shared.target.lock().ok().and_then(|t| *t);
    Json(match target {
        Some(t) => serde_json::json!([{ "targets": [t.to_string()] }]),
        None => serde_json::json!([]),
    })
}

async fn record(State(shared): State<Shared>, Json(payload): Json<Payload>) -> StatusCode {
    let at = Instant::now();
    let Ok(mut log) = shared.log.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    for a in payload.alerts {
        let Some(alert) = a.labels.get("alertname") else {
            continue;
        };
        log.push(Received {
            at,
            alert: alert.clone(),
            status: a.status,
            seed: a.labels.get("seed").cloned(),
        });
    }
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_is_recorded_alert_by_alert_with_its_arrival() {
        let r = Receiver::start().await.expect("receiver");
        let before = Instant::now();
        // Alertmanager's own payload shape (webhook version 4), trimmed.
        let body = serde_json::json!({
            "version": "4", "status": "firing", "receiver": "harness",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am", "groupKey": "{}:{}", "truncatedAlerts": 0,
            "alerts": [
                {"status": "firing", "labels": {"alertname": "RedisDown", "seed": "003"},
                 "annotations": {}, "startsAt": "2026-12-07T00:00:00Z",
                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "a"},
                {"status": "resolved", "labels": {"alertname": "DatabaseDown"},
                 "annotations": {}, "startsAt": "2026-12-07T00:00:00Z",
                 "endsAt": "2026-12-07T00:00:05Z", "generatorURL": "", "fingerprint": "b"}
            ]
        });
        let status = reqwest::Client::new()
            .post(r.url())
            .json(&body)
            .send()
            .await
            .expect("post")
            .status();
        assert_eq!(status, 200);
        let got = r.received();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].alert.as_str(), got[0].status, got[0].seed.as_deref()),
            ("RedisDown", AlertStatus::Firing, Some("003"))
        );
        assert_eq!(
            (got[1].alert.as_str(), got[1].status),
            ("DatabaseDown", AlertStatus::Resolved)
        );
        assert!(got[0].at >= before);
    }

    #[tokio::test]
    async fn the_targets_are_empty_until_one_is_named() {
        let r = Receiver::start().await.expect("receiver");
        let get = || async {
            reqwest::get(r.targets_url())
                .await
                .expect("get")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        };
        assert_eq!(get().await, serde_json::json!([]));
        r.set_target("127.0.0.1:4000".parse().expect("addr"));
        assert_eq!(
            get().await,
            serde_json::json!([{ "targets": ["127.0.0.1:4000"] }])
        );
    }
}
