// See `ssot_lint::alloc`.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    ssot_lint::alloc::tune();
    std::process::exit(ssot_lint::cli::main(std::env::args_os().collect()))
}
