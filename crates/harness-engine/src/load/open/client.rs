//! The open model's transport: one HTTP/1.1 keep-alive connection, driven by hyper's
//! connection-level client. A worker ([`super::workers`]) owns one and sends its
//! requests over it one after another, as a wrk connection does; a connection that
//! broke, or whose request was cut or abandoned mid-flight, is replaced by a new one at
//! the next send.

use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::load::execute::{server_timing, Answer, Call, Transport, Verb};
use crate::load::stream;
use crate::results::StreamEnd;

type Sender = SendRequest<Full<Bytes>>;

/// Where the connections go: `host:port`, and the `Host` header it makes, checked once.
#[derive(Clone)]
pub struct Target {
    authority: Arc<str>,
    host: HeaderValue,
}

impl Target {
    /// The target of `base` (`http://host:port`, no path); `None` when it is not one.
    pub fn new(base: &str) -> Option<Self> {
        let authority = base.trim_end_matches('/').strip_prefix("http://")?;
        if authority.is_empty() || authority.contains('/') {
            return None;
        }
        Some(Target {
            authority: Arc::from(authority),
            host: HeaderValue::from_str(authority).ok()?,
        })
    }
}

/// One connection to the target, opened when first needed.
pub struct Conn {
    target: Target,
    /// The open connection, if there is one. It is taken out for the length of an
    /// exchange, so that an exchange dropped mid-flight (a cut, an abandon) drops the
    /// connection with it: its answer can no longer be told from the next one's.
    sender: Option<Sender>,
}

impl Conn {
    /// A connection to `target`, not yet opened.
    pub fn new(target: Target) -> Self {
        Conn {
            target,
            sender: None,
        }
    }

    /// Opens the connection now; false when it cannot be opened.
    pub async fn open(&mut self) -> bool {
        self.sender = connect(&self.target.authority).await;
        self.sender.is_some()
    }

    /// The open connection, or a new one, and whether it was reused.
    async fn checkout(&mut self) -> Option<(Sender, bool)> {
        if let Some(mut s) = self.sender.take() {
            if !s.is_closed() && s.ready().await.is_ok() {
                return Some((s, true));
            }
        }
        connect(&self.target.authority).await.map(|s| (s, false))
    }

    fn request(&self, call: &Call<'_>) -> Option<Request<Full<Bytes>>> {
        let mut req = Request::new(Full::new(call.body.clone()));
        *req.method_mut() = match call.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        };
        *req.uri_mut() = Uri::try_from(call.path).ok()?;
        let headers = req.headers_mut();
        headers.insert(HOST, self.target.host.clone());
        if !call.token.is_empty() {
            let bearer = HeaderValue::try_from(format!("Bearer {}", call.token)).ok()?;
            headers.insert(AUTHORIZATION, bearer);
        }
        if !call.body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Some(req)
    }
}

/// A new connection, its driver on a task of its own; `None` when it cannot be opened.
async fn connect(authority: &str) -> Option<Sender> {
    let stream = TcpStream::connect(authority).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(async move {
        // The connection ends when the server closes it or its sender is gone.
        let _ = conn.await;
    });
    Some(sender)
}

impl Transport for Conn {
    /// One request and its whole answer. The open model cuts a request with one timer
    /// around the whole transaction, so `call.timeout` is not needed here.
    async fn send(&mut self, call: Call<'_>) -> Option<Answer> {
        let (mut sender, reused) = self.checkout().await?;
        let resp = match sender.send_request(self.request(&call)?).await {
            Ok(resp) => resp,
            // A kept-alive connection the server closed just as it was reused: the
            // request never went out, so it goes once more on a new connection.
            Err(e) if reused && e.is_canceled() => {
                sender = connect(&self.target.authority).await?;
                sender.send_request(self.request(&call)?).await.ok()?
            }
            Err(_) => return None,
        };
        let status = resp.status().as_u16();
        let timing = server_timing(resp.headers());
        if let Some((spec, origin)) = call.stream.filter(|_| resp.status().is_success()) {
            let mut body = resp.into_body();
            let (seen, last) = stream::read(&mut body, spec, origin).await;
            // Kept only when the stream ran to its end: one left unread would answer
            // the next request with its rest.
            if seen.end == StreamEnd::Done && body.is_end_stream() {
                self.sender = Some(sender);
            }
            return Some(Answer {
                status,
                timing,
                body: last,
                stream: Some(seen),
            });
        }
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        // Kept only once its answer is read in full.
        self.sender = Some(sender);
        Some(Answer {
            status,
            timing,
            body,
            stream: None,
        })
    }
}
