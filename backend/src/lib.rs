//! The reference backend of ssot-lint: a small chat-agent server (axum, tokio, sqlx)
//! whose database access goes through one module, [`database`].
//!
//! The binary (`src/main.rs`) only binds a socket and calls [`serve`]; the database is
//! initialized by the first request that needs it.

pub mod agent;
pub mod auth;
pub mod config;
pub mod database;
pub mod error;
pub mod routes;
pub mod store;
pub mod ws;

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Sleep;

use crate::error::AppError;

/// Port when `PORT` is not set.
pub const DEFAULT_PORT: u16 = 8080;
/// Address when `BIND` is not set.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Refused connections being answered at once, at most; past that they are just closed.
/// Each holds a socket for at most [`REFUSAL_TIMEOUT`], so with the default cap the server
/// stays under the usual 1024 file descriptors.
const REFUSALS_IN_FLIGHT: usize = 256;
/// How long a refused connection gets to receive its 503.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// Connection limits and timeouts (README "Limits and timeouts"); each from its variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// `MAX_CONNECTIONS`: open connections (HTTP and WebSocket) at once; one more is
    /// answered 503 `too_many_connections` and closed.
    pub max_connections: usize,
    /// `HEADER_TIMEOUT_SECS`: time to send a complete request head, counted from when the
    /// server starts waiting for it: on a new connection, and on a kept-alive one after
    /// the previous response (so it is also the keep-alive idle timeout).
    pub header_timeout: Duration,
    /// `REQUEST_TIMEOUT_SECS`: time to read the body and answer a request; 408 after it.
    pub request_timeout: Duration,
    /// `SEND_TIMEOUT_SECS`: time a write to a client may make no progress (a client that
    /// does not read) before the connection is closed.
    pub send_timeout: Duration,
    /// `WS_PING_INTERVAL_SECS`: a WebSocket silent this long gets a Ping...
    pub ws_ping_interval: Duration,
    /// `WS_PONG_TIMEOUT_SECS`: ...and is closed (1001) if nothing arrives within this.
    pub ws_pong_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            ws_ping_interval: Duration::from_secs(30),
            ws_pong_timeout: Duration::from_secs(15),
        }
    }
}

impl Limits {
    /// The limits from the environment; an invalid value is an error naming its variable.
    pub fn from_env() -> Result<Limits, String> {
        use config::{count, seconds};
        let d = Limits::default();
        Ok(Limits {
            max_connections: count("MAX_CONNECTIONS", d.max_connections)?,
            header_timeout: seconds("HEADER_TIMEOUT_SECS", d.header_timeout)?,
            request_timeout: seconds("REQUEST_TIMEOUT_SECS", d.request_timeout)?,
            send_timeout: seconds("SEND_TIMEOUT_SECS", d.send_timeout)?,
            ws_ping_interval: seconds("WS_PING_INTERVAL_SECS", d.ws_ping_interval)?,
            ws_pong_timeout: seconds("WS_PONG_TIMEOUT_SECS", d.ws_pong_timeout)?,
        })
    }
}

/// The application's routes.
pub fn app(limits: Limits) -> Router {
    Router::new()
        .route("/health/database", get(routes::health_database))
        .route("/stats", get(routes::stats))
        .route("/users", post(routes::create_user))
        .route("/threads/{id}/messages", get(routes::thread_messages))
        .route("/ws", get(ws::handler))
        .fallback(|| async { AppError::NotFound("no such route") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(middleware::from_fn(request_timeout))
        .layer(middleware::map_response(error::json_errors))
        .layer(Extension(limits))
}

/// Bounds the time to read a request's body and answer it.
async fn request_timeout(
    Extension(limits): Extension<Limits>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Timeout(limits.request_timeout).into_response(),
    }
}

/// Serves [`app`] on `listener` until `shutdown` completes, within `limits`.
pub async fn serve(
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = app(limits);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    // Dropping `signal_tx`... is how connections learn of the shutdown; `close_rx` clones
    // held by the connections tell when the last one is done.
    let (signal_tx, signal_rx) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before accept: go on
                    // after a pause rather than spin.
                    eprintln!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Events are small frames sent one after another: without TCP_NODELAY, Nagle's
        // algorithm holds each one back until the previous one is acknowledged, and the
        // client's delayed ACK turns that into ~40 ms per run.
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            refuse(stream, &refusals, limits.max_connections);
            continue;
        };
        let io = Connection {
            stream,
            send_timeout: limits.send_timeout,
            stalled: None,
            _permit: permit,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut signal = signal_rx.clone();
        let close = close_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            let mut connection = pin!(
                builder
                    .serve_connection(TokioIo::new(io), service)
                    .with_upgrades()
            );
            let mut shutting_down = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    changed = signal.changed(), if !shutting_down => {
                        let _ = changed;
                        shutting_down = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(close);
        });
    }
    drop(listener);
    drop(signal_rx);
    let _ = signal_tx.send(());
    drop(close_rx);
    close_tx.closed().await;
    Ok(())
}

/// Answers a connection over the cap with 503 `too_many_connections` and closes it.
fn refuse(mut stream: TcpStream, refusals: &Arc<Semaphore>, max_connections: usize) {
    let Ok(permit) = Arc::clone(refusals).try_acquire_owned() else {
        return; // dropped: closed at once
    };
    tokio::spawn(async move {
        let body = serde_json::json!({
            "error": "too_many_connections",
            "message": format!(
                "the server has {max_connections} connections open, its limit (MAX_CONNECTIONS); try again later"
            ),
        })
        .to_string();
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
            body.len()
        );
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
            stream.write_all(response.as_bytes()).await?;
            stream.shutdown().await?;
            // Read what the client sent until it closes: closing with unread input would
            // reset the connection, and the client might lose the answer.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        })
        .await;
        drop(permit);
    });
}

/// An accepted connection: the socket, the connection's place under the cap (released
/// when the connection ends, also after a WebSocket upgrade), and the send timeout.
struct Connection {
    stream: TcpStream,
    send_timeout: Duration,
    /// Armed while a write waits for the client to read.
    stalled: Option<Pin<Box<Sleep>>>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    /// A write could not make progress: fails once it has not for `send_timeout`.
    fn stall<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let send_timeout = self.send_timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(send_timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read for SEND_TIMEOUT_SECS",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.stall(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.progress(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.progress(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_flush(cx);
        this.progress(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.progress(cx, poll)
    }
}

/// The address to listen on, from `BIND` (an IP address, or `ip:port`) and `PORT`.
pub fn bind_address_from_env() -> Result<SocketAddr, String> {
    bind_address(
        std::env::var("BIND").ok().as_deref(),
        std::env::var("PORT").ok().as_deref(),
    )
}

/// [`bind_address_from_env`] from explicit values. `PORT` wins over a port inside `BIND`.
pub fn bind_address(bind: Option<&str>, port: Option<&str>) -> Result<SocketAddr, String> {
    let bind = bind.map(str::trim).filter(|s| !s.is_empty());
    let port = port.map(str::trim).filter(|s| !s.is_empty());
    let mut address = match bind {
        None => SocketAddr::new(DEFAULT_BIND, DEFAULT_PORT),
        Some("localhost") => SocketAddr::new(DEFAULT_BIND, DEFAULT_PORT),
        Some(text) => match text.parse::<SocketAddr>() {
            Ok(address) => address,
            Err(_) => match text.trim_matches(['[', ']']).parse::<IpAddr>() {
                Ok(ip) => SocketAddr::new(ip, DEFAULT_PORT),
                Err(_) => {
                    return Err(format!(
                        "BIND={text:?} is not an IP address or ip:port (e.g. 127.0.0.1, 0.0.0.0:9000)"
                    ));
                }
            },
        },
    };
    if let Some(port) = port {
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("PORT={port:?} is not a port number (0-65535)"))?;
        address.set_port(port);
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_defaults_and_overrides() {
        assert_eq!(
            bind_address(None, None).unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            bind_address(None, Some("0")).unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(
            bind_address(Some("0.0.0.0"), Some("9000"))
                .unwrap()
                .to_string(),
            "0.0.0.0:9000"
        );
        assert_eq!(
            bind_address(Some("127.0.0.2:7000"), None)
                .unwrap()
                .to_string(),
            "127.0.0.2:7000"
        );
        assert_eq!(
            bind_address(Some("::1"), Some("1")).unwrap().to_string(),
            "[::1]:1"
        );
        assert!(bind_address(Some("nowhere"), None).is_err());
        assert!(bind_address(None, Some("99999")).is_err());
    }
}
