//! `GET /ws`: the agent protocol over WebSocket (documented in README.md).
//!
//! Frames on one connection are handled one after another, so the events of a run arrive
//! in order and never interleave with another run's.

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::Limits;
use crate::agent::{self, WordCount};
use crate::auth::{self, User};
use crate::database;
use crate::error::AppError;
use crate::store::{self, Claim};

/// Largest message the server reads (a frame, or the fragments of one message). A
/// `run_agent` with the longest allowed `message` fits even with every character written
/// as a `\uXXXX\uXXXX` escape pair (12 bytes each: 384 KiB). A larger message is
/// answered with Close 1009.
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;
/// Largest single frame read in full (then refused if over [`MAX_MESSAGE_BYTES`], with the
/// connection still in step); a frame announcing more is refused from its header.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Read buffer per connection. tungstenite zero-fills the whole buffer on every read, and
/// the frames of this protocol are small: 8 KiB instead of the default 128 KiB saves a
/// 128 KiB memset per frame (larger frames still arrive, over several reads).
pub const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Largest `message` of a run, in characters.
pub const MAX_MESSAGE_CHARS: usize = 32 * 1024;
/// Thread ids a connection remembers as the user's before it starts over (bounds memory).
const MAX_CACHED_THREADS: usize = 1024;
/// Longest thread id, in bytes.
pub const MAX_THREAD_ID_LEN: usize = 128;
/// How long a closing connection waits for the client's Close.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    token: Option<String>,
}

/// Authenticates (header first, then `?token=`), then upgrades.
pub async fn handler(
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    Extension(limits): Extension<Limits>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let token = auth::bearer(&headers).or(query.token.as_deref());
    let user = auth::authenticate(token).await?;
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| session(socket, user, limits)))
}

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    RunAgent {
        #[serde(default)]
        thread_id: Option<String>,
        message: String,
    },
    Ping,
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<'a> {
    AgentStarted {
        run_id: &'a str,
        thread_id: &'a str,
    },
    AgentThinking {
        run_id: &'a str,
        thread_id: &'a str,
        content: &'a str,
    },
    ToolExecuting {
        run_id: &'a str,
        thread_id: &'a str,
        tool: &'a str,
        input: ToolInput<'a>,
    },
    ToolCompleted {
        run_id: &'a str,
        thread_id: &'a str,
        tool: &'a str,
        output: WordCount,
    },
    AgentCompleted {
        run_id: &'a str,
        thread_id: &'a str,
        message: &'a str,
        message_ids: [i64; 2],
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        run_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        thread_id: Option<&'a str>,
    },
    Pong,
}

#[derive(Debug, Serialize)]
pub struct ToolInput<'a> {
    text: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a JSON object with a string `type`, or a binary frame.
    MalformedFrame,
    /// A `type` the server does not know.
    UnknownType,
    /// A known `type` with missing, extra or invalid fields.
    InvalidRequest,
    /// The thread does not exist for this user (it may exist for another).
    ThreadNotFound,
    /// The database failed; nothing of the run was stored.
    Internal,
}

fn error_event(code: ErrorCode, message: impl Into<String>) -> Event<'static> {
    Event::Error {
        code,
        message: message.into(),
        run_id: None,
        thread_id: None,
    }
}

/// A send failed: the client is gone.
struct Gone;

struct Session {
    socket: WebSocket,
    user: User,
    /// Threads this connection has already seen to be the user's (ownership never changes).
    owned_threads: HashSet<String>,
}

async fn session(socket: WebSocket, user: User, limits: Limits) {
    let mut session = Session {
        socket,
        user,
        owned_threads: HashSet::new(),
    };
    // Liveness: after `ws_ping_interval` without a frame from the client, a Ping; after
    // `ws_pong_timeout` more without one, the connection is closed. One timer for the whole
    // session, re-armed only when it fires: a frame just notes the time it arrived (arming
    // and disarming a timer per frame costs two locks of the runtime's timer wheel).
    let mut pinged = false;
    // When the client last sent a frame, or when the Ping went out.
    let mut since = Instant::now();
    let idle = tokio::time::sleep_until(since + limits.ws_ping_interval);
    tokio::pin!(idle);
    loop {
        let frame = tokio::select! {
            biased;
            frame = session.socket.recv() => frame,
            () = &mut idle => {
                let wait = if pinged {
                    limits.ws_pong_timeout
                } else {
                    limits.ws_ping_interval
                };
                let deadline = since + wait;
                if Instant::now() < deadline {
                    idle.as_mut().reset(deadline);
                    continue;
                }
                if pinged {
                    let reason = "no answer to ping (WS_PONG_TIMEOUT_SECS)";
                    session.close(close_code::AWAY, reason).await;
                    return;
                }
                pinged = true;
                if session
                    .socket
                    .send(Message::Ping(Bytes::from_static(b"alive?")))
                    .await
                    .is_err()
                {
                    return;
                }
                since = Instant::now();
                idle.as_mut().reset(since + limits.ws_pong_timeout);
                continue;
            }
        };
        let Some(frame) = frame else { return };
        pinged = false;
        since = Instant::now();
        let outcome = match frame {
            Ok(Message::Text(text)) => session.on_text(text.as_str()).await,
            Ok(Message::Binary(_)) => {
                session
                    .send(&error_event(
                        ErrorCode::MalformedFrame,
                        "binary frames are not supported; send JSON text frames",
                    ))
                    .await
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => Ok(()),
            // The reply (the client's Close echoed) is queued; reading on sends it, then
            // the stream ends.
            Ok(Message::Close(_)) => Ok(()),
            Err(error) => {
                let (code, reason) = close_for(error);
                session.close(code, &reason).await;
                return;
            }
        };
        if outcome.is_err() {
            return;
        }
    }
}

/// Close codes (RFC 6455, 7.4.1).
mod close_code {
    pub const AWAY: u16 = 1001;
    pub const PROTOCOL: u16 = 1002;
    pub const INVALID_DATA: u16 = 1007;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
}

/// The Close frame that answers a read error.
fn close_for(error: axum::Error) -> (u16, String) {
    use tungstenite::Error;
    let inner = error.into_inner();
    match inner.downcast_ref::<Error>() {
        Some(Error::Capacity(_)) => (
            close_code::TOO_BIG,
            format!("message larger than {MAX_MESSAGE_BYTES} bytes"),
        ),
        Some(Error::Utf8(_)) => (
            close_code::INVALID_DATA,
            "text frame is not valid UTF-8".to_owned(),
        ),
        Some(Error::Protocol(problem)) => (close_code::PROTOCOL, problem.to_string()),
        _ => (close_code::INTERNAL, "read error".to_owned()),
    }
}

fn encode(event: &Event<'_>) -> Message {
    let text = match serde_json::to_string(event) {
        Ok(text) => text,
        Err(error) => format!(
            r#"{{"type":"error","code":"internal","message":"cannot encode event: {error}"}}"#
        ),
    };
    Message::Text(text.into())
}

impl Session {
    /// Sends a Close frame, then reads (bounded) until the client's Close or EOF: closing
    /// the socket with unread input would reset the connection and could lose the Close.
    async fn close(&mut self, code: u16, reason: &str) {
        // Control frames carry at most 125 bytes; a reason is cut at a char boundary.
        let mut end = reason.len().min(120);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let frame = CloseFrame {
            code,
            reason: reason[..end].into(),
        };
        if self.socket.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_DRAIN, async {
            for _ in 0..1024 {
                match self.socket.recv().await {
                    None | Some(Ok(Message::Close(_))) => break,
                    Some(_) => {}
                }
            }
        })
        .await;
    }

    /// Sends an event now.
    async fn send(&mut self, event: &Event<'_>) -> Result<(), Gone> {
        self.socket.send(encode(event)).await.map_err(|_| Gone)
    }

    /// Queues an event; it leaves with the next [`Session::flush`] or [`Session::send`].
    /// Used for events produced back to back, without waiting on anything in between.
    async fn feed(&mut self, event: &Event<'_>) -> Result<(), Gone> {
        self.socket.feed(encode(event)).await.map_err(|_| Gone)
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        self.socket.flush().await.map_err(|_| Gone)
    }

    async fn on_text(&mut self, text: &str) -> Result<(), Gone> {
        // Well-formed frames parse once; only a bad one is examined further for the reason.
        match serde_json::from_str::<ClientFrame>(text) {
            Ok(ClientFrame::Ping) => self.send(&Event::Pong).await,
            Ok(ClientFrame::RunAgent { thread_id, message }) => {
                self.run_agent(thread_id, message).await
            }
            Err(_) => self.on_bad_frame(text).await,
        }
    }

    /// Says precisely what is wrong with a frame that is not a valid request.
    async fn on_bad_frame(&mut self, text: &str) -> Result<(), Gone> {
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                return self
                    .send(&error_event(
                        ErrorCode::MalformedFrame,
                        format!("not JSON: {error}"),
                    ))
                    .await;
            }
        };
        let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) else {
            return self
                .send(&error_event(
                    ErrorCode::MalformedFrame,
                    "expected a JSON object with a string field `type`",
                ))
                .await;
        };
        if !matches!(kind, "run_agent" | "ping") {
            let message = format!("unknown type `{kind}`; expected `run_agent` or `ping`");
            return self
                .send(&error_event(ErrorCode::UnknownType, message))
                .await;
        }
        let reason = match serde_json::from_value::<ClientFrame>(value) {
            Err(error) => error.to_string(),
            Ok(_) => "invalid request".to_owned(),
        };
        self.send(&error_event(ErrorCode::InvalidRequest, reason))
            .await
    }

    async fn run_agent(&mut self, thread_id: Option<String>, message: String) -> Result<(), Gone> {
        if let Some(problem) = validate(thread_id.as_deref(), &message) {
            return self
                .send(&error_event(ErrorCode::InvalidRequest, problem))
                .await;
        }
        let thread_id = match thread_id {
            Some(thread_id) => thread_id,
            None => match auth::random_hex(12) {
                Ok(hex) => format!("t_{hex}"),
                Err(error) => {
                    return self
                        .send(&error_event(
                            ErrorCode::Internal,
                            format!("no randomness: {error}"),
                        ))
                        .await;
                }
            },
        };
        let run_id = match auth::random_hex(8) {
            Ok(hex) => format!("r_{hex}"),
            Err(error) => {
                return self
                    .send(&error_event(
                        ErrorCode::Internal,
                        format!("no randomness: {error}"),
                    ))
                    .await;
            }
        };
        let (run, thread) = (run_id.as_str(), thread_id.as_str());
        let fail = |code: ErrorCode, message: String| Event::Error {
            code,
            message,
            run_id: Some(run),
            thread_id: Some(thread),
        };

        // The thread: the user's own, or a new one for them; anyone else's does not exist.
        if !self.owned_threads.contains(thread) {
            let claim = match database::pool().await {
                Ok(db) => store::claim_thread(db, thread, &self.user.id).await,
                Err(error) => Err(error),
            };
            match claim {
                Ok(Claim::Owned) => {
                    if self.owned_threads.len() >= MAX_CACHED_THREADS {
                        self.owned_threads.clear();
                    }
                    self.owned_threads.insert(thread_id.clone());
                }
                Ok(Claim::Foreign) => {
                    return self
                        .send(&fail(
                            ErrorCode::ThreadNotFound,
                            "thread not found".to_owned(),
                        ))
                        .await;
                }
                Err(error) => {
                    eprintln!("run {run}: {error}");
                    return self
                        .send(&fail(
                            ErrorCode::Internal,
                            format!("database error: {error}"),
                        ))
                        .await;
                }
            }
        }

        // The agent's steps up to the tool's result take microseconds (the tool is a word
        // count), so their events are queued and leave together, in order, before the
        // run waits on the database. A tool that had to wait would flush before waiting.
        self.feed(&Event::AgentStarted {
            run_id: run,
            thread_id: thread,
        })
        .await?;
        self.feed(&Event::AgentThinking {
            run_id: run,
            thread_id: thread,
            content: agent::THINKING,
        })
        .await?;
        self.feed(&Event::ToolExecuting {
            run_id: run,
            thread_id: thread,
            tool: agent::TOOL_NAME,
            input: ToolInput { text: &message },
        })
        .await?;
        let count = agent::word_count(&message);
        self.feed(&Event::ToolCompleted {
            run_id: run,
            thread_id: thread,
            tool: agent::TOOL_NAME,
            output: count,
        })
        .await?;
        self.flush().await?;
        let answer = agent::answer(count);

        let stored = match database::pool().await {
            Ok(db) => {
                let exchange = store::Exchange {
                    thread_id: thread_id.clone(),
                    run_id: run_id.clone(),
                    user_message: message.clone(),
                    assistant_message: answer.clone(),
                };
                store::append_exchange(db, exchange).await
            }
            Err(error) => Err(error),
        };
        match stored {
            Ok((user_message_id, assistant_message_id)) => {
                self.send(&Event::AgentCompleted {
                    run_id: run,
                    thread_id: thread,
                    message: &answer,
                    message_ids: [user_message_id, assistant_message_id],
                })
                .await
            }
            Err(error) => {
                eprintln!("run {run}: {error}");
                self.send(&fail(
                    ErrorCode::Internal,
                    format!("the exchange was not stored: {error}"),
                ))
                .await
            }
        }
    }
}

/// Why a run request is invalid, if it is.
fn validate(thread_id: Option<&str>, message: &str) -> Option<String> {
    if let Some(thread_id) = thread_id
        && !valid_thread_id(thread_id)
    {
        return Some(format!(
            "thread_id must be 1 to {MAX_THREAD_ID_LEN} characters of A-Z a-z 0-9 _ - . :"
        ));
    }
    if message.trim().is_empty() {
        return Some("message must not be empty".to_owned());
    }
    if message.contains('\0') {
        // PostgreSQL cannot store NUL in text; refused on both engines alike.
        return Some("message must not contain NUL (\\u0000)".to_owned());
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Some(format!(
            "message is longer than {MAX_MESSAGE_CHARS} characters"
        ));
    }
    None
}

pub fn valid_thread_id(thread_id: &str) -> bool {
    !thread_id.is_empty()
        && thread_id.len() <= MAX_THREAD_ID_LEN
        && thread_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ids() {
        assert!(valid_thread_id("t_1"));
        assert!(valid_thread_id("a.b:c-d"));
        assert!(!valid_thread_id(""));
        assert!(!valid_thread_id("a b"));
        assert!(!valid_thread_id("a/b"));
        assert!(!valid_thread_id(&"x".repeat(129)));
    }

    #[test]
    fn events_are_tagged() {
        let event = Event::AgentStarted {
            run_id: "r",
            thread_id: "t",
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"type":"agent_started","run_id":"r","thread_id":"t"}"#
        );
        let event = error_event(ErrorCode::MalformedFrame, "x");
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"type":"error","code":"malformed_frame","message":"x"}"#
        );
        assert_eq!(
            serde_json::to_string(&Event::Pong).unwrap(),
            r#"{"type":"pong"}"#
        );
    }

    #[test]
    fn frames_parse() {
        let frame: ClientFrame =
            serde_json::from_str(r#"{"type":"run_agent","thread_id":"t","message":"m"}"#).unwrap();
        assert!(matches!(
            frame,
            ClientFrame::RunAgent {
                thread_id: Some(_),
                ..
            }
        ));
        let frame: ClientFrame =
            serde_json::from_str(r#"{"type":"run_agent","message":"m"}"#).unwrap();
        assert!(matches!(
            frame,
            ClientFrame::RunAgent {
                thread_id: None,
                ..
            }
        ));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"run_agent"}"#).is_err());
    }
}
