//! One scenario transaction as a Goose transaction: the shared executor
//! ([`super::execute`]) over the Goose user's HTTP client as its transport, timed here
//! end to end, and one [`Sample`] sent to the collector. A
//! transaction still running at the load phase's deadline is cut there and recorded as
//! a timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::goose::{GooseMethod, GooseUser, Transaction, TransactionResult};
use tokio::sync::mpsc::UnboundedSender;

use super::execute::{execute, server_timing, Answer, Call, Transport, Verb};
use super::request::Vars;
use super::stream;
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
    /// The plan's end: no transaction starts at or after it (`None`: an iterations
    /// profile). Goose stops its users a few hundred ms late, and what they sent then
    /// would be scored over the planned window and served beyond it.
    pub sends_until: Option<Instant>,
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

/// How long a user whose plan has ended waits before Goose asks it again: a poll, not
/// a spin, for a scenario with no think time, until Goose stops it.
const AFTER_THE_PLAN: Duration = Duration::from_millis(50);

async fn run(spec: &TransactionSpec, shared: &Shared, user: &mut GooseUser) -> TransactionResult {
    if shared.sends_until.is_some_and(|end| Instant::now() >= end) {
        tokio::time::sleep(AFTER_THE_PLAN).await;
        return Ok(());
    }
    let (token, n) = match user.get_session_data_mut::<UserState>() {
        Some(s) => {
            s.n += 1;
            (s.token.clone(), s.n)
        }
        None => (String::new(), 0),
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
    // A single exchange is cut at the deadline by the client's own timer, shortened to
    // end there, rather than by a second timer around it: one timer per request is
    // part of keeping the closed path as fast as bare Goose. A polled job makes several
    // exchanges and keeps the outer timer.
    let single = spec.poll.is_none();
    let timeout = shared.deadline.and_then(|d| {
        let left = d.saturating_duration_since(Instant::now());
        (left < shared.request_timeout).then(|| left.max(Duration::from_millis(1)))
    });

    let begun = Instant::now();
    let at = begun.saturating_duration_since(shared.started);
    let mut sample = Sample {
        transaction: spec.name.clone(),
        at,
        ..Sample::default()
    };
    let mut transport = Goose(user);
    let exchange = execute(
        &mut transport,
        spec,
        &token,
        &vars,
        timeout,
        begun,
        &mut sample,
    );
    // The client that abandons drops the exchange mid-flight, connection and all.
    let mut abandoned = false;
    let leave_after = shared.abandon.and_then(|a| a.pick(rand::random::<f64>()));
    let exchange = async {
        match leave_after {
            Some(after) => abandoned = tokio::time::timeout(after, exchange).await.is_err(),
            None => exchange.await,
        }
    };
    let cut = match shared.deadline {
        Some(d) if !single => tokio::time::timeout_at(d.into(), exchange).await.is_err(),
        Some(d) => {
            exchange.await;
            // No answer, and the deadline has passed: the client's timer cut it there.
            sample.status.is_none() && Instant::now() >= d
        }
        None => {
            exchange.await;
            false
        }
    };
    if abandoned {
        sample.status = None;
        sample.abandoned = true;
    } else if cut {
        sample.status = None;
        sample.cut = true;
    }
    sample.latency = begun.elapsed();
    // The collector only goes away when the run is over; a late sample is dropped.
    let _ = shared.samples.send(sample);
    Ok(())
}

/// The closed model's transport: the Goose user's own client (its connection pool, base
/// URL and timeout). Goose schedules the users; the harness records the requests, so
/// the request goes past `GooseUser::request`, which would build Goose's own record of
/// it (URL parsed again, headers formatted) for metrics the attack does not keep.
struct Goose<'u>(&'u mut GooseUser);

impl Transport for Goose<'_> {
    async fn send(&mut self, call: Call<'_>) -> Option<Answer> {
        let method = match call.verb {
            Verb::Get => GooseMethod::Get,
            Verb::Post => GooseMethod::Post,
        };
        let mut rb = self.0.get_request_builder(&method, call.path).ok()?;
        if !call.token.is_empty() {
            rb = rb.bearer_auth(call.token);
        }
        if !call.body.is_empty() {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(call.body);
        }
        if let Some(t) = call.timeout {
            rb = rb.timeout(t);
        }
        let r = match self.0.client.execute(rb.build().ok()?).await {
            Ok(r) => r,
            Err(e) => {
                // One line per failed request, as Goose's own request method logs it;
                // under --quiet the command keeps these in the run's directory.
                tracing::warn!(path = call.path, "{e}");
                return None;
            }
        };
        let status = r.status().as_u16();
        let timing = server_timing(r.headers());
        if let Some((spec, origin)) = call.stream.filter(|_| r.status().is_success()) {
            let mut r = r;
            let (seen, body) = stream::read(&mut r, spec, origin).await;
            return Some(Answer {
                status,
                timing,
                body,
                stream: Some(seen),
            });
        }
        // A body cut short is a transport failure, as in the open model.
        let body = r.bytes().await.ok()?;
        Some(Answer {
            status,
            timing,
            body,
            stream: None,
        })
    }
}
