//! ssot-lint: keep database pools and cache/broker clients behind one module.
//!
//! The pipeline runs one way: [`workspace`] (manifests) → [`parse`] and [`crates`] (module
//! trees, per-file summaries, in parallel) → [`resolve`] (names to canonical paths) →
//! [`semantic`] (the model) and [`rules`] (findings) → [`report`] (formats).

pub mod alloc;
pub mod cache;
pub mod cli;
pub mod config;
pub mod crates;
pub mod diagnostic;
pub mod engine;
pub mod error;
pub mod escape;
pub mod fix;
pub mod idents;
pub mod ids;
pub mod init;
pub mod lines;
pub mod output;
pub mod ownership;
pub mod packs;
pub mod parse;
pub mod prefilter;
pub mod progress;
#[cfg(test)]
mod race_tests;
pub mod report;
pub mod resolve;
pub mod results;
pub mod revision;
pub mod rules;
pub mod semantic;
pub mod server;
pub mod snippet;
pub mod summary;
pub mod suppress;
#[cfg(test)]
mod testing;
pub mod vfs;
pub mod workspace;

pub use diagnostic::{Applicability, Edit, Finding, Fix};
pub use engine::{LintOptions, Outcome};
pub use error::Error;
pub use results::lint;
