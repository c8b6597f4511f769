//! A scripted LSP client: runs `ssot-lint server` as a child process and speaks the protocol
//! to it over its stdin and stdout (Content-Length framing, JSON-RPC), as an editor does.
//! Shared by `tests/lsp.rs` and the latency benchmark (`benches/lsp.rs`).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Messages read while waiting for something else.
    queued: VecDeque<Value>,
    next_id: i64,
}

/// How long any one wait may take before the test fails (a hung server fails the test
/// instead of hanging it).
pub const PATIENCE: Duration = Duration::from_secs(120);

impl Client {
    /// Start the server in `cwd` with `cache_home` as the user's cache directory
    /// (`XDG_CACHE_HOME`), as outside CI (`CI` and `SSOT_LINT_CACHE_DIR` unset).
    pub fn start(bin: &str, cwd: &Path, cache_home: &Path) -> Client {
        let mut child = Command::new(bin)
            .arg("server")
            .current_dir(cwd)
            .env("XDG_CACHE_HOME", cache_home)
            .env_remove("CI")
            .env_remove("SSOT_LINT_CACHE_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ssot-lint server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let Some(len) = len else { return };
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Client {
            stdin: child.stdin.take(),
            child,
            incoming,
            queued: VecDeque::new(),
            next_id: 1,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request; its id.
    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Send a request and wait for its response: the whole response object.
    pub fn request_full(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        self.wait(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    /// Send a request and wait for its result (panics on an error response).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_full(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r.get("result").cloned().unwrap_or(Value::Null)
    }

    /// The next message matching `pred` (others stay queued, in order).
    pub fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(pred, PATIENCE)
            .unwrap_or_else(|| panic!("no matching message from the server within {PATIENCE:?}"))
    }

    /// The next message matching `pred` within `limit`, if any.
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool, limit: Duration) -> Option<Value> {
        if let Some(i) = self.queued.iter().position(&pred) {
            return self.queued.remove(i);
        }
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(m) if pred(&m) => return Some(m),
                Ok(m) => {
                    // Answer what the server asks (watcher registration) as a client does.
                    if m.get("method").is_some() && m.get("id").is_some() {
                        let id = m["id"].clone();
                        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                    }
                    self.queued.push_back(m);
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The diagnostics published for `uri` at `version` (the server publishes the version
    /// it linted).
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let m = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Drop the messages read so far that nobody waited for.
    pub fn drain(&mut self) -> Vec<Value> {
        while let Ok(m) = self.incoming.try_recv() {
            self.queued.push_back(m);
        }
        self.queued.drain(..).collect()
    }

    /// `shutdown`, `exit`; the server's exit status.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let r = self.request_full("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "shutdown failed: {r}");
        self.notify("exit", Value::Null);
        self.stdin.take();
        self.child.wait().expect("wait for the server")
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `file://` URI for an absolute path.
pub fn uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for c in path.to_string_lossy().chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '/' | '-' | '_' | '.' | '~' => s.push(c),
            c => {
                let mut b = [0; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    s.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    s
}

/// The byte offset of an LSP position (UTF-16 code units) in `text`.
pub fn offset_utf16(text: &str, line: u64, character: u64) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line as usize)
        .map(str::len)
        .sum();
    let mut units = 0u64;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16() as u64;
    }
    text.len()
}

/// Apply LSP text edits (UTF-16 positions, non-overlapping) to `text`.
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            let at = |p: &Value| {
                offset_utf16(
                    text,
                    p["line"].as_u64().expect("line"),
                    p["character"].as_u64().expect("character"),
                )
            };
            (
                at(&r["start"]),
                at(&r["end"]),
                e["newText"].as_str().expect("newText").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

/// `initialize` and `initialized` as a plain client that counts positions in UTF-16 (the
/// protocol's default) and takes versioned workspace edits and watches files.
pub fn initialize(c: &mut Client, root: &Path, options: Value) -> Value {
    let r = c.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri(root),
            "workspaceFolders": [{"uri": uri(root), "name": "w"}],
            "initializationOptions": options,
            "capabilities": {
                "general": {"positionEncodings": ["utf-16"]},
                "workspace": {
                    "workspaceEdit": {"documentChanges": true},
                    "didChangeWatchedFiles": {"dynamicRegistration": true}
                },
                "textDocument": {
                    "codeAction": {
                        "disabledSupport": true,
                        "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}
                    },
                    "hover": {"contentFormat": ["markdown"]},
                    "publishDiagnostics": {"relatedInformation": true, "versionSupport": true}
                }
            }
        }),
    );
    c.notify("initialized", json!({}));
    r
}
