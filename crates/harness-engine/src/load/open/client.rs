//! The open model's HTTP client: hyper's pooled HTTP/1.1 client, a request built from
//! the transaction's spec, and polling for transactions that wait on a job.

use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::load::request::{fill, final_status, poll_path, read_answer, Vars};
use crate::load::LoadError;
use crate::record::Sample;
use crate::scenario::{PollSpec, TransactionSpec};

/// A pooled client bound to one base URL (plain HTTP).
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// One answer: status, `Server-Timing` and body.
struct Answer {
    status: u16,
    timing: Option<String>,
    body: Bytes,
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

    /// Runs `spec` with its placeholders filled from `vars`, filling `sample` with what
    /// the answer says. A transport failure leaves the status `None`.
    pub async fn transaction(
        &self,
        spec: &TransactionSpec,
        token: &str,
        vars: &Vars<'_>,
        sample: &mut Sample,
    ) {
        let body = spec
            .body
            .as_ref()
            .map(|b| fill(b, vars).to_string())
            .unwrap_or_default();
        let path = vars.apply(&spec.path);
        let method = if spec.method == "GET" {
            Method::GET
        } else {
            Method::POST
        };
        let Some(answer) = self.exchange(method, &path, token, body).await else {
            return;
        };
        let first = read_answer(
            sample,
            answer.status,
            answer.timing.as_deref(),
            &answer.body,
        );
        if let (Some(poll), false) = (&spec.poll, sample.is_error()) {
            sample.status = self.poll(poll, &first, token).await;
        }
    }

    /// One request and its whole answer; `None` on a transport failure.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: String,
    ) -> Option<Answer> {
        let uri: Uri = format!("{}{path}", self.base).parse().ok()?;
        let mut req = Request::builder().method(method).uri(uri);
        if !token.is_empty() {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if !body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body))).ok()?;
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

    /// Polls the job of `first` until its field is final: 200 or 500 then, 502 when
    /// `first` has no id, 504 past the poll timeout, `None` when polling broke.
    async fn poll(&self, poll: &PollSpec, first: &Value, token: &str) -> Option<u16> {
        if let Some(status) = final_status(poll, first) {
            return Some(status);
        }
        let Some(path) = poll_path(poll, first) else {
            return Some(502);
        };
        let deadline = Instant::now() + poll.timeout;
        loop {
            tokio::time::sleep(poll.every).await;
            let answer = self
                .exchange(Method::GET, &path, token, String::new())
                .await?;
            let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
            if let Some(status) = final_status(poll, &body) {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return Some(504);
            }
        }
    }
}
