//! `ssot-lint server` driven by a scripted LSP client over stdio, as an editor drives it:
//! initialize, open a file, type a violation into it (unsaved), get the diagnostic, ask for
//! its code action, apply the edit, see the diagnostic go, shut down. Then related
//! locations, hover, configuration changes on disk and in an unsaved buffer, a burst of
//! edits, and that nothing but the cache was written.

#[path = "common/lsp.rs"]
mod client;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use client::{Client, apply_edits, initialize, uri};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ssot-lint");

/// A copy of the incident fixture in a fresh directory (its real path).
fn incident_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp
        .path()
        .canonicalize()
        .expect("canonical")
        .join("incident");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident");
    for (rel, bytes) in tree(&from) {
        // A checkout may hold build output or an old in-tree cache: not the fixture's.
        if rel.starts_with("target/") || rel.starts_with(".ssot-lint-cache/") {
            continue;
        }
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
    (tmp, root)
}

/// Every file below `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("below")
                    .to_string_lossy()
                    .into();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn open(c: &mut Client, path: &Path, version: i64) -> String {
    let text = std::fs::read_to_string(path).expect("read");
    let u = uri(path);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "rust", "version": version, "text": text}}),
    );
    text
}

fn replace_all(c: &mut Client, u: &str, version: i64, text: &str) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_violation_typed_into_an_unsaved_buffer_is_reported_fixed_and_gone() {
    let (tmp, root) = incident_copy();
    let before = tree(&root);
    let mut c = Client::start(BIN, &root, &tmp.path().join("cache"));
    let init = initialize(&mut c, &root, json!({}));
    let caps = &init["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(init["serverInfo"]["name"], "ssot-lint");

    // A clean file: an empty list.
    let path = root.join("src/lib.rs");
    let u = uri(&path);
    let text = open(&mut c, &path, 1);
    assert_eq!(c.diagnostics(&u, 1), Vec::<Value>::new());

    // Type an import through the deprecated shim, after non-ASCII text on the same line
    // (an incremental change, never saved).
    let line = "/* é😀 */ use crate::core::database::get_engine;\n";
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": u, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}},
                "text": line
            }]
        }),
    );
    let typed = {
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines.insert(5, line);
        lines.concat()
    };
    let diags = c.diagnostics(&u, 2);
    assert_eq!(codes(&diags), ["SSOT003"], "{diags:?}");
    let d = &diags[0];
    // The path starts after 14 UTF-16 units ("/* é😀 */ use ": the emoji is two), 17 chars
    // or 20 bytes in.
    let col = "/* é😀 */ use ".encode_utf16().count() as u64;
    assert_eq!(col, 14);
    assert_eq!(d["range"]["start"], json!({"line": 5, "character": col}));
    assert_eq!(d["source"], "ssot-lint");
    assert_eq!(d["severity"], 1);
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("goes through the deprecated module")),
        "{d}"
    );
    // The project has no address (Cargo.toml `repository`): no link anywhere.
    assert!(d.get("codeDescription").is_none(), "{d}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text, "saved");

    // Hover on it: the rule's documentation.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 5, "character": col + 2}}),
    );
    let doc = hover["contents"]["value"].as_str().unwrap_or("");
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(doc.starts_with("# SSOT003 (deprecated-path)"), "{doc}");

    // Its code action: a preferred quick fix with a versioned edit.
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": u},
            "range": d["range"],
            "context": {"diagnostics": [d]}
        }),
    );
    let actions = actions.as_array().expect("actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    let a = &actions[0];
    assert_eq!(a["kind"], "quickfix");
    assert_eq!(a["isPreferred"], true);
    assert!(
        a["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("(SSOT003)")),
        "{a}"
    );
    let change = &a["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"], json!({"uri": u, "version": 2}));
    let fixed = apply_edits(&typed, change["edits"].as_array().expect("edits"));
    assert_eq!(
        fixed.split_inclusive('\n').nth(5),
        Some("/* é😀 */ use crate::database::get_engine;\n")
    );

    // Applied (as the editor does, a new version): the diagnostic is gone.
    replace_all(&mut c, &u, 3, &fixed);
    assert_eq!(c.diagnostics(&u, 3), Vec::<Value>::new());

    let status = c.shutdown();
    assert!(status.success(), "{status:?}");
    // Nothing was written in the tree; the summary cache is in the user's cache directory.
    assert_eq!(tree(&root), before);
    let caches = std::fs::read_dir(tmp.path().join("cache/ssot-lint"))
        .expect("the user's cache directory")
        .flatten()
        .filter(|e| e.path().is_dir())
        .count();
    assert_eq!(caches, 1, "one cache directory, of the incident's root");
}

#[test]
fn related_locations_hover_and_unsafe_fixes_match_the_command_line() {
    let (tmp, root) = incident_copy();
    let json_out = std::process::Command::new(BIN)
        .current_dir(&root)
        .args(["--no-cache", "--format", "json"])
        .output()
        .expect("run");
    let cli: Value = serde_json::from_slice(&json_out.stdout).expect("json");
    let mut c = Client::start(BIN, &root, &tmp.path().join("cache"));
    initialize(&mut c, &root, json!({}));
    let path = root.join("src/db/database_manager.rs");
    let u = uri(&path);
    open(&mut c, &path, 1);
    let diags = c.diagnostics(&u, 1);
    // The same findings as the command line, at the same places (ASCII: columns agree).
    let expected: Vec<(String, u64, u64)> = cli["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["path"] == "src/db/database_manager.rs")
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["line"].as_u64().expect("line") - 1,
                f["column"].as_u64().expect("column") - 1,
            )
        })
        .collect();
    let mut got: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["range"]["start"]["line"].as_u64().expect("line"),
                d["range"]["start"]["character"]
                    .as_u64()
                    .expect("character"),
            )
        })
        .collect();
    got.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(got, expected_sorted);

    // SSOT006: the other modules as related information, where the command line puts them.
    let ssot006 = diags
        .iter()
        .find(|d| d["code"] == "SSOT006")
        .expect("SSOT006");
    let cli006 = cli["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "SSOT006")
        .expect("SSOT006 on the command line");
    let related: Vec<(String, u64, u64, String)> = ssot006["relatedInformation"]
        .as_array()
        .expect("relatedInformation")
        .iter()
        .map(|r| {
            (
                r["location"]["uri"].as_str().expect("uri").to_string(),
                r["location"]["range"]["start"]["line"]
                    .as_u64()
                    .expect("line"),
                r["location"]["range"]["start"]["character"]
                    .as_u64()
                    .expect("character"),
                r["message"].as_str().expect("message").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, u64, u64, String)> = cli006["related"]
        .as_array()
        .expect("related")
        .iter()
        .map(|r| {
            (
                uri(&root.join(r["path"].as_str().expect("path"))),
                r["line"].as_u64().expect("line") - 1,
                r["column"].as_u64().expect("column") - 1,
                r["message"].as_str().expect("message").to_string(),
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(related, want);

    // SSOT001's fix is unsafe: offered, labelled, not preferred.
    let ssot001 = diags
        .iter()
        .find(|d| d["code"] == "SSOT001")
        .expect("SSOT001");
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": ssot001["range"], "context": {"diagnostics": []}}),
    );
    let unsafe_action = actions
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.contains("SSOT001")))
        .expect("SSOT001's action");
    assert_eq!(unsafe_action["isPreferred"], false);
    assert!(
        unsafe_action["title"]
            .as_str()
            .is_some_and(|t| t.contains("unsafe fix")),
        "{unsafe_action}"
    );
    // Asking only for other kinds of action: none.
    let none = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": ssot001["range"],
               "context": {"diagnostics": [], "only": ["refactor"]}}),
    );
    assert_eq!(none, json!([]));
    assert!(c.shutdown().success());
}

#[test]
fn config_changes_are_picked_up_without_a_restart() {
    let (tmp, root) = incident_copy();
    let mut c = Client::start(BIN, &root, &tmp.path().join("cache"));
    initialize(&mut c, &root, json!({}));
    let agent = root.join("src/agent.rs");
    let u = uri(&agent);
    open(&mut c, &agent, 1);
    assert_eq!(codes(&c.diagnostics(&u, 1)), ["SSOT003", "SSOT003"]);

    // The config edited in the editor, unsaved, with an error: the error at its place in
    // the config, nothing else.
    let config = root.join("ssot-lint.toml");
    let cu = uri(&config);
    let original = open(&mut c, &config, 1);
    replace_all(
        &mut c,
        &cu,
        2,
        &original.replace("[deprecated]", "[deprecatd]"),
    );
    let errors = c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == cu
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
    });
    let e = &errors["params"]["diagnostics"][0];
    assert_eq!(e["source"], "ssot-lint");
    assert_eq!(e["range"]["start"]["line"], 2, "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("deprecatd")),
        "{e}"
    );

    // Without the `[deprecated]` table (still unsaved): no SSOT003, and the error is gone.
    let without: String = original
        .split("[deprecated]")
        .next()
        .expect("before")
        .to_string()
        + "[accessor]"
        + original.split("[accessor]").nth(1).expect("after");
    replace_all(&mut c, &cu, 3, &without);
    c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == cu
            && m["params"]["diagnostics"] == json!([])
    });
    let m = c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == u
            && m["params"]["diagnostics"] == json!([])
    });
    assert_eq!(m["params"]["version"], 1);

    // Closed without saving: the config on disk counts again.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": cu}}),
    );
    let m = c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == u
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.len() == 2)
    });
    assert_eq!(
        codes(m["params"]["diagnostics"].as_array().expect("d")),
        ["SSOT003", "SSOT003"]
    );

    // The config changed on disk, and the client's file watcher says so.
    std::fs::write(&config, &without).expect("write config");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": cu, "type": 2}]}),
    );
    c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == u
            && m["params"]["diagnostics"] == json!([])
    });

    // A setting: only SSOT003 (none left), then all rules with the config restored.
    std::fs::write(&config, &original).expect("write config");
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"ssot-lint": {"select": ["SSOT001"]}}}),
    );
    c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == u
            && m["params"]["diagnostics"] == json!([])
    });
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"ssot-lint": {}}}),
    );
    let m = c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == u
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.len() == 2)
    });
    assert_eq!(
        codes(m["params"]["diagnostics"].as_array().expect("d")),
        ["SSOT003", "SSOT003"]
    );
    assert!(c.shutdown().success());
}

/// A server on a copy of the incident with `options`, its `src/lib.rs` opened as version 1
/// and linted: the client, the document's URI and text, and its first diagnostics' codes.
fn open_incident_lib(options: Value) -> (tempfile::TempDir, Client, String, String, Vec<String>) {
    let (tmp, root) = incident_copy();
    let mut c = Client::start(BIN, &root, &tmp.path().join("cache"));
    initialize(&mut c, &root, options);
    let path = root.join("src/lib.rs");
    let u = uri(&path);
    let text = open(&mut c, &path, 1);
    let first = codes(&c.diagnostics(&u, 1));
    (tmp, c, u, text, first)
}

#[test]
fn a_burst_of_edits_is_linted_once_at_its_last_version() {
    // A long debounce, so that the whole burst falls within it.
    let (_tmp, mut c, u, text, _) = open_incident_lib(json!({"debounceMs": 2000}));
    for v in 2..=21 {
        let extra = if v % 2 == 0 {
            "use crate::core::database::get_engine;\n"
        } else {
            ""
        };
        replace_all(&mut c, &u, v, &format!("{text}{extra}"));
    }
    // Version 21 has no violation; the versions before it that had one are never published.
    assert_eq!(c.diagnostics(&u, 21), Vec::<Value>::new());
    let published: Vec<Value> = c
        .drain()
        .into_iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == u)
        .collect();
    assert_eq!(published, Vec::<Value>::new());
    assert!(
        c.wait_for(
            |m| m["method"] == "textDocument/publishDiagnostics",
            Duration::from_millis(500)
        )
        .is_none()
    );
    assert!(c.shutdown().success());
}

#[test]
fn an_edit_after_a_pause_is_linted_at_once_and_one_close_behind_it_waits() {
    // A debounce far longer than the test: only an edit linted at once is published.
    let (_tmp, mut c, u, text, before) = open_incident_lib(json!({"debounceMs": 600_000}));
    // The first edit after a pause: linted at once, with its violation.
    let violation = format!("{text}use crate::core::database::get_engine;\n");
    replace_all(&mut c, &u, 2, &violation);
    let d = c.diagnostics(&u, 2);
    assert_eq!(codes(&d).len(), before.len() + 1, "{d:?}");
    assert!(codes(&d).iter().any(|c| c == "SSOT003"), "{d:?}");
    // The next edit follows it closely: it waits for the edits to pause (ten minutes here).
    replace_all(&mut c, &u, 3, &text);
    assert!(
        c.wait_for(
            |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 3,
            Duration::from_millis(1500)
        )
        .is_none()
    );
    // A save lints at once.
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": u}}));
    assert_eq!(codes(&c.diagnostics(&u, 3)), before);
    assert!(c.shutdown().success());
}

/// `text` written at `root/rel`.
fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, text).expect("write");
}

/// Long enough for the files written before it to be older than the server's racy window
/// (it keeps the texts of files changed more than two seconds before it read them).
fn age() {
    std::thread::sleep(Duration::from_millis(2200));
}

/// The command line's findings in `rel` (as the disk has the workspace): code, 0-based line
/// and column, message, related locations.
fn cli_findings(root: &Path, rel: &str) -> Vec<(String, u64, u64, String, usize)> {
    let out = std::process::Command::new(BIN)
        .current_dir(root)
        .args(["--no-cache", "--format", "json"])
        .output()
        .expect("run");
    let cli: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut v: Vec<_> = cli["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["path"] == rel)
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_string(),
                f["line"].as_u64().expect("line") - 1,
                f["column"].as_u64().expect("column") - 1,
                // The server shows the help under the message.
                match f["help"].as_str() {
                    Some(h) => format!("{}\nhelp: {h}", f["message"].as_str().expect("message")),
                    None => f["message"].as_str().expect("message").to_string(),
                },
                f["related"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    v.sort();
    v
}

/// The same, from the server's diagnostics.
fn served(diags: &[Value]) -> Vec<(String, u64, u64, String, usize)> {
    let mut v: Vec<_> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["range"]["start"]["line"].as_u64().expect("line"),
                d["range"]["start"]["character"]
                    .as_u64()
                    .expect("character"),
                d["message"].as_str().expect("message").to_string(),
                d["relatedInformation"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn edits_to_use_and_mod_items_and_to_a_manifest_give_the_command_lines_findings() {
    // What the server keeps from one keystroke to the next (the other files' texts, their
    // summaries) must never outlive a change: each step changes what the findings of the
    // open file depend on, in the buffer or on disk, then types one character.
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().canonicalize().expect("canonical").join("ws");
    let manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\n";
    write(&root, "Cargo.toml", manifest);
    write(&root, "ssot-lint.toml", "[ssot]\nmodules = [\"app::db\"]\n");
    write(&root, "src/lib.rs", "pub mod db;\npub mod jobs;\n");
    write(
        &root,
        "src/db.rs",
        "pub async fn pool() -> sqlx::PgPool {\n    sqlx::PgPool::connect(\"\").await.unwrap()\n}\n",
    );
    let jobs = "pub async fn run() {\n    let _pool = crate::db::pool().await;\n}\n";
    write(&root, "src/jobs.rs", jobs);
    let rel = "src/jobs.rs";
    let path = root.join(rel);
    let u = uri(&path);
    age();

    let mut c = Client::start(BIN, &root, &tmp.path().join("cache"));
    initialize(&mut c, &root, json!({}));
    open(&mut c, &path, 1);
    assert_eq!(served(&c.diagnostics(&u, 1)), cli_findings(&root, rel));
    assert_eq!(cli_findings(&root, rel), []);
    let mut version = 1;
    // A keystroke at the end of the buffer (saved too, for the command line to see it).
    let mut type_into = |c: &mut Client, text: &str| {
        version += 1;
        std::fs::write(&path, text).expect("save");
        replace_all(c, &u, version, text);
        served(&c.diagnostics(&u, version))
    };

    // A `use` item typed into the open file: its own pool, outside the SSOT.
    let own = format!(
        "use sqlx::PgPool as Pool;\n{jobs}pub async fn report() {{\n    let _p = Pool::connect(\"\").await;\n}}\n"
    );
    let got = type_into(&mut c, &own);
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.iter().any(|f| f.0 == "SSOT001"), "{got:?}");

    // The `use` item changed to a name that is not a pool: nothing.
    let renamed = own.replace(
        "use sqlx::PgPool as Pool;",
        "use std::string::String as Pool;",
    );
    let got = type_into(&mut c, &renamed);
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.is_empty(), "{got:?}");

    // On disk, not open (the server kept its text): a `mod` item and its file, which
    // re-exports the pool type the open file now builds through it.
    write(
        &root,
        "src/lib.rs",
        "pub mod db;\npub mod jobs;\npub mod extra;\n",
    );
    write(&root, "src/extra.rs", "pub use sqlx::PgPool as Pool;\n");
    let through = format!(
        "{renamed}pub async fn more() {{\n    let _p = crate::extra::Pool::connect(\"\").await;\n}}\n"
    );
    let got = type_into(&mut c, &through);
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.iter().any(|f| f.0 == "SSOT001"), "{got:?}");

    // Once the server kept those texts too: the re-export's `use` item changed on disk.
    age();
    assert_eq!(type_into(&mut c, &format!("{through} ")), got);
    write(
        &root,
        "src/extra.rs",
        "pub use std::string::String as Pool;\n",
    );
    let got = type_into(&mut c, &through);
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.is_empty(), "{got:?}");

    // Back, kept, then the `mod` item removed on disk.
    write(&root, "src/extra.rs", "pub use sqlx::PgPool as Pool;\n");
    age();
    let got = type_into(&mut c, &format!("{through} "));
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.iter().any(|f| f.0 == "SSOT001"), "{got:?}");
    write(&root, "src/lib.rs", "pub mod db;\npub mod jobs;\n");
    let got = type_into(&mut c, &through);
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.is_empty(), "{got:?}");

    // The manifest on disk: `sqlx` is gone, so `sqlx::` names no pack crate any more.
    write(
        &root,
        "Cargo.toml",
        &manifest.replace("sqlx = \"0.8\"\n", "tokio = \"1.00\"\n"),
    );
    let got = type_into(&mut c, &format!("{own}\n"));
    assert_eq!(got, cli_findings(&root, rel));
    assert!(got.is_empty(), "{got:?}");
    assert!(c.shutdown().success());
}
