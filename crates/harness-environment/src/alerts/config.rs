//! The configuration of the alert components, the same for both backends: Prometheus
//! scrapes the targets the harness's receiver lists (HTTP service discovery, so the SUT
//! can be named once it listens, with no file to change inside a container) and
//! evaluates the rule files; Alertmanager sends every alert, alone in its group and at
//! once, to the receiver, resolved ones too.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::AlertsConfig;
use crate::EnvError;

/// Where the components find their files and keep their data: under the session's
/// directory (native), or at fixed paths inside their containers (docker).
#[derive(Debug, Clone)]
pub(crate) struct Files {
    /// `prometheus.yml`.
    pub prometheus: PathBuf,
    /// `alertmanager.yml`.
    pub alertmanager: PathBuf,
    /// The directory of the rule files.
    pub rules: PathBuf,
    /// Prometheus's data directory.
    pub prometheus_data: PathBuf,
    /// Alertmanager's data directory.
    pub alertmanager_data: PathBuf,
}

impl Files {
    /// Everything under `dir`, for child processes.
    pub fn under(dir: &Path) -> Files {
        Files {
            prometheus: dir.join("prometheus.yml"),
            alertmanager: dir.join("alertmanager.yml"),
            rules: dir.join("rules"),
            prometheus_data: dir.join("prometheus-data"),
            alertmanager_data: dir.join("alertmanager-data"),
        }
    }

    /// Inside a container: configuration copied in at creation, data where the
    /// official images' user may write.
    pub fn in_container() -> Files {
        Files {
            prometheus: "/etc/harness/prometheus.yml".into(),
            alertmanager: "/etc/harness/alertmanager.yml".into(),
            rules: "/etc/harness/rules".into(),
            prometheus_data: "/tmp/prometheus-data".into(),
            alertmanager_data: "/tmp/alertmanager-data".into(),
        }
    }
}

fn interval(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// `alertmanager.yml`: every alert in a group of its own (`...`), sent as soon as it
/// fires, and each change of a group sent within one interval, so that the receiver's
/// clock is the page's.
pub(crate) fn alertmanager(config: &AlertsConfig, receiver_url: &str) -> String {
    format!(
        "route:\n  receiver: harness\n  group_by: ['...']\n  group_wait: 0s\n  \
         group_interval: {every}\n  repeat_interval: 24h\n\
         receivers:\n  - name: harness\n    webhook_configs:\n      - url: '{receiver_url}'\n        \
         send_resolved: true\n",
        every = interval(config.every),
    )
}

/// `prometheus.yml`: the targets from `targets_url`, the rules in `files.rules`, and
/// Alertmanager at `alertmanager`.
pub(crate) fn prometheus(
    files: &Files,
    config: &AlertsConfig,
    alertmanager: SocketAddr,
    targets_url: &str,
) -> String {
    let every = interval(config.every);
    format!(
        "global:\n  scrape_interval: {every}\n  scrape_timeout: {every}\n  \
         evaluation_interval: {every}\n\
         rule_files:\n  - '{rules}/*'\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n\
         scrape_configs:\n  - job_name: sut\n    http_sd_configs:\n      - url: '{targets_url}'\n        \
         refresh_interval: {every}\n",
        rules = files.rules.display(),
    )
}

/// Writes the rule files and Alertmanager's configuration under `files` (native), and
/// makes the data directories; Prometheus's file needs Alertmanager's address and comes
/// from [`write`] once it is known.
pub(crate) fn write_native(
    files: &Files,
    config: &AlertsConfig,
    receiver_url: &str,
) -> Result<(), EnvError> {
    for d in [
        &files.rules,
        &files.prometheus_data,
        &files.alertmanager_data,
    ] {
        std::fs::create_dir_all(d)
            .map_err(|e| EnvError::io(format!("create {}", d.display()), e))?;
    }
    for r in &config.rules {
        write(&files.rules.join(&r.name), &r.text)?;
    }
    write(&files.alertmanager, &alertmanager(config, receiver_url))
}

/// Writes `text` to `path`.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), EnvError> {
    std::fs::write(path, text).map_err(|e| EnvError::io(format!("write {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_goes_alone_and_at_once_and_the_targets_come_from_the_receiver() {
        let config = AlertsConfig {
            rules: Vec::new(),
            every: Duration::from_secs(1),
        };
        let am = alertmanager(&config, "http://127.0.0.1:9/alerts");
        for want in [
            "group_by: ['...']",
            "group_wait: 0s",
            "group_interval: 1000ms",
            "send_resolved: true",
        ] {
            assert!(am.contains(want), "{want} in {am}");
        }
        let files = Files::in_container();
        let addr: SocketAddr = "127.0.0.1:9093".parse().expect("addr");
        let p = prometheus(&files, &config, addr, "http://127.0.0.1:9/targets");
        for want in [
            "scrape_interval: 1000ms",
            "evaluation_interval: 1000ms",
            "'/etc/harness/rules/*'",
            "targets: ['127.0.0.1:9093']",
            "url: 'http://127.0.0.1:9/targets'",
        ] {
            assert!(p.contains(want), "{want} in {p}");
        }
    }
}
