//! The command line: `cargo ssot-lint [PATHS...]` or `ssot-lint [PATHS...]`.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;

use crate::diagnostic::Applicability;
use crate::engine::{LintOptions, Outcome};
use crate::error::Error;
use crate::escape;
use crate::fix::{self, FixError, FixMode, FixOptions};
use crate::report::{self, Format};
use crate::results::lint;
use crate::rules;

#[derive(Debug, Parser)]
#[command(
    name = "ssot-lint",
    version,
    about = "Keep database pools and cache/broker clients behind one module (the SSOT)."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Report only findings in these files or directories (resolution still sees the whole
    /// crate). Put them after `--`; a name that starts with `-` is refused (write
    /// `./-name.rs`), so that no file name can be taken for an option.
    pub paths: Vec<PathBuf>,
    /// Path to the Cargo.toml of the workspace or package to lint.
    #[arg(long)]
    pub manifest_path: Option<PathBuf>,
    /// Lint only this package (repeatable).
    #[arg(short = 'p', long = "package")]
    pub package: Vec<String>,
    /// Lint every package of the workspace (the default).
    #[arg(long)]
    pub workspace: bool,
    /// Config file to use instead of ssot-lint.toml / Cargo.toml metadata.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format (default: human on a terminal, short otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Only these rules (codes, code prefixes or names; comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Not these rules.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Print a rule's documentation and exit.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
    /// List the rules and the rule packs and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Print the number of findings per rule after the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Worker threads (default: all cores; at most 512).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub threads: Option<u16>,
    /// Skip files larger than this many bytes (with a notice).
    #[arg(long, value_name = "BYTES", default_value_t = crate::vfs::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Print nothing but findings.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print what was checked.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print every file that was checked (relative to the root) instead of findings.
    #[arg(long)]
    pub list_files: bool,
    /// Apply safe fixes, write the changed files, then report what remains.
    #[arg(long)]
    pub fix: bool,
    /// Also apply unsafe fixes (with --fix or --diff; alone it changes nothing).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing (exit 1 if anything would change).
    #[arg(long)]
    pub diff: bool,
    /// Let --fix write files that have uncommitted changes in git.
    #[arg(long)]
    pub allow_dirty: bool,
    #[command(flatten)]
    pub output: crate::output::OutputArgs,
    /// Parse every file, not only those that can lead to a pool or client (slower; the same
    /// output, see `--explain SSOT000`).
    #[arg(long)]
    pub no_prefilter: bool,
    /// Neither read nor write the cache (lint units' results and per-file summaries).
    #[arg(long)]
    pub no_cache: bool,
    /// Run as a pre-commit hook: the file names it appends must follow `--` (the hook's
    /// `args` end with it), else nothing runs (exit 2).
    #[arg(long)]
    pub pre_commit: bool,
    /// Keep the cache in DIR (also `SSOT_LINT_CACHE_DIR`) instead of the user's cache
    /// directory (`~/.cache/ssot-lint/`); with `CI` set, there is a cache only with one.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// A file operand that reads like an option (`--write-baseline=x.rs`), or the hook's file
/// names without the `--` before them: refused, whatever the file holds.
fn check_operands(args: &Args, separated: bool) -> Result<(), String> {
    if args.pre_commit && !separated {
        return Err(
            "--pre-commit: the file names must follow `--`: end the hook's `args` with `--` \
             (e.g. `args: [--format, short, --]`), so that no file name is taken for an option"
                .into(),
        );
    }
    if let Some(p) = args
        .paths
        .iter()
        .find(|p| p.as_os_str().as_encoded_bytes().starts_with(b"-"))
    {
        return Err(format!(
            "the file operand `{}` looks like an option: a file name is never read as one; \
             name it `./{}` to lint it",
            escape::text(&p.to_string_lossy()),
            escape::text(&p.to_string_lossy())
        ));
    }
    Ok(())
}

/// Whether the environment says this is a CI run (`CI` set, and not to `false` or `0`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Where the run keeps its cache: nowhere with `--no-cache` or `--diff` (which writes
/// nothing); the directory `--cache-dir` or `SSOT_LINT_CACHE_DIR` names; else, except in
/// CI (a fresh machine: nothing to reuse, and a cache restored there may be anyone's), the
/// user's cache directory. A relative directory is from the current one.
pub fn cache_setting(args: &Args) -> crate::cache::CacheSetting {
    use crate::cache::CacheSetting;
    if args.no_cache || args.diff {
        return CacheSetting::Off;
    }
    let named = args.cache_dir.clone().or_else(|| {
        std::env::var_os("SSOT_LINT_CACHE_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    match named {
        Some(d) if d.is_absolute() => CacheSetting::Dir(d),
        Some(d) => match std::env::current_dir() {
            Ok(cwd) => CacheSetting::Dir(cwd.join(d)),
            Err(_) => CacheSetting::Off,
        },
        None if in_ci() => CacheSetting::Off,
        None => CacheSetting::User,
    }
}

/// What `ssot-lint` can do besides linting (a path of that name goes after `--`).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the language server over stdin and stdout (for editors; see the README).
    Server,
}

/// Run the CLI; returns the exit status (0 clean, 1 findings, 2 error).
pub fn main(mut argv: Vec<OsString>) -> i32 {
    // `cargo ssot-lint ...` runs `cargo-ssot-lint ssot-lint ...`.
    if argv.get(1).is_some_and(|a| a == "ssot-lint") {
        argv.remove(1);
    }
    // `ssot-lint init`: write a config from a run with none (a path named `init` is `./init`).
    if argv.get(1).is_some_and(|a| a == "init") {
        let rest: Vec<OsString> = argv[2..].to_vec();
        return match rayon::ThreadPoolBuilder::new()
            .stack_size(crate::engine::PARSE_STACK)
            .build()
        {
            Ok(p) => p.install(|| crate::init::run(&rest)),
            Err(e) => {
                eprintln!("error: cannot start the worker threads: {e}");
                2
            }
        };
    }
    let separated = argv.iter().skip(1).any(|a| a == "--");
    let args = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if let Err(e) = check_operands(&args, separated) {
        eprintln!("error: {e}");
        return 2;
    }
    if let Some(Command::Server) = args.command {
        crate::vfs::set_max_file_size(args.max_file_size);
        return crate::server::main(args.threads.map_or(0, usize::from), cache_setting(&args));
    }
    // Everything runs on the pool's threads, the main thread only waits: large stacks for
    // deeply nested code (the depth is bounded too; see `parse::depth::MAX_SOURCE_NESTING`),
    // also where rayon runs a one-item wave on the calling thread. A pool that cannot be
    // built (an address-space limit) is an error, not a crash later.
    let threads = args.threads.map_or(0, usize::from);
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(crate::engine::PARSE_STACK)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: cannot start the worker threads ({} with a {} MiB stack each): {e}",
                if threads == 0 {
                    "one per core".to_string()
                } else {
                    threads.to_string()
                },
                crate::engine::PARSE_STACK >> 20
            );
            return 2;
        }
    };
    pool.install(|| run(&args))
}

/// [`main`] on a worker thread of the pool.
fn run(args: &Args) -> i32 {
    crate::vfs::set_max_file_size(args.max_file_size);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(code) = &args.explain {
        return match rules::lookup(code) {
            Some(r) if args.format == Some(Format::Json) => {
                let _ = out.write_all(crate::output::explain_json(r).as_bytes());
                0
            }
            Some(r) => {
                let _ = writeln!(out, "{}", rules::explain(r));
                0
            }
            None => {
                eprintln!(
                    "error: unknown rule `{}` (see --list-rules)",
                    escape::text(code)
                );
                2
            }
        };
    }
    if args.list_rules {
        return list_rules(&mut out);
    }
    if let Some(m) = &args.manifest_path
        && (m.file_name().is_none_or(|n| n != "Cargo.toml") || !m.is_file())
    {
        eprintln!(
            "error: --manifest-path must name an existing Cargo.toml file: {}",
            escape::text(&m.to_string_lossy())
        );
        return 2;
    }
    let start = args.manifest_path.as_ref().map(|m| match m.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    });
    let opts = LintOptions {
        start,
        config: args.config.clone(),
        paths: args.paths.clone(),
        packages: args.package.clone(),
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        ownership: args.output.needs_ownership(format_of(args)),
        no_prefilter: args.no_prefilter,
        confine: None,
        cache: cache_setting(args),
    };
    if args.fix || args.diff {
        return run_fix(args, &opts, &mut out);
    }
    let bar = crate::progress::start(crate::progress::wanted(args.quiet));
    let linted = crate::output::lint(&crate::vfs::Disk, &opts);
    drop(bar);
    let mut outcome = match linted {
        Ok(o) => o,
        Err(e) => {
            print_error(&e);
            return 2;
        }
    };
    if opts.cache == crate::cache::CacheSetting::Off && !args.no_cache && in_ci() {
        outcome.notes.insert(
            0,
            "cache: off in CI (CI is set; --cache-dir or SSOT_LINT_CACHE_DIR names one)".into(),
        );
    }
    if let Err(e) = adopt(args, &mut outcome) {
        print_error(&e);
        return 2;
    }
    if let Some(g) = args.output.graph {
        let _ = out.write_all(report::graph::render(g, &outcome.ownership).as_bytes());
        return 0;
    }
    if let Some(file) = &args.output.write_baseline {
        return match crate::output::write_baseline(&crate::vfs::Disk, file, &outcome) {
            Ok(n) => {
                let file = escape::text(&file.to_string_lossy());
                eprintln!("wrote {n} baseline entries to {file}");
                0
            }
            Err(e) => {
                print_error(&e);
                2
            }
        };
    }
    print_outcome(args, &outcome, &mut out);
    if let Err(e) = crate::output::write_outputs(&crate::vfs::Disk, &args.output, &outcome) {
        print_error(&e);
        return 2;
    }
    if outcome.findings.is_empty() || args.output.exit_zero {
        0
    } else {
        1
    }
}

/// The format asked for: `--format`, else `--message-format`, else by terminal.
fn format_of(args: &Args) -> Format {
    args.format
        .or(args.output.format())
        .unwrap_or(if std::io::stdout().is_terminal() {
            Format::Human
        } else {
            Format::Short
        })
}

/// `--baseline` and `--new-from-rev`: keep only the new findings; say what was hidden.
fn adopt(args: &Args, outcome: &mut Outcome) -> Result<(), Error> {
    if let Some(rev) = &args.output.new_from_rev {
        let hidden = crate::output::new_from_rev(&crate::vfs::Disk, rev, outcome)?;
        if !args.quiet && hidden > 0 {
            let rev = escape::text(rev);
            eprintln!("{hidden} findings on lines unchanged since {rev} not shown");
        }
    }
    if let Some(file) = &args.output.baseline {
        let r = crate::output::apply_baseline(
            &crate::vfs::Disk,
            file,
            args.output.prune_baseline,
            outcome,
        )?;
        if !args.quiet {
            eprintln!(
                "baseline {}: {} findings not shown; {} entries gone (fixed){}",
                escape::text(&file.to_string_lossy()),
                r.hidden,
                r.gone,
                match (r.gone, r.pruned) {
                    (0, _) => "",
                    (_, true) => ", pruned",
                    (_, false) => ": --prune-baseline drops them",
                }
            );
        }
    }
    Ok(())
}

/// `--fix` / `--diff`: 0 nothing left (or, for `--diff`, nothing would change), 1 findings
/// remain (would change), 2 an error, including a file that could not be written.
fn run_fix(args: &Args, opts: &LintOptions, out: &mut impl Write) -> i32 {
    let mode = if args.diff {
        FixMode::Diff
    } else {
        FixMode::Write
    };
    let fix_opts = FixOptions {
        level: if args.unsafe_fixes {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        mode,
        allow_dirty: args.allow_dirty,
    };
    let report = match fix::fix(&crate::vfs::Disk, opts, &fix_opts) {
        Ok(r) => r,
        Err(FixError::Lint(e)) => {
            print_error(&e);
            return 2;
        }
        Err(e) => {
            eprintln!("error: {}", escape::text(&e.to_string()));
            return 2;
        }
    };
    for w in &report.warnings {
        eprintln!("warning: {}", escape::text(w));
    }
    for e in &report.write_errors {
        eprintln!("error: {}", escape::text(&e.to_string()));
    }
    let fixed = report.fixed_findings(mode);
    let files = report.fixed_files(mode);
    if mode == FixMode::Diff {
        // For reading: the source's control characters shown, no workflow command.
        let _ = out.write_all(escape::block(&report.diff()).as_bytes());
        if !args.quiet {
            eprintln!("{}", fix::summary_line("would fix", fixed, files));
        }
        return if report.files.is_empty() { 0 } else { 1 };
    }
    // What remains, as the files now are on disk.
    let outcome = match lint(&crate::vfs::Disk, opts) {
        Ok(o) => o,
        Err(e) => {
            print_error(&e);
            return 2;
        }
    };
    print_outcome(args, &outcome, out);
    if !args.quiet {
        eprintln!("{}", fix::summary_line("fixed", fixed, files));
    }
    if !report.write_errors.is_empty() {
        2
    } else if outcome.findings.is_empty() || args.output.exit_zero {
        0
    } else {
        1
    }
}

fn print_error(e: &Error) {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let mut s = String::new();
    let report = e.to_report();
    if handler.render_report(&mut s, report.as_ref()).is_err() {
        s = e.to_string();
    }
    // A report quotes the tree (a config's lines, file names): shown as `escape` says.
    eprint!("{}", escape::block(&format!("error: {}\n", s.trim_start())));
}

/// The findings in the chosen format, `--statistics`, and the summary line.
fn print_outcome(args: &Args, outcome: &Outcome, out: &mut impl Write) {
    for w in &outcome.warnings {
        eprintln!("warning: {}", escape::text(w));
    }
    if args.list_files {
        let mut files = outcome.files.clone();
        files.sort();
        let list: String = files.iter().map(|f| escape::text(f) + "\n").collect();
        let _ = out.write_all(escape::lines(&list).as_bytes());
        return;
    }
    let tty = std::io::stdout().is_terminal();
    let format = format_of(args);
    let width = terminal_width();
    let ctx = crate::output::context(outcome, crate::output::color(tty), width);
    let _ = out.write_all(format.print(outcome, &ctx).as_bytes());
    if args.statistics {
        let counts = report::common::counts(&outcome.findings);
        for (code, name, n, fixable) in counts {
            let _ = writeln!(out, "{n:>6}  {code}  {name:<26} {fixable} fixable");
        }
    }
    if args.verbose && !args.quiet {
        for note in &outcome.notes {
            eprintln!("note: {}", escape::text(note));
        }
    }
    if !args.quiet && (format == Format::Human || args.verbose) {
        let n = outcome.findings.len();
        eprintln!(
            "{} in {} files ({} lines, {} crates){}",
            match n {
                0 => "no findings".to_string(),
                1 => "1 finding".to_string(),
                n => format!("{n} findings"),
            },
            outcome.files_checked,
            outcome.lines,
            outcome.crates,
            if args.verbose {
                format!(
                    ", root {}; parse {:.2}s, resolve+check {:.2}s",
                    escape::text(&outcome.root.to_string_lossy()),
                    outcome.parse_secs,
                    outcome.check_secs
                )
            } else {
                String::new()
            }
        );
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

fn list_rules(out: &mut impl Write) -> i32 {
    let _ = writeln!(out, "Rules:");
    for r in rules::RULES {
        let fix = if r.fix.is_some() { " (fixable)" } else { "" };
        let _ = writeln!(out, "  {}  {:<26} {}{fix}", r.code, r.name, r.summary);
    }
    let packs = match crate::packs::PackIndex::builtin() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let _ = writeln!(
        out,
        "\nRule packs (resource kind: constructors, builders, methods, holder types):"
    );
    for p in &packs.packs {
        let [c, b, m, h] = p.counts;
        let _ = writeln!(
            out,
            "  {:<18} {:<10} {c:>3} {b:>3} {m:>3} {h:>3}  {}",
            p.name,
            p.resource,
            p.crates.join(", ")
        );
    }
    0
}
