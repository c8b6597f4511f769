//! Sites: the places that construct, hold or initialize a resource, each with its module
//! and its SSOT and test-code status, computed once by [`super::Model::build`].

use super::ModPath;
use crate::ids::{FileId, ModId};
use crate::summary::Span;

/// What a site does with its resource.
#[derive(Debug, Clone)]
pub enum SiteKind {
    /// A pool or client built or connected: a constructor, a builder's terminal method, a
    /// connection method on a value of a pack type.
    Construction {
        pack: usize,
        /// `sqlx::PgPool::connect`, `sqlx::PgPoolOptions().connect()`, ...
        what: String,
        /// The whole expression, `.await` and `?` included (what a fix replaces).
        full_span: Span,
        /// Inside a macro call's token tree (fixes there are display-only).
        in_macro: bool,
        /// A connection opened from a value of a pack type, not the pool/client itself.
        by_method: bool,
        /// Made only when no pool was handed in (a library's fallback).
        fallback: bool,
    },
    /// A `static` (also in `lazy_static!`/`thread_local!`) whose type holds one.
    Holder {
        /// The static's name.
        name: String,
        /// The holder type as resolved (`sqlx::PgPool`, `app::db::Database`).
        holder_type: String,
        /// Filled only lazily, on first use, with a project type: the module that declares
        /// the type (it caches a handle that module builds).
        lazy_cache_of: Option<ModId>,
    },
    /// A method that initializes the resource by hand: it builds one and stores it eagerly
    /// into a holder (see [`super::InitIndex`]). Never in test or allowed code.
    Initialization,
}

/// A place that constructs, holds or initializes a resource.
#[derive(Debug, Clone)]
pub struct Site {
    pub kind: SiteKind,
    /// The resource kind (`sql`, `redis`, ...).
    pub resource: String,
    pub file: FileId,
    /// Where a finding points (the root path of a chain, the `static` item, the method).
    pub span: Span,
    pub module: ModId,
    pub path: ModPath,
    /// In a configured SSOT module of its resource (or below one).
    pub in_ssot: bool,
    /// The `[[resource]]` it belongs to (index into the config's), `None` for the default
    /// resource of its kind (see `semantic::identity`).
    pub declared: Option<usize>,
    /// Test code or an `[allow]` path: no rule reports it.
    pub allowed: bool,
    /// The enclosing function (index into the file's `fns`).
    pub func: Option<usize>,
}

impl Site {
    pub fn is_construction(&self) -> bool {
        matches!(self.kind, SiteKind::Construction { .. })
    }

    pub fn is_holder(&self) -> bool {
        matches!(self.kind, SiteKind::Holder { .. })
    }

    /// A construction made only when no pool was handed in (a library's fallback).
    pub fn is_fallback(&self) -> bool {
        matches!(self.kind, SiteKind::Construction { fallback: true, .. })
    }

    /// For a holder filled only lazily with a project type: the module declaring the type.
    pub fn lazy_cache_of(&self) -> Option<ModId> {
        match self.kind {
            SiteKind::Holder { lazy_cache_of, .. } => lazy_cache_of,
            _ => None,
        }
    }

    /// The whole expression of a construction (`.await` and `?` included); the site's own
    /// span for the other kinds.
    pub fn full_span(&self) -> &Span {
        match &self.kind {
            SiteKind::Construction { full_span, .. } => full_span,
            _ => &self.span,
        }
    }

    /// Constructions and holders: the sites that own a resource.
    pub fn owns(&self) -> bool {
        self.is_construction() || self.is_holder()
    }

    /// The text that names its type: the construction as written, the holder type.
    pub fn type_text(&self) -> &str {
        match &self.kind {
            SiteKind::Construction { what, .. } => what,
            SiteKind::Holder { holder_type, .. } => holder_type,
            SiteKind::Initialization => "",
        }
    }

    /// What it is called in messages: the construction as written, the static's name.
    pub fn what(&self) -> &str {
        match &self.kind {
            SiteKind::Construction { what, .. } => what,
            SiteKind::Holder { name, .. } => name,
            SiteKind::Initialization => "",
        }
    }

    /// The database backend a site's type names (`SqlitePool`, `rusqlite`, `PgPool`,
    /// `MySqlPool`, `tiberius`), or `None` when it does not say (`sqlx::AnyPool`, sea-orm).
    pub fn backend(&self) -> Option<&'static str> {
        let text = self.type_text();
        let mut found = None;
        for seg in text.split(|ch: char| !ch.is_alphanumeric() && ch != '_') {
            let l = seg.to_ascii_lowercase();
            let b = if l.contains("sqlite") || l.contains("libsql") {
                "sqlite"
            } else if l.contains("postgres") || l.starts_with("pg") {
                "postgres"
            } else if l.contains("mysql") || l.contains("maria") {
                "mysql"
            } else if l.contains("tiberius") || l.contains("mssql") {
                "mssql"
            } else {
                continue;
            };
            if found.is_some_and(|f| f != b) {
                return None;
            }
            found = Some(b);
        }
        found
    }
}
