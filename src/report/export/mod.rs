//! A run's file exporters: one module per format, each an [`Exporter`] of [`Results`]
//! (the one trait, in [`super::exporter`]), and the names `--format` knows them by.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;

pub use super::exporter::Exporter;
use crate::results::{Results, Unit};

/// The formats by name, in the order `--format` documents them; the exporter of each
/// stands at the same place in [`EXPORTERS`].
pub const FORMATS: [&str; 4] = ["html", "junit", "md", "json"];

/// A run's exporters, in [`FORMATS`]' order: the registry
/// ([`super::exporter::Document`]) of [`Results`].
pub static EXPORTERS: [&dyn Exporter<Results>; 4] =
    [&html::Html, &junit::Junit, &markdown::Markdown, &json::Json];

/// The exporter for `name` (one of [`FORMATS`], or `markdown`), if there is one.
///
/// ```
/// use harness::report::export::by_name;
/// let junit = by_name("junit").expect("a known format");
/// assert_eq!(junit.file_name(), "junit.xml");
/// ```
pub fn by_name(name: &str) -> Option<&'static dyn Exporter<Results>> {
    let name = if name == "markdown" { "md" } else { name };
    FORMATS
        .iter()
        .position(|f| *f == name)
        .map(|i| EXPORTERS[i])
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
