//! Context synthesis and decision support (seed 002 §3.1 phases 3 and 4).

use serde::Serialize;

use super::patterns::PatternInsight;
use super::retrieval::Facts;

/// What the user wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A fact lookup.
    Simple,
    /// "Should we …?"
    DecisionSupport,
    /// "What patterns …?"
    Patterns,
}

/// Classifies a query.
pub fn intent(query: &str) -> Intent {
    let q = query.to_lowercase();
    let decision = [
        "should we",
        "should i",
        "recommend",
        "is it wise",
        "extend",
        "approve",
    ];
    if decision.iter().any(|k| q.contains(k)) {
        Intent::DecisionSupport
    } else if q.contains("pattern") || q.contains("trend") || q.contains("going on") {
        Intent::Patterns
    } else {
        Intent::Simple
    }
}

/// Everything the response generator needs.
#[derive(Debug, Clone)]
pub struct Synthesized {
    /// The classified intent.
    pub intent: Intent,
    /// The facts, as text for the prompt and the template.
    pub primary_context: String,
    /// What could not be retrieved.
    pub confidence_notes: Vec<String>,
}

/// Builds the context from whatever retrieval produced.
pub fn synthesize(
    query: &str,
    facts: &[Facts],
    memories: &[String],
    patterns: &[PatternInsight],
    notes: Vec<String>,
) -> Synthesized {
    let mut ctx = String::new();
    for f in facts {
        ctx.push_str(&format!(
            "- {} (status {}): {} open invoices totalling {:.2}, {} overdue; {} orders in 90 days ({} rush); last payment {}\n",
            f.name,
            f.status,
            f.open_invoices,
            f.open_amount,
            f.overdue_invoices,
            f.recent_orders,
            f.recent_rush_orders,
            f.last_payment.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "never".into()),
        ));
    }
    for m in memories {
        ctx.push_str(&format!("- earlier: {m}\n"));
    }
    for p in patterns {
        ctx.push_str(&format!("- pattern {}: {}\n", p.pattern_type, p.insight));
    }
    if ctx.is_empty() {
        ctx.push_str("- no account data found for this question\n");
    }
    Synthesized {
        intent: intent(query),
        primary_context: ctx,
        confidence_notes: notes,
    }
}

/// A decision recommendation.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionAnalysis {
    /// proceed, proceed_with_conditions or decline.
    pub recommendation: &'static str,
    /// 0 (safe) to 1 (risky).
    pub risk_score: f64,
    /// Why.
    pub factors: Vec<String>,
}

/// Rule-based decision support over the facts and patterns.
pub fn analyze_decision(facts: &[Facts], patterns: &[PatternInsight]) -> DecisionAnalysis {
    let mut risk: f64 = 0.1;
    let mut factors = Vec::new();
    for f in facts {
        if f.overdue_invoices > 0 {
            risk += 0.25 * f.overdue_invoices.min(3) as f64;
            factors.push(format!(
                "{} has {} overdue invoices",
                f.name, f.overdue_invoices
            ));
        }
        if f.status != "active" {
            risk += 0.3;
            factors.push(format!("{} account is {}", f.name, f.status));
        }
    }
    if patterns.iter().any(|p| p.pattern_type == "payment_timing") {
        risk += 0.15;
        factors.push("payments have been arriving late".into());
    }
    let risk = risk.min(1.0);
    DecisionAnalysis {
        recommendation: if risk < 0.35 {
            "proceed"
        } else if risk < 0.7 {
            "proceed_with_conditions"
        } else {
            "decline"
        },
        risk_score: risk,
        factors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_follow_the_seed_load_mix() {
        assert_eq!(
            intent("What is the status of Delta Industries?"),
            Intent::Simple
        );
        assert_eq!(
            intent("Should we extend payment terms to Delta Industries?"),
            Intent::DecisionSupport
        );
        assert_eq!(
            intent("What patterns do you see with Delta Industries?"),
            Intent::Patterns
        );
    }
}
