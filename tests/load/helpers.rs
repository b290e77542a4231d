//! Targets of known latency for measurement-truth tests.
//!
//! The target runs on its own OS threads, one per connection, and sleeps the thread for
//! its known latency: it shares no async runtime with the load generator, so a busy
//! generator cannot make it late. It also times what it actually served, from the end
//! of each request to the start of its answer: a thread the scheduler wakes late serves
//! late, and that is then the truth the harness must read.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Stops the target when dropped: no new connection is served, and the threads of the
/// open ones end when their client closes.
pub struct Stop {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    served: Arc<Mutex<Vec<Duration>>>,
}

impl Stop {
    /// How long each answer took, as the target timed it, in arrival order.
    pub fn served(&self) -> Vec<Duration> {
        self.served.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// How long the target takes over the n-th request (from 0) that arrives `since` its
/// first request.
pub type Delay = Arc<dyn Fn(u64, Duration) -> Duration + Send + Sync>;

/// Fixed latency.
pub fn fixed(ms: u64) -> Delay {
    Arc::new(move |_, _| Duration::from_millis(ms))
}

/// Every 10th request takes `slow` ms, the others `fast`: independent of time, so a slow
/// answer holds nobody else back.
pub fn bimodal(fast: u64, slow: u64) -> Delay {
    Arc::new(move |n, _| Duration::from_millis(if n % 10 == 9 { slow } else { fast }))
}

/// `ms` per request, except that nothing is answered from `from` to `from + len`: a
/// request arriving then is answered `ms` after the stall ends.
pub fn stall(ms: u64, from: Duration, len: Duration) -> Delay {
    Arc::new(move |_, since| stall_latency(ms, from, len, since))
}

/// The latency of the [`stall`] target for a request that arrives at `t`.
pub fn stall_latency(ms: u64, from: Duration, len: Duration, t: Duration) -> Duration {
    let d = Duration::from_millis(ms);
    if t >= from && t < from + len {
        from + len - t + d
    } else {
        d
    }
}

/// Serves `GET /` after `delay`, on a loopback port, until the returned [`Stop`] is
/// dropped.
pub async fn known_latency_server(delay: Delay) -> (SocketAddr, Stop) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stopping = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let first: Arc<std::sync::OnceLock<Instant>> = Arc::new(std::sync::OnceLock::new());
    let served: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let flag = stopping.clone();
    let log = served.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if flag.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let (counter, delay, first) = (counter.clone(), delay.clone(), first.clone());
            let log = log.clone();
            std::thread::spawn(move || serve(conn, &counter, &delay, &first, &log));
        }
    });
    (
        addr,
        Stop {
            addr,
            stopping,
            served,
        },
    )
}

/// Answers each request on one keep-alive connection until the client closes it.
fn serve(
    conn: TcpStream,
    counter: &AtomicU64,
    delay: &Delay,
    first: &std::sync::OnceLock<Instant>,
    served: &Mutex<Vec<Duration>>,
) {
    let _ = conn.set_nodelay(true);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    loop {
        if !read_request(&mut reader, &mut line) {
            return;
        }
        let now = Instant::now();
        let since = now.saturating_duration_since(*first.get_or_init(|| now));
        let wait = delay(counter.fetch_add(1, Ordering::Relaxed), since);
        // Sleep until the answer is due, from the arrival, not from now.
        std::thread::sleep((now + wait).saturating_duration_since(Instant::now()));
        if let Ok(mut v) = served.lock() {
            v.push(now.elapsed());
        }
        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
        if out.write_all(answer).is_err() {
            return;
        }
    }
}

/// Reads one request's head: a GET has no body, so it ends at the first empty line.
/// False when the client closed the connection.
fn read_request(reader: &mut BufReader<TcpStream>, line: &mut String) -> bool {
    let mut started = false;
    loop {
        line.clear();
        match reader.read_line(line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == "\r\n" && started => return true,
            Ok(_) => started = true,
        }
    }
}

/// A scenario of one `GET /` transaction with think time `think` (e.g. `{ min =
/// "100ms", max = "200ms" }`, or empty for none) and the profile `truth` (TOML lines).
pub fn scenario(think: &str, profile: &str) -> harness::scenario::Scenario {
    let think = if think.is_empty() {
        String::new()
    } else {
        format!("think_time = {think}\n")
    };
    let text = format!(
        "name = \"truth\"\nroles = []\n{think}\
         [[transactions]]\nname = \"get\"\nweight = 1\nmethod = \"GET\"\npath = \"/\"\n\
         [profiles.truth]\n{profile}\n"
    );
    harness::scenario::Scenario::parse(&text, std::path::Path::new("truth.toml")).expect("scenario")
}

/// What the stream target wrote, as it timed itself: each stream's time to first token
/// (from the end of its request) and each gap between its token writes.
#[derive(Debug, Default, Clone)]
pub struct Streamed {
    /// Time to first token of each stream.
    pub ttft: Vec<Duration>,
    /// Every gap between consecutive tokens.
    pub gaps: Vec<Duration>,
}

/// Stops the stream target when dropped, as [`Stop`] does.
pub struct StopStreams {
    _stop: Stop,
    log: Arc<Mutex<Streamed>>,
}

impl StopStreams {
    /// What was streamed so far.
    pub fn streamed(&self) -> Streamed {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Serves `GET /` as a stream of Server-Sent Events on a loopback port: the first
/// `token` event after `ttft`, `tokens − 1` more `gap` apart, then a `done` event, each
/// event written as the chunk it is due in. Threads, as [`known_latency_server`]'s.
pub async fn stream_server(ttft: Delay, gap: Duration, tokens: u32) -> (SocketAddr, StopStreams) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stopping = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let log: Arc<Mutex<Streamed>> = Arc::default();
    let (flag, served_log) = (stopping.clone(), log.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if flag.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let (counter, ttft, log) = (counter.clone(), ttft.clone(), served_log.clone());
            std::thread::spawn(move || stream(conn, &counter, &ttft, gap, tokens, &log));
        }
    });
    let stop = Stop {
        addr,
        stopping,
        served: Arc::default(),
    };
    (addr, StopStreams { _stop: stop, log })
}

fn stream(
    conn: TcpStream,
    counter: &AtomicU64,
    ttft: &Delay,
    gap: Duration,
    tokens: u32,
    log: &Mutex<Streamed>,
) {
    let _ = conn.set_nodelay(true);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    let chunk = |text: &str| format!("{:x}\r\n{text}\r\n", text.len());
    loop {
        if !read_request(&mut reader, &mut line) {
            return;
        }
        let arrived = Instant::now();
        let first = ttft(counter.fetch_add(1, Ordering::Relaxed), Duration::ZERO);
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        let mut written = Vec::with_capacity(tokens as usize);
        for i in 0..tokens {
            let due = arrived + first + gap * i;
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let event = chunk(&format!("event: token\ndata: {{\"text\":\"t{i}\"}}\n\n"));
            if out.write_all(event.as_bytes()).is_err() {
                return;
            }
            written.push(Instant::now());
        }
        let done = chunk("event: done\ndata: {\"fallback\":\"none\",\"degraded\":false}\n\n");
        if out
            .write_all(format!("{done}0\r\n\r\n").as_bytes())
            .is_err()
        {
            return;
        }
        if let (Ok(mut l), Some(first)) = (log.lock(), written.first()) {
            l.ttft.push(first.duration_since(arrived));
            l.gaps.extend(written.windows(2).map(|w| w[1] - w[0]));
        }
    }
}

/// A scenario of one streamed `GET /` transaction and the profile `truth`.
pub fn stream_scenario(profile: &str) -> harness::scenario::Scenario {
    let text = format!(
        "name = \"truth\"\nroles = []\n\
         [[transactions]]\nname = \"get\"\nweight = 1\nmethod = \"GET\"\npath = \"/\"\nstream = true\n\
         [profiles.truth]\n{profile}\n"
    );
    harness::scenario::Scenario::parse(&text, std::path::Path::new("truth.toml")).expect("scenario")
}
