//! The certificate's exporters, one module per format, each an [`Exporter`] of
//! [`Certificate`] (the one trait, in [`super::exporter`]): `certificate.json`, `certificate.html`,
//! `certificate.md` and `junit.xml` (one testcase per case).

mod html;
mod junit;
mod markdown;

pub use html::Html;
pub use junit::Junit;
pub use markdown::Markdown;

use crate::results::certificate::Certificate;

pub use super::exporter::Exporter;

/// `certificate.json`, pretty-printed.
pub struct Json;

impl Exporter<Certificate> for Json {
    fn file_name(&self) -> &'static str {
        "certificate.json"
    }
    fn render(&self, cert: &Certificate) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(cert).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// Every format of a certificate: the registry ([`super::exporter::Document`]) of
/// [`Certificate`].
///
/// ```
/// use harness::report::certificate::EXPORTERS;
/// assert_eq!(EXPORTERS[2].file_name(), "junit.xml");
/// ```
pub static EXPORTERS: [&dyn Exporter<Certificate>; 4] = [&Json, &Html, &Junit, &Markdown];

#[cfg(test)]
pub(crate) mod tests;
