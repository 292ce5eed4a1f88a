//! redirect: `<`, `>`, `>>` and `>&`, by opening files and moving descriptors.
//!
//! `cmd > out` runs `cmd` with descriptor 1 on the file `out`: the shell opens `out`
//! (getting some descriptor n), makes 1 a copy of n with `dup2(n, 1)` and closes n.
//! `2>&1` is just `dup2(1, 2)`. Redirections apply left to right, after the pipes of a
//! pipeline, so `cmd 2>&1 | less` sends both outputs into the pipe.
//!
//! In a child that is about to `execve`, that is all. A builtin runs in the shell itself,
//! so [`Saved`] first keeps a copy of each descriptor it changes, and
//! [`Saved::restore`] puts them back afterwards.

use alloc::vec::Vec;

use crate::exec::Shell;
use crate::lexer::RedirKind;
use crate::parser::Redirect;
use vkrt::eprintln;
use vkrt::fs::cstring;
use vkrt::io::Lossy;
use vkrt::sys::{self, Errno};

/// The descriptors a redirection in the shell itself changed, with copies of what they
/// were before (`None`: the descriptor was closed).
#[derive(Default)]
pub struct Saved(Vec<(i32, Option<i32>)>);

impl Saved {
    /// Puts the descriptors back as they were, in reverse order.
    pub fn restore(self) {
        for (fd, copy) in self.0.into_iter().rev() {
            match copy {
                Some(copy) => {
                    let _ = sys::dup2(copy, fd);
                    let _ = sys::close(copy);
                }
                None => {
                    let _ = sys::close(fd);
                }
            }
        }
    }
}

/// Opens the file a `<`, `>` or `>>` names; returns the new descriptor.
fn open_target(path: &[u8], kind: RedirKind) -> Result<i32, Errno> {
    let flags = match kind {
        RedirKind::Read => sys::O_RDONLY,
        RedirKind::Write => sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC,
        RedirKind::Append => sys::O_WRONLY | sys::O_CREAT | sys::O_APPEND,
        RedirKind::Dup => unreachable!("`>&` opens no file"),
    };
    let fd = sys::openat(sys::AT_FDCWD, &cstring(path)?, flags, 0o644)?;
    Ok(fd as i32)
}

/// Makes `fd` refer to what `source` refers to, closing `source` if `owned`.
fn install(source: i32, fd: i32, owned: bool) -> Result<(), Errno> {
    if source == fd {
        return Ok(());
    }
    let result = sys::dup2(source, fd).map(drop);
    if owned {
        let _ = sys::close(source);
    }
    result
}

impl Shell {
    /// Applies `redirects` in order; with `saved`, records what each one replaces.
    /// Prints the error and returns `Err` if one of them fails.
    pub fn redirect(
        &self,
        redirects: &[Redirect],
        mut saved: Option<&mut Saved>,
    ) -> Result<(), ()> {
        for r in redirects {
            let target = self.expand_target(&r.target);
            if let Some(saved) = saved.as_deref_mut() {
                saved.0.push((r.fd, sys::dup(r.fd).ok().map(|c| c as i32)));
            }
            let result = match r.kind {
                RedirKind::Dup => match descriptor_number(&target) {
                    Some(source) => install(source, r.fd, false),
                    None => {
                        eprintln!("sh: {}: not a descriptor number", Lossy(&target));
                        return Err(());
                    }
                },
                kind => open_target(&target, kind).and_then(|fd| install(fd, r.fd, true)),
            };
            if let Err(e) = result {
                eprintln!("sh: {}: {e}", Lossy(&target));
                return Err(());
            }
        }
        Ok(())
    }
}

/// `target` as a descriptor number (`1` in `2>&1`).
fn descriptor_number(target: &[u8]) -> Option<i32> {
    core::str::from_utf8(target).ok()?.parse().ok()
}
