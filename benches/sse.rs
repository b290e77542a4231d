//! The two ends of `ci/bench/sse`: a trivial SSE server that times its own events, and a
//! bare hyper client that reads the same streams and only counts them. The script runs
//! `harness run` against the same server and compares; run alone:
//!
//! `cargo bench --bench sse -- server PORT_FILE [GAP_MS=10]`
//! `cargo bench --bench sse -- hyper URL SECONDS STREAMS`
//!
//! The server answers `GET /stream` (any method, any path but the two below) with 100
//! `token` events, the first GAP_MS after the request head was read and each later one
//! GAP_MS after the one before, then a `done` event in the last token's write. Its own
//! figures, from the request head to the return of each event's `write`: TTFT (to the
//! first) and every gap, over the streams it finished since the last `GET /reset`.
//! `GET /stats` answers them as JSON: `streams`, `tokens`, and `ttft` and `gap` as
//! `{p50_us, p99_us, max_us}`.
//!
//! The bare client opens `STREAMS` connections over the first second and reads streams
//! back to back on each, beginning none after `SECONDS` and reading each begun to its
//! end, as the harness does; it finds events by their blank line.
//! It prints `RESULT hyper <tokens/s> <streams> <tokens> <seconds> <ttft p99 µs> <gap
//! p99 µs>`: the tokens of the streams it finished over SECONDS, and its own TTFT (from
//! the request, the connect included on a connection's first) and gaps, timed as the
//! harness times them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Token events a stream carries.
const EVENTS: usize = 100;

/// What the server measured of the streams it finished.
#[derive(Default)]
struct Served {
    ttft_us: Vec<u64>,
    gap_us: Vec<u64>,
    streams: u64,
}

impl Served {
    fn json(&mut self) -> String {
        fn pcts(v: &mut [u64]) -> String {
            v.sort_unstable();
            format!(
                "{{\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
                percentile(v, 50),
                percentile(v, 99),
                percentile(v, 100)
            )
        }
        format!(
            "{{\"streams\":{},\"tokens\":{},\"ttft\":{},\"gap\":{}}}",
            self.streams,
            self.streams * EVENTS as u64,
            pcts(&mut self.ttft_us),
            pcts(&mut self.gap_us)
        )
    }
}

fn chunk(payload: &str) -> Vec<u8> {
    format!("{:x}\r\n{payload}\r\n", payload.len()).into_bytes()
}

/// Serves one connection's requests until it closes.
async fn serve(
    mut sock: TcpStream,
    gap: Duration,
    served: Arc<Mutex<Served>>,
) -> std::io::Result<()> {
    let token = chunk("event: token\ndata: {\"text\":\"tok \"}\n\n");
    let mut last = token.clone();
    last.extend(chunk("event: done\ndata: {\"fallback\":\"none\"}\n\n"));
    last.extend(b"0\r\n\r\n");
    let mut buf = Vec::with_capacity(4096);
    let mut tmp = [0u8; 4096];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = sock.read(&mut tmp).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&tmp[..n]);
        };
        let t0 = Instant::now();
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let body_len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + body_len {
            let n = sock.read(&mut tmp).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        buf.drain(..head_end + body_len);
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        if path == "/stats" || path == "/reset" {
            let body = {
                let mut s = served.lock().unwrap_or_else(|e| e.into_inner());
                if path == "/reset" {
                    *s = Served::default();
                }
                s.json()
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(answer.as_bytes()).await?;
            continue;
        }
        sock.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await?;
        let mut ttft = 0;
        let mut gaps = Vec::with_capacity(EVENTS - 1);
        let mut prev = t0;
        for i in 0..EVENTS {
            tokio::time::sleep_until((t0 + gap * (i as u32 + 1)).into()).await;
            // A client that left ends the stream unscored.
            sock.write_all(if i + 1 == EVENTS { &last } else { &token })
                .await?;
            let now = Instant::now();
            let us = now.duration_since(prev).as_micros() as u64;
            if i == 0 {
                ttft = us;
            } else {
                gaps.push(us);
            }
            prev = now;
        }
        let mut s = served.lock().unwrap_or_else(|e| e.into_inner());
        s.streams += 1;
        s.ttft_us.push(ttft);
        s.gap_us.extend(gaps);
    }
}

async fn server(port_file: &str, gap: Duration) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    std::fs::write(port_file, listener.local_addr()?.port().to_string())?;
    let served = Arc::new(Mutex::new(Served::default()));
    loop {
        let (sock, _) = listener.accept().await?;
        let _ = sock.set_nodelay(true);
        tokio::spawn(serve(sock, gap, served.clone()));
    }
}

/// What the bare client saw: tokens of finished streams, and their TTFT and gaps, µs,
/// each event timed by the arrival of the chunk that completed it (as the harness does).
#[derive(Default)]
struct Read {
    streams: u64,
    tokens: u64,
    ttft_us: Vec<u64>,
    gap_us: Vec<u64>,
}

/// Reads streams back to back on one connection until `until`.
async fn reader(addr: String, until: Instant) -> anyhow::Result<Read> {
    let mut started = Instant::now();
    let sock = TcpStream::connect(&addr).await?;
    sock.set_nodelay(true)?;
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(sock)).await?;
    tokio::spawn(conn);
    let mut read = Read::default();
    let mut arrivals = Vec::with_capacity(EVENTS + 1);
    while Instant::now() < until {
        let req = hyper::Request::get("/stream")
            .header("host", &addr)
            .body(Empty::<Bytes>::new())?;
        let mut body = send.send_request(req).await?.into_body();
        let mut newline = false;
        arrivals.clear();
        // A stream begun before `until` is read to its end, as the harness reads its own.
        let finished = tokio::time::timeout_at((until + Duration::from_secs(60)).into(), async {
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    let now = Instant::now();
                    for &b in data.iter() {
                        if b == b'\n' {
                            if newline {
                                arrivals.push(now);
                            }
                            newline = !newline;
                        } else {
                            newline = false;
                        }
                    }
                }
            }
            anyhow::Ok(())
        })
        .await;
        if !matches!(finished, Ok(Ok(()))) {
            break;
        }
        // The last event is `done`, not a token.
        arrivals.pop();
        if let Some(first) = arrivals.first() {
            read.ttft_us
                .push(first.duration_since(started).as_micros() as u64);
        }
        read.gap_us.extend(
            arrivals
                .windows(2)
                .map(|w| w[1].duration_since(w[0]).as_micros() as u64),
        );
        read.streams += 1;
        read.tokens += arrivals.len() as u64;
        started = Instant::now();
    }
    Ok(read)
}

/// The nearest-rank percentile `q` of `sorted`; 0 when empty.
fn percentile(sorted: &[u64], q: usize) -> u64 {
    sorted
        .get((sorted.len() * q).div_ceil(100).max(1) - 1)
        .copied()
        .unwrap_or(0)
}

async fn bare_hyper(url: &str, secs: u64, streams: u32) -> anyhow::Result<()> {
    let addr = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("URL must be http://HOST:PORT"))?
        .trim_end_matches('/')
        .to_owned();
    let epoch = Instant::now();
    let until = epoch + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..streams {
        // The harness's closed model ramps its users over the first second; so does this.
        tokio::time::sleep_until((epoch + Duration::from_secs(1) * i / streams).into()).await;
        tasks.push(tokio::spawn(reader(addr.clone(), until)));
    }
    let mut all = Read::default();
    for t in tasks {
        let r = t.await??;
        all.streams += r.streams;
        all.tokens += r.tokens;
        all.ttft_us.extend(r.ttft_us);
        all.gap_us.extend(r.gap_us);
    }
    all.ttft_us.sort_unstable();
    all.gap_us.sort_unstable();
    println!(
        "RESULT hyper {:.0} {} {} {:.1} {} {}",
        all.tokens as f64 / secs as f64,
        all.streams,
        all.tokens,
        epoch.elapsed().as_secs_f64(),
        percentile(&all.ttft_us, 99),
        percentile(&all.gap_us, 99)
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.as_slice() {
        [mode, port_file, gap @ ..] if mode == "server" && gap.len() <= 1 => {
            let ms: u64 = gap.first().map_or(Ok(10), |g| g.parse())?;
            rt.block_on(server(port_file, Duration::from_millis(ms)))
        }
        [mode, url, secs, streams] if mode == "hyper" => {
            rt.block_on(bare_hyper(url, secs.parse()?, streams.parse()?))
        }
        _ => anyhow::bail!("usage: sse server PORT_FILE [GAP_MS] | sse hyper URL SECONDS STREAMS"),
    }
}
