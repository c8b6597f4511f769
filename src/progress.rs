//! A progress bar on stderr for long runs.
//!
//! Shown only when stderr is a terminal, `CI` is not set and `-q` was not given, and only
//! once the run has taken [`DELAY`]: a quick run, a pipe, a log file or CI never sees it. The
//! engine counts units (workspaces and lone packages) and files as it finishes them; the bar
//! is cleared before anything else is printed.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run goes on before the bar appears.
pub const DELAY: Duration = Duration::from_secs(1);

static UNITS_TOTAL: AtomicUsize = AtomicUsize::new(0);
static UNITS_DONE: AtomicUsize = AtomicUsize::new(0);
static FILES_DONE: AtomicUsize = AtomicUsize::new(0);

/// The engine found this many units to lint.
pub fn add_units(n: usize) {
    UNITS_TOTAL.fetch_add(n, Ordering::Relaxed);
}

/// The engine finished a unit of `files` files.
pub fn unit_done(files: usize) {
    UNITS_DONE.fetch_add(1, Ordering::Relaxed);
    FILES_DONE.fetch_add(files, Ordering::Relaxed);
}

/// Whether a bar may be shown: stderr is a terminal, not CI, not `-q`.
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::env::var_os("CI").is_none() && std::io::stderr().is_terminal()
}

/// The bar's thread; dropping it clears the bar.
pub struct Bar {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Start the bar's thread when `wanted`; it draws nothing before [`DELAY`].
pub fn start(wanted: bool) -> Bar {
    let done = Arc::new(AtomicBool::new(false));
    let thread = wanted.then(|| {
        let done = done.clone();
        std::thread::spawn(move || run(&done))
    });
    Bar { done, thread }
}

fn run(done: &AtomicBool) {
    let t0 = Instant::now();
    while t0.elapsed() < DELAY {
        if done.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} linting [{elapsed}] {wide_bar} {pos}/{len} units, {msg}",
    ) {
        bar.set_style(style);
    }
    while !done.load(Ordering::Relaxed) {
        bar.set_length(UNITS_TOTAL.load(Ordering::Relaxed) as u64);
        bar.set_position(UNITS_DONE.load(Ordering::Relaxed) as u64);
        bar.set_message(format!("{} files", FILES_DONE.load(Ordering::Relaxed)));
        bar.tick();
        std::thread::sleep(Duration::from_millis(50));
    }
    bar.finish_and_clear();
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
