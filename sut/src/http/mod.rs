//! The HTTP side: handlers (checking the request and the caller, then calling the
//! domain), extractors and the error type every handler returns.

pub mod audit;
mod caller;
pub mod chat;
pub mod documents;
pub mod error;
pub mod extract;
pub mod health;
