//! Helpers the binary-level tests share: write a file of a temporary crate, run the
//! binary in a directory, read its output. Each test binary uses a part of them.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssot-lint"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run ssot-lint")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
