//! Small networking helpers shared by the backends.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

/// A free loopback port for a service to listen on, outside the kernel's ephemeral range.
///
/// The port is released before it is used, so another process could take it in between;
/// callers that start a service on it retry with a fresh one when it was taken. The
/// likeliest taker is not another listener but an outgoing connection: the kernel gives
/// each connect() a local port from the ephemeral range, which is also where binding port
/// 0 picks from, and a load test opens thousands of connections. So the port is drawn at
/// random below that range, and checked free by binding it; binding port 0 is the
/// fallback when no such port is found.
pub fn free_port() -> std::io::Result<u16> {
    let (ephemeral_low, _) = ephemeral_range();
    let below = LISTEN_FLOOR..ephemeral_low.max(LISTEN_FLOOR);
    if !below.is_empty() {
        for _ in 0..64 {
            let port = below.start + (random() % u64::from(below.end - below.start)) as u16;
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(port);
            }
        }
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The lowest port [`free_port`] draws: above the well-known and most registered ports.
const LISTEN_FLOOR: u16 = 10_000;

/// The kernel's ephemeral port range, or Linux's default when it cannot be read.
fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut parts = text.split_whitespace().map(str::parse::<u16>);
    match (parts.next(), parts.next()) {
        (Some(Ok(low)), Some(Ok(high))) => (low, high),
        _ => (32_768, 60_999),
    }
}

/// A random number, new on every call: `RandomState` is seeded per process and per call.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_is_below_the_ephemeral_range_and_can_be_bound() {
        let (low, _) = ephemeral_range();
        for _ in 0..20 {
            let port = free_port().expect("a port");
            assert!(
                (LISTEN_FLOOR..low).contains(&port),
                "{port} not in {LISTEN_FLOOR}..{low}"
            );
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("free");
        }
    }

    #[test]
    fn ports_are_spread_so_that_side_by_side_picks_rarely_meet() {
        let ports: std::collections::BTreeSet<u16> =
            (0..50).map(|_| free_port().expect("a port")).collect();
        assert!(
            ports.len() >= 45,
            "only {} distinct ports in 50 picks",
            ports.len()
        );
    }
}
