//! Load profiles: how many users, how fast they arrive, and for how long. Every profile
//! normalises to a list of stages (ramp to N users, then hold), which is also how the
//! scorer knows how many users were active when.

use std::time::Duration;

use serde::Deserialize;

use crate::units::serde_duration;

/// A profile as written: either `users` + `spawn_rate` + (`duration` or `iterations`),
/// or explicit `stages`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
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

/// Ramp to `users` over `ramp`, then hold for `hold`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Users at the end of the ramp.
    pub users: u32,
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
        if !self.stages.is_empty() {
            if self.users.is_some() || self.duration.is_some() || self.iterations.is_some() {
                return err(
                    "stages",
                    "use either stages or users/duration/iterations, not both",
                );
            }
            for (i, s) in self.stages.iter().enumerate() {
                if s.users == 0 || s.hold.is_zero() {
                    return err(&format!("stages[{i}]"), "users and hold must be positive");
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

    /// How long `users` take to arrive at `spawn_rate`, in whole seconds as Goose's
    /// test plans count them.
    pub fn arrival(&self) -> Duration {
        let users = self.users.unwrap_or(1) as f64;
        let rate = self.spawn_rate.unwrap_or(users);
        Duration::from_secs((users / rate).max(0.0).ceil() as u64)
    }
}
