//! What the alert components of a chaos run recorded and how each fault's alerts were
//! judged: every notification Alertmanager delivered to the harness's receiver, and per
//! fault the time to detect, the alerts missed, the false alarms and the time to clear.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether a notification says an alert fires or has resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The alert fires.
    Firing,
    /// The alert has stopped firing.
    Resolved,
}

/// One alert in one notification, as the receiver got it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertNotice {
    /// When the notification arrived, seconds from the start of load.
    pub t_s: f64,
    /// The rule's name (`alertname`).
    pub alert: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// The rule's `seed` label: where the rule comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
}

/// What an alert was to the faults of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertRole {
    /// The faults must raise it.
    Expected,
    /// The faults may raise it.
    Tolerated,
    /// Nothing in the run should raise it: each firing is a false alarm.
    Unexpected,
}

impl AlertRole {
    /// The role as the reports say it.
    pub fn word(self) -> &'static str {
        match self {
            AlertRole::Expected => "expected",
            AlertRole::Tolerated => "may fire",
            AlertRole::Unexpected => "false alarm",
        }
    }
}

/// One firing of an alert, seconds from the start of load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertSpan {
    /// When its firing notification arrived.
    pub fired_s: f64,
    /// When its resolved notification arrived; `None` if it had not by the end.
    pub resolved_s: Option<f64>,
}

impl AlertScore {
    /// Its firings as the reports write them: `11.8–23.1, 30.0–` (the last still firing
    /// at the end), or `never`.
    pub fn firings(&self) -> String {
        if self.spans.is_empty() {
            return "never".into();
        }
        self.spans
            .iter()
            .map(|f| match f.resolved_s {
                Some(r) => format!("{:.1}–{r:.1}", f.fired_s),
                None => format!("{:.1}–", f.fired_s),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One alert of a chaos run, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertScore {
    /// The rule's name.
    pub alert: String,
    /// The seed the rule comes from.
    pub seed: String,
    /// Expected, tolerated or unexpected.
    pub role: AlertRole,
    /// Its firings.
    pub spans: Vec<AlertSpan>,
    /// From the fault going in to its first firing notification during the fault or
    /// after; `None` when it never fired then.
    pub detect_s: Option<f64>,
    /// From the fault coming out to its last resolved notification (0 when it resolved
    /// before); `None` when it still fired at the end.
    pub clear_s: Option<f64>,
}

/// The alert record of a chaos run: how the alert components ran, every notification,
/// and each alert judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertsInfo {
    /// The rules' windows: the seeds' own, or shortened and by how much.
    pub windows: String,
    /// What every window was divided by: 1 for the seeds' own.
    pub shortened_by: u32,
    /// How often Prometheus scraped the SUT and evaluated the rules, seconds.
    pub every_s: f64,
    /// How each figure was obtained.
    pub method: String,
    /// Why Prometheus could not scrape the SUT before the load, when it could not (then
    /// no rule saw the SUT and every expected alert is missed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unscraped: Option<String>,
    /// Every notification, in order of arrival.
    pub notices: Vec<AlertNotice>,
    /// Each alert expected or seen.
    pub scores: Vec<AlertScore>,
}

/// How the alert figures are obtained, for the report.
pub const ALERTS_METHOD: &str = "Prometheus scrapes the SUT's /metrics and evaluates the rules every \
     interval; Alertmanager sends each alert, alone in its group, to the harness's webhook receiver, \
     which stamps its arrival. Time to detect: from the fault going in to the first firing \
     notification. Time to clear: from the fault coming out to the resolved notification.";
