//! A Toxiproxy-compatible server: the Toxiproxy REST API over noxious proxies.
//!
//! It runs in-process for the native backend, as `harness toxiproxy-server`, and as the
//! entrypoint of the locally built Toxiproxy image. It implements what `toxiproxy_rust`
//! and the official clients use: proxies CRUD, `/populate`, `/reset`, `/version`, and
//! toxics CRUD for latency, timeout, bandwidth, slow_close, slicer and limit_data.

mod registry;
mod routes;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use registry::Registry;
pub use routes::app;

/// The version `/version` reports.
pub const VERSION: &str = concat!("2.9.0-harness-", env!("CARGO_PKG_VERSION"));

/// An API error: a status and a message, rendered as Toxiproxy does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable reason.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// 400.
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    /// 404.
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    /// 409.
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    /// 500.
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.message, "status": self.status.as_u16()});
        (self.status, Json(body)).into_response()
    }
}

/// A server running on a tokio task. Stop it with [`ToxiproxyServer::shutdown`];
/// dropping it stops the API and, with the registry, every proxy listener.
#[derive(Debug)]
pub struct ToxiproxyServer {
    addr: SocketAddr,
    registry: Arc<Registry>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

impl ToxiproxyServer {
    /// Binds the API on `addr` (port 0 picks a free one) and starts serving.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let server = harness_faults::ToxiproxyServer::start("127.0.0.1:0".parse().unwrap()).await?;
    /// let client = harness_faults::FaultClient::new(server.addr());
    /// # Ok(()) }
    /// ```
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let registry = Arc::new(Registry::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let router = app(registry.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "toxiproxy API server failed");
            }
        });
        Ok(ToxiproxyServer {
            addr,
            registry,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The API's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops every proxy, then the API.
    pub async fn shutdown(mut self) {
        self.registry.shutdown().await;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for ToxiproxyServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
