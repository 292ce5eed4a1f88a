//! builtin: the commands the shell runs itself: `cd`, `exit`, `wait`.
//!
//! They must be builtins because they act on the shell process: its current directory,
//! its life, its children. A program run in a child could not do any of that.
//!
//! * `cd [DIR]`: `chdir` to `DIR`, or to `$HOME` (else `/`) without one.
//! * `exit [N]`: ends the shell with status `N`, or with `$?`.
//! * `wait [PID...]`: waits for the given background jobs, or for all of them; its
//!   status is the last given job's (127 if that is not a job of this shell), or 0.

use alloc::vec::Vec;

use crate::exec::Shell;
use vkrt::io::Lossy;
use vkrt::sys;
use vkrt::{env, eprintln, fs};

/// True if `name` is a builtin.
pub fn is_builtin(name: &[u8]) -> bool {
    matches!(name, b"cd" | b"exit" | b"wait")
}

impl Shell {
    /// Runs the builtin `argv[0]` with its arguments; returns its status.
    pub fn run_builtin(&mut self, argv: &[Vec<u8>]) -> i32 {
        let args = &argv[1..];
        match argv[0].as_slice() {
            b"cd" => cd(args),
            b"exit" => self.exit(args),
            _ => self.wait(args),
        }
    }

    /// `exit [N]`: never returns, except for too many arguments.
    fn exit(&mut self, args: &[Vec<u8>]) -> i32 {
        let status = match args {
            [] => self.status,
            [n] => match core::str::from_utf8(n)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
            {
                Some(n) => (n & 0xff) as i32,
                None => {
                    eprintln!("sh: exit: {}: numeric argument required", Lossy(n));
                    2
                }
            },
            _ => {
                eprintln!("sh: exit: too many arguments");
                return 1;
            }
        };
        sys::exit_group(status)
    }

    /// `wait [PID...]`.
    fn wait(&mut self, args: &[Vec<u8>]) -> i32 {
        if args.is_empty() {
            let pids: Vec<i32> = self
                .jobs
                .iter()
                .filter(|j| j.status.is_none())
                .map(|j| j.pid)
                .collect();
            self.wait_for(&pids);
            self.jobs.clear();
            return 0;
        }
        let mut status = 0;
        for arg in args {
            status = match core::str::from_utf8(arg).ok().and_then(|s| s.parse().ok()) {
                Some(pid) => self.wait_job(pid),
                None => {
                    eprintln!("sh: wait: {}: not a process id", Lossy(arg));
                    2
                }
            };
        }
        status
    }

    /// Waits for the background job `pid` and forgets it; returns its status.
    fn wait_job(&mut self, pid: i32) -> i32 {
        let Some(i) = self.jobs.iter().position(|j| j.pid == pid) else {
            eprintln!("sh: wait: {pid}: not a child of this shell");
            return 127;
        };
        let job = self.jobs.remove(i);
        match job.status {
            Some(status) => status,
            None => self.wait_for(&[pid]),
        }
    }
}

/// `cd [DIR]`.
fn cd(args: &[Vec<u8>]) -> i32 {
    let dir: &[u8] = match args {
        [] => env::var("HOME").unwrap_or(b"/"),
        [dir] => dir,
        _ => {
            eprintln!("sh: cd: too many arguments");
            return 1;
        }
    };
    match fs::chdir(dir) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sh: cd: {}: {e}", Lossy(dir));
            1
        }
    }
}
