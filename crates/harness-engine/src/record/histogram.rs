//! Latency histograms: HDR, microseconds, 3 significant digits, mergeable, and
//! serializable (V2 + DEFLATE, base64) so results files can be re-rendered and merged.

use crate::results::HistogramSummary;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

/// Highest trackable latency: one hour, in µs. Longer samples are clamped.
const MAX_US: u64 = 3_600_000_000;

/// A stored histogram that cannot be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    /// The text is not base64.
    #[error("histogram: not base64")]
    Base64,
    /// The bytes are not an HDR V2 (DEFLATE) histogram.
    #[error("histogram: not an HDR V2 histogram")]
    Hdr,
    /// The histogram's values lie outside 1 µs to 1 h.
    #[error("histogram: values outside 1 µs to 1 h")]
    Bounds,
}

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// An empty histogram: 1 µs to 1 h, 3 significant digits.
    pub fn new() -> Self {
        // The bounds are constants that hdrhistogram accepts.
        Latency(Histogram::new_with_bounds(1, MAX_US, 3).expect("valid HDR bounds"))
    }

    /// Records one sample.
    pub fn record(&mut self, us: u64) {
        self.0.saturating_record(us.clamp(1, MAX_US));
    }

    /// Adds every sample of `other` (histograms from workers, seconds or machines).
    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides, so this cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The value at percentile `q` (0–100), in µs; 0 when empty.
    pub fn percentile_us(&self, q: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        self.0.value_at_quantile(q / 100.0)
    }

    /// Samples of at most `us` (to HDR resolution).
    pub fn count_at_most(&self, us: u64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        self.0.count_between(0, us.clamp(1, MAX_US))
    }

    /// Mean in µs.
    pub fn mean_us(&self) -> f64 {
        self.0.mean()
    }

    /// Largest sample in µs.
    pub fn max_us(&self) -> u64 {
        self.0.max()
    }

    /// The underlying HDR histogram, for plots.
    pub fn hdr(&self) -> &Histogram<u64> {
        &self.0
    }

    /// A summary with the histogram itself, serialized.
    pub fn summary(&self) -> HistogramSummary {
        HistogramSummary {
            count: self.count(),
            mean_us: self.mean_us(),
            p50_us: self.percentile_us(50.0),
            p95_us: self.percentile_us(95.0),
            p99_us: self.percentile_us(99.0),
            max_us: self.max_us(),
            hdr: self.encode(),
        }
    }

    /// Base64 of the V2-deflate serialization.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::new();
        // Serializing into a Vec only fails on an internal hdrhistogram error.
        if V2DeflateSerializer::new()
            .serialize(&self.0, &mut bytes)
            .is_err()
        {
            return String::new();
        }
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Parses [`encode`](Self::encode)'s output.
    pub fn decode(text: &str) -> Result<Self, HistogramError> {
        if text.is_empty() {
            return Ok(Self::new());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| HistogramError::Base64)?;
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|_| HistogramError::Hdr)?;
        let mut out = Self::new();
        out.0.add(&h).map_err(|_| HistogramError::Bounds)?;
        Ok(out)
    }
}

/// Decoding a stored histogram back into a [`Latency`]: the engine's layer on top of
/// the serde-only [`HistogramSummary`].
pub trait Decode {
    /// The histogram back from its serialized form.
    fn histogram(&self) -> Result<Latency, HistogramError>;
}

impl Decode for HistogramSummary {
    fn histogram(&self) -> Result<Latency, HistogramError> {
        Latency::decode(&self.hdr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_merges() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        for v in 1..=1000 {
            a.record(v * 1000);
            b.record(v * 2000);
        }
        let back = Latency::decode(&a.encode()).expect("decode");
        assert_eq!(back.count(), 1000);
        assert_eq!(back.percentile_us(50.0), a.percentile_us(50.0));
        a.merge(&b);
        assert_eq!(a.count(), 2000);
        let p99 = a.percentile_us(99.0) as f64;
        // The 20th largest of 2,000: b's 1,962 ms.
        assert!((p99 - 1_962_000.0).abs() / 1_962_000.0 < 0.002, "{p99}");
        assert!(Latency::decode("not base64!").is_err());
        assert_eq!(back.count_at_most(500_000), 500);
    }
}
