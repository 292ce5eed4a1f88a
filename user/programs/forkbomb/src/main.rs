//! forkbomb: forks until the kernel says no, then cleans up. For the vkernel only.
//!
//! Usage: `forkbomb`. It forks again and again; each child blocks reading a pipe. When
//! `fork` fails with `EAGAIN` (the process table is full) it prints
//! `forkbomb: N processes, then EAGAIN`, kills every child with `SIGKILL`, reaps them all
//! and exits with 0. A kernel must survive this, and work normally afterwards.
//!
//! It refuses to run (exit status 2, with a message) unless `uname` says the kernel is
//! the vkernel: on Linux it would eat the host's processes. If `fork` fails another way,
//! or has not failed after 100000 children, it cleans up the same way and exits with 1.
//! Children also exit by themselves if forkbomb dies: their pipe's writer is gone then.
//!
//! System calls: `uname`, `pipe2`, `fork`, `read`, `close`, `kill`, `wait4`, `write`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use vkrt::io::Lossy;
use vkrt::sys::{self, Errno};
use vkrt::{eprintln, println, process, Args};

vkrt::entry!(main);

/// Give up after this many children.
const LIMIT: usize = 100_000;

/// The child's life: wait until the parent is gone (or kills us).
fn child(r: i32, w: i32) -> ! {
    let _ = sys::close(w);
    let _ = sys::read(r, &mut [0u8; 1]);
    sys::exit_group(0)
}

/// Forks until `fork` fails; returns the children and the error.
fn fork_until_failure(r: i32, w: i32) -> (Vec<i32>, Option<Errno>) {
    let mut pids = Vec::with_capacity(1024);
    while pids.len() < LIMIT {
        match sys::fork() {
            Ok(0) => child(r, w),
            Ok(pid) => pids.push(pid as i32),
            Err(e) => return (pids, Some(e)),
        }
    }
    (pids, None)
}

/// Kills every child and reaps them all (and any other child).
fn kill_and_reap(pids: &[i32]) {
    for &pid in pids {
        let _ = sys::kill(pid, sys::SIGKILL);
    }
    while process::wait_any().is_ok() {}
}

fn main(_args: Args) -> i32 {
    let kernel = process::kernel_name();
    if kernel != b"vkernel" {
        eprintln!(
            "forkbomb: refusing to run: the kernel is \"{}\", not the vkernel \
             (forkbomb would use up the host's processes)",
            Lossy(&kernel)
        );
        return 2;
    }
    let mut fds = [-1; 2];
    if let Err(e) = sys::pipe2(&mut fds, sys::O_CLOEXEC) {
        eprintln!("forkbomb: pipe2: {e}");
        return 1;
    }
    let (pids, error) = fork_until_failure(fds[0], fds[1]);
    kill_and_reap(&pids);
    let _ = (sys::close(fds[0]), sys::close(fds[1]));
    match error {
        Some(Errno::EAGAIN) => {
            println!("forkbomb: {} processes, then EAGAIN", pids.len());
            0
        }
        Some(e) => {
            eprintln!(
                "forkbomb: {} processes, then {} ({e}), not EAGAIN",
                pids.len(),
                e.name()
            );
            1
        }
        None => {
            eprintln!("forkbomb: {} processes and fork never failed", pids.len());
            1
        }
    }
}
