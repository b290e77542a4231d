//! The certificate's exporters, one module per format, each an [`Exporter`] of
//! [`Certificate`] (the one trait, in [`crate::report::exporter`]): `certificate.json`, `certificate.html`,
//! `certificate.md` and `junit.xml` (one testcase per case).

mod html;
mod junit;
mod markdown;

pub use html::Html;
pub use junit::Junit;
pub use markdown::Markdown;

use crate::results::certificate::{CaseResult, Certificate, ClauseJudgement};

pub use crate::report::exporter::Exporter;

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

/// Every format of a certificate: the registry ([`crate::report::exporter::Document`]) of
/// [`Certificate`].
///
/// ```
/// use harness::commands::certify::report::EXPORTERS;
/// assert_eq!(EXPORTERS[2].file_name(), "junit.xml");
/// ```
pub static EXPORTERS: [&dyn Exporter<Certificate>; 4] = [&Json, &Html, &Junit, &Markdown];

impl crate::report::exporter::Document for Certificate {
    fn exporters() -> &'static [&'static dyn Exporter<Self>] {
        &EXPORTERS
    }
}

/// The cases that judged clause `id` (those the catalogue lists for it, and any other
/// that charged it), each with its verdict on that clause alone, when it gave one.
fn judged<'a>(
    c: &'a Certificate,
    id: &'a str,
    listed: &'a [String],
) -> impl Iterator<Item = (&'a CaseResult, Option<&'a ClauseJudgement>)> + 'a {
    c.cases.iter().filter_map(move |r| {
        let j = r.clause_verdicts.iter().find(|j| j.clause == id);
        (listed.contains(&r.id) || j.is_some()).then_some((r, j))
    })
}

#[cfg(test)]
pub(crate) mod tests;
