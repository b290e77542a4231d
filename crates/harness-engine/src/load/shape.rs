//! A profile settled once into the shape of the load: stages or iterations, peak users,
//! the ramp, and the scored window. The plan makes it; the load generator, the chaos
//! phases, the scorer and the results read it, and none works it out again.

use std::time::Duration;

use crate::results::StageInfo;
use crate::scenario::{Arrival, Model, Profile, Stage};

/// In flight at once under the open model, unless the profile says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1000;

/// The open model's settings: how sends are spaced and how many may be outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenShape {
    /// Constant or Poisson spacing.
    pub arrival: Arrival,
    /// The in-flight cap: a send due while this many are outstanding is dropped and
    /// counted.
    pub max_in_flight: u32,
}

/// The load a run puts on the SUT.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadShape {
    /// Time-bound stages (ramp to N users or R requests a second, then hold); empty for
    /// an iterations profile.
    pub stages: Vec<Stage>,
    /// `Some` for the open model: the stages are rates, not users.
    pub open: Option<OpenShape>,
    /// For an iterations profile: passes through the mix per user.
    pub iterations: Option<u32>,
    /// The most users at any time.
    pub peak_users: u32,
    /// Users started per second (iterations profiles, and the ramp of a held shape).
    pub spawn_rate: f64,
    /// How long the users take to arrive, in whole seconds as Goose counts them.
    pub ramp: Duration,
    /// Unscored seconds at the start.
    pub warmup: Duration,
    /// Samples that start at or after this are not scored (a chaos run scores its
    /// budgets over the baseline only).
    pub scored_until: Option<Duration>,
}

impl LoadShape {
    /// Settles a validated profile.
    ///
    /// ```
    /// use std::time::Duration;
    /// use harness_engine::load::LoadShape;
    /// use harness_engine::scenario::Profile;
    /// let p = Profile {
    ///     users: Some(10),
    ///     spawn_rate: Some(5.0),
    ///     duration: Some(Duration::from_secs(30)),
    ///     ..Profile::default()
    /// };
    /// let shape = LoadShape::settle(&p);
    /// assert_eq!(shape.peak_users, 10);
    /// assert_eq!(shape.ramp, Duration::from_secs(2));
    /// assert_eq!(shape.planned(), Some(Duration::from_secs(30)));
    /// assert_eq!(shape.goose_test_plan().as_deref(), Some("10,2;10,28;0,0"));
    /// ```
    pub fn settle(p: &Profile) -> Self {
        if p.model == Model::Open {
            return Self::settle_open(p);
        }
        let users = p.users.unwrap_or(1);
        let spawn_rate = p.spawn_rate.unwrap_or(f64::from(users));
        let ramp_of_users = p.arrival();
        let stages = if !p.stages.is_empty() {
            p.stages.clone()
        } else {
            match p.duration {
                Some(d) => vec![Stage {
                    users,
                    rate: None,
                    ramp: ramp_of_users,
                    hold: d.saturating_sub(ramp_of_users),
                }],
                None => Vec::new(),
            }
        };
        let peak_users = stages
            .iter()
            .map(|s| s.users)
            .max()
            .or(p.users)
            .unwrap_or(0);
        let (ramp, spawn_rate) = match p.stages.first() {
            Some(s) => (
                s.ramp,
                p.spawn_rate
                    .unwrap_or(f64::from(s.users) / s.ramp.as_secs_f64().max(1.0)),
            ),
            None => (ramp_of_users, spawn_rate),
        };
        LoadShape {
            iterations: stages.is_empty().then(|| p.iterations.unwrap_or(1)),
            stages,
            open: None,
            peak_users,
            spawn_rate,
            ramp,
            warmup: p.warmup.unwrap_or_default(),
            scored_until: None,
        }
    }

    fn settle_open(p: &Profile) -> Self {
        let stages = if p.stages.is_empty() {
            vec![Stage {
                users: 0,
                rate: p.rate,
                ramp: Duration::ZERO,
                hold: p.duration.unwrap_or_default(),
            }]
        } else {
            p.stages.clone()
        };
        LoadShape {
            stages,
            open: Some(OpenShape {
                arrival: p.arrival,
                max_in_flight: p.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            }),
            iterations: None,
            peak_users: 0,
            spawn_rate: 0.0,
            ramp: Duration::ZERO,
            warmup: p.warmup.unwrap_or_default(),
            scored_until: None,
        }
    }

    /// The highest rate of an open-model shape, requests a second (0 for closed).
    pub fn peak_rate(&self) -> f64 {
        self.stages
            .iter()
            .filter_map(|s| s.rate)
            .fold(0.0, f64::max)
    }

    /// The shape of a chaos run: the peak users (or rate), arriving at the same rate,
    /// held until `total` (ramp included), scored until `scored_until`.
    pub fn held_for(&self, total: Duration, scored_until: Duration) -> Self {
        if self.open.is_some() {
            return LoadShape {
                stages: vec![Stage {
                    users: 0,
                    rate: Some(self.peak_rate()),
                    ramp: Duration::ZERO,
                    hold: total,
                }],
                scored_until: Some(scored_until),
                ..self.clone()
            };
        }
        let users = self.peak_users.max(1);
        // All of them arrive at the profile's rate, in whole seconds as Goose counts.
        let ramp = Duration::from_secs((f64::from(users) / self.spawn_rate).ceil().max(0.0) as u64);
        LoadShape {
            stages: vec![Stage {
                users,
                rate: None,
                ramp,
                hold: total.saturating_sub(ramp),
            }],
            open: None,
            iterations: None,
            peak_users: users,
            spawn_rate: self.spawn_rate,
            ramp,
            warmup: self.warmup,
            scored_until: Some(scored_until),
        }
    }

    /// Planned length, if time-bound.
    pub fn planned(&self) -> Option<Duration> {
        (!self.stages.is_empty()).then(|| self.stages.iter().map(|s| s.ramp + s.hold).sum())
    }

    /// The Goose test plan, `users,ramp;users,hold;…;0,0`; `None` for iterations.
    pub fn goose_test_plan(&self) -> Option<String> {
        if self.stages.is_empty() || self.open.is_some() {
            return None;
        }
        let mut steps: Vec<String> = Vec::new();
        for s in &self.stages {
            steps.push(format!("{},{}", s.users, s.ramp.as_secs()));
            steps.push(format!("{},{}", s.users, s.hold.as_secs().max(1)));
        }
        steps.push("0,0".into());
        Some(steps.join(";"))
    }

    /// The stages with their start offsets, each hold cut at the end of the scored
    /// window: what the scorer and the results describe.
    pub fn stage_infos(&self) -> Vec<StageInfo> {
        let mut t = Duration::ZERO;
        self.stages
            .iter()
            .map(|s| {
                let mut info = StageInfo {
                    users: s.users,
                    rate: s.rate,
                    start_s: t.as_secs_f64(),
                    ramp_s: s.ramp.as_secs_f64(),
                    hold_s: s.hold.as_secs_f64(),
                };
                if let Some(until) = self.scored_until {
                    info.hold_s = info
                        .hold_s
                        .min((until.as_secs_f64() - info.start_s - info.ramp_s).max(0.0));
                }
                t += s.ramp + s.hold;
                info
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chaos_shape_holds_the_peak_and_scores_the_baseline() {
        let p = Profile {
            stages: vec![
                Stage {
                    users: 100,
                    rate: None,
                    ramp: Duration::from_secs(10),
                    hold: Duration::from_secs(60),
                },
                Stage {
                    users: 500,
                    rate: None,
                    ramp: Duration::from_secs(30),
                    hold: Duration::from_secs(60),
                },
            ],
            ..Profile::default()
        };
        let s = LoadShape::settle(&p);
        assert_eq!((s.peak_users, s.ramp), (500, Duration::from_secs(10)));
        assert_eq!(s.planned(), Some(Duration::from_secs(160)));
        // 500 users at the first stage's 10 users/s take 50 s to arrive.
        let held = s.held_for(Duration::from_secs(90), Duration::from_secs(70));
        assert_eq!(held.ramp, Duration::from_secs(50));
        assert_eq!(held.goose_test_plan().as_deref(), Some("500,50;500,40;0,0"));
        let info = held.stage_infos();
        assert_eq!((info[0].ramp_s, info[0].hold_s), (50.0, 20.0));
    }

    #[test]
    fn an_iterations_profile_has_no_stages() {
        let p = Profile {
            users: Some(3),
            iterations: Some(2),
            ..Profile::default()
        };
        let s = LoadShape::settle(&p);
        assert_eq!(
            (s.iterations, s.peak_users, s.planned()),
            (Some(2), 3, None)
        );
        assert!(s.goose_test_plan().is_none());
    }
}
