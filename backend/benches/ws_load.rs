//! Load benchmark: N concurrent WebSocket sessions on loopback, each running the agent a
//! bounded number of times (and for a bounded time).
//!
//! Reports completed runs per second, p50/p99/max time from sending `run_agent` to
//! receiving `agent_completed`, errors, and lost messages: afterwards every thread is read
//! back with `GET /threads/{id}/messages` and every exchange must be there, in order.
//!
//! ```text
//! cargo bench -p backend --bench ws_load -- --sessions 1,10,100 --runs 100
//! ```
//!
//! Options:
//!   --sessions N[,N...]  concurrent sessions; one fresh server per value (default 1,10,100)
//!   --runs R             agent runs per session (default 100)
//!   --max-seconds S      stop starting new runs after S seconds (default 60)
//!   --url URL            use a running server (http://127.0.0.1:PORT) instead of starting one
//!   --database-url URL   DATABASE_URL for the started server (default: SQLite in a temp dir)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
const RUN_EVENTS: [&str; 5] = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
];

struct Options {
    sessions: Vec<usize>,
    runs: usize,
    max_seconds: u64,
    url: Option<String>,
    database_url: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        sessions: vec![1, 10, 100],
        runs: 100,
        max_seconds: 60,
        url: None,
        database_url: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--sessions" => {
                options.sessions = value()?
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse::<usize>()
                            .map_err(|e| format!("--sessions: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => options.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--max-seconds" => {
                options.max_seconds = value()?
                    .parse()
                    .map_err(|e| format!("--max-seconds: {e}"))?
            }
            "--url" => options.url = Some(value()?.trim_end_matches('/').to_owned()),
            "--database-url" => options.database_url = Some(value()?),
            // `cargo bench` passes `--bench`; filters are not used.
            "--bench" => {}
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            _ => {}
        }
    }
    if options.sessions.contains(&0) || options.runs == 0 {
        return Err("--sessions and --runs must be positive".into());
    }
    Ok(options)
}

/// A server started for one measurement.
struct Spawned {
    child: Child,
    _dir: tempfile::TempDir,
    url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(database_url: Option<&str>) -> Spawned {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
    command
        .env("PORT", "0")
        .env("BIND", "127.0.0.1")
        .env("DATA_DIR", dir.path().join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let mut child = command.spawn().expect("start the backend binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(address) = line.strip_prefix("listening on ") {
                    break address.trim().to_owned();
                }
            }
            _ => {
                let _ = child.kill();
                panic!("the server exited before printing `listening on`");
            }
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Spawned {
        child,
        _dir: dir,
        url: format!("http://{address}"),
    }
}

/// The fields of an event the load generator looks at (cheaper to parse than a `Value`).
#[derive(serde::Deserialize)]
struct EventView {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Default)]
struct SessionResult {
    thread_id: String,
    token: String,
    /// The exchanges acknowledged with `agent_completed`: (message, answer).
    completed: Vec<(String, String)>,
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

async fn session(
    ws_url: String,
    token: String,
    thread_id: String,
    index: usize,
    runs: usize,
    barrier: Arc<Barrier>,
    deadline: Arc<std::sync::OnceLock<Instant>>,
) -> SessionResult {
    let mut result = SessionResult {
        thread_id: thread_id.clone(),
        token: token.clone(),
        ..SessionResult::default()
    };
    let request = match ws_url.into_client_request() {
        Ok(mut request) => {
            match format!("Bearer {token}").parse() {
                Ok(value) => {
                    request.headers_mut().insert("authorization", value);
                }
                Err(e) => result.errors.push(format!("header: {e}")),
            }
            request
        }
        Err(e) => {
            result.errors.push(format!("request: {e}"));
            barrier.wait().await;
            return result;
        }
    };
    // TCP_NODELAY on the client too, as a latency-minded client would.
    // A small read buffer: tungstenite zero-fills it on every read.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let connected = tokio_tungstenite::connect_async_with_config(request, Some(config), true).await;
    barrier.wait().await;
    let mut socket = match connected {
        Ok((socket, _)) => socket,
        Err(e) => {
            result.errors.push(format!("connect: {e}"));
            return result;
        }
    };
    let deadline = *deadline
        .get()
        .expect("deadline set before the barrier opens");

    'runs: for run in 0..runs {
        if Instant::now() >= deadline {
            break;
        }
        let message = format!("session {index} run {run}: the quick brown fox");
        let frame = json!({ "type": "run_agent", "thread_id": thread_id, "message": message });
        let started = Instant::now();
        if let Err(e) = socket.send(Message::Text(frame.to_string().into())).await {
            result.errors.push(format!("send: {e}"));
            break;
        }
        let mut answer = None;
        for expected in RUN_EVENTS {
            let event = loop {
                match tokio::time::timeout(EVENT_TIMEOUT, socket.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => {
                        match serde_json::from_str::<EventView>(text.as_str()) {
                            Ok(event) => break (event, text),
                            Err(e) => {
                                result.errors.push(format!("bad event: {e}"));
                                break 'runs;
                            }
                        }
                    }
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                    Ok(Some(Ok(other))) => {
                        result.errors.push(format!("unexpected frame {other:?}"));
                        break 'runs;
                    }
                    Ok(Some(Err(e))) => {
                        result.errors.push(format!("receive: {e}"));
                        break 'runs;
                    }
                    Ok(None) => {
                        result.errors.push("connection closed".into());
                        break 'runs;
                    }
                    Err(_) => {
                        result
                            .errors
                            .push(format!("timeout waiting for {expected}"));
                        break 'runs;
                    }
                }
            };
            let (event, text) = event;
            if event.kind != expected {
                result
                    .errors
                    .push(format!("expected {expected}, got {}", text.as_str()));
                // An error event ends this run; the connection stays usable.
                continue 'runs;
            }
            if expected == "agent_completed" {
                answer = event.message;
            }
        }
        let elapsed = started.elapsed();
        match answer {
            Some(answer) => {
                result.latencies.push(elapsed);
                result.completed.push((message, answer));
            }
            None => result
                .errors
                .push("agent_completed without a message".into()),
        }
    }
    let _ = socket.close(None).await;
    result
}

struct Report {
    sessions: usize,
    completed: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    errors: usize,
    lost: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn measure(base_url: &str, sessions: usize, options: &Options) -> Report {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");

    // Warm-up outside the measurement: the first request creates the pool.
    let health = client
        .get(format!("{base_url}/health/database"))
        .send()
        .await
        .expect("health request");
    assert_eq!(health.status(), 200, "the server is not healthy");

    let mut tokens = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let body: Value = client
            .post(format!("{base_url}/users"))
            .json(&json!({ "name": format!("load{i}") }))
            .send()
            .await
            .expect("POST /users")
            .json()
            .await
            .expect("user JSON");
        tokens.push(body["token"].as_str().expect("a token").to_owned());
    }

    let ws_url = format!("{}/ws", base_url.replacen("http://", "ws://", 1));
    let barrier = Arc::new(Barrier::new(sessions + 1));
    let deadline = Arc::new(std::sync::OnceLock::new());
    // Thread ids unique to this measurement, so a long-running server can be reused.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    let mut tasks = Vec::with_capacity(sessions);
    for (index, token) in tokens.into_iter().enumerate() {
        tasks.push(tokio::spawn(session(
            ws_url.clone(),
            token,
            format!("load-{nonce}-{index}"),
            index,
            options.runs,
            Arc::clone(&barrier),
            Arc::clone(&deadline),
        )));
    }
    // Every session is connected; go.
    let start = Instant::now();
    let _ = deadline.set(start + Duration::from_secs(options.max_seconds));
    barrier.wait().await;
    let mut results = Vec::with_capacity(sessions);
    for task in tasks {
        results.push(task.await.expect("session task"));
    }
    let seconds = start.elapsed().as_secs_f64();

    // Read every thread back: each acknowledged exchange must be stored, in order.
    let mut lost = 0;
    let mut errors = 0;
    for result in &results {
        errors += result.errors.len();
        for error in result.errors.iter().take(3) {
            eprintln!("  session {}: {error}", result.thread_id);
        }
        if result.completed.is_empty() {
            continue;
        }
        let expected: Vec<&str> = result
            .completed
            .iter()
            .flat_map(|(m, a)| [m.as_str(), a.as_str()])
            .collect();
        let stored = read_thread(&client, base_url, &result.thread_id, &result.token).await;
        if stored != expected {
            let missing = expected
                .iter()
                .filter(|m| !stored.iter().any(|s| s == *m))
                .count();
            eprintln!(
                "  thread {}: expected {} messages, read back {} ({missing} missing)",
                result.thread_id,
                expected.len(),
                stored.len()
            );
            lost += missing.max(1);
        }
    }

    let mut latencies: Vec<Duration> = results
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    Report {
        sessions,
        completed: latencies.len(),
        seconds,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied().unwrap_or_default(),
        errors,
        lost,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("ws_load: {problem}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let backend = match (&options.url, &options.database_url) {
        (Some(_), _) => "external server",
        (None, Some(_)) => "DATABASE_URL",
        (None, None) => "sqlite (temp data dir)",
    };
    println!(
        "ws_load: {} runs per session, at most {} s, backend: {backend}",
        options.runs, options.max_seconds
    );
    println!(
        "{:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>6} {:>5}",
        "sessions", "runs", "seconds", "runs/s", "p50 ms", "p99 ms", "max ms", "errors", "lost"
    );
    let mut failed = false;
    for &sessions in &options.sessions {
        let spawned = match &options.url {
            Some(_) => None,
            None => Some(spawn_server(options.database_url.as_deref())),
        };
        let url = match (&options.url, &spawned) {
            (Some(url), _) => url.clone(),
            (None, Some(spawned)) => spawned.url.clone(),
            (None, None) => unreachable!(),
        };
        let report = runtime.block_on(measure(&url, sessions, &options));
        drop(spawned);
        println!(
            "{:>8} {:>8} {:>8.2} {:>9.0} {:>8} {:>8} {:>8} {:>6} {:>5}",
            report.sessions,
            report.completed,
            report.seconds,
            report.completed as f64 / report.seconds,
            ms(report.p50),
            ms(report.p99),
            ms(report.max),
            report.errors,
            report.lost
        );
        failed |= report.errors > 0 || report.lost > 0;
    }
    if failed {
        std::process::exit(1);
    }
}

/// Every message of a thread, following the pages (`limit=1000`, `next_cursor`); what was
/// read before a failed request if one fails.
async fn read_thread(
    client: &reqwest::Client,
    base_url: &str,
    thread_id: &str,
    token: &str,
) -> Vec<String> {
    let mut stored = Vec::new();
    let mut after: i64 = 0;
    // Bounded: a thread of the bench holds at most 2 × runs messages.
    for _ in 0..100_000 {
        let response = client
            .get(format!(
                "{base_url}/threads/{thread_id}/messages?limit=1000&after={after}"
            ))
            .bearer_auth(token)
            .send()
            .await;
        let body: Value = match response {
            Ok(response) if response.status() == 200 => match response.json().await {
                Ok(body) => body,
                Err(_) => break,
            },
            _ => break,
        };
        if let Some(messages) = body["messages"].as_array() {
            stored.extend(
                messages
                    .iter()
                    .filter_map(|m| m["content"].as_str().map(str::to_owned)),
            );
        }
        match body["next_cursor"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    stored
}
