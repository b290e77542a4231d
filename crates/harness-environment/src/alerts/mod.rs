//! The alert components of the environment: Prometheus, which scrapes the SUT's
//! `/metrics` and evaluates the alert rules, and Alertmanager, which routes every alert
//! to a webhook receiver the harness runs in-process. The receiver stamps each
//! notification with its arrival, so a chaos run can say when on-call would have been
//! paged and when the page cleared.
//!
//! Both backends start the same two programs with the same configuration: the native
//! backend as child processes (Debian's `prometheus` and `prometheus-alertmanager`) with
//! their files in the session's directory, the docker backend as containers on the host
//! network with their files copied in. Prometheus learns its target from the receiver,
//! which names the SUT once it listens ([`Alerting::scrape`]).

pub(crate) mod config;
pub(crate) mod docker;
mod receiver;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use receiver::Received;
pub(crate) use receiver::Receiver;

use crate::EnvError;

/// One rule file, as Prometheus is to evaluate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// Its file name, e.g. `seed.yml`.
    pub name: String,
    /// Its text.
    pub text: String,
}

/// What the alert components are started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsConfig {
    /// The rules.
    pub rules: Vec<RuleFile>,
    /// How often Prometheus scrapes and evaluates, and Alertmanager sends a group's
    /// changes.
    pub every: Duration,
}

/// The program names each backend runs.
pub mod program {
    /// Prometheus: the same name in Debian's package and upstream.
    pub const PROMETHEUS: &str = "prometheus";
    /// Alertmanager: Debian's name first, then upstream's.
    pub const ALERTMANAGER: [&str; 2] = ["prometheus-alertmanager", "alertmanager"];
}

/// Where a backend's alert components listen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertServices {
    pub prometheus: SocketAddr,
    pub alertmanager: SocketAddr,
}

/// The receiver's two URLs, which the components' configuration names.
#[derive(Debug, Clone)]
pub(crate) struct ReceiverUrls {
    /// Where Alertmanager posts its notifications.
    pub alerts: String,
    /// Where Prometheus reads its targets.
    pub targets: String,
}

/// Running alert components and the receiver of their notifications.
pub struct Alerting {
    services: AlertServices,
    receiver: Receiver,
}

impl std::fmt::Debug for Alerting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerting")
            .field("prometheus", &self.services.prometheus)
            .field("alertmanager", &self.services.alertmanager)
            .finish()
    }
}

/// The command-line arguments each program runs with, for both backends.
pub(crate) mod args {
    use super::config::Files;
    use std::net::SocketAddr;

    /// Prometheus on `listen`, with the lifecycle API so the targets can change.
    pub fn prometheus(files: &Files, listen: SocketAddr) -> Vec<String> {
        vec![
            format!("--config.file={}", files.prometheus.display()),
            format!("--storage.tsdb.path={}", files.prometheus_data.display()),
            format!("--web.listen-address={listen}"),
            "--storage.tsdb.retention.time=1d".into(),
            "--log.level=warn".into(),
        ]
    }

    /// Alertmanager on `listen`, alone: an empty cluster address turns gossip off.
    pub fn alertmanager(files: &Files, listen: SocketAddr) -> Vec<String> {
        vec![
            format!("--config.file={}", files.alertmanager.display()),
            format!("--storage.path={}", files.alertmanager_data.display()),
            format!("--web.listen-address={listen}"),
            "--cluster.listen-address=".into(),
            "--log.level=warn".into(),
        ]
    }
}

impl Alerting {
    pub(crate) fn new(services: AlertServices, receiver: Receiver) -> Alerting {
        Alerting { services, receiver }
    }

    /// Prometheus's URL.
    pub fn prometheus_url(&self) -> String {
        format!("http://{}", self.services.prometheus)
    }

    /// Alertmanager's URL.
    pub fn alertmanager_url(&self) -> String {
        format!("http://{}", self.services.alertmanager)
    }

    /// Names `sut` as the target Prometheus scrapes, and waits until a scrape of it
    /// has succeeded, so that the rules see the SUT from the first second of load.
    pub async fn scrape(&self, sut: SocketAddr, timeout: Duration) -> Result<(), EnvError> {
        self.target(sut);
        let url = format!(
            "{}/api/v1/query?query=up%7Bjob%3D%22sut%22%7D",
            self.prometheus_url()
        );
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            match client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(r) => match r.json::<serde_json::Value>().await {
                    Ok(v) if scraped_up(&v, sut) => return Ok(()),
                    Ok(_) => last = "the SUT's target is not up yet".into(),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(EnvError::NotReady {
            service: "prometheus (scraping the SUT)",
            timeout,
            reason: last,
            log_tail: None,
        })
    }

    /// Names `sut` as the target Prometheus scrapes, without waiting for a scrape.
    pub fn target(&self, sut: SocketAddr) {
        self.receiver.set_target(sut);
    }

    /// Every alert notification received so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.receiver.received()
    }
}

/// Whether an instant query of `up{job="sut"}` says `sut` was scraped and answered.
fn scraped_up(v: &serde_json::Value, sut: SocketAddr) -> bool {
    let want = sut.to_string();
    v.pointer("/data/result")
        .and_then(|r| r.as_array())
        .is_some_and(|rows| {
            rows.iter().any(|row| {
                row.pointer("/metric/instance").and_then(|i| i.as_str()) == Some(want.as_str())
                    && row.pointer("/value/1").and_then(|x| x.as_str()) == Some("1")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_answered_scrape_of_this_sut_counts() {
        let sut: SocketAddr = "127.0.0.1:4000".parse().expect("addr");
        let row = |instance: &str, up: &str| {
            serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"__name__": "up", "instance": instance, "job": "sut"},
                 "value": [1765000000.0, up]}
            ]}})
        };
        assert!(scraped_up(&row("127.0.0.1:4000", "1"), sut));
        assert!(!scraped_up(&row("127.0.0.1:4000", "0"), sut));
        assert!(!scraped_up(&row("127.0.0.1:4001", "1"), sut));
        assert!(!scraped_up(
            &serde_json::json!({"data": {"result": []}}),
            sut
        ));
    }
}
