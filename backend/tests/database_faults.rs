//! A database that hangs, stops, loses its schema or its file, refuses writes; NUL in text;
//! the WAL's size. Each over a real server process.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;
use tokio::task::AbortHandle;

on_each_backend!(nul_is_refused_alike, missing_schema_is_degraded);

async fn get_json(client: &reqwest::Client, url: String) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    (status, body, started.elapsed())
}

/// A TCP listener on loopback that accepts connections and never answers.
async fn black_hole() -> (std::net::SocketAddr, AbortHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        // Bounded: the test makes about ten connections.
        while held.len() < 1000 {
            match listener.accept().await {
                Ok((stream, _)) => held.push(stream),
                Err(_) => break,
            }
        }
        std::future::pending::<()>().await;
    });
    (addr, task.abort_handle())
}

/// Ten concurrent callers against a database that accepts TCP and never answers: one
/// initialization attempt for all of them, each gets its 503 when that attempt gives up
/// (about 5 s, not 5, 10, … 50 s), all with the same reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_database_is_one_attempt_for_all_waiters() {
    let (addr, hole) = black_hole().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://nobody:pw@{addr}/none");
    let server = Server::start_with(Some(&url), dir.path());
    let client = http_slow();

    let barrier = Arc::new(Barrier::new(10));
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (client, barrier) = (client.clone(), Arc::clone(&barrier));
        let url = server.url("/health/database");
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            get_json(&client, url).await
        }));
    }
    let mut reasons = Vec::new();
    let mut latencies = Vec::new();
    for task in tasks {
        let (status, body, elapsed) = task.await.unwrap();
        assert_eq!(status, 503, "{body}");
        reasons.push(body["reason"].as_str().unwrap().to_owned());
        latencies.push(elapsed);
    }
    let slowest = latencies.iter().max().unwrap();
    eprintln!("[backend suite] 503 latencies against a black hole: {latencies:?}");
    assert!(
        reasons.iter().all(|r| r == &reasons[0]),
        "one reason for all: {reasons:?}"
    );
    assert!(
        reasons[0].contains("no answer within 5 s"),
        "{}",
        reasons[0]
    );
    assert!(!reasons[0].contains("pw@"), "{}", reasons[0]);
    // Serialized attempts would take 50 s for the last one.
    assert!(*slowest < Duration::from_secs(14), "{latencies:?}");
    let (_, stats, _) = get_json(&client, server.url("/stats")).await;
    assert_eq!(stats["pool_init_failures"], 1, "one attempt: {stats}");
    assert_eq!(stats["pools_created"], 0);
    hole.abort();
}

fn http_slow() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A loopback TCP proxy to PostgreSQL that can be "stopped" (refuses new connections and
/// cuts the open ones) and started again on the same port.
struct Proxy {
    addr: std::net::SocketAddr,
    upstream: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream: upstream.to_owned(),
            tasks: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream.clone(), Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(pipe.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn restart(&self) {
        // The aborted accept task released the port; bind it again (bounded retries).
        for _ in 0..100 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("cannot bind {} again", self.addr);
    }
}

/// PostgreSQL stopped after start-up: `/health/database` answers 503 within a few seconds
/// with the refused connection as the reason (not a 10 s pool timeout), and 200 again once
/// it is back. Needs `TEST_POSTGRES_URL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_postgres_is_a_prompt_503_with_the_reason() {
    let Some(target) = Target::postgres().await else {
        skipped("stopped_postgres_is_a_prompt_503_with_the_reason");
        return;
    };
    announce("stopped_postgres_is_a_prompt_503_with_the_reason", &target);
    let url = target.database_url.clone().unwrap();
    // postgres://user:pw@HOST:PORT/db?... → the proxy in place of HOST:PORT.
    let (scheme_user, rest) = url.split_once('@').unwrap();
    let (host_port, tail) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host_port).await;
    let proxied = format!("{scheme_user}@{}/{tail}", proxy.addr);
    let server = Server::start_with(Some(&proxied), &target.data_dir());
    let client = http_slow();

    let (status, body, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 200, "{body}");

    proxy.stop();
    let (status, body, elapsed) = get_json(&client, server.url("/health/database")).await;
    eprintln!("[backend suite] health with PostgreSQL stopped: {status} after {elapsed:?}: {body}");
    assert_eq!(status, 503, "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.to_lowercase().contains("refused"), "{reason}");
    assert!(!reason.contains("pool timed out"), "{reason}");
    // Health timeout 2 s for the pool, 2 s for the diagnosis; far below the 10 s of before.
    assert!(elapsed < Duration::from_secs(9), "{elapsed:?}");

    proxy.restart().await;
    let mut status = 0;
    for _ in 0..40 {
        let (s, _, _) = get_json(&client, server.url("/health/database")).await;
        status = s;
        if s == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "healthy again once PostgreSQL is back");
    proxy.stop();
}

/// `\u0000` in a name or a message: 400 / `invalid_request` on both engines, nothing stored.
async fn nul_is_refused_alike(target: Target) {
    let server = target.start();
    let client = http();
    let response = client
        .post(server.url("/users"))
        .json(&json!({ "name": "nul\u{0}name" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");

    let (_, token) = create_user(&client, &server, "nul").await;
    let mut socket = ws_connect(&server, &token).await;
    send_json(
        &mut socket,
        &json!({ "type": "run_agent", "thread_id": "nul", "message": "a\u{0}b" }),
    )
    .await;
    let event = next_event(&mut socket).await;
    assert_eq!(event["type"], "error", "{event}");
    assert_eq!(event["code"], "invalid_request", "{event}");
    // Nothing stored, and the connection goes on.
    let (status, _) = messages(&client, &server, &token, "nul").await;
    assert_eq!(status, 404);
    run_agent(&mut socket, "nul", "no nul here").await;
    let (_, body) = messages(&client, &server, &token, "nul").await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
}

/// A table dropped behind the server's back: health says `degraded`, 503, with the reason.
async fn missing_schema_is_degraded(target: Target) {
    let server = target.start();
    let client = http();
    let (status, _, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 200);
    target.execute("DROP TABLE messages").await;
    let (status, body, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("messages"),
        "{body}"
    );
}

/// `sqlite::memory:` would give every pooled connection a database of its own: refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(Some("sqlite::memory:"), dir.path());
    let client = http();
    let (status, body, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("in-memory"),
        "{body}"
    );
    let response = client.post(server.url("/users")).send().await.unwrap();
    assert_eq!(response.status(), 503);
}

/// A database the server can only read: health says `degraded`; no user is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sqlite_is_degraded() {
    let target = Target::sqlite();
    let client = http();
    let first = target.start();
    create_user(&client, &first, "before").await;
    first.kill();
    let file = target.data_dir().join("backend.sqlite3");
    let url = format!("sqlite://{}?mode=ro", file.display());
    let server = Server::start_with(Some(&url), &target.data_dir());
    let (status, body, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be written"),
        "{body}"
    );
    let response = client.post(server.url("/users")).send().await.unwrap();
    assert_ne!(response.status(), 201);
}

/// The database file deleted while the server runs: health says so, and no run is
/// acknowledged any more (it would be lost on restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_sqlite_file_is_degraded_and_nothing_is_acknowledged() {
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "doomed").await;
    let mut socket = ws_connect(&server, &token).await;
    run_agent(&mut socket, "doomed", "stored").await;

    for name in [
        "backend.sqlite3",
        "backend.sqlite3-wal",
        "backend.sqlite3-shm",
    ] {
        let _ = std::fs::remove_file(target.data_dir().join(name));
    }
    let (status, body, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    // "removed", or "replaced" if a new pooled connection created an empty file meanwhile.
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("removed") || reason.contains("replaced"),
        "{body}"
    );

    send_json(
        &mut socket,
        &json!({ "type": "run_agent", "thread_id": "doomed", "message": "lost?" }),
    )
    .await;
    let mut last = Value::Null;
    for _ in 0..5 {
        last = next_event(&mut socket).await;
        assert_ne!(last["type"], "agent_completed", "acknowledged: {last}");
        if last["type"] == "error" {
            break;
        }
    }
    assert_eq!(last["type"], "error", "{last}");
    let response = client.post(server.url("/users")).send().await.unwrap();
    assert_eq!(response.status(), 503);
}

/// Size of the SQLite WAL file (0 when absent).
fn wal_bytes(target: &Target) -> u64 {
    std::fs::metadata(target.data_dir().join("backend.sqlite3-wal"))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// After a burst of writes the WAL does not keep its high-water mark: once writes stop it
/// is truncated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_is_truncated_when_idle() {
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    // 8 connections × 60 runs × a 32,000-character message: ~15 MB of content.
    let message = "w".repeat(32_000);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (_, token) = create_user(&client, &server, &format!("wal{i}")).await;
        let (addr, message) = (server.addr, message.clone());
        tasks.push(tokio::spawn(async move {
            let mut socket = ws_connect_addr(addr, &token).await;
            for _ in 0..60 {
                run_agent(&mut socket, &format!("wal-{i}"), &message).await;
            }
        }));
    }
    let mut peak = 0;
    while tasks.iter().any(|t| !t.is_finished()) {
        peak = peak.max(wal_bytes(&target));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    peak = peak.max(wal_bytes(&target));
    // How large it grew depends on the pace: a write that begins once the checkpointer has
    // copied every frame starts the WAL over (its file keeps its size until truncated).
    assert!(peak > 0, "the burst left a WAL file: {peak} bytes");
    let mut now = wal_bytes(&target);
    for _ in 0..100 {
        if now == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = wal_bytes(&target);
    }
    eprintln!("[backend suite] WAL peak {peak} bytes, after idle {now} bytes");
    assert_eq!(now, 0, "the WAL is truncated once writes stop");
    // And the data is all there.
    let response = client
        .get(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The database file's header overwritten while the server runs: health says `degraded`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_sqlite_header_is_degraded() {
    use std::io::{Seek, Write};
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "corrupt").await;
    let mut socket = ws_connect(&server, &token).await;
    run_agent(&mut socket, "corrupt", "stored").await;
    let (status, _, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 200);

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(target.data_dir().join("backend.sqlite3"))
        .unwrap();
    file.seek(std::io::SeekFrom::Start(0)).unwrap();
    file.write_all(b"garbage garbage!").unwrap();
    drop(file);

    let (status, body, _) = get_json(&client, server.url("/health/database")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("not a SQLite database"),
        "{body}"
    );
}

/// While writes keep coming, the WAL starts over from its beginning each time it reaches
/// `SQLITE_WAL_LIMIT_MB`: its file stays near that size instead of growing with the burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_stays_bounded_under_sustained_writes() {
    let target = Target::sqlite();
    let server = target.start_env(&[("SQLITE_WAL_LIMIT_MB", "1")]);
    let client = http();
    // 8 connections × 60 runs × a 32,000-character message: ~15 MB through the WAL.
    let message = "s".repeat(32_000);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (_, token) = create_user(&client, &server, &format!("sustained{i}")).await;
        let (addr, message) = (server.addr, message.clone());
        tasks.push(tokio::spawn(async move {
            let mut socket = ws_connect_addr(addr, &token).await;
            for _ in 0..60 {
                run_agent(&mut socket, &format!("sustained-{i}"), &message).await;
            }
        }));
    }
    let mut peak = 0;
    while tasks.iter().any(|t| !t.is_finished()) {
        peak = peak.max(wal_bytes(&target));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    peak = peak.max(wal_bytes(&target));
    let database = std::fs::metadata(target.data_dir().join("backend.sqlite3"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!("[backend suite] sustained writes: WAL peak {peak} bytes, database {database} bytes");
    assert!(
        database > 12 << 20,
        "the burst was written: {database} bytes"
    );
    // The limit, plus what commits add while a background checkpoint in progress makes the
    // committing connection's own one wait for the next commit. (Without the limit, the
    // WAL of this burst peaks at 4–8 MB: it starts over only when a background checkpoint
    // happens to catch up.)
    assert!(peak <= 4 << 20, "the WAL grew to {peak} bytes");
}

/// The events of one run up to its outcome: `agent_completed` or `error`.
async fn run_outcome(socket: &mut Socket, thread_id: &str, message: &str) -> Value {
    send_json(
        socket,
        &json!({ "type": "run_agent", "thread_id": thread_id, "message": message }),
    )
    .await;
    loop {
        let event = next_event(socket).await;
        if event["type"] == "agent_completed" || event["type"] == "error" {
            return event;
        }
    }
}

/// The database file deleted while many runs are being written together (group commit):
/// no run sent after the deletion is acknowledged, whichever group it was written in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_sqlite_file_under_load_acknowledges_nothing_after() {
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    let deleted: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (_, token) = create_user(&client, &server, &format!("busy{i}")).await;
        let (addr, deleted) = (server.addr, Arc::clone(&deleted));
        tasks.push(tokio::spawn(async move {
            let mut socket = ws_connect_addr(addr, &token).await;
            let thread = format!("busy-{i}");
            let (mut before, mut after) = (0, 0);
            while after < 20 {
                let sent = Instant::now();
                let outcome =
                    run_outcome(&mut socket, &thread, &format!("run {before} {after}")).await;
                match deleted.get() {
                    Some(deleted) if sent > *deleted => {
                        assert_eq!(
                            outcome["type"], "error",
                            "acknowledged after the deletion: {outcome}"
                        );
                        after += 1;
                    }
                    _ => before += 1,
                }
            }
            before
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for name in [
        "backend.sqlite3",
        "backend.sqlite3-wal",
        "backend.sqlite3-shm",
    ] {
        let _ = std::fs::remove_file(target.data_dir().join(name));
    }
    let _ = deleted.set(Instant::now());
    let mut before = 0;
    for task in tasks {
        before += task.await.unwrap();
    }
    assert!(
        before > 12,
        "runs were being written when the file went: {before}"
    );
}
