//! The certificate's exporters, one module per format, each a [`CertExporter`] that
//! turns a certificate into bytes: `certificate.json`, `certificate.html`,
//! `certificate.md` and `junit.xml` (one testcase per case).

mod html;
mod junit;
mod markdown;

use std::path::Path;

pub use html::Html;
pub use junit::Junit;
pub use markdown::Markdown;

use crate::results::certificate::Certificate;

/// One output format of a certificate.
///
/// ```
/// use harness::report::certificate::{CertExporter, Junit};
/// assert_eq!(Junit.file_name(), "junit.xml");
/// ```
pub trait CertExporter {
    /// The file it writes.
    fn file_name(&self) -> &'static str;
    /// The rendered file.
    fn render(&self, cert: &Certificate) -> Vec<u8>;
}

/// `certificate.json`, pretty-printed.
pub struct Json;

impl CertExporter for Json {
    fn file_name(&self) -> &'static str {
        "certificate.json"
    }
    fn render(&self, cert: &Certificate) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(cert).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// Every format.
pub fn all() -> [&'static dyn CertExporter; 4] {
    [&Json, &Html, &Junit, &Markdown]
}

/// Writes every format into `dir`, creating it.
pub fn write(cert: &Certificate, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for e in all() {
        std::fs::write(dir.join(e.file_name()), e.render(cert))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
