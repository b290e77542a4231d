//! The certificate's exporters on a small certificate whose every verdict is known.

use super::*;
use crate::results::certificate::{
    CaseResult, CertEnvironment, CertLevel, CertOutcome, ClauseJudgement, ClauseRef, Digests,
    Exchange, Level, Measure, Product, Subject, SubjectMode, Verdict, CERTIFICATE_SCHEMA_VERSION,
};
use crate::results::MachineInfo;

/// A case whose failure (if it fails) is charged to its first clause alone.
fn case(id: &str, clauses: &[&str], verdict: Verdict, observed: &str) -> CaseResult {
    let reason = (verdict == Verdict::Excluded).then(|| "no LLM in this build".to_owned());
    let clause_verdicts = clauses
        .iter()
        .enumerate()
        .map(|(i, c)| ClauseJudgement {
            clause: (*c).to_owned(),
            verdict: match verdict {
                Verdict::Fail if i > 0 => Verdict::Pass,
                v => v,
            },
            observed: if verdict == Verdict::Fail && i == 0 {
                vec![observed.to_owned()]
            } else {
                vec![]
            },
            reason: reason.clone(),
        })
        .collect();
    CaseResult {
        id: id.into(),
        clauses: clauses.iter().map(|c| (*c).to_owned()).collect(),
        level: Level::Must,
        expectation: format!("{id} holds"),
        verdict,
        failed_clauses: if verdict == Verdict::Fail {
            clauses.iter().take(1).map(|c| (*c).to_owned()).collect()
        } else {
            vec![]
        },
        clause_verdicts,
        observed: observed.into(),
        reason,
        transcript: vec![Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:8080/api/chat".into(),
            request_headers: vec![("authorization".into(), "Bearer eyJhbGci…(masked)".into())],
            request_body: "{\"query\":\"<b>hi</b>\"}".into(),
            status: Some(500),
            response_headers: vec![],
            response_body: "{\"error\":{\"type\":\"internal\"}}".into(),
            elapsed_ms: 12.5,
            curl: "curl -si -X POST 'http://127.0.0.1:8080/api/chat'".into(),
        }],
        measures: vec![Measure {
            name: "took".into(),
            value: 2.6,
            unit: "s".into(),
            limit: Some("< 3.5 s".into()),
        }],
        duration_s: 1.25,
        reproduce: format!("harness certify --sut-cmd './broken' --level quick --case {id}"),
    }
}

fn clause(id: &str, level: Level, verdict: Verdict, cases: &[&str]) -> ClauseRef {
    ClauseRef {
        id: id.into(),
        level,
        seed: "002 §5.2".into(),
        text: format!("{id} says so"),
        verdict,
        cases: cases.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// A run of a broken subject: one pass, one failure, one exclusion.
pub(crate) fn sample() -> Certificate {
    Certificate {
        schema_version: CERTIFICATE_SCHEMA_VERSION,
        suite_version: "0.1.0".into(),
        started_at: "2026-11-26T15:00:00Z".into(),
        level: CertLevel::Quick,
        subject: Subject {
            mode: SubjectMode::Managed,
            target: "./broken".into(),
            binary_sha256: Some("ab".repeat(32)),
            product: Product {
                vendor: "Acme".into(),
                name: "Broken".into(),
                version: "1.0".into(),
                url: String::new(),
                contact: String::new(),
            },
        },
        environment: CertEnvironment {
            backend: Some("native".into()),
            machine: MachineInfo {
                cores: 2,
                memory_bytes: 1 << 30,
                os: "Linux".into(),
                git_sha: None,
                versions: Default::default(),
            },
        },
        expected_cases: 3,
        cases_run: 2,
        outcome: CertOutcome::NotCertified,
        reasons: vec![
            "MUST clause LIM-3 failed".into(),
            "MUST clause DOC-5 has an excluded case".into(),
        ],
        clauses: vec![
            clause("AUTH-2", Level::Must, Verdict::Pass, &["jwt_attacks"]),
            clause("LIM-3", Level::Must, Verdict::Fail, &["malformed_json"]),
            clause("LIM-2", Level::Must, Verdict::Pass, &["malformed_json"]),
            clause("DOC-5", Level::Must, Verdict::Excluded, &["pii"]),
        ],
        cases: vec![
            case("jwt_attacks", &["AUTH-2"], Verdict::Pass, "as expected"),
            case(
                "malformed_json",
                &["LIM-3", "LIM-2"],
                Verdict::Fail,
                "POST /api/chat: expected 400, observed 500",
            ),
            case("pii", &["DOC-5"], Verdict::Excluded, ""),
        ],
        digests: Digests {
            catalogue_sha256: "cd".repeat(32),
            results_sha256: "ef".repeat(32),
        },
    }
}

fn text(e: &dyn Exporter<Certificate>) -> String {
    String::from_utf8(e.render(&sample())).expect("UTF-8")
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(text(&Markdown));
}

#[test]
fn junit_snapshot() {
    let x = text(&Junit);
    let doc = roxmltree::Document::parse(&x).expect("well-formed XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 3, "one testcase per case");
    insta::assert_snapshot!(x);
}

#[test]
fn html_has_a_section_per_clause_with_its_evidence_escaped() {
    let h = text(&Html);
    for id in ["AUTH-2", "LIM-3", "DOC-5"] {
        assert!(
            h.contains(&format!("<section class=\"clause\" id=\"{id}\">")),
            "{id}"
        );
    }
    assert!(h.contains("Certification: NOT CERTIFIED"));
    assert!(h.contains("expected 400, observed 500"));
    // The failure is LIM-3's alone: the same case's section under LIM-2 says it held.
    let lim2 = h.split("id=\"LIM-2\"").nth(1).expect("LIM-2's section");
    let lim2 = lim2.split("</section>").next().unwrap_or_default();
    assert!(
        lim2.contains("On LIM-2: <b class=\"v-PASS\">PASS</b>"),
        "{lim2}"
    );
    let lim3 = h.split("id=\"LIM-3\"").nth(1).expect("LIM-3's section");
    assert!(
        lim3.contains("On LIM-3: <b class=\"v-FAIL\">FAIL</b>"),
        "{lim3}"
    );
    assert!(
        lim3.contains("<li>POST /api/chat: expected 400, observed 500</li>"),
        "{lim3}"
    );
    assert!(h.contains("&lt;b&gt;hi&lt;/b&gt;"), "a body is escaped");
    assert!(!h.contains("<b>hi</b>"));
    assert!(h.contains("no LLM in this build"));
    assert!(h.contains("--case malformed_json"));
    assert!(h.contains("data-charts=\"1\"") && h.contains("<figure class=\"chart\"><svg"));
}

#[test]
fn json_reads_back_as_written() {
    let back: Certificate = serde_json::from_slice(&Json.render(&sample())).expect("JSON");
    assert_eq!(back, sample());
}

#[test]
fn html_renders_clause_texts_as_markdown_and_never_as_markup() {
    let mut c = sample();
    c.clauses[0].text = "A `Bearer` token is *checked*:\n- its `alg`\n- its expiry\n\n\
         See [here](javascript:alert(1)).\n\n<script>alert(1)</script>"
        .into();
    let h = String::from_utf8(Html.render(&c)).expect("UTF-8");
    assert!(
        h.contains("A <code>Bearer</code> token is <em>checked</em>:"),
        "{h}"
    );
    assert!(
        h.contains("<ul>\n<li>its <code>alg</code></li>\n<li>its expiry"),
        "{h}"
    );
    assert!(
        !h.contains("`Bearer`") && !h.contains("- its"),
        "shown raw: {h}"
    );
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{h}");
    assert!(
        h.contains("<p>See here.</p>"),
        "a link is its words only: {h}"
    );
    assert!(!h.contains("javascript:") && !h.contains("<a "), "{h}");
}
