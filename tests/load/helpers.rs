//! Targets of known latency for measurement-truth tests.
//!
//! The target runs on its own OS threads, one per connection, and sleeps the thread for
//! its known latency: it shares no async runtime with the load generator, so a busy
//! generator cannot make it late, and what it serves is the truth to within the thread
//! sleep's precision (tens of microseconds).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Stops the target when dropped: no new connection is served, and the threads of the
/// open ones end when their client closes.
pub struct Stop {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Serves `GET /` after `delay(n)` for the n-th request (from 0), on a loopback port,
/// until the returned [`Stop`] is dropped.
pub async fn known_latency_server(
    delay: impl Fn(u64) -> Duration + Send + Sync + 'static,
) -> (SocketAddr, Stop) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stopping = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let delay: Arc<dyn Fn(u64) -> Duration + Send + Sync> = Arc::new(delay);
    let flag = stopping.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if flag.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let (counter, delay) = (counter.clone(), delay.clone());
            std::thread::spawn(move || serve(conn, &counter, &*delay));
        }
    });
    (addr, Stop { addr, stopping })
}

/// Answers each request on one keep-alive connection until the client closes it.
fn serve(conn: TcpStream, counter: &AtomicU64, delay: &(dyn Fn(u64) -> Duration + Send + Sync)) {
    let _ = conn.set_nodelay(true);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    loop {
        // A GET has no body: the request ends at the first empty line.
        let mut started = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" && started => break,
                Ok(_) => started = true,
            }
        }
        std::thread::sleep(delay(counter.fetch_add(1, Ordering::Relaxed)));
        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
        if out.write_all(answer).is_err() {
            return;
        }
    }
}

/// A scenario of one `GET /` transaction, no think time, `users` × `iterations`.
pub fn scenario(users: u32, iterations: u32) -> harness::scenario::Scenario {
    let text = format!(
        "name = \"truth\"\nroles = []\n\
         [[transactions]]\nname = \"get\"\nweight = 1\nmethod = \"GET\"\npath = \"/\"\n\
         [profiles.truth]\nusers = {users}\nspawn_rate = {users}\niterations = {iterations}\n"
    );
    harness::scenario::Scenario::parse(&text, std::path::Path::new("truth.toml")).expect("scenario")
}
