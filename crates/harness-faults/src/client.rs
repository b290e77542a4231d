//! The harness's only way to drive faults: `toxiproxy_rust`, so a real Toxiproxy is a
//! drop-in for ours. That client is blocking (reqwest's blocking client), so every call
//! runs on tokio's blocking pool, never on an async worker thread.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use toxiproxy_rust::client::Client;
use toxiproxy_rust::proxy::ProxyPack;

/// How long one fault-layer call may take (restarting a proxy takes up to 10 s).
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Errors from the fault layer, naming the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// The Toxiproxy server refused or failed the call.
    #[error("toxiproxy at {addr}: {op}: {message}")]
    Api {
        /// Server address.
        addr: SocketAddr,
        /// What the harness tried.
        op: String,
        /// What went wrong.
        message: String,
    },
}

/// Which direction of a connection a toxic acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Client to server.
    Upstream,
    /// Server to client.
    Downstream,
}

impl Stream {
    fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

/// A toxic and its parameters, in Toxiproxy's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toxic {
    /// Delay every chunk by `ms` ± `jitter_ms`.
    Latency {
        /// Milliseconds added.
        ms: u32,
        /// Random ± milliseconds.
        jitter_ms: u32,
    },
    /// Stop all data and close after `ms` (0: never close).
    Timeout {
        /// Milliseconds before closing.
        ms: u32,
    },
    /// Limit throughput to `kbps` kilobytes per second.
    Bandwidth {
        /// KB/s.
        kbps: u32,
    },
    /// Delay the close of a connection by `ms`.
    SlowClose {
        /// Milliseconds.
        ms: u32,
    },
    /// Slice data into small packets with a delay between them.
    Slicer {
        /// Average packet size in bytes.
        average_size: u32,
        /// ± bytes.
        size_variation: u32,
        /// Microseconds between packets.
        delay_us: u32,
    },
    /// Close the connection after `bytes` bytes.
    LimitData {
        /// Byte budget.
        bytes: u32,
    },
}

impl Toxic {
    /// The toxic's type name, which with the stream makes its default name.
    pub fn kind(&self) -> &'static str {
        match self {
            Toxic::Latency { .. } => "latency",
            Toxic::Timeout { .. } => "timeout",
            Toxic::Bandwidth { .. } => "bandwidth",
            Toxic::SlowClose { .. } => "slow_close",
            Toxic::Slicer { .. } => "slicer",
            Toxic::LimitData { .. } => "limit_data",
        }
    }
}

/// One proxy to create: its name, where it listens, where it forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyDef {
    /// Unique name, e.g. `postgres`.
    pub name: String,
    /// `host:port` to listen on.
    pub listen: String,
    /// `host:port` to forward to.
    pub upstream: String,
}

/// An async handle on a Toxiproxy server.
///
/// ```no_run
/// # async fn demo(addr: std::net::SocketAddr) -> Result<(), harness_faults::FaultError> {
/// use harness_faults::{FaultClient, Stream, Toxic};
/// let faults = FaultClient::new(addr);
/// faults.add("postgres", Stream::Downstream, Toxic::Latency { ms: 300, jitter_ms: 0 }, 1.0).await?;
/// faults.clear("postgres").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FaultClient {
    addr: SocketAddr,
}

impl FaultClient {
    /// A client for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        FaultClient { addr }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn call<T, E, F>(&self, op: String, f: F) -> Result<T, FaultError>
    where
        T: Send + 'static,
        E: std::fmt::Display + Send + 'static,
        F: FnOnce(&Client) -> Result<T, E> + Send + 'static,
    {
        let addr = self.addr;
        let call = tokio::task::spawn_blocking(move || {
            // toxiproxy_rust panics on transport errors in some calls; keep that inside.
            std::panic::catch_unwind(AssertUnwindSafe(|| f(&Client::new(addr))))
        });
        let Ok(result) = tokio::time::timeout(CALL_TIMEOUT, call).await else {
            return Err(FaultError::Api {
                addr,
                op,
                message: format!("no answer within {CALL_TIMEOUT:?}"),
            });
        };
        let message = match result {
            Ok(Ok(Ok(v))) => return Ok(v),
            Ok(Ok(Err(e))) => e.to_string(),
            Ok(Err(panic)) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "client panicked".into()),
            Err(join) => join.to_string(),
        };
        Err(FaultError::Api { addr, op, message })
    }

    /// True when the server accepts connections.
    pub async fn is_running(&self) -> bool {
        self.call("ping".into(), |c| Ok::<_, FaultError>(c.is_running()))
            .await
            .unwrap_or(false)
    }

    /// The server's version string.
    pub async fn version(&self) -> Result<String, FaultError> {
        self.call("version".into(), |c| c.version()).await
    }

    /// Creates or replaces the given proxies.
    pub async fn populate(&self, proxies: Vec<ProxyDef>) -> Result<(), FaultError> {
        let want = proxies.len();
        let packs = proxies
            .into_iter()
            .map(|p| ProxyPack::new(p.name, p.listen, p.upstream))
            .collect();
        self.call("populate".into(), move |c| {
            let got = c.populate(packs)?;
            if got.len() == want {
                Ok(())
            } else {
                Err(format!("server created {} of {want} proxies", got.len()))
            }
        })
        .await
    }

    /// Adds a toxic to a proxy and checks that the server has it.
    pub async fn add(
        &self,
        proxy: &str,
        stream: Stream,
        toxic: Toxic,
        toxicity: f32,
    ) -> Result<(), FaultError> {
        let name = proxy.to_owned();
        let op = format!("add {} toxic to {proxy}", toxic.kind());
        self.call(op, move |c| {
            let p = c.find_proxy(&name)?;
            let s = stream.as_str().to_owned();
            match toxic {
                Toxic::Latency { ms, jitter_ms } => p.with_latency(s, ms, jitter_ms, toxicity),
                Toxic::Timeout { ms } => p.with_timeout(s, ms, toxicity),
                Toxic::Bandwidth { kbps } => p.with_bandwidth(s, kbps, toxicity),
                Toxic::SlowClose { ms } => p.with_slow_close(s, ms, toxicity),
                Toxic::Slicer {
                    average_size,
                    size_variation,
                    delay_us,
                } => p.with_slicer(s, average_size, size_variation, delay_us, toxicity),
                Toxic::LimitData { bytes } => p.with_limit_data(s, bytes, toxicity),
            };
            // The client ignores HTTP errors when creating toxics, so confirm.
            let wanted = format!("{}_{}", toxic.kind(), stream.as_str());
            if p.toxics()?.iter().any(|t| t.name == wanted) {
                Ok(())
            } else {
                Err(format!("server did not keep toxic {wanted}"))
            }
        })
        .await
    }

    /// Removes every toxic from a proxy.
    pub async fn clear(&self, proxy: &str) -> Result<(), FaultError> {
        let name = proxy.to_owned();
        self.call(format!("clear toxics on {proxy}"), move |c| {
            c.find_proxy(&name)?.delete_all_toxics()
        })
        .await
    }

    /// Disables a proxy: open connections are closed and new ones refused.
    pub async fn disable(&self, proxy: &str) -> Result<(), FaultError> {
        let name = proxy.to_owned();
        self.call(format!("disable {proxy}"), move |c| {
            c.find_proxy(&name)?.disable()
        })
        .await
    }

    /// Enables a proxy again.
    pub async fn enable(&self, proxy: &str) -> Result<(), FaultError> {
        let name = proxy.to_owned();
        self.call(format!("enable {proxy}"), move |c| {
            c.find_proxy(&name)?.enable()
        })
        .await
    }

    /// Enables every proxy and removes every toxic.
    pub async fn reset(&self) -> Result<(), FaultError> {
        self.call("reset".into(), |c| c.reset()).await
    }
}
