//! The fault layer: faults as values (with the one table of fault kinds), a
//! Toxiproxy-compatible server, and the client the harness drives it with.

mod client;
mod fault;
mod limits;
pub mod server;

pub use client::{FaultClient, FaultError, ProxyDef, Stream, Toxic};
pub use fault::{
    kind_names, matrix, Deadlines, Fault, FaultParseError, KindRow, Target, TargetError, KINDS,
};
pub use limits::{SettingError, SutLimits};
pub use server::ToxiproxyServer;
