//! The open model's transport: a pool of HTTP/1.1 keep-alive connections to one
//! address, each driven by hyper's connection-level client. The pool can be filled
//! before the schedule starts, as wrk opens its connections before its clock, so that
//! the first second's requests do not queue behind a storm of connects.

use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::load::execute::{server_timing, Answer, Call, Transport, Verb};
use crate::load::LoadError;

type Sender = SendRequest<Full<Bytes>>;

/// A pooled client bound to one base URL (plain HTTP). Clones share the pool.
#[derive(Clone)]
pub struct Client {
    /// `host:port`, for connects and the `Host` header.
    authority: Arc<str>,
    /// Idle connections, most recently used last.
    idle: Arc<Mutex<Vec<Sender>>>,
}

impl Client {
    /// A client for `base` (`http://host:port`, no path).
    pub fn new(base: &str) -> Result<Self, LoadError> {
        let trimmed = base.trim_end_matches('/');
        let Some(authority) = trimmed.strip_prefix("http://") else {
            return Err(LoadError::NotHttp(trimmed.to_owned()));
        };
        if authority.is_empty() || authority.contains('/') {
            return Err(LoadError::NotHttp(trimmed.to_owned()));
        }
        Ok(Client {
            authority: Arc::from(authority),
            idle: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Opens up to `n` connections at once and leaves each idle in the pool as it
    /// opens. A connect that fails is not retried here: the requests will try again.
    pub async fn warm(&self, n: usize) {
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..n {
            let client = self.clone();
            connects.spawn(async move {
                if let Some(s) = client.connect().await {
                    client.lock().push(s);
                }
            });
        }
        while connects.join_next().await.is_some() {}
    }

    /// How many connections are idle in the pool.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sender>> {
        // A panic while holding the lock leaves a list of senders, still usable.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection, its driver on its own task; `None` when it cannot be opened.
    async fn connect(&self) -> Option<Sender> {
        let stream = TcpStream::connect(&*self.authority).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
        tokio::spawn(async move {
            // The connection ends when the server closes it or every sender is gone.
            let _ = conn.await;
        });
        Some(sender)
    }

    /// An idle connection that is still open, or a new one, and whether it was reused.
    async fn checkout(&self) -> Option<(Sender, bool)> {
        loop {
            let Some(mut s) = self.lock().pop() else {
                return self.connect().await.map(|s| (s, false));
            };
            if !s.is_closed() && s.ready().await.is_ok() {
                return Some((s, true));
            }
        }
    }

    fn request(&self, call: &Call<'_>) -> Option<Request<Full<Bytes>>> {
        let method = match call.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        };
        let mut req = Request::builder()
            .method(method)
            .uri(call.path)
            .header(HOST, &*self.authority);
        if !call.token.is_empty() {
            req = req.header(AUTHORIZATION, format!("Bearer {}", call.token));
        }
        if !call.body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        req.body(Full::new(call.body.clone())).ok()
    }
}

impl Transport for Client {
    /// One request and its whole answer. The open model cuts a request with one timer
    /// around the whole transaction, so `call.timeout` is not needed here.
    async fn send(&mut self, call: Call<'_>) -> Option<Answer> {
        let (mut sender, reused) = self.checkout().await?;
        let resp = match sender.send_request(self.request(&call)?).await {
            Ok(resp) => resp,
            // A kept-alive connection the server closed just as it was reused: the
            // request never went out, so it goes once more on a new connection.
            Err(e) if reused && e.is_canceled() => {
                sender = self.connect().await?;
                sender.send_request(self.request(&call)?).await.ok()?
            }
            Err(_) => return None,
        };
        let status = resp.status().as_u16();
        let timing = server_timing(resp.headers());
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        // Back to the pool only once its answer is read in full.
        self.lock().push(sender);
        Some(Answer {
            status,
            timing,
            body,
        })
    }
}
