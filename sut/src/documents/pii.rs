//! Seed 000 PII redaction: applied to every document before any of it reaches the LLM.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

/// The seed's patterns, most specific first so a card number is not read as a phone.
const PATTERNS: [(&str, &str); 5] = [
    ("credit_card", r"\b\d{4}[-\s]?\d{4}[-\s]?\d{4}[-\s]?\d{4}\b"),
    ("ssn", r"\b\d{3}-\d{2}-\d{4}\b"),
    ("phone", r"\b\d{3}-\d{3}-\d{4}\b"),
    (
        "email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
    ),
    (
        "address",
        r"\b\d+\s+[A-Za-z\s]+(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd)\b",
    ),
];

fn compiled() -> &'static Vec<(&'static str, Regex)> {
    static RE: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RE.get_or_init(|| {
        PATTERNS
            .iter()
            .filter_map(|(name, p)| Regex::new(&format!("(?i){p}")).ok().map(|r| (*name, r)))
            .collect()
    })
}

/// Replaces every match with `[TYPE_REDACTED]` and counts what was removed.
pub fn redact(text: &str) -> (String, BTreeMap<&'static str, usize>) {
    let mut out = text.to_owned();
    let mut removed = BTreeMap::new();
    for (name, re) in compiled() {
        let n = re.find_iter(&out).count();
        if n > 0 {
            removed.insert(*name, n);
            let tag = format!("[{}_REDACTED]", name.to_uppercase());
            out = re.replace_all(&out, tag.as_str()).into_owned();
        }
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_seed_pattern() {
        let text = "SSN 123-45-6789, call 555-123-4567, mail jane.doe@example.com, \
                    card 4111 1111 1111 1111, lives at 42 Elm Street.";
        let (out, removed) = redact(text);
        for secret in [
            "123-45-6789",
            "555-123-4567",
            "jane.doe@example.com",
            "4111 1111 1111 1111",
            "42 Elm Street",
        ] {
            assert!(!out.contains(secret), "{secret} survived: {out}");
        }
        assert_eq!(removed.len(), 5, "{removed:?}");
        assert!(out.contains("[SSN_REDACTED]") && out.contains("[EMAIL_REDACTED]"));
    }
}
