//! Load profiles: how many users, how fast they arrive, and for how long (the closed
//! model), or how many requests a second are sent whatever the answers (the open model).
//! Every profile normalises to a list of stages (ramp to N users or R requests a second,
//! then hold), which is also how the scorer knows how much load there was when.

use std::time::Duration;

use serde::Deserialize;

use crate::units::serde_duration;

/// Closed model (users that wait for each answer) or open model (requests on a schedule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// `users` each send, wait for the answer, think, and send again (Goose).
    #[default]
    Closed,
    /// Requests are sent at `rate` a second whether or not earlier ones were answered;
    /// latency counts from each request's intended send time.
    Open,
}

/// How open-model sends are spaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Evenly: one every `1 / rate` seconds.
    #[default]
    Constant,
    /// As a Poisson process: exponential gaps with mean `1 / rate`.
    Poisson,
}

/// A profile as written. Closed model: `users` + `spawn_rate` + (`duration` or
/// `iterations`), or `stages` of users. Open model (`model = "open"`): `rate` +
/// `duration`, or `stages` of rates, with `arrival` and `max_in_flight`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Closed (default) or open.
    #[serde(default)]
    pub model: Model,
    /// Open model: requests a second.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Open model: how sends are spaced.
    #[serde(default)]
    pub arrival: Arrival,
    /// Open model: the most requests in flight; a send due while this many are
    /// outstanding is not made, and is counted as dropped.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Concurrent users.
    #[serde(default)]
    pub users: Option<u32>,
    /// Users started per second.
    #[serde(default)]
    pub spawn_rate: Option<f64>,
    /// Total length, ramp included.
    #[serde(default, deserialize_with = "serde_duration::optional")]
    pub duration: Option<Duration>,
    /// Instead of a duration: passes through the transaction mix per user.
    #[serde(default)]
    pub iterations: Option<u32>,
    /// Explicit stages, e.g. 100 users then 500.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Seconds at the start that are not scored (caches warm, pools fill).
    #[serde(default, deserialize_with = "serde_duration::optional")]
    pub warmup: Option<Duration>,
}

/// Ramp to `users` (closed model) or `rate` (open model) over `ramp`, then hold for
/// `hold`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Users at the end of the ramp (closed model; 0 in an open-model stage).
    #[serde(default)]
    pub users: u32,
    /// Requests a second at the end of the ramp (open model).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Ramp length.
    #[serde(deserialize_with = "serde_duration::required")]
    pub ramp: Duration,
    /// Hold length.
    #[serde(deserialize_with = "serde_duration::required")]
    pub hold: Duration,
}

impl Profile {
    /// Checks the combination of fields; `Err((field, message))`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |f: &str, m: &str| Err((f.to_owned(), m.to_owned()));
        if self.model == Model::Open {
            return self.validate_open();
        }
        for (field, set) in [
            ("rate", self.rate.is_some()),
            ("max_in_flight", self.max_in_flight.is_some()),
            ("arrival", self.arrival != Arrival::Constant),
        ] {
            if set {
                return err(field, "applies to model = \"open\" only");
            }
        }
        if !self.stages.is_empty() {
            if self.users.is_some() || self.duration.is_some() || self.iterations.is_some() {
                return err(
                    "stages",
                    "use either stages or users/duration/iterations, not both",
                );
            }
            for (i, s) in self.stages.iter().enumerate() {
                if s.users == 0 || s.hold.is_zero() || s.rate.is_some() {
                    return err(
                        &format!("stages[{i}]"),
                        "users and hold must be positive (rate is for model = \"open\")",
                    );
                }
            }
            return Ok(());
        }
        match self.users {
            None | Some(0) => return err("users", "must be at least 1"),
            Some(_) => {}
        }
        if let Some(r) = self.spawn_rate {
            if !(r.is_finite() && r > 0.0) {
                return err(
                    "spawn_rate",
                    "must be a positive number of users per second",
                );
            }
        }
        match (self.duration, self.iterations) {
            (Some(_), Some(_)) => err("duration", "give duration or iterations, not both"),
            (None, None) => err("duration", "give duration or iterations"),
            (None, Some(0)) => err("iterations", "must be at least 1"),
            (Some(d), None) if d <= self.arrival() => err(
                "duration",
                "must be longer than the ramp (users / spawn_rate)",
            ),
            _ => Ok(()),
        }
    }

    fn validate_open(&self) -> Result<(), (String, String)> {
        let err = |f: &str, m: &str| Err((f.to_owned(), m.to_owned()));
        let positive = |r: f64| r.is_finite() && r > 0.0;
        for (field, set) in [
            ("users", self.users.is_some()),
            ("spawn_rate", self.spawn_rate.is_some()),
            ("iterations", self.iterations.is_some()),
        ] {
            if set {
                return err(
                    field,
                    "applies to the closed model; an open profile sets rate",
                );
            }
        }
        if self.max_in_flight == Some(0) {
            return err("max_in_flight", "must be at least 1");
        }
        if !self.stages.is_empty() {
            if self.rate.is_some() || self.duration.is_some() {
                return err("stages", "use either stages or rate/duration, not both");
            }
            for (i, s) in self.stages.iter().enumerate() {
                if !s.rate.is_some_and(positive) || s.hold.is_zero() || s.users != 0 {
                    return err(
                        &format!("stages[{i}]"),
                        "an open stage needs a positive rate and hold, and no users",
                    );
                }
            }
            return Ok(());
        }
        match (self.rate, self.duration) {
            (None, _) => err(
                "rate",
                "an open profile needs rate (requests a second) or stages",
            ),
            (Some(r), _) if !positive(r) => err("rate", "must be a positive number a second"),
            (_, None) => err("duration", "an open profile needs a duration"),
            (_, Some(d)) if d.is_zero() => err("duration", "must be positive"),
            _ => Ok(()),
        }
    }

    /// How long `users` take to arrive at `spawn_rate`, in whole seconds as Goose's
    /// test plans count them.
    pub fn arrival(&self) -> Duration {
        let users = self.users.unwrap_or(1) as f64;
        let rate = self.spawn_rate.unwrap_or(users);
        Duration::from_secs((users / rate).max(0.0).ceil() as u64)
    }
}
