//! Streamed answers from the Messages API (`"stream": true`): the text deltas of its
//! Server-Sent Events, one at a time, and the ways a stream breaks (an `error` event,
//! a body that ends before `message_stop`, no event for too long).

use std::collections::VecDeque;
use std::time::Duration;

use harness_support::sse::{Event, Parser};
use serde_json::Value;

use super::client::{message, LlmCallError, LlmClient};

/// The text deltas of one streamed answer still to come.
pub struct TokenStream {
    response: reqwest::Response,
    parser: Parser,
    pending: VecDeque<Event>,
}

impl TokenStream {
    /// The next text delta; `None` once `message_stop` came. An `error` event, a body
    /// that ends or breaks before `message_stop`, or no event for `stall` is an error.
    pub async fn next(&mut self, stall: Duration) -> Result<Option<String>, LlmCallError> {
        loop {
            while let Some(e) = self.pending.pop_front() {
                let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
                match e.name.as_str() {
                    "content_block_delta" => {
                        if let Some(t) = data["delta"]["text"].as_str() {
                            return Ok(Some(t.to_owned()));
                        }
                    }
                    "message_stop" => return Ok(None),
                    "error" => {
                        return Err(LlmCallError::Status {
                            // The API's overloaded status; the event names its type.
                            status: 529,
                            message: data["error"]["type"].as_str().unwrap_or("error").to_owned(),
                        });
                    }
                    // message_start, ping and anything new: nothing to say.
                    _ => {}
                }
            }
            let chunk = tokio::time::timeout(stall, self.response.chunk())
                .await
                .map_err(|_| LlmCallError::Timeout(stall))?
                .map_err(|e| LlmCallError::Transport(e.to_string()))?
                .ok_or_else(|| {
                    LlmCallError::Transport("stream ended before message_stop".into())
                })?;
            let pending = &mut self.pending;
            self.parser.push(&chunk, |e| pending.push_back(e));
        }
    }
}

impl LlmClient {
    /// Asks `model` for a streamed answer and waits, within `timeout`, for its first
    /// token: the token and the rest of the stream, or why there is none.
    pub async fn open_stream(
        &self,
        model: &str,
        system: &str,
        prompt: &str,
        max_tokens: u32,
        timeout: Duration,
    ) -> Result<(String, TokenStream), LlmCallError> {
        let mut body = message(model, system, prompt, max_tokens);
        body["stream"] = Value::Bool(true);
        let deadline = tokio::time::Instant::now() + timeout;
        let first = async {
            let response = self
                .request(&body)
                .send()
                .await
                .map_err(|e| LlmCallError::Transport(e.to_string()))?;
            if response.status() != 200 {
                return Err(Self::refusal(response).await);
            }
            let mut rest = TokenStream {
                response,
                parser: Parser::default(),
                pending: VecDeque::new(),
            };
            match rest.next(timeout).await? {
                Some(first) => Ok((first, rest)),
                None => Err(LlmCallError::Transport("stream has no text".into())),
            }
        };
        tokio::time::timeout_at(deadline, first)
            .await
            .map_err(|_| LlmCallError::Timeout(timeout))?
    }
}
