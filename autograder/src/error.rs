//! The one error type of the crate.

use std::path::PathBuf;

/// What can go wrong outside a test run (a failing test is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A lab definition is not valid TOML or has fields of the wrong type or name.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The definition file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A lab definition parsed but one of its values is wrong.
    #[error("{}: {field}: {message}", path.display())]
    Invalid {
        /// The definition file.
        path: PathBuf,
        /// Where in the file, e.g. ``test `hello` (test #1): timeout``.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A submission could not be built.
    #[error("build of {} failed: {message}", submission.display())]
    Build {
        /// The submission.
        submission: PathBuf,
        /// A one-line summary.
        message: String,
        /// The captured build output (the tail of it if it was long).
        output: String,
    },
    /// Anything else (bad options, no such test, ...).
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
