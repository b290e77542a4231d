//! Failure injection for the LLM fake: which status to answer with, and how often.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::error_body;

/// The error statuses the real API answers with under load or outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u16", try_from = "u16")]
pub enum FailStatus {
    /// 400 `invalid_request_error`: the request's own fault (a prompt over the model's
    /// context, say), which a client must neither retry nor count against the API.
    InvalidRequest,
    /// 429 `rate_limit_error`, with `retry-after`.
    RateLimited,
    /// 500 `api_error`.
    ApiError,
    /// 529 `overloaded_error`.
    Overloaded,
}

impl FailStatus {
    /// The HTTP status code.
    pub fn code(self) -> u16 {
        match self {
            FailStatus::InvalidRequest => 400,
            FailStatus::RateLimited => 429,
            FailStatus::ApiError => 500,
            FailStatus::Overloaded => 529,
        }
    }

    /// The body the real API sends with this status.
    pub fn body(self) -> Value {
        match self {
            FailStatus::InvalidRequest => error_body(
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
            ),
            FailStatus::RateLimited => error_body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
            FailStatus::ApiError => error_body("api_error", "Internal server error"),
            FailStatus::Overloaded => error_body("overloaded_error", "Overloaded"),
        }
    }
}

impl From<FailStatus> for u16 {
    fn from(s: FailStatus) -> u16 {
        s.code()
    }
}

/// A status the LLM fake cannot fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not 400, 429, 500 or 529")]
pub struct StatusError(pub String);

impl TryFrom<u16> for FailStatus {
    type Error = StatusError;
    fn try_from(code: u16) -> Result<Self, StatusError> {
        match code {
            400 => Ok(FailStatus::InvalidRequest),
            429 => Ok(FailStatus::RateLimited),
            500 => Ok(FailStatus::ApiError),
            529 => Ok(FailStatus::Overloaded),
            other => Err(StatusError(other.to_string())),
        }
    }
}

impl FromStr for FailStatus {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, StatusError> {
        let code: u16 = s.trim().parse().map_err(|_| StatusError(s.to_owned()))?;
        FailStatus::try_from(code)
    }
}

impl fmt::Display for FailStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// A failure rate in [0, 1] and the status failed calls get.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FailureMode {
    /// Probability that a call fails.
    pub rate: f64,
    /// What a failed call answers.
    pub status: FailStatus,
}

impl FailureMode {
    /// No failures.
    pub const NONE: FailureMode = FailureMode {
        rate: 0.0,
        status: FailStatus::ApiError,
    };

    /// Builds a mode, rejecting rates outside [0, 1] (and NaN).
    pub fn new(rate: f64, status: FailStatus) -> Result<Self, harness_support::units::ValueError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(harness_support::units::ValueError::RateRange(
                rate.to_string(),
            ));
        }
        Ok(FailureMode { rate, status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_bad_ones_are_named() {
        for s in ["400", "429", "500", "529"] {
            assert_eq!(s.parse::<FailStatus>().expect(s).to_string(), s);
        }
        let err = "503".parse::<FailStatus>().unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
    }

    #[test]
    fn rates_outside_unit_interval_are_rejected() {
        assert!(FailureMode::new(1.5, FailStatus::ApiError).is_err());
        assert!(FailureMode::new(-0.1, FailStatus::ApiError).is_err());
        assert!(FailureMode::new(f64::NAN, FailStatus::ApiError).is_err());
        assert!(FailureMode::new(0.3, FailStatus::Overloaded).is_ok());
    }

    #[test]
    fn error_bodies_have_the_api_shape() {
        let b = FailStatus::Overloaded.body();
        assert_eq!(b["type"], "error");
        assert_eq!(b["error"]["type"], "overloaded_error");
    }
}
