//! The quality gate (seed 002 §1.3): a model's answer is scored against the context it
//! was given, not by its length. An answer passes when it names the customers the
//! question is about and the figures it quotes are figures of the context.

/// What an answer is checked against: the customers' names and every figure of the
/// prompt (the question, the account context and the decision analysis).
#[derive(Debug, Clone, Default)]
pub struct Grounds {
    names: Vec<String>,
    figures: Vec<f64>,
}

/// The lowest score the gate lets through (contract CHAT-16).
pub const PASS: f64 = 0.7;

/// Answers shorter than this many words are fragments, whatever they say.
const MIN_WORDS: usize = 5;

impl Grounds {
    /// Grounds from the customers' `names` and the `prompt` the model was sent.
    pub fn new(names: impl IntoIterator<Item = String>, prompt: &str) -> Self {
        Grounds {
            names: names.into_iter().map(|n| n.to_lowercase()).collect(),
            figures: figures(prompt),
        }
    }

    /// The answer's score in [0.3, 1]: 0.3 + 0.7 × (share of names mentioned) × (share
    /// of quoted figures found in the context). A fragment scores 0.3.
    pub fn score(&self, answer: &str) -> f64 {
        if answer.split_whitespace().count() < MIN_WORDS {
            return 0.3;
        }
        let lower = answer.to_lowercase();
        let named = if self.names.is_empty() {
            1.0
        } else {
            let hits = self
                .names
                .iter()
                .filter(|n| lower.contains(n.as_str()))
                .count();
            hits as f64 / self.names.len() as f64
        };
        let quoted = figures(answer);
        let agree = if quoted.is_empty() {
            1.0
        } else {
            let known = quoted
                .iter()
                .filter(|q| self.figures.iter().any(|f| same(**q, *f)))
                .count();
            known as f64 / quoted.len() as f64
        };
        ((0.3 + 0.7 * named * agree) * 1000.0).round() / 1000.0
    }
}

/// Two figures agree when they are equal to a cent, or within 0.1% for large ones.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.005_f64.max(b.abs() * 0.001)
}

/// Every number in `text`: digits with an optional decimal part, thousands separators
/// dropped (`12,500.00` is 12500).
fn figures(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next_is_digit = chars.peek().is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() {
            current.push(c);
        } else if !current.is_empty() && c == ',' && next_is_digit {
            // A thousands separator.
        } else if !current.is_empty() && c == '.' && next_is_digit && !current.contains('.') {
            current.push(c);
        } else if !current.is_empty() {
            out.extend(current.parse::<f64>().ok());
            current.clear();
        }
    }
    out.extend(current.parse::<f64>().ok());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grounds() -> Grounds {
        Grounds::new(
            ["Delta Industries".to_owned()],
            "Account context: Delta Industries, 3 rush orders; unpaid 12,500.00 of 40,300.00; 2 invoices overdue",
        )
    }

    #[test]
    fn a_grounded_answer_passes() {
        let s = grounds().score("Delta Industries has 2 invoices overdue, 12500.00 unpaid.");
        assert_eq!(s, 1.0);
    }

    #[test]
    fn wrong_figures_or_a_missing_name_fail_however_long_the_answer() {
        let g = grounds();
        let wrong = g.score("Delta Industries has 7 invoices overdue and owes 99,000 in total.");
        assert!(wrong < PASS, "{wrong}");
        let unnamed = g.score(&"The account looks healthy and pays on time. ".repeat(20));
        assert!(unnamed < PASS, "{unnamed}");
        assert_eq!(g.score("Delta Industries."), 0.3);
        let mostly =
            g.score("Delta Industries: 3 rush orders, 2 overdue, 12500.00 unpaid, 5 days.");
        assert!(mostly >= PASS, "one stray figure of four: {mostly}");
    }

    #[test]
    fn figures_are_read_with_separators_and_decimals() {
        assert_eq!(
            figures("owes $12,500.50, 3 orders; 1.5x. 2024"),
            vec![12500.5, 3.0, 1.5, 2024.0]
        );
        assert_eq!(figures("no numbers"), Vec::<f64>::new());
    }
}
