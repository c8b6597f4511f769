//! `ssot-lint server`: a language server over stdio (the `lsp-server` and `lsp-types` crates
//! rust-analyzer is built on). It lints the open documents as the editor has them, unsaved
//! changes included, through an in-memory overlay of the file-system view, and publishes
//! the findings as diagnostics: on open, on save, and on change: at once when the documents had
//! been quiet for a moment (`debounceMs`, 10 by default) before the change, else once they
//! have been quiet that long again (a burst of edits is linted once, at its end). A run still
//! going when a newer edit arrives is abandoned. Related locations (the other modules of an SSOT006) are
//! `relatedInformation`; every fix is a code action (safe ones preferred, unsafe ones
//! labelled, display-only ones disabled); hovering a finding shows its rule's documentation
//! (and `codeDescription` links to it when the project has an address). A change to the
//! config (`ssot-lint.toml`, `Cargo.toml`), on disk or in an open buffer, is picked up by
//! the next lint; the client is asked to watch those files. Nothing is written but the
//! summary cache, once per workspace, on its first lint.
//!
//! The main loop owns the documents and the protocol; one worker thread lints (the engine
//! fans out on rayon's pool). Every change bumps a generation counter, which the worker's
//! view checks at each read: a run of an older generation stops there, and only results of
//! the documents' current versions are published. Code actions and hovers asked for while a
//! lint of the current versions is due wait for it.

mod convert;
mod documents;
mod lint;
mod texts;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    ClientCapabilities, CodeActionKind, CodeActionOptions, CodeActionParams,
    CodeActionProviderCapability, DidChangeConfigurationParams, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, FileSystemWatcher, GlobPattern,
    HoverParams, HoverProviderCapability, InitializeParams, MessageType, PositionEncodingKind,
    PublishDiagnosticsParams, Registration, RegistrationParams, SaveOptions, ServerCapabilities,
    ServerInfo, ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
};
use rayon::ThreadPool;

use crate::cache::CacheSetting;
use convert::{ActionSupport, Shown};
use documents::{Document, Documents, Encoding};
use lint::{Job, Linted, Linter, Settings};

/// Run the server on stdin and stdout until the client says `exit`, linting on `threads`
/// worker threads (0: one per core) with the summary cache in `cache`; the process's exit
/// status (0 after `shutdown`, 1 otherwise, 2 when the threads cannot be started).
pub fn main(threads: usize, cache: CacheSetting) -> i32 {
    crate::alloc::keep_freed_memory();
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(crate::engine::PARSE_STACK)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ssot-lint server: cannot start the worker threads: {e}");
            return 2;
        }
    };
    let (connection, io) = Connection::stdio();
    let status = match serve(connection, pool, cache) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ssot-lint server: {e}");
            1
        }
    };
    if let Err(e) = io.join() {
        eprintln!("ssot-lint server: {e}");
        return 1;
    }
    status
}

/// Serve one client on `connection`: the handshake, then the main loop; lints run in `pool`.
pub fn serve(connection: Connection, pool: ThreadPool, cache: CacheSetting) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("bad initialize params: {e}"))?;
    let encoding = negotiate(&params.capabilities);
    let capabilities = ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            resolve_provider: Some(false),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..Default::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo {
            name: "ssot-lint".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    Server::new(connection, &params, encoding, pool, cache).run()
}

/// UTF-8 when the client offers it (no conversion), else UTF-16, the protocol's default.
fn negotiate(caps: &ClientCapabilities) -> Encoding {
    let offered = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    if offered.is_some_and(|v| v.contains(&PositionEncodingKind::UTF8)) {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    }
}

/// The client's workspace folders, as real paths.
fn folders(params: &InitializeParams) -> Vec<PathBuf> {
    #[allow(deprecated)] // `rootUri`: what a client without workspace folders sends.
    let uris: Vec<Url> = match (&params.workspace_folders, &params.root_uri) {
        (Some(f), _) if !f.is_empty() => f.iter().map(|f| f.uri.clone()).collect(),
        (_, Some(root)) => vec![root.clone()],
        _ => Vec::new(),
    };
    uris.iter()
        .filter_map(|u| u.to_file_path().ok())
        .filter_map(|p| p.canonicalize().ok())
        .collect()
}

/// A document's real path (the engine's paths are real paths): through its directory when
/// the file itself is not on disk yet.
fn real_path(uri: &Url) -> Option<PathBuf> {
    let p = uri.to_file_path().ok()?;
    if let Ok(r) = p.canonicalize() {
        return Some(r);
    }
    Some(p.parent()?.canonicalize().ok()?.join(p.file_name()?))
}

/// The settings in `initializationOptions` or a configuration change: the `ssot-lint`
/// section when there is one, else the whole object.
fn settings_from(value: Option<&serde_json::Value>) -> Settings {
    let Some(v) = value else {
        return Settings::default();
    };
    let v = v.get("ssot-lint").unwrap_or(v);
    serde_json::from_value(v.clone()).unwrap_or_default()
}

struct Server {
    conn: Connection,
    docs: Documents,
    encoding: Encoding,
    settings: Settings,
    folders: Vec<PathBuf>,
    support: ActionSupport,
    watch: bool,
    /// The documents' generation: bumped by every change that can change a finding.
    generation: Arc<AtomicU64>,
    jobs: Sender<Job>,
    replies: Receiver<(u64, Option<Linted>)>,
    /// A lint is running.
    busy: bool,
    /// When the next lint starts (the debounce).
    due: Option<Instant>,
    /// When the last edit (`didChange`) arrived.
    last_edit: Option<Instant>,
    /// The findings last published, by document: the version they are of, and them.
    shown: BTreeMap<Url, (i32, Vec<Shown>)>,
    /// Files with an error diagnostic (a bad config) last published.
    placed: BTreeSet<Url>,
    last_errors: Vec<String>,
    /// Code actions and hovers waiting for a lint of the current versions.
    waiting: Vec<Request>,
}

impl Server {
    fn new(
        conn: Connection,
        params: &InitializeParams,
        encoding: Encoding,
        pool: ThreadPool,
        cache: CacheSetting,
    ) -> Self {
        let generation = Arc::new(AtomicU64::new(0));
        let (jobs, job_rx) = crossbeam_channel::unbounded::<Job>();
        let (reply_tx, replies) = crossbeam_channel::unbounded();
        let current = generation.clone();
        std::thread::Builder::new()
            .name("ssot-lint-worker".into())
            .stack_size(crate::engine::PARSE_STACK)
            .spawn(move || {
                let mut linter = Linter::new(cache);
                for job in job_rx {
                    let out = pool.install(|| linter.run(&job, &current));
                    if reply_tx.send((job.generation, out)).is_err() {
                        break;
                    }
                }
            })
            .ok();
        let text_caps = params.capabilities.text_document.as_ref();
        let action_caps = text_caps.and_then(|t| t.code_action.as_ref());
        let support = ActionSupport {
            document_changes: params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.document_changes)
                .unwrap_or(false),
            disabled: action_caps
                .and_then(|c| c.disabled_support)
                .unwrap_or(false),
        };
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        Server {
            conn,
            docs: Documents::default(),
            encoding,
            settings: settings_from(params.initialization_options.as_ref()),
            folders: folders(params),
            support,
            watch,
            generation,
            jobs,
            replies,
            busy: false,
            due: None,
            last_edit: None,
            shown: BTreeMap::new(),
            placed: BTreeSet::new(),
            last_errors: Vec::new(),
            waiting: Vec::new(),
        }
    }

    fn run(&mut self) -> Result<(), String> {
        loop {
            let tick = match self.due {
                Some(at) if !self.busy => crossbeam_channel::at(at),
                _ => crossbeam_channel::never(),
            };
            crossbeam_channel::select! {
                recv(self.conn.receiver) -> msg => {
                    let Ok(msg) = msg else { return Ok(()) };
                    if self.handle(msg)? {
                        // Stop a running lint; the worker ends with the channel.
                        self.generation.fetch_add(1, Ordering::Relaxed);
                        return Ok(());
                    }
                }
                recv(self.replies) -> reply => {
                    self.busy = false;
                    if let Ok((generation, Some(linted))) = reply
                        && generation == self.generation.load(Ordering::Relaxed)
                    {
                        self.publish(linted);
                    }
                }
                recv(tick) -> _ => {}
            }
            if !self.busy && self.due.is_some_and(|at| at <= Instant::now()) {
                self.start_lint();
            }
        }
    }

    /// Something changed that can change a finding: lint after `delay`. A debounced change
    /// postpones a lint already due; one to lint at once (a save, an open) brings it forward.
    fn changed(&mut self, delay: std::time::Duration) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        let at = Instant::now() + delay;
        self.due = Some(match self.due {
            Some(d) if d < at => at,
            Some(d) if !delay.is_zero() => d,
            _ => at,
        });
    }

    fn start_lint(&mut self) {
        self.due = None;
        let job = Job {
            generation: self.generation.load(Ordering::Relaxed),
            docs: self
                .docs
                .open
                .iter()
                .map(|(u, d)| (u.clone(), d.clone()))
                .collect(),
            settings: self.settings.clone(),
            folders: self.folders.clone(),
            encoding: self.encoding,
        };
        self.busy = self.jobs.send(job).is_ok();
    }

    /// Handle one message; `true` once the client has said `exit` after `shutdown`.
    fn handle(&mut self, msg: Message) -> Result<bool, String> {
        match msg {
            Message::Request(r) => {
                if self.conn.handle_shutdown(&r).map_err(|e| e.to_string())? {
                    return Ok(true);
                }
                self.request(r);
            }
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => {}
        }
        Ok(false)
    }

    fn request(&mut self, r: Request) {
        match r.method.as_str() {
            req::CodeActionRequest::METHOD | req::HoverRequest::METHOD => {
                if self.current(&r) {
                    self.answer(r);
                } else {
                    self.waiting.push(r);
                }
            }
            _ => self.respond(Response::new_err(
                r.id,
                ErrorCode::MethodNotFound as i32,
                format!("ssot-lint does not handle {}", r.method),
            )),
        }
    }

    /// Whether a request can be answered now: its document has findings of its current
    /// version, or it will get none (not open, not linted).
    fn current(&self, r: &Request) -> bool {
        let Some(uri) = r
            .params
            .get("textDocument")
            .and_then(|t| t.get("uri"))
            .and_then(|u| u.as_str())
            .and_then(|u| Url::parse(u).ok())
        else {
            return true;
        };
        let Some(doc) = self.docs.get(&uri) else {
            return true;
        };
        let fresh = self.shown.get(&uri).is_some_and(|(v, _)| *v == doc.version);
        fresh || !(self.busy || self.due.is_some())
    }

    fn answer(&mut self, r: Request) {
        let id = r.id.clone();
        let response = match r.method.as_str() {
            req::CodeActionRequest::METHOD => {
                match serde_json::from_value::<CodeActionParams>(r.params) {
                    Ok(p) => {
                        let uri = p.text_document.uri;
                        let wanted = p.context.only.as_ref().is_none_or(|only| {
                            only.iter()
                                .any(|k| CodeActionKind::QUICKFIX.as_str().starts_with(k.as_str()))
                        });
                        let actions = match (self.docs.get(&uri), self.shown.get(&uri)) {
                            (Some(doc), Some((v, shown))) if wanted && *v == doc.version => {
                                convert::code_actions(&uri, *v, shown, &p.range, self.support)
                            }
                            _ => Vec::new(),
                        };
                        Response::new_ok(id, actions)
                    }
                    Err(e) => invalid(id, e),
                }
            }
            req::HoverRequest::METHOD => match serde_json::from_value::<HoverParams>(r.params) {
                Ok(p) => {
                    let uri = p.text_document_position_params.text_document.uri;
                    let pos = p.text_document_position_params.position;
                    let hover = match (self.docs.get(&uri), self.shown.get(&uri)) {
                        (Some(doc), Some((v, shown))) if *v == doc.version => {
                            convert::hover(shown, pos)
                        }
                        _ => None,
                    };
                    Response::new_ok(id, hover)
                }
                Err(e) => invalid(id, e),
            },
            _ => return,
        };
        self.respond(response);
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notif::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params)
                    && let Some(path) = real_path(&p.text_document.uri)
                {
                    let d = p.text_document;
                    self.docs
                        .open
                        .insert(d.uri, Document::new(path, d.version, d.text));
                    self.changed(std::time::Duration::ZERO);
                }
            }
            notif::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params)
                    && let Some(doc) = self.docs.open.get_mut(&p.text_document.uri)
                {
                    doc.apply(p.text_document.version, p.content_changes, self.encoding);
                    // The first edit after a quiet moment is linted at once (a newer one
                    // abandons that run); one that follows another closely waits until the
                    // edits pause.
                    let now = Instant::now();
                    let debounce = self.settings.debounce();
                    let burst = self
                        .last_edit
                        .is_some_and(|t| now.duration_since(t) < debounce);
                    self.last_edit = Some(now);
                    self.changed(if burst {
                        debounce
                    } else {
                        std::time::Duration::ZERO
                    });
                }
            }
            notif::DidSaveTextDocument::METHOD => self.changed(std::time::Duration::ZERO),
            notif::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    self.docs.open.remove(&uri);
                    self.shown.remove(&uri);
                    self.publish_diagnostics(uri, None, Vec::new());
                    // Its unsaved text is gone: the other documents see the disk's again.
                    self.changed(std::time::Duration::ZERO);
                }
            }
            notif::DidChangeConfiguration::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeConfigurationParams>(n.params) {
                    let s = settings_from(Some(&p.settings));
                    if s != self.settings {
                        self.settings = s;
                        self.changed(std::time::Duration::ZERO);
                    }
                }
            }
            notif::DidChangeWatchedFiles::METHOD => self.changed(std::time::Duration::ZERO),
            notif::Initialized::METHOD => self.register_watchers(),
            notif::Cancel::METHOD => {
                let id = n.params.get("id").cloned();
                if let Some(i) = self
                    .waiting
                    .iter()
                    .position(|r| Some(serde_json::json!(r.id)) == id)
                {
                    let r = self.waiting.remove(i);
                    self.respond(Response::new_err(
                        r.id,
                        ErrorCode::RequestCanceled as i32,
                        "canceled".into(),
                    ));
                }
            }
            _ => {}
        }
    }

    /// Ask the client to tell us when Rust files, manifests or configs change on disk.
    fn register_watchers(&mut self) {
        if !self.watch {
            return;
        }
        let watchers = ["**/*.rs", "**/Cargo.toml", "**/ssot-lint.toml"]
            .into_iter()
            .map(|g| FileSystemWatcher {
                glob_pattern: GlobPattern::String(g.to_string()),
                kind: None,
            })
            .collect::<Vec<_>>();
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "ssot-lint-watched-files".into(),
                method: notif::DidChangeWatchedFiles::METHOD.into(),
                register_options: serde_json::to_value(
                    lsp_types::DidChangeWatchedFilesRegistrationOptions { watchers },
                )
                .ok(),
            }],
        };
        let r = Request::new(
            RequestId::from("ssot-lint/watch".to_string()),
            req::RegisterCapability::METHOD.to_string(),
            params,
        );
        let _ = self.conn.sender.send(r.into());
    }

    /// Publish a lint of the current generation: each document's findings (when it is still
    /// at the version linted), errors at their place, other errors as messages; then answer
    /// what waited for it.
    fn publish(&mut self, linted: Linted) {
        for (uri, version, shown) in linted.docs {
            if self.docs.get(&uri).is_none_or(|d| d.version != version) {
                continue;
            }
            let diagnostics = shown.iter().map(|s| s.diagnostic.clone()).collect();
            self.publish_diagnostics(uri.clone(), Some(version), diagnostics);
            self.shown.insert(uri, (version, shown));
        }
        let placed: BTreeSet<Url> = linted.placed_errors.keys().cloned().collect();
        for gone in self.placed.difference(&placed).cloned().collect::<Vec<_>>() {
            self.publish_diagnostics(gone, None, Vec::new());
        }
        for (uri, diagnostics) in linted.placed_errors {
            self.publish_diagnostics(uri, None, diagnostics);
        }
        self.placed = placed;
        if linted.errors != self.last_errors {
            for e in &linted.errors {
                self.notify::<notif::ShowMessage>(ShowMessageParams {
                    typ: MessageType::ERROR,
                    message: e.clone(),
                });
            }
            self.last_errors = linted.errors;
        }
        for r in std::mem::take(&mut self.waiting) {
            if self.current(&r) {
                self.answer(r);
            } else {
                self.waiting.push(r);
            }
        }
    }

    fn publish_diagnostics(
        &self,
        uri: Url,
        version: Option<i32>,
        diagnostics: Vec<lsp_types::Diagnostic>,
    ) {
        self.notify::<notif::PublishDiagnostics>(PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        });
    }

    fn notify<N: notif::Notification>(&self, params: N::Params) {
        let _ = self
            .conn
            .sender
            .send(Notification::new(N::METHOD.to_string(), params).into());
    }

    fn respond(&self, r: Response) {
        let _ = self.conn.sender.send(r.into());
    }
}

fn invalid(id: RequestId, e: serde_json::Error) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string())
}
