//! The slice of the Anthropic Messages API the fake speaks: request validation, the
//! success body and the error bodies, with the real field names and error types.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The request fields the fake validates. Everything else is accepted and ignored,
/// as the real API does with fields it does not need.
#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    /// Model name; echoed back in the response.
    pub model: Option<String>,
    /// Upper bound on output tokens; required by the real API.
    pub max_tokens: Option<u64>,
    /// Conversation turns; must be non-empty.
    pub messages: Option<Vec<Value>>,
    /// Optional system prompt; counted towards input tokens.
    pub system: Option<Value>,
}

/// A validated request: what the response generator needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRequest {
    /// The model asked for.
    pub model: String,
    /// The output token cap.
    pub max_tokens: u64,
    /// A rough input token count (4 characters a token), for `usage`.
    pub input_tokens: u64,
    /// The text of the last user message: what a grounded answer quotes.
    pub prompt: String,
}

/// Why a Messages request is invalid, worded as the real API words an
/// `invalid_request_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    /// The body is not JSON of the request's shape.
    #[error("request body is not valid JSON")]
    NotJson,
    /// A required field is missing.
    #[error("{0}: Field required")]
    Missing(&'static str),
    /// `max_tokens` is 0.
    #[error("max_tokens: must be greater than or equal to 1")]
    MaxTokensZero,
    /// `messages` is empty.
    #[error("messages: at least one message is required")]
    NoMessages,
}

/// Parses and validates a request body, or returns the message of an
/// `invalid_request_error` as the real API would word it.
pub fn validate(body: &[u8]) -> Result<ValidRequest, InvalidRequest> {
    let req: MessagesRequest = serde_json::from_slice(body).map_err(|_| InvalidRequest::NotJson)?;
    let model = match req.model {
        Some(m) if !m.trim().is_empty() => m,
        _ => return Err(InvalidRequest::Missing("model")),
    };
    let max_tokens = match req.max_tokens {
        Some(0) => return Err(InvalidRequest::MaxTokensZero),
        Some(n) => n,
        None => return Err(InvalidRequest::Missing("max_tokens")),
    };
    let messages = match req.messages {
        Some(m) if !m.is_empty() => m,
        Some(_) => return Err(InvalidRequest::NoMessages),
        None => return Err(InvalidRequest::Missing("messages")),
    };
    let chars: usize = messages.iter().map(|m| m.to_string().len()).sum::<usize>()
        + req.system.map(|s| s.to_string().len()).unwrap_or(0);
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| match &m["content"] {
            Value::String(s) => s.clone(),
            blocks => blocks
                .as_array()
                .map(|b| {
                    b.iter()
                        .filter_map(|x| x["text"].as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
        })
        .unwrap_or_default();
    Ok(ValidRequest {
        model,
        max_tokens,
        input_tokens: (chars as u64).div_ceil(4).max(1),
        prompt,
    })
}

/// The error body shape shared by every API error.
pub fn error_body(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}})
}

/// A successful `message` response.
pub fn message_body(id: &str, req: &ValidRequest, text: &str, output_tokens: u64) -> Value {
    let stop_reason = if output_tokens >= req.max_tokens {
        "max_tokens"
    } else {
        "end_turn"
    };
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "model": req.model,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": req.input_tokens, "output_tokens": output_tokens},
    })
}

/// How the fake's answers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStyle {
    /// The answer quotes the prompt, word for word, then fills up to its length: like a
    /// model that answers from what it was given, so a quality gate that checks answers
    /// against their context passes them.
    #[default]
    Grounded,
    /// Filler that names nothing and quotes nothing: an answer a quality gate must refuse.
    Filler,
}

/// An answer of `tokens` tokens (one word a token) in `style` to `req`.
pub fn answer_text(style: AnswerStyle, req: &ValidRequest, tokens: u64) -> String {
    let tokens = tokens.max(1) as usize;
    let quoted: Vec<&str> = match style {
        AnswerStyle::Grounded => req.prompt.split_whitespace().take(tokens).collect(),
        AnswerStyle::Filler => Vec::new(),
    };
    let mut text = quoted.join(" ");
    let rest = tokens - quoted.len();
    if rest > 0 {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&filler_text(rest as u64));
    }
    text
}

/// Deterministic filler text of about `tokens` tokens (one word a token).
pub fn filler_text(tokens: u64) -> String {
    const WORDS: [&str; 8] = [
        "Based",
        "on",
        "the",
        "available",
        "account",
        "data,",
        "the",
        "summary",
    ];
    (0..tokens.max(1))
        .map(|i| WORDS[i as usize % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_each_missing_field_with_its_name() {
        let cases = [
            (
                r#"{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
                "model",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
                "max_tokens",
            ),
            (r#"{"model":"m","max_tokens":5,"messages":[]}"#, "messages"),
            (r#"{"model":"m","max_tokens":5}"#, "messages"),
            ("not json", "JSON"),
        ];
        for (body, field) in cases {
            let err = validate(body.as_bytes()).expect_err(body).to_string();
            assert!(err.contains(field), "{body}: {err}");
        }
    }

    #[test]
    fn accepts_a_minimal_request() {
        let ok = validate(
            br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}"#,
        )
        .expect("valid");
        assert_eq!(ok.model, "m");
        assert_eq!(ok.max_tokens, 5);
        assert!(ok.input_tokens >= 1);
        assert_eq!(ok.prompt, "hello");
    }

    #[test]
    fn a_grounded_answer_quotes_the_prompt_and_keeps_its_length() {
        let req = validate(
            br#"{"model":"m","max_tokens":50,"messages":[{"role":"user","content":[{"type":"text","text":"Delta owes 12500.00"}]}]}"#,
        )
        .expect("valid");
        let grounded = answer_text(AnswerStyle::Grounded, &req, 6);
        assert!(grounded.starts_with("Delta owes 12500.00 "), "{grounded}");
        assert_eq!(grounded.split_whitespace().count(), 6);
        let filler = answer_text(AnswerStyle::Filler, &req, 6);
        assert!(!filler.contains("Delta"), "{filler}");
        assert_eq!(filler.split_whitespace().count(), 6);
        assert_eq!(answer_text(AnswerStyle::Grounded, &req, 2), "Delta owes");
    }
}
