//! Typed errors of the library and the exit codes they map to.
//!
//! Two families exist: bad input (a spec, a data file, a network file or a command-line value that
//! cannot be used — exit code 2) and solver trouble (the conic solver stopped without a solution —
//! exit code 1). Every input error names the file and, where there is one, the key or row.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with something the user gave us, located as precisely as we can.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file the bad value came from (the spec, a CSV file, a network file, an output path).
    pub file: PathBuf,
    /// The key (`model.beta`), row (`data.x row 3`) or column that is wrong; empty when the whole
    /// file is at fault.
    pub location: String,
    /// What is wrong, in words.
    pub message: String,
}

impl InputError {
    /// An error located at `location` inside `file`.
    pub fn new(file: &Path, location: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_path_buf(),
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.location,
                self.message
            )
        }
    }
}

impl std::error::Error for InputError {}

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: exit code 2.
    #[error("{0}")]
    Input(#[from] InputError),
    /// The solver stopped without a usable solution: exit code 1.
    #[error("solver stopped with status {status}: {detail}")]
    Solver {
        /// The solver status in snake_case (`max_iterations`, `numerical_error`, ...).
        status: String,
        /// More about what happened.
        detail: String,
    },
}

impl Error {
    /// The process exit code for this error: 2 for bad input, 1 for solver trouble.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Solver { .. } => 1,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
