//! Slow and hostile clients over raw sockets: header-read, request and keep-alive timeouts,
//! the connection cap, WebSocket liveness, Close frames and the frame limit, and the one
//! JSON error shape.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

/// Generous bound for "the server closed it" on a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(15);

/// Reads until EOF (or a reset): everything the server sent, and how long it took.
async fn read_to_close(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(CLOSED_WITHIN, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the server kept the connection open for {CLOSED_WITHIN:?}; got {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

/// The JSON body of a raw HTTP/1.1 response.
fn json_body(response: &str) -> Value {
    let (_, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"))
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.addr).await.unwrap()
}

const FAST_TIMEOUTS: &[(&str, &str)] =
    &[("HEADER_TIMEOUT_SECS", "1"), ("REQUEST_TIMEOUT_SECS", "1")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_timed_out() {
    let target = Target::sqlite();
    let server = target.start_env(FAST_TIMEOUTS);
    let opened = Instant::now();

    // Nothing at all.
    let mut silent = connect(&server).await;
    // Part of the headers.
    let mut partial = connect(&server).await;
    partial
        .write_all(b"GET /health/database HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Half a body.
    let mut half_body = connect(&server).await;
    half_body
        .write_all(
            b"POST /users HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"name\":",
        )
        .await
        .unwrap();
    // A complete request, then idle in keep-alive.
    let mut idle = connect(&server).await;
    idle.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let (nothing, _) = read_to_close(&mut silent).await;
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "closed too early: {waited:?}"
    );
    assert!(
        !nothing.contains("200 OK"),
        "a silent connection gets no answer: {nothing:?}"
    );
    read_to_close(&mut partial).await;

    let (answer, _) = read_to_close(&mut half_body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    let body = json_body(&answer);
    assert_eq!(body["error"], "request_timeout", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("REQUEST_TIMEOUT_SECS")
    );

    let (answer, _) = read_to_close(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");

    // The server still serves.
    let response = http()
        .get(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_clearly() {
    let target = Target::sqlite();
    let server = target.start_env(&[("MAX_CONNECTIONS", "8"), ("HEADER_TIMEOUT_SECS", "60")]);
    // Eight connections that hold their place (the header timeout is long).
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect(&server).await);
    }
    // The server accepts in order; give it a moment to count all eight.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut refused = connect(&server).await;
    let _ = refused
        .write_all(b"GET /health/database HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let (answer, _) = read_to_close(&mut refused).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    let body = json_body(&answer);
    assert_eq!(body["error"], "too_many_connections", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("MAX_CONNECTIONS")
    );

    // Places free up when connections end.
    drop(held);
    let client = http();
    let mut status = 0;
    for _ in 0..100 {
        if let Ok(response) = client.get(server.url("/health/database")).send().await {
            status = response.status().as_u16();
            if status == 200 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_liveness_closes_silent_clients_and_keeps_live_ones() {
    let target = Target::sqlite();
    let server = target.start_env(&[
        ("WS_PING_INTERVAL_SECS", "1"),
        ("WS_PONG_TIMEOUT_SECS", "3"),
    ]);
    let client = http();
    let (_, token) = create_user(&client, &server, "liveness").await;

    // A client that never reads never answers the server's pings.
    let mut deaf = ws_connect(&server, &token).await;
    // A client that reads (tungstenite answers pings while reading).
    let mut live = ws_connect(&server, &token).await;
    let until = Instant::now() + Duration::from_secs(6);
    let mut pings = 0;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, live.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("unexpected on a live connection: {other:?}"),
            Err(_) => break,
        }
    }
    assert!(pings >= 2, "the server pings a silent connection: {pings}");
    let events = run_agent(&mut live, "still-alive", "after six seconds").await;
    assert_eq!(events[4]["message"], expected_answer("after six seconds"));

    // The deaf one was closed: a Ping, then Close 1001, then the end.
    let mut close = None;
    for _ in 0..100 {
        match tokio::time::timeout(CLOSED_WITHIN, deaf.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => close = frame,
            Ok(Some(Ok(_))) => continue,
            Ok(None | Some(Err(_))) => break,
            Err(_) => panic!("the silent WebSocket was not closed"),
        }
    }
    let close = close.expect("a Close frame");
    assert_eq!(close.code, CloseCode::Away);
    assert!(
        close.reason.as_str().contains("WS_PONG_TIMEOUT_SECS"),
        "{close:?}"
    );
}

/// The next Close frame the server sends (skipping other frames).
async fn next_close(socket: &mut Socket) -> CloseFrame {
    for _ in 0..100 {
        match tokio::time::timeout(TIMEOUT, socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return frame,
            Ok(Some(Ok(Message::Close(None)))) => panic!("a Close frame without a code"),
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a Close frame, got {other:?}"),
        }
    }
    panic!("no Close frame");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_frames_and_the_frame_limit() {
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "closer").await;

    // The largest message the README allows, 22,000 emoji, every one a \u escape pair:
    // ~264 KB of JSON, more than the old 256 KiB limit.
    let escaped = "\\ud83d\\ude00".repeat(22_000);
    let frame = format!(r#"{{"type":"run_agent","thread_id":"emoji","message":"{escaped}"}}"#);
    assert!(frame.len() > 256 * 1024);
    let mut socket = ws_connect(&server, &token).await;
    send_text(&mut socket, &frame).await;
    for expected in RUN_EVENTS {
        let event = next_event(&mut socket).await;
        assert_eq!(event["type"], expected, "{event}");
    }

    // The client's Close(1000) is echoed.
    socket
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await
        .unwrap();
    let echo = next_close(&mut socket).await;
    assert_eq!(echo.code, CloseCode::Normal);

    // Over the documented limit (512 KiB): Close 1009, not a reset.
    let mut socket = ws_connect(&server, &token).await;
    let big = format!(
        r#"{{"type":"run_agent","message":"{}"}}"#,
        "x".repeat(600 * 1024)
    );
    send_text(&mut socket, &big).await;
    assert_eq!(next_close(&mut socket).await.code, CloseCode::Size);

    // Invalid UTF-8 in a text frame: 1007.
    let mut socket = ws_connect(&server, &token).await;
    socket
        .send(Message::Frame(Frame::message(
            vec![b'{', 0xff, 0xfe, b'}'],
            OpCode::Data(Data::Text),
            true,
        )))
        .await
        .unwrap();
    assert_eq!(next_close(&mut socket).await.code, CloseCode::Invalid);

    // A protocol violation (a reserved bit set): 1002.
    let mut socket = ws_connect(&server, &token).await;
    let mut frame = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true;
    socket.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(next_close(&mut socket).await.code, CloseCode::Protocol);
}

/// Every error answer is `{"error": code, "message": text}` in JSON.
async fn assert_json_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "{response:?}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_error_shape_everywhere() {
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "shape").await;

    let response = client.get(server.url("/nowhere")).send().await.unwrap();
    assert_json_error(response, 404, "not_found").await;

    let response = client
        .delete(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("allow"));
    assert_json_error(response, 405, "method_not_allowed").await;

    let response = client
        .post(server.url("/users"))
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_json_error(response, 413, "payload_too_large").await;

    let response = client
        .get(server.url("/ws"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert!(status == 400 || status == 426, "{status}");
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{body}"
    );

    let response = client
        .get(server.url(&format!("/ws?token={token}&token={token}")))
        .send()
        .await
        .unwrap();
    assert_json_error(response, 400, "invalid_request").await;

    let response = client
        .get(server.url("/threads/%FF/messages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_json_error(response, 400, "invalid_request").await;

    // A JSON array is not the object POST /users takes.
    let response = client
        .post(server.url("/users"))
        .json(&json!(["alice"]))
        .send()
        .await
        .unwrap();
    let body = assert_json_error(response, 400, "invalid_request").await;
    assert!(
        body["message"].as_str().unwrap().contains("object"),
        "{body}"
    );

    let response = client
        .get(server.url("/threads/x/messages"))
        .send()
        .await
        .unwrap();
    assert_json_error(response, 401, "unauthorized").await;
    let response = client
        .get(server.url("/threads/x/messages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_json_error(response, 404, "not_found").await;
}
