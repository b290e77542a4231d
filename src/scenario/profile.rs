//! Load profiles: how many users, how fast they arrive, and for how long. Every profile
//! normalises to a list of stages (ramp to N users, then hold), which is also how the
//! scorer knows how many users were active when.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

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
    #[serde(default, deserialize_with = "opt_duration")]
    pub duration: Option<Duration>,
    /// Instead of a duration: passes through the transaction mix per user.
    #[serde(default)]
    pub iterations: Option<u32>,
    /// Explicit stages, e.g. 100 users then 500.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Seconds at the start that are not scored (caches warm, pools fill).
    #[serde(default, deserialize_with = "opt_duration")]
    pub warmup: Option<Duration>,
}

/// Ramp to `users` over `ramp`, then hold for `hold`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Users at the end of the ramp.
    pub users: u32,
    /// Ramp length.
    #[serde(deserialize_with = "duration")]
    pub ramp: Duration,
    /// Hold length.
    #[serde(deserialize_with = "duration")]
    pub hold: Duration,
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s)
        .map_err(|e| serde::de::Error::custom(format!("'{s}': {e} (write e.g. \"30s\", \"5m\")")))
}

pub(super) fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
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
            (Some(d), None) if d <= self.ramp() => err(
                "duration",
                "must be longer than the ramp (users / spawn_rate)",
            ),
            _ => Ok(()),
        }
    }

    fn ramp(&self) -> Duration {
        let users = self.users.unwrap_or(1) as f64;
        let rate = self.spawn_rate.unwrap_or(users);
        // Goose's test plans count whole seconds.
        Duration::from_secs((users / rate).max(0.0).ceil() as u64)
    }

    /// The stages this profile runs; empty for an iterations profile.
    pub fn stages(&self) -> Vec<Stage> {
        if !self.stages.is_empty() {
            return self.stages.clone();
        }
        match (self.users, self.duration) {
            (Some(users), Some(d)) => {
                let ramp = self.ramp();
                vec![Stage {
                    users,
                    ramp,
                    hold: d.saturating_sub(ramp),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The most users at any time.
    pub fn peak_users(&self) -> u32 {
        self.stages()
            .iter()
            .map(|s| s.users)
            .max()
            .or(self.users)
            .unwrap_or(0)
    }

    /// This profile's peak users, arriving at its spawn rate and held until `total`
    /// (ramp included): the shape of a chaos run, whose phases set the length.
    pub fn held_for(&self, total: Duration) -> Profile {
        let spawn_rate = self.spawn_rate.or_else(|| {
            self.stages
                .first()
                .map(|s| f64::from(s.users) / s.ramp.as_secs_f64().max(1.0))
        });
        Profile {
            users: Some(self.peak_users().max(1)),
            spawn_rate,
            duration: Some(total),
            iterations: None,
            stages: Vec::new(),
            warmup: self.warmup,
        }
    }

    /// How long the users take to arrive.
    pub fn ramp_time(&self) -> Duration {
        match self.stages.first() {
            Some(s) => s.ramp,
            None => self.ramp(),
        }
    }

    /// Planned length, if time-bound.
    pub fn planned(&self) -> Option<Duration> {
        let st = self.stages();
        (!st.is_empty()).then(|| st.iter().map(|s| s.ramp + s.hold).sum())
    }
}
