//! A minimal Anthropic Messages API client.

use std::time::Duration;

use serde_json::{json, Value};

/// Why one LLM call failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmCallError {
    /// 429; wait this long before retrying.
    #[error("rate limited (retry after {0:?})")]
    RateLimited(Duration),
    /// No answer within the timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Any other status.
    #[error("status {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The API's error message.
        message: String,
    },
    /// Connection or decoding failure.
    #[error("transport: {0}")]
    Transport(String),
}

impl LlmCallError {
    /// A 4xx other than 429: the request's own fault, which no retry will mend.
    pub fn is_client_error(&self) -> bool {
        matches!(self, LlmCallError::Status { status, .. } if (400..500).contains(status))
    }
}

/// The body of a Messages API request (LLM-7) asking `model` about one prompt.
pub(super) fn message(model: &str, system: &str, prompt: &str, max_tokens: u32) -> Value {
    json!({
        "model": model,
        "max_tokens": max_tokens,
        "temperature": 0.3,
        "system": system,
        "messages": [{"role": "user", "content": prompt}],
    })
}

/// Calls `POST {base}/v1/messages`.
pub struct LlmClient {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

impl LlmClient {
    /// A client for `base` with `api_key`.
    pub fn new(base: &str, api_key: &str) -> Self {
        LlmClient {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
        }
    }

    /// A Messages API request with `body`, as LLM-7 has it.
    pub(super) fn request(&self, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/v1/messages", self.base))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", "2023-06-01")
            .json(body)
    }

    /// The error a non-200 answer stands for: a 429 with its `retry-after`, or the
    /// status with the API's message.
    pub(super) async fn refusal(resp: reqwest::Response) -> LlmCallError {
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if status == 429 {
            return LlmCallError::RateLimited(Duration::from_secs(retry_after.unwrap_or(1)));
        }
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        LlmCallError::Status {
            status,
            message: value["error"]["message"].as_str().unwrap_or("").to_owned(),
        }
    }

    /// Sends one prompt to `model` and returns the text of the answer.
    pub async fn complete(
        &self,
        model: &str,
        system: &str,
        prompt: &str,
        max_tokens: u32,
        timeout: Duration,
    ) -> Result<String, LlmCallError> {
        let send = self
            .request(&message(model, system, prompt, max_tokens))
            .send();
        let value = tokio::time::timeout(timeout, async {
            let resp = send
                .await
                .map_err(|e| LlmCallError::Transport(e.to_string()))?;
            if resp.status() != 200 {
                return Err(Self::refusal(resp).await);
            }
            resp.json::<Value>()
                .await
                .map_err(|e| LlmCallError::Transport(e.to_string()))
        })
        .await
        .map_err(|_| LlmCallError::Timeout(timeout))??;
        value["content"]
            .as_array()
            .map(|blocks| {
                blocks
                    .iter()
                    .filter_map(|b| b["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("")
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| LlmCallError::Transport("response has no text content".into()))
    }
}
