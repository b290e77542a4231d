//! How long each exporter takes and how large its file is, for a real run and for the
//! same run stretched to a soak's length (one point per second, so a 1 h soak has 3,600
//! points in every chart over time).
//!
//! `cargo bench --bench report_render [-- RESULTS.json [SECONDS ...]]`
//! (default: `fixtures/results/chaos.json`, stretched to 600 and 3,600 s)

use std::path::PathBuf;
use std::time::Instant;

use harness::report::export::html::charts::windows::stretch;
use harness::report::export::{by_name, FORMATS};
use harness::report::files;
use harness::results::Results;

const RUNS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(label: &str, r: &Results) {
    println!(
        "{label}: {} points over time, {} budgets",
        r.timeline.len(),
        r.budgets.len()
    );
    for name in FORMATS {
        let Some(e) = by_name(name) else { continue };
        let mut times = Vec::with_capacity(RUNS);
        let mut bytes = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let out = e.render(r);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes = out.len();
        }
        let min = times.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "  {:<12} median {:>8.2} ms  (min {:>8.2} ms, n={RUNS})  {:>9} bytes",
            e.file_name(),
            median(times),
            min,
            bytes
        );
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/chaos.json").into()
    });
    let mut lengths: Vec<u64> = args
        .map(|a| {
            a.parse()
                .map_err(|e| anyhow::anyhow!("SECONDS: `{a}`: {e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    if lengths.is_empty() {
        lengths = vec![600, 3600];
    }
    let r = files::load(&path)?;
    measure(&format!("{} as recorded", path.display()), &r);
    for s in lengths {
        measure(&format!("stretched to {s} s"), &stretch(&r, s));
    }
    Ok(())
}
