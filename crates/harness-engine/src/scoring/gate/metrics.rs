//! What the gate judges in each block's results: every latency budget's percentile as
//! the block measured it, the same percentile of each Server-Timing operation no budget
//! names, end to end, the error rate and the fallback share.

use std::collections::BTreeSet;

use crate::results::{Results, Unit};

use super::{MetricScale, Series};

/// One block's value of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The metric.
    pub metric: String,
    /// How its change is measured.
    pub scale: MetricScale,
    /// Its value: ms for a latency, 0 to 1 for a share.
    pub value: f64,
}

/// The metrics of one block's results.
pub fn of(r: &Results) -> Vec<Measured> {
    let ratio = |metric: String, value: f64| Measured {
        metric,
        scale: MetricScale::Ratio,
        value,
    };
    let mut out: Vec<Measured> = r
        .budgets
        .iter()
        .filter(|b| b.unit == Unit::Ms)
        .filter_map(|b| Some(ratio(b.name.clone(), b.measured?)))
        .collect();
    let named: BTreeSet<String> = out.iter().map(|m| m.metric.clone()).collect();
    // The budgets' percentiles, p95 when they name none.
    let mut percentiles: BTreeSet<u32> = named
        .iter()
        .filter_map(|n| n.rsplit_once(".p")?.1.parse().ok())
        .collect();
    if percentiles.is_empty() {
        percentiles.insert(95);
    }
    let at = |h: &crate::results::HistogramSummary, p: u32| match p {
        50 => Some(h.p50_us),
        95 => Some(h.p95_us),
        99 => Some(h.p99_us),
        _ => None,
    };
    for (op, h) in &r.operations {
        for &p in &percentiles {
            let name = format!("{op}.p{p}");
            if let (false, Some(us)) = (named.contains(&name), at(h, p)) {
                out.push(ratio(name, us as f64 / 1000.0));
            }
        }
    }
    for &p in &percentiles {
        if let Some(us) = at(&r.overall, p) {
            out.push(ratio(format!("e2e.p{p}"), us as f64 / 1000.0));
        }
    }
    let requests = r.totals.requests.max(1) as f64;
    let fallbacks: u64 = r
        .totals
        .fallbacks
        .iter()
        .filter(|(kind, _)| kind.as_str() != "none")
        .map(|(_, n)| n)
        .sum();
    for (metric, value) in [
        ("error_rate", r.totals.error_rate),
        ("fallback_share", fallbacks as f64 / requests),
    ] {
        out.push(Measured {
            metric: metric.into(),
            scale: MetricScale::Share,
            value,
        });
    }
    out
}

/// The series of every metric, from each side's blocks in the order they ran. A metric
/// some block lacks is judged on what it has: a block without it reads NaN, which the
/// gate calls INCONCLUSIVE rather than passes.
pub fn series(base: &[Vec<Measured>], head: &[Vec<Measured>]) -> Vec<Series> {
    let mut names: Vec<(String, MetricScale)> = Vec::new();
    for m in base.iter().chain(head).flatten() {
        if !names.iter().any(|(n, _)| *n == m.metric) {
            names.push((m.metric.clone(), m.scale));
        }
    }
    let values = |blocks: &[Vec<Measured>], name: &str| -> Vec<f64> {
        blocks
            .iter()
            .map(|b| {
                b.iter()
                    .find(|m| m.metric == name)
                    .map_or(f64::NAN, |m| m.value)
            })
            .collect()
    };
    names
        .into_iter()
        .map(|(metric, scale)| Series {
            base: values(base, &metric),
            head: values(head, &metric),
            metric,
            scale,
            // Every ratio a block's results give is a latency.
            ms: scale == MetricScale::Ratio,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke() -> Results {
        serde_json::from_str(include_str!("../../../../../fixtures/results/smoke.json"))
            .expect("fixture")
    }

    #[test]
    fn a_block_gives_its_budgets_operations_end_to_end_and_shares() {
        let r = smoke();
        let got = of(&r);
        let find = |n: &str| got.iter().find(|m| m.metric == n);
        for b in r.budgets.iter().filter(|b| b.unit == Unit::Ms) {
            if let Some(v) = b.measured {
                assert_eq!(find(&b.name).map(|m| m.value), Some(v), "{}", b.name);
            }
        }
        let e2e = find("e2e.p95").expect("e2e.p95");
        assert_eq!(e2e.value, r.overall.p95_us as f64 / 1000.0);
        assert_eq!(
            find("error_rate").map(|m| m.scale),
            Some(MetricScale::Share)
        );
        assert!(find("fallback_share").is_some_and(|m| (0.0..=1.0).contains(&m.value)));
        // Every operation appears once, under a budget's name or its own.
        for op in r.operations.keys() {
            let n = got
                .iter()
                .filter(|m| m.metric.starts_with(&format!("{op}.p")))
                .count();
            assert!(n >= 1, "{op} is not judged");
        }
        let mut names: Vec<&str> = got.iter().map(|m| m.metric.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), got.len(), "a metric is judged twice");
    }

    #[test]
    fn series_pair_the_blocks_and_a_missing_metric_reads_nan() {
        let block = |v: f64| {
            vec![Measured {
                metric: "x.p95".into(),
                scale: MetricScale::Ratio,
                value: v,
            }]
        };
        let s = series(&[block(1.0), block(2.0)], &[block(3.0), Vec::new()]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].base, vec![1.0, 2.0]);
        assert_eq!(s[0].head[0], 3.0);
        assert!(s[0].head[1].is_nan());
    }
}
