//! The fault-layer suite: the REST API through `oneshot`, the toxiproxy_rust client
//! against the server, and each toxic's effect on a real TCP echo connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use harness::faults::server::{app, Registry};
use harness::faults::{FaultClient, ProxyDef, Stream, Toxic, ToxiproxyServer};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

async fn call(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .expect("request");
    let resp = router.clone().oneshot(req).await.expect("oneshot");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn free_addr() -> String {
    format!("127.0.0.1:{}", harness::net::free_port().expect("port"))
}

/// A server on loopback that runs `each` on every connection it accepts.
async fn serve<F, Fut>(each: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(each(s));
        }
    });
    addr
}

/// An echo server on loopback.
async fn echo() -> SocketAddr {
    serve(|mut s| async move {
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    })
    .await
}

/// A fault server with one proxy, `name`, listening on a free port in front of
/// `upstream`: the server, its client and the proxy's address.
async fn proxy_to(name: &str, upstream: SocketAddr) -> (ToxiproxyServer, FaultClient, String) {
    let server = ToxiproxyServer::start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("server");
    let faults = FaultClient::new(server.addr());
    let listen = free_addr();
    faults
        .populate(vec![ProxyDef {
            name: name.into(),
            listen: listen.clone(),
            upstream: upstream.to_string(),
        }])
        .await
        .expect("populate");
    (server, faults, listen)
}

#[tokio::test]
async fn proxies_crud_populate_reset_and_version() {
    let r = app(Arc::new(Registry::default()));
    let (s, v) = call(&r, "GET", "/version", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["version"].is_string());

    let listen = free_addr();
    let spec = json!({"name":"db","listen":listen,"upstream":"127.0.0.1:5432"});
    assert_eq!(
        call(&r, "POST", "/proxies", Some(spec.clone())).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(&r, "POST", "/proxies", Some(spec)).await.0,
        StatusCode::CONFLICT
    );
    let (s, p) = call(&r, "GET", "/proxies/db", None).await;
    assert_eq!(
        (s, p["enabled"].clone(), p["listen"].clone()),
        (StatusCode::OK, json!(true), json!(listen))
    );
    assert_eq!(
        call(&r, "GET", "/proxies/nope", None).await.0,
        StatusCode::NOT_FOUND
    );

    let (s, p) = call(&r, "POST", "/proxies/db", Some(json!({"enabled": false}))).await;
    assert_eq!((s, p["enabled"].clone()), (StatusCode::OK, json!(false)));
    assert_eq!(
        call(&r, "POST", "/reset", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&r, "GET", "/proxies/db", None).await.1["enabled"],
        true
    );

    let (s, v) = call(
        &r,
        "POST",
        "/populate",
        Some(json!([
            {"name":"db","listen":listen,"upstream":"127.0.0.1:5432"},
            {"name":"cache","listen":free_addr(),"upstream":"127.0.0.1:6379"}
        ])),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["proxies"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        call(&r, "GET", "/proxies", None)
            .await
            .1
            .as_object()
            .map(|o| o.len()),
        Some(2)
    );

    assert_eq!(
        call(&r, "DELETE", "/proxies/cache", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&r, "DELETE", "/proxies/cache", None).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, e) = call(
        &r,
        "POST",
        "/proxies",
        Some(json!({"name":"x","listen":"nohost","upstream":"a:1"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"].as_str().is_some_and(|m| m.contains("listen")),
        "{e}"
    );
}

#[tokio::test]
async fn toxics_crud_for_every_type_with_stream_and_toxicity() {
    let r = app(Arc::new(Registry::default()));
    let spec = json!({"name":"p","listen":free_addr(),"upstream":"127.0.0.1:1"});
    call(&r, "POST", "/proxies", Some(spec)).await;
    let toxics = [
        ("latency", json!({"latency": 100, "jitter": 5})),
        ("timeout", json!({"timeout": 1000})),
        ("bandwidth", json!({"rate": 64})),
        ("slow_close", json!({"delay": 100})),
        (
            "slicer",
            json!({"average_size": 16, "size_variation": 4, "delay": 10}),
        ),
        ("limit_data", json!({"bytes": 1024})),
    ];
    for (kind, attrs) in &toxics {
        let body =
            json!({"type": kind, "stream": "upstream", "toxicity": 0.5, "attributes": attrs});
        let (s, t) = call(&r, "POST", "/proxies/p/toxics", Some(body)).await;
        assert_eq!(s, StatusCode::OK, "{kind}: {t}");
        assert_eq!(t["name"], format!("{kind}_upstream"));
        assert_eq!(
            (t["stream"].clone(), t["toxicity"].clone()),
            (json!("upstream"), json!(0.5))
        );
        assert_eq!(&t["attributes"], attrs, "{kind}");
    }
    let (_, list) = call(&r, "GET", "/proxies/p/toxics", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(6));
    let dup = json!({"type": "latency", "stream": "upstream", "attributes": {"latency": 1}});
    assert_eq!(
        call(&r, "POST", "/proxies/p/toxics", Some(dup)).await.0,
        StatusCode::CONFLICT
    );

    let (s, t) = call(
        &r,
        "POST",
        "/proxies/p/toxics/latency_upstream",
        Some(json!({"attributes":{"latency": 7}})),
    )
    .await;
    assert_eq!(
        (
            s,
            t["attributes"]["latency"].clone(),
            t["attributes"]["jitter"].clone()
        ),
        (StatusCode::OK, json!(7), json!(5))
    );
    assert_eq!(
        call(&r, "GET", "/proxies/p/toxics/latency_upstream", None)
            .await
            .1["attributes"]["latency"],
        7
    );
    assert_eq!(
        call(&r, "DELETE", "/proxies/p/toxics/latency_upstream", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&r, "GET", "/proxies/p/toxics/latency_upstream", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let bad = json!({"type": "earthquake", "attributes": {}});
    assert_eq!(
        call(&r, "POST", "/proxies/p/toxics", Some(bad)).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&r, "POST", "/reset", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&r, "GET", "/proxies/p/toxics", None).await.1,
        json!([])
    );
}

async fn round_trip(addr: &str, payload: &[u8]) -> std::io::Result<(Vec<u8>, Duration)> {
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(payload).await?;
    let mut buf = vec![0; payload.len()];
    s.read_exact(&mut buf).await?;
    Ok((buf, t.elapsed()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxics_act_on_real_connections_through_toxiproxy_rust() {
    let (server, faults, listen) = proxy_to("echo", echo().await).await;
    assert!(faults.version().await.expect("version").contains("harness"));
    let payload = vec![7u8; 4096];
    let (back, base) = round_trip(&listen, &payload).await.expect("plain");
    assert_eq!(back, payload);

    faults
        .add(
            "echo",
            Stream::Downstream,
            Toxic::Latency {
                ms: 200,
                jitter_ms: 0,
            },
            1.0,
        )
        .await
        .expect("latency");
    let (_, slow) = round_trip(&listen, &payload).await.expect("latency rt");
    assert!(
        slow >= base + Duration::from_millis(190),
        "latency: {slow:?} vs {base:?}"
    );
    faults.clear("echo").await.expect("clear");

    faults
        .add(
            "echo",
            Stream::Downstream,
            Toxic::Bandwidth { kbps: 16 },
            1.0,
        )
        .await
        .expect("bandwidth");
    let (back, t) = round_trip(&listen, &vec![1u8; 8 * 1024])
        .await
        .expect("bandwidth rt");
    assert_eq!(back.len(), 8 * 1024);
    assert!(
        t >= Duration::from_millis(350),
        "8 KiB at 16 KB/s took {t:?}"
    );
    faults.clear("echo").await.expect("clear");

    faults
        .add(
            "echo",
            Stream::Downstream,
            Toxic::Slicer {
                average_size: 64,
                size_variation: 16,
                delay_us: 100,
            },
            1.0,
        )
        .await
        .expect("slicer");
    let (back, _) = round_trip(&listen, &payload).await.expect("slicer rt");
    assert_eq!(back, payload, "slicer must not corrupt data");
    faults.clear("echo").await.expect("clear");

    faults
        .add(
            "echo",
            Stream::Downstream,
            Toxic::LimitData { bytes: 100 },
            1.0,
        )
        .await
        .expect("limit_data");
    assert!(
        round_trip(&listen, &payload).await.is_err(),
        "limit_data let 4 KiB through"
    );
    faults.clear("echo").await.expect("clear");

    faults
        .add("echo", Stream::Upstream, Toxic::Timeout { ms: 0 }, 1.0)
        .await
        .expect("timeout");
    let stalled =
        tokio::time::timeout(Duration::from_millis(500), round_trip(&listen, &payload)).await;
    assert!(stalled.is_err(), "timeout toxic let data through");
    faults.reset().await.expect("reset");
    let (back, _) = round_trip(&listen, &payload).await.expect("after reset");
    assert_eq!(back, payload);

    faults.disable("echo").await.expect("disable");
    assert!(
        round_trip(&listen, &payload).await.is_err(),
        "disabled proxy answered"
    );
    faults.enable("echo").await.expect("enable");
    assert!(round_trip(&listen, &payload).await.is_ok());
    server.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(&listen).await.is_err(),
        "listener survived shutdown"
    );
}

/// Latency counts from each chunk's arrival (the fix in vendor/noxious, PATCHES.md), so
/// it does not pile up; and removing a toxic resets open connections cleanly rather than
/// letting noxious drop the bytes its toxics held, which would desynchronise the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_does_not_pile_up_and_removal_resets_cleanly() {
    let (server, faults, listen) = proxy_to("echo", echo().await).await;
    let latency = Toxic::Latency {
        ms: 300,
        jitter_ms: 0,
    };
    faults
        .add("echo", Stream::Downstream, latency, 1.0)
        .await
        .expect("latency");

    // Ten messages 50 ms apart on one connection: each comes back 300 ms after it was
    // sent, so the last arrives ~750 ms in (upstream noxious: ten times 300 ms).
    let s = tokio::net::TcpStream::connect(&listen)
        .await
        .expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let t = Instant::now();
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        for i in 0..10u8 {
            w.write_all(&[i; 8]).await.expect("write");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        w
    });
    let mut got = vec![0u8; 80];
    r.read_exact(&mut got).await.expect("read");
    let all = t.elapsed();
    let expected: Vec<u8> = (0..10u8).flat_map(|i| [i; 8]).collect();
    assert_eq!(got, expected);
    assert!(
        all >= Duration::from_millis(750) && all < Duration::from_millis(1300),
        "ten chunks took {all:?}"
    );
    let mut w = writer.await.expect("writer");

    // Removal while messages are held back: the connection is reset, never silently
    // shortened; a new connection has no latency.
    for i in 20..24u8 {
        w.write_all(&[i; 8]).await.expect("write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    faults.clear("echo").await.expect("clear");
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(2), r.read_to_end(&mut rest))
        .await
        .expect("the old connection ends");
    assert!(
        end.is_err() || rest.len() % 8 == 0,
        "a partial message arrived: {rest:?}"
    );
    let (back, fast) = round_trip(&listen, b"after").await.expect("new connection");
    assert_eq!(back, b"after");
    assert!(fast < Duration::from_millis(150), "{fast:?}");
    drop(w);
    server.shutdown().await;
}

/// A server that answers one byte to each request of two 8-byte parts, as a database
/// reads a message's header and then its body.
async fn two_part_server() -> SocketAddr {
    serve(|mut s| async move {
        let mut part = [0u8; 16];
        while s.read_exact(&mut part).await.is_ok() {
            if s.write_all(&[1]).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// A client that writes a request in two parts, as Postgres and Redis clients do, must
/// not wait on the proxy's Nagle algorithm and the server's delayed ACK (40 ms on
/// Linux): Toxiproxy, in Go, sets TCP_NODELAY on both its sockets, and a fault layer
/// that does not adds 40 ms to some queries with no fault at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_written_in_parts_is_not_held_back_by_the_proxy() {
    let (server, _faults, listen) = proxy_to("db", two_part_server().await).await;
    let mut s = tokio::net::TcpStream::connect(&listen)
        .await
        .expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut took = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        s.write_all(&[0; 8]).await.expect("header");
        // The proxy reads and forwards the two parts apart.
        tokio::time::sleep(Duration::from_millis(2)).await;
        s.write_all(&[0; 8]).await.expect("body");
        let mut one = [0u8; 1];
        s.read_exact(&mut one).await.expect("reply");
        took.push(t.elapsed());
    }
    took.sort();
    let slowest = took[took.len() - 1];
    // 2 ms apart and a loopback hop each way; a held part waits 40 ms for the ACK.
    assert!(
        slowest < Duration::from_millis(30),
        "slowest of 40 round trips took {slowest:?} (median {:?}): a part was held back",
        took[took.len() / 2]
    );
    server.shutdown().await;
}
