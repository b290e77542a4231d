//! `certificate.html`: the outcome, the subject and the digests on top with a bar of
//! clause verdicts; then one section per clause with each of its cases' evidence (the
//! case's verdict on that clause and what its checks of it observed, the expectation,
//! figures, the transcript, and how to reproduce it).

use std::fmt::Write;

use super::Exporter;
use crate::report::export::escape;
use crate::report::export::html::{SELF_CHECK, STYLE};
use crate::results::certificate::{CaseResult, Certificate, ClauseJudgement, Verdict};

/// The HTML exporter.
pub struct Html;

const EXTRA_STYLE: &str = ".v-PASS{color:#17663a}.v-FAIL,.v-ERROR{color:#a11}\
.v-NON-STRICT,.v-NOT_RUN,.v-EXCLUDED{color:#8a5a00}\
details pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5em}\
section.clause{border-top:1px solid #ddd;margin-top:1em}";

fn color(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "#2e8b57",
        Verdict::Fail | Verdict::Error => "#c0392b",
        Verdict::NonStrict => "#e67e22",
        Verdict::NotRun | Verdict::Excluded => "#b0b0b0",
        Verdict::Informational | Verdict::Unimplemented => "#5b7db1",
    }
}

/// A clause's text, which `sut/CONTRACT.md` writes in Markdown (code spans, emphasis,
/// `- ` lists), as HTML. Raw HTML in it is shown as text and links as their words only:
/// a certificate can be re-rendered from an edited JSON file, and its page runs no
/// script and fetches nothing.
fn markdown(text: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let events = Parser::new(text).filter_map(|e| match e {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { .. } | Tag::Image { .. })
        | Event::End(TagEnd::Link | TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A bar of the clauses' verdicts, one segment per verdict, widths by count.
fn verdict_bar(h: &mut String, c: &Certificate) {
    let order = [
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Unimplemented,
        Verdict::NotRun,
        Verdict::Excluded,
        Verdict::Error,
        Verdict::Fail,
    ];
    let total = c.clauses.len().max(1) as f64;
    let mut x = 0.0;
    h.push_str("<figure class=\"chart\"><svg viewBox=\"0 0 600 60\" width=\"600\" height=\"60\" role=\"img\" aria-label=\"clause verdicts\">");
    for v in order {
        let n = c.clauses.iter().filter(|cl| cl.verdict == v).count();
        if n == 0 {
            continue;
        }
        let w = 600.0 * n as f64 / total;
        let _ = write!(
            h,
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"36\" fill=\"{}\"><title>{}: {n}</title></rect>\
             <text x=\"{:.1}\" y=\"52\" font-size=\"11\">{} {n}</text>",
            color(v),
            v.label(),
            x + 2.0,
            v.label()
        );
        x += w;
    }
    h.push_str("</svg><figcaption>Clauses by verdict</figcaption></figure>\n");
}

/// A case's verdict on one clause, and what its checks of that clause observed.
fn on_clause(h: &mut String, clause: &str, j: &ClauseJudgement) {
    let _ = writeln!(
        h,
        "<p>On {}: <b class=\"v-{}\">{}</b>{}</p>",
        escape(clause),
        j.verdict.label(),
        j.verdict.label(),
        j.reason
            .as_deref()
            .map_or(String::new(), |r| format!(" ({})", escape(r)))
    );
    if !j.observed.is_empty() {
        h.push_str("<ul>");
        for o in &j.observed {
            let _ = write!(h, "<li>{}</li>", escape(o));
        }
        h.push_str("</ul>\n");
    }
}

fn case(h: &mut String, r: &CaseResult, clause: &str, j: Option<&ClauseJudgement>) {
    let _ = write!(
        h,
        "<details{}><summary><code>{}</code> <b class=\"v-{}\">{}</b> ({:.1} s)</summary>\n\
         <p>Expected: {}</p>\n",
        if r.verdict == Verdict::Pass {
            ""
        } else {
            " open"
        },
        escape(&r.id),
        r.verdict.label(),
        r.verdict.label(),
        r.duration_s,
        escape(&r.expectation)
    );
    if let Some(j) = j {
        on_clause(h, clause, j);
    }
    if let Some(why) = &r.reason {
        let _ = writeln!(h, "<p>Reason: {}</p>", escape(why));
    }
    if !r.observed.is_empty() {
        let _ = writeln!(h, "<p>Observed: {}</p>", escape(&r.observed));
    }
    if !r.measures.is_empty() {
        h.push_str("<table><tr><th>Measured</th><th>Value</th><th>Limit</th></tr>");
        for m in &r.measures {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} {}</td><td>{}</td></tr>",
                escape(&m.name),
                m.value,
                escape(&m.unit),
                escape(m.limit.as_deref().unwrap_or("—"))
            );
        }
        h.push_str("</table>\n");
    }
    if !r.transcript.is_empty() {
        let _ = write!(
            h,
            "<details><summary>Transcript: {} exchanges</summary>",
            r.transcript.len()
        );
        for e in &r.transcript {
            let status = e.status.map_or("no answer".to_owned(), |s| s.to_string());
            let _ = write!(
                h,
                "<pre>{} {}\n{}\n\n{}\n→ {status} in {:.1} ms\n{}\n\n{}\n\n$ {}</pre>",
                escape(&e.method),
                escape(&e.url),
                escape(&lines(&e.request_headers)),
                escape(&e.request_body),
                e.elapsed_ms,
                escape(&lines(&e.response_headers)),
                escape(&e.response_body),
                escape(&e.curl)
            );
        }
        h.push_str("</details>\n");
    }
    let _ = writeln!(
        h,
        "<p>Reproduce: <code>{}</code></p></details>",
        escape(&r.reproduce)
    );
}

fn lines(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Exporter<Certificate> for Html {
    fn file_name(&self) -> &'static str {
        "certificate.html"
    }

    fn render(&self, c: &Certificate) -> Vec<u8> {
        let outcome = c.outcome.label();
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>harness certify: {outcome}</title>\n<style>{STYLE}{EXTRA_STYLE}</style>\n</head>\n\
             <body data-charts=\"1\">\n<section id=\"verdict\">\n<h1>Certification: {outcome}</h1>\n"
        );
        let p = &c.subject.product;
        let _ = write!(
            h,
            "<p>Subject <code>{}</code> ({}); product: {}; binary SHA-256 <code>{}</code></p>\n\
             <p>Suite {} at level {}, started {}; {} of {} cases run; backend {}</p>\n\
             <p>Catalogue SHA-256 <code>{}</code><br>Results SHA-256 <code>{}</code></p>\n",
            escape(&c.subject.target),
            c.subject.mode.name(),
            escape(&if p.name.is_empty() {
                "none given (--product)".to_owned()
            } else {
                format!("{} {} {}", p.vendor, p.name, p.version)
            }),
            escape(c.subject.binary_sha256.as_deref().unwrap_or("unknown")),
            escape(&c.suite_version),
            c.level.name(),
            escape(&c.started_at),
            c.cases_run,
            c.expected_cases,
            escape(c.environment.backend.as_deref().unwrap_or("none")),
            c.digests.catalogue_sha256,
            c.digests.results_sha256
        );
        if !c.reasons.is_empty() {
            h.push_str("<p>Withheld because:</p><ul>");
            for r in &c.reasons {
                let _ = write!(h, "<li>{}</li>", escape(r));
            }
            h.push_str("</ul>\n");
        }
        verdict_bar(&mut h, c);
        h.push_str("</section>\n");
        for cl in &c.clauses {
            let level = cl.level.name();
            let _ = write!(
                h,
                "<section class=\"clause\" id=\"{}\">\n<h2>{} <small>{level}</small> <b class=\"v-{}\">{}</b></h2>\n\
                 <div class=\"text\">{}</div><p><small>Seed: {}</small></p>\n",
                escape(&cl.id),
                escape(&cl.id),
                cl.verdict.label(),
                cl.verdict.label(),
                markdown(&cl.text),
                escape(&cl.seed)
            );
            for (r, j) in super::judged(c, &cl.id, &cl.cases) {
                case(&mut h, r, &cl.id, j);
            }
            h.push_str("</section>\n");
        }
        let _ = write!(h, "<script>{SELF_CHECK}</script>\n</body>\n</html>\n");
        h.into_bytes()
    }
}
