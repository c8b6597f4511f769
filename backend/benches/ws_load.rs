//! Load benchmark: N concurrent WebSocket sessions on loopback, each running the agent a
//! bounded number of times (and for a bounded time).
//!
//! Reports completed runs per second, p50/p99/max time from sending `run_agent` to
//! receiving `agent_completed`, errors, and lost messages: afterwards every thread is read
//! back with `GET /threads/{id}/messages` and every exchange must be there, in order.
//!
//! ```text
//! cargo bench -p backend --bench ws_load -- --sessions 1,10,100 --runs 100
//! cargo bench -p backend --bench ws_load -- --compare /tmp/old/backend target/release/backend
//! ```
//!
//! Options:
//!   --sessions N[,N...]  concurrent sessions; one fresh server per value (default 1,10,100)
//!   --runs R             agent runs per session (default 100)
//!   --max-seconds S      stop starting new runs after S seconds (default 60)
//!   --url URL            use a running server (http://127.0.0.1:PORT) instead of starting one
//!   --database-url URL   DATABASE_URL for the started server (default: SQLite in a temp dir)
//!   --compare A B        A/B comparison: A is the reference, B the candidate; each is a
//!                        server URL (http://…) or the path of a server binary, started once
//!                        on 127.0.0.1:0 with a fresh SQLite data dir and kept for all rounds
//!   --rounds N           with --compare: rounds (default 5), each measuring A and B once, in
//!                        alternating order (A B, B A, A B, …); defaults become --sessions 100
//!                        --runs 1000 (100,000 exchanges a measurement)
//!
//! `--compare` prints every measurement as it ends, then for A and B the median, minimum,
//! maximum and spread ((max − min) / median) of runs/s, the ratio B/A of the medians, and
//! the B/A ratio of each round (the two measurements of a round ran back to back, so a
//! machine busier in one round than another moves both). For binaries it started it also
//! prints each server's CPU time per 1000 runs (medians, their ratio B/A and the median of
//! the per-round ratios), the largest size its data directory reached during the rounds,
//! and its size after the last round and again after 5 s idle.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
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
    /// `--compare A B`: the reference and the candidate.
    compare: Option<[Server; 2]>,
    rounds: usize,
}

/// A server to measure: one already running, or a binary to start.
#[derive(Clone)]
enum Server {
    Url(String),
    Binary(PathBuf),
}

impl Server {
    fn parse(text: &str) -> Result<Server, String> {
        if text.starts_with("http://") {
            return Ok(Server::Url(text.trim_end_matches('/').to_owned()));
        }
        let path = PathBuf::from(text);
        if !path.is_file() {
            return Err(format!(
                "--compare: {text} is neither a server URL (http://…) nor a server binary"
            ));
        }
        Ok(Server::Binary(path))
    }

    fn describe(&self) -> String {
        match self {
            Server::Url(url) => url.clone(),
            Server::Binary(path) => path.display().to_string(),
        }
    }
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        sessions: vec![1, 10, 100],
        runs: 100,
        max_seconds: 60,
        url: None,
        database_url: None,
        compare: None,
        rounds: 5,
    };
    let (mut sessions_given, mut runs_given) = (false, false);
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
                sessions_given = true;
            }
            "--runs" => {
                options.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?;
                runs_given = true;
            }
            "--compare" => {
                let a = Server::parse(&value()?)?;
                let b = Server::parse(&value()?)?;
                options.compare = Some([a, b]);
            }
            "--rounds" => {
                options.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?
            }
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
    if options.compare.is_some() {
        if !sessions_given {
            options.sessions = vec![100];
        }
        if !runs_given {
            options.runs = 1000;
        }
        if options.sessions.len() != 1 {
            return Err("--compare takes one --sessions value".into());
        }
        if options.url.is_some() || options.database_url.is_some() {
            return Err(
                "--compare names its servers itself; --url and --database-url do not apply \
                 (start servers on other databases yourself and pass their URLs)"
                    .into(),
            );
        }
        if options.rounds == 0 {
            return Err("--rounds must be positive".into());
        }
    }
    if options.sessions.contains(&0) || options.runs == 0 {
        return Err("--sessions and --runs must be positive".into());
    }
    Ok(options)
}

/// A server started by the benchmark.
struct Spawned {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(binary: &Path, database_url: Option<&str>) -> Spawned {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(binary);
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
        dir,
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
    /// CPU time the server used during the timed runs, when it is a process of ours.
    server_cpu: Option<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `server`: the process id of a server this benchmark started, whose CPU time is measured.
async fn measure(
    base_url: &str,
    sessions: usize,
    options: &Options,
    server: Option<u32>,
) -> Report {
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
    let cpu_before = server.and_then(cpu_time);
    let start = Instant::now();
    let _ = deadline.set(start + Duration::from_secs(options.max_seconds));
    barrier.wait().await;
    let mut results = Vec::with_capacity(sessions);
    for task in tasks {
        results.push(task.await.expect("session task"));
    }
    let seconds = start.elapsed().as_secs_f64();
    let server_cpu = match (cpu_before, server.and_then(cpu_time)) {
        (Some(before), Some(after)) => after.checked_sub(before),
        _ => None,
    };

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
        server_cpu,
    }
}

/// CPU time (user + system) a process has used so far, from `/proc/PID/stat` (Linux; the
/// kernel counts it in USER_HZ = 100 ticks per second). None elsewhere.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields 14 and 15 follow it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

impl Report {
    fn runs_per_second(&self) -> f64 {
        self.completed as f64 / self.seconds
    }

    fn failed(&self) -> bool {
        self.errors > 0 || self.lost > 0
    }

    /// Server CPU milliseconds per 1000 completed runs.
    fn cpu_per_1000(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.completed > 0).then(|| cpu.as_secs_f64() * 1e6 / self.completed as f64)
    }

    /// The columns after the first one of [`TABLE_HEADER`].
    fn row(&self) -> String {
        let cpu = match self.cpu_per_1000() {
            Some(cpu) => format!("{cpu:>10.1}"),
            None => format!("{:>10}", "-"),
        };
        format!(
            "{:>8} {:>8.2} {:>9.0} {:>8} {:>8} {:>8} {:>6} {:>5} {cpu}",
            self.completed,
            self.seconds,
            self.runs_per_second(),
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            self.errors,
            self.lost
        )
    }
}

/// The measurement columns, after a first column of width 8. `cpu ms/1k`: the server's CPU
/// time (user + system) per 1000 runs, when the benchmark started the server.
const TABLE_HEADER: &str =
    "    runs  seconds    runs/s   p50 ms   p99 ms   max ms errors  lost  cpu ms/1k";

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
    let failed = match &options.compare {
        Some(servers) => compare(&runtime, servers, &options),
        None => sweep(&runtime, &options),
    };
    if failed {
        std::process::exit(1);
    }
}

/// One measurement per `--sessions` value, each on a fresh server (or on `--url`); true if
/// one had errors or lost messages.
fn sweep(runtime: &tokio::runtime::Runtime, options: &Options) -> bool {
    let backend = match (&options.url, &options.database_url) {
        (Some(_), _) => "external server",
        (None, Some(_)) => "DATABASE_URL",
        (None, None) => "sqlite (temp data dir)",
    };
    println!(
        "ws_load: {} runs per session, at most {} s, backend: {backend}",
        options.runs, options.max_seconds
    );
    println!("{:>8} {TABLE_HEADER}", "sessions");
    let mut failed = false;
    for &sessions in &options.sessions {
        let spawned = match &options.url {
            Some(_) => None,
            None => Some(spawn_server(
                Path::new(env!("CARGO_BIN_EXE_backend")),
                options.database_url.as_deref(),
            )),
        };
        let url = match (&options.url, &spawned) {
            (Some(url), _) => url.clone(),
            (None, Some(spawned)) => spawned.url.clone(),
            (None, None) => unreachable!(),
        };
        let pid = spawned.as_ref().map(|spawned| spawned.child.id());
        let report = runtime.block_on(measure(&url, sessions, options, pid));
        drop(spawned);
        println!("{:>8} {}", report.sessions, report.row());
        failed |= report.failed();
    }
    failed
}

/// `--compare A B`: `--rounds` rounds, each measuring A and B once, the order alternating
/// (A B, B A, …) so that neither always runs first; then the medians, their ratio and the
/// spread. True if a measurement had errors or lost messages.
fn compare(runtime: &tokio::runtime::Runtime, servers: &[Server; 2], options: &Options) -> bool {
    const NAMES: [&str; 2] = ["A", "B"];
    let sessions = options.sessions[0];
    println!(
        "ws_load --compare: {} rounds, {sessions} sessions x {} runs ({} exchanges) per measurement, at most {} s",
        options.rounds,
        options.runs,
        sessions * options.runs,
        options.max_seconds
    );
    // Both servers run for the whole comparison, as two deployments side by side would.
    let mut spawned: Vec<Option<Spawned>> = Vec::new();
    let mut urls = Vec::new();
    for (name, server) in NAMES.iter().zip(servers) {
        match server {
            Server::Url(url) => {
                spawned.push(None);
                urls.push(url.clone());
            }
            Server::Binary(binary) => {
                let server = spawn_server(binary, None);
                urls.push(server.url.clone());
                spawned.push(Some(server));
            }
        }
        println!("{name} = {} ({})", server.describe(), urls[urls.len() - 1]);
    }
    println!("{:>8} {TABLE_HEADER}", "round");
    let _ = std::io::stdout().flush();

    let data_dirs: Vec<(&str, PathBuf)> = NAMES
        .iter()
        .zip(&spawned)
        .filter_map(|(name, server)| Some((*name, server.as_ref()?.dir.path().join("data"))))
        .collect();
    let peaks = PeakSizes::watch(data_dirs.iter().map(|(_, dir)| dir.clone()).collect());
    let pids: Vec<Option<u32>> = spawned
        .iter()
        .map(|server| server.as_ref().map(|server| server.child.id()))
        .collect();
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut cpu: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut failed = false;
    for round in 1..=options.rounds {
        let order = if round % 2 == 1 { [0, 1] } else { [1, 0] };
        for side in order {
            let report = runtime.block_on(measure(&urls[side], sessions, options, pids[side]));
            println!("{:>6} {} {}", round, NAMES[side], report.row());
            let _ = std::io::stdout().flush();
            rates[side].push(report.runs_per_second());
            cpu[side].extend(report.cpu_per_1000());
            failed |= report.failed();
        }
    }

    println!();
    println!("runs/s    median       min       max   spread (max-min)/median");
    let mut medians = [0.0; 2];
    for side in 0..2 {
        medians[side] = median(&rates[side]);
        let (min, max) = min_max(&rates[side]);
        println!(
            "{:<6} {:>9.0} {:>9.0} {:>9.0}   {:.1} %",
            NAMES[side],
            medians[side],
            min,
            max,
            100.0 * (max - min) / medians[side]
        );
    }
    let per_round: Vec<f64> = rates[1].iter().zip(&rates[0]).map(|(b, a)| b / a).collect();
    let (low, high) = min_max(&per_round);
    println!(
        "B/A: ratio of medians {:.3}; per round {} (median {:.3}, min {:.3}, max {:.3})",
        medians[1] / medians[0],
        per_round
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(" "),
        median(&per_round),
        low,
        high
    );
    if cpu.iter().all(|cpu| cpu.len() == options.rounds) {
        let (a, b) = (median(&cpu[0]), median(&cpu[1]));
        let per_round: Vec<f64> = cpu[1].iter().zip(&cpu[0]).map(|(b, a)| b / a).collect();
        println!(
            "server CPU ms per 1000 runs, median: A {a:.1}, B {b:.1}; B/A {:.3}, per round median {:.3}",
            b / a,
            median(&per_round)
        );
    }

    let peaks = peaks.stop();
    if !data_dirs.is_empty() {
        for ((name, _), peak) in data_dirs.iter().zip(peaks) {
            println!(
                "{name} data dir, largest seen during the rounds (sampled every 50 ms): {:.1} MB",
                peak as f64 / 1e6
            );
        }
        for (when, wait) in [("after the last round", 0), ("after 5 s idle", 5)] {
            std::thread::sleep(Duration::from_secs(wait));
            for (name, dir) in &data_dirs {
                println!("{name} data dir {when}: {}", describe_dir(dir));
            }
        }
    }
    failed
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(min, max), &v| {
            (min.min(v), max.max(v))
        })
}

/// The largest total size each of some directories reached, sampled by a thread.
struct PeakSizes {
    stop: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<Vec<u64>>,
}

impl PeakSizes {
    fn watch(dirs: Vec<PathBuf>) -> PeakSizes {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peaks = vec![0; dirs.len()];
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                for (peak, dir) in peaks.iter_mut().zip(&dirs) {
                    let size: u64 = dir_files(dir).iter().map(|(_, len)| len).sum();
                    *peak = size.max(*peak);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            peaks
        });
        PeakSizes { stop, sampler }
    }

    /// The peaks, in the order of the directories.
    fn stop(self) -> Vec<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.sampler.join().unwrap_or_default()
    }
}

/// The files directly in `dir` (not hidden ones such as `.gitignore`) and their sizes.
fn dir_files(dir: &Path) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            (meta.is_file() && !name.starts_with('.')).then_some((name, meta.len()))
        })
        .collect()
}

/// The total size of the files in `dir` (MB), then each file's.
fn describe_dir(dir: &Path) -> String {
    let mut files = dir_files(dir);
    files.sort();
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let total: u64 = files.iter().map(|(_, len)| len).sum();
    let each: Vec<String> = files
        .iter()
        .filter(|(_, len)| *len > 0)
        .map(|(name, len)| format!("{name} {:.1}", mb(*len)))
        .collect();
    format!("{:.1} MB ({})", mb(total), each.join(", "))
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
