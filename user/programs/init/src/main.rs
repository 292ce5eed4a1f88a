//! init: the first process; starts one program, reaps every orphan, exits with its status.
//!
//! Usage: `init [PROGRAM [ARG...]]`; without arguments, `init` runs `/bin/sh`. `PROGRAM`
//! is a path if it contains a `/`, otherwise a name looked up in the directories of
//! `PATH` (`/bin` when `PATH` is not set, as on the vkernel). The program gets init's
//! environment, plus `PATH=/bin` when that is missing.
//!
//! As process 1, init is also the parent of every orphan: when a process exits, its
//! children are given to init, and only a `wait4` by init removes them once they have
//! exited (until then they stay zombies). So init waits for *any* child, again and
//! again: an orphan it reaps is forgotten; when its own program ends, init exits with the
//! program's status, as a shell reports it: the exit code, or 128 + the signal number
//! when the program was killed. If the program cannot be started, init prints
//! `init: PROGRAM: <error>` and exits with 127.
//!
//! System calls: `fork`, `execve`, `wait4`, `write` (errors), `exit_group`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use vkrt::io::Lossy;
use vkrt::sys::{self, Errno};
use vkrt::{env, eprintln, process, Args};

vkrt::entry!(main);

/// What runs when init gets no arguments.
const SHELL: &[u8] = b"/bin/sh";

/// The environment for the program: ours, with a `PATH` added if there is none.
fn child_env() -> Vec<&'static [u8]> {
    let mut vars: Vec<&[u8]> = env::vars().collect();
    if env::var("PATH").is_none() {
        vars.push(b"PATH=/bin");
    }
    vars
}

/// Starts `argv[0]` with arguments `argv` in a new process; returns its pid.
fn spawn(argv: &[&[u8]]) -> Result<i32, Errno> {
    let pid = sys::fork()?;
    if pid != 0 {
        return Ok(pid as i32);
    }
    // The child: become the program, or report why not.
    let error = process::exec_search(argv[0], argv, &child_env(), env::search_path());
    eprintln!("init: {}: {error}", Lossy(argv[0]));
    sys::exit_group(127)
}

// ANCHOR: reap
/// Reaps children until `main_pid` has exited; returns its status as a shell would.
fn reap_until(main_pid: i32) -> i32 {
    loop {
        match process::wait_any() {
            Ok((pid, status)) if pid == main_pid => return status.code(),
            Ok(_) => {} // an orphan: reaping it is all there is to do
            Err(e) => {
                eprintln!("init: wait4: {e}");
                return 127;
            }
        }
    }
}
// ANCHOR_END: reap

fn main(args: Args) -> i32 {
    let mut argv: Vec<&[u8]> = args.iter().skip(1).collect();
    if argv.is_empty() {
        argv.push(SHELL);
    }
    match spawn(&argv) {
        Ok(pid) => reap_until(pid),
        Err(e) => {
            eprintln!("init: fork: {e}");
            127
        }
    }
}
