//! The reference backend of ssot-lint: a small chat-agent server (axum, tokio, sqlx)
//! whose database access goes through one module, [`database`].
//!
//! The binary (`src/main.rs`) only binds a socket and calls [`serve`]; the database is
//! initialized by the first request that needs it.

pub mod agent;
pub mod auth;
pub mod database;
pub mod error;
pub mod routes;
pub mod store;
pub mod ws;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

/// Port when `PORT` is not set.
pub const DEFAULT_PORT: u16 = 8080;
/// Address when `BIND` is not set.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The application's routes.
pub fn app() -> Router {
    Router::new()
        .route("/health/database", get(routes::health_database))
        .route("/stats", get(routes::stats))
        .route("/users", post(routes::create_user))
        .route("/threads/{id}/messages", get(routes::thread_messages))
        .route("/ws", get(ws::handler))
}

/// Serves [`app`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Events are small frames sent one after another: without TCP_NODELAY, Nagle's
    // algorithm holds each one back until the previous one is acknowledged, and the
    // client's delayed ACK turns that into ~40 ms per run.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
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
