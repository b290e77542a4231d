//! A deliberately naive implementation of the SUT contract, for `harness chaos` to fail:
//! it answers `/api/chat` straight from the LLM and has no fallback, no breaker and no
//! cache, so when the LLM fails it answers 502. The chaos test suite starts it with
//! `--sut-cmd` to show that the degradation expectations catch such a service.
//!
//! It reads only the contract's environment (`SUT_LISTEN_ADDR`, `LLM_BASE_URL`,
//! `LLM_API_KEY`, `LLM_MODEL`), e.g.:
//!
//! ```text
//! harness chaos --llm-fail 1.0 --sut-cmd target/debug/examples/no_fallback_sut
//! ```

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Clone)]
struct Llm {
    client: reqwest::Client,
    url: String,
    key: String,
    model: String,
}

async fn chat(State(llm): State<Llm>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let query = body.get("query").and_then(Value::as_str).unwrap_or("");
    let answer = llm
        .client
        .post(&llm.url)
        .header("x-api-key", &llm.key)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": llm.model, "max_tokens": 300,
                      "messages": [{"role": "user", "content": query}]}))
        .send()
        .await;
    let text = match answer {
        Ok(r) if r.status().is_success() => r
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v.pointer("/content/0/text")?.as_str().map(str::to_owned)),
        _ => None,
    };
    match text {
        Some(text) => (
            StatusCode::OK,
            Json(
                json!({"text": text, "confidence": 0.85, "quality_score": 0.85,
                        "sources": ["llm"], "degraded": false, "fallback": "none",
                        "entities": []}),
            ),
        ),
        None => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": {"code": "bad_gateway", "message": "the LLM failed"}})),
        ),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
    let listen = var("SUT_LISTEN_ADDR")?;
    let llm = Llm {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        url: format!("{}/v1/messages", var("LLM_BASE_URL")?.trim_end_matches('/')),
        key: var("LLM_API_KEY")?,
        model: var("LLM_MODEL")?,
    };
    let app = Router::new()
        .route("/ready", get(|| async { Json(json!({"ready": true})) }))
        .route(
            "/health",
            get(|| async { Json(json!({"status": "healthy", "components": {}})) }),
        )
        .route("/api/chat", post(chat))
        .with_state(llm);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        })
        .await?;
    Ok(())
}
