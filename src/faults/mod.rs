//! The fault layer: a Toxiproxy-compatible server and the client the harness drives it
//! with.

mod client;
pub mod server;

pub use client::{FaultClient, FaultError, ProxyDef, Stream, Toxic};
pub use server::ToxiproxyServer;
