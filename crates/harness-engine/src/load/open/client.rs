//! The open model's transport: hyper's pooled HTTP/1.1 client bound to one base URL
//! (no reqwest on the hot path).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::load::execute::{Answer, Call, Transport, Verb};
use crate::load::LoadError;

/// A pooled client bound to one base URL (plain HTTP). Clones share the pool.
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Client {
    /// A client for `base` (`http://host:port`).
    pub fn new(base: &str) -> Result<Self, LoadError> {
        let base = base.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") {
            return Err(LoadError::NotHttp(base));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner =
            hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
        Ok(Client { inner, base })
    }
}

impl Transport for Client {
    /// One request and its whole answer. The open model cuts a request with one timer
    /// around the whole transaction, so `call.timeout` is not needed here.
    async fn send(&mut self, call: Call<'_>) -> Option<Answer> {
        let uri: Uri = format!("{}{}", self.base, call.path).parse().ok()?;
        let method = match call.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        };
        let mut req = Request::builder().method(method).uri(uri);
        if !call.token.is_empty() {
            req = req.header(AUTHORIZATION, format!("Bearer {}", call.token));
        }
        if !call.body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req.body(Full::new(call.body)).ok()?;
        let resp = self.inner.request(req).await.ok()?;
        let status = resp.status().as_u16();
        let timing = resp
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        Some(Answer {
            status,
            timing,
            body,
        })
    }
}
