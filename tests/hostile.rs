//! Trees a stranger can commit (issue 10, and issue 23's round two: `issue23_*`): the tool
//! never reads, prints or writes outside the workspace, never hangs or crashes on what it
//! reads, and says so when it is misused. Every run here has a deadline; a run that hangs
//! fails its test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

mod common;
use common::write;
#[path = "hostile/forge.rs"]
mod forge;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).expect("read")
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

/// Run the binary in `dir` with a deadline (output goes to files, so a full pipe cannot
/// stall it); a run past the deadline is killed and fails the test.
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)], secs: u64) -> Run {
    let out = tempfile::tempdir().expect("tempdir");
    let so = out.path().join("stdout");
    let se = out.path().join("stderr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssot-lint"));
    cmd.current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&so).expect("stdout file"))
        .stderr(std::fs::File::create(&se).expect("stderr file"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ssot-lint");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ssot-lint {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&std::fs::read(&so).expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&se).expect("stderr")).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    run_env(dir, args, &[], 60)
}

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n";

const DB: &str = "pub async fn pool(url: &str) -> sqlx::Result<sqlx::PgPool> {\n    sqlx::PgPool::connect(url).await\n}\n";

const HANDLER: &str = "pub async fn handle(url: &str) -> sqlx::Result<()> {\n    let pool = sqlx::PgPool::connect(url).await?;\n    drop(pool);\n    Ok(())\n}\n";

/// A crate with one SSOT001 in `src/handlers.rs:2:16`; `lib_extra` is appended to lib.rs.
fn app(dir: &Path, lib_extra: &str) {
    write(dir, "Cargo.toml", MANIFEST);
    write(dir, "ssot-lint.toml", "[ssot]\nmodules = [\"app::db\"]\n");
    write(
        dir,
        "src/lib.rs",
        &format!("pub mod db;\npub mod handlers;\n{lib_extra}"),
    );
    write(dir, "src/db.rs", DB);
    write(dir, "src/handlers.rs", HANDLER);
}

const SSOT001: &str = "src/handlers.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`";

fn assert_lines(out: &str, want: &[&str]) {
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got, want, "full output:\n{out}");
}

// ---- 1. nothing outside the workspace is read or printed ----------------------------

#[cfg(target_os = "linux")]
#[test]
fn item1_path_attr_to_proc_environ_is_never_read() {
    let d = tempfile::tempdir().expect("tempdir");
    app(
        d.path(),
        "#[path = \"/proc/self/environ\"]\nmod x;\n#[path = \"../../../../../../../../etc/passwd\"]\nmod y;\n",
    );
    let secret = "SSOT_HOSTILE_SECRET_7f3a";
    for format in ["human", "short", "json"] {
        let o = run_env(d.path(), &["--format", format], &[("CI_TOKEN", secret)], 60);
        assert_eq!(o.code, Some(1), "{}", o.stderr);
        let all = format!("{}{}", o.stdout, o.stderr);
        assert!(!all.contains(secret), "the environment leaked:\n{all}");
        assert!(!all.contains("root:"), "/etc/passwd leaked:\n{all}");
        assert!(!all.contains("//etc/passwd"), "{all}");
    }
    let o = run(d.path(), &["--format", "short"]);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/lib.rs:4:5: SSOT000 module `x`: /proc/self/environ: it resolves outside the workspace; not read",
            "src/lib.rs:6:5: SSOT000 module `y`: /etc/passwd: it resolves outside the workspace; not read",
        ],
    );
}

/// `#[cfg_attr(.., path = "..")]` goes through the same gate as `#[path]`.
#[cfg(target_os = "linux")]
#[test]
fn item1_cfg_attr_path_outside_is_never_read() {
    let d = tempfile::tempdir().expect("tempdir");
    app(
        d.path(),
        "#[cfg_attr(unix, path = \"/proc/self/environ\")]\nmod x;\n#[cfg_attr(all(), path = \"../../../../../../../../etc/passwd\")]\nmod y;\n",
    );
    let secret = "SSOT_CFG_ATTR_SECRET_19e4";
    for format in ["human", "short", "json"] {
        let o = run_env(d.path(), &["--format", format], &[("CI_TOKEN", secret)], 60);
        assert_eq!(o.code, Some(1), "{}", o.stderr);
        let all = format!("{}{}", o.stdout, o.stderr);
        assert!(!all.contains(secret), "the environment leaked:\n{all}");
        assert!(!all.contains("root:"), "/etc/passwd leaked:\n{all}");
    }
    let o = run(d.path(), &["--format", "short"]);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/lib.rs:4:5: SSOT000 module `x`: /proc/self/environ: it resolves outside the workspace; not read",
            "src/lib.rs:6:5: SSOT000 module `y`: /etc/passwd: it resolves outside the workspace; not read",
        ],
    );
}

#[cfg(unix)]
#[test]
fn item1_lib_path_and_symlinks_outside_are_not_read() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    let secret = "OUTSIDE_SECRET_91c2";
    write(
        d.path(),
        "outside/secret.rs",
        &format!(
            "pub fn f(url: &str) {{ let _ = \"{secret}\"; let _ = sqlx::PgPool::connect_lazy(url); }}\n"
        ),
    );
    app(&ws, "pub mod linked;\n");
    symlink("../../outside/secret.rs", &ws.join("src/linked.rs"));
    let o = run(&ws, &["--format", "human"]);
    let all = format!("{}{}", o.stdout, o.stderr);
    assert!(!all.contains(secret), "{all}");
    let o = run(&ws, &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/lib.rs:3:9: SSOT000 module `linked`: src/linked.rs: it resolves outside the workspace; not read",
        ],
    );

    // `[lib] path` outside: a finding at the manifest line (the target would be built, so it
    // is never dropped silently); nothing of the file is read.
    let p = d.path().join("p");
    write(
        &p,
        "Cargo.toml",
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\n[lib]\npath = \"/etc/passwd\"\n",
    );
    write(&p, "src/main.rs", "fn main() {}\n");
    let o = run(&p, &["--format", "human"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(!o.stdout.contains("root:") && !o.stderr.contains("root:"));
    let o = run(&p, &["--format", "short"]);
    assert_lines(
        &o.stdout,
        &[
            "Cargo.toml:6:8: SSOT000 target path `/etc/passwd`: it resolves outside the workspace; not read; target not linted",
        ],
    );
}

#[cfg(target_os = "linux")]
#[test]
fn item1_config_symlink_to_proc_environ_is_not_printed() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    std::fs::remove_file(d.path().join("ssot-lint.toml")).expect("rm");
    symlink("/proc/self/environ", &d.path().join("ssot-lint.toml"));
    let secret = "CONFIG_SECRET_55d1";
    let o = run_env(
        d.path(),
        &["--format", "human"],
        &[("CI_TOKEN", secret)],
        60,
    );
    assert_eq!(o.code, Some(2));
    assert!(!o.stderr.contains(secret) && !o.stdout.contains(secret));
    assert!(
        o.stderr
            .contains("ssot-lint.toml: it resolves outside the workspace; not read"),
        "{}",
        o.stderr
    );
}

// ---- 2. no unbounded reads, no hangs ---------------------------------------------------

#[cfg(unix)]
#[test]
fn item2_fifo_and_device_files_do_not_hang() {
    let d = tempfile::tempdir().expect("tempdir");
    app(
        d.path(),
        "mod fifo;\n#[path = \"/proc/self/pagemap\"]\nmod pagemap;\n#[path = \"/dev/zero\"]\nmod zero;\n",
    );
    let made = Command::new("mkfifo")
        .arg(d.path().join("src/fifo.rs"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let o = run_env(d.path(), &["--format", "short"], &[], 30);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/lib.rs:3:5: SSOT000 module `fifo`: src/fifo.rs: not a regular file; not read",
            "src/lib.rs:5:5: SSOT000 module `pagemap`: /proc/self/pagemap: it resolves outside the workspace; not read",
            "src/lib.rs:7:5: SSOT000 module `zero`: /dev/zero: it resolves outside the workspace; not read",
        ],
    );
}

#[cfg(unix)]
#[test]
fn item2_member_manifest_symlink_to_dev_zero_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\n",
    );
    app(&d.path().join("a"), "");
    symlink("/dev/zero", &d.path().join("b/Cargo.toml"));
    let o = run_env(d.path(), &["--format", "short"], &[], 30);
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("b/Cargo.toml") && o.stderr.contains("resolves outside the workspace"),
        "{}",
        o.stderr
    );
}

#[test]
fn item2_files_over_max_file_size_are_skipped_with_a_notice() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "mod big;\n");
    write(d.path(), "src/big.rs", &"// padding\n".repeat(200));
    let o = run(d.path(), &["--format", "short", "--max-file-size", "1000"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/lib.rs:3:5: SSOT000 module `big`: src/big.rs: larger than --max-file-size (2200 > 1000 bytes); skipped",
        ],
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_lines(&o.stdout, &[SSOT001]);
}

// ---- 3. --fix writes only inside the repository; git failure is "cannot tell" ----------

const UNUSED: &str = "pub fn g() {}\n// ssot-lint: allow(SSOT001) nothing here\npub fn h() {}\n";

#[cfg(unix)]
#[test]
fn item3_fix_never_writes_outside_the_workspace() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    write(d.path(), "outside/a.rs", UNUSED);
    write(d.path(), "outside/b.rs", UNUSED);
    app(&ws, "#[path = \"../../outside/a.rs\"]\nmod a;\nmod b;\n");
    symlink("../../outside/b.rs", &ws.join("src/b.rs"));
    let o = run(&ws, &["--fix", "--allow-dirty", "--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_eq!(read(d.path(), "outside/a.rs"), UNUSED);
    assert_eq!(read(d.path(), "outside/b.rs"), UNUSED);
}

#[cfg(unix)]
#[test]
fn item3_a_failing_git_means_cannot_tell() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    app(&ws, "mod u;\n");
    write(&ws, "src/u.rs", UNUSED);
    // A `git` that fails: the dirty check cannot tell, so nothing is written.
    let bin = d.path().join("bin");
    write(&bin, "git", "#!/bin/sh\necho 'fatal: broken' >&2\nexit 1\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = run_env(&ws, &["--fix", "--format", "short"], &[("PATH", &path)], 60);
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("cannot tell"), "{}", o.stderr);
    assert_eq!(read(&ws, "src/u.rs"), UNUSED);
    // --allow-dirty fixes anyway.
    let o = run_env(
        &ws,
        &["--fix", "--allow-dirty", "--format", "short"],
        &[("PATH", &path)],
        60,
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_eq!(read(&ws, "src/u.rs"), "pub fn g() {}\npub fn h() {}\n");
}

#[cfg(unix)]
#[test]
fn item3_dirty_file_is_not_rewritten_when_another_path_is_outside_the_repo() {
    let git = |dir: &Path, args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    write(d.path(), "outside/b.rs", UNUSED);
    // An absolute #[path] out of the repository: `git status -- <it>` fails there.
    let outside = d.path().join("outside/b.rs");
    app(
        &ws,
        &format!("mod u;\n#[path = \"{}\"]\nmod b;\n", outside.display()),
    );
    write(&ws, "src/u.rs", "pub fn g() {}\n");
    if !git(&ws, &["init", "-q"]) {
        eprintln!("git is not available; skipped");
        return;
    }
    assert!(git(&ws, &["add", "."]) && git(&ws, &["commit", "-q", "-m", "init"]));
    write(&ws, "src/u.rs", UNUSED);
    let o = run(&ws, &["--fix", "--format", "short"]);
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("uncommitted changes"), "{}", o.stderr);
    assert_eq!(read(&ws, "src/u.rs"), UNUSED);
    assert_eq!(read(d.path(), "outside/b.rs"), UNUSED);
}

// ---- 4. manifests cannot point elsewhere ---------------------------------------------

#[test]
fn item4_member_outside_the_workspace_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    write(
        &ws,
        "Cargo.toml",
        "[workspace]\nmembers = [\"../victim\"]\n",
    );
    app(&d.path().join("victim"), "");
    let o = run(&ws, &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stdout, "");
    assert!(
        o.stderr
            .contains("workspace member `../victim` is outside the workspace root"),
        "{}",
        o.stderr
    );
}

#[test]
fn item4_package_workspace_elsewhere_is_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("p");
    app(&p, "");
    write(
        &p,
        "Cargo.toml",
        &MANIFEST.replace("edition", "workspace = \"../other\"\nedition"),
    );
    app(&d.path().join("other"), "");
    let o = run(&p, &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    assert_eq!(o.stdout, "");
    assert!(
        o.stderr.contains("package.workspace = \"../other\" does not name a workspace that has this package as a member"),
        "{}",
        o.stderr
    );
}

// ---- 5. nesting: one SSOT000, the run goes on ------------------------------------------

#[test]
fn item5_deep_nesting_is_one_syntax_error_and_the_run_goes_on() {
    let d = tempfile::tempdir().expect("tempdir");
    let n = 20_000;
    let files = [
        (
            "blocks",
            format!("pub fn f() {{ {} {} }}\n", "{".repeat(n), "}".repeat(n)),
        ),
        (
            "parens",
            format!(
                "pub fn f() -> i32 {{ {}1{} }}\n",
                "(".repeat(n),
                ")".repeat(n)
            ),
        ),
        (
            "fns",
            format!("{}{}\n", "fn f() { ".repeat(3300), "}".repeat(3300)),
        ),
        (
            "nots",
            format!("pub fn f() -> bool {{ {}true }}\n", "!".repeat(100_000)),
        ),
        (
            "chain",
            format!("pub fn f(x: X) {{ x{}; }}\n", ".a()".repeat(100_000)),
        ),
        (
            "sum",
            format!("pub fn f() -> i32 {{ 1{} }}\n", " + 1".repeat(100_000)),
        ),
        ("path", format!("use {};\n", vec!["a"; 100_000].join("::"))),
        // Under the bracket limit, but a tree deeper than the walkers go.
        (
            "lets",
            format!(
                "pub fn f() {{ {} 1 {} }}\n",
                "{ let _x = &&&&".repeat(990),
                ";}".repeat(990)
            ),
        ),
    ];
    let mut lib = String::new();
    for (name, text) in &files {
        lib.push_str(&format!("pub mod {name};\n"));
        write(d.path(), &format!("src/{name}.rs"), text);
    }
    app(d.path(), &lib);
    let o = run_env(d.path(), &["--format", "short"], &[], 120);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "src/blocks.rs:1:1013: SSOT000 syntax error: nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed",
            "src/chain.rs:1:8019: SSOT000 syntax error: a chain of more than 2000 `.`, `::` or operators; file not analysed",
            "src/fns.rs:1:9005: SSOT000 syntax error: nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed",
            SSOT001,
            "src/lets.rs:1:6436: SSOT000 syntax error: expression nested more than 3000 deep; not analysed past this point",
            "src/nots.rs:1:1021: SSOT000 syntax error: nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed",
            "src/parens.rs:1:1020: SSOT000 syntax error: nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed",
            "src/path.rs:1:6006: SSOT000 syntax error: a chain of more than 2000 `.`, `::` or operators; file not analysed",
            "src/sum.rs:1:8023: SSOT000 syntax error: a chain of more than 2000 `.`, `::` or operators; file not analysed",
        ],
    );
}

/// 10 MB of NUL bytes: a binary file, one finding, not millions of syntax errors kept.
#[test]
fn item8_a_binary_file_is_one_finding() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "mod bin;\n");
    std::fs::write(d.path().join("src/bin.rs"), vec![0u8; 10_000_000]).expect("write");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "src/bin.rs:1:1: SSOT000 syntax error: binary file (NUL bytes); not analysed",
            SSOT001,
        ],
    );
}

/// A `#[path]` chain 100 files deep: followed to the module depth limit (64), one finding
/// there, the rest linted as files of their own (memory no longer grows with the square of
/// the depth).
#[test]
fn item8_a_deep_path_chain_stops_at_the_module_depth_limit() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "#[path = \"c0.rs\"]\npub mod c0;\n");
    let n = 100;
    for i in 0..n {
        let text = if i + 1 < n {
            format!("#[path = \"c{}.rs\"]\npub mod c{};\n", i + 1, i + 1)
        } else {
            "pub fn f(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n".into()
        };
        write(d.path(), &format!("src/c{i}.rs"), &text);
    }
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "src/c63.rs:2:9: SSOT000 module `c64`: nested more than 64 modules deep; not followed",
            "src/c99.rs:1:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`",
            SSOT001,
        ],
    );
}

/// Many targets that include one module file: 300 binaries each `#[path = "../big.rs"] mod
/// big;`, big.rs declares 1,000 inline modules. Every target is still checked (one finding in
/// big.rs, reported once), and the file's module tree is built once and shared by the 300
/// crates, so peak memory grows with the input, not with targets × modules (1,000 targets ×
/// 2,000 modules took 330 MB; a report of 3.7 GB started item 8).
///
/// How memory is measured, robust on a loaded machine: the peak resident set of the child
/// as the kernel records it (`ru_maxrss` from `wait4`: exact at exit, no sampling, no
/// timing), for this tree and for the same tree with one binary. The difference is what the
/// 299 more targets cost; the binary's size and the build profile are in both runs and
/// cancel out, and both run on 2 worker threads whatever the machine's core count. When each
/// target held its own copy of the tree the difference was about 57 MB (debug build; each
/// target held 1,000 module nodes and a map of them); it is about 7 MB now. The limit, 20 MB,
/// sits between, about three times from each.
#[cfg(target_os = "linux")]
#[test]
fn item8_many_targets_sharing_one_module_file_cost_about_what_one_target_does() {
    let tree = |bins: usize| {
        let d = tempfile::tempdir().expect("tempdir");
        app(d.path(), "");
        for i in 0..bins {
            write(
                d.path(),
                &format!("src/bin/b{i}.rs"),
                "#[path = \"../big.rs\"]\nmod big;\nfn main() {}\n",
            );
        }
        let mut big: String = (0..1000)
            .map(|m| format!("pub mod m{m} {{ pub fn f() {{}} }}\n"))
            .collect();
        big.push_str("pub fn g(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n");
        write(d.path(), "src/big.rs", &big);
        d
    };
    let want = [
        "src/big.rs:1001:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`",
        SSOT001,
    ];
    let one = tree(1);
    let args = ["--no-cache", "--threads", "2", "--format", "short"];
    let (o, one_kb) = run_peak_rss(one.path(), &args);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(&o.stdout, &want);
    let many = tree(300);
    let (o, many_kb) = run_peak_rss(many.path(), &args);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(&o.stdout, &want);
    let more = many_kb.saturating_sub(one_kb);
    assert!(
        more < 20 * 1024,
        "299 more targets sharing big.rs cost {more} KB of peak memory ({one_kb} KB with one, {many_kb} KB with 300)"
    );
}

/// [`run`], and the child's peak resident set in KB (`ru_maxrss` of `wait4`).
#[cfg(target_os = "linux")]
// The child is reaped by `wait4` (which gives its resource use), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_peak_rss(dir: &Path, args: &[&str]) -> (Run, u64) {
    let out = tempfile::tempdir().expect("tempdir");
    let so = out.path().join("stdout");
    let se = out.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&so).expect("stdout file"))
        .stderr(std::fs::File::create(&se).expect("stderr file"))
        .spawn()
        .expect("spawn ssot-lint");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data (all zeros is a valid value), and `wait4` writes
    // only into the two locals it is given, for a child of this process.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: as above.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert!(
            r == 0 || err.kind() == std::io::ErrorKind::Interrupted,
            "wait4: {err}"
        );
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ssot-lint {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let run = Run {
        code,
        stdout: String::from_utf8_lossy(&std::fs::read(&so).expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&se).expect("stderr")).into_owned(),
    };
    (run, u64::try_from(usage.ru_maxrss).expect("ru_maxrss"))
}

/// A fuzzer input (`lint_file`, a fixture with a run of 120 `<`): every qualified-path level
/// collected all the paths of its type again, so the parse stage took exponential time and
/// the run never finished. Now each level takes only its type's head: the run ends at once
/// (`run` fails the test after 60 s) with the same findings as the rest of the file gives.
#[test]
fn item7_a_run_of_angle_brackets_is_not_exponential() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "pub mod fuzzed;\n");
    let input = include_bytes!("data/fuzz-timeout-qualified-paths.rs.txt");
    std::fs::write(d.path().join("src/fuzzed.rs"), input).expect("write");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let p = "outside the SSOT module `app::db`";
    assert_lines(
        &o.stdout,
        &[
            &format!(
                "src/fuzzed.rs:9:1: SSOT002 static `POOL` holds a sql pool/client (`sqlx::PgPool`) {p}"
            ),
            // Issue 20: a SQLite global next to a Postgres SSOT is no longer exempt.
            &format!(
                "src/fuzzed.rs:13:1: SSOT002 static `CACHE` holds a sql pool/client (`sqlx::SqlitePool`) {p} of resource `sql` (that SSOT builds postgres, this is sqlite)"
            ),
            &format!(
                "src/fuzzed.rs:17:13: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client {p}"
            ),
            "src/fuzzed.rs:19:27: SSOT000 syntax error: expected SEMICOLON (and 234 more)",
            &format!(
                "src/fuzzed.rs:21:13: SSOT001 `sqlx::Pool::connect_with` builds a sql pool/client {p}"
            ),
            &format!(
                "src/fuzzed.rs:25:13: SSOT001 `sqlx::AnyPool::connect` builds a sql pool/client {p}"
            ),
            &format!(
                "src/fuzzed.rs:27:13: SSOT001 `sqlx::postgres::PgPoolOptions::new().connect()` builds a sql pool/client {p}"
            ),
            &format!(
                "src/fuzzed.rs:39:15: SSOT001 `sqlx::postgres::PgConnectOptions::connect` builds a sql pool/client {p}"
            ),
            &format!(
                "src/fuzzed.rs:41:15: SSOT001 `sqlx::PgConnection::connect` builds a sql pool/client {p}"
            ),
            &format!(
                "src/fuzzed.rs:43:17: SSOT001 `sqlx::postgres::PgConnectOptions::new().connect()` builds a sql pool/client {p}"
            ),
            &format!(
                "src/fuzzed.rs:45:16: SSOT001 `sqlx::postgres::PgListener::connect` builds a sql pool/client {p}"
            ),
            SSOT001,
        ],
    );
}

#[test]
fn item5_deep_config_value_is_a_config_error() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    write(
        d.path(),
        "ssot-lint.toml",
        &format!(
            "[ssot]\nmodules = [\"app::db\"]\n\n[accessor]\nsql = \"{}x{}\"\n",
            "(".repeat(5000),
            ")".repeat(5000)
        ),
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("value too complex to parse: nested 5000 deep (at most 32)"),
        "{}",
        o.stderr
    );
}

// ---- 6. long lines are cut; no panic -------------------------------------------------

#[test]
fn item6_a_finding_on_a_long_line_is_cut_around_the_span() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    let pad = "é".repeat(70_000);
    write(
        d.path(),
        "src/handlers.rs",
        &format!(
            "pub async fn handle(url: &str) {{ let _s = \"{pad}\"; let _p = sqlx::PgPool::connect(url).await; }}\n"
        ),
    );
    let o = run(d.path(), &["--format", "short"]);
    let col = 70_056;
    let expect = format!(
        "src/handlers.rs:1:{col}: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`"
    );
    assert_lines(&o.stdout, &[&expect]);
    let o = run(d.path(), &["--format", "human"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(
        o.stdout.contains(&format!("[src/handlers.rs:1:{col}]")),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.lines().all(|l| l.chars().count() < 300),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("…é"), "the cut is marked: {}", o.stdout);
    assert!(o.stdout.contains("sqlx::PgPool::connect(url)"));
}

// ---- 9. mistakes are exit 2 with a message -------------------------------------------

#[test]
fn item9_mistakes_exit_2_with_a_message() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    let other = tempfile::tempdir().expect("tempdir");
    let outside = other.path().display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["no/such/path"], "no/such/path"),
        (vec![outside.as_str()], "is outside"),
        (vec!["-p", "nosuchpkg"], "package `nosuchpkg` not found"),
        (
            vec!["--manifest-path", "src"],
            "--manifest-path must name an existing Cargo.toml file",
        ),
        (
            vec!["--manifest-path", "missing/Cargo.toml"],
            "--manifest-path must name an existing Cargo.toml file",
        ),
        (vec!["--threads", "20000"], "20000"),
        (vec!["--threads", "0"], "--threads"),
    ];
    for (args, msg) in cases {
        let mut a = vec!["--format", "short"];
        a.extend(args.iter().copied());
        let o = run(d.path(), &a);
        assert_eq!(o.code, Some(2), "{args:?}: {}{}", o.stdout, o.stderr);
        assert_eq!(o.stdout, "", "{args:?}");
        assert!(o.stderr.contains(msg), "{args:?}: {}", o.stderr);
    }
    let o = run(d.path(), &["--format", "short", "-p", "app", "src"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
}

#[test]
fn item9_packages_without_a_string_name_or_with_one_name_twice() {
    for (manifest, msg) in [
        (
            "[package]\nversion = \"0.1.0\"\n",
            "package.name is missing",
        ),
        (
            "[package]\nname = 7\n",
            "package.name is not a non-empty string",
        ),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), "Cargo.toml", manifest);
        write(d.path(), "src/lib.rs", "pub fn f() {}\n");
        let o = run(d.path(), &["--format", "short"]);
        assert_eq!(o.code, Some(2), "{}", o.stderr);
        assert!(o.stderr.contains(msg), "{}", o.stderr);
    }
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\n",
    );
    app(&d.path().join("a"), "");
    app(&d.path().join("b"), "");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr.contains("two packages named `app`"),
        "{}",
        o.stderr
    );
}

#[test]
fn item9_a_broken_package_in_a_scanned_folder_is_a_finding() {
    let d = tempfile::tempdir().expect("tempdir");
    app(&d.path().join("good"), "");
    write(d.path(), "broken/Cargo.toml", "[package\nname = \"x\"\n");
    write(d.path(), "broken/src/lib.rs", "pub fn f() {}\n");
    write(
        d.path(),
        "noname/Cargo.toml",
        "[package]\nversion = \"1.0.0\"\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "broken/Cargo.toml:1:9: SSOT000 package not linted: invalid manifest: unclosed table, expected `]`",
            &format!("good/{SSOT001}"),
            "noname/Cargo.toml:1:1: SSOT000 package not linted: invalid manifest: package.name is missing",
        ],
    );
    // Every one of them broken: nothing to lint, an error.
    std::fs::remove_dir_all(d.path().join("good")).expect("rm");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
}

// ---- 10. positions: BOM, characters, CRLF ----------------------------------------------

#[test]
fn item10_bom_crlf_and_columns_in_characters() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    write(
        d.path(),
        "src/handlers.rs",
        &format!(
            "\u{feff}pub async fn h(url: &str) {{ let _p = sqlx::PgPool::connect(url).await; }}\r\n{}",
            "pub fn é() {}\r\n"
        ),
    );
    write(d.path(), "src/db.rs", &format!("\u{feff}{DB}"));
    let expect = "src/handlers.rs:1:38: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`";
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(&o.stdout, &[expect]);
    let o = run(d.path(), &["--format", "human"]);
    assert!(o.stdout.contains("[src/handlers.rs:1:38]"), "{}", o.stdout);
    // Columns count characters in every format.
    write(
        d.path(),
        "src/handlers.rs",
        "pub async fn h(url: &str) { let _é = \"ééé\"; let _p = sqlx::PgPool::connect(url).await; }\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_lines(
        &o.stdout,
        &[
            "src/handlers.rs:1:54: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`",
        ],
    );
    let o = run(d.path(), &["--format", "human"]);
    assert!(o.stdout.contains("[src/handlers.rs:1:54]"), "{}", o.stdout);
    let o = run(d.path(), &["--format", "json"]);
    assert!(o.stdout.contains("\"column\": 54"), "{}", o.stdout);
}

// ---- 12. loops, dangling links, missing files, odd names and bytes ---------------------

#[cfg(unix)]
#[test]
fn item12_symlink_loops_dangling_links_and_missing_module_files_are_reported() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "mod looped;\nmod dangling;\nmod missing;\n");
    symlink("looped2.rs", &d.path().join("src/looped.rs"));
    symlink("looped.rs", &d.path().join("src/looped2.rs"));
    symlink("nowhere.rs", &d.path().join("src/dangling.rs"));
    let o = run_env(d.path(), &["--format", "short"], &[], 30);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", o.stdout);
    assert_eq!(lines[0], SSOT001);
    assert!(
        lines[1].starts_with("src/lib.rs:3:5: SSOT000 module `looped`: src/looped.rs: "),
        "{}",
        o.stdout
    );
    // Absent module files (often behind a `cfg`): warnings naming the declaration.
    assert!(
        o.stderr.contains("warning: src/lib.rs:4: module `dangling` not found (looked for src/dangling.rs and src/dangling/mod.rs)")
            && o.stderr.contains("warning: src/lib.rs:5: module `missing` not found (looked for src/missing.rs and src/missing/mod.rs)"),
        "{}",
        o.stderr
    );
}

/// `mod r#async;` is the file `async.rs`.
#[test]
fn raw_identifier_modules_are_followed() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "pub mod r#async;\n");
    write(
        d.path(),
        "src/async.rs",
        "pub fn f(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n",
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_eq!(o.stderr, "");
    assert_lines(
        &o.stdout,
        &[
            "src/async.rs:1:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`",
            SSOT001,
        ],
    );
}

#[cfg(target_os = "linux")]
#[test]
fn item12_non_utf8_names_and_contents() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "mod bytes;\n");
    std::fs::write(
        d.path().join("src/bytes.rs"),
        b"pub fn f() { let _ = \"\xff\xfe\"; }\n\xc3\n",
    )
    .expect("write");
    let odd = d
        .path()
        .join("src")
        .join(std::ffi::OsStr::from_bytes(b"odd\xff.rs"));
    std::fs::write(
        odd,
        "pub fn g(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n",
    )
    .expect("write");
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(
        o.stdout.contains("src/bytes.rs:2:1: SSOT000 syntax error"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("src/odd\u{fffd}.rs:1:31: SSOT001"),
        "{}",
        o.stdout
    );
    let o = run(d.path(), &["--format", "human"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
}

// ---- 13. no writes, no cargo, no network ---------------------------------------------

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mtime = std::fs::symlink_metadata(&d)
            .and_then(|m| m.modified())
            .expect("mtime");
        out.insert(d.clone(), (Vec::new(), mtime));
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).expect("meta");
            if m.is_dir() {
                stack.push(p);
            } else {
                let bytes = if m.is_file() {
                    std::fs::read(&p).expect("read")
                } else {
                    Vec::new()
                };
                out.insert(p, (bytes, m.modified().expect("mtime")));
            }
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn item13_no_writes_no_cargo_no_network() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    app(&ws, "mod u;\n");
    write(&ws, "src/u.rs", UNUSED);
    write(
        &ws,
        "build.rs",
        "fn main() { std::fs::write(\"/tmp/ssot-build-ran\", \"\").unwrap(); }\n",
    );
    // A `cargo` (and `rustc`) that leave a mark if anything runs them.
    let bin = d.path().join("bin");
    let mark = d.path().join("ran");
    for tool in ["cargo", "rustc"] {
        write(
            &bin,
            tool,
            &format!("#!/bin/sh\ntouch {}\n", mark.display()),
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join(tool), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let before = snapshot(d.path());
    std::thread::sleep(Duration::from_millis(20));
    for args in [
        vec!["--format", "human"],
        vec!["--format", "short"],
        vec!["--format", "json", "--statistics", "--verbose"],
        vec!["--diff"],
        vec!["--list-files"],
    ] {
        let args = [&args[..], &["--no-cache"]].concat();
        let o = run_env(&ws, &args, &[("PATH", &path)], 60);
        assert!(matches!(o.code, Some(0 | 1)), "{args:?}: {}", o.stderr);
    }
    assert!(!mark.exists(), "cargo or rustc was run");
    assert_eq!(
        snapshot(d.path()),
        before,
        "a run without --fix wrote something"
    );
    // With the cache: nothing written in the tree (the cache is in the user's directory).
    let xdg = tempfile::tempdir().expect("tempdir");
    let xdg_s = xdg.path().display().to_string();
    let o = run_env(
        &ws,
        &["--format", "short"],
        &[("PATH", &path), ("XDG_CACHE_HOME", &xdg_s), ("CI", "")],
        60,
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(!mark.exists(), "cargo or rustc was run");
    assert_eq!(snapshot(d.path()), before, "a cached run wrote in the tree");
    let written: Vec<_> = std::fs::read_dir(xdg.path().join("ssot-lint"))
        .expect("the user cache")
        .flatten()
        .filter(|e| e.path().join("summaries.bin").is_file())
        .collect();
    assert_eq!(written.len(), 1, "one cache directory for the root");
    // No network: the same run in a network namespace of its own (where unshare works).
    let unshare = Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if unshare {
        let o = Command::new("unshare")
            .args(["-rn", env!("CARGO_BIN_EXE_ssot-lint"), "--format", "short"])
            .current_dir(&ws)
            .output()
            .expect("unshare");
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!(
                "{SSOT001}\nsrc/u.rs:2:1: SSOT100 unused suppression: `allow(SSOT001)` suppressed nothing\n"
            )
        );
    } else {
        eprintln!("unshare -rn is not available; network check skipped");
    }
}

// ---- issue 23: round two -------------------------------------------------------------

/// Runs `f` on a thread of its own and fails the test when it takes longer than `secs`
/// (a blow-up, not a timing: the bound is orders of magnitude above a linear run).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {secs} s"),
    }
}

/// Item 6 (printers): 4,000 findings, each with a fix and a related location, spread over
/// one 9 MB file of 200,000 lines (the issue's case was 40,000 findings in a 1.8 MB file:
/// `json` took 58 s). Every format maps offsets with the file's line index, built once;
/// rescanning the file per finding does not finish within the bound in any JSON format.
#[test]
fn issue23_item6_printers_map_offsets_with_one_line_index_per_file() {
    use ssot_lint::diagnostic::{Applicability, Edit, Fix, Related};
    use ssot_lint::report::Format;
    use ssot_lint::rules::RuleCode;
    const LINES: usize = 200_000;
    const EVERY: usize = 50;
    let line = "    let _p = sqlx::PgPool::connect_lazy(\"é\");\n";
    let text = format!("pub fn f() {{\n{}}}\n", line.repeat(LINES));
    let mut outcome = ssot_lint::Outcome {
        root: PathBuf::from("/nonexistent"),
        ..Default::default()
    };
    let first = "pub fn f() {\n".len();
    for i in (0..LINES).step_by(EVERY) {
        let start = (first + i * line.len() + 13) as u32;
        let mut f = ssot_lint::Finding::new(
            RuleCode::Ssot001,
            "pool-outside-ssot",
            ssot_lint::ids::FileId::new(0),
            start..start + 26,
            "`sqlx::PgPool::connect_lazy` builds a sql pool/client".into(),
        );
        f.file = "src/h.rs".into();
        f.line = i as u32 + 2;
        f.column = 14;
        f.fix = Some(Fix {
            title: "use the SSOT's accessor".into(),
            applicability: Applicability::Unsafe,
            edits: vec![Edit {
                range: start..start + 32,
                content: "crate::db::pool()".into(),
            }],
        });
        f.related.push(Related {
            file: "src/h.rs".into(),
            line: 2,
            column: 14,
            message: "the first".into(),
        });
        outcome.findings.push(f);
    }
    outcome.sources.insert("src/h.rs".into(), text);
    let outcome = std::sync::Arc::new(outcome);
    use clap::ValueEnum;
    for format in Format::value_variants() {
        let o = outcome.clone();
        let format = *format;
        let out = within(60, &format!("{format:?}"), move || {
            ssot_lint::report::render(format, &o, false, 100)
        });
        assert!(
            out.contains("connect_lazy") || format == Format::Markdown,
            "{format:?}"
        );
    }
}

/// Item 7 (XML): a file name with U+FFFF (and a control character) made the checkstyle and
/// JUnit output invalid XML. Characters outside XML 1.0 are replaced with U+FFFD; `xmllint`
/// parses both documents where it is installed (`.ci/run` installs it).
#[test]
fn issue23_item7_characters_outside_xml_are_replaced() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "#[path = \"w\u{ffff}\u{1}.rs\"]\nmod w;\n");
    write(d.path(), "src/w\u{ffff}\u{1}.rs", HANDLER);
    for format in ["checkstyle", "junit"] {
        let o = run(d.path(), &["--format", format]);
        assert_eq!(o.code, Some(1), "{}", o.stderr);
        assert!(!o.stdout.contains(['\u{ffff}', '\u{1}']), "{}", o.stdout);
        assert!(
            o.stdout.contains("src/w\u{fffd}\u{fffd}.rs"),
            "{}",
            o.stdout
        );
        let have_xmllint = Command::new("xmllint")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if have_xmllint {
            let f = d.path().join("out.xml");
            std::fs::write(&f, &o.stdout).expect("write");
            let x = Command::new("xmllint")
                .arg("--noout")
                .arg(&f)
                .output()
                .expect("xmllint");
            assert!(
                x.status.success(),
                "{format}: {}",
                String::from_utf8_lossy(&x.stderr)
            );
        } else {
            assert!(
                std::env::var_os("SSOT_REQUIRE_CLIENTS").is_none(),
                "no xmllint"
            );
        }
    }
}

/// A folder of two packages whose names, file names, `#[path]` text and source were chosen
/// to inject: a newline followed by workflow commands, `##[`, HTML, a Mermaid directive,
/// terminal escape codes. `weird/` has an SSOT006 that names its crate; `app/` an SSOT001
/// (with a fix, for `--diff`) in the file whose name holds a newline, and an SSOT000 that
/// quotes the `#[path]` text. Returns that file's name.
fn injecting_crates(dir: &Path) -> &'static str {
    const NAME: &str = "a%%{init: x}%%\\n::error::crate<img src=x>|##[warning]c";
    const FILE: &str = "x\n::error::file y#z.rs";
    write(
        dir,
        "weird/Cargo.toml",
        &MANIFEST.replace("\"app\"", &format!("\"{NAME}\"")),
    );
    write(dir, "weird/src/lib.rs", "pub mod db;\npub mod h;\n");
    write(dir, "weird/src/db.rs", DB);
    write(dir, "weird/src/h.rs", HANDLER);
    write(dir, "app/Cargo.toml", MANIFEST);
    write(
        dir,
        "app/ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n[accessor]\nsql = \"crate::db::pool()\"\n",
    );
    write(
        dir,
        "app/src/lib.rs",
        "pub mod db;\n#[path = \"x\\n::error::file y#z.rs\"]\npub mod h;\n#[path = \"\\x1b]0;t\\x07##[error]m.rs\"]\nmod m;\n",
    );
    write(dir, "app/src/db.rs", DB);
    write(
        dir,
        &format!("app/src/{FILE}"),
        "// \u{1b}[2J\u{1b}]0;pwned\u{7} ##[error]from a comment\npub async fn handle(url: &str) -> sqlx::Result<()> {\n    ::error::x();\n    let pool = sqlx::PgPool::connect(url).await?;\n    drop(pool);\n    Ok(())\n}\n",
    );
    FILE
}

/// What no output may hold: a line that GitHub's runner reads as a workflow command (its
/// first non-space characters `::`, or `##[` anywhere) other than the `github` format's own
/// annotations (the runner reads those as theirs, whatever their data holds); in text
/// outputs, no control character but line breaks and tabs.
fn assert_no_injection(what: &str, out: &str, annotations: bool, text: bool) {
    for line in out.lines() {
        let t = line.trim_start();
        let ours = annotations
            && line == t
            && (t.starts_with("::error title=SSOT")
                || t.starts_with("::warning title=SSOT")
                || t.starts_with("::notice title=ssot-lint::"));
        assert!(
            ours || !t.starts_with("::"),
            "{what}: a workflow command from the tree: {line:?}"
        );
        assert!(ours || !line.contains("##["), "{what}: `##[` in {line:?}");
        if text {
            assert!(
                !line.contains(|c: char| c.is_control() && c != '\t' && c != '\r'),
                "{what}: a control character in {line:?}"
            );
        }
    }
}

/// Item 7: in every format, on stdout and stderr, and in `--diff`, `--graph`, `--list-files`
/// and `-v`, what the tree chose is escaped by the format's rules.
#[test]
fn issue23_item7_what_the_tree_names_never_becomes_markup_or_a_workflow_command() {
    let d = tempfile::tempdir().expect("tempdir");
    let file = injecting_crates(d.path());
    use clap::ValueEnum;
    for format in ssot_lint::report::Format::value_variants() {
        let name = format
            .to_possible_value()
            .expect("a value")
            .get_name()
            .to_string();
        let o = run(d.path(), &["--format", &name, "-v"]);
        assert_eq!(o.code, Some(1), "{name}: {}", o.stderr);
        let text = matches!(name.as_str(), "human" | "short");
        assert_no_injection(&name, &o.stdout, name == "github", text);
        assert_no_injection(&format!("{name} stderr"), &o.stderr, false, true);
        match name.as_str() {
            "json" | "sarif" | "gitlab" | "rdjson" => {
                serde_json::from_str::<serde_json::Value>(&o.stdout).expect("one JSON document");
            }
            "json-lines" | "rustc-json" => {
                for l in o.stdout.lines() {
                    serde_json::from_str::<serde_json::Value>(l).expect("a JSON line");
                }
            }
            "markdown" => {
                assert!(!o.stdout.contains("<img"), "{}", o.stdout);
                // The findings table: location, rule, message.
                for row in o
                    .stdout
                    .lines()
                    .filter(|l| l.starts_with("| [") && l.contains("#L"))
                {
                    assert_eq!(row.matches('|').count(), 4, "{row}");
                }
            }
            _ => {}
        }
        if name == "sarif" {
            let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
            let uris: Vec<String> = v["runs"][0]["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| {
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].to_string()
                })
                .collect();
            assert!(
                uris.contains(&"\"app/src/x%0A%3A%3Aerror%3A%3Afile%20y%23z.rs\"".to_string()),
                "{uris:?}"
            );
        }
    }
    for args in [
        &["--graph", "mermaid"][..],
        &["--graph", "dot"],
        &["--list-files"],
        &["--diff", "--unsafe-fixes"],
    ] {
        let o = run(d.path(), args);
        assert!(o.code.is_some_and(|c| c < 2), "{args:?}: {}", o.stderr);
        assert_no_injection(&format!("{args:?}"), &o.stdout, false, true);
        assert_no_injection(&format!("{args:?} stderr"), &o.stderr, false, true);
    }
    // The graph labels: the crate's name as character references, quoted.
    let o = run(d.path(), &["--graph", "mermaid"]);
    assert!(
        o.stdout.contains("[\"a#37;#37;#123;init: x#125;#37;#37;#10;::error::crate#60;img src#61;x#62;#124;#35;#35;#91;warning#93;c::db<br/>"),
        "{}",
        o.stdout
    );
    // The diff still shows the fix, in the file whose name it escapes.
    let o = run(d.path(), &["--diff", "--unsafe-fixes"]);
    assert!(
        o.stdout.contains("+    let pool = crate::db::pool();"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains(&format!("+++ b/app/src/{}", file.replace('\n', "␊"))),
        "{}",
        o.stdout
    );
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Item 4: a pull request's `.gitattributes` (`*.rs -diff`, or a clean filter such as
/// git-lfs's, which CI runners have installed: here a filter that keeps a file's first line)
/// and file names git quotes (`"`, a tab) or marks (a space) cannot hide its new findings
/// from `--new-from-rev`; the finding on the line it did not change stays hidden.
#[test]
fn issue23_item4_new_from_rev_sees_what_attributes_and_file_names_would_hide() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "base"]);
    git(d.path(), &["config", "filter.lfs.clean", "sed -n 1p"]);
    write(
        d.path(),
        ".gitattributes",
        "*.rs -diff filter=lfs\n*.rs diff=x\n",
    );
    write(
        d.path(),
        "src/lib.rs",
        "pub mod db;\npub mod handlers;\n#[path = \"q\\\"t\\tb.rs\"]\nmod q;\n#[path = \"sp ace.rs\"]\nmod s;\n",
    );
    write(d.path(), "src/q\"t\tb.rs", HANDLER);
    write(d.path(), "src/sp ace.rs", HANDLER);
    write(
        d.path(),
        "src/handlers.rs",
        &format!("{HANDLER}{}", HANDLER.replace("handle", "added")),
    );
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "the pull request"]);
    let o = run(d.path(), &["--format", "short", "--new-from-rev", "HEAD~1"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let p = "SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`";
    assert_lines(
        &o.stdout,
        &[
            &format!("src/handlers.rs:7:16: {p}"),
            &format!("src/q\"t␉b.rs:2:16: {p}"),
            &format!("src/sp ace.rs:2:16: {p}"),
        ],
    );
    assert!(
        o.stderr
            .contains("1 findings on lines unchanged since HEAD~1 not shown"),
        "{}",
        o.stderr
    );
}

/// Item 4: with no config, a new module that builds a pool makes an SSOT006 that sits on
/// the old module's unchanged line (the new module sorts first); it counts as new because one
/// of its owners, a related location, is on a changed line.
#[test]
fn issue23_item4_a_competing_module_added_is_new_wherever_its_finding_sits() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "Cargo.toml", MANIFEST);
    write(d.path(), "src/lib.rs", "pub mod zz;\n");
    let pool =
        "pub fn pool() -> sqlx::PgPool {\n    sqlx::PgPool::connect_lazy(\"x\").unwrap()\n}\n";
    write(d.path(), "src/zz.rs", pool);
    git(d.path(), &["init", "-q"]);
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-qm", "base"]);
    write(d.path(), "src/lib.rs", "pub mod aa;\npub mod zz;\n");
    write(d.path(), "src/aa.rs", pool);
    git(d.path(), &["add", "-A"]);
    let o = run(d.path(), &["--format", "short", "--new-from-rev", "HEAD"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "src/zz.rs:2:5: SSOT006 sql pools/clients are built or held in 2 modules: `app::aa`, `app::zz`",
        ],
    );
    // Once both are in the revision, the finding is old.
    git(d.path(), &["commit", "-qm", "the pull request"]);
    let o = run(d.path(), &["--format", "short", "--new-from-rev", "HEAD"]);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
}

/// The pre-commit hook's command line as pre-commit builds it from `.pre-commit-hooks.yaml`:
/// `entry` (after the program), then `args`, then the file names.
fn hook_argv(files: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let yaml = read(root, ".pre-commit-hooks.yaml");
    let value = |key: &str| -> String {
        yaml.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in the hook"))
            .trim()
            .to_string()
    };
    let entry = value("entry:");
    let args = value("args:");
    let mut argv: Vec<String> = entry
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    argv.extend(
        args.trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty()),
    );
    argv.extend(files.iter().map(|f| f.to_string()));
    argv
}

/// A checksum of a file's bytes (FNV-1a), to show that a planted file was not touched.
fn checksum(p: &Path) -> u64 {
    std::fs::read(p)
        .expect("planted file")
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Item 3: tracked files named `--write-baseline=x.rs` and `--config=y.rs`, with `x.rs` a
/// symlink to a file outside the repository and `y.rs` one to `/proc/self/environ`. The hook
/// passed them as options: the run wrote a baseline through the symlink and exited 0. Now
/// they follow `--` and are refused as operands (exit 2); and without the `--`, the hook's
/// `--pre-commit` refuses to run at all.
#[cfg(target_os = "linux")]
#[test]
fn issue23_item3_a_file_name_is_never_taken_for_an_option_by_the_hook() {
    let outside = tempfile::tempdir().expect("tempdir");
    let planted = outside.path().join("planted.txt");
    std::fs::write(&planted, "planted, not to be written\n").expect("write");
    let before = checksum(&planted);
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    write(d.path(), "--write-baseline=x.rs", "fn main() {}\n");
    write(d.path(), "--config=y.rs", "fn main() {}\n");
    symlink(&planted.display().to_string(), &d.path().join("x.rs"));
    symlink("/proc/self/environ", &d.path().join("y.rs"));
    let secret = "SSOT_HOOK_SECRET_5c1d";
    let files = ["--write-baseline=x.rs", "--config=y.rs", "src/handlers.rs"];
    let argv = hook_argv(&files);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run_env(d.path(), &argv, &[("CI_TOKEN", secret)], 60);
    assert_eq!(o.code, Some(2), "{argv:?}: {}{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .contains("the file operand `--write-baseline=x.rs` looks like an option"),
        "{}",
        o.stderr
    );
    assert_eq!(checksum(&planted), before, "written through the symlink");
    assert!(!format!("{}{}", o.stdout, o.stderr).contains(secret));
    // A user's `args` without the `--`: nothing runs.
    let o = run_env(
        d.path(),
        &[
            "--pre-commit",
            "--format",
            "short",
            "--write-baseline=x.rs",
            "src/handlers.rs",
        ],
        &[("CI_TOKEN", secret)],
        60,
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("must follow `--`"), "{}", o.stderr);
    assert_eq!(checksum(&planted), before, "written through the symlink");
    // The hook's usual run: the changed file's findings.
    let argv = hook_argv(&["src/handlers.rs"]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run(d.path(), &argv);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(&o.stdout, &[SSOT001]);
}

/// Item 3: the action splits `args` on whitespace and expands no glob. With `args: *`, a
/// committed file named `--write-baseline=out.json` became an option (a baseline written,
/// exit 0); now `*` is a path that does not exist (exit 2) and nothing is written.
#[test]
fn issue23_item3_the_action_expands_no_glob_in_its_args() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    write(d.path(), "--write-baseline=out.json", "");
    let outputs = d.path().join("github-output");
    let o = Command::new("bash")
        .arg(root.join("scripts/github-action.sh"))
        .current_dir(d.path())
        .env("SSOT_LINT", env!("CARGO_BIN_EXE_ssot-lint"))
        .env("SSOT_ARGS", "*")
        .env("GITHUB_OUTPUT", &outputs)
        .env("RUNNER_TEMP", d.path())
        .env_remove("GITHUB_WORKSPACE")
        .output()
        .expect("bash");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !d.path().join("out.json").exists(),
        "a baseline was written"
    );
    let outs = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(outs.contains("exit-code=2\n"), "{outs}");
}

/// Runs the action's script in `dir` with `env`; its status and `$GITHUB_OUTPUT`.
fn action(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tempdir");
    let outputs = out.path().join("github-output");
    let mut c = Command::new("bash");
    c.arg(root.join("scripts/github-action.sh"))
        .current_dir(dir)
        .env("SSOT_LINT", env!("CARGO_BIN_EXE_ssot-lint"))
        .env("GITHUB_OUTPUT", &outputs)
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("SSOT_SARIF_FILE");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("bash");
    (
        o.status.code(),
        std::fs::read_to_string(&outputs).unwrap_or_default(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The action after an error (exit 2, here a broken config): `sarif-file` was set to the
/// path whatever was there, so upload-sarif uploaded a SARIF the pull request committed, or
/// failed on a file never written. Now the path is cleared before the run and `sarif-file`
/// is set only when the run wrote it; a committed symlink there is removed, not written
/// through.
#[cfg(unix)]
#[test]
fn issue23_the_action_never_points_at_a_sarif_it_did_not_write() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    let forged = "{\"version\": \"2.1.0\", \"runs\": []}\n";
    write(d.path(), "ssot-lint.sarif", forged);
    write(d.path(), "ssot-lint.toml", "[ssot]\nmodules = 3\n");
    let (code, outs, _) = action(d.path(), &[]);
    assert_eq!(code, Some(2));
    assert_eq!(outs, "exit-code=2\n");
    assert!(
        !d.path().join("ssot-lint.sarif").exists(),
        "the forged SARIF is still there"
    );
    // A symlink committed at the path, to a file outside: removed, the target untouched.
    let outside = tempfile::tempdir().expect("tempdir");
    let planted = outside.path().join("planted.sarif");
    std::fs::write(&planted, forged).expect("write");
    let before = checksum(&planted);
    write(
        d.path(),
        "ssot-lint.toml",
        "[ssot]\nmodules = [\"app::db\"]\n",
    );
    symlink(
        &planted.display().to_string(),
        &d.path().join("ssot-lint.sarif"),
    );
    let (code, outs, err) = action(d.path(), &[]);
    assert_eq!(code, Some(1), "{err}");
    let sarif = d.path().join("ssot-lint.sarif");
    assert_eq!(
        outs,
        format!("sarif-file={}\nexit-code=1\n", sarif.display())
    );
    assert_eq!(checksum(&planted), before);
    let meta = std::fs::symlink_metadata(&sarif).expect("sarif");
    assert!(meta.file_type().is_file(), "{meta:?}");
    assert!(read(d.path(), "ssot-lint.sarif").contains("src/handlers.rs"));
    // Nothing of the action's own is left in the tree.
    let left: Vec<String> = std::fs::read_dir(d.path())
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ssot-lint-action"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// ---- issue 23, item 6: bounded time and memory -------------------------------------------

/// A line with one construction (SSOT001 at 1:31), so that the prefilter parses its file.
const LAZY: &str = "pub fn h(url: &str) { let _ = sqlx::PgPool::connect_lazy(url); }\n";

/// [`run`], and the child's peak resident set in KB as its own `/proc/PID/status` gives it
/// (`VmHWM`, the high-water mark of the memory it has since its `exec`), read every 5 ms
/// until it exits; the mark only grows, and these runs peak while they parse, long before
/// they exit. (`wait4`'s `ru_maxrss`, as [`run_peak_rss`] reads it, also holds this test
/// process's own peak, which the child shares until its `exec`: 270 MB when the suite runs
/// its tests in parallel, whatever the child did.)
#[cfg(target_os = "linux")]
fn run_hwm(dir: &Path, args: &[&str]) -> (Run, u64) {
    let out = tempfile::tempdir().expect("tempdir");
    let so = out.path().join("stdout");
    let se = out.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&so).expect("stdout file"))
        .stderr(std::fs::File::create(&se).expect("stderr file"))
        .spawn()
        .expect("spawn ssot-lint");
    let status_file = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut peak = 0u64;
    let status = loop {
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|t| {
                let line = t.lines().find(|l| l.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .unwrap_or(0);
        peak = peak.max(hwm);
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ssot-lint {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let run = Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&std::fs::read(&so).expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&se).expect("stderr")).into_owned(),
    };
    (run, peak)
}

/// `text` as `src/x.rs` of the one-finding crate (`pub mod x;` in lib.rs).
fn app_with(dir: &Path, text: &[u8]) {
    app(dir, "pub mod x;\n");
    std::fs::write(dir.join("src/x.rs"), text).expect("write");
}

/// 8 KB of code, then 10 MB of NUL tokens: git's test (the first 8000 bytes) missed them,
/// and the parser kept a node and an error per token (1.1 GB in a release build). NUL
/// anywhere makes the file binary: one finding, and the run's peak stays near the text's
/// size (about 50 MB; the limit, 150 MB, is far from both).
#[cfg(target_os = "linux")]
#[test]
fn item6_nul_bytes_after_the_first_8_kb_make_a_binary_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut text = "// padding\n".repeat(800).into_bytes();
    text.extend(b"\0 ".repeat(5_000_000));
    app_with(d.path(), &text);
    let (o, kb) = run_hwm(d.path(), &["--no-cache", "--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/x.rs:801:1: SSOT000 syntax error: binary file (NUL bytes); not analysed",
        ],
    );
    assert!(kb < 150 * 1024, "peak {kb} KB for a 10 MB binary file");
}

/// The same with other control characters (U+0001): no Rust lexer takes them outside a
/// literal or comment; more than 1,000 there and the file is not Rust text (one is a syntax
/// error like any other). In a string or a comment they are text and the file is analysed.
#[cfg(target_os = "linux")]
#[test]
fn item6_control_characters_in_code_are_not_rust_text() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut text = b"pub fn f() {}\n".to_vec();
    text.extend(b"\x01 ".repeat(5_000_000));
    app_with(d.path(), &text);
    let (o, kb) = run_hwm(d.path(), &["--no-cache", "--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/x.rs:2:1: SSOT000 syntax error: more than 1000 control characters outside literals and comments (U+0001 here first): not Rust text; file not analysed",
        ],
    );
    assert!(
        kb < 150 * 1024,
        "peak {kb} KB for 10 MB of control characters"
    );
    let d = tempfile::tempdir().expect("tempdir");
    app_with(
        d.path(),
        b"// \x01 \x1b\npub fn f(url: &str) { let _ = (\"\x01\x1b[0m\", sqlx::PgPool::connect_lazy(url)); }\n",
    );
    let o = run(d.path(), &["--no-cache", "--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/x.rs:2:41: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`",
        ],
    );
}

/// Junk made of real tokens (`@ @ @ …`) passes every byte check and costs the parser about
/// 110 bytes per byte of text (a node and an error per token). Files over 1 MiB are parsed
/// one at a time, so two such files on two threads peak at about what one does, not twice
/// that: each 1.2 MB file adds about 180 MB alone; the second adds about 20 MB now and
/// about 180 MB when both were parsed at once. The limit is half of what one adds.
#[cfg(target_os = "linux")]
#[test]
fn item6_two_large_junk_files_are_not_parsed_at_once() {
    let tree = |files: usize| {
        let d = tempfile::tempdir().expect("tempdir");
        let mut lib = String::new();
        for i in 0..files {
            let junk = "@ ".repeat(600_000);
            write(d.path(), &format!("src/j{i}.rs"), &format!("{LAZY}{junk}"));
            lib.push_str(&format!("pub mod j{i};\n"));
        }
        app(d.path(), &lib);
        d
    };
    let args = ["--no-cache", "--threads", "2", "--format", "short"];
    let (o, none_kb) = run_hwm(tree(0).path(), &args);
    assert_lines(&o.stdout, &[SSOT001]);
    let junk = "2:1: SSOT000 syntax error: expected an item (and 599999 more)";
    let lazy = "1:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`";
    let (o, one_kb) = run_hwm(tree(1).path(), &args);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            &format!("src/j0.rs:{lazy}"),
            &format!("src/j0.rs:{junk}"),
        ],
    );
    let (o, two_kb) = run_hwm(tree(2).path(), &args);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            &format!("src/j0.rs:{lazy}"),
            &format!("src/j0.rs:{junk}"),
            &format!("src/j1.rs:{lazy}"),
            &format!("src/j1.rs:{junk}"),
        ],
    );
    let file = one_kb.saturating_sub(none_kb);
    let second = two_kb.saturating_sub(one_kb);
    assert!(
        second < file / 2,
        "a second large file added {second} KB of peak memory; the first {file} KB ({none_kb}, {one_kb}, {two_kb} KB)"
    );
}

/// 40,000 constructions in one file: each site looked up the backends of its SSOT by a
/// pass over all sites (14-21 s in a release build, quadratic). The backends are computed
/// once per run now; the run ends well within the hang guard with every finding.
#[test]
fn item6_forty_thousand_constructions_in_one_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let n = 40_000;
    let text: String = (0..n)
        .map(|i| format!("pub fn f{i}(url: &str) {{ let _ = sqlx::PgPool::connect_lazy(url); }}\n"))
        .collect();
    app_with(d.path(), text.as_bytes());
    let o = run_env(d.path(), &["--no-cache", "--format", "short"], &[], 120);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let mut want = vec![SSOT001.to_string()];
    for i in 0..n {
        let col = 31 + format!("{i}").len();
        want.push(format!(
            "src/x.rs:{}:{col}: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`",
            i + 1
        ));
    }
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_lines(&o.stdout, &want);
}

/// A thread pool that cannot be built (an address-space limit too small for eight 64 MiB
/// stacks) was ignored, and the run then panicked (exit 101). It is an error now: exit 2
/// and a message that says what failed.
#[cfg(target_os = "linux")]
#[test]
fn item6_a_thread_pool_that_cannot_be_built_is_exit_2() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    let o = Command::new("sh")
        .args([
            "-c",
            "ulimit -v 400000 && exec \"$0\" --threads 8 --format short",
            env!("CARGO_BIN_EXE_ssot-lint"),
        ])
        .current_dir(d.path())
        .output()
        .expect("sh");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot start the worker threads (8 with a 64 MiB stack each): "),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "");
}

/// `[allow] paths` is compiled into one automaton: 330,000 globs took 3.4 GB and then
/// failed with "error building NFA" and no position. At most 1,000 globs, 1,000 bytes in
/// one and 32 KiB in all: past a bound the glob there is the error (file:line:column, exit
/// 2), and a set that cannot be compiled is an error at the list.
#[test]
fn item6_allow_path_globs_are_bounded() {
    let many: Vec<String> = (0..1001).map(|i| format!("\"src/g{i}/*.rs\"")).collect();
    let cases = [
        (
            many.join(", "),
            "ssot-lint.toml:4:16900: more than 1000 globs in [allow] paths",
        ),
        (
            format!("\"src/{}.rs\"", "a".repeat(1000)),
            "ssot-lint.toml:4:10: a glob of 1007 bytes in [allow] paths (at most 1000)",
        ),
        (
            vec![format!("\"src/{}\"", "*a".repeat(498)); 40].join(", "),
            "ssot-lint.toml:4:32138: [allow] paths: more than 32768 bytes of globs in all",
        ),
    ];
    for (list, want) in cases {
        let d = tempfile::tempdir().expect("tempdir");
        app(d.path(), "");
        write(
            d.path(),
            "ssot-lint.toml",
            &format!("[ssot]\nmodules = [\"app::db\"]\n[allow]\npaths = [{list}]\n"),
        );
        let o = run(d.path(), &["--format", "short"]);
        assert_eq!(o.code, Some(2), "{}", o.stderr);
        assert_eq!(o.stdout, "");
        let first = o.stderr.lines().next().unwrap_or_default();
        assert!(first.ends_with(want), "{}", o.stderr);
    }
}

/// An error in a config or manifest line past column 65,535: miette pads the label to its
/// column and panicked (exit 101). It is given an excerpt of the lines around the error
/// now, numbered and placed as in the file: the message and the snippet's header say the
/// real line and column, and the snippet stays short.
#[test]
fn item6_errors_past_column_65535_are_shown_as_an_excerpt() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    let more = ", \"app::db\"".repeat(7000);
    write(
        d.path(),
        "ssot-lint.toml",
        &format!("[ssot]\nmodules = [\"app::db\"{more}, ?]\n"),
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    let root = d.path().display().to_string();
    let stderr = o.stderr.replace(&root, "<dir>");
    assert_eq!(
        stderr,
        r#"error: × <dir>/ssot-lint.toml:2:77023: string values must be quoted, expected literal string
   ╭─[<dir>/ssot-lint.toml:2:77023]
 1 │ [ssot]
 2 │ …db", "app::db", "app::db", "app::db", "app::db", "app::db", ?]
   ·                                                              ┬
   ·                                                              ╰── here
   ╰────

"#
    );
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    write(
        d.path(),
        "Cargo.toml",
        &MANIFEST.replace(
            "\"postgres\"]",
            &format!("\"postgres\"{}, ?]", ", \"postgres\"".repeat(7000)),
        ),
    );
    let o = run(d.path(), &["--format", "short"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    let root = d.path().display().to_string();
    let stderr = o.stderr.replace(&root, "<dir>");
    assert_eq!(
        stderr,
        r#"error: × <dir>/Cargo.toml:7:84051: string values must be quoted, expected literal string
   ╭─[<dir>/Cargo.toml:7:84051]
 6 │ [dependencies]
 7 │ …"postgres", "postgres", "postgres", "postgres", "postgres", ?] }
   ·                                                              ┬
   ·                                                              ╰── here
   ╰────

"#
    );
}

/// Nestings without brackets, 75,000 deep: rust-analyzer's parser recurses once per level
/// and overflowed even the 64 MiB stack (`|| || …` is 225 KB), and postfix chains make a
/// tree as deep that later walks recurse into. Each is counted before parsing now (the
/// bound of brackets, 1,000 levels, or that of chains, 2,000 links): one finding per file,
/// the same with and without the prefilter, and the rest of the crate is linted.
#[test]
fn item6_nesting_without_brackets_is_one_finding() {
    let n = 75_000;
    let r = |s: &str| s.repeat(n);
    let files = [
        (
            "closures",
            format!("pub fn f() {{ let _ = {}1; }}\n", r("|| ")),
        ),
        (
            "moves",
            format!("pub fn f() {{ let _ = {}1; }}\n", r("move |x| ")),
        ),
        ("returns", format!("pub fn f() {{ {}1; }}\n", r("return "))),
        (
            "breaks",
            format!("pub fn f() {{ loop {{ {}1; }} }}\n", r("break ")),
        ),
        (
            "ifs",
            format!("pub fn f() {{ {}x{} }}\n", r("if "), r(" {}")),
        ),
        (
            "matches",
            format!("pub fn f() {{ {}x{} }}\n", r("match "), r(" {}")),
        ),
        (
            "else_ifs",
            format!("pub fn f() {{ {}{{}} }}\n", r("if a {} else ")),
        ),
        (
            "ranges",
            format!("pub fn f() {{ let _ = {}1; }}\n", r(".. ")),
        ),
        ("lifetimes", format!("pub type T<'a> = {}u8;\n", r("&'a "))),
        (
            "patterns",
            format!("pub fn f() {{ let {}x = 1; }}\n", r("x @ box ")),
        ),
        ("tokens", format!("pub fn f() {{ m!({}); }}\n", r("|| "))),
        ("calls", format!("pub fn f() {{ g{}; }}\n", r("()"))),
        ("tries", format!("pub fn f() {{ x{}; }}\n", r("?"))),
        ("casts", format!("pub fn f() {{ x{}; }}\n", r(" as T"))),
        ("blocks", format!("pub fn f() {{ x{}; }}\n", r(".a(|| {})"))),
        ("args", format!("pub fn f() {{ x{}; }}\n", r(".a(1, 2)"))),
    ];
    let d = tempfile::tempdir().expect("tempdir");
    let mut lib = String::new();
    for (name, text) in &files {
        lib.push_str(&format!("pub mod {name};\n"));
        write(d.path(), &format!("src/{name}.rs"), text);
    }
    app(d.path(), &lib);
    let deep = |at: &str| {
        format!(
            "{at}: SSOT000 syntax error: nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed"
        )
    };
    let chain = |at: &str| {
        format!(
            "{at}: SSOT000 syntax error: a chain of more than 2000 `.`, `::` or operators; file not analysed"
        )
    };
    let want = [
        chain("src/args.rs:1:16015"),
        chain("src/blocks.rs:1:18009"),
        deep("src/breaks.rs:1:6009"),
        chain("src/calls.rs:1:4017"),
        chain("src/casts.rs:1:10016"),
        deep("src/closures.rs:1:1520"),
        deep("src/else_ifs.rs:1:13001"),
        SSOT001.to_string(),
        deep("src/ifs.rs:1:3011"),
        deep("src/lifetimes.rs:1:4018"),
        deep("src/matches.rs:1:6008"),
        chain("src/moves.rs:1:9020"),
        chain("src/patterns.rs:1:16020"),
        deep("src/ranges.rs:1:1520"),
        deep("src/returns.rs:1:7007"),
        deep("src/tokens.rs:1:1514"),
        chain("src/tries.rs:1:2015"),
    ];
    for mode in [
        &["--format", "short"][..],
        &["--format", "short", "--no-prefilter"],
    ] {
        let o = run_env(d.path(), mode, &[], 120);
        assert_eq!(o.code, Some(1), "{}", o.stderr);
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        assert_lines(&o.stdout, &want);
    }
}

/// Chains the parser builds as trees as deep as they are long. rowan's interner computed
/// each node's hash again from its whole subtree whenever its table grew, so building such
/// a tree took quadratic time: 240 KB of `g()()…`, `x??…` or `return return …` took over
/// a minute, and 240 KB of 2,000-link chains 3.5 s (release builds). With the hash kept
/// beside each node (`vendor/rowan`) and those chains over the bounds refused before
/// parsing, each file here takes well under the hang guard: the first three are one
/// finding each, the chains under the bound are linted.
#[test]
fn item6_chains_parse_in_linear_time() {
    let fields: String = (0..60)
        .map(|i| format!("pub fn f{i}() {{ x{i}{}; }}\n", ".a".repeat(1990)))
        .collect();
    let tries: String = (0..120)
        .map(|i| format!("pub fn f{i}() {{ x{i}{}; }}\n", "?".repeat(1990)))
        .collect();
    let files = [
        (
            "calls",
            format!("pub fn f() {{ g{}; }}\n", "()".repeat(120_000)),
        ),
        (
            "tries",
            format!("pub fn f() {{ x{}; }}\n", "?".repeat(240_000)),
        ),
        (
            "returns",
            format!("pub fn f() {{ {}1; }}\n", "return ".repeat(34_000)),
        ),
        ("long_fields", format!("{LAZY}{fields}")),
        ("long_tries", format!("{LAZY}{tries}")),
    ];
    let d = tempfile::tempdir().expect("tempdir");
    let mut lib = String::new();
    for (name, text) in &files {
        lib.push_str(&format!("pub mod {name};\n"));
        write(d.path(), &format!("src/{name}.rs"), text);
    }
    app(d.path(), &lib);
    let o = run(d.path(), &["--no-cache", "--format", "short"]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let lazy = "1:31: SSOT001 `sqlx::PgPool::connect_lazy` builds a sql pool/client outside the SSOT module `app::db`";
    let chain =
        "SSOT000 syntax error: a chain of more than 2000 `.`, `::` or operators; file not analysed";
    assert_lines(
        &o.stdout,
        &[
            &format!("src/calls.rs:1:4017: {chain}"),
            SSOT001,
            &format!("src/long_fields.rs:{lazy}"),
            &format!("src/long_tries.rs:{lazy}"),
            "src/returns.rs:1:7007: SSOT000 syntax error: nested more than 1000 deep (brackets, prefix operators and keywords, 1001 here); file not analysed",
            &format!("src/tries.rs:1:2015: {chain}"),
        ],
    );
}

// ---- issue 23, items 1 and 2: caches the tree cannot forge, one gate for named paths ----

/// A clean handler: the same crate as [`app`] without the SSOT001.
const CLEAN_HANDLER: &str =
    "pub async fn handle(url: &str) -> sqlx::Result<()> {\n    let _ = url;\n    Ok(())\n}\n";

/// A run as a user (`xdg` is their cache home; not in CI unless `env` says so).
fn run_as(dir: &Path, xdg: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let xdg = xdg.display().to_string();
    let mut all = vec![("XDG_CACHE_HOME", xdg.as_str()), ("CI", "")];
    all.extend_from_slice(env);
    run_env(dir, args, &all, 60)
}

/// The bytes of every file below `dir` (symlinks as their targets' text), for "nothing
/// changed here".
fn files_below(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        let p = e.path();
        if e.file_type().is_symlink() {
            let t = std::fs::read_link(p).expect("link");
            out.insert(p.to_path_buf(), t.as_os_str().as_encoded_bytes().to_vec());
        } else if e.file_type().is_file() {
            out.insert(p.to_path_buf(), std::fs::read(p).expect("read"));
        }
    }
    out
}

/// A pull request commits a cache: the outcome (or the per-file summaries) its author's
/// ssot-lint made of the clean tree, altered so that it fits the violating tree (its
/// dependency list emptied; the violating file's text filed under the clean text's
/// summary) and sealed again with all the author knows (a checksum, or a tag under the
/// author's own secret). Put in the tree's cache directory, in `target/ssot-lint`, or
/// behind a `.ssot-lint-cache` symlink to a directory outside: on the victim's machine,
/// in CI or not, the verdict is the one without a cache (exit 1, the SSOT001).
#[cfg(unix)]
#[test]
fn issue23_item1_a_committed_cache_never_decides_the_verdict() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    let (attacker, victim) = (d.path().join("attacker-home"), d.path().join("victim-home"));
    app(&ws, "");
    write(&ws, "src/handlers.rs", CLEAN_HANDLER);
    // The author lints the clean tree at the path CI checks out to.
    let o = run_as(&ws, &attacker, &["--format", "short"], &[]);
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let (dir, key) = forge::attackers_cache(&ws, &attacker);
    let results = forge::CacheFile::read(&dir.join("results.bin"));
    let summaries = forge::CacheFile::read(&dir.join("summaries.bin"));
    let _ = std::fs::remove_dir_all(ws.join(".ssot-lint-cache"));
    // ... and commits the violation with the forged caches.
    write(&ws, "src/handlers.rs", HANDLER);
    let mut forged_results = results.clone();
    forge::empty_deps(&mut forged_results);
    let mut forged_summaries = summaries.clone();
    assert!(forge::retarget(&mut forged_summaries, CLEAN_HANDLER, HANDLER) > 0);
    let reference = run(&ws, &["--format", "short", "--no-cache"]);
    assert_eq!(reference.code, Some(1));
    assert_lines(&reference.stdout, &[SSOT001]);
    let outside = d.path().join("outside");
    for (what, files) in [
        ("results.bin", vec![&forged_results]),
        ("summaries.bin", vec![&forged_summaries]),
    ] {
        for place in [".ssot-lint-cache", "target/ssot-lint", "symlink"] {
            let _ = std::fs::remove_dir_all(ws.join(".ssot-lint-cache"));
            let _ = std::fs::remove_file(ws.join(".ssot-lint-cache"));
            let _ = std::fs::remove_dir_all(ws.join("target"));
            let _ = std::fs::remove_dir_all(&outside);
            let _ = std::fs::remove_dir_all(&victim);
            let cache_dir = match place {
                "symlink" => {
                    symlink(
                        outside.to_str().expect("utf-8"),
                        &ws.join(".ssot-lint-cache"),
                    );
                    outside.clone()
                }
                p => ws.join(p),
            };
            std::fs::create_dir_all(&cache_dir).expect("mkdir");
            for f in &files {
                std::fs::write(cache_dir.join(&f.name), f.seal(key)).expect("write");
            }
            let named = if place == "target/ssot-lint" {
                "target/ssot-lint"
            } else {
                ".ssot-lint-cache"
            };
            for (how, args, env) in [
                ("in CI", vec!["--format", "short"], vec![("CI", "true")]),
                ("on a laptop", vec!["--format", "short"], vec![]),
                (
                    "with the cache directory named",
                    vec!["--format", "short", "--cache-dir", named],
                    vec![],
                ),
                (
                    "in CI with the cache directory named",
                    vec!["--format", "short", "--cache-dir", named],
                    vec![("CI", "true")],
                ),
            ] {
                let o = run_as(&ws, &victim, &args, &env);
                assert_eq!(
                    (o.code, &o.stdout),
                    (reference.code, &reference.stdout),
                    "a forged {what} in {place}, {how}, decided the verdict: {}",
                    o.stderr
                );
            }
        }
    }
}

/// A committed `summaries.bin` of 1 MB whose index lists its bytes 100 times: a run that
/// rewrites it never writes more than it holds (before: 100 MB, each entry copied), and
/// a file the tree could write is not believed at all.
#[test]
fn issue23_item1_a_cache_file_cannot_make_the_tool_write_more_than_it_holds() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    let home = d.path().join("home");
    app(&ws, "");
    let o = run_as(&ws, &home, &["--format", "short"], &[]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let (dir, key) = forge::attackers_cache(&ws, &home);
    let mut f = forge::CacheFile::read(&dir.join("summaries.bin"));
    forge::amplify(&mut f, 1 << 20, 100);
    let sealed = f.seal(key);
    assert!(sealed.len() < 2 << 20);
    // Under the user's own secret too (as if the tree could know it): the index is refused.
    for named in [false, true] {
        let cache = ws.join(".ssot-lint-cache");
        let _ = std::fs::remove_dir_all(&cache);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&cache).expect("mkdir");
        std::fs::write(cache.join("summaries.bin"), &sealed).expect("write");
        if named {
            // Where the victim's own run keeps it, sealed with the victim's own secret.
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("summaries.bin"), &sealed).expect("write");
        }
        let o = run_as(&ws, &home, &["--format", "short", "-v"], &[]);
        assert_eq!(o.code, Some(1), "{}", o.stderr);
        assert_lines(&o.stdout, &[SSOT001]);
        for p in files_below(d.path()).keys() {
            let len = std::fs::metadata(p).expect("meta").len();
            assert!(len < 4 << 20, "{} is {len} bytes", p.display());
        }
    }
}

/// `--fix` writes only Rust sources inside the workspace and never in `.git/`; a module
/// that resolves into `.git/` (its config holds CI's credentials) is never read, so never
/// printed either; `--write-baseline` and `--output` never write into `.git/` (a hook
/// there would run at the next commit).
#[cfg(unix)]
#[test]
fn issue23_item2_nothing_is_read_from_or_written_into_git() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    app(
        &ws,
        "#[path = \"../.git/config\"]\nmod gitconfig;\n#[path = \"../.git/info/x.rs\"]\nmod x;\n",
    );
    let secret = "extraheader = AUTHORIZATION: basic c2VjcmV0X3Rva2Vu";
    write(&ws, ".git/config", &format!("[http]\n\t{secret}\n"));
    write(&ws, ".git/info/x.rs", UNUSED);
    write(&ws, ".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n");
    let before = files_below(&ws.join(".git"));
    let o = run(&ws, &["--format", "human", "--no-cache"]);
    assert!(!o.stdout.contains("c2VjcmV0") && !o.stderr.contains("c2VjcmV0"));
    assert!(
        o.stdout.contains("it resolves inside .git; not read"),
        "{}",
        o.stdout
    );
    let o = run(&ws, &["--format", "short", "--no-cache"]);
    assert_lines(
        &o.stdout,
        &[
            SSOT001,
            "src/lib.rs:4:5: SSOT000 module `gitconfig`: .git/config: it resolves inside .git; not read",
            "src/lib.rs:6:5: SSOT000 module `x`: .git/info/x.rs: it resolves inside .git; not read",
        ],
    );
    for args in [
        &["--fix", "--allow-dirty", "--no-cache"][..],
        &["--write-baseline", ".git/hooks/pre-commit", "--no-cache"],
        &["--output", "sarif=.git/hooks/pre-commit", "--no-cache"],
        &["--output", "sarif=src/../.git/x.sarif", "--no-cache"],
    ] {
        let o = run(&ws, args);
        assert_eq!(
            files_below(&ws.join(".git")),
            before,
            "{args:?}: {}",
            o.stderr
        );
        if args[0] != "--fix" {
            assert_eq!(o.code, Some(2), "{args:?}");
            assert!(
                o.stderr.contains("inside .git; not written"),
                "{}",
                o.stderr
            );
        }
    }
}

/// Files named on the command line are read only when they are regular files inside the
/// workspace, and written only there, never through a symlink: a committed symlink named
/// as `--config` prints neither the environment nor a credentials file; `--output`,
/// `--write-baseline` and `--prune-baseline` never write through one; `--baseline` never
/// reads outside (a value there is never echoed), never hangs on a FIFO and never fills
/// memory from `/dev/zero`.
#[cfg(target_os = "linux")]
#[test]
fn issue23_item2_named_files_stay_inside_the_workspace() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    app(&ws, "");
    let token = "cio_TOKEN_7f3e9a";
    write(
        d.path(),
        "home/.cargo/credentials.toml",
        &format!("[registry]\ntoken = \"{token}\"\nbad = \n"),
    );
    let outside_baseline =
        format!("{{\"version\": 1, \"tool\": \"ssot-lint\", \"entries\": [], \"x\": \"{token}\"\n");
    write(d.path(), "home/baseline.json", &outside_baseline);
    write(
        d.path(),
        "home/valid-baseline.json",
        "{\"version\": 1, \"tool\": \"ssot-lint\", \"entries\": []}\n",
    );
    write(d.path(), "home/target.txt", "mine\n");
    std::fs::create_dir_all(d.path().join("home/dir")).expect("mkdir");
    symlink("/proc/self/environ", &ws.join("ci/environ.toml"));
    symlink("../../home/.cargo/credentials.toml", &ws.join("ci/x.toml"));
    symlink("../home/target.txt", &ws.join("out.sarif"));
    symlink("../home/dir", &ws.join("reports"));
    symlink("../home/valid-baseline.json", &ws.join("base.json"));
    let made = Command::new("mkfifo")
        .arg(ws.join("fifo.json"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let before = files_below(d.path());
    let secret = "ENV_SECRET_a81c";
    for (args, says) in [
        (
            &["--config", "ci/environ.toml"][..],
            "ci/environ.toml: it resolves outside the workspace; not read",
        ),
        (
            &["--config=ci/x.toml"],
            "ci/x.toml: it resolves outside the workspace; not read",
        ),
        (
            &["--output", "sarif=out.sarif"],
            "out.sarif: it is a symlink; not written through",
        ),
        (
            &["--output", "sarif=reports/x.sarif"],
            "reports/x.sarif: it resolves outside the workspace; not written",
        ),
        (
            &["--write-baseline", "out.sarif"],
            "out.sarif: it is a symlink; not written through",
        ),
        (
            &["--baseline", "base.json", "--prune-baseline"],
            "base.json: it resolves outside the workspace; not read",
        ),
        (
            &["--baseline", "../home/baseline.json"],
            "baseline.json: it resolves outside the workspace; not read",
        ),
        (
            &["--baseline", "/dev/zero"],
            "/dev/zero: it resolves outside the workspace; not read",
        ),
        (
            &["--baseline", "fifo.json"],
            "fifo.json: not a regular file; not read",
        ),
    ] {
        let args = [&["--format", "human", "--no-cache"][..], args].concat();
        let o = run_env(&ws, &args, &[("CI_SECRET", secret)], 30);
        assert_eq!(o.code, Some(2), "{args:?}: {}{}", o.stdout, o.stderr);
        assert!(o.stderr.contains(says), "{args:?}: {}", o.stderr);
        for out in [&o.stdout, &o.stderr] {
            assert!(
                !out.contains(secret) && !out.contains(token),
                "{args:?}: {out}"
            );
            assert!(out.len() < 10_000, "{args:?}: {} bytes", out.len());
        }
        assert_eq!(files_below(d.path()), before, "{args:?} wrote something");
    }
}

/// A baseline inside the workspace that is not one: the error quotes at most a bounded
/// excerpt of what the parser read, with control characters escaped.
#[test]
fn issue23_item2_a_bad_baseline_is_quoted_in_a_bounded_excerpt() {
    let d = tempfile::tempdir().expect("tempdir");
    app(d.path(), "");
    // A string value where a number belongs: serde quotes it in its message.
    let long = format!("\\u001b]0;title\\u0007{}", "A".repeat(100_000));
    write(
        d.path(),
        "baseline.json",
        &format!("{{\"version\": \"{long}\"}}\n"),
    );
    let o = run(d.path(), &["--baseline", "baseline.json", "--no-cache"]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr.contains("baseline.json: not a baseline: "),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.len() < 1_000,
        "{} bytes: {}",
        o.stderr.len(),
        o.stderr
    );
    assert!(!o.stderr.contains('\u{1b}'), "{}", o.stderr);
}

/// The action's SARIF path through a committed symlink: nothing is written outside.
#[cfg(unix)]
#[test]
fn issue23_item2_the_action_writes_no_sarif_through_a_symlink() {
    let d = tempfile::tempdir().expect("tempdir");
    let ws = d.path().join("ws");
    app(&ws, "");
    write(d.path(), "home/target.sarif", "mine\n");
    std::fs::create_dir_all(d.path().join("home/dir")).expect("mkdir");
    symlink("../home/dir", &ws.join("reports"));
    let before = files_below(&d.path().join("home"));
    let bin = Path::new(env!("CARGO_BIN_EXE_ssot-lint"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/github-action.sh");
    for sarif in ["reports/x.sarif", "reports/../../home/target.sarif"] {
        let o = Command::new("bash")
            .arg(&script)
            .current_dir(&ws)
            .env("SSOT_LINT", bin)
            .env("SSOT_SARIF_FILE", sarif)
            .env("SSOT_ARGS", "--no-cache")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("bash");
        assert_eq!(
            o.status.code(),
            Some(2),
            "{sarif}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(files_below(&d.path().join("home")), before, "{sarif}");
    }
}

// ---- issue 23, item 5: a folder scan drops nothing it cannot read or resolve ----------

/// `git` in `dir` (a plain repository of the test's), panicking with its stderr.
fn git_in(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A folder of crates in a git repository: `listed` is named by `.gitignore` and by
/// `.ignore`, yet committed (`git add -f`), so every clone has it and cargo builds it; the
/// scan lints it (before, it was left out without a word and the run exited 0). A crate
/// git ignores and does not track (build output, a vendored copy) is still left out; one
/// committed under a folder named `target` is linted.
#[test]
fn issue23_item5_a_crate_an_ignore_file_names_but_git_tracks_is_linted() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("git is not available; skipped");
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    app(&root.join("listed"), "");
    app(&root.join("untracked"), "");
    app(&root.join("visible"), "");
    // A crate committed under a folder named `target` is committed code too.
    app(&root.join("tools/target"), "");
    write(root, ".gitignore", "listed/\nuntracked/\n");
    write(root, ".ignore", "listed/\n");
    git_in(root, &["init", "-q"]);
    git_in(
        root,
        &[
            "add",
            "-f",
            ".gitignore",
            ".ignore",
            "listed",
            "visible",
            "tools",
        ],
    );
    git_in(root, &["commit", "-q", "-m", "x"]);
    let o = run(root, &["--format", "short", "--no-cache"]);
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert_lines(
        &o.stdout,
        &[
            &format!("listed/{SSOT001}"),
            &format!("tools/target/{SSOT001}"),
            &format!("visible/{SSOT001}"),
        ],
    );
    // Outside a git work tree no ignore file applies: every crate outside `target/`.
    std::fs::remove_dir_all(root.join(".git")).expect("rm .git");
    let o = run(root, &["--format", "short", "--no-cache"]);
    assert_lines(
        &o.stdout,
        &[
            &format!("listed/{SSOT001}"),
            &format!("untracked/{SSOT001}"),
            &format!("visible/{SSOT001}"),
        ],
    );
}

/// A package a folder scan cannot load is a finding at its manifest (exit 1), not a warning
/// with exit 0: its `Cargo.toml` a symlink out of the folder, or over `--max-file-size`;
/// its `[lib] path` outside the folder. A `[lib] path` outside the crate's directory but
/// inside the folder is read (cargo builds it): its construction is found.
#[cfg(unix)]
#[test]
fn issue23_item5_a_crate_a_scan_cannot_read_is_a_finding() {
    let d = tempfile::tempdir().expect("tempdir");
    let scan = d.path().join("scan");
    write(d.path(), "outside/Cargo.toml", MANIFEST);
    app(&scan.join("good"), "");
    // A manifest that is a symlink to one outside the folder.
    write(&scan, "linked/src/lib.rs", HANDLER);
    symlink("../../outside/Cargo.toml", &scan.join("linked/Cargo.toml"));
    // A manifest over the size cap.
    write(
        &scan,
        "huge/Cargo.toml",
        &format!("{MANIFEST}# {}\n", "x".repeat(11 << 20)),
    );
    write(&scan, "huge/src/lib.rs", HANDLER);
    // A manifest that is a FIFO (a read would block forever).
    std::fs::create_dir_all(scan.join("fifo/src")).expect("mkdir");
    write(&scan, "fifo/src/lib.rs", HANDLER);
    let made = Command::new("mkfifo")
        .arg(scan.join("fifo/Cargo.toml"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    // [lib] paths: one in a sibling folder of the scan, one outside it.
    write(
        &scan,
        "shared/Cargo.toml",
        &MANIFEST
            .replace("name = \"app\"", "name = \"shared\"")
            .replace(
                "[dependencies]",
                "[lib]\npath = \"../common/lib.rs\"\n\n[dependencies]",
            ),
    );
    write(
        &scan,
        "shared/ssot-lint.toml",
        "[ssot]\nmodules = [\"shared::db\"]\n",
    );
    write(&scan, "common/lib.rs", "pub mod db;\npub mod handlers;\n");
    write(&scan, "common/db.rs", DB);
    write(&scan, "common/handlers.rs", HANDLER);
    write(
        &scan,
        "escapes/Cargo.toml",
        &MANIFEST
            .replace("name = \"app\"", "name = \"escapes\"")
            .replace(
                "[dependencies]",
                "[lib]\npath = \"../../outside/lib.rs\"\n\n[dependencies]",
            ),
    );
    write(d.path(), "outside/lib.rs", HANDLER);
    let o = run(&scan, &["--format", "short", "--no-cache"]);
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "common/handlers.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `shared::db`",
            "escapes/Cargo.toml:7:8: SSOT000 target path `../../outside/lib.rs`: it resolves outside the workspace; not read; target not linted",
            "fifo/Cargo.toml:1:1: SSOT000 package not linted: cannot read its manifest: not a regular file; not read",
            &format!("good/{SSOT001}"),
            "huge/Cargo.toml:1:1: SSOT000 package not linted: cannot read its manifest: larger than --max-file-size (11534465 > 10485760 bytes); skipped",
            "linked/Cargo.toml:1:1: SSOT000 package not linted: cannot read its manifest: it resolves outside the workspace; not read",
        ],
    );
    assert!(!o.stderr.contains("warning"), "{}", o.stderr);
}

/// Test code is decided by `cfg(test)` alone: `#[cfg(any(test, unix))]` and
/// `#[cfg(feature = "testing")]` are built by ordinary builds, so their constructions are
/// production code (before, any cfg naming `test` hid them); `#[cfg(all(test, unix))]` and
/// `#[cfg(test)]` stay test code.
#[test]
fn issue23_item5_only_cfg_test_makes_test_code() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    app(
        root,
        "#[cfg(any(test, unix))]\npub mod either;\n#[cfg(feature = \"testing\")]\npub mod featured;\n#[cfg(all(test, unix))]\nmod both;\n#[cfg(test)]\nmod tests {\n    #[cfg(any(unix, windows))]\n    pub async fn t(url: &str) {\n        let _ = sqlx::PgPool::connect(url).await;\n    }\n}\n",
    );
    write(root, "src/either.rs", HANDLER);
    write(root, "src/featured.rs", HANDLER);
    write(root, "src/both.rs", HANDLER);
    let o = run(root, &["--format", "short", "--no-cache"]);
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "src/either.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`",
            "src/featured.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`",
            SSOT001,
        ],
    );
    // The cache gives the same verdict.
    let cache = tempfile::tempdir().expect("cache dir");
    let dir = cache.path().to_str().expect("utf-8");
    for _ in 0..2 {
        let w = run(root, &["--format", "short", "--cache-dir", dir]);
        assert_eq!((w.code, &w.stdout), (o.code, &o.stdout), "{}", w.stderr);
    }
}

/// A library module reached through `#[path]` into `tests/` or `examples/` is library code
/// (the target kind decides, not the folder name); before, a PR could hide a pool there. A
/// test target including the same file does not make it test code for the library.
#[test]
fn issue23_item5_a_library_module_under_tests_or_examples_is_production_code() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    app(
        root,
        "#[path = \"../tests/support/helpers.rs\"]\npub mod helpers;\n#[path = \"../examples/shared/pool.rs\"]\npub mod pool;\n",
    );
    write(root, "tests/support/helpers.rs", HANDLER);
    write(root, "examples/shared/pool.rs", HANDLER);
    write(
        root,
        "tests/it.rs",
        "#[path = \"support/helpers.rs\"]\nmod helpers;\n\n#[test]\nfn t() {}\n",
    );
    // An example's own code, and a file no target reaches under tests/, stay test code.
    write(
        root,
        "examples/demo.rs",
        &format!("{HANDLER}\nfn main() {{}}\n"),
    );
    write(root, "tests/unused/orphan.rs", HANDLER);
    let o = run(root, &["--format", "short", "--no-cache"]);
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "examples/shared/pool.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`",
            SSOT001,
            "tests/support/helpers.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`",
        ],
    );
}

/// A workspace member under a `tests/` folder is test code only while no other package
/// builds on it: a library the application depends on (a normal dependency) is production
/// code wherever it lies (before, the folder name hid its pool); a load-test crate nothing
/// depends on stays test code.
#[test]
fn issue23_item5_a_library_member_under_tests_is_production_code() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\", \"tests/support\", \"tests/load\"]\nresolver = \"2\"\n",
    );
    write(root, "ssot-lint.toml", "[ssot]\nmodules = [\"app::db\"]\n");
    write(
        root,
        "app/Cargo.toml",
        &MANIFEST.replace(
            "[dependencies]\n",
            "[dependencies]\nsupport = { path = \"../tests/support\" }\n",
        ),
    );
    write(root, "app/src/lib.rs", "pub mod db;\n");
    write(root, "app/src/db.rs", DB);
    for name in ["support", "load"] {
        write(
            root,
            &format!("tests/{name}/Cargo.toml"),
            &MANIFEST.replace("name = \"app\"", &format!("name = \"{name}\"")),
        );
        write(root, &format!("tests/{name}/src/lib.rs"), HANDLER);
    }
    let o = run(root, &["--format", "short", "--no-cache"]);
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert_lines(
        &o.stdout,
        &[
            "tests/support/src/lib.rs:2:16: SSOT001 `sqlx::PgPool::connect` builds a sql pool/client outside the SSOT module `app::db`",
        ],
    );
}
