//! One shard of a load split across processes or machines (`--shard I/N`): its share of
//! the users or of the arrival rate, on the same schedule as every other shard, with
//! user numbers and feeder rows that no other shard uses. What the shards record is
//! merged afterwards (`harness merge`) and scored on the whole.

use std::fmt;

use super::shape::{LoadShape, OpenShape};

/// Shard `index` of `count` (0-based). [`Shard::WHOLE`] is an unsharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// How many shards make the whole load.
    pub count: u32,
}

/// A `--shard` value that is not `I/N` with 0 ≤ I < N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not I/N with 0 <= I < N, such as 0/3")]
pub struct ShardSyntax(pub String);

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole load in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N`.
    ///
    /// ```
    /// use harness_engine::load::Shard;
    /// assert_eq!(Shard::parse("1/3").ok(), Some(Shard { index: 1, count: 3 }));
    /// assert!(Shard::parse("3/3").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Shard, ShardSyntax> {
        let bad = || ShardSyntax(text.to_owned());
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether this is one part of a split load.
    pub fn is_part(self) -> bool {
        self.count > 1
    }

    /// This shard's share of `total` users: the remainder goes to the lowest indices, so
    /// the shares add up to `total` exactly.
    pub fn users(self, total: u32) -> u32 {
        total / self.count + u32::from(self.index < total % self.count)
    }

    /// This shard's share of an arrival rate or a spawn rate.
    pub fn rate(self, total: f64) -> f64 {
        total / f64::from(self.count)
    }

    /// The run-wide number of this shard's `local`-th user: shard I numbers its users
    /// I, I + N, I + 2N, …, so no two shards share one and the shards of `total` users
    /// together number them 0 to `total` − 1.
    pub fn user(self, local: usize) -> usize {
        local * self.count as usize + self.index as usize
    }

    /// This shard's part of `shape`: the same stages at the same times, each with this
    /// shard's share of the users or of the rate, ramps at a share of the spawn rate,
    /// and a share of the in-flight cap.
    pub fn split(self, shape: &LoadShape) -> LoadShape {
        if !self.is_part() {
            return shape.clone();
        }
        let stages = shape
            .stages
            .iter()
            .map(|s| crate::scenario::Stage {
                users: self.users(s.users),
                rate: s.rate.map(|r| self.rate(r)),
                ..*s
            })
            .collect();
        LoadShape {
            stages,
            open: shape.open.map(|o| OpenShape {
                max_in_flight: o.max_in_flight.div_ceil(self.count).max(1),
                ..o
            }),
            peak_users: self.users(shape.peak_users),
            spawn_rate: self.rate(shape.spawn_rate),
            // The ramp keeps its length: every shard arrives over the same seconds.
            ramp: shape.ramp,
            iterations: shape.iterations,
            warmup: shape.warmup,
            scored_until: shape.scored_until,
        }
    }

    /// A seed for this shard's random arrivals, so that shards do not send in lockstep.
    pub fn seed(self, base: u64) -> u64 {
        base.wrapping_add(u64::from(self.index).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario::{Profile, Stage};

    /// Both shapes run the same stages at the same times.
    fn same_schedule(a: &LoadShape, b: &LoadShape) -> bool {
        a.planned() == b.planned()
            && a.stages
                .iter()
                .map(|s| (s.ramp, s.hold))
                .collect::<Vec<(Duration, Duration)>>()
                == b.stages
                    .iter()
                    .map(|s| (s.ramp, s.hold))
                    .collect::<Vec<_>>()
    }

    #[test]
    fn shares_add_up_and_user_numbers_are_disjoint() {
        for total in [0u32, 1, 2, 7, 100] {
            for n in 1..=4u32 {
                let shards: Vec<Shard> = (0..n).map(|index| Shard { index, count: n }).collect();
                assert_eq!(shards.iter().map(|s| s.users(total)).sum::<u32>(), total);
                let mut numbers: Vec<usize> = shards
                    .iter()
                    .flat_map(|s| (0..s.users(total) as usize).map(move |l| s.user(l)))
                    .collect();
                numbers.sort_unstable();
                assert_eq!(
                    numbers,
                    (0..total as usize).collect::<Vec<_>>(),
                    "{total}/{n}"
                );
            }
        }
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in ["", "1", "0/0", "2/2", "-1/2", "a/b", "1/2/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse(" 0 / 1 ").ok(), Some(Shard::WHOLE));
    }

    #[test]
    fn a_split_keeps_the_schedule_and_shares_the_load() {
        let p = Profile {
            stages: vec![
                Stage {
                    users: 10,
                    rate: None,
                    ramp: Duration::from_secs(5),
                    hold: Duration::from_secs(20),
                },
                Stage {
                    users: 31,
                    rate: None,
                    ramp: Duration::from_secs(10),
                    hold: Duration::from_secs(20),
                },
            ],
            spawn_rate: Some(3.0),
            ..Profile::default()
        };
        let whole = LoadShape::settle(&p);
        let parts: Vec<LoadShape> = (0..3)
            .map(|index| Shard { index, count: 3 }.split(&whole))
            .collect();
        for part in &parts {
            assert!(same_schedule(part, &whole));
            assert_eq!(part.ramp, whole.ramp);
            assert!((part.spawn_rate - 1.0).abs() < 1e-9);
        }
        let second: Vec<u32> = parts.iter().map(|s| s.stages[1].users).collect();
        assert_eq!(second, vec![11, 10, 10]);
        let open = LoadShape::settle(&Profile {
            model: crate::scenario::Model::Open,
            rate: Some(90.0),
            duration: Some(Duration::from_secs(10)),
            ..Profile::default()
        });
        let part = Shard { index: 2, count: 3 }.split(&open);
        assert_eq!(part.peak_rate(), 30.0);
        assert_eq!(part.open.map(|o| o.max_in_flight), Some(334));
        assert_ne!(
            Shard { index: 0, count: 3 }.seed(7),
            Shard { index: 1, count: 3 }.seed(7)
        );
    }
}
