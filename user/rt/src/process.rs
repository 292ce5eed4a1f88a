//! process: starting programs and waiting for them, on top of [`crate::sys`].
//!
//! * [`exec`] runs a program given its path, [`exec_search`] finds it in `PATH` first
//!   (as a shell does); both build the NUL-terminated `argv` and `envp` arrays that
//!   `execve` wants from byte strings, and return only on failure.
//! * [`wait`], [`wait_any`], [`try_wait`] wrap `wait4` and decode the status into a
//!   [`WaitStatus`] (exit code or signal).
//! * [`kernel_name`] and [`on_vkernel`] tell which kernel runs the program (`uname`).
//!
//! ```ignore
//! match sys::fork()? {
//!     0 => { process::exec_search(b"ls", &[b"ls", b"/"], &[b"PATH=/bin"], env::search_path()); sys::exit_group(127) }
//!     child => { let (_, status) = process::wait(child as i32)?; println!("{}", status.code()) }
//! }
//! ```

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::fs::{cstring, join};
use crate::sys::{self, Errno, Utsname, WaitStatus};

/// Replaces this program with the one at `path`, with arguments `argv` (`argv[0]` is the
/// program's name) and environment `envp` (`NAME=value` strings). Returns only on
/// failure, with the error (`EINVAL` if a string contains a NUL byte).
pub fn exec<A: AsRef<[u8]>, E: AsRef<[u8]>>(path: &[u8], argv: &[A], envp: &[E]) -> Errno {
    let Ok(path) = cstring(path) else {
        return Errno::EINVAL;
    };
    let (Ok(argv), Ok(envp)) = (cstrings(argv), cstrings(envp)) else {
        return Errno::EINVAL;
    };
    exec_cstr(&path, &argv, &envp)
}

/// Like [`exec`], but a `name` without a `/` is looked for in each directory of
/// `search_path` (a `PATH`-style list, `"/bin:/usr/bin"`), in order. Fails with `ENOENT`
/// if no directory has it, or with the error of the last one that did but would not run.
pub fn exec_search<A: AsRef<[u8]>, E: AsRef<[u8]>>(
    name: &[u8],
    argv: &[A],
    envp: &[E],
    search_path: &[u8],
) -> Errno {
    if name.contains(&b'/') {
        return exec(name, argv, envp);
    }
    let (Ok(argv), Ok(envp)) = (cstrings(argv), cstrings(envp)) else {
        return Errno::EINVAL;
    };
    let mut error = Errno::ENOENT;
    for dir in search_path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let Ok(path) = cstring(&join(dir, name)) else {
            continue;
        };
        match exec_cstr(&path, &argv, &envp) {
            Errno::ENOENT | Errno::ENOTDIR => {}
            other => error = other,
        }
    }
    error
}

/// NUL-terminated copies of `strings`.
fn cstrings<S: AsRef<[u8]>>(strings: &[S]) -> Result<Vec<CString>, Errno> {
    strings.iter().map(|s| cstring(s.as_ref())).collect()
}

/// `execve` with the pointer arrays built from `argv` and `envp`.
fn exec_cstr(path: &CStr, argv: &[CString], envp: &[CString]) -> Errno {
    let pointers = |strings: &[CString]| -> Vec<*const u8> {
        let mut ptrs: Vec<*const u8> = strings.iter().map(|s| s.as_ptr().cast()).collect();
        ptrs.push(core::ptr::null());
        ptrs
    };
    let (argv_ptrs, envp_ptrs) = (pointers(argv), pointers(envp));
    // SAFETY: both arrays are NULL-terminated and point at NUL-terminated strings owned by
    // `argv` and `envp`, which outlive the call.
    match unsafe { sys::execve(path, argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) } {
        Ok(_) => Errno::EINVAL, // execve never returns success
        Err(e) => e,
    }
}

/// Waits for child `pid` (-1: any child) with `wait4` `options`, retrying after `EINTR`.
fn wait4(pid: i32, options: i32) -> Result<(i32, WaitStatus), Errno> {
    let mut status = 0;
    loop {
        match sys::wait4(pid, Some(&mut status), options) {
            Ok(got) => return Ok((got as i32, WaitStatus::decode(status))),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Waits until child `pid` ends; returns its pid and how it ended.
pub fn wait(pid: i32) -> Result<(i32, WaitStatus), Errno> {
    wait4(pid, 0)
}

/// Waits until any child ends; `ECHILD` when there is none left.
pub fn wait_any() -> Result<(i32, WaitStatus), Errno> {
    wait4(-1, 0)
}

/// Reaps a child that has already ended (`WNOHANG`), or returns `None` if none has.
pub fn try_wait(pid: i32) -> Result<Option<(i32, WaitStatus)>, Errno> {
    let (got, status) = wait4(pid, sys::WNOHANG)?;
    Ok((got != 0).then_some((got, status)))
}

/// The kernel's name from `uname` (`b"Linux"`, `b"vkernel"`), or empty if `uname` fails.
pub fn kernel_name() -> Vec<u8> {
    let mut u = Utsname::default();
    match sys::uname(&mut u) {
        Ok(_) => Utsname::field(&u.sysname).to_vec(),
        Err(_) => Vec::new(),
    }
}

/// True when running on the vkernel (its `uname` says `"vkernel"`).
pub fn on_vkernel() -> bool {
    kernel_name() == b"vkernel"
}
