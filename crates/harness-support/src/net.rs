//! Small networking helpers shared by the backends.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

/// Asks the kernel for a free loopback port.
///
/// The port is released before it is used, so another process could take it in between;
/// callers bind it within milliseconds, and a clash fails loudly at bind time.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `addr` accepts TCP connections, or `timeout` passes.
pub async fn wait_for_tcp(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(addr),
        );
        if let Ok(Ok(_)) = attempt.await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
