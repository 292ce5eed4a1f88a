//! The machine's error type: what can go wrong between the kernel and its "hardware".
//!
//! Guest misbehaviour is never an error here: it is a [`Trap`](crate::Trap). An `Error`
//! means the host refused something (no ptrace, no memory), a guest address space was
//! lost (killed from outside), or the kernel handed the machine something broken (a page
//! table pointing outside RAM): the last two are kernel bugs or host trouble, and the
//! kernel usually panics with the message.

use std::io;

/// Everything `vmspace` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A host system call failed.
    #[error("{context}: {source}")]
    Host {
        /// What the machine was doing.
        context: String,
        /// The host's error.
        #[source]
        source: io::Error,
    },
    /// The host does not let us trace our own children.
    #[error(
        "cannot trace the guest process ({0}). vmspace runs guests under ptrace: check that \
         /proc/sys/kernel/yama/ptrace_scope is 0 or 1 and that no container seccomp profile \
         forbids ptrace"
    )]
    NoPtrace(io::Error),
    /// The host process behind a guest address space died or misbehaved.
    #[error("guest address space (host pid {pid}) was lost: {how}")]
    GuestLost {
        /// The host pid of the address space.
        pid: i32,
        /// What happened to it.
        how: String,
    },
    /// The page table the kernel installed is malformed (points outside RAM, uses large pages).
    #[error("broken page table: {0}")]
    BadPageTable(String),
    /// The host refused the register values (e.g. a non-canonical `fs_base`).
    #[error("registers refused by the host: {0}")]
    BadRegisters(String),
    /// A configuration value is out of range.
    #[error("bad machine configuration: {0}")]
    Config(String),
}

impl Error {
    /// Wrap a host error with what we were doing.
    pub(crate) fn host(context: impl Into<String>, source: io::Error) -> Self {
        Error::Host {
            context: context.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
