//! Test harness: runs the real server binary as a child process on an ephemeral loopback
//! port, with its own data dir (SQLite) or its own schema (PostgreSQL, when
//! `TEST_POSTGRES_URL` is set), and talks to it over real HTTP and WebSocket connections.
//!
//! A child process per server gives every test a cold process (the pool lives in a
//! process-wide cell) and makes a restart a real restart.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TIMEOUT: Duration = Duration::from_secs(15);

/// Defines, for each scenario `async fn name(target: Target)`, the tests
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_each_backend {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let target = $crate::common::Target::sqlite();
                $crate::common::announce(stringify!($scenario), &target);
                super::$scenario(target).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::common::Target::postgres().await {
                    Some(target) => {
                        $crate::common::announce(stringify!($scenario), &target);
                        super::$scenario(target).await;
                    }
                    None => $crate::common::skipped(stringify!($scenario)),
                }
            }
        }
    )*};
}

/// Says, past libtest's output capture, which backend a scenario runs on.
pub fn announce(scenario: &str, target: &Target) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "[backend suite] {scenario}: running on {}",
        target.backend
    );
}

pub fn skipped(scenario: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "[backend suite] {scenario}: postgres SKIPPED (TEST_POSTGRES_URL is not set)"
    );
}

/// Where a server keeps its data: a fresh temp dir, plus a fresh schema for PostgreSQL.
pub struct Target {
    pub backend: &'static str,
    /// The server's `DATABASE_URL` (None: the SQLite default under `DATA_DIR`).
    pub database_url: Option<String>,
    pub dir: tempfile::TempDir,
}

static SCHEMA_SEQ: AtomicU32 = AtomicU32::new(0);

impl Target {
    pub fn sqlite() -> Target {
        Target {
            backend: "sqlite",
            database_url: None,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A PostgreSQL target with a schema of its own, if `TEST_POSTGRES_URL` is set.
    pub async fn postgres() -> Option<Target> {
        let base = std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())?;
        let schema = format!(
            "backend_test_{}_{}_{}",
            std::process::id(),
            SCHEMA_SEQ.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        {
            use sqlx::{Connection, Executor};
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("TEST_POSTGRES_URL is set but PostgreSQL is not reachable");
            conn.execute(format!("CREATE SCHEMA {schema}").as_str())
                .await
                .expect("create schema");
            conn.close().await.expect("close");
        }
        let separator = if base.contains('?') { '&' } else { '?' };
        Some(Target {
            backend: "postgres",
            database_url: Some(format!(
                "{base}{separator}options%5Bsearch_path%5D={schema}"
            )),
            dir: tempfile::tempdir().expect("temp dir"),
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn start(&self) -> Server {
        Server::start_with(self.database_url.as_deref(), &self.data_dir())
    }

    /// [`Target::start`] with extra environment variables (limits, timeouts).
    pub fn start_env(&self, env: &[(&str, &str)]) -> Server {
        Server::start_env(self.database_url.as_deref(), &self.data_dir(), env)
    }

    /// Runs a statement straight on the database, behind the server's back.
    pub async fn execute(&self, sql: &str) {
        use sqlx::Connection;
        match &self.database_url {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            None => {
                let file = self.data_dir().join("backend.sqlite3");
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }

    /// The token hashes stored in `users`, read straight from the database.
    pub async fn stored_token_hashes(&self) -> Vec<String> {
        use sqlx::{Connection, Row};
        let sql = "SELECT token_hash FROM users ORDER BY id";
        match &self.database_url {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(sql)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|row| row.get::<String, _>(0))
                    .collect()
            }
            None => {
                let file = self.data_dir().join("backend.sqlite3");
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(file)
                    .read_only(true);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                sqlx::query(sql)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|row| row.get::<String, _>(0))
                    .collect()
            }
        }
    }
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start_with(database_url: Option<&str>, data_dir: &Path) -> Server {
        Server::start_env(database_url, data_dir, &[])
    }

    pub fn start_env(database_url: Option<&str>, data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
        command.envs(env.iter().copied());
        command
            .env("PORT", "0")
            .env("BIND", "127.0.0.1")
            .env("DATA_DIR", data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match database_url {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env_remove("DATABASE_URL"),
        };
        let mut child = command.spawn().expect("spawn the backend binary");

        let stdout = child.stdout.take().unwrap();
        let (addr_tx, addr_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = addr_tx.send(addr.trim().to_owned());
                }
            }
        });
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr_lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });

        let addr = match addr_rx.recv_timeout(TIMEOUT) {
            Ok(addr) => addr.parse().expect("an address after `listening on`"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not print `listening on`; stderr: {:?}",
                    stderr_lines.lock().unwrap()
                );
            }
        };
        Server {
            child,
            addr,
            stderr: stderr_lines,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws{query}", self.addr)
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to flush or clean up; whatever was committed must survive.
    pub fn kill(mut self) {
        self.child.kill().expect("kill the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(TIMEOUT).build().unwrap()
}

/// A new user: (id, token).
pub async fn create_user(
    client: &reqwest::Client,
    server: &Server,
    name: &str,
) -> (String, String) {
    let response = client
        .post(server.url("/users"))
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "POST /users");
    let body: Value = response.json().await.unwrap();
    (
        body["user_id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// GET /threads/{id}/messages: (status, body).
pub async fn messages(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    thread_id: &str,
) -> (u16, Value) {
    let response = client
        .get(server.url(&format!("/threads/{thread_id}/messages")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket with the token in the `Authorization` header.
pub async fn ws_connect(server: &Server, token: &str) -> Socket {
    ws_connect_addr(server.addr, token).await
}

/// [`ws_connect`] by address (for spawned tasks, which cannot borrow the server).
pub async fn ws_connect_addr(addr: SocketAddr, token: &str) -> Socket {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (socket, _) = tokio::time::timeout(TIMEOUT, tokio_tungstenite::connect_async(request))
        .await
        .expect("ws connect timed out")
        .expect("ws connect");
    socket
}

/// A WebSocket with the token in the query string.
pub async fn ws_connect_query(server: &Server, token: &str) -> Socket {
    let (socket, _) = tokio::time::timeout(
        TIMEOUT,
        tokio_tungstenite::connect_async(server.ws_url(&format!("?token={token}"))),
    )
    .await
    .expect("ws connect timed out")
    .expect("ws connect");
    socket
}

pub async fn send_json(socket: &mut Socket, value: &Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

pub async fn send_text(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

pub async fn send_binary(socket: &mut Socket, bytes: &[u8]) {
    socket
        .send(Message::Binary(bytes.to_vec().into()))
        .await
        .unwrap();
}

/// The next JSON event (skipping control frames).
pub async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(TIMEOUT, socket.next())
            .await
            .expect("timed out waiting for an event")
            .expect("the connection closed")
            .expect("a WebSocket error");
        match frame {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

pub const RUN_EVENTS: [&str; 5] = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
];

/// Sends `run_agent` and returns the five events, checking their order.
pub async fn run_agent(socket: &mut Socket, thread_id: &str, message: &str) -> Vec<Value> {
    send_json(
        socket,
        &json!({ "type": "run_agent", "thread_id": thread_id, "message": message }),
    )
    .await;
    let mut events = Vec::new();
    for expected in RUN_EVENTS {
        let event = next_event(socket).await;
        assert_eq!(event["type"], expected, "event order; got {event}");
        events.push(event);
    }
    events
}

/// What the agent answers to `message`.
pub fn expected_answer(message: &str) -> String {
    let words = message.split_whitespace().count();
    let characters = message.chars().count();
    format!(
        "Your message has {words} {} and {characters} {}.",
        if words == 1 { "word" } else { "words" },
        if characters == 1 {
            "character"
        } else {
            "characters"
        }
    )
}
