//! File exporters: one module per format, each an [`Exporter`] that turns a run's
//! results into bytes. Rendering never fails; writing is the caller's business.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;

use crate::results::{Results, Unit};

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

/// The formats by name, in the order `--format` documents them.
pub const FORMATS: [&str; 4] = ["html", "junit", "md", "json"];

/// The exporter for `name` (one of [`FORMATS`], or `markdown`), if there is one.
pub fn by_name(name: &str) -> Option<Box<dyn Exporter>> {
    match name {
        "html" => Some(Box::new(html::Html)),
        "junit" => Some(Box::new(junit::Junit)),
        "md" | "markdown" => Some(Box::new(markdown::Markdown)),
        "json" => Some(Box::new(json::Json)),
        _ => None,
    }
}

/// Text made safe for XML and HTML, attributes included; control characters XML
/// cannot carry are dropped.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A measured value or limit in its unit, for people.
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ratio => format!("{:.2}%", v * 100.0),
        Unit::Count => format!("{v:.0}"),
        Unit::S => format!("{v:.1} s"),
        _ if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        // Sub-millisecond operations (cache hits, synthesis) would all read 0.0 ms.
        _ if v < 1.0 => format!("{v:.3} ms"),
        _ => format!("{v:.1} ms"),
    }
}

#[cfg(test)]
pub(crate) mod tests;
