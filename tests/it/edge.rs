//! The HTTP edge as a plain client meets it: an oversized upload written whole before the
//! answer is read gets its 413; silent, slow-header and idle kept-alive connections are closed
//! after their timeouts and do not hold a graceful stop; callbacks are rate-limited per gateway.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;

fn host(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (or `limit` passes); returns what was read
/// and when the connection closed (`None`: still open at `limit`).
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (got, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(start.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes the whole request first and only then reads, as Python's urllib does.
async fn upload_then_read(app: &TestApp, path: &str, body: &[u8], chunked: bool) -> String {
    let mut s = TcpStream::connect(host(app)).await.unwrap();
    let framing =
        if chunked { "Transfer-Encoding: chunked".to_string() } else { format!("Content-Length: {}", body.len()) };
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n", host(app));
    s.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(64 * 1024) {
        if chunked {
            s.write_all(format!("{:x}\r\n", piece.len()).as_bytes()).await.unwrap();
        }
        s.write_all(piece).await.unwrap_or_else(|e| panic!("{path}: upload cut off by the server: {e}"));
        if chunked {
            s.write_all(b"\r\n").await.unwrap();
        }
    }
    if chunked {
        s.write_all(b"0\r\n\r\n").await.unwrap();
    }
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(20)).await;
    assert!(closed.is_some(), "{path}: the connection stayed open after the 413");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_written_whole_before_reading_gets_its_413() {
    let app = TestApp::builder().start().await;
    let three_mb =
        format!(r#"{{"service":"demo","name":"{}","email":"a@example.test"}}"#, "a".repeat(3 << 20)).into_bytes();
    for path in ["/api/v1/orders", "/api/v1/payments/sandbox/callback"] {
        for chunked in [false, true] {
            let answer = upload_then_read(&app, path, &three_mb, chunked).await;
            assert!(answer.starts_with("HTTP/1.1 413"), "{path} (chunked: {chunked}): {answer:.200}");
            assert!(answer.contains("payload_too_large"), "{path}: {answer:.300}");
            assert!(answer.to_ascii_lowercase().contains("connection: close"), "{path}: {answer:.300}");
        }
    }
    json_status(app.get("/api/v1/services").await, 200).await;
    app.stop().await;
}

/// A connection that sends nothing, one that drips its request head, and one kept alive after
/// a request: each is closed by the server after its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_slow_and_idle_connections_are_closed_after_their_timeouts() {
    let mut app =
        TestApp::builder().set("http_header_timeout_secs", "1").set("http_keepalive_timeout_secs", "3").start().await;
    let limit = Duration::from_secs(10);
    let silent = async {
        let mut s = TcpStream::connect(host(&app)).await.unwrap();
        read_until_closed(&mut s, limit).await
    };
    let dripping = async {
        let mut s = TcpStream::connect(host(&app)).await.unwrap();
        s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n", host(&app)).as_bytes()).await.unwrap();
        let (mut rd, mut wr) = s.into_split();
        let drip = tokio::spawn(async move {
            // A header byte every 200 ms (wall-clock on purpose: the server's header-read
            // timeout is under test): activity, but never a complete head.
            while wr.write_all(b"X").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let start = Instant::now();
        let mut got = Vec::new();
        let closed = loop {
            let mut buf = [0u8; 1024];
            match tokio::time::timeout(limit.saturating_sub(start.elapsed()), rd.read(&mut buf)).await {
                Err(_) => break None,
                Ok(Ok(0)) | Ok(Err(_)) => break Some(start.elapsed()),
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            }
        };
        drip.abort();
        (got, closed)
    };
    let kept_alive = async {
        let mut s = TcpStream::connect(host(&app)).await.unwrap();
        s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", host(&app)).as_bytes()).await.unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
        read_until_closed(&mut s, limit).await
    };
    let ((_, silent), (dripped, slow), (_, idle)) = tokio::join!(silent, dripping, kept_alive);
    let silent = silent.expect("a silent connection stays open");
    let slow = slow.expect("a connection dripping its head stays open");
    let idle = idle.expect("an idle kept-alive connection stays open");
    assert!(silent < Duration::from_secs(4), "silent connection closed after {silent:?}");
    assert!(slow < Duration::from_secs(4), "slow-header connection closed after {slow:?}");
    assert!(dripped.is_empty() || dripped.starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&dripped));
    // The keep-alive timeout is its own: longer than the header timeout here.
    assert!(idle >= Duration::from_millis(2500) && idle < Duration::from_secs(7), "idle closed after {idle:?}");
    json_status(app.get("/healthz").await, 200).await;

    // Idle connections do not hold a graceful stop.
    let mut open = vec![];
    for _ in 0..3 {
        open.push(TcpStream::connect(host(&app)).await.unwrap());
    }
    let mut kept = TcpStream::connect(host(&app)).await.unwrap();
    kept.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", host(&app)).as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let _ = kept.read(&mut buf).await.unwrap();
    let start = Instant::now();
    app.shutdown().await;
    assert!(start.elapsed() < Duration::from_secs(3), "graceful stop took {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_are_rate_limited_per_gateway_with_retry_after() {
    let app = TestApp::builder().set("callback_rate_limit_per_minute", "3").start().await;
    let post = || {
        app.client
            .post(app.url("/api/v1/payments/sandbox/callback"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };
    for _ in 0..3 {
        // Unsigned: refused, but counted.
        assert_eq!(post().await.unwrap().status(), 400);
    }
    let resp = post().await.unwrap();
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_error(resp, 429, "rate_limited").await;
    app.stop().await;
}
