//! An HTTP client that keeps a transcript: every exchange a case makes becomes evidence
//! (request and response, bodies cut to a readable size, tokens masked) with a `curl`
//! line that sends it again. Its surface mirrors reqwest's, so a check reads as a test.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use crate::results::certificate::Exchange;

/// Bodies longer than this are cut in the transcript.
const BODY_LIMIT: usize = 2048;

/// The recording client.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl Http {
    /// A client whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Http {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            log: Arc::default(),
        }
    }

    /// A GET of `url`.
    pub fn get(&self, url: impl AsRef<str>) -> Req {
        self.request(Method::GET, url.as_ref())
    }

    /// A POST to `url`.
    pub fn post(&self, url: impl AsRef<str>) -> Req {
        self.request(Method::POST, url.as_ref())
    }

    fn request(&self, method: Method, url: &str) -> Req {
        Req {
            inner: self.client.request(method, url),
            client: self.client.clone(),
            log: self.log.clone(),
        }
    }

    /// The exchanges so far, in order.
    pub fn transcript(&self) -> Vec<Exchange> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// A request being built.
pub struct Req {
    inner: reqwest::RequestBuilder,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl Req {
    /// `Authorization: Bearer TOKEN`.
    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        Req {
            inner: self.inner.bearer_auth(token),
            ..self
        }
    }

    /// A JSON body.
    pub fn json(self, body: &impl serde::Serialize) -> Self {
        Req {
            inner: self.inner.json(body),
            ..self
        }
    }

    /// A header.
    pub fn header(self, name: &'static str, value: impl AsRef<str>) -> Self {
        Req {
            inner: self.inner.header(name, value.as_ref()),
            ..self
        }
    }

    /// A timeout for this request alone.
    pub fn timeout(self, timeout: Duration) -> Self {
        Req {
            inner: self.inner.timeout(timeout),
            ..self
        }
    }

    /// A body as given.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Req {
            inner: self.inner.body(body),
            ..self
        }
    }

    /// Sends it and reads its answer as it arrives, each chunk with its arrival time
    /// from the send; the client leaves at `leave_at`, if given, answer or not. The
    /// exchange is recorded with what was read.
    pub async fn send_stream(self, leave_at: Option<Instant>) -> Result<Streamed, reqwest::Error> {
        let request = self.inner.build()?;
        let mut exchange = exchange_of(&request);
        let started = Instant::now();
        let client = self.client.clone();
        let mut chunks = Vec::new();
        let mut head = None;
        let read = async {
            let mut r = client.execute(request).await?;
            head = Some((r.status(), r.headers().clone()));
            loop {
                match r.chunk().await {
                    Ok(Some(c)) => chunks.push((started.elapsed().as_secs_f64() * 1e3, c.to_vec())),
                    Ok(None) => return Ok(StreamEnd::Clean),
                    Err(_) => return Ok(StreamEnd::Broke),
                }
            }
        };
        let far = Instant::now() + Duration::from_secs(3600);
        let ended = match tokio::time::timeout_at(leave_at.unwrap_or(far).into(), read).await {
            Ok(r) => r,
            // The client left: what it had is what it saw.
            Err(_) => Ok(StreamEnd::Left),
        };
        let answer = ended.map(|end| {
            let (status, headers) = head.map_or((0, HeaderMap::new()), |(s, h)| (s.as_u16(), h));
            Streamed {
                status,
                headers,
                chunks,
                end,
            }
        });
        exchange.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        match &answer {
            Ok(r) => {
                exchange.status = (r.status != 0).then_some(r.status);
                exchange.response_headers = headers(&r.headers);
                let body: Vec<u8> = r.chunks.iter().flat_map(|(_, c)| c.clone()).collect();
                exchange.response_body = cut(&body);
            }
            Err(e) => exchange.response_body = format!("no answer: {}", failure(e)),
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(exchange);
        }
        answer
    }

    /// Sends it, reads the whole answer, and records the exchange.
    pub async fn send(self) -> Result<Resp, reqwest::Error> {
        let request = self.inner.build()?;
        let mut exchange = exchange_of(&request);
        let started = Instant::now();
        let answer = async {
            let r = self.client.execute(request).await?;
            let (status, headers) = (r.status(), r.headers().clone());
            let body = r.bytes().await?;
            Ok::<_, reqwest::Error>(Resp {
                status,
                headers,
                body: body.to_vec(),
            })
        }
        .await;
        exchange.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        match &answer {
            Ok(r) => {
                exchange.status = Some(r.status.as_u16());
                exchange.response_headers = headers(&r.headers);
                exchange.response_body = cut(&r.body);
            }
            Err(e) => exchange.response_body = format!("no answer: {}", failure(e)),
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(exchange);
        }
        answer
    }
}

/// The exchange a request starts, its answer not yet in.
fn exchange_of(request: &reqwest::Request) -> Exchange {
    let mut exchange = Exchange {
        method: request.method().to_string(),
        url: request.url().to_string(),
        request_headers: headers(request.headers()),
        request_body: request
            .body()
            .and_then(|b| b.as_bytes())
            .map(cut)
            .unwrap_or_default(),
        status: None,
        response_headers: Vec::new(),
        response_body: String::new(),
        elapsed_ms: 0.0,
        curl: String::new(),
    };
    exchange.curl = curl(&exchange);
    exchange
}

/// How the reading of a streamed answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The body ended.
    Clean,
    /// The body broke off (the connection closed mid-chunk).
    Broke,
    /// The client left, as the case asked.
    Left,
}

/// A streamed answer, chunk by chunk.
pub struct Streamed {
    /// Its status; 0 when the client left before it came.
    pub status: u16,
    /// Its headers.
    pub headers: HeaderMap,
    /// Each chunk, with its arrival in ms after the send.
    pub chunks: Vec<(f64, Vec<u8>)>,
    /// How the reading ended.
    pub end: StreamEnd,
}

/// A whole answer.
pub struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    /// Its status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Its headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Its body as JSON.
    pub async fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// Its body as text.
    pub async fn text(&self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body.clone())
    }
}

/// What kind of failure, without the library's own text.
fn failure(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the body broke off"
    } else {
        "the exchange failed"
    }
}

fn headers(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_owned(), mask(k.as_str(), &value))
        })
        .collect()
}

/// Tokens are masked: the scheme and the first few characters stay, so two tokens can
/// still be told apart.
fn mask(name: &str, value: &str) -> String {
    if !name.eq_ignore_ascii_case("authorization") {
        return value.to_owned();
    }
    match value.split_once(' ') {
        Some((scheme, token)) => {
            let shown: String = token.chars().take(8).collect();
            format!("{scheme} {shown}…(masked)")
        }
        None => "(masked)".to_owned(),
    }
}

fn cut(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= BODY_LIMIT {
        return text.into_owned();
    }
    let mut end = BODY_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], bytes.len())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn curl(e: &Exchange) -> String {
    let mut line = format!("curl -si -X {} {}", e.method, quote(&e.url));
    for (k, v) in &e.request_headers {
        let v = if k.eq_ignore_ascii_case("authorization") {
            "Bearer $TOKEN".to_owned()
        } else {
            v.clone()
        };
        line.push_str(&format!(" -H {}", quote(&format!("{k}: {v}"))));
    }
    if !e.request_body.is_empty() {
        if e.request_body.len() > BODY_LIMIT {
            line.push_str(" --data-binary @body.json");
        } else {
            line.push_str(&format!(" --data-binary {}", quote(&e.request_body)));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked_and_long_bodies_cut() {
        assert_eq!(
            mask("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.secret"),
            "Bearer eyJhbGci…(masked)"
        );
        assert_eq!(mask("content-type", "text/plain"), "text/plain");
        let long = "x".repeat(5000);
        let shown = cut(long.as_bytes());
        assert!(shown.len() < 2100 && shown.ends_with("(5000 bytes in all)"));
    }

    #[test]
    fn the_curl_line_sends_the_same_request() {
        let e = Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:1/api/chat".into(),
            request_headers: vec![
                ("authorization".into(), "Bearer abc…(masked)".into()),
                ("content-type".into(), "application/json".into()),
            ],
            request_body: r#"{"query":"it's"}"#.into(),
            status: Some(200),
            response_headers: vec![],
            response_body: String::new(),
            elapsed_ms: 1.0,
            curl: String::new(),
        };
        assert_eq!(
            curl(&e),
            "curl -si -X POST 'http://127.0.0.1:1/api/chat' -H 'authorization: Bearer $TOKEN' \
             -H 'content-type: application/json' --data-binary '{\"query\":\"it'\\''s\"}'"
        );
    }
}
