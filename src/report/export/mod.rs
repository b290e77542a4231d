//! File exporters: one module per format, each an [`Exporter`] that turns a run's
//! results into bytes. Rendering never fails; writing is the caller's business.

pub mod junit;
pub mod markdown;

use crate::results::Results;

/// One output format.
///
/// ```
/// use harness::report::export::{by_name, Exporter};
/// let junit = by_name("junit").expect("a known format");
/// assert_eq!(junit.file_name(), "junit.xml");
/// ```
pub trait Exporter {
    /// The file it writes in `reports/<run-id>/`.
    fn file_name(&self) -> &'static str;
    /// The rendered file.
    fn render(&self, results: &Results) -> Vec<u8>;
}

/// The exporter for `name` (`junit`, `md`), if there is one.
pub fn by_name(name: &str) -> Option<Box<dyn Exporter>> {
    match name {
        "junit" => Some(Box::new(junit::Junit)),
        "md" | "markdown" => Some(Box::new(markdown::Markdown)),
        _ => None,
    }
}

/// A measured value or limit in its unit, for people.
pub fn value(unit: &str, v: f64) -> String {
    match unit {
        "ratio" => format!("{:.2}%", v * 100.0),
        "count" => format!("{v:.0}"),
        "s" => format!("{v:.1} s"),
        _ if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        _ => format!("{v:.1} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Results {
        let path = format!(
            "{}/fixtures/results/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        serde_json::from_str(&text).expect("fixture parses")
    }

    #[test]
    fn junit_snapshot() {
        let r = fixture("chaos");
        let xml = String::from_utf8(junit::Junit.render(&r)).expect("utf-8");
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn markdown_snapshot() {
        let r = fixture("chaos");
        let md = String::from_utf8(markdown::Markdown.render(&r)).expect("utf-8");
        insta::assert_snapshot!(md);
    }

    #[test]
    fn unknown_formats_are_none() {
        assert!(by_name("pdf").is_none());
        assert!(by_name("md").is_some());
    }
}
