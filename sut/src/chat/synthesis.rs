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

/// Decision support from the account's own data: how much of what is owed is overdue,
/// how late payments arrive, how long since the last one, whether ordering is growing
/// or unusual, and the account's status. Each factor that moved the risk is listed with
/// its figure, so the recommendation can be checked against the facts.
pub fn analyze_decision(facts: &[Facts], patterns: &[PatternInsight]) -> DecisionAnalysis {
    let mut risk: f64 = 0.1;
    let mut factors = Vec::new();
    for f in facts {
        if f.open_invoices > 0 && f.overdue_invoices > 0 {
            let share = f.overdue_invoices as f64 / f.open_invoices as f64;
            risk += 0.15 * f.overdue_invoices.min(3) as f64 + 0.15 * share;
            factors.push(format!(
                "{}: {} of {} unpaid invoices overdue ({:.0} open in all)",
                f.name, f.overdue_invoices, f.open_invoices, f.open_amount
            ));
        }
        if let Some(last) = f.last_payment {
            let days = (chrono::Utc::now() - last).num_days();
            if days > 90 && f.open_invoices > 0 {
                risk += 0.15;
                factors.push(format!("{}: no payment for {days} days", f.name));
            }
        } else if f.open_invoices > 0 {
            risk += 0.1;
            factors.push(format!("{}: no payment on record", f.name));
        }
        if f.status != "active" {
            risk += 0.3;
            factors.push(format!("{}: account is {}", f.name, f.status));
        }
        if f.recent_orders >= 3 && f.overdue_invoices == 0 {
            risk -= 0.05;
            factors.push(format!(
                "{}: {} orders in 90 days, none overdue",
                f.name, f.recent_orders
            ));
        }
    }
    for p in patterns {
        match p.pattern_type.as_str() {
            "payment_timing" => {
                let late = p.data["avg_days_late"].as_f64().unwrap_or(0.0);
                risk += (late / 60.0).clamp(0.05, 0.3);
                factors.push(format!(
                    "payments arrive {late:.0} days after due on average"
                ));
            }
            "anomaly" => {
                risk += 0.1;
                factors.push(format!("unusual order: {}", p.insight));
            }
            _ => {}
        }
    }
    let risk = risk.clamp(0.0, 1.0);
    DecisionAnalysis {
        recommendation: if risk < 0.35 {
            "proceed"
        } else if risk < 0.7 {
            "proceed_with_conditions"
        } else {
            "decline"
        },
        risk_score: (risk * 100.0).round() / 100.0,
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

    fn facts(open: i64, overdue: i64, paid_days_ago: Option<i64>, recent: i64) -> Facts {
        Facts {
            name: "Acme".into(),
            status: "active".into(),
            open_invoices: open,
            open_amount: 1000.0 * open as f64,
            overdue_invoices: overdue,
            recent_orders: recent,
            recent_rush_orders: 0,
            last_payment: paid_days_ago.map(|d| chrono::Utc::now() - chrono::TimeDelta::days(d)),
        }
    }

    #[test]
    fn decisions_follow_the_accounts_own_figures() {
        let good = analyze_decision(&[facts(1, 0, Some(10), 5)], &[]);
        assert_eq!(good.recommendation, "proceed", "{good:?}");
        assert!(good
            .factors
            .iter()
            .any(|f| f.contains("5 orders in 90 days")));

        let late = PatternInsight {
            pattern_type: "payment_timing".into(),
            confidence: 0.8,
            significance: 0.9,
            insight: "late".into(),
            data: serde_json::json!({"overdue_invoices": 3, "avg_days_late": 45.0}),
            recommendation: None,
        };
        let bad = analyze_decision(&[facts(3, 3, Some(120), 1)], &[late]);
        assert_eq!(bad.recommendation, "decline", "{bad:?}");
        for needle in [
            "3 of 3 unpaid invoices overdue",
            "no payment for 120 days",
            "45 days after due",
        ] {
            assert!(
                bad.factors.iter().any(|f| f.contains(needle)),
                "{needle}: {bad:?}"
            );
        }

        let middling = analyze_decision(&[facts(4, 1, Some(20), 1)], &[]);
        assert!(good.risk_score < middling.risk_score && middling.risk_score < bad.risk_score);
    }
}
