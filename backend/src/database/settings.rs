//! Where the database is: read from the environment when the pool is first needed.
//!
//! * `DATABASE_URL=postgres://…` (or `postgresql://…`) selects PostgreSQL;
//!   `DATABASE_URL=sqlite:…` selects a SQLite database of your choosing.
//! * Otherwise the database is the SQLite file `backend.sqlite3` under `DATA_DIR`
//!   (default `./data`), which is created on first use.

use std::fmt;
use std::path::{Path, PathBuf};

use super::DatabaseError;

/// File name of the embedded database inside the data dir.
pub const SQLITE_FILE_NAME: &str = "backend.sqlite3";

/// Default data dir, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "data";

/// The database engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where to connect.
#[derive(Clone, PartialEq, Eq)]
pub enum Settings {
    /// The embedded default: a SQLite file inside `data_dir`.
    DataDir { data_dir: PathBuf },
    /// An explicit `DATABASE_URL`.
    Url { backend: Backend, url: String },
}

// Hand-written so that a password inside DATABASE_URL never reaches a log line.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Settings::DataDir { data_dir } => f
                .debug_struct("DataDir")
                .field("data_dir", data_dir)
                .finish(),
            Settings::Url { backend, url } => f
                .debug_struct("Url")
                .field("backend", backend)
                .field("url", &redact(url))
                .finish(),
        }
    }
}

impl Settings {
    /// Reads `DATABASE_URL` and `DATA_DIR`.
    pub fn from_env() -> Result<Settings, DatabaseError> {
        let url = std::env::var("DATABASE_URL").ok();
        let data_dir = std::env::var_os("DATA_DIR");
        Settings::from_values(url.as_deref(), data_dir.as_deref().map(Path::new))
    }

    /// The same decision as [`Settings::from_env`], from explicit values.
    pub fn from_values(
        database_url: Option<&str>,
        data_dir: Option<&Path>,
    ) -> Result<Settings, DatabaseError> {
        match database_url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => {
                let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://")
                {
                    Backend::Postgres
                } else if url.starts_with("sqlite:") {
                    if url.contains(":memory:") || url.contains("mode=memory") {
                        // Every pooled connection would get a database of its own, and only
                        // the one that ran the migrations would have tables.
                        return Err(DatabaseError::UnsupportedUrl {
                            url: format!(
                                "{} (an in-memory SQLite database is private to one connection; use a file)",
                                redact(url)
                            ),
                        });
                    }
                    Backend::Sqlite
                } else {
                    return Err(DatabaseError::UnsupportedUrl { url: redact(url) });
                };
                Ok(Settings::Url {
                    backend,
                    url: url.to_owned(),
                })
            }
            None => {
                let data_dir = match data_dir {
                    Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                    _ => PathBuf::from(DEFAULT_DATA_DIR),
                };
                Ok(Settings::DataDir { data_dir })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Settings::DataDir { .. } => Backend::Sqlite,
            Settings::Url { backend, .. } => *backend,
        }
    }

    /// The SQLite database file, when it is one (not for a `sqlite:` URL with parameters
    /// other than `mode`, whose file name this does not try to decode).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        match self {
            Settings::DataDir { data_dir } => Some(data_dir.join(SQLITE_FILE_NAME)),
            Settings::Url {
                backend: Backend::Sqlite,
                url,
            } => {
                let rest = url.strip_prefix("sqlite:")?;
                let rest = rest.strip_prefix("//").unwrap_or(rest);
                let path = rest.split('?').next()?;
                (!path.is_empty() && !path.contains('%')).then(|| PathBuf::from(path))
            }
            Settings::Url { .. } => None,
        }
    }

    /// The URL to connect to, after creating the data dir if this is the embedded default.
    pub(super) fn prepare(&self) -> Result<String, DatabaseError> {
        match self {
            Settings::Url {
                backend: Backend::Sqlite,
                url,
            } if !url.contains("mode=") => {
                // Like the default, create the file if it is missing.
                let separator = if url.contains('?') { '&' } else { '?' };
                Ok(format!("{url}{separator}mode=rwc"))
            }
            Settings::Url { url, .. } => Ok(url.clone()),
            Settings::DataDir { data_dir } => {
                create_data_dir(data_dir)?;
                let file = data_dir.join(SQLITE_FILE_NAME);
                let file = file.to_str().ok_or_else(|| DatabaseError::DataDir {
                    path: data_dir.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "the path is not valid UTF-8",
                    ),
                })?;
                Ok(format!("sqlite://{}?mode=rwc", encode_path(file)))
            }
        }
    }
}

fn create_data_dir(data_dir: &Path) -> Result<(), DatabaseError> {
    let existed = data_dir.is_dir();
    std::fs::create_dir_all(data_dir).map_err(|source| DatabaseError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    })?;
    if !existed {
        // A data dir created inside a checkout (`cargo run` from the repo) stays out of git.
        // Best effort: the database works without it.
        let _ = std::fs::write(
            data_dir.join(".gitignore"),
            "# created by the backend: its database files are not source\n*\n",
        );
    }
    Ok(())
}

/// sqlx percent-decodes the file part of a `sqlite:` URL, and `?` starts the parameters.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_sqlite_under_data() {
        let settings = Settings::from_values(None, None).unwrap();
        assert_eq!(
            settings,
            Settings::DataDir {
                data_dir: PathBuf::from("data")
            }
        );
        assert_eq!(settings.backend(), Backend::Sqlite);
    }

    #[test]
    fn empty_url_means_default() {
        let settings = Settings::from_values(Some("  "), Some(Path::new("/tmp/x"))).unwrap();
        assert_eq!(settings.backend(), Backend::Sqlite);
    }

    #[test]
    fn postgres_url_selects_postgres() {
        for url in ["postgres://u:p@127.0.0.1/db", "postgresql://127.0.0.1/db"] {
            let settings = Settings::from_values(Some(url), None).unwrap();
            assert_eq!(settings.backend(), Backend::Postgres);
        }
    }

    #[test]
    fn unknown_scheme_is_an_error_without_the_password() {
        let err = Settings::from_values(Some("mysql://root:hunter2@db/x"), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mysql://root:***@db/x"), "{text}");
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let settings = Settings::from_values(Some("sqlite:///tmp/a.db"), None).unwrap();
        assert_eq!(settings.prepare().unwrap(), "sqlite:///tmp/a.db?mode=rwc");
        let settings = Settings::from_values(Some("sqlite:///tmp/a.db?mode=ro"), None).unwrap();
        assert_eq!(settings.prepare().unwrap(), "sqlite:///tmp/a.db?mode=ro");
    }

    #[test]
    fn memory_is_refused_and_files_are_known() {
        assert!(Settings::from_values(Some("sqlite::memory:"), None).is_err());
        assert!(Settings::from_values(Some("sqlite://x.db?mode=memory"), None).is_err());
        let settings = Settings::from_values(Some("sqlite:///tmp/a.db?mode=ro"), None).unwrap();
        assert_eq!(settings.sqlite_file(), Some(PathBuf::from("/tmp/a.db")));
        let settings = Settings::from_values(None, Some(Path::new("/d"))).unwrap();
        assert_eq!(
            settings.sqlite_file(),
            Some(PathBuf::from("/d/backend.sqlite3"))
        );
    }

    #[test]
    fn paths_are_encoded() {
        assert_eq!(encode_path("/tmp/a?b#c%d"), "/tmp/a%3Fb%23c%25d");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("postgres://u:pw@h:5/db?x=1"),
            "postgres://u:***@h:5/db?x=1"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("sqlite:data.db"), "sqlite:data.db");
    }

    #[test]
    fn debug_hides_password() {
        let settings = Settings::from_values(Some("postgres://u:pw@h/db"), None).unwrap();
        assert!(!format!("{settings:?}").contains("pw@"));
    }
}
