//! Targets of known latency for measurement-truth tests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;

/// Serves `GET /` after `delay(n)` for the n-th request (from 0), on a loopback port.
/// The server stops when the returned sender is dropped.
pub async fn known_latency_server(
    delay: impl Fn(u64) -> Duration + Send + Sync + 'static,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let counter = Arc::new(AtomicU64::new(0));
    let delay = Arc::new(delay);
    let app = Router::new().route(
        "/",
        get(move || {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let d = delay(n);
            async move {
                // Tokio's timer wheel rounds up to the next millisecond; a thread sleep
                // keeps the known latency within tens of microseconds.
                let _ = tokio::task::spawn_blocking(move || std::thread::sleep(d)).await;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, stop)
}

/// A scenario of one `GET /` transaction, no think time, `users` × `iterations`.
pub fn scenario(users: u32, iterations: u32) -> harness::scenario::Scenario {
    let text = format!(
        "name = \"truth\"\nroles = []\n\
         [[transactions]]\nname = \"get\"\nweight = 1\nmethod = \"GET\"\npath = \"/\"\n\
         [profiles.truth]\nusers = {users}\nspawn_rate = {users}\niterations = {iterations}\n"
    );
    harness::scenario::Scenario::parse(&text, std::path::Path::new("truth.toml")).expect("scenario")
}
