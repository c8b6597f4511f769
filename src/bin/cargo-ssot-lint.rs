fn main() {
    std::process::exit(ssot_lint::cli::main(std::env::args_os().collect()))
}
