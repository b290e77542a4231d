//! The one parser for each kind of value a user writes: durations, rates, bandwidths.
//! Flags (through clap's value parsers), scenario files and fault specs all use these,
//! so `10s` means the same thing, and zero is refused the same way, everywhere.

use std::time::Duration;

/// A value that is not what was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a duration with a unit.
    #[error("'{0}' is not a duration with a unit such as 500ms, 10s or 2m")]
    Duration(String),
    /// A zero duration where something must take time.
    #[error("'{0}' must be greater than 0")]
    ZeroDuration(String),
    /// Not a number.
    #[error("'{0}' is not a number (a rate from 0 to 1, e.g. 0.5)")]
    Rate(String),
    /// A rate outside [0, 1].
    #[error("{0} is outside 0..1")]
    RateRange(String),
    /// Not a positive whole number of KB/s.
    #[error("'{0}' is not a positive number of KB/s")]
    Kbps(String),
    /// Not a percentage with its sign.
    #[error("`{0}` is not a percentage; write e.g. 10%")]
    Percent(String),
    /// Not a moment in time.
    #[error(
        "'{0}' is not a time: write RFC 3339 (2026-12-04T08:00:00Z) or Unix seconds (@1796371200)"
    )]
    Time(String),
}

/// A duration with a unit (`300ms`, `10s`, `2m`), greater than zero.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(harness_support::units::duration("1m 30s"), Ok(Duration::from_secs(90)));
/// assert!(harness_support::units::duration("0s").is_err());
/// assert!(harness_support::units::duration("10").is_err());
/// ```
pub fn duration(text: &str) -> Result<Duration, ValueError> {
    let d = duration_or_zero(text)?;
    if d.is_zero() {
        return Err(ValueError::ZeroDuration(text.to_owned()));
    }
    Ok(d)
}

/// A moment: RFC 3339 in UTC (`2026-12-04T08:00:00Z`) or Unix seconds (`@1796371200`).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = harness_support::units::time("@1796371200").expect("a time");
/// assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_796_371_200));
/// assert_eq!(harness_support::units::time("2026-12-04T08:00:00Z"), Ok(t));
/// assert!(harness_support::units::time("tomorrow").is_err());
/// ```
pub fn time(text: &str) -> Result<std::time::SystemTime, ValueError> {
    let t = text.trim();
    let bad = || ValueError::Time(text.to_owned());
    match t.strip_prefix('@') {
        Some(secs) => secs
            .parse::<u64>()
            .map(|s| std::time::UNIX_EPOCH + Duration::from_secs(s))
            .map_err(|_| bad()),
        None => humantime::parse_rfc3339(t).map_err(|_| bad()),
    }
}

/// A duration with a unit, zero allowed (a think time of `0s`, a ramp of `0s`).
pub fn duration_or_zero(text: &str) -> Result<Duration, ValueError> {
    humantime::parse_duration(text.trim()).map_err(|_| ValueError::Duration(text.to_owned()))
}

/// A fraction from 0 to 1, both included.
///
/// ```
/// assert_eq!(harness_support::units::rate("0.25"), Ok(0.25));
/// assert!(harness_support::units::rate("1.5").is_err());
/// ```
pub fn rate(text: &str) -> Result<f64, ValueError> {
    let r: f64 = text
        .trim()
        .parse()
        .map_err(|_| ValueError::Rate(text.to_owned()))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(ValueError::RateRange(text.trim().to_owned()))
    }
}

/// A percentage with its sign (`10%`, `2.5 %`), as a fraction: finite and not negative.
///
/// ```
/// assert_eq!(harness_support::units::percent("10%"), Ok(0.10));
/// assert!(harness_support::units::percent("10").is_err());
/// assert!(harness_support::units::percent("-1%").is_err());
/// ```
pub fn percent(text: &str) -> Result<f64, ValueError> {
    let bad = || ValueError::Percent(text.to_owned());
    let n: f64 = text
        .trim()
        .strip_suffix('%')
        .ok_or_else(bad)?
        .trim()
        .parse()
        .map_err(|_| bad())?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad());
    }
    Ok(n / 100.0)
}

/// A positive whole number of KB/s.
///
/// ```
/// assert_eq!(harness_support::units::kbps("8"), Ok(8));
/// assert!(harness_support::units::kbps("0").is_err());
/// ```
pub fn kbps(text: &str) -> Result<u32, ValueError> {
    match text.trim().parse::<u32>() {
        Ok(k) if k > 0 => Ok(k),
        _ => Err(ValueError::Kbps(text.to_owned())),
    }
}

/// Serde glue: a duration written as text in a data file, through
/// [`duration_or_zero`]; the file's validation says where zero is wrong.
pub mod serde_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    /// A required duration.
    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::duration_or_zero(&s).map_err(serde::de::Error::custom)
    }

    /// An optional duration.
    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        required(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_need_their_sign() {
        assert_eq!(percent("10%"), Ok(0.10));
        assert_eq!(percent(" 2.5 %"), Ok(0.025));
        for bad in ["10", "ten%", "-5%", "", "inf%"] {
            let e = percent(bad).unwrap_err().to_string();
            assert!(e.contains("not a percentage"), "{e}");
        }
    }
}
