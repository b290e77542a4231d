//! One scenario transaction as a Goose transaction: build the request from the spec,
//! send it through Goose (so Goose keeps its own counts), time it ourselves end to end,
//! poll if asked, and send one [`Sample`] to the collector. A transaction still running
//! at the load phase's deadline is cut there and recorded as a timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::goose::{GooseMethod, GooseRequest, GooseUser, Transaction, TransactionResult};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::request::{fill, final_status, poll_path, read_answer, Vars};
use crate::record::Sample;
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
    /// Rows for `{column}` placeholders.
    pub feeder: Option<Arc<crate::scenario::Feeder>>,
    /// When transactions still running are cut (`None`: an iterations profile, which
    /// ends when its users are done).
    pub deadline: Option<Instant>,
    /// The scenario's per-request timeout (Goose's client has it too).
    pub request_timeout: Duration,
    /// Clients that abandon a share of their requests.
    pub abandon: Option<super::Abandon>,
    /// Which shard this is: Goose's user numbers are local to it.
    pub shard: super::Shard,
}

/// The on-start transaction: mints the user's token.
pub fn on_start(shared: Arc<Shared>) -> Transaction {
    Transaction::new(Arc::new(move |user: &mut GooseUser| {
        let shared = shared.clone();
        Box::pin(async move {
            let token = (shared.mint)(shared.shard.user(user.weighted_users_index));
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
    let number = shared.shard.user(user.weighted_users_index);
    let vars = Vars {
        user: number,
        n,
        row: shared
            .feeder
            .as_deref()
            .map(|f| f.row(number))
            .unwrap_or_default(),
    };
    let path = vars.apply(&spec.path);
    let mut rb = user.get_request_builder(&method, &path)?;
    if !token.is_empty() {
        rb = rb.bearer_auth(&token);
    }
    if let Some(body) = &spec.body {
        rb = rb.json(&fill(body, &vars));
    }
    // A single exchange is cut at the deadline by the client's own timer, shortened to
    // end there, rather than by a second timer around it: one timer per request is
    // part of keeping the closed path as fast as bare Goose. A polled job makes several
    // exchanges and keeps the outer timer.
    let single = spec.poll.is_none();
    if let (Some(d), true) = (shared.deadline, single) {
        let left = d.saturating_duration_since(Instant::now());
        if left < shared.request_timeout {
            rb = rb.timeout(left.max(Duration::from_millis(1)));
        }
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path.as_str())
        .name(spec.name.as_str())
        .set_request_builder(rb)
        .build();

    let begun = Instant::now();
    let at = begun.saturating_duration_since(shared.started);
    let mut sample = Sample {
        transaction: spec.name.clone(),
        at,
        ..Sample::default()
    };
    let exchange = async {
        let mut body = Value::Null;
        if let Ok(goose_response) = user.request(request).await {
            if let Ok(r) = goose_response.response {
                let status = r.status().as_u16();
                let timing = r
                    .headers()
                    .get("server-timing")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match r.bytes().await {
                    Ok(bytes) => body = read_answer(&mut sample, status, timing.as_deref(), &bytes),
                    Err(_) => sample.status = None,
                }
            }
        }
        if let (Some(poll), false) = (&spec.poll, sample.is_error()) {
            sample.status = poll_job(poll, &body, &token, user).await;
        }
    };
    // The client that abandons drops the exchange mid-flight, connection and all.
    let mut abandoned = false;
    let leave_after = shared.abandon.and_then(|a| a.pick(rand::random::<f64>()));
    let exchange = async {
        match leave_after {
            Some(after) => abandoned = tokio::time::timeout(after, exchange).await.is_err(),
            None => exchange.await,
        }
    };
    let finished = match shared.deadline {
        Some(d) if !single => tokio::time::timeout_at(d.into(), exchange).await.is_ok(),
        Some(d) => {
            exchange.await;
            // No answer, and the deadline has passed: the client's timer cut it there.
            !(sample.status.is_none() && Instant::now() >= d)
        }
        None => {
            exchange.await;
            true
        }
    };
    if abandoned {
        sample.status = None;
        sample.abandoned = true;
    } else if !finished {
        sample.status = None;
        sample.cut = true;
    }
    sample.latency = begun.elapsed();
    // The collector only goes away when the run is over; a late sample is dropped.
    let _ = shared.samples.send(sample);
    Ok(())
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
    let Some(path) = poll_path(poll, first) else {
        return Some(502);
    };
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
