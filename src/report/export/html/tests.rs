//! The page's structure: every chart present as valid SVG that draws something, the
//! fault window shaded, and nothing fetched from elsewhere.

use super::*;
use crate::report::export::tests::fixture;
use crate::results::PhaseName;

fn page(name: &str) -> String {
    String::from_utf8(Html.render(&fixture(name))).expect("utf-8")
}

/// The `<svg>…</svg>` inside the figure with `id`.
fn chart_svg<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("<figure class=\"chart\" id=\"{id}\">");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("figure #{id} missing"));
    let figure = &html[start..];
    let end = figure.find("</figure>").expect("figure closes");
    let figure = &figure[..end];
    let svg_start = figure
        .find("<svg")
        .unwrap_or_else(|| panic!("#{id} has no SVG: {}", &figure[..figure.len().min(300)]));
    let svg_end = figure.rfind("</svg>").expect("svg closes") + "</svg>".len();
    &figure[svg_start..svg_end]
}

const IDS: [&str; 6] = [
    "latency-distribution",
    "latency-over-time",
    "throughput-errors",
    "fallback-rate",
    "budgets",
    "status-mix",
];

#[test]
fn every_chart_is_present_and_valid_svg() {
    for fixture_name in ["chaos", "smoke"] {
        let html = page(fixture_name);
        assert!(html.contains(&format!("data-charts=\"{}\"", IDS.len())));
        for id in IDS {
            let svg = chart_svg(&html, id);
            let doc = roxmltree::Document::parse(svg)
                .unwrap_or_else(|e| panic!("{fixture_name} #{id}: not valid SVG: {e}"));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg", "{fixture_name} #{id}");
            assert_eq!(
                root.tag_name().namespace(),
                Some("http://www.w3.org/2000/svg")
            );
            assert!(
                root.attribute("viewBox").is_some(),
                "{fixture_name} #{id} scales"
            );
            let marks = doc
                .descendants()
                .filter(|n| matches!(n.tag_name().name(), "polyline" | "path" | "rect"))
                .count();
            let labels = doc
                .descendants()
                .filter(|n| n.tag_name().name() == "text")
                .count();
            assert!(marks > 5, "{fixture_name} #{id} draws {marks} marks");
            // Browsers refuse negative sizes (a one-row chart once drew one).
            for n in doc.descendants().filter(|n| n.has_tag_name("rect")) {
                for attr in ["width", "height"] {
                    let size: f64 = n
                        .attribute(attr)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| panic!("{fixture_name} #{id}: rect without {attr}"));
                    assert!(size >= 0.0, "{fixture_name} #{id}: rect {attr} {size}");
                }
            }
            assert!(labels > 3, "{fixture_name} #{id} has {labels} labels");
        }
    }
}

#[test]
fn the_verdict_comes_first_and_every_section_is_there() {
    let html = page("chaos");
    let verdict = html.find("id=\"verdict\"").expect("verdict");
    let charts = html.find("id=\"charts\"").expect("charts");
    assert!(verdict < charts, "the verdict is above the charts");
    for id in [
        "phases",
        "budgets-table",
        "environment",
        "scenario",
        "command",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section #{id}");
    }
    assert!(html.contains("harness chaos --scenario chaos-fast --llm-fail 1.0"));
    assert!(html.contains("<dt>cores</dt><dd>2</dd>"));
}

#[test]
fn the_fault_window_is_shaded_on_the_time_charts() {
    let r = fixture("chaos");
    let fault = r
        .phases
        .iter()
        .find(|p| p.name == PhaseName::Fault)
        .expect("fault phase");
    let html = page("chaos");
    for id in ["latency-over-time", "throughput-errors", "fallback-rate"] {
        let svg = chart_svg(&html, id);
        let doc = roxmltree::Document::parse(svg).expect("svg");
        assert!(
            doc.descendants()
                .any(|n| n.text().map(str::trim) == Some("fault: llm-fail 1 (500)")),
            "#{id} names the fault window"
        );
        // The band is a translucent red rectangle as wide as the fault phase.
        let width = fault.end_s - fault.start_s;
        let bands: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "rect" && n.attribute("fill") == Some("#D62728"))
            .collect();
        assert!(!bands.is_empty(), "#{id} has a fault band");
        let x_span = r.timeline.len() as f64;
        let band_px: f64 = bands[0]
            .attribute("width")
            .and_then(|w| w.parse().ok())
            .expect("width");
        let plot_px = 960.0 - 12.0 * 2.0 - 64.0;
        let share = band_px / plot_px;
        assert!(
            (share - width / x_span).abs() < 0.12,
            "#{id}: band is {share:.2} of the plot, the fault {:.2} of the run",
            width / x_span
        );
    }
}

#[test]
fn a_chaos_runs_status_mix_shows_its_phases() {
    let r = fixture("chaos");
    let html = page("chaos");
    let doc = roxmltree::Document::parse(chart_svg(&html, "status-mix")).expect("svg");
    let labels: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.text().map(str::trim))
        .collect();
    for phase in ["baseline", "fault", "recovery"] {
        assert!(labels.contains(&phase), "{phase}: {labels:?}");
    }
    // Totals cover the baseline only, so an "all" row would mislead.
    assert!(!labels.contains(&"all"), "{labels:?}");
    let ok: u64 = r.phases.iter().filter_map(|p| p.statuses.get("200")).sum();
    assert!(
        labels.contains(&format!("200 ({ok})").as_str()),
        "{labels:?}"
    );
}

#[test]
fn nothing_is_fetched_from_elsewhere() {
    for name in ["chaos", "smoke"] {
        let html = page(name);
        for needle in ["<link", "src=", "@import", "url(", "href=\"http", "<iframe"] {
            assert!(!html.contains(needle), "{name}: found {needle}");
        }
    }
}

#[test]
fn text_from_the_results_is_escaped() {
    let mut r = fixture("smoke");
    r.scenario.name = "<script>alert(1)</script>".into();
    let html = String::from_utf8(Html.render(&r)).expect("utf-8");
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn an_hour_long_run_is_drawn_in_windows_with_its_fault_still_shaded() {
    let r = charts::windows::stretch(&fixture("chaos"), 3600);
    let html = String::from_utf8(Html.render(&r)).expect("utf-8");
    for id in ["latency-over-time", "throughput-errors", "fallback-rate"] {
        let doc = roxmltree::Document::parse(chart_svg(&html, id)).expect("svg");
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(
            texts.iter().any(|t| t.contains("(6-s windows)")),
            "#{id} says its windows"
        );
        assert!(
            texts.iter().any(|t| t.trim() == "fault: llm-fail 1 (500)"),
            "#{id} names the fault window"
        );
        // The longest line (the gap-free one) has one point per 6-s window.
        let longest = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| {
                n.attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .count()
            })
            .max()
            .unwrap_or(0);
        assert!((500..=600).contains(&longest), "#{id}: {longest} points");
    }
}

/// A run whose transactions stream has the TTFT and ITL chart, and with `--slo` the
/// goodput chart; each draws a line. A run without streams has neither.
#[test]
fn streams_and_goodput_have_their_charts_only_when_the_run_has_them() {
    use crate::record::{Correction, Recorded, Sample, Slo, StreamSample};
    use crate::results::StreamEnd;
    let plain = page("smoke");
    assert!(!plain.contains("id=\"ttft-itl\"") && !plain.contains("id=\"goodput\""));
    let mut rec = Recorded::scoring(std::time::Duration::ZERO, None)
        .with_slo(Some("ttft=150ms".parse::<Slo>().expect("slo")));
    let ms = std::time::Duration::from_millis;
    for i in 0..40u64 {
        rec.add(
            &Sample {
                transaction: "chat".into(),
                at: ms(i * 250),
                latency: ms(300),
                status: Some(200),
                stream: Some(StreamSample {
                    ttft: Some(ms(100 + (i % 2) * 100)),
                    gaps: vec![ms(10); 9],
                    tokens: 10,
                    end: StreamEnd::Done,
                    e2e: ms(300),
                }),
                ..Sample::default()
            },
            Correction::None,
        );
    }
    let mut r = fixture("smoke");
    r.timeline = (0..rec.seconds.len())
        .map(|t| rec.seconds[t].to_point(t as u64))
        .collect();
    r.streams = rec.stream_results(10.0);
    r.goodput = rec.goodput();
    let html = String::from_utf8(Html.render(&r)).expect("utf-8");
    for id in ["ttft-itl", "goodput"] {
        let svg = chart_svg(&html, id);
        assert!(svg.contains("<polyline"), "#{id} draws no line");
    }
    assert!(html.contains("goodput (ttft=150ms)"));
}
