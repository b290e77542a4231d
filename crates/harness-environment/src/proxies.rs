//! Putting the three proxies in front of the dependencies on ports nobody holds.
//!
//! A free port is found by binding port 0 and releasing it, so another process can take
//! it before the proxy binds it; with tests and shards starting environments side by side
//! that happened in CI ("proxy llm: cannot listen on …: Address already in use"). The
//! cure is to pick fresh ports and try again, a bounded number of times.

use std::net::SocketAddr;

use harness_faults::{FaultClient, ProxyDef};

use super::EnvError;

/// How many sets of ports are tried before the environment gives up.
pub(super) const ATTEMPTS: usize = 5;

/// Creates one proxy per `(name, upstream)` on ports from `pick`, and returns the listen
/// address of each, in order. A failed creation (a port taken in the meantime) is
/// retried with fresh ports up to [`ATTEMPTS`] times; the last error is returned.
pub(super) async fn create(
    faults: &FaultClient,
    upstreams: &[(&str, SocketAddr)],
    mut pick: impl FnMut() -> std::io::Result<u16>,
) -> Result<Vec<SocketAddr>, EnvError> {
    let mut attempt = 1;
    loop {
        let mut listen = Vec::with_capacity(upstreams.len());
        let mut defs = Vec::with_capacity(upstreams.len());
        for (name, upstream) in upstreams {
            let port = pick().map_err(|e| EnvError::io("pick a proxy port", e))?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            listen.push(addr);
            defs.push(ProxyDef {
                name: (*name).into(),
                listen: addr.to_string(),
                upstream: upstream.to_string(),
            });
        }
        match faults.populate(defs).await {
            Ok(()) => return Ok(listen),
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(attempt, error = %e, "creating the proxies failed; trying fresh ports");
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness_faults::ToxiproxyServer;

    /// A fault server, its client, and a port some other process holds.
    async fn server_and_a_taken_port() -> (ToxiproxyServer, FaultClient, std::net::TcpListener) {
        let server = ToxiproxyServer::start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("server");
        let faults = FaultClient::new(server.addr());
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        (server, faults, taken)
    }

    const UPSTREAM: ([u8; 4], u16) = ([127, 0, 0, 1], 9);

    #[tokio::test]
    async fn a_port_taken_before_the_proxy_binds_it_is_replaced_by_a_fresh_one() {
        let (_server, faults, taken) = server_and_a_taken_port().await;
        let taken_port = taken.local_addr().expect("addr").port();
        let mut picks = 0;
        let listen = create(&faults, &[("llm", UPSTREAM.into())], || {
            picks += 1;
            if picks == 1 {
                Ok(taken_port)
            } else {
                harness_support::net::free_port()
            }
        })
        .await
        .expect("a clash is retried");
        assert_eq!(picks, 2, "one clash, one retry");
        assert_eq!(listen.len(), 1);
        assert_ne!(listen[0].port(), taken_port);
        assert!(
            harness_support::net::wait_for_tcp(listen[0], std::time::Duration::from_secs(2)).await
        );
    }

    #[tokio::test]
    async fn ports_that_are_always_taken_fail_after_a_bounded_number_of_tries() {
        let (_server, faults, taken) = server_and_a_taken_port().await;
        let taken_port = taken.local_addr().expect("addr").port();
        let mut picks = 0;
        let got = create(&faults, &[("llm", UPSTREAM.into())], || {
            picks += 1;
            Ok(taken_port)
        })
        .await;
        assert!(got.is_err());
        assert_eq!(picks, ATTEMPTS);
    }
}
