//! LLM latency profiles: a log-normal base latency plus a fixed cost per output token,
//! loaded from `fixtures/llm_profiles.toml`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use harness_support::datafile::DataFileError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// How long the fake takes to answer one request.
///
/// The base latency (the prefill: time to first token) is log-normal, which is how real
/// API latency is skewed; decoding adds `per_output_token_ms` for every token after the
/// first. A streamed answer sends its tokens at those times; a whole one comes at once
/// when the last is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyProfile {
    /// Median base latency in milliseconds.
    pub base_ms: f64,
    /// Log-normal shape (sigma of the underlying normal); 0 makes the base constant.
    #[serde(default)]
    pub spread: f64,
    /// Milliseconds per generated token.
    #[serde(default)]
    pub per_output_token_ms: f64,
    /// Tokens generated per answer, capped by the request's `max_tokens`.
    pub output_tokens: u64,
}

impl LatencyProfile {
    /// Answers at once: for measuring the service rather than its LLM.
    pub fn instant() -> Self {
        LatencyProfile {
            base_ms: 0.0,
            spread: 0.0,
            per_output_token_ms: 0.0,
            output_tokens: 64,
        }
    }

    /// Checks that every field is finite and non-negative.
    pub fn validate(&self) -> Result<(), ProfileError> {
        for (field, v) in [
            ("base_ms", self.base_ms),
            ("spread", self.spread),
            ("per_output_token_ms", self.per_output_token_ms),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(ProfileError { field, value: v });
            }
        }
        Ok(())
    }

    /// Tokens an answer to a request with this `max_tokens` will have.
    pub fn output_tokens_for(&self, max_tokens: u64) -> u64 {
        self.output_tokens.min(max_tokens).max(1)
    }

    /// Draws one time to first token: the log-normal base.
    pub fn prefill<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let z: f64 = StandardNormal.sample(rng);
        let ms = self.base_ms * (self.spread * z).exp();
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }

    /// The time each token after the first takes to decode.
    pub fn decode(&self) -> Duration {
        Duration::from_secs_f64(self.per_output_token_ms / 1000.0)
    }

    /// Draws one latency for a whole answer of `output_tokens` tokens: the prefill, then
    /// a decode for each token after the first, as a stream of them would take.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, output_tokens: u64) -> Duration {
        self.prefill(rng) + self.decode() * output_tokens.saturating_sub(1) as u32
    }

    /// The true median latency for answers of `output_tokens` tokens.
    pub fn median(&self, output_tokens: u64) -> Duration {
        Duration::from_secs_f64(self.base_ms / 1000.0)
            + self.decode() * output_tokens.saturating_sub(1) as u32
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    profiles: BTreeMap<String, LatencyProfile>,
}

/// A latency profile field that is negative or not a number.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{field} must be a finite number >= 0, got {value}")]
pub struct ProfileError {
    /// The field.
    pub field: &'static str,
    /// Its value.
    pub value: f64,
}

/// Loads every profile in a profiles file, naming the file and profile on error.
pub fn load_profiles(path: &Path) -> Result<BTreeMap<String, LatencyProfile>, DataFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
    let file: ProfileFile =
        toml::from_str(&text).map_err(|e| DataFileError::toml(path, &text, &e))?;
    for (name, p) in &file.profiles {
        p.validate()
            .map_err(|e| DataFileError::invalid(path, format!("profiles.{name}"), e))?;
    }
    Ok(file.profiles)
}

/// Finds one profile by name; `instant` is always available.
pub fn find_profile(path: &Path, name: &str) -> Result<LatencyProfile, DataFileError> {
    if name == "instant" {
        return Ok(LatencyProfile::instant());
    }
    let all = load_profiles(path)?;
    let known: Vec<&str> = all.keys().map(String::as_str).collect();
    all.get(name).cloned().ok_or_else(|| {
        DataFileError::invalid(
            path,
            format!("profiles.{name}"),
            format!(
                "no such LLM latency profile (known: instant, {})",
                known.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn median_of(profile: &LatencyProfile, n: usize, seed: u64) -> f64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut v: Vec<f64> = (0..n)
            .map(|_| {
                profile
                    .sample(&mut rng, profile.output_tokens)
                    .as_secs_f64()
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v[n / 2]
    }

    #[test]
    fn sample_median_matches_profile_median_within_5_percent() {
        let profile = LatencyProfile {
            base_ms: 400.0,
            spread: 0.35,
            per_output_token_ms: 12.0,
            output_tokens: 150,
        };
        let want = profile.median(150).as_secs_f64();
        let got = median_of(&profile, 20_001, 7);
        assert!((got - want).abs() / want < 0.05, "median {got} vs {want}");
    }

    #[test]
    fn same_seed_same_samples() {
        let p = LatencyProfile {
            base_ms: 100.0,
            spread: 0.5,
            per_output_token_ms: 1.0,
            output_tokens: 10,
        };
        assert_eq!(median_of(&p, 101, 3), median_of(&p, 101, 3));
    }

    #[test]
    fn shipped_profiles_load_and_validate() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/llm_profiles.toml");
        let all = load_profiles(&path).expect("shipped profiles load");
        assert!(all.contains_key("realistic"), "{:?}", all.keys());
        let err = find_profile(&path, "nope").unwrap_err().to_string();
        assert!(
            err.contains("nope") && err.contains("llm_profiles.toml"),
            "{err}"
        );
    }

    #[test]
    fn negative_values_are_rejected_with_the_field_name() {
        let mut p = LatencyProfile::instant();
        p.per_output_token_ms = -1.0;
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("per_output_token_ms"));
    }
}
