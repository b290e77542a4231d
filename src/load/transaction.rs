//! One scenario transaction as a Goose transaction: build the request from the spec,
//! send it through Goose (so Goose keeps its own counts), time it ourselves end to end,
//! poll if asked, and send one [`Sample`] to the collector.

use std::sync::Arc;
use std::time::Instant;

use goose::goose::{GooseMethod, GooseRequest, GooseUser, Transaction, TransactionResult};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use crate::record::{parse_server_timing, Sample};
use crate::scenario::TransactionSpec;

/// Per-user state, set by the on-start transaction.
#[derive(Debug, Clone)]
pub struct UserState {
    /// Bearer token minted for this user.
    pub token: String,
    /// Iterations so far, for `{n}` in bodies.
    pub n: u64,
}

/// Shared by every user: where samples go and when the load started.
pub struct Shared {
    /// To the collector.
    pub samples: UnboundedSender<Sample>,
    /// Start of the load phase; sample times are offsets from it.
    pub started: Instant,
    /// Mints the token for user `i`.
    pub mint: Box<dyn Fn(usize) -> String + Send + Sync>,
}

/// The on-start transaction: mints the user's token.
pub fn on_start(shared: Arc<Shared>) -> Transaction {
    Transaction::new(Arc::new(move |user: &mut GooseUser| {
        let shared = shared.clone();
        Box::pin(async move {
            let token = (shared.mint)(user.weighted_users_index);
            user.set_session_data(UserState { token, n: 0 });
            Ok(())
        })
    }))
    .set_name("login")
    .set_on_start()
}

/// The Goose transaction for `spec`.
pub fn transaction(spec: Arc<TransactionSpec>, shared: Arc<Shared>) -> Transaction {
    let name = spec.name.clone();
    Transaction::new(Arc::new(move |user: &mut GooseUser| {
        let spec = spec.clone();
        let shared = shared.clone();
        Box::pin(async move { run(&spec, &shared, user).await })
    }))
    .set_name(&name)
}

/// Replaces `{user}` and `{n}` in every string of `v`.
fn fill(v: &toml::Value, user: usize, n: u64) -> Value {
    match v {
        toml::Value::String(s) => Value::String(
            s.replace("{user}", &user.to_string())
                .replace("{n}", &n.to_string()),
        ),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, user, n)).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, x)| (k.clone(), fill(x, user, n)))
                .collect(),
        ),
    }
}

async fn run(spec: &TransactionSpec, shared: &Shared, user: &mut GooseUser) -> TransactionResult {
    let (token, n) = match user.get_session_data_mut::<UserState>() {
        Some(s) => {
            s.n += 1;
            (s.token.clone(), s.n)
        }
        None => (String::new(), 0),
    };
    let method = if spec.method == "GET" {
        GooseMethod::Get
    } else {
        GooseMethod::Post
    };
    let mut rb = user.get_request_builder(&method, &spec.path)?;
    if !token.is_empty() {
        rb = rb.bearer_auth(&token);
    }
    if let Some(body) = &spec.body {
        rb = rb.json(&fill(body, user.weighted_users_index, n));
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(spec.path.as_str())
        .name(spec.name.as_str())
        .set_request_builder(rb)
        .build();

    let begun = Instant::now();
    let at = begun.saturating_duration_since(shared.started);
    let response = user.request(request).await;
    let mut sample = Sample {
        transaction: spec.name.clone(),
        at,
        ..Sample::default()
    };
    let mut body = Value::Null;
    if let Ok(goose_response) = response {
        if let Ok(r) = goose_response.response {
            sample.status = Some(r.status().as_u16());
            if let Some(h) = r
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
            {
                sample.operations = parse_server_timing(h);
            }
            match r.bytes().await {
                Ok(bytes) => body = serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                Err(_) => sample.status = None,
            }
        }
    }
    sample.fallback = body
        .get("fallback")
        .and_then(Value::as_str)
        .map(str::to_owned);
    sample.degraded = body.get("degraded").and_then(Value::as_bool);
    sample.quality_score = body.get("quality_score").and_then(Value::as_f64);
    if let Some(Value::Array(sources)) = body.get("sources") {
        sample.sources = sources
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    if let (Some(poll), false) = (&spec.poll, sample.is_error()) {
        sample.status = poll_job(poll, &body, &token, user).await;
    }
    sample.latency = begun.elapsed();
    // The collector only goes away when the run is over; a late sample is dropped.
    let _ = shared.samples.send(sample);
    Ok(())
}

/// 200 or 500 when `body`'s watched field holds a final value (500 for a failed one).
fn final_status(poll: &crate::scenario::PollSpec, body: &Value) -> Option<u16> {
    let v = body.get(&poll.field).and_then(Value::as_str)?;
    poll.until.iter().any(|u| u == v).then(|| {
        if poll.failed.iter().any(|f| f == v) {
            500
        } else {
            200
        }
    })
}

/// Polls until the watched field reaches a final value. Returns the status to record:
/// 200 when the job ended well, 500 for a failed job, 502 when the first answer has no
/// id, 504 on timeout, `None` (transport) when polling broke.
async fn poll_job(
    poll: &crate::scenario::PollSpec,
    first: &Value,
    token: &str,
    user: &mut GooseUser,
) -> Option<u16> {
    // Already final in the first response (a cached result).
    if let Some(status) = final_status(poll, first) {
        return Some(status);
    }
    let id = match first.get(&poll.id_field) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => return Some(502),
    };
    let path = poll.path.replace("{job_id}", &id);
    let deadline = Instant::now() + poll.timeout;
    loop {
        tokio::time::sleep(poll.every).await;
        let rb = user.get_request_builder(&GooseMethod::Get, &path).ok()?;
        let rb = if token.is_empty() {
            rb
        } else {
            rb.bearer_auth(token)
        };
        let req = GooseRequest::builder()
            .method(GooseMethod::Get)
            .path(path.as_str())
            .name("poll")
            .set_request_builder(rb)
            .build();
        let resp = user.request(req).await.ok()?.response.ok()?;
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if let Some(status) = final_status(poll, &body) {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return Some(504);
        }
    }
}
