//! `cargo run -p backend`: listens on 127.0.0.1:8080 (`BIND`, `PORT` override it).
//! Nothing here touches the database: the first request that needs it initializes it.

use std::process::ExitCode;

use tokio::net::TcpListener;

/// mimalloc: under load the server allocates many small, short-lived buffers (frames,
/// events, rows) on several threads; with it the server needs ~15% less CPU per agent run
/// than with glibc's malloc (measured with the load benchmark, README "Load").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let address = match backend::bind_address_from_env() {
        Ok(address) => address,
        Err(problem) => {
            eprintln!("error: {problem}");
            return ExitCode::from(2);
        }
    };
    let limits = match backend::Limits::from_env() {
        Ok(limits) => limits,
        Err(problem) => {
            eprintln!("error: {problem}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {address}: {error} (set PORT or BIND)");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on {local}"),
        Err(_) => println!("listening on {address}"),
    }
    match backend::serve(listener, limits, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
