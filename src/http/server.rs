//! The HTTP/1.1 accept loop: every connection is tracked so that one which sends nothing, drips
//! its request head or idles after a response is closed after its timeout; at most
//! `http_max_connections` are open (at the cap the longest-idle one makes room, busy ones are
//! never cut); running out of file descriptors is logged and waited out instead of spinning;
//! a graceful stop closes idle connections at once and lets requests in flight finish.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// Connection limits of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub max_connections: usize,
    /// How long a graceful stop waits for requests in flight.
    pub stop_grace: Duration,
}

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head: counted against the header timeout.
    Head,
    /// A request is being handled: never cut, except by the end of a graceful stop.
    Busy,
    /// The answer was handed over; waiting for the next request: the keep-alive timeout.
    Idle,
}

/// One tracked connection.
struct Slot {
    phase: Mutex<(Phase, Instant)>,
    wake: Notify,
    close: AtomicBool,
}

impl Slot {
    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = (phase, Instant::now());
        self.wake.notify_one();
    }

    fn get(&self) -> (Phase, Instant) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived: an idle connection starts a new request head.
    fn on_bytes(&self) {
        let mut p = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        if p.0 == Phase::Idle {
            *p = (Phase::Head, Instant::now());
            drop(p);
            self.wake.notify_one();
        }
    }

    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match self.get() {
            (Phase::Head, since) => Some(since + limits.header_timeout),
            (Phase::Idle, since) => Some(since + limits.keepalive_timeout),
            (Phase::Busy, _) => None,
        }
    }

    fn ask_to_close(&self) {
        self.close.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// The open connections.
#[derive(Default)]
struct Conns {
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
    next: AtomicU64,
    freed: Notify,
}

impl Conns {
    fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn add(self: &Arc<Self>) -> (Arc<Slot>, SlotGuard) {
        let slot = Arc::new(Slot {
            phase: Mutex::new((Phase::Head, Instant::now())),
            wake: Notify::new(),
            close: AtomicBool::new(false),
        });
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).insert(id, slot.clone());
        (slot, SlotGuard { conns: self.clone(), id })
    }

    /// Asks the longest-waiting connection with no request in flight to close; false when
    /// every connection is busy.
    fn evict_one(&self) -> bool {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let victim = slots
            .values()
            .filter(|s| !s.close.load(Ordering::SeqCst))
            .filter_map(|s| match s.get() {
                (Phase::Busy, _) => None,
                (_, since) => Some((since, s)),
            })
            .min_by_key(|(since, _)| *since);
        match victim {
            Some((_, slot)) => {
                slot.ask_to_close();
                true
            }
            None => false,
        }
    }

    fn close_all(&self) {
        for slot in self.slots.lock().unwrap_or_else(|p| p.into_inner()).values() {
            slot.ask_to_close();
        }
    }
}

/// Removes a connection from the table when its task ends (even by a panic).
struct SlotGuard {
    conns: Arc<Conns>,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.conns.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
        self.conns.freed.notify_waiters();
    }
}

/// The socket, telling its slot when bytes arrive.
struct TrackedIo {
    io: TcpStream,
    slot: Arc<Slot>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.slot.on_bytes();
        }
        res
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Logs a repeated condition at most once per interval, with how often it happened meanwhile.
struct Throttled {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttled {
    fn new() -> Self {
        Throttled { last: None, suppressed: 0 }
    }

    /// `Some(times since the last log)` when it is time to log again.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|t| now < t + Duration::from_secs(10)) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed) + 1)
    }
}

/// True for accept errors that mean "out of descriptors or memory" (retrying at once spins).
fn resource_exhausted(e: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and the BSDs.
    matches!(e.raw_os_error(), Some(24 | 23 | 105 | 55 | 12))
}

/// Serves `ep` on `listener` (over TLS when `tls` is given) until `stop` turns true, then
/// stops gracefully.
pub async fn serve<E>(
    listener: TcpListener,
    ep: E,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    tls: Option<TlsAcceptor>,
) -> io::Result<()>
where
    E: Endpoint + 'static,
{
    let ep: Arc<BoxEndpoint<'static, Response>> = Arc::new(ep.map_to_response().boxed());
    let local = LocalAddr(listener.local_addr()?.into());
    let conns = Arc::new(Conns::default());
    let mut tasks = JoinSet::new();
    let (mut at_cap, mut no_fds) = (Throttled::new(), Throttled::new());
    // A dropped sender stops the server too.
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    loop {
        while tasks.try_join_next().is_some() {}
        if conns.len() >= limits.max_connections {
            let evicted = conns.evict_one();
            if let Some(times) = at_cap.due() {
                tracing::warn!(
                    event = "http_connection_limit",
                    max = limits.max_connections,
                    times,
                    all_busy = !evicted,
                    "connection cap reached; closing the longest-idle connection (or waiting when all are busy)"
                );
            }
            let freed = conns.freed.notified();
            tokio::select! {
                _ = freed => {}
                _ = tokio::time::sleep(Duration::from_millis(if evicted { 200 } else { 1000 })) => {}
                _ = &mut stopped => break,
            }
            continue;
        }
        tokio::select! {
            res = listener.accept() => match res {
                Ok((io, peer)) => {
                    let (slot, guard) = conns.add();
                    let ctx = Ctx { peer, local: local.clone(), slot, ep: ep.clone(), limits };
                    tasks.spawn(connection(io, ctx, guard, tls.clone()));
                }
                Err(e) if resource_exhausted(&e) => {
                    if let Some(times) = no_fds.due() {
                        tracing::error!(
                            event = "http_descriptor_limit",
                            error = %e,
                            open = conns.len(),
                            times,
                            "cannot accept connections: out of file descriptors (raise LimitNOFILE or lower http_max_connections)"
                        );
                    }
                    // Make room, then wait for it instead of retrying at once (which spins).
                    conns.evict_one();
                    let freed = conns.freed.notified();
                    tokio::select! {
                        _ = freed => {}
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
                Err(e) => tracing::debug!(error = %e, "accept failed"),
            },
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    conns.close_all();
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.stop_grace, drain).await.is_err() {
        tracing::warn!(
            event = "http_stop_timeout",
            open = conns.len(),
            "requests still running at the end of the graceful stop"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// What serving one connection needs.
struct Ctx {
    peer: SocketAddr,
    local: LocalAddr,
    slot: Arc<Slot>,
    ep: Arc<BoxEndpoint<'static, Response>>,
    limits: Limits,
}

/// Runs one connection, after its TLS handshake when there is one (which must finish within
/// the header timeout, like a request head).
async fn connection(io: TcpStream, ctx: Ctx, _guard: SlotGuard, tls: Option<TlsAcceptor>) {
    let _ = io.set_nodelay(true);
    let io = TrackedIo { io, slot: ctx.slot.clone() };
    match tls {
        None => drive(io, Scheme::HTTP, ctx).await,
        Some(acceptor) => match tokio::time::timeout(ctx.limits.header_timeout, acceptor.accept(io)).await {
            Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(crate::http::tls::ACME_TLS_ALPN) => {
                tracing::debug!(peer = %ctx.peer, "answered an ACME TLS-ALPN-01 challenge handshake")
            }
            Ok(Ok(stream)) => drive(stream, Scheme::HTTPS, ctx).await,
            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        },
    }
}

/// Serves HTTP/1.1 on `io` until the connection ends, times out or is asked to close.
async fn drive<T>(io: T, scheme: Scheme, ctx: Ctx)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ctx { peer, local, slot, ep, limits } = ctx;
    let remote = RemoteAddr(peer.into());
    let svc_slot = slot.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        svc_slot.set(Phase::Busy);
        let (ep, slot, local, remote, scheme) =
            (ep.clone(), svc_slot.clone(), local.clone(), remote.clone(), scheme.clone());
        async move {
            let resp = ep.get_response((req, local, remote, scheme).into()).await;
            slot.set(Phase::Idle);
            Ok::<_, Infallible>(hyper::Response::from(resp))
        }
    });
    // A client that shuts down its sending side after the request (the test harness's raw
    // client does, after an oversized upload) still gets its answer.
    let conn = hyper::server::conn::http1::Builder::new().half_close(true).serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    loop {
        let deadline = slot.deadline(&limits);
        let expired = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = expired => {
                if slot.deadline(&limits).is_some_and(|at| at <= Instant::now()) {
                    break;
                }
            }
            _ = slot.wake.notified() => {
                if slot.close.load(Ordering::SeqCst) {
                    break;
                }
            }
        }
    }
    // No request in flight: the socket goes at once. Otherwise hyper finishes the answer in
    // hand (or the one being written) without keep-alive, then closes.
    if slot.get().0 == Phase::Head {
        return;
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.stop_grace.max(limits.keepalive_timeout), conn).await;
}
